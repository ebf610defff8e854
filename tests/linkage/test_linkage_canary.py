"""Canary identities never leave the partner files through linkage: tables, Splink's work, charts, output.

Partner files with a made-up, distinctive person (as ASB victim, DA victim and perpetrator, MARAC victim and
perpetrator, and offender) are ingested beside the synthetic partnership and linked through the command line.
Then every byte of every file in the workspace (warehouse, WAL, the linkage charts), the temporary folder and
every value of every table (the linkage tables included), decoded, is searched for the canaries, including the
Soundex codes of the names, which the features hold only in keyed form. Splink runs in its own in-memory
database: no table of its is left in the warehouse.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from cspkit.privacy.features import soundex
from cspkit.workspace import Workspace
from tests.ingest.test_privacy_canary import (
    CANARIES,
    CLI,
    DOB_ISO,
    DOB_UK,
    NAME,
    POSTCODE,
    _all_files,
    _found_in_bytes,
    _found_in_text,
    _squash,
    _text_values,
)
from tests.linkage.conftest import PERSON_FILES

PERPETRATOR = "Ignatius Thistlewood"
SOUNDEX = [soundex(w) for w in ("zebediah", "quillfeather", "ignatius", "thistlewood")]
FILES = {
    "canary_asb.csv": (
        "asb_incidents",
        "council",
        "incident_ref,reported_at,category,victim_ref,victim_name,victim_dob,victim_postcode,lsoa_code\n"
        f"CANARY-REF-0001,2022-03-01,personal,CANARY-VICTIM-1,{NAME},{DOB_ISO},{POSTCODE},E01015601\n",
    ),
    "canary_da.csv": (
        "domestic_abuse",
        "police",
        "incident_ref,reported_at,victim_ref,perpetrator_ref,victim_name,victim_dob,victim_postcode,"
        "perpetrator_name,perpetrator_dob,perpetrator_postcode\n"
        f'CANARY-REF-0002,2022-03-04 22:10,CANARY-VICTIM-2,CANARY-OFFENDER-2,"QUILLFEATHER, Zebediah",{DOB_UK},'
        f"lu79qz,{PERPETRATOR},1968-11-02,{POSTCODE}\n",
    ),
    "canary_marac.csv": (
        "marac_referrals",
        "marac",
        "referral_ref,referral_date,victim_ref,perpetrator_ref,victim_name,victim_dob,victim_postcode,"
        "perpetrator_name,perpetrator_dob,perpetrator_postcode\n"
        f"CANARY-REF-0003,2022-03-20,CANARY-VICTIM-3,CANARY-OFFENDER-3,Zebediah Quilfeather,{DOB_ISO},{POSTCODE},"
        f"{PERPETRATOR.upper()},02/11/1968,\n",
    ),
    "canary_offenders.csv": (
        "offenders",
        "probation",
        "offender_ref,cohort,entry_date,offender_name,offender_dob,offender_postcode\n"
        f'CANARY-OFFENDER-9,IOM,2022-01-10,"THISTLEWOOD, Ignatius",1968-11-02,{POSTCODE}\n',
    ),
}


def test_linkage_leaves_no_canary_anywhere(tmp_path: Path, _blank_workspace_template: Path, synth_people: Path) -> None:
    root = tmp_path / "ws"
    shutil.copytree(_blank_workspace_template, root)
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    agencies = {e["file"]: e["agency"] for e in json.loads((synth_people / "manifest.json").read_text())}
    manifest = []
    for name in PERSON_FILES:
        shutil.copy(synth_people / name, inputs / name)
        manifest.append({"file": name, "source": _source(name), "agency": agencies[name]})
    for name, (source, agency, text) in FILES.items():
        (inputs / name).write_text(text, encoding="utf-8")
        manifest.append({"file": name, "source": source, "agency": agency})
    (inputs / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    truth = tmp_path / "truth.csv"
    truth.write_text(
        "source,record_ref,role,person_label\n"
        "asb_incidents,CANARY-REF-0001,victim,Z\ndomestic_abuse,CANARY-REF-0002,victim,Z\n"
        "marac_referrals,CANARY-REF-0003,victim,Z\ndomestic_abuse,CANARY-REF-0002,perpetrator,I\n"
        "marac_referrals,CANARY-REF-0003,perpetrator,I\noffenders,CANARY-OFFENDER-9,offender,I\n",
        encoding="utf-8",
    )
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp), "COLUMNS": "250", "NO_COLOR": "1"}
    env.pop("CSPKIT_DEBUG", None)
    ws = ["--workspace", str(root)]
    outputs = {}
    for key, args in {
        "ingest": ["ingest", str(inputs), *ws],
        "link": ["link", "--json", *ws],
        "link_table": ["link", *ws],
        "evaluate": ["link", "evaluate", str(truth), "--json", *ws],
        "evaluate_table": ["link", "evaluate", str(truth), *ws],
    }.items():
        done = subprocess.run([CLI, *args], capture_output=True, text=True, env=env, timeout=600, check=False)
        assert done.returncode == 0, (key, done.stdout, done.stderr)
        outputs[key] = done.stdout + done.stderr

    # The canary people were linked (so their features really went through the model): one person each.
    scores = json.loads(outputs["evaluate"][outputs["evaluate"].index("{") :])
    assert scores["f1"] == 1.0 and scores["true_people"] == 2 and scores["records"] == 6

    needles = [*CANARIES, PERPETRATOR, "Thistlewood", "Ignatius", "1968-11-02", "02/11/1968"]
    for name, text in outputs.items():
        squashed = _squash(text)
        assert [n for n in needles if _squash(n) in squashed] == [], name
    workspace = Workspace(root)
    files = _all_files(root) + _all_files(tmp)
    assert any(p.suffix == ".svg" for p in files) and any(p.suffix == ".png" for p in files)
    for path in files:
        data = path.read_bytes()
        assert _found_in_bytes(data) == [], path
        lowered = data.lower()
        assert not any(n.lower().encode() in lowered for n in ("thistlewood", "ignatius", "1968-11-02")), path
    con = workspace.connect(read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        assert {"link_people", "link_runs"} <= set(tables)
        assert not [t for t in tables if "splink" in t.lower()]
        for table in tables:
            text = _text_values(con, table)
            assert _found_in_text(text) == [], table
            squashed = _squash(text)
            assert not [n for n in [*SOUNDEX, "thistlewood", "ignatius"] if n.lower() in squashed], table
        model = con.execute("SELECT value FROM meta WHERE key = 'link_model'").fetchall()[0][0]
    finally:
        con.close()
    assert _found_in_text(model) == []


def _source(file: str) -> str:
    return {
        "asb_incidents_police.csv": "asb_incidents",
        "asb_incidents_council.csv": "asb_incidents",
        "domestic_abuse.csv": "domestic_abuse",
        "marac_referrals.csv": "marac_referrals",
        "offenders.csv": "offenders",
    }[file]

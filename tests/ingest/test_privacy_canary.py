"""Canary identifiers planted in partner files never appear anywhere after ingest, status, rejects and export.

Partner files for five sources carry made-up but distinctive identifiers (a name, a date of birth, a postcode,
references), in good rows and in rows that are rejected (one of them rejected *on* its personal column). They are
loaded through the command line, every read-only command is run, the warehouse is exported, and then every byte of
every file in the workspace (warehouse, its WAL, everything), the export, the temporary folder the commands used,
and all their output is searched for each identifier in any case or spacing. Because DuckDB and Parquet compress
strings, every text value of every table and of every exported file is also searched after decoding.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb

from cspkit.workspace import Workspace

CLI = str(Path(sys.executable).parent / "cspkit")

NAME = "Zebediah Quillfeather"
DOB_ISO, DOB_UK = "1971-03-14", "14/03/1971"
POSTCODE = "LU7 9QZ"
REF = "CANARY-REF-0042"
VICTIM = "CANARY-VICTIM-7"
OFFENDER = "CANARY-OFFENDER-9"

# Not "Quarrington": it is a real place (the ward "Sleaford Quarrington & Mareham" is in the bundled geography).
#: What must never be found, compared after lower-casing and removing spaces and separators of rendered tables.
CANARIES = [
    "Zebediah",
    "Quillfeather",
    "Quillfeather, Zebediah",
    DOB_ISO,
    DOB_UK,
    "14-03-1971",
    "1971/03/14",
    "19710314",
    "14031971",
    POSTCODE,
    "CANARY-REF-004",  # the prefix of CANARY-REF-0042, -0043, -0044
    "CANARY-VICTIM",
    "CANARY-OFFENDER",
]

ASB_HEADER = "incident_ref,reported_at,category,victim_ref,victim_name,victim_dob,victim_postcode,lsoa_code\n"
FILES = {
    "asb_march.csv": (
        "asb_incidents",
        "Luton Council",
        ASB_HEADER
        + f"{REF},2022-03-01,personal,{VICTIM},{NAME},{DOB_ISO},{POSTCODE},E01015601\n"
        + f'CANARY-REF-0043,2022-03-02,nuisance,{VICTIM},"QUILLFEATHER, Zebediah",{DOB_UK},lu79qz,E01015601\n'
        + f"CANARY-REF-0044,not a date,personal,{VICTIM},{NAME},{DOB_ISO},{POSTCODE},E01015601\n"  # bad_date
        + f"{REF},2022-03-05,personal,{VICTIM},{NAME},{DOB_ISO},{POSTCODE},E01015601\n"  # duplicate_ref: personal
        + f"CANARY-REF-0045,2022-03-06,personal,{VICTIM},{NAME},{DOB_ISO},{POSTCODE},E01015601,{NAME}\n"  # ragged
        + f"CANARY-REF-0046,2022-03-07,{NAME},{VICTIM},{NAME},{DOB_ISO},{POSTCODE},E01015601\n",  # bad_category
    ),
    "asb_april.csv": (
        "asb_incidents",
        "Luton Council",
        ASB_HEADER + f"CANARY-REF-0050,2022-04-01,personal,{VICTIM},{NAME},{DOB_UK},{POSTCODE},E01015601\n",
    ),
    "asb_police.csv": (
        "asb_incidents",
        "Bedfordshire Police",
        ASB_HEADER + f"CANARY-REF-0060,2022-04-01,personal,{VICTIM},{NAME},{DOB_UK},{POSTCODE},E01015601\n",
    ),
    "domestic_abuse.csv": (
        "domestic_abuse",
        "Bedfordshire Police",
        "incident_ref,reported_at,victim_ref,perpetrator_ref,victim_name,victim_dob,victim_postcode,victim_sex\n"
        f"CANARY-REF-0070,2022-03-01 22:10,{VICTIM},{OFFENDER},{NAME},{DOB_ISO},{POSTCODE},f\n"
        f"CANARY-REF-0071,2022-03-01 22:10,{VICTIM},{OFFENDER},{NAME},{DOB_ISO},{POSTCODE},{NAME}\n",  # bad sex
    ),
    "marac.csv": (
        "marac_referrals",
        "MARAC",
        "referral_ref,referral_date,victim_ref,perpetrator_ref,dash_score\n"
        f"CANARY-REF-0080,2022-03-10,{VICTIM},{OFFENDER},18\n"
        f"CANARY-REF-0080,2022-03-11,{VICTIM},{OFFENDER},19\n"  # duplicate_ref on the personal reference
        f"CANARY-REF-0081,2022-03-12,{VICTIM},{OFFENDER},31\n",  # out_of_range
    ),
    "offenders.csv": (
        "offenders",
        "Probation",
        "offender_ref,cohort,entry_date,offender_name,offender_dob,offender_postcode,needs\n"
        f"{OFFENDER},IOM,2022-01-10,{NAME},{DOB_ISO},{POSTCODE},drugs;accommodation\n"
        f"CANARY-OFFENDER-10,IOM,{DOB_UK}x,{NAME},{DOB_ISO},{POSTCODE},drugs\n",  # bad_date
    ),
    "offences.csv": (
        "offences",
        "Probation",
        "offender_ref,offence_date,offence_group,lsoa_code\n"
        f"{OFFENDER},2022-02-01,theft,E01015601\n"
        f"{OFFENDER},2022-02-03,burglary,{POSTCODE}\n",  # bad_lsoa: the value shown is the postcode
    ),
}


@dataclass
class Run:
    """Everything the commands produced."""

    ws: Workspace
    inputs: Path
    export: Path
    tmp: Path
    outputs: dict[str, str]


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], capture_output=True, text=True, env=env, timeout=120, check=False)


def _run_commands(base: Path, template: Path) -> Run:
    """Copy the workspace template, write the partner files and run every command on them through the CLI."""
    root = base / "ws"
    shutil.copytree(template, root)
    inputs = base / "inputs"
    inputs.mkdir()
    manifest = []
    for name, (source, agency, text) in FILES.items():
        (inputs / name).write_text(text, encoding="utf-8")
        if name != "offences.csv":
            manifest.append({"file": name, "source": source, "agency": agency})
    (inputs / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    tmp = base / "tmp"
    tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(tmp), "COLUMNS": "250", "NO_COLOR": "1"}
    env.pop("CSPKIT_DEBUG", None)
    export = base / "export"
    ws = ["--workspace", str(root)]
    commands = {
        "ingest": ["ingest", str(inputs), *ws],
        "ingest_json": ["ingest", str(inputs / "offences.csv"), "--source", "offences", "--agency", "Probation",
                        "--json", *ws],
        "status": ["status", *ws],
        "status_json": ["status", "--json", *ws],
        "rejects": ["rejects", *ws],
        "rejects_json": ["rejects", "--json", *ws],
        "export": ["export", "parquet", str(export), *ws],
    }  # fmt: skip
    outputs: dict[str, str] = {}
    for key, args in commands.items():
        done = _cli(args, env)
        assert "Traceback" not in done.stderr, done.stderr
        assert done.returncode == 0, (key, done.stdout, done.stderr)
        outputs[f"{key}.stdout"] = done.stdout
        outputs[f"{key}.stderr"] = done.stderr
    return Run(Workspace(root), inputs, export, tmp, outputs)


def _squash(text: str) -> str:
    """Lower case without whitespace or the characters rich draws tables with, so wrapping cannot hide a match."""
    return re.sub(r"[\s│┃║|─━═┏┓┗┛┡┩└┘┌┐├┤┬┴┼╇╈╋]+", "", text.lower())


NEEDLES = sorted({_squash(c) for c in CANARIES})


def _found_in_text(text: str) -> list[str]:
    squashed = _squash(text)
    return [n for n in NEEDLES if n in squashed]


def _found_in_bytes(data: bytes) -> list[str]:
    lowered = data.lower()
    hits = []
    for canary in CANARIES:
        for variant in {canary.lower(), canary.lower().replace(" ", ""), canary.lower().replace(",", "")}:
            if variant.encode("utf-8") in lowered or variant.encode("utf-16-le") in lowered:
                hits.append(variant)
    return hits


def _all_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def _the_scanner_finds_canaries_in_the_inputs(run: Run) -> None:
    """Positive control: the same scans do find every kind of canary in the partner files themselves."""
    data = b"".join(p.read_bytes() for p in _all_files(run.inputs))
    found = set(_found_in_bytes(data))
    assert {"quillfeather", "zebediah", DOB_ISO, DOB_UK, "lu7 9qz", "lu79qz", "canary-ref-004"} <= found
    assert set(_found_in_text(data.decode("utf-8"))) >= {_squash(NAME.split()[1]), _squash(POSTCODE)}


def _everything_was_loaded_and_rejected_as_planned(run: Run) -> None:
    """The files really went in: accepted and rejected counts per source are as planted."""
    con = run.ws.connect(read_only=True)
    try:
        rows = con.execute(
            "SELECT source, sum(rows_read), sum(rows_accepted), sum(rows_rejected) FROM ingest_log "
            "WHERE agency <> 'ons-bundled' GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        reasons = con.execute("SELECT source, reason, count(*) FROM rejects GROUP BY ALL ORDER BY ALL").fetchall()
    finally:
        con.close()
    assert rows == [
        ("asb_incidents", 8, 4, 4),
        ("domestic_abuse", 2, 1, 1),
        ("marac_referrals", 3, 1, 2),
        ("offences", 2, 1, 1),
        ("offenders", 2, 1, 1),
    ]
    assert reasons == [
        ("asb_incidents", "bad_category", 1),
        ("asb_incidents", "bad_date", 1),
        ("asb_incidents", "duplicate_ref", 1),
        ("asb_incidents", "malformed_row", 1),
        ("domestic_abuse", "bad_category", 1),
        ("marac_referrals", "duplicate_ref", 1),
        ("marac_referrals", "out_of_range", 1),
        ("offences", "bad_lsoa", 1),
        ("offenders", "bad_date", 1),
    ]
    assert json.loads(run.outputs["rejects_json.stdout"])  # the JSON commands printed something real
    assert json.loads(run.outputs["ingest_json.stdout"])["loaded"][0]["rows_rejected"] == 1


def _no_canary_in_command_output(run: Run) -> None:
    """Nothing any command printed (stdout or stderr, tables or JSON) contains a canary."""
    for name, text in run.outputs.items():
        assert _found_in_text(text) == [], name


def _no_canary_in_any_byte_of_the_workspace_export_or_temp(run: Run) -> None:
    """No file of the workspace (warehouse, WAL, ...), of the export or of the commands' temp folder holds one."""
    files = _all_files(run.ws.root) + _all_files(run.export) + _all_files(run.tmp)
    assert run.ws.warehouse_path in files
    assert any(p.suffix == ".parquet" for p in files)
    for path in files:
        assert _found_in_bytes(path.read_bytes()) == [], path


def _text_values(con: duckdb.DuckDBPyConnection, relation: str) -> str:
    columns = [r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()]
    if not columns:
        return ""
    cells = " || chr(10) || ".join(f"coalesce(CAST(\"{c}\" AS VARCHAR), '')" for c in columns)
    return "\n".join(r[0] for r in con.execute(f"SELECT {cells} FROM {relation}").fetchall())


def _no_canary_in_any_decoded_value(run: Run) -> None:
    """Every value of every warehouse table and of every exported Parquet file, decoded, is canary-free."""
    con = run.ws.connect(read_only=True)
    try:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        assert {"asb_incidents", "rejects", "ingest_log"} <= set(tables)
        for table in tables:
            assert _found_in_text(_text_values(con, table)) == [], table
    finally:
        con.close()
    reader = duckdb.connect()
    for path in _all_files(run.export):
        if path.suffix == ".parquet":
            assert _found_in_text(_text_values(reader, f"read_parquet('{path}')")) == [], path
    reader.close()


def _pseudonyms_are_stable_within_an_agency_and_differ_between_agencies(run: Run) -> None:
    """The same victim reference gets one key across two files of an agency, and another key in another agency."""
    con = run.ws.connect(read_only=True)
    try:
        keys = con.execute(
            "SELECT _agency, _month, victim_key FROM asb_incidents ORDER BY _agency, _month, victim_key"
        ).fetchall()
        tokens = con.execute(  # kept apart from the events (identity_features), one set for the person
            "SELECT DISTINCT surname_token, forename_token, dob_token, postcode_token FROM identity_features "
            "WHERE source = 'asb_incidents' AND person = 'victim'"
        ).fetchall()
    finally:
        con.close()
    council = {k for a, _, k in keys if a == "luton-council"}
    police = {k for a, _, k in keys if a == "bedfordshire-police"}
    assert {m for a, m, _ in keys if a == "luton-council"} == {"2022-03", "2022-04"}  # two files
    assert len(council) == 1 and len(police) == 1
    assert council != police
    # direct identifiers are tokenised after normalisation, not per agency: one person, one set of tokens,
    # whether written "Zebediah Quillfeather" or "QUILLFEATHER, Zebediah", 1971-03-14 or 14/03/1971, LU7 9QZ or lu79qz
    assert len(tokens) == 1 and all(t is not None and len(t) == 32 for t in tokens[0])


def test_canaries_never_leave_the_partner_files(tmp_path: Path, _blank_workspace_template: Path) -> None:
    """One run of every command (run once: the CLI calls dominate the time), then every check on what it left."""
    run = _run_commands(tmp_path, _blank_workspace_template)
    _the_scanner_finds_canaries_in_the_inputs(run)
    _everything_was_loaded_and_rejected_as_planned(run)
    _no_canary_in_command_output(run)
    _no_canary_in_any_byte_of_the_workspace_export_or_temp(run)
    _no_canary_in_any_decoded_value(run)
    _pseudonyms_are_stable_within_an_agency_and_differ_between_agencies(run)

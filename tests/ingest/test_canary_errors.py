"""No personal data in any message (issue 15): identifier-like canaries sent through every error path of ingest, and
SIGKILL trials that leave no clear-text copy of a partner file anywhere once the next run has swept.

Error paths: a file without its header row (with and without --source; its first record holds cells that look like
column names, a ``Y`` and a ``date``), row rejects of every kind on personal and non-personal columns, a duplicate
reference, malformed rows (too many and too few fields), an unterminated quote, and the outputs a user sees
afterwards (`cspkit ingest` as a table and as JSON, `cspkit rejects`).
"""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

from typer.testing import CliRunner

from cspkit.cli import app
from cspkit.workspace import Workspace

NAME = "Zebediah Quillfeather"
DOB = "14/03/1979"
POSTCODE = "ZX9 9QQ"
PHONE = "07700 900123"
EMAIL = "zq.canary@example.org"
NINO = "QQ123456C"
REF = "CANARY-REF-77"
CANARIES = [NAME, "Quillfeather", DOB, "1979-03-14", POSTCODE, "ZX99QQ", PHONE, "07700900123", EMAIL, NINO, REF]
HEADER = "incident_ref,reported_at,category,victim_ref,victim_name,victim_dob,victim_postcode,lsoa_code,longitude"


def _found(text: str) -> list[str]:
    squashed = re.sub(r"\s+", "", text).lower()
    return [c for c in CANARIES if re.sub(r"\s+", "", c).lower() in squashed]


def _files(folder: Path) -> dict[str, str]:
    rows = [
        f"{REF},2022-03-01,personal,{REF}-V,{NAME},{DOB},{POSTCODE},E01015601,-0.4",  # accepted
        f"{REF}-1,{DOB} x,personal,V1,{NAME},{DOB},{POSTCODE},E01015601,-0.4",  # bad_date (a DOB in a date column)
        f"{REF}-2,2022-03-01,{NAME},V1,{NAME},{DOB},{POSTCODE},E01015601,-0.4",  # bad_category: a name
        f"{REF}-3,2022-03-01,personal,V1,{NAME},{DOB},{POSTCODE},{POSTCODE},-0.4",  # bad_lsoa: a postcode
        f"{REF}-4,2022-03-01,personal,V1,{NAME},{DOB},{POSTCODE},E01015601,{PHONE}",  # bad_number: a phone
        f"{REF},2022-03-02,personal,V1,{NAME},{DOB},{POSTCODE},E01015601,-0.4",  # duplicate_ref
        f"{REF}-5,2022-03-01,personal,V1,{NAME},{DOB},{POSTCODE},E01015601,-0.4,{EMAIL},{NINO}",  # too many fields
        f"{REF}-6,2022-03-01,{EMAIL}",  # too few fields
    ]
    headerless = f"{REF},Y,date,{NAME},{DOB},{POSTCODE},{PHONE},{EMAIL},{NINO}\n{REF}-9,N,x,{NAME},{DOB},,,,\n"
    return {
        "rows.csv": HEADER + "\n" + "\n".join(rows) + "\n",
        "headerless.csv": headerless,
        "unterminated.csv": HEADER + f'\n{REF}-8,2022-03-01,personal,V1,"{NAME},{DOB},{POSTCODE},E01015601,-0.4\n',
    }


def test_no_identifier_in_any_message_or_output(workspace: Workspace, tmp_path: Path) -> None:
    runner = CliRunner()
    ws = ["--workspace", str(workspace.root)]
    outputs: list[str] = []
    for name, text in _files(tmp_path).items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        for extra in ([], ["--source", "asb_incidents"], ["--source", "asb_incidents", "--json"]):
            result = runner.invoke(app, ["ingest", str(path), *ws, *extra])
            assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
            outputs.append(result.output)
    outputs.append(runner.invoke(app, ["rejects", *ws]).output)
    outputs.append(runner.invoke(app, ["rejects", *ws, "--json"]).output)
    con = workspace.connect(read_only=True)
    stored = con.execute("SELECT message, value FROM rejects").fetchall()
    reasons = {r for (r,) in con.execute("SELECT DISTINCT reason FROM rejects").fetchall()}
    con.close()
    text = "\n".join(outputs)
    # the paths were exercised: headerless refusals, every reject kind, the unterminated quote
    assert "does not match any source" in text and "missing required column(s)" in text
    assert "never closed" in text
    assert {"bad_date", "bad_category", "bad_lsoa", "bad_number", "duplicate_ref", "malformed_row"} <= reasons
    assert "Traceback" not in text
    assert _found(text) == []
    assert _found(repr(stored)) == []


# --- SIGKILL trials ----------------------------------------------------------------------------------------------

TRIALS = 6


def _partner_zip(folder: Path) -> Path:
    """A zip holding a cp1252 partner file with names, dates of birth and postcodes: ingest extracts it and writes
    a UTF-8 copy, two clear-text files on disk while it loads."""
    rows = "".join(
        f"A{i},2022-03-01,personal,V{i % 997},{NAME} Café,{DOB},{POSTCODE},E01015601,-0.4\n" for i in range(120_000)
    )
    archive = folder / "partner.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("asb.csv", (HEADER + "\n" + rows).encode("cp1252"))
    return archive


def _with_canary(folder: Path) -> list[Path]:
    hits = []
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            if b"Quillfeather" in data or b"ZX9 9QQ" in data:
                hits.append(path)
    return hits


def test_sigkill_trials_leave_no_clear_text_copy(workspace: Workspace, tmp_path: Path) -> None:
    """N kills of `cspkit ingest` at random moments: the clear-text copies exist only in <workspace>/.cspkit/tmp
    (0700) while a run lives, never in the system temp folder; the next run sweeps what a killed one left, so no
    clear-text file remains anywhere: N of N."""
    archive = _partner_zip(tmp_path)
    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(system_tmp)}
    cli = [str(Path(sys.executable).parent / "cspkit"), "ingest", "--workspace", str(workspace.root)]
    rng = random.Random(15)
    private = workspace.root / ".cspkit" / "tmp"
    clean = 0
    for _ in range(TRIALS):
        proc = subprocess.Popen(
            [*cli, str(archive), "--source", "asb_incidents"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while not any(private.glob("run-*/**/*.csv")) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.5))  # somewhere in extracting, transcoding or loading
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        outside = [p for p in _with_canary(workspace.root) if private not in p.parents]
        assert outside == [] and _with_canary(system_tmp) == []
        # the next run (any ingest) sweeps what the killed one left
        small = tmp_path / "small.csv"
        small.write_text("incident_ref,reported_at,category\nS1,2022-01-05,personal\n")
        done = subprocess.run([*cli, str(small), "--agency", "sweep"], env=env, capture_output=True, timeout=300)
        assert done.returncode == 0, done.stderr
        if _with_canary(workspace.root) == [] and _with_canary(system_tmp) == []:
            clean += 1
    assert clean == TRIALS

"""The streaming loader gives the same warehouse as the materialising loader it replaced (issue 11).

The old loader is kept verbatim as ``tests/ingest/reference_loader.py``. The same files are loaded into two copies of
one workspace (so one key: the same pseudonyms), one with each loader, and every table, the rejects (line, column,
reason, message, masked value, month) and the ingest log are compared as multisets. Row order is not compared: the
new loader writes accepted rows in any order (``preserve_insertion_order = false``).

The inputs: real data.police.uk files (street and outcomes), a real street file mutated by hand-written rules
(bad dates, coordinates, categories and LSOA codes, extra and missing fields, blank lines, quoted line breaks,
repeated rows), a messy synthetic partner set (aliases, UK dates, bad rows, duplicate references) and the row-level
files of the bad-input corpus.
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import duckdb
import pytest

import cspkit.ingest
from cspkit.ingest import ingest_paths
from cspkit.sources.contracts import CONTRACTS
from cspkit.synth import generate
from cspkit.workspace import Workspace
from tests.conftest import POLICE_ZIP
from tests.ingest import reference_loader

TODAY = dt.date(2024, 6, 30)
MONTHS = ("2021-05", "2022-02", "2023-04")


def _dump(con: duckdb.DuckDBPyConnection) -> dict[str, Counter[tuple[Any, ...]]]:
    """Every table as a multiset of rows; file ids replaced by file names, load times dropped."""
    names = dict(con.execute("SELECT file_id, file_name FROM ingest_log").fetchall())
    out: dict[str, Counter[tuple[Any, ...]]] = {}
    for table in [*CONTRACTS, "rejects", "ingest_log"]:
        cur = con.execute(f"SELECT * FROM {table}")
        cols = [d[0] for d in cur.description or []]
        rows: Counter[tuple[Any, ...]] = Counter()
        for row in cur.fetchall():
            cells = dict(zip(cols, row, strict=True))
            for key in ("_file_id", "file_id"):
                if key in cells:
                    cells[key] = names.get(cells[key], cells[key])
            cells.pop("loaded_at", None)
            rows[tuple(sorted((k, repr(v)) for k, v in cells.items()))] += 1
        out[table] = rows
    return out


def _load_both(template: Workspace, tmp_path: Path, paths: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """Load ``paths`` with the new and the reference loader into copies of one workspace; compare everything."""
    dumps = []
    for name, load_file in (("new", cspkit.ingest.load_file), ("reference", reference_loader.load_file)):
        root = tmp_path / name
        shutil.copytree(template.root, root)
        ws = Workspace(root)
        monkeypatch.setattr(cspkit.ingest, "load_file", load_file)
        con = ws.connect()
        try:
            report = ingest_paths(con, paths, key=ws.key(), today=TODAY)
            dumps.append((report, _dump(con)))
        finally:
            con.close()
    (new_report, new), (ref_report, ref) = dumps
    assert [e.message for e in new_report.errors] == [e.message for e in ref_report.errors]
    assert sorted(r.to_dict().items() for r in new_report.loaded) == sorted(
        r.to_dict().items() for r in ref_report.loaded
    )
    for table in ref:
        assert new[table] == ref[table], f"{table} differs: -{ref[table] - new[table]} +{new[table] - ref[table]}"
    assert sum(len(t) for t in ref.values()) > 0


def _police_files(folder: Path) -> list[Path]:
    folder.mkdir()
    with zipfile.ZipFile(POLICE_ZIP) as zf:
        for month in MONTHS:
            for kind in ("street", "outcomes"):
                name = f"{month}/{month}-bedfordshire-{kind}.csv"
                if name in zf.namelist():
                    (folder / Path(name).name).write_bytes(zf.read(name))
    return sorted(folder.iterdir())


def _mutated(folder: Path, seed: int) -> Path:
    """A real street file with about 4% of its rows broken in the ways partners break files."""
    with zipfile.ZipFile(POLICE_ZIP) as zf:
        lines = zf.read("2022-05/2022-05-bedfordshire-street.csv").decode().splitlines()
    rng = random.Random(seed)
    out = [lines[0]]
    for i, line in enumerate(lines[1:]):
        r = rng.random()
        f = line.split(",")
        if r < 0.01:
            out.append("")  # a blank line
        if r < 0.005:
            f[1] = "2022/13"
        elif r < 0.01:
            f[4] = "12.5"
        elif r < 0.015:
            f.append("extra")
        elif r < 0.02:
            f = f[:5]
        elif r < 0.025:
            f[9] = "Murder most foul"
        elif r < 0.03:
            f[7] = "E0101"
        elif r < 0.035:
            f[9] = "  violence AND sexual offences "  # loads: normalised to the allowed value
        elif r < 0.04 and i > 10:
            out.append(lines[i - 4])  # a repeated row
            continue
        elif r < 0.045:
            f[6] = '"On or near\nsomewhere"'  # a quoted line break: the record spans two lines
        elif r < 0.05:
            f[8] = "\u00a0Bedford 001A "  # Unicode and ASCII spaces to trim
        out.append(",".join(f))
    folder.mkdir()
    path = folder / "2022-05-bedfordshire-street.csv"
    path.write_bytes(("\r\n".join(out) + "\r\n").encode())
    return path


def test_real_police_files_load_the_same(workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _load_both(workspace, tmp_path, _police_files(tmp_path / "police"), monkeypatch)


@pytest.mark.parametrize("seed", [7, 8])
def test_mutated_police_file_loads_the_same(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    _load_both(workspace, tmp_path, [_mutated(tmp_path / "mutated", seed)], monkeypatch)


def test_messy_partner_files_load_the_same(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "synth"
    generate(folder, seed=3, lad_code="E06000056", population=60_000, years=2, end_month="2023-04", messy=True)
    _load_both(workspace, tmp_path, [folder], monkeypatch)


BAD_ROWS = {
    "dates.csv": "incident_ref,reported_at,category\nA1,not a date,personal\nA2,12/31/2022,personal\n"
    "A3,2030-01-01,personal\nA4,01/02/22,personal\nA5,31/12/2022,personal\n",
    "coords.csv": "incident_ref,reported_at,category,longitude,latitude\nA1,2022-01-05,personal,10.5,52.0\n"
    "A2,2022-01-05,personal,-0.4,40.1\nA3,2022-01-05,personal,-0.4,52.0\n",
    "dups.csv": "incident_ref,reported_at,category\nA1,2022-01-05,personal\nA2,2022-01-06,personal\n"
    "A1,2022-01-07,nuisance\n ,2022-01-07,nuisance\nA2 ,2022-01-08,Personal\n",
    "malformed.csv": "incident_ref,reported_at,category,outcome\nA1,2022-01-05,personal\n\n"
    "A2,2022-01-05,personal,a,b\n"
    'A3,2022-01-05,weird,"x\ny"\nA4,2022-01-05\nA5,bad,personal,\n',
}


def test_bad_input_rows_load_the_same(workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    for i, (name, text) in enumerate(BAD_ROWS.items()):
        sub = folder / f"agency{i}"
        sub.mkdir()
        (sub / name).write_text(text, encoding="utf-8")
    _load_both(workspace, tmp_path, [folder / f"agency{i}" for i in range(len(BAD_ROWS))], monkeypatch)

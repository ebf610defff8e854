"""Files a careless partner sends (issue 15): each loads where it is valid or is refused with one clear message, and
what ingest noticed (columns outside the contract, columns named twice, codes not in the lookup) is reported."""

from __future__ import annotations

import datetime as dt
import os
import signal
import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cspkit.cli import app
from cspkit.findings.data_sources import note_lines, source_records
from cspkit.ingest import IngestReport, ingest_paths, sweep_temp, temp_root
from cspkit.workspace import Workspace

TODAY = dt.date(2024, 6, 30)
ASB = "incident_ref,reported_at,category,lsoa_code\n"


@pytest.fixture(autouse=True)
def _no_hang() -> Iterator[None]:
    """A file that makes ingest wait for ever (a FIFO) must fail the test, not hang it."""
    signal.signal(signal.SIGALRM, lambda *_: pytest.fail("ingest hung"))
    signal.alarm(300)
    yield
    signal.alarm(0)


def _ingest(ws: Workspace, paths: list[Path], **kwargs: Any) -> IngestReport:
    con = ws.connect()
    try:
        return ingest_paths(con, paths, key=ws.key(), today=TODAY, **kwargs)
    finally:
        con.close()


def _rejects(ws: Workspace) -> list[tuple[int, str, str]]:
    con = ws.connect(read_only=True)
    try:
        return [tuple(r) for r in con.execute("SELECT line, column_name, reason FROM rejects ORDER BY line").fetchall()]
    finally:
        con.close()


@pytest.mark.parametrize("main_newline", ["\n", "\r\n"], ids=["lf-with-crlf-lines", "crlf-with-lf-lines"])
def test_mixed_line_endings_load(workspace: Workspace, tmp_path: Path, main_newline: str) -> None:
    """A file whose lines end partly in CR LF and partly in LF loads; rejects keep their file lines."""
    other = "\r\n" if main_newline == "\n" else "\n"
    lines = [ASB.strip(), "A1,2022-01-05,personal,E01017512", "A2,2022-01-05,weird,", "A3,2022-01-06,nuisance,"]
    data = lines[0] + main_newline + lines[1] + other + lines[2] + main_newline + lines[3] + other
    path = tmp_path / "mixed.csv"
    path.write_bytes(data.encode())
    report = _ingest(workspace, [path])
    assert report.errors == []
    [result] = report.loaded
    assert (result.rows_read, result.rows_accepted, result.rows_rejected) == (3, 2, 1)
    assert _rejects(workspace) == [(3, "category", "bad_category")]


def test_every_row_rejected_exits_non_zero(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "all_bad.csv"
    path.write_text(ASB + "A1,not a date,personal,\nA2,2022-01-05,weird,\n")
    result = CliRunner().invoke(app, ["ingest", str(path), "--workspace", str(workspace.root)])
    assert result.exit_code == 1
    assert "every one of its 2 rows was rejected" in result.output
    assert "Traceback" not in result.output


def test_a_fifo_is_refused_and_skipped_in_a_folder(workspace: Workspace, tmp_path: Path) -> None:
    """A named pipe would make the reader wait for ever: refused when named, skipped with a note in a folder."""
    folder = tmp_path / "in"
    folder.mkdir()
    fifo = folder / "pipe.csv"
    os.mkfifo(fifo)
    (folder / "good.csv").write_text(ASB + "A1,2022-01-05,personal,\n")
    report = _ingest(workspace, [fifo])
    assert [e.message for e in report.errors] == [
        f"{fifo}: a named pipe (FIFO), not a file that can be loaded; nothing was loaded from it."
    ]
    report = _ingest(workspace, [folder])
    assert [(s.display, s.reason) for s in report.skipped] == [
        (str(fifo), "a named pipe (FIFO), not a file that can be loaded")
    ]
    assert [r.rows_accepted for r in report.loaded] == [1]
    assert _ingest(workspace, [Path("/dev/zero")]).errors[0].message.startswith("/dev/zero: a device")


def test_a_file_deleted_mid_ingest_is_reported_with_what_did_load(workspace: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a.csv", "b.csv", "c.csv"):
        (folder / name).write_text(ASB + f"{name},2022-01-05,personal,\n")

    def delete_b(display: str) -> None:
        if display.endswith("b.csv"):
            (folder / "b.csv").unlink()

    report = _ingest(workspace, [folder], on_file=delete_b)
    assert [Path(r.display).name for r in report.loaded] == ["a.csv", "c.csv"]
    [error] = report.errors
    assert (
        error.message
        == f"{folder / 'b.csv'}: the file could not be read (No such file or directory); nothing was written."
    )
    result = CliRunner().invoke(app, ["ingest", str(tmp_path / "gone.csv"), "--workspace", str(workspace.root)])
    assert result.exit_code == 1 and "no such file or folder" in result.output and "Traceback" not in result.output


def test_a_300_character_name_inside_a_zip_loads(workspace: Workspace, tmp_path: Path) -> None:
    long_name = "folder/" + "x" * 300 + ".csv"
    archive = tmp_path / "long.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr(long_name, ASB + "A1,2022-01-05,personal,\n")
    report = _ingest(workspace, [archive], source="asb_incidents")
    assert report.errors == []
    assert [(r.display, r.rows_accepted) for r in report.loaded] == [(f"{archive}:{long_name}", 1)]


def test_a_zip_bomb_is_refused_before_anything_is_written(workspace: Workspace, tmp_path: Path) -> None:
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("2022-01/2022-01-x-street.csv", b"0" * (64 * 1024**2))
    report = _ingest(workspace, [archive])
    [error] = report.errors
    assert "looks like a zip bomb" in error.message and "Nothing from the archive was loaded" in error.message
    assert report.loaded == []
    root = temp_root(workspace.connect(read_only=True))
    assert root is not None and not any(root.rglob("*.csv"))


def test_a_header_of_100000_columns_loads_and_reports_them(workspace: Workspace, tmp_path: Path) -> None:
    extra = [f"extra_{i}" for i in range(99_996)]
    header = ["incident_ref", "reported_at", "category", "lsoa_code", *extra]
    path = tmp_path / "wide.csv"
    row = ["A1", "2022-01-05", "personal", "E01017512", *([""] * len(extra))]
    path.write_text(",".join(header) + "\n" + ",".join(row) + "\n")
    [result] = _ingest(workspace, [path]).loaded
    assert (result.source, result.rows_accepted, len(result.ignored_columns)) == ("asb_incidents", 1, 99_996)


def test_duplicated_columns_and_unknown_codes_are_reported_and_recorded(workspace: Workspace, tmp_path: Path) -> None:
    """A column named twice (the first is read) and LSOA codes of valid shape that are not in the lookup are
    counted, shown in the table output and kept in ``ingest_notes`` for the data-quality appendix."""
    path = tmp_path / "notes.csv"
    path.write_text(
        "incident_ref,reported_at,category,Category,lsoa_code,perpetrator_name\n"
        "A1,2022-01-05,personal,weird,E01999999,x\nA2,2022-01-05,personal,weird,E01017512,x\n"
        "A3,2022-01-05,nuisance,,E01999998,x\n"
    )
    result = CliRunner().invoke(app, ["ingest", str(path), "--workspace", str(workspace.root)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "columns not in the contract, not loaded: perpetrator_name" in text
    assert "columns named twice (the first is read): Category" in text
    assert "lsoa_code: 2 row(s) with codes not in the lookup (e.g. E01999998, E01999999)" in text
    con = workspace.connect(read_only=True)
    notes = con.execute("SELECT column_name, note, rows, examples FROM ingest_notes ORDER BY note").fetchall()
    accepted = con.execute("SELECT count(*) FROM asb_incidents").fetchall()[0][0]
    con.close()
    assert notes == [
        ("Category", "duplicated_column", 0, []),
        ("perpetrator_name", "ignored_column", 0, []),
        ("lsoa_code", "unknown_code", 2, ["E01999998", "E01999999"]),
    ]
    assert accepted == 3  # the first "category" column is read: every row is valid
    # the findings stage hands the notes to the data-quality appendix with the source's record
    con = workspace.connect(read_only=True)
    try:
        [record] = [r for r in source_records(con) if r.source == "asb_incidents"]
    finally:
        con.close()
    assert note_lines(record.notes) == [
        "lsoa_code: 2 rows with an area code not in the lookup (e.g. E01999998, E01999999)",
        "1 column outside the contract, not loaded",
        "1 column name written twice (the first was read)",
    ]


def test_temporary_copies_live_in_the_workspace_and_stale_ones_are_swept(workspace: Workspace, tmp_path: Path) -> None:
    """Copies are made in <workspace>/.cspkit/tmp (0700) and removed; a folder left by a killed run is swept."""
    root = workspace.root / ".cspkit" / "tmp"
    stale = root / "run-999999999-abc"
    stale.mkdir(parents=True)
    (stale / "member.csv").write_text("left by a killed run")
    archive = tmp_path / "p.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("asb.csv", (ASB + "A1,2022-01-05,personal,\n").encode("cp1252"))
    seen: list[Path] = []

    def look(_: str) -> None:
        seen.extend(p for p in root.rglob("*") if p.is_file())

    report = _ingest(workspace, [archive], source="asb_incidents", on_file=look)
    assert report.ok
    assert [p.name for p in seen] == ["member.csv"]  # only this run's extracted member; the stale folder is gone
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o700 for p in (root, root.parent))
    assert list(root.iterdir()) == []
    assert sweep_temp(root) == 0

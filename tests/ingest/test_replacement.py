"""Corrected files replace what they correct, in one transaction; the same content again changes nothing."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

from cspkit.ingest import LoadResult, ingest_paths
from cspkit.ingest.readers import file_hash, legacy_sha256
from cspkit.sources.contracts import CONTRACTS
from cspkit.warehouse.schema import stored_columns
from cspkit.warehouse.status import rejects, status
from cspkit.workspace import Workspace

TODAY = dt.date(2024, 6, 30)
HEADER = "incident_ref,reported_at,category,victim_ref\n"
FIRST = HEADER + (
    "A1,2022-01-05,personal,V1\n"
    "A2,2022-01-20,nuisance,V2\n"
    "A3,2022-02-03,personal,V1\n"
    "A4,not a date,personal,V3\n"  # rejected
    "A5,2022-02-10,weird,V4\n"  # rejected
)
CORRECTED = HEADER + (
    "A1,2022-01-05,personal,V1\n"
    "A2,2022-01-20,environmental,V2\n"
    "A3,2022-02-03,personal,V1\n"
    "A4,2022-01-28,personal,V3\n"
    "A5,2022-02-10,nuisance,V4\n"
)


def _load(ws: Workspace, path: Path, agency: str = "Luton Council") -> LoadResult:
    con = ws.connect()
    try:
        report = ingest_paths(con, [path], key=ws.key(), agency=agency, today=TODAY)
    finally:
        con.close()
    assert report.errors == []
    [result] = report.loaded
    return result


def _state(ws: Workspace) -> dict[str, Any]:
    con = ws.connect(read_only=True)
    try:
        return {
            "rows": con.execute(
                "SELECT _agency, category, count(*) FROM asb_incidents GROUP BY ALL ORDER BY ALL"
            ).fetchall(),
            "log": con.execute(
                "SELECT file_name, active, rows_read, rows_accepted, rows_rejected FROM ingest_log "
                "WHERE source = 'asb_incidents' ORDER BY file_id"
            ).fetchall(),
            "status": [
                (s.agency, s.files, s.rows, s.rows_read, s.rows_rejected, s.rejects_by_reason, s.first_month, s.months)
                for s in status(con)
                if s.source == "asb_incidents"
            ],
            "rejects": len(rejects(con, "asb_incidents")),
        }
    finally:
        con.close()


def test_corrected_file_replaces_rows_and_retires_the_old_file(workspace: Workspace, tmp_path: Path) -> None:
    """A corrected file for the same agency and months replaces the rows; the old file and its rejects go."""
    old, new = tmp_path / "asb_v1.csv", tmp_path / "asb_v2.csv"
    old.write_text(FIRST)
    new.write_text(CORRECTED)

    first = _load(workspace, old)
    assert (first.rows_read, first.rows_accepted, first.rows_rejected) == (5, 3, 2)
    assert first.months == ["2022-01", "2022-02"]
    after_first = _state(workspace)
    assert after_first["rows"] == [("luton-council", "nuisance", 1), ("luton-council", "personal", 2)]
    assert after_first["status"] == [("luton-council", 1, 3, 5, 2, {"bad_category": 1, "bad_date": 1}, "2022-01", 2)]
    assert after_first["rejects"] == 2

    second = _load(workspace, new)
    assert (second.status, second.rows_accepted, second.rows_rejected, second.rows_replaced) == ("loaded", 5, 0, 3)
    after = _state(workspace)
    # no double counting: exactly the corrected file's 5 rows
    assert after["rows"] == [
        ("luton-council", "environmental", 1),
        ("luton-council", "nuisance", 1),
        ("luton-council", "personal", 3),
    ]
    assert after["log"] == [(str(old), False, 5, 3, 2), (str(new), True, 5, 5, 0)]
    assert after["status"] == [("luton-council", 1, 5, 5, 0, {}, "2022-01", 2)]  # the old rejects no longer count
    assert after["rejects"] == 0


def test_same_content_again_is_a_no_op(workspace: Workspace, tmp_path: Path) -> None:
    """Loading the same bytes again (even under another file name) says unchanged and writes nothing."""
    path = tmp_path / "asb.csv"
    path.write_text(CORRECTED)
    _load(workspace, path)
    before = _state(workspace)
    copy = tmp_path / "asb_copy.csv"
    copy.write_bytes(path.read_bytes())
    again = _load(workspace, copy)
    assert (again.status, again.rows_read, again.rows_accepted, again.rows_replaced) == ("unchanged", 5, 5, 0)
    assert _state(workspace) == before


def test_another_agency_is_not_replaced(workspace: Workspace, tmp_path: Path) -> None:
    """The same months from another agency add to, and never replace, the first agency's rows."""
    path = tmp_path / "asb.csv"
    path.write_text(CORRECTED)
    _load(workspace, path, agency="Luton Council")
    other = _load(workspace, path, agency="Bedfordshire Police")
    assert (other.status, other.rows_accepted, other.rows_replaced) == ("loaded", 5, 0)
    state = _state(workspace)
    assert [(s[0], s[2]) for s in state["status"]] == [("bedfordshire-police", 5), ("luton-council", 5)]


def test_correcting_one_month_keeps_the_other(workspace: Workspace, tmp_path: Path) -> None:
    """A corrected file for February only replaces February; January rows of the first file stay, still active."""
    old, feb = tmp_path / "jan_feb.csv", tmp_path / "feb.csv"
    old.write_text(CORRECTED)
    feb.write_text(HEADER + "B1,2022-02-11,environmental,V7\n")
    _load(workspace, old)
    result = _load(workspace, feb)
    assert (result.rows_replaced, result.months) == (2, ["2022-02"])
    state = _state(workspace)
    assert state["log"] == [(str(old), True, 5, 5, 0), (str(feb), True, 1, 1, 0)]
    con = workspace.connect(read_only=True)
    months = con.execute("SELECT _month, count(*) FROM asb_incidents GROUP BY ALL ORDER BY ALL").fetchall()
    con.close()
    assert months == [("2022-01", 3), ("2022-02", 1)]


def _rejects_now(ws: Workspace) -> list[tuple[str, int, str]]:
    con = ws.connect(read_only=True)
    try:
        return [(Path(r["file"]).name, r["line"], r["reason"]) for r in rejects(con, "asb_incidents")]
    finally:
        con.close()


MIXED = HEADER + (
    "A1,2022-01-05,personal,V1\n"
    "A2,2022-01-20,weird,V2\n"  # line 3: rejected, January
    "A3,2022-02-03,personal,V1\n"
    "A4,2022-02-11,strange,V3\n"  # line 5: rejected, February
    "A5,not a date,personal,V4\n"  # line 6: rejected, no month
)


def test_a_correction_of_some_months_removes_only_their_rejects(workspace: Workspace, tmp_path: Path) -> None:
    """A February correction removes the old file's February rows and rejects; its January rows, January reject
    and month-less reject still count, and the old file stays active."""
    old, feb = tmp_path / "jan_feb.csv", tmp_path / "feb.csv"
    old.write_text(MIXED)
    feb.write_text(HEADER + "A3,2022-02-03,personal,V1\nA4,2022-02-11,nuisance,V3\n")
    _load(workspace, old)
    assert _state(workspace)["status"] == [
        ("luton-council", 1, 2, 5, 3, {"bad_category": 2, "bad_date": 1}, "2022-01", 2)
    ]
    _load(workspace, feb)
    state = _state(workspace)
    assert state["log"] == [(str(old), True, 5, 2, 3), (str(feb), True, 2, 2, 0)]
    assert state["status"] == [("luton-council", 2, 3, 5, 2, {"bad_category": 1, "bad_date": 1}, "2022-01", 2)]
    assert _rejects_now(workspace) == [("jan_feb.csv", 3, "bad_category"), ("jan_feb.csv", 6, "bad_date")]


def test_a_file_is_retired_when_all_its_months_are_covered(workspace: Workspace, tmp_path: Path) -> None:
    """Once newer files cover every month of a file, it is retired with all its rejects, month-less ones too."""
    old, jan, feb = tmp_path / "jan_feb.csv", tmp_path / "jan.csv", tmp_path / "feb.csv"
    old.write_text(MIXED)
    jan.write_text(HEADER + "A1,2022-01-05,personal,V1\nA2,2022-01-20,nuisance,V2\n")
    feb.write_text(HEADER + "A3,2022-02-03,personal,V1\nA4,2022-02-11,nuisance,V3\nA9,bad,personal,V9\n")
    _load(workspace, old)
    _load(workspace, jan)
    assert [f for f, *_ in _rejects_now(workspace)] == ["jan_feb.csv", "jan_feb.csv"]  # February and no month
    _load(workspace, feb)
    state = _state(workspace)
    assert [(Path(f).name, active) for f, active, *_ in state["log"]] == [
        ("jan_feb.csv", False),
        ("jan.csv", True),
        ("feb.csv", True),
    ]
    assert state["status"] == [("luton-council", 2, 4, 5, 1, {"bad_date": 1}, "2022-01", 2)]
    assert _rejects_now(workspace) == [("feb.csv", 4, "bad_date")]


def test_a_wholly_rejected_file_is_retired_by_its_correction(workspace: Workspace, tmp_path: Path) -> None:
    """A file with 0 accepted rows whose rejects fall in the months a correction covers is retired by it."""
    bad, good = tmp_path / "bad.csv", tmp_path / "good.csv"
    bad.write_text(HEADER + "A1,2022-01-05,Personal Stuff,V1\nA2,2022-02-20,nuisances,V2\n")
    good.write_text(HEADER + "A1,2022-01-05,personal,V1\nA2,2022-02-20,nuisance,V2\n")
    first = _load(workspace, bad)
    assert (first.rows_accepted, first.rows_rejected) == (0, 2)
    assert _state(workspace)["status"] == [("luton-council", 1, 0, 2, 2, {"bad_category": 2}, None, 0)]
    _load(workspace, good)
    state = _state(workspace)
    assert state["log"] == [(str(bad), False, 2, 0, 2), (str(good), True, 2, 2, 0)]
    assert state["status"] == [("luton-council", 1, 2, 2, 0, {}, "2022-01", 2)]
    assert state["rejects"] == 0


def test_a_file_holding_nothing_is_retired_by_the_next_file_of_its_agency(workspace: Workspace, tmp_path: Path) -> None:
    """A file whose rows were all rejected without a readable date is retired by the next file of the same
    source and agency, not by another agency's file; a file with a month still uncovered is kept."""
    undated, other_month = tmp_path / "undated.csv", tmp_path / "march.csv"
    undated.write_text(HEADER + "A1,soon,personal,V1\nA2,,nuisance,V2\n")
    other_month.write_text(HEADER + "A7,2022-03-05,personal,V1\n")
    _load(workspace, undated)
    _load(workspace, other_month, agency="Bedfordshire Police")
    assert [a for f, a, *_ in _state(workspace)["log"]] == [True, True]
    _load(workspace, other_month)
    state = _state(workspace)
    assert [(Path(f).name, a) for f, a, *_ in state["log"]] == [
        ("undated.csv", False),
        ("march.csv", True),
        ("march.csv", True),
    ]
    assert state["rejects"] == 0
    january = tmp_path / "january_bad.csv"
    january.write_text(HEADER + "B1,2022-01-05,odd,V1\n")
    _load(workspace, january)
    _load(workspace, tmp_path / "march.csv", agency="Someone Else")
    _load(workspace, _write(tmp_path / "april.csv", HEADER + "C1,2022-04-05,personal,V1\n"))
    assert _rejects_now(workspace) == [("january_bad.csv", 2, "bad_category")]  # January is still not covered


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_a_file_loaded_under_its_sha256_is_recognised_once_and_takes_the_blake3_hash(
    workspace: Workspace, tmp_path: Path
) -> None:
    """Warehouses made before content hashes were BLAKE3 hold SHA-256 hex: the same file again is still a no-op
    (its SHA-256 is computed once, and the entry takes the new hash), and a changed file of that name still loads."""
    path = tmp_path / "asb.csv"
    path.write_text(FIRST, encoding="utf-8")
    first = _load(workspace, path)
    con = workspace.connect()
    try:  # as an earlier cspkit wrote it
        con.execute("UPDATE ingest_log SET content_hash = ? WHERE file_id = ?", [legacy_sha256(path), first.file_id])
    finally:
        con.close()
    before = _state(workspace)
    again = _load(workspace, path)
    assert (again.status, again.file_id, _state(workspace)) == ("unchanged", first.file_id, before)
    con = workspace.connect(read_only=True)
    try:
        stored = con.execute("SELECT content_hash FROM ingest_log WHERE file_id = ?", [first.file_id]).fetchall()
    finally:
        con.close()
    assert stored == [(file_hash(path),)] and file_hash(path).startswith("blake3:")
    path.write_text(CORRECTED, encoding="utf-8")
    assert _load(workspace, path).status == "loaded"


def test_month_is_computed_in_new_tables_and_still_written_in_old_ones(workspace: Workspace, tmp_path: Path) -> None:
    """``_month`` is a virtual column of tables made now; a warehouse made before keeps it stored, and the loader
    still writes it there. Either way each row's month is its date's."""
    path = tmp_path / "asb.csv"
    path.write_text(FIRST, encoding="utf-8")
    expected = [("2022-01", 2), ("2022-02", 1)]
    month_of_rows = "SELECT _month, count(*) FROM asb_incidents GROUP BY ALL ORDER BY ALL"
    generated = (
        "SELECT is_generated FROM information_schema.columns WHERE table_catalog = current_database() "
        "AND table_name = 'asb_incidents' AND column_name = '_month'"
    )
    _load(workspace, path)
    con = workspace.connect(read_only=True)
    try:
        assert (con.execute(generated).fetchall(), con.execute(month_of_rows).fetchall()) == ([("ALWAYS",)], expected)
    finally:
        con.close()
    old = tmp_path / "old"
    shutil.copytree(workspace.root, old)
    before = Workspace(old)
    con = before.connect()
    try:  # the table as made before _month was virtual, empty
        con.execute("DROP TABLE asb_incidents")
        columns = ", ".join(f"{name} {sql_type}" for name, sql_type in stored_columns(CONTRACTS["asb_incidents"]))
        con.execute(f"CREATE TABLE asb_incidents ({columns})")
        con.execute("DELETE FROM ingest_log WHERE source = 'asb_incidents'")
    finally:
        con.close()
    _load(before, path)
    con = before.connect(read_only=True)
    try:
        assert (con.execute(generated).fetchall(), con.execute(month_of_rows).fetchall()) == ([("NEVER",)], expected)
    finally:
        con.close()

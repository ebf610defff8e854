"""A corpus of bad input files, written by the tests: each gives one clear message or precise row rejects.

For every file: no exception escapes ``ingest_paths``; a refused file is reported as a FileError whose message
names the file, and nothing at all is written (every table and the ingest log unchanged); a loaded file accounts
for every row (read = accepted + rejected), with each reject's line, column and reason code.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import duckdb
import pytest

from cspkit.ingest import IngestReport, ingest_paths
from cspkit.sources.contracts import CONTRACTS
from cspkit.workspace import Workspace
from tests.conftest import POLICE_ZIP

TODAY = dt.date(2024, 6, 30)
ASB = "incident_ref,reported_at,category\n"


def _snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Row counts of every table, and the whole ingest log."""
    tables = [*CONTRACTS, "rejects"]
    snap: dict[str, Any] = {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in tables}
    snap["ingest_log"] = con.execute("SELECT * FROM ingest_log ORDER BY file_id").fetchall()
    return snap


def _ingest(ws: Workspace, path: Path, **kwargs: Any) -> tuple[IngestReport, dict[str, Any], dict[str, Any]]:
    con = ws.connect()
    try:
        before = _snapshot(con)
        report = ingest_paths(con, [path], key=ws.key(), today=TODAY, **kwargs)
        after = _snapshot(con)
    finally:
        con.close()
    return report, before, after


def _refused(ws: Workspace, path: Path, **kwargs: Any) -> str:
    """Ingest a file that must be refused; return its one message after checking nothing was written."""
    report, before, after = _ingest(ws, path, **kwargs)
    assert report.loaded == []
    assert len(report.errors) == 1
    error = report.errors[0]
    assert str(path) in error.display
    assert str(path) in error.message  # the message names the file
    assert after == before  # nothing at all written
    return error.message


def _rejects(ws: Workspace) -> list[tuple[int, str, str]]:
    con = ws.connect(read_only=True)
    try:
        rows = con.execute("SELECT line, column_name, reason FROM rejects ORDER BY line, reason").fetchall()
    finally:
        con.close()
    return [(int(line), str(col), str(reason)) for line, col, reason in rows]


def _loaded(ws: Workspace, path: Path, **kwargs: Any) -> Any:
    report, before, after = _ingest(ws, path, **kwargs)
    assert report.errors == []
    [result] = report.loaded
    assert result.rows_read == result.rows_accepted + result.rows_rejected
    assert after["asb_incidents"] - before["asb_incidents"] == result.rows_accepted
    assert after["rejects"] - before["rejects"] == result.rows_rejected
    assert len(after["ingest_log"]) == len(before["ingest_log"]) + 1
    return result


# --- files refused as a whole ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "kwargs", "expected"),
    [
        ("empty.csv", b"", {"source": "asb_incidents"}, "the file is empty"),
        ("blank.csv", b"\n\n  \n", {}, "the file is empty"),
        ("header_only.csv", ASB.encode(), {}, "header but no data rows"),
        (
            "semicolon_unknown.csv",
            b"incident number;when;kind\nA1;2022-01-05;personal\n",
            {},
            "does not match any source; name one with --source",
        ),
        ("garbage.csv", b"\x00\x01binary" + random.Random(1).randbytes(4000), {}, "not a text file (binary content)"),
        ("garbage.xlsx", random.Random(2).randbytes(3000), {}, "not a readable Excel workbook"),
        ("garbage.parquet", b"PAR1" + random.Random(3).randbytes(3000), {}, "not a readable Parquet file"),
    ],
)
def test_unreadable_files_are_refused_with_one_message(
    workspace: Workspace, tmp_path: Path, name: str, content: bytes, kwargs: dict[str, Any], expected: str
) -> None:
    """Empty, header-only, unrecognisable and binary files give one message naming the file; nothing is written."""
    path = tmp_path / name
    path.write_bytes(content)
    assert expected in _refused(workspace, path, **kwargs)


def test_missing_required_columns_names_them_and_the_closest_present(workspace: Workspace, tmp_path: Path) -> None:
    """A missing column names the file, the source, each missing column and the closest header present."""
    path = tmp_path / "typos.csv"
    path.write_text("incident_ref,Reportd At,categry,outcome\nA1,2022-01-05,personal,x\n", encoding="utf-8")
    message = _refused(workspace, path, source="asb_incidents")
    assert "missing required column(s) for source asb_incidents" in message
    assert "reported_at (closest present: 'Reportd At')" in message
    assert "category (closest present: 'categry')" in message
    assert "Nothing from this file was loaded" in message


def test_ambiguous_header_asks_for_source(workspace: Workspace, tmp_path: Path) -> None:
    """A header that fits offenders and offences equally is refused with a request to name --source."""
    path = tmp_path / "both.csv"
    path.write_text("offender_ref,cohort,entry_date,offence_date,offence_group\nO1,IOM,2022-01-05,2022-02-01,theft\n")
    message = _refused(workspace, path)
    assert "fits several sources" in message and "offences" in message and "offenders" in message
    assert "--source" in message


def test_truncated_zip_is_refused(workspace: Workspace, tmp_path: Path) -> None:
    """A real data.police.uk archive cut in half is refused with one message; nothing from it is loaded."""
    data = POLICE_ZIP.read_bytes()
    path = tmp_path / "cut.zip"
    path.write_bytes(data[: len(data) // 2])
    message = _refused(workspace, path)
    assert "not a readable zip archive" in message and "truncated" in message


def test_a_refused_file_does_not_stop_the_others(workspace: Workspace, tmp_path: Path) -> None:
    """In a folder, a bad file is refused and reported while the good one beside it is loaded."""
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "a_bad.csv").write_bytes(b"")
    (folder / "b_good.csv").write_text(ASB + "A1,2022-01-05,personal\n")
    report, before, after = _ingest(workspace, folder, source="asb_incidents")
    assert [e.display for e in report.errors] == [str(folder / "a_bad.csv")]
    assert [(r.display, r.rows_accepted) for r in report.loaded] == [(str(folder / "b_good.csv"), 1)]
    assert after["asb_incidents"] == before["asb_incidents"] + 1


# --- files loaded with row rejects ----------------------------------------------------------------------------


def test_semicolon_file_with_a_valid_header_loads(workspace: Workspace, tmp_path: Path) -> None:
    """A semicolon-delimited file whose header is recognisable loads every row."""
    path = tmp_path / "semi.csv"
    path.write_text("incident_ref;reported_at;category\nA1;2022-01-05;personal\nA2;06/01/2022;nuisance\n")
    result = _loaded(workspace, path)
    assert (result.source, result.rows_read, result.rows_accepted) == ("asb_incidents", 2, 2)


@pytest.mark.parametrize(
    ("body", "header", "expected"),
    [
        (
            "A1,not a date,personal\nA2,12/31/2022,personal\nA3,2030-01-01,personal\nA4,01/02/22,personal\n"
            "A5,31/12/2022,personal\n",
            ASB,
            [
                (2, "reported_at", "bad_date"),
                (3, "reported_at", "bad_date"),
                (4, "reported_at", "future_date"),
                (5, "reported_at", "bad_date"),
            ],
        ),
        (
            "A1,2022-01-05,personal,E0100001\nA2,2022-01-05,personal,X01000001\nA3,2022-01-05,personal,e01000001\n"
            "A4,2022-01-05,personal,W01001234\n",
            "incident_ref,reported_at,category,lsoa_code\n",
            [(2, "lsoa_code", "bad_lsoa"), (3, "lsoa_code", "bad_lsoa")],
        ),
        (
            "A1,2022-01-05,personal,10.5,52.0\nA2,2022-01-05,personal,-0.4,40.1\nA3,2022-01-05,personal,-0.4,52.0\n"
            "A4,2022-01-05,personal,-0.4,\n",
            "incident_ref,reported_at,category,longitude,latitude\n",
            [(2, "longitude", "bad_coordinates"), (3, "latitude", "bad_coordinates")],
        ),
        (
            "A1,2022-01-05,weird\nA2,2022-01-05,Personal\nA3,2022-01-05,\n",
            ASB,
            [(2, "category", "bad_category"), (4, "category", "missing_value")],
        ),
        (
            "A1,2022-01-05,personal\nA2,2022-01-06,personal\nA1,2022-01-07,nuisance\n",
            ASB,
            [(4, "incident_ref", "duplicate_ref")],
        ),
        (
            "A1,2022-01-05,personal\nA2,2022-01-05,personal,extra,more\nA3,2022-01-05,nuisance\n",
            ASB,
            [(3, "(row)", "malformed_row")],
        ),
        ("A1,2022-01-05,personal\nA2,2022-01-05\nA3,2022-01-05,nuisance\n", ASB, [(3, "category", "malformed_row")]),
    ],
    ids=["dates", "lsoa", "coordinates", "category", "duplicate", "too-many-fields", "too-few-fields"],
)
def test_row_problems_are_rejected_with_line_column_and_reason(
    workspace: Workspace, tmp_path: Path, body: str, header: str, expected: list[tuple[int, str, str]]
) -> None:
    """Each bad row is rejected with its file line (header = line 1), column and reason code; good rows load."""
    path = tmp_path / "rows.csv"
    path.write_text(header + body, encoding="utf-8")
    result = _loaded(workspace, path, source="asb_incidents")
    data_lines = body.count("\n")
    assert (result.rows_read, result.rows_rejected) == (data_lines, len(expected))
    assert _rejects(workspace) == sorted(expected)


def test_reject_messages_name_line_column_and_expectation(workspace: Workspace, tmp_path: Path) -> None:
    """The stored message says where and what: line, column, what was expected and the shape of the value."""
    path = tmp_path / "dates.csv"
    path.write_text(ASB + "A1,12/31/2022,personal\n")
    _loaded(workspace, path)
    con = workspace.connect(read_only=True)
    [(message, value)] = con.execute("SELECT message, value FROM rejects").fetchall()
    con.close()
    assert message == "line 2, column reported_at: expected a date as YYYY-MM-DD or DD/MM/YYYY (found 99/99/9999)"
    assert value == "99/99/9999"  # only the shape: a rejected value may be an identifier typed in the wrong column


def test_a_line_over_one_megabyte_is_rejected_alone(workspace: Workspace, tmp_path: Path) -> None:
    """A field over 1 MB makes its line a malformed_row reject; the rows around it load."""
    path = tmp_path / "huge.csv"
    path.write_text(
        "incident_ref,reported_at,category,outcome\nA1,2022-01-05,personal,ok\n"
        f"A2,2022-01-05,personal,{'x' * 1_100_000}\nA3,2022-01-05,nuisance,ok\n"
    )
    result = _loaded(workspace, path)
    assert (result.rows_read, result.rows_accepted, result.rejects_by_reason) == (3, 2, {"malformed_row": 1})
    assert _rejects(workspace) == [(3, "(row)", "malformed_row")]
    con = workspace.connect(read_only=True)
    [(value, message)] = con.execute("SELECT value, message FROM rejects").fetchall()
    con.close()
    assert value == "(not kept)" and "xxx" not in message and len(message) < 200


def test_formula_like_cells_are_stored_as_plain_text(workspace: Workspace, tmp_path: Path) -> None:
    """Spreadsheet formula triggers (=, +, -, @) are kept verbatim as text in a free-text column (a survey theme),
    never evaluated or altered; in a vocabulary column (asb_type, agency) they are not a category, so they are
    stored as Other, and counted."""
    path = tmp_path / "formula.csv"
    path.write_text(
        "incident_ref,reported_at,category,agency,asb_type\n"
        'A1,2022-01-05,personal,"=HYPERLINK(""http://evil.example"",""click"")",+cmd|\' /C calc\'!A0\n'
        "A2,2022-01-05,personal,@SUM(A1:A9),-2+3\n",
        encoding="utf-8",
    )
    result = _loaded(workspace, path)
    assert (result.rows_accepted, result.unmapped_labels) == (2, {"agency": 2, "asb_type": 2})
    views = tmp_path / "views.csv"
    views.write_text(
        'year,theme,respondents,share_concerned\n2023,"=HYPERLINK(""http://evil.example"",""click"")",100,0.5\n'
        "2023,@SUM(A1:A9),100,0.25\n",
        encoding="utf-8",
    )
    report = _ingest(workspace, views)[0]
    assert (report.errors, report.loaded[0].rows_accepted) == ([], 2)
    con = workspace.connect(read_only=True)
    rows = con.execute("SELECT agency, asb_type FROM asb_incidents").fetchall()
    themes = con.execute("SELECT theme FROM public_views ORDER BY theme").fetchall()
    con.close()
    assert rows == [("Other", "Other")] * 2
    assert themes == [('=HYPERLINK("http://evil.example","click")',), ("@SUM(A1:A9)",)]


def test_line_numbers_after_a_malformed_row_are_file_lines(workspace: Workspace, tmp_path: Path) -> None:
    """A bad row after a malformed one is reported on its own file line (line 4), not one line early."""
    path = tmp_path / "shifted.csv"
    path.write_text(ASB + "A1,2022-01-05,personal\nA2,2022-01-05,personal,extra\nA3,not a date,nuisance\n")
    _loaded(workspace, path)
    assert _rejects(workspace) == [(3, "(row)", "malformed_row"), (4, "reported_at", "bad_date")]


def test_line_numbers_after_a_quoted_field_spanning_lines(workspace: Workspace, tmp_path: Path) -> None:
    """A quoted field holding line breaks makes its record span lines; later rejects keep their own file line."""
    path = tmp_path / "multiline.csv"
    path.write_text(
        "incident_ref,reported_at,category,outcome\n"
        'A1,2022-01-05,personal,"first line\nsecond line\n\nfourth line"\n'  # lines 2-5
        "A2,not a date,nuisance,\n"  # line 6
        'A3,2022-01-05,weird,"x\ny"\n'  # lines 7-8
        "A4,2022-01-05,personal,too,many\n"  # line 9
        "A5,2030-01-01,personal,\n",  # line 10
        encoding="utf-8",
    )
    result = _loaded(workspace, path)
    assert (result.rows_read, result.rows_accepted) == (5, 1)
    assert _rejects(workspace) == [
        (6, "reported_at", "bad_date"),
        (7, "category", "bad_category"),
        (9, "(row)", "malformed_row"),
        (10, "reported_at", "future_date"),
    ]
    con = workspace.connect(read_only=True)
    messages = [m for (m,) in con.execute("SELECT message FROM rejects ORDER BY line").fetchall()]
    con.close()
    assert [m.split(",")[0].split(":")[0] for m in messages] == ["line 6", "line 7", "line 9", "line 10"]


@pytest.mark.parametrize(
    ("newline", "encoding", "bom"),
    [("\n", "utf-8", False), ("\r\n", "utf-8", True), ("\r\n", "cp1252", False)],
    ids=["lf", "crlf-bom", "crlf-cp1252"],
)
def test_line_numbers_after_blank_lines(
    workspace: Workspace, tmp_path: Path, newline: str, encoding: str, bom: bool
) -> None:
    """Blank lines (skipped, not rows) still count as file lines, with LF or CRLF, a BOM, or cp1252 text."""
    lines = [
        "incident_ref,reported_at,category,outcome",
        "A1,2022-01-05,personal,Café",  # line 2
        "",
        "",
        "A2,2022-01-05,weird,",  # line 5
        "A3,2022-01-05,personal,a,b",  # line 6: malformed
        "",
        "A4,31/02/2022,nuisance,Café",  # line 8
    ]
    data = newline.join(lines).encode(encoding) + newline.encode()
    path = tmp_path / "blanks.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    result = _loaded(workspace, path)
    assert (result.rows_read, result.rows_accepted, result.encoding) == (4, 1, encoding)
    assert _rejects(workspace) == [
        (5, "category", "bad_category"),
        (6, "(row)", "malformed_row"),
        (8, "reported_at", "bad_date"),
    ]


def test_line_numbers_of_a_large_file_with_a_late_malformed_row(workspace: Workspace, tmp_path: Path) -> None:
    """In a longer file, rejects before and after a multi-line field and a malformed row keep their file lines."""
    rows = [f"A{i},2022-01-05,personal," for i in range(60_000)]
    rows[10] = "A10,2022-01-05,weird,"  # line 12
    rows[30_000] = 'A30000,2022-01-05,personal,"two\nlines"'  # lines 30002-30003
    rows[40_000] = "A40000,2022-01-05,personal,a,b"  # line 40003: malformed
    rows[59_999] = "A59999,bad,personal,"  # line 60002
    path = tmp_path / "large.csv"
    path.write_text("incident_ref,reported_at,category,outcome\n" + "\n".join(rows) + "\n", encoding="utf-8")
    result = _loaded(workspace, path)
    assert (result.rows_read, result.rows_rejected) == (60_000, 3)
    assert _rejects(workspace) == [
        (12, "category", "bad_category"),
        (40_003, "(row)", "malformed_row"),
        (60_002, "reported_at", "bad_date"),
    ]

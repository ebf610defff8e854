"""The loader reads a file once when nothing is refused, and once more, narrowly, when something is (issue 11).

The accepted rows are written in one pass that also counts, per check, the rows it refuses; the rejects pass then
reads only the columns and checks that refused a row. Checked here on a real data.police.uk street file with
planted bad rows: which statements read the file, what the narrow pass reads, and that the rejects are exactly the
planted ones, at the right lines.
"""

from __future__ import annotations

import datetime as dt
import random
import zipfile
from pathlib import Path
from typing import Any

import duckdb

from cspkit.ingest import ingest_paths, loader
from cspkit.ingest.readers import scan_file
from cspkit.sources import get_contract, match_header
from cspkit.workspace import Workspace
from tests.conftest import POLICE_ZIP

TODAY = dt.date(2024, 6, 30)


class _Recording:
    """A connection that keeps the SQL of every statement that reads the CSV file."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        self.reads: list[str] = []

    def execute(self, sql: str, params: Any = None) -> Any:
        if "read_csv(" in sql:
            self.reads.append(sql)
        return self._con.execute(sql, params) if params is not None else self._con.execute(sql)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def _street_lines() -> list[str]:
    with zipfile.ZipFile(POLICE_ZIP) as zf:
        name = next(n for n in sorted(zf.namelist()) if n.endswith("2022-02-bedfordshire-street.csv"))
        return zf.read(name).decode("utf-8").splitlines(keepends=True)


def _load(workspace: Workspace, path: Path) -> tuple[_Recording, Any]:
    con = _Recording(workspace.connect())
    try:
        report = ingest_paths(con, [path], key=workspace.key(), source="police_street", today=TODAY)  # type: ignore[arg-type]
        rejects = con.execute("SELECT line, column_name, reason, month FROM rejects ORDER BY line").fetchall()
    finally:
        con.close()
    assert report.ok, report.errors
    return con, (report.loaded[0], rejects)


def test_a_file_without_rejects_is_read_once(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "2022-02-bedfordshire-street.csv"
    lines = _street_lines()
    path.write_text("".join(lines), encoding="utf-8")
    con, (loaded, rejects) = _load(workspace, path)
    assert (loaded.rows_read, loaded.rows_rejected, rejects) == (len(lines) - 1, 0, [])
    assert len(con.reads) == 1 and con.reads[0].startswith("INSERT INTO police_street")


def test_rejects_are_found_by_a_narrow_pass_over_the_checks_that_failed(workspace: Workspace, tmp_path: Path) -> None:
    lines = _street_lines()
    header = lines[0].rstrip("\n").split(",")
    crime_type = header.index("Crime type")
    bad = {40: "Burglry", 400: "Arson?", 4000: "Burglry"}  # data row -> planted crime type
    for row, value in bad.items():
        cells = lines[row].rstrip("\n").split(",")
        assert len(cells) == len(header)  # a plain row (no quoted commas) of the real file
        cells[crime_type] = value
        lines[row] = ",".join(cells) + "\n"
    path = tmp_path / "2022-02-bedfordshire-street.csv"
    path.write_text("".join(lines), encoding="utf-8")
    con, (loaded, rejects) = _load(workspace, path)
    assert (loaded.rows_read, loaded.rows_accepted, loaded.rows_rejected) == (len(lines) - 1, len(lines) - 4, 3)
    # line numbers: the header is line 1, so data row k (0-based in ``lines``) is line k + 1
    # each reject carries its record's month ("2022-02" in this file), parsed for the refused rows only
    assert rejects == [(row + 1, "crime_type", "bad_category", "2022-02") for row in sorted(bad)]
    assert len(con.reads) == 2
    narrow = con.reads[1]
    # numbered by the row ids of a table written in file order, on every core (no row_number() window)
    assert narrow.startswith("CREATE TEMP TABLE _record_rejects") and "row_number()" not in narrow
    # only the failing column is trimmed and checked; the month's text passes through for the refused rows' label
    assert '"raw__crime_type"' in narrow and '"raw__month"' not in narrow and "_src_month" in narrow
    for other in ("longitude", "latitude", "lsoa_code", "reported_by", "falls_within"):
        assert f'"raw__{other}"' not in narrow


def test_rejects_keep_their_lines_in_a_file_read_in_parallel_row_groups(workspace: Workspace, tmp_path: Path) -> None:
    """Record numbers from the row ids of the rejects pass stay in file order when DuckDB reads the file in parallel
    and writes many row groups (122,880 rows each): a real month repeated to 300,000 records, rejects planted from
    the first record to the last, a blank line and a record spread over two lines (a quoted line break) between
    them, so the lines DuckDB's record numbers map to are found by the record-start pass."""
    lines = _street_lines()
    header = lines[0]
    body = [line for line in lines[1:] if line.count(",") == header.count(",")]  # rows without quoted commas
    records = [body[i % len(body)] for i in range(300_000)]
    crime_type = header.rstrip("\n").split(",").index("Crime type")
    bad = sorted(
        {0, 1, 122_879, 122_880, 150_001, 245_760, 299_998, 299_999, *random.Random(7).sample(range(300_000), 30)}
    )
    for row in bad:
        cells = records[row].rstrip("\n").split(",")
        cells[crime_type] = "Burglry"
        records[row] = ",".join(cells) + "\n"
    cells = records[200_000].rstrip("\n").split(",")
    cells[crime_type + 2] = '"two\nlines"'  # Context: a quoted value with a line break
    records[200_000] = ",".join(cells) + "\n"
    records.insert(100_000, "\n")  # a blank line: no record
    path = tmp_path / "2022-02-bedfordshire-street.csv"
    path.write_text(header + "".join(records), encoding="utf-8")

    # the file line of each planted record: the header is line 1; after the blank line, one more; after the
    # record on two lines, one more again
    def line_of(row: int) -> int:
        return row + 2 + (row >= 100_000) + (row > 200_000)

    _, (loaded, rejects) = _load(workspace, path)
    assert (loaded.rows_read, loaded.rows_rejected) == (300_000, len(bad))
    assert rejects == [(line_of(row), "crime_type", "bad_category", "2022-02") for row in bad]


def test_narrow_plan_keeps_only_the_named_checks(tmp_path: Path) -> None:
    contract = get_contract("police_street")
    header = _street_lines()[0].rstrip("\n").split(",")
    match = match_header(contract, header)
    path = tmp_path / "street.csv"
    path.write_text(",".join(header) + "\n", encoding="utf-8")
    full = loader._plan(contract, match, path, ",", TODAY)
    narrow = loader._plan(contract, match, path, ",", TODAY, only={("latitude", "bad_coordinates")})
    assert ("latitude", "bad_number") in full.checks and ("crime_type", "bad_category") in full.checks
    assert narrow.checks == [("latitude", "bad_coordinates")]
    # the month is not trimmed or parsed for every record: its text passes through to label the refused rows
    assert [t.rsplit(" AS ", 1)[1] for t in narrow.trimmed] == ['"raw__latitude"', "_src_month"]
    assert "_src_month" in narrow.month_label and '"val__month"' not in narrow.month_label
    assert full.month_label == '"val__month"'
    # a refused month is checked as usual, and labels its rows from its own parsed column
    by_month = loader._plan(contract, match, path, ",", TODAY, only={("month", "bad_date")})
    assert by_month.month_label == '"val__month"' and "_src_month" not in " ".join(by_month.trimmed)


def test_scan_file_sees_mixed_line_endings_across_block_boundaries(tmp_path: Path) -> None:
    block = 1 << 20
    cases = {
        b"a\nb\nc\n": False,
        b"a\r\nb\r\n": False,
        b"a\r\nb\nc\r\n": True,
        b"a\rx\nb\n": False,  # a CR inside a value is not a line ending
        b"x" * (block - 1) + b"\r\nb\r\n": False,  # a CR LF cut by the 1 MB block boundary
        b"x" * (block - 1) + b"\r\nb\n": True,
        b"a\n" * block + b"b\r\n": True,  # LF lines first, a CR LF line in a later block
    }
    for i, (data, mixed) in enumerate(cases.items()):
        path = tmp_path / f"{i}.csv"
        path.write_bytes(data)
        assert scan_file(path).mixed_newlines is mixed, data[-12:]
    path.write_bytes(b"h\na\nb")
    assert scan_file(path).lines == 3


def test_scan_file_counts_lines_and_sees_unicode_spaces_in_any_block(tmp_path: Path) -> None:
    """Lines across 1 MB blocks, and Unicode space separators (whose UTF-8 lead bytes the loader's trimming test
    relies on being absent) wherever they are, found by the same read as the hash."""
    block = 1 << 20
    path = tmp_path / "f.csv"
    for data, lines in ((b"", 0), (b"h\n", 1), (b"h\r\na\r\n", 2), (b"a\n" * block + b"b", block + 1)):
        path.write_bytes(data)
        assert scan_file(path).lines == lines
    for space in ("\xa0", "\u1680", "\u2000", "\u200a", "\u202f", "\u205f", "\u3000"):
        for where in (0, block - 1, block + 5):
            path.write_bytes(b"x" * where + f"a{space},b\n".encode())
            assert scan_file(path).unicode_spaces, (hex(ord(space)), where)
    path.write_bytes("Café,naïve\n".encode() + b"x" * block)  # non-ASCII, but no lead byte of a space
    assert not scan_file(path).unicode_spaces


def _csv_module_starts(path: Path, enough: int, last_byte: int) -> tuple[list[int], list[int], bool]:
    """The csv-module path of ``_record_starts`` (what the vectorised one must agree with)."""
    fast = loader._unquoted_record_starts
    loader._unquoted_record_starts = lambda *_: None
    try:
        return loader._record_starts(path, ",", enough, last_byte)
    finally:
        loader._unquoted_record_starts = fast


def test_record_starts_of_quote_free_files_agree_with_the_csv_module(tmp_path: Path) -> None:
    """Line offsets and record lines of files without quotes (blank lines, CR LF and LF, a last line without a
    newline, lines across the 1 MB block boundary) are those the csv module gives, computed without it."""
    rng = random.Random(11)
    path = tmp_path / "f.csv"
    for _ in range(400):
        cells = ["", "", " ", ",", "a,1", "bb,,2", "x"]
        newline = rng.choice(["\n", "\r\n"])
        body = newline.join(rng.choice(cells) for _ in range(rng.randint(0, 10)))
        text = "h1,h2" + newline + body + (newline if rng.random() < 0.7 else "")
        path.write_bytes(text.encode("utf-8"))
        fast = loader._unquoted_record_starts(path, 10**9, 0)
        assert fast == _csv_module_starts(path, 10**9, 0), repr(text)
    # a CR LF cut by the block boundary, blank lines on both sides of it
    head = "h\n" + "r,1\n" * ((1 << 20) // 4 - 1)
    pad = (1 << 20) - len(head) - 1
    text = head + "x" * pad + "\r\n\r\n" + "\n".join(["r,2", "", "r,3"] * 5000) + "\n"
    path.write_bytes(text.encode("ascii"))
    fast = loader._unquoted_record_starts(path, 10**9, 0)
    assert fast is not None and fast == _csv_module_starts(path, 10**9, 0)
    # bounded: both stop early and agree on what they read
    offsets, starts, complete = loader._unquoted_record_starts(path, 100, 0) or ([], [], True)
    reference = _csv_module_starts(path, 100, 0)
    assert not complete and not reference[2]
    assert starts[: len(reference[1])] == reference[1] and offsets[: len(reference[0])] == reference[0]
    # a quote (or a lone CR) leaves the file to the csv module
    for other in (b'h\n"a\nb",1\n', b"h\na\rb\n"):
        path.write_bytes(other)
        assert loader._unquoted_record_starts(path, 10**9, 0) is None

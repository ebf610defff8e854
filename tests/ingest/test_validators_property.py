"""Property tests of the SQL row validators against independent Python oracles (Hypothesis)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cspkit.ingest.loader import load_file
from cspkit.ingest.readers import InputFile
from cspkit.ingest.validate import column_sql, trimmed_sql
from cspkit.sources.contracts import Column
from cspkit.warehouse.store import connect

TODAY = dt.date(2024, 6, 30)
KEY = bytes(range(32))
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%Y/%m/%d", "%d-%m-%Y")

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def _evaluate(con: duckdb.DuckDBPyConnection, column: Column, values: list[str]) -> list[tuple[object, list[str]]]:
    """(parsed value, reasons of the failing checks) of each value, computed by the validator SQL."""
    csql = column_sql(column, "v", f"DATE '{TODAY.isoformat()}'")
    reasons = ", ".join(f"CASE WHEN {cond} THEN '{reason}' END" for cond, reason in csql.checks) or "NULL"
    rows = con.execute(
        f"SELECT i, {csql.parsed}, list_filter([{reasons}], lambda x: x IS NOT NULL) "
        "FROM (SELECT unnest(?) AS v, generate_subscripts(?, 1) AS i) ORDER BY i",
        [values, values],
    ).fetchall()
    return [(parsed, list(reason)) for _, parsed, reason in rows]


def _duck_trim(text: str) -> str:
    """What DuckDB's trim() removes: Unicode space separators (category Zs), not tabs or line breaks."""
    start, end = 0, len(text)
    while start < end and unicodedata.category(text[start]) == "Zs":
        start += 1
    while end > start and unicodedata.category(text[end - 1]) == "Zs":
        end -= 1
    return text[start:end]


def _python_date(text: str) -> dt.date | None:
    """Python's strptime in the supported formats, on the trimmed text (the validator trims too).

    Python's ``%d`` and ``%m`` also accept a space before a single digit ("2022-01- 5"); cspkit does not, so
    strings with inner whitespace are excluded from the oracle.
    """
    text = _duck_trim(text)
    if not text or any(ch.isspace() for ch in text) or not text.isascii():
        return None
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


_digits = st.text("0123456789", min_size=1, max_size=5)
_sep = st.sampled_from(["-", "/", ".", " ", ""])
date_like = st.builds(lambda a, s1, b, s2, c: f"{a}{s1}{b}{s2}{c}", _digits, _sep, _digits, _sep, _digits)
real_dates = st.builds(
    lambda d, fmt: d.strftime(fmt), st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)), st.sampled_from(DATE_FORMATS)
)
any_text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=14)
#: Blanks DuckDB trims (space separators) and does not (tab, carriage return), found by earlier runs.
spaces = st.sampled_from(["\xa0", "\r", "\t", "\u3000E01000001\xa0", " yes\u2009", "\u200301/02/2022 "])
date_strings = st.one_of(date_like, real_dates, any_text, spaces)


@SETTINGS
@given(st.lists(date_strings, min_size=1, max_size=40))
def test_date_parser_accepts_exactly_what_python_strptime_accepts(
    con: duckdb.DuckDBPyConnection, values: list[str]
) -> None:
    """For any string, the SQL date parser gives the date Python's strptime gives (or rejects as bad_date)."""
    column = Column("offence_date", "date", required=True)
    for value, (parsed, reasons) in zip(values, _evaluate(con, column, values), strict=True):
        expected = _python_date(value)
        if not _duck_trim(value):
            assert parsed is None and reasons == ["missing_value"], value
        elif expected is None:
            assert parsed is None and "bad_date" in reasons, value
        else:
            assert parsed == expected, value
            assert ("future_date" in reasons) == (expected > TODAY), value
            assert "bad_date" not in reasons, value


#: Text with spaces, tabs, control characters or Unicode spaces at either end (or neither), ASCII or not.
_ends = st.sampled_from(["", "", "", " ", "  ", "\t", "\r", "\x01", "\xa0", "\u2009", "\u3000", " \xa0"])
padded = st.builds(
    lambda a, t, b: a + t + b, _ends, st.one_of(any_text, st.text(st.characters(codec="ascii"), max_size=10)), _ends
)


@SETTINGS
@given(st.lists(st.one_of(padded, any_text, spaces), min_size=1, max_size=40))
def test_trimmed_text_is_duckdbs_trim(con: duckdb.DuckDBPyConnection, values: list[str]) -> None:
    """The trimmed text is what trim() gives (NULL when blank), though trim runs only where the cheap test says it
    may change the value; without Unicode spaces in the file (``unicode_spaces=False``) the ASCII test suffices."""
    full, ascii_only = trimmed_sql("v"), trimmed_sql("v", unicode_spaces=False)
    rows = con.execute(
        f"SELECT {full}, {ascii_only} FROM (SELECT unnest(?) AS v, generate_subscripts(?, 1) AS i) ORDER BY i",
        [values, values],
    ).fetchall()
    for value, (trimmed, trimmed_ascii) in zip(values, rows, strict=True):
        assert trimmed == (_duck_trim(value) or None), value
        if not any(lead in value.encode() for lead in (b"\xc2", b"\xe1", b"\xe2", b"\xe3")):
            assert trimmed_ascii == trimmed, value


month_like = st.builds(
    lambda y, m: f"{y}-{m}",
    st.text("0123456789", min_size=3, max_size=5),
    st.text("0123456789", min_size=1, max_size=3),
)


@SETTINGS
@given(st.lists(st.one_of(month_like, any_text, spaces), min_size=1, max_size=40))
def test_month_parser_accepts_exactly_year_dash_month(con: duckdb.DuckDBPyConnection, values: list[str]) -> None:
    """A month is four digits, a dash and 01-12 (after trimming); one after today's month is in the future."""
    for value, (parsed, reasons) in zip(values, _evaluate(con, Column("month", "month"), values), strict=True):
        text = _duck_trim(value)
        valid = re.fullmatch(r"[0-9]{4}-(0[1-9]|1[0-2])", text) is not None
        if not text:
            assert parsed is None and reasons == ["missing_value"], value
        elif not valid:
            assert parsed is None and reasons == ["bad_date"], value
        else:
            assert parsed == text, value
            assert reasons == (["future_date"] if text > TODAY.strftime("%Y-%m") else []), value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("01/02/2022", dt.date(2022, 2, 1)),  # UK order: day first
        ("1/2/2022", dt.date(2022, 2, 1)),
        ("31/12/2022", dt.date(2022, 12, 31)),
        ("12/31/2022", None),  # US order is never guessed
        ("01/02/22", None),  # two-digit year: DuckDB alone would read it as the year 22
        ("22-01-05", None),
        ("0000-01-01", None),  # DuckDB alone would read 1 BC
        ("2022-02-29", None),
        ("2024-02-29", dt.date(2024, 2, 29)),
    ],
)
def test_date_parser_examples(con: duckdb.DuckDBPyConnection, text: str, expected: dt.date | None) -> None:
    """Hand-picked dates: day-first UK order, no US order, no two-digit years, real calendar days only."""
    [(parsed, reasons)] = _evaluate(con, Column("d", "date"), [text])
    assert parsed == expected
    assert (reasons == ["bad_date"]) == (expected is None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2022-03-04 10:30", dt.datetime(2022, 3, 4, 10, 30)),
        ("04/03/2022 10:30:15", dt.datetime(2022, 3, 4, 10, 30, 15)),
        ("2022-03-04T10:30", dt.datetime(2022, 3, 4, 10, 30)),
        ("04/03/2022", dt.datetime(2022, 3, 4)),
        ("04/03/22 10:30", None),
        ("2022-03-04 25:00", None),
    ],
)
def test_datetime_parser_examples(con: duckdb.DuckDBPyConnection, text: str, expected: dt.datetime | None) -> None:
    """Date-times: ISO or UK day-first, with an optional time; two-digit years are refused."""
    [(parsed, reasons)] = _evaluate(con, Column("reported_at", "datetime"), [text])
    assert parsed == expected
    assert (reasons == ["bad_date"]) == (expected is None)


LSOA_RE = re.compile(r"[EW]01\d{6}")
lsoa_like = st.builds(
    lambda a, b, c: a + b + c,
    st.sampled_from(["E", "W", "S", "e", "w", "X", ""]),
    st.sampled_from(["01", "02", "1", "010", ""]),
    st.text("0123456789", max_size=8),
)


@SETTINGS
@given(st.lists(st.one_of(lsoa_like, any_text, spaces), min_size=1, max_size=40))
def test_lsoa_check_equals_the_regex(con: duckdb.DuckDBPyConnection, values: list[str]) -> None:
    """A value passes the LSOA check exactly when its trimmed, upper-cased text matches [EW]01 + 6 digits."""
    for value, (parsed, reasons) in zip(values, _evaluate(con, Column("lsoa_code", "lsoa"), values), strict=True):
        text = _duck_trim(value)
        if not text:
            assert parsed is None and reasons == []
            continue
        # DuckDB's upper and regex \d are ASCII-minded for these; Python's are Unicode-minded, so compare on ASCII.
        valid = text.isascii() and LSOA_RE.fullmatch(text.upper()) is not None
        assert (reasons == []) == valid, value
        if valid:
            assert parsed == text.upper()


TRUE = {"yes", "y", "true", "t", "1"}
FALSE = {"no", "n", "false", "f", "0"}
bool_like = st.builds(
    lambda word, case: word.upper() if case == "upper" else word.title() if case == "title" else word,
    st.sampled_from(sorted(TRUE | FALSE | {"ja", "2", "yes please", "nope"})),
    st.sampled_from(["lower", "upper", "title"]),
)


@SETTINGS
@given(st.lists(st.one_of(bool_like, st.text("YyNnTtFf01 ", max_size=4), any_text, spaces), min_size=1, max_size=40))
def test_bool_parser(con: duckdb.DuckDBPyConnection, values: list[str]) -> None:
    """yes/y/true/t/1 are true and no/n/false/f/0 false in any case; anything else non-blank is bad_bool."""
    for value, (parsed, reasons) in zip(values, _evaluate(con, Column("vulnerable", "bool"), values), strict=True):
        text = _duck_trim(value)
        if not text:
            assert parsed is None and reasons == [], value
        elif text.isascii() and text.lower() in TRUE:
            assert parsed is True and reasons == [], value
        elif text.isascii() and text.lower() in FALSE:
            assert parsed is False and reasons == [], value
        elif text.isascii():
            assert parsed is None and reasons == ["bad_bool"], value


cell = st.one_of(
    st.sampled_from(["A1", "A1", "2022-01-05", "05/01/2022", "12/31/2022", "personal", "nuisance", "x", ""]),
    st.text(st.characters(codec="utf-8", exclude_characters="\x00\r\n"), max_size=8),
)
row = st.lists(cell, min_size=1, max_size=5)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(st.lists(row, min_size=1, max_size=30))
def test_no_row_is_ever_lost(tmp_path: Path, rows: list[list[str]]) -> None:
    """For random CSV content under the asb_incidents header, rows read = accepted + rejected = data records,
    and the warehouse holds exactly the accepted rows and the rejects table exactly the rejected ones."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["incident_ref", "reported_at", "category"])
    writer.writerows(rows)
    path = tmp_path / "random.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    records = len(rows)
    con = connect(Path(":memory:"))
    try:
        result = load_file(
            con, InputFile(path, "random.csv"), key=KEY, scratch=tmp_path, source="asb_incidents", today=TODAY
        )
        stored = con.execute("SELECT count(*) FROM asb_incidents").fetchall()[0][0]
        rejected = con.execute("SELECT count(*) FROM rejects").fetchall()[0][0]
    finally:
        con.close()
    assert result.rows_read == records
    assert result.rows_read == result.rows_accepted + result.rows_rejected
    assert (stored, rejected) == (result.rows_accepted, result.rows_rejected)

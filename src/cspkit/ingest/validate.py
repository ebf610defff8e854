"""Row validation as SQL: each column kind has a parser and a check, run by DuckDB over the whole file.

Validation is data, not exceptions: every row gets at most one reject reason (the first failing column in
contract order) with a reason code, and the message names the column, the value (masked when personal, else only
its shape, such as "99/99/9999") and what was expected. Reason codes:

=================  =====================================================================
missing_value      a required value is blank
bad_date           not a date in YYYY-MM-DD or DD/MM/YYYY (or YYYY-MM for a month)
future_date        a date after today where a date in the past is expected
bad_category       not one of the allowed values
bad_lsoa           not an LSOA code (E01 or W01 followed by 6 digits)
bad_area_code      not a 9-character ONS area code
bad_number         not a number
out_of_range       a number outside the allowed range
bad_coordinates    longitude/latitude outside the United Kingdom
bad_bool           not yes/no, true/false, y/n or 1/0
bad_year           not a year (2023) or financial year (2023-24)
duplicate_ref      the same reference appears earlier in the file
malformed_row      the line could not be parsed (wrong number of fields, bad quoting)
=================  =====================================================================
"""

from __future__ import annotations

from dataclasses import dataclass

from cspkit.privacy.generalise import SCREENING_REASONS
from cspkit.sources.contracts import Column
from cspkit.sql import sql_str

__all__ = ["REASONS", "ColumnSql", "column_sql"]

REASONS = {
    "missing_value": "a value is required",
    "bad_date": "expected a date as YYYY-MM-DD or DD/MM/YYYY",
    "future_date": "the date is in the future",
    "bad_category": "expected one of the allowed values",
    "bad_lsoa": "expected an LSOA code: E01 or W01 followed by 6 digits",
    "bad_area_code": "expected a 9-character ONS area code such as E05012345",
    "bad_number": "expected a number",
    "out_of_range": "the number is outside the allowed range",
    "bad_coordinates": "the coordinates are outside the United Kingdom",
    "bad_bool": "expected yes/no, true/false, y/n or 1/0",
    "bad_year": "expected a year such as 2023 or a financial year such as 2023-24",
    "duplicate_ref": "the same reference appears earlier in this file",
    "malformed_row": "the line could not be read as a row of this file",
    **SCREENING_REASONS,
}

# The United Kingdom with a margin (Scilly to Shetland, Northern Ireland to Lowestoft).
UK_LON = (-8.7, 1.9)
UK_LAT = (49.8, 60.95)

_DATE_FORMATS = "['%Y-%m-%d', '%d/%m/%Y', '%Y/%m/%d', '%d-%m-%Y']"
_DATETIME_FORMATS = (
    "['%Y-%m-%d %H:%M:%S', '%Y-%m-%d %H:%M', '%Y-%m-%dT%H:%M:%S', '%Y-%m-%dT%H:%M', "
    "'%d/%m/%Y %H:%M:%S', '%d/%m/%Y %H:%M', '%Y-%m-%d', '%d/%m/%Y', '%Y/%m/%d', '%d-%m-%Y']"
)

# DuckDB's %Y reads one to four digits ("01/02/22" would be 1 February of the year 22) and year 0000 (1 BC):
# a date must have a four-digit year, as in Python's strptime, before it is parsed. Day and month have at most two
# digits, so "0000" can only be the year.
_DATE_SHAPE = "(\\d{4}[-/]\\d{1,2}[-/]\\d{1,2}|\\d{1,2}[-/]\\d{1,2}[-/]\\d{4})([ T]\\d{1,2}:\\d{1,2}(:\\d{1,2})?)?"

#: Common spellings mapped onto allowed values.
VALUE_ALIASES = {"female": "f", "male": "m", "in_progress": "on_track", "completed": "complete"}


def _norm_value_sql(raw: str) -> str:
    """Lower-case, trim, and join words with underscores: 'On Track' -> 'on_track'."""
    return f"regexp_replace(lower(trim({raw})), '[\\s\\-]+', '_', 'g')"


def _norm_value(value: str) -> str:
    import re

    return re.sub(r"[\s\-]+", "_", value.strip().lower())


@dataclass(frozen=True)
class ColumnSql:
    """The SQL for one column.

    Attributes:
        raw: Expression of the trimmed raw text (NULL when blank), over the source text.
        parsed: Expression of the parsed value (NULL when blank or invalid), over the trimmed text.
        checks: (condition, reason code) pairs, in order; a true condition rejects the row.
    """

    column: Column
    raw: str
    parsed: str
    checks: list[tuple[str, str]]


def trimmed_sql(source_expr: str, *, unicode_spaces: bool = True) -> str:
    """The text with surrounding spaces removed, NULL when blank.

    Only values that may need it are trimmed: ``trim`` copies every value it touches, and nearly every value has
    no surrounding space, so it passes through as it is. The test is cheap because most of it compares the value
    with a constant, which DuckDB does on the value's inlined 4-byte prefix: ``< '!'`` holds for a blank value and
    for one whose first byte is a space (or a control character: trim keeps it, so such a value comes out of the
    trim branch as it went in). Only the last byte is looked up (``ends_with``).

    ``unicode_spaces``: whether the file may hold a Unicode space separator other than U+0020 (see
    :class:`cspkit.ingest.readers.FileScan`); trim removes those too. Then a value whose first character is not
    ASCII (``>= chr(128)``) takes the trim branch, and so does one whose last character is a Unicode space (tested
    only for values with a non-ASCII character: ``strlen`` counts bytes, ``length`` characters).
    """
    src = source_expr
    needs = f"{src} < '!' OR ends_with({src}, ' ')"
    if unicode_spaces:
        needs += f" OR {src} >= chr(128) OR (strlen({src}) <> length({src}) AND regexp_matches({src}, '\\p{{Zs}}$'))"
    return f"CASE WHEN {needs} THEN NULLIF(trim({src}), '') ELSE {src} END"


def column_sql(
    column: Column,
    source_expr: str,
    today_sql: str,
    *,
    raw_ref: str | None = None,
    parsed_ref: str | None = None,
    unicode_spaces: bool = True,
) -> ColumnSql:
    """Parser and checks of one column, reading the text expression ``source_expr``.

    Layered use (how the loader streams a file once): select ``raw`` as a column of one layer, then ``parsed`` over
    it in the next (pass the first column's name as ``raw_ref``), then the checks over both (``raw_ref`` and
    ``parsed_ref``), so each value is trimmed and parsed once however many checks read it. Without the refs every
    expression is written in full over ``source_expr``. ``unicode_spaces``: see :func:`trimmed_sql`.
    """
    raw = trimmed_sql(source_expr, unicode_spaces=unicode_spaces)
    r = raw_ref or raw
    checks: list[tuple[str, str]] = []
    if (column.required and not column.blank_ok) or column.name in ("month",):
        checks.append((f"{r} IS NULL", "missing_value"))
    kind = column.kind
    parsed = r
    if kind in ("date", "datetime", "dob"):
        formats = _DATETIME_FORMATS if kind == "datetime" else _DATE_FORMATS
        shaped = f"regexp_full_match({r}, '{_DATE_SHAPE}') AND strpos({r}, '0000') = 0"
        parsed = f"CASE WHEN {shaped} THEN try_strptime({r}, {formats}) END"
        if kind == "date":
            parsed = f"CAST({parsed} AS DATE)"
        if kind != "dob":  # an unreadable date of birth becomes a missing token, not a lost incident
            checks.append((f"{r} IS NOT NULL AND {parsed} IS NULL", "bad_date"))
            if not column.future_ok:
                checks.append((f"{parsed} > {today_sql}", "future_date"))
    elif kind == "month":
        # one regular expression decides a month (no date parsing), and 'YYYY-MM' texts compare as their months
        parsed = f"CASE WHEN regexp_full_match({r}, '\\d{{4}}-(0[1-9]|1[0-2])') THEN {r} END"
        checks.append((f"{r} IS NOT NULL AND {parsed} IS NULL", "bad_date"))
        checks.append((f"{parsed} > strftime({today_sql}, '%Y-%m')", "future_date"))
    elif kind == "year":
        parsed = f"CASE WHEN regexp_full_match({r}, '\\d{{4}}([-/]\\d{{2}})?') THEN replace({r}, '/', '-') END"
        checks.append((f"{r} IS NOT NULL AND {parsed} IS NULL", "bad_year"))
    elif kind == "category":
        norm = _norm_value_sql(r)
        cases = [f"WHEN {sql_str(_norm_value(v))} THEN {sql_str(v)}" for v in column.allowed]
        cases += [f"WHEN {sql_str(a)} THEN {sql_str(v)}" for a, v in VALUE_ALIASES.items() if v in column.allowed]
        # A value written exactly as allowed (every row of a data.police.uk file) skips the regex normalisation.
        first: dict[str, str] = {}
        for v in column.allowed:
            first.setdefault(_norm_value(v), v)  # CASE takes the first allowed value of each normal form
        exact = " ".join(f"WHEN {sql_str(v)} THEN {sql_str(first[_norm_value(v)])}" for v in column.allowed)
        parsed = f"CASE {r} {exact} ELSE CASE {norm} {' '.join(cases)} END END"
        checks.append((f"{r} IS NOT NULL AND {parsed} IS NULL", "bad_category"))
    elif kind == "list":
        allowed = "[" + ", ".join(sql_str(_norm_value(v)) for v in column.allowed) + "]"
        normalised = f"list_transform(string_split({r}, ';'), lambda x: {_norm_value_sql('x')})"
        items = f"list_filter({normalised}, lambda x: x <> '')"
        parsed = items
        checks.append(
            (
                f"{r} IS NOT NULL AND len(list_filter({items}, lambda x: NOT list_contains({allowed}, x))) > 0",
                "bad_category",
            )
        )
    elif kind == "lsoa":
        parsed = f"upper({r})"
        checks.append((f"{r} IS NOT NULL AND NOT regexp_full_match(upper({r}), '[EW]01\\d{{6}}')", "bad_lsoa"))
    elif kind == "area":
        parsed = f"upper({r})"
        checks.append((f"{r} IS NOT NULL AND NOT regexp_full_match(upper({r}), '[EWSN]\\d{{8}}')", "bad_area_code"))
    elif kind in ("int", "float", "longitude", "latitude"):
        text = r
        if kind == "float" and column.maximum is not None and column.maximum <= 1:
            # a share may be written as a percentage: "35%" -> 0.35
            share = f"CAST(try_cast(rtrim({r}, '%') AS DOUBLE) / 100 AS VARCHAR)"
            text = f"CASE WHEN {r} LIKE '%\\%' ESCAPE '\\' THEN {share} ELSE {r} END"
        sql_type = "BIGINT" if kind == "int" else "DOUBLE"
        parsed = f"try_cast(replace({text}, ',', '') AS {sql_type})" if kind == "int" else f"try_cast({text} AS DOUBLE)"
        checks.append((f"{r} IS NOT NULL AND {parsed} IS NULL", "bad_number"))
        if kind == "longitude":
            checks.append((f"{parsed} NOT BETWEEN {UK_LON[0]} AND {UK_LON[1]}", "bad_coordinates"))
        elif kind == "latitude":
            checks.append((f"{parsed} NOT BETWEEN {UK_LAT[0]} AND {UK_LAT[1]}", "bad_coordinates"))
        else:
            if column.minimum is not None:
                checks.append((f"{parsed} < {column.minimum}", "out_of_range"))
            if column.maximum is not None:
                checks.append((f"{parsed} > {column.maximum}", "out_of_range"))
    elif kind == "bool":
        low = f"lower({r})"
        parsed = (
            f"CASE WHEN {low} IN ('yes', 'y', 'true', 't', '1') THEN true "
            f"WHEN {low} IN ('no', 'n', 'false', 'f', '0') THEN false END"
        )
        checks.append((f"{r} IS NOT NULL AND {parsed} IS NULL", "bad_bool"))
    if parsed_ref is not None and parsed != r:
        # checks read the parsed value from the layer below rather than parsing it again
        checks = [(condition.replace(parsed, parsed_ref), reason) for condition, reason in checks]
    return ColumnSql(column, raw, parsed, checks)


def allowed_hint(column: Column) -> str:
    """Text naming what a column expects, for messages and docs."""
    if column.allowed:
        shown = ", ".join(column.allowed[:8]) + (" ..." if len(column.allowed) > 8 else "")
        return f"one of: {shown}"
    return ""

"""Loading one file into the warehouse: read, validate, pseudonymise, and write in a single transaction.

The whole file is read by DuckDB (all columns as text), every row is checked in SQL, accepted rows are written
with personal columns replaced by keyed pseudonyms, and rejected rows go to ``rejects`` with their line, column,
reason code and a masked value. Rows read = rows accepted + rows rejected, always. A file whose content was loaded
before is a no-op; a corrected file for the same source, agency and months replaces those rows in the same
transaction; a process killed mid-load leaves the warehouse as it was before that file.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from cspkit.errors import InputFileError, SourceError
from cspkit.ingest.readers import InputFile, file_hash, sniff_text, transcode_to_utf8, xlsx_to_csv
from cspkit.ingest.validate import REASONS, column_sql, quote_ident, sql_str
from cspkit.privacy.pseudonymise import identity_tokens_sql, pseudonym_sql, ref_namespace
from cspkit.sources import HeaderMatch, detect_source, get_contract, match_header, require_complete
from cspkit.sources.contracts import Contract
from cspkit.warehouse.schema import key_column, person_prefix, stored_columns

__all__ = ["LoadResult", "load_file"]


@dataclass
class LoadResult:
    """What happened to one file."""

    display: str
    source: str
    agency: str
    status: str  # "loaded" | "unchanged" (same content loaded before)
    rows_read: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    rows_replaced: int = 0
    months: list[str] = field(default_factory=list)
    aliases_applied: dict[str, str] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    rejects_by_reason: dict[str, int] = field(default_factory=dict)
    encoding: str = "utf-8"
    file_id: int | None = None

    def to_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def _agency_slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.strip().lower()).strip("-")
    if not slug:
        raise SourceError(f"Agency name {text!r} has no letters or digits.")
    return slug


def _prepare_text(item: InputFile, scratch: Path, sheet: str | None) -> tuple[Path, str, str, list[str]]:
    """Return (UTF-8 CSV path, encoding found, delimiter, header) for any supported input file."""
    path = item.path
    if item.suffix == ".xlsx":
        path = xlsx_to_csv(path, item.display, scratch / (path.stem + ".xlsx.csv"), sheet)
    elif item.suffix == ".parquet":
        target = scratch / (path.stem + ".parquet.csv")
        try:
            source_sql = f"SELECT * FROM read_parquet({sql_str(str(path))})"
            duckdb.sql(f"COPY ({source_sql}) TO {sql_str(str(target))} (HEADER, DELIMITER ',')")
        except duckdb.Error as exc:
            raise InputFileError(f"{item.display}: not a readable Parquet file ({str(exc).splitlines()[0]}).") from None
        path = target
    fmt = sniff_text(path, item.display)
    if fmt.encoding == "cp1252":
        path = transcode_to_utf8(path, scratch / (path.name + ".utf8.csv"))
    return path, fmt.encoding, fmt.delimiter, fmt.header


def _legacy_to_current(path: Path, delimiter: str, match: HeaderMatch, scratch: Path) -> Path:
    """Rewrite a 2011-12 data.police.uk file (Easting/Northing, OSGB36) with longitude/latitude columns."""
    import csv

    from pyproj import Transformer

    to_wgs84 = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    target = scratch / (path.name + ".lonlat.csv")
    with (
        path.open(encoding="utf-8-sig", newline="") as src,
        target.open("w", encoding="utf-8", newline="") as dst,
    ):
        reader = csv.reader(src, delimiter=delimiter)
        header = next(reader)
        e_idx = header.index(match.mapping["easting"])
        n_idx = header.index(match.mapping["northing"])
        writer = csv.writer(dst)
        writer.writerow([*header, "Longitude", "Latitude"])
        for row in reader:
            lon = lat = ""
            try:
                e, n = float(row[e_idx]), float(row[n_idx])
                x, y = to_wgs84.transform(e, n)
                lon, lat = f"{x:.6f}", f"{y:.6f}"
            except (ValueError, IndexError):
                pass  # no location: stays blank, counted as rows without location
            writer.writerow([*row, lon, lat])
    return target


def _mask_sql(raw: str, personal: bool) -> str:
    """What a reject keeps of the offending value: masked when personal, else its shape.

    A rejected value is by definition not what the column expects, and often it is something else misplaced (a
    name in the category column, a date of birth in a date column, a postcode as the LSOA), so even a value of a
    non-personal column is kept only as its shape: digits become 9, letters A or a, punctuation stays
    ("12/31/2022" -> "99/99/9999", "Jo Bloggs" -> "Aa Aaaaaa"), at most 40 characters.
    """
    if personal:
        masked = f"left({raw}, 1) || '*** (' || length({raw}) || ' chars)'"
        return f"CASE WHEN {raw} IS NULL THEN '(blank)' ELSE {masked} END"
    shape = f"regexp_replace(left({raw}, 40), '\\p{{M}}', '', 'g')"
    shape = f"regexp_replace({shape}, '\\p{{N}}', '9', 'g')"
    shape = f"regexp_replace({shape}, '[\\p{{Ll}}\\p{{Lm}}\\p{{Lo}}]', 'a', 'g')"
    shape = f"regexp_replace({shape}, '[\\p{{Lu}}\\p{{Lt}}]', 'A', 'g')"
    more = f"CASE WHEN length({raw}) > 40 THEN ' ... (' || length({raw}) || ' chars)' ELSE '' END"
    return f"CASE WHEN {raw} IS NULL THEN '(blank)' ELSE {shape} || {more} END"


def load_file(
    con: duckdb.DuckDBPyConnection,
    item: InputFile,
    *,
    key: bytes,
    scratch: Path,
    source: str | None = None,
    agency: str | None = None,
    sheet: str | None = None,
    today: dt.date | None = None,
) -> LoadResult:
    """Load one file into the warehouse in a single transaction.

    Raises:
        InputFileError: The whole file is refused (unreadable, missing columns, empty); nothing was written.
        SourceError: The source is unknown or cannot be detected from the header.
    """
    today = today or dt.date.today()
    path, encoding, delimiter, header = _prepare_text(item, scratch, sheet)
    if source:
        contract = get_contract(source)
        match = match_header(contract, header)
    else:
        match = detect_source(header, item.display)
        contract = match.contract
    require_complete(match, header, item.display)
    if match.legacy:
        path = _legacy_to_current(path, delimiter, match, scratch)
        delimiter = ","
        match = match_header(contract, [*header, "Longitude", "Latitude"])
    agency_name = _agency_slug(agency or item.force or contract.default_agency)
    content_hash = file_hash(item.path)
    result = LoadResult(
        item.display,
        contract.name,
        agency_name,
        "loaded",
        aliases_applied=match.aliases_applied,
        ignored_columns=match.ignored,
        encoding=encoding,
    )
    seen = con.execute(
        "SELECT file_id, rows_read, rows_accepted, rows_rejected, months FROM ingest_log "
        "WHERE content_hash = ? AND source = ? AND agency = ? AND active",
        [content_hash, contract.name, agency_name],
    ).fetchall()
    if seen:
        fid, read, accepted, rejected, months = seen[0]
        result.status = "unchanged"
        result.file_id, result.rows_read, result.rows_accepted, result.rows_rejected = (
            fid,
            read,
            accepted,
            rejected,
        )
        result.months = list(months or [])
        return result

    _read_checked(con, contract, match, path, delimiter, today, item.display)
    _write(con, contract, match, result, key=key, content_hash=content_hash, delimiter=delimiter)
    return result


def _read_checked(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    match: HeaderMatch,
    path: Path,
    delimiter: str,
    today: dt.date,
    display: str,
) -> None:
    """Read the file into temp table ``_checked``: raw and parsed values and the first reject reason per row."""
    con.execute("DROP TABLE IF EXISTS _checked")
    con.execute("DROP TABLE IF EXISTS _reader_errors")
    con.execute("DROP TABLE IF EXISTS _reader_scans")
    today_sql = f"DATE {sql_str(today.isoformat())}"
    selects = ["_row"]
    reason_cases: list[str] = []
    for col in contract.columns:
        if col.name not in match.mapping:
            continue
        csql = column_sql(col, f"src.{quote_ident(match.mapping[col.name])}", today_sql)
        selects.append(f"{csql.raw} AS {quote_ident('raw__' + col.name)}")
        selects.append(f"{csql.parsed} AS {quote_ident('val__' + col.name)}")
        for condition, reason in csql.checks:
            reason_cases.append(
                f"WHEN {condition} THEN {{'column': {sql_str(col.name)}, 'reason': {sql_str(reason)}, "
                f"'value': {_mask_sql(csql.raw, col.personal)}}}"
            )
    if contract.unique_column and contract.unique_column in match.mapping:
        raw = f"NULLIF(trim(src.{quote_ident(match.mapping[contract.unique_column])}), '')"
        dup = f"{raw} IS NOT NULL AND row_number() OVER (PARTITION BY {raw} ORDER BY _row) > 1"
        col = contract.column(contract.unique_column)
        reason_cases.append(
            f"WHEN {dup} THEN {{'column': {sql_str(col.name)}, 'reason': 'duplicate_ref', "
            f"'value': {_mask_sql(raw, col.personal)}}}"
        )
    reject = f"CASE {' '.join(reason_cases)} END" if reason_cases else "NULL"
    selects.append(f"{reject} AS _reject")
    reader = (
        f"read_csv({sql_str(str(path))}, header = true, all_varchar = true, delim = {sql_str(delimiter)}, "
        "quote = '\"', escape = '\"', auto_detect = false, "
        f"columns = {_columns_struct(path, delimiter)}, "
        "store_rejects = true, rejects_table = '_reader_errors', rejects_scan = '_reader_scans', "
        "max_line_size = 1048576)"
    )
    sql = (
        f"CREATE TEMP TABLE _checked AS SELECT {', '.join(selects)} "
        f"FROM (SELECT row_number() OVER () AS _row, * FROM {reader}) AS src"
    )
    try:
        con.execute(sql)
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0]
        raise InputFileError(f"{display}: the file could not be read as CSV ({first}). Nothing was loaded.") from None


def _columns_struct(path: Path, delimiter: str) -> str:
    """The header as a DuckDB ``columns`` struct, every column VARCHAR (names as written, de-duplicated)."""
    import csv

    with path.open(encoding="utf-8-sig", newline="") as fh:
        header = next(csv.reader(fh, delimiter=delimiter))
    names: list[str] = []
    for h in header:
        name = h.strip() or f"column{len(names) + 1}"
        while name in names:
            name += "_"
        names.append(name)
    return "{" + ", ".join(f"{sql_str(n)}: 'VARCHAR'" for n in names) + "}"


def _stored_exprs(contract: Contract, match: HeaderMatch, key: bytes, agency: str) -> list[tuple[str, str]]:
    """(stored column, SQL expression over ``_checked``) for the accepted rows."""
    exprs: list[tuple[str, str]] = []
    persons: dict[str, dict[str, str]] = {}
    for col in contract.columns:
        present = col.name in match.mapping
        raw = quote_ident("raw__" + col.name)
        val = quote_ident("val__" + col.name)
        if col.kind == "ref":
            ns = ref_namespace(agency, col.name)
            exprs.append((key_column(col), pseudonym_sql(key, ns, raw) if present else "NULL"))
        elif col.kind == "case_ref":
            # Case references are shared between agencies (a joint case keeps one reference), so they are
            # namespaced by column only: the same incident reported to two agencies stays one incident.
            ns = ref_namespace("all-agencies", col.name)
            exprs.append((key_column(col), pseudonym_sql(key, ns, raw) if present else "NULL"))
        elif col.kind in ("name", "dob", "postcode"):
            persons.setdefault(person_prefix(col), {})[col.kind] = raw if present else "NULL::VARCHAR"
        else:
            exprs.append((col.name, val if present else "NULL"))
            if col.kind == "datetime":
                has_time = f"({raw} IS NOT NULL AND regexp_matches({raw}, '\\d{{1,2}}:\\d{{2}}'))"
                exprs.append((f"{col.name}_has_time", has_time if present else "NULL"))
    for person, kinds in persons.items():
        exprs += identity_tokens_sql(
            key,
            person,
            name_sql=kinds.get("name"),
            dob_sql=kinds.get("dob"),
            postcode_sql=kinds.get("postcode"),
        )
    return exprs


def _month_expr(contract: Contract, match: HeaderMatch) -> str:
    if contract.month_column is None or contract.month_column not in match.mapping:
        return "NULL::VARCHAR"
    col = contract.column(contract.month_column)
    val = quote_ident("val__" + col.name)
    return val if col.kind == "month" else f"strftime({val}, '%Y-%m')"


def _write(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    match: HeaderMatch,
    result: LoadResult,
    *,
    key: bytes,
    content_hash: str,
    delimiter: str,
) -> None:
    table = contract.name
    stored = dict(_stored_exprs(contract, match, key, result.agency))
    names = [n for n, _ in stored_columns(contract) if not n.startswith("_")]
    month = _month_expr(contract, match)
    counts = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE _reject IS NULL), "
        f"list_sort(list(DISTINCT {month}) FILTER (WHERE _reject IS NULL AND {month} IS NOT NULL)) "
        "FROM _checked"
    ).fetchall()[0]
    reader_errors = con.execute("SELECT count(DISTINCT line) FROM _reader_errors").fetchall()[0][0]
    result.rows_read = int(counts[0]) + int(reader_errors)
    result.rows_accepted = int(counts[1])
    result.rows_rejected = result.rows_read - result.rows_accepted
    result.months = list(counts[2] or [])
    if result.rows_read == 0:
        raise InputFileError(f"{result.display}: the file has a header but no data rows; nothing was loaded.")

    con.execute("BEGIN TRANSACTION")
    try:
        file_id = con.execute("SELECT nextval('file_id_seq')").fetchall()[0][0]
        result.file_id = int(file_id)
        replaced = _delete_replaced(con, contract, result, stored)
        result.rows_replaced = replaced
        cols = ", ".join([*(quote_ident(n) for n in names), "_file_id", "_agency", "_month"])
        exprs = ", ".join([*(stored[n] for n in names), str(file_id), sql_str(result.agency), month])
        con.execute(f"INSERT INTO {table} ({cols}) SELECT {exprs} FROM _checked WHERE _reject IS NULL")
        con.execute(
            "INSERT INTO rejects SELECT ?, ?, ?, ?, _row + 1, _reject.column, _reject.reason, "
            f"{_message_sql()}, _reject.value FROM _checked WHERE _reject IS NOT NULL",
            [file_id, table, result.agency, result.display],
        )
        con.execute(
            "INSERT INTO rejects SELECT ?, ?, ?, ?, line, coalesce(column_name, ''), 'malformed_row', "
            "'line ' || line || ': ' || left(error_message, 160), '(not kept)' "
            "FROM (SELECT DISTINCT ON (line) * FROM _reader_errors ORDER BY line)",
            [file_id, table, result.agency, result.display],
        )
        if result.rows_read != result.rows_accepted + result.rows_rejected:  # pragma: no cover - invariant
            raise InputFileError(f"{result.display}: row accounting failed; nothing was loaded.")
        con.execute(
            "INSERT INTO ingest_log VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now(), true)",
            [
                file_id,
                result.display,
                content_hash,
                table,
                result.agency,
                result.rows_read,
                result.rows_accepted,
                result.rows_rejected,
                result.months,
                json.dumps(match.aliases_applied),
                result.encoding,
                delimiter,
                replaced,
            ],
        )
        # Earlier files of the same source and agency whose rows have all been replaced are superseded.
        con.execute(
            f"UPDATE ingest_log SET active = false WHERE source = ? AND agency = ? AND active AND file_id <> ? "
            f"AND rows_accepted > 0 AND file_id NOT IN (SELECT DISTINCT _file_id FROM {table})",
            [table, result.agency, file_id],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.execute("DROP TABLE IF EXISTS _checked")
    result.rejects_by_reason = dict(
        con.execute(
            "SELECT reason, count(*) FROM rejects WHERE file_id = ? GROUP BY reason ORDER BY reason",
            [file_id],
        ).fetchall()
    )


def _delete_replaced(
    con: duckdb.DuckDBPyConnection, contract: Contract, result: LoadResult, stored: dict[str, str]
) -> int:
    """Delete the rows a corrected file replaces: same source and agency, and the same months (or keys)."""
    table = contract.name
    if contract.month_column is not None:
        if not result.months:
            return 0
        rows = con.execute(
            f"DELETE FROM {table} WHERE _agency = ? AND list_contains(?, _month)",
            [result.agency, result.months],
        ).fetchall()
        return int(rows[0][0]) if rows else 0
    if not contract.key_columns:
        return 0
    key_cols = []
    for name in contract.key_columns:
        col = contract.column(name)
        key_cols.append(key_column(col) if col.kind in ("ref", "case_ref") else col.name)
    new_keys = ", ".join(f"{stored[k]} AS {quote_ident(k)}" for k in key_cols)
    cond = " AND ".join(f"t.{quote_ident(k)} IS NOT DISTINCT FROM n.{quote_ident(k)}" for k in key_cols)
    rows = con.execute(
        f"DELETE FROM {table} t WHERE t._agency = ? AND EXISTS (SELECT 1 FROM "
        f"(SELECT {new_keys} FROM _checked WHERE _reject IS NULL) n WHERE {cond})",
        [result.agency],
    ).fetchall()
    return int(rows[0][0]) if rows else 0


def _message_sql() -> str:
    cases = " ".join(f"WHEN {sql_str(code)} THEN {sql_str(text)}" for code, text in REASONS.items())
    return (
        "'line ' || (_row + 1) || ', column ' || _reject.column || ': ' || "
        f"(CASE _reject.reason {cases} ELSE _reject.reason END) || ' (found ' || _reject.value || ')'"
    )

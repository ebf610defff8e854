"""Loading one file into the warehouse: read, validate, pseudonymise, and write in a single transaction.

The whole file is read by DuckDB (all columns as text) and streamed once, in parallel, through layers of SQL
(trimmed text, parsed values, checks) straight into its table: the rows without a reject are written with personal
columns replaced by keyed pseudonyms. The same pass counts the rows it refuses, by the check that refused each (a
temporary sequence per check, advanced only for a refused row), so a file without a reject is read once, and a file
with rejects is read once more, in parallel, for the columns and checks that refused a row and nothing else. Refused
rows go to ``rejects`` with their line, column, reason code and a masked value. Rows read = rows accepted + rows
rejected, always. A file whose content was loaded before is a no-op; a corrected file for the same source, agency
and months replaces those rows in the same transaction; a process killed mid-load leaves the warehouse as it was
before that file.

Row order: accepted rows are written with ``preserve_insertion_order = false`` (every core writes; no re-ordering
of row groups), so the order of rows in the warehouse is not the order of the file. Nothing depends on it: record
numbers come from the rejects pass, which writes each record's reject (NULL for nearly all) to a temporary table in
file order, so a record's number is its row id.

Before the load, one read of the file's bytes (:func:`cspkit.ingest.readers.scan_file`) gives its content hash
(BLAKE3), its line endings and lines, and whether it holds a Unicode space at all; when it does not, values are
tested for surrounding ASCII spaces only (:func:`cspkit.ingest.validate.trimmed_sql`).

Storage of ``crime_id`` (a unique 64-hex text per crime): DuckDB's default compression. Storing it uncompressed
would save about 2 CPU seconds per 5 million rows once, at load, for about 130 MB more on disk per 5 million rows
in a warehouse that is read by every command, copied in backups, and encrypted at rest; the load is not worth it.
Measured again with encryption (December 2026): the whole load was 0.3 s faster per 5 million rows, not 1 s, since
the 127 MB more are also encrypted.

Line numbers of rejects are physical lines of the file DuckDB read (1-based, header = line 1), where the record
starts. DuckDB numbers records, so when a file has rejects and its records are not one per line (a malformed row,
a blank line, a quoted field spanning lines) the starting line of each record is found by a light pass of
Python's csv module over the file, up to the last reject; a file whose records are one per line needs no such pass.

Supersession: each file's rows and rejects belong to its months (a reject whose date cannot be read has none).
When a newer file of the same source and agency has rows in a month, the older files' rows and rejects of that
month are removed in the same transaction. A file that no longer holds anything (no rows left, no reject with a
month left) is retired (``active = false``) when a newer file of the same source and agency is loaded, and its
remaining rejects go with it. Sources without a month replace rows by key; their rejects count while the file is
active.

Privacy: while a file with personal columns is loaded, the connection may not spill to disk (DuckDB's
``temp_directory`` is emptied for the load and restored after), so cleartext being checked never lands in
``<warehouse>.tmp``; partner files are small. Extracted and transcoded copies live in 0700 temporary folders.
"""

from __future__ import annotations

import bisect
import contextlib
import csv
import datetime as dt
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from cspkit.errors import InputFileError, SourceError
from cspkit.ingest.readers import (
    CONTENT_HASH_PREFIX,
    InputFile,
    legacy_sha256,
    normalise_newlines,
    scan_file,
    sniff_text,
    transcode_to_utf8,
    xlsx_to_csv,
)
from cspkit.ingest.validate import REASONS, column_sql
from cspkit.privacy.pseudonymise import pseudonym_sql, ref_namespace
from cspkit.sources import HeaderMatch, detect_source, get_contract, match_header, require_complete
from cspkit.sources.contracts import Contract
from cspkit.sources.vocabularies import screening_checks, stored_value_sql, unmapped_sql
from cspkit.sql import quote_ident, sql_str
from cspkit.warehouse.features import features_insert_sql, features_purge_sql
from cspkit.warehouse.schema import NOTES_DDL, key_column, month_sql, stored_columns

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
    #: Header names written more than once (the first column of each is read; the others are ignored).
    duplicated_columns: list[str] = field(default_factory=list)
    #: Accepted rows whose area code has the right shape but is not in the lookup: column -> (rows, examples).
    unknown_codes: dict[str, tuple[int, list[str]]] = field(default_factory=dict)
    #: Accepted rows whose label is neither in the column's vocabulary nor mapped, so stored as Other: column ->
    #: rows (no examples: a label a worker typed may hold anything).
    unmapped_labels: dict[str, int] = field(default_factory=dict)

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
        path = xlsx_to_csv(path, item.display, scratch / "input.xlsx.csv", sheet)
    elif item.suffix == ".parquet":
        target = scratch / "input.parquet.csv"
        try:
            source_sql = f"SELECT * FROM read_parquet({sql_str(str(path))})"
            duckdb.sql(f"COPY ({source_sql}) TO {sql_str(str(target))} (HEADER, DELIMITER ',')")
        except duckdb.Error as exc:
            raise InputFileError(f"{item.display}: not a readable Parquet file ({str(exc).splitlines()[0]}).") from None
        path = target
    fmt = sniff_text(path, item.display)
    if fmt.encoding == "cp1252":
        path = transcode_to_utf8(path, scratch / "input.utf8.csv")
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
    scan = scan_file(item.path)  # hash, line endings, lines and Unicode spaces in one read
    content_hash = scan.content_hash
    result = LoadResult(
        item.display,
        contract.name,
        agency_name,
        "loaded",
        aliases_applied=match.aliases_applied,
        ignored_columns=match.ignored,
        encoding=encoding,
        duplicated_columns=match.duplicated,
    )
    seen = _loaded_before(con, item, contract.name, agency_name, content_hash)
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

    text_scan = scan if path == item.path else scan_file(path)  # converted copies are partner files, small
    if text_scan.mixed_newlines:
        # DuckDB's strict reader refuses a file whose lines end partly in CR LF and partly in LF
        path = normalise_newlines(path, scratch / "input.lf.csv")
    personal = any(c.personal for c in contract.columns if c.name in match.mapping)
    plan = _plan(contract, match, path, delimiter, today, unicode_spaces=text_scan.unicode_spaces)
    with _no_spill(con, personal, item.display), _memory_cap(con, personal):
        try:
            _write(
                con,
                contract,
                match,
                result,
                key=key,
                content_hash=content_hash,
                delimiter=delimiter,
                path=path,
                plan=plan,
                today=today,
                lines=text_scan.lines,
            )
        finally:
            for temp in ("_rejected", "_record_rejects", "_reader_errors", "_reader_scans", "_malformed", "_line_map"):
                con.execute(f"DROP TABLE IF EXISTS {temp}")
    return result


def _loaded_before(
    con: duckdb.DuckDBPyConnection, item: InputFile, source: str, agency: str, content_hash: str
) -> list[tuple[Any, ...]]:
    """The active ingest log entry of the same content, source and agency: (file_id, rows read, accepted, rejected,
    months), or nothing.

    Entries written before content hashes were BLAKE3 hold the SHA-256 of the file. When an active entry of the same
    source, agency and file name holds one, the file's SHA-256 is computed (once) and, if it matches, the entry
    takes the BLAKE3 hash, so re-loading an unchanged file stays a no-op across the change.
    """
    query = (
        "SELECT file_id, rows_read, rows_accepted, rows_rejected, months FROM ingest_log "
        "WHERE content_hash = ? AND source = ? AND agency = ? AND active"
    )
    seen = con.execute(query, [content_hash, source, agency]).fetchall()
    if seen:
        return seen
    legacy = con.execute(
        "SELECT file_id, content_hash FROM ingest_log WHERE source = ? AND agency = ? AND file_name = ? AND active "
        "AND NOT starts_with(content_hash, ?)",
        [source, agency, item.display, CONTENT_HASH_PREFIX],
    ).fetchall()
    if not legacy:
        return []
    sha256 = legacy_sha256(item.path)
    for file_id, stored in legacy:
        if stored == sha256:
            con.execute("UPDATE ingest_log SET content_hash = ? WHERE file_id = ?", [content_hash, file_id])
            return con.execute(query, [content_hash, source, agency]).fetchall()
    return []


#: Memory DuckDB may use while loading open data (police files of millions of rows); beyond it, the checked rows
#: spill to DuckDB's temporary folder. Personal data never spills (see _no_spill) and partner files are small.
INGEST_MEMORY_LIMIT = "1GB"


@contextlib.contextmanager
def _memory_cap(con: duckdb.DuckDBPyConnection, personal: bool) -> Iterator[None]:
    """Cap DuckDB's memory while a large open-data file is checked and written, and restore the setting."""
    if personal:
        yield
        return
    previous = str(con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0])
    con.execute(f"SET memory_limit = {sql_str(INGEST_MEMORY_LIMIT)}")
    try:
        yield
    finally:
        con.execute(f"SET memory_limit = {sql_str(previous)}")


@contextlib.contextmanager
def _no_spill(con: duckdb.DuckDBPyConnection, personal: bool, display: str) -> Iterator[None]:
    """While loading personal data, keep DuckDB's temporary data in memory (no spill file beside the warehouse).

    Raises:
        InputFileError: This connection has already spilled to disk, so spilling can no longer be switched off.
    """
    if not personal:
        yield
        return
    previous = str(con.execute("SELECT current_setting('temp_directory')").fetchall()[0][0])
    try:
        con.execute("SET temp_directory = ''")
    except duckdb.Error:
        raise InputFileError(
            f"{display}: this file holds personal data, and this session has already written temporary data to "
            "disk; load it in a separate ingest run. Nothing was loaded."
        ) from None
    try:
        yield
    finally:
        con.execute(f"SET temp_directory = {sql_str(previous)}")


@dataclass(frozen=True)
class _Plan:
    """The SQL of one file's load, in layers: the file, its trimmed text, the parsed values, the checks.

    Each layer selects from the one below and refers to its columns by name (``raw__<column>``, then
    ``val__<column>``), so every value is trimmed once and parsed once however many checks and stored columns read
    it, and DuckDB streams the file through all of them in parallel.
    """

    path: Path
    delimiter: str
    columns: str  # the header as a read_csv columns struct
    numbered: bool  # rows carry ``_row`` (their record number): only where a unique column needs a window
    trimmed: list[str]
    parsed: list[str]
    conditions: list[str]  # reject conditions, in order
    checks: list[tuple[str, str]]  # (column, reason) of each condition
    reject: str  # CASE of (column, reason, value) structs: the first failing check of a row
    month_label: str = "NULL::VARCHAR"  # the month ('YYYY-MM') a row belongs to, at the checks' level
    unicode_spaces: bool = True  # the file may hold Unicode spaces (see validate.trimmed_sql)

    def reader(self, *, quiet: bool) -> str:
        """``read_csv`` of the file. Loud: malformed records are skipped and stored in ``_reader_errors``;
        quiet: skipped only (the rejects and identity-feature passes read the file again)."""
        errors = (
            "ignore_errors = true"
            if quiet
            else "store_rejects = true, rejects_table = '_reader_errors', rejects_scan = '_reader_scans'"
        )
        return (
            f"read_csv({sql_str(str(self.path))}, header = true, all_varchar = true, "
            f"delim = {sql_str(self.delimiter)}, quote = '\"', escape = '\"', auto_detect = false, "
            f"columns = {self.columns}, {errors}, max_line_size = 1048576)"
        )

    def checked(self, *, quiet: bool) -> str:
        """The layered relation (a FROM item): ``raw__`` and ``val__`` columns (and ``_row``) of every record."""
        base = self.reader(quiet=quiet)
        if self.numbered:
            base = f"(SELECT row_number() OVER () AS _row, * FROM {base})"
        keep = ["_row"] if self.numbered else []
        trimmed = f"(SELECT {', '.join([*keep, *self.trimmed])} FROM {base} AS src) AS trimmed"
        return f"(SELECT {', '.join(['*', *self.parsed])} FROM {trimmed}) AS checked"

    @property
    def accepted(self) -> str:
        """WHERE condition of the rows without a reject: no check is true.

        Written as one NOT over an OR of the checks (NULL counted as false): DuckDB evaluates it in half the time
        of a chain of ``IS NOT TRUE`` conjuncts (measured on a million police rows: 1.4 against 2.7 CPU s).
        """
        if not self.conditions:
            return "true"
        return "NOT (" + " OR ".join(f"coalesce({c}, false)" for c in self.conditions) + ")"


def _plan(
    contract: Contract,
    match: HeaderMatch,
    path: Path,
    delimiter: str,
    today: dt.date,
    only: set[tuple[str, str]] | None = None,
    *,
    unicode_spaces: bool = True,
) -> _Plan:
    """The layered SQL of a file (see :class:`_Plan`).

    ``only``: keep just the checks of these (column, reason) pairs, and just the columns they (and the month) read:
    the narrow rejects pass, which looks again only at what refused a row (see :func:`_find_rejects`). Without it,
    every column and every check. ``unicode_spaces``: the file may hold Unicode spaces (``FileScan``).
    """
    today_sql = f"DATE {sql_str(today.isoformat())}"
    trimmed: list[str] = []
    parsed: list[str] = []
    conditions: list[str] = []
    checks: list[tuple[str, str]] = []
    reason_cases: list[str] = []
    wanted = None if only is None else {c for c, _ in only}
    for col in contract.columns:
        if col.name not in match.mapping or (wanted is not None and col.name not in wanted):
            continue
        raw_name, val_name = quote_ident("raw__" + col.name), quote_ident("val__" + col.name)
        csql = column_sql(
            col,
            f"src.{quote_ident(match.mapping[col.name])}",
            today_sql,
            raw_ref=raw_name,
            parsed_ref=val_name,
            unicode_spaces=unicode_spaces,
        )
        trimmed.append(f"{csql.raw} AS {raw_name}")
        # free text parses to itself: the parsed column is the trimmed one under its second name
        parsed.append(f"{csql.parsed} AS {val_name}")
        for condition, reason in [*csql.checks, *screening_checks(contract.name, col.name, raw_name)]:
            if only is not None and (col.name, reason) not in only:
                continue
            conditions.append(condition)
            checks.append((col.name, reason))
            reason_cases.append(
                f"WHEN {condition} THEN {{'column': {sql_str(col.name)}, 'reason': {sql_str(reason)}, "
                f"'value': {_mask_sql(raw_name, col.personal)}}}"
            )
    numbered = only is None and bool(contract.unique_column and contract.unique_column in match.mapping)
    if numbered:
        col = contract.column(str(contract.unique_column))
        raw_name = quote_ident("raw__" + col.name)
        parsed.append(f"row_number() OVER (PARTITION BY {raw_name} ORDER BY _row) AS _rank")
        dup = f"{raw_name} IS NOT NULL AND _rank > 1"
        conditions.append(dup)
        checks.append((col.name, "duplicate_ref"))
        reason_cases.append(
            f"WHEN {dup} THEN {{'column': {sql_str(col.name)}, 'reason': 'duplicate_ref', "
            f"'value': {_mask_sql(raw_name, col.personal)}}}"
        )
    reject = f"CASE {' '.join(reason_cases)} END" if reason_cases else "NULL"
    month_label = _month_expr(contract, match)
    month = contract.month_column
    if wanted is not None and month is not None and month in match.mapping and month not in wanted:
        # The narrow rejects pass labels its few refused rows with their month: the month's text passes through
        # the layers untouched and is parsed above the filter, for those rows only (parsing it for every record
        # was a quarter of that pass).
        trimmed.append(f"src.{quote_ident(match.mapping[month])} AS _src_month")
        parsed_month = column_sql(contract.column(month), "_src_month", today_sql).parsed
        month_label = month_label.replace(quote_ident("val__" + month), f"({parsed_month})")
    return _Plan(
        path,
        delimiter,
        _columns_struct(path, delimiter),
        numbered,
        trimmed,
        parsed,
        conditions,
        checks,
        reject,
        month_label,
        unicode_spaces,
    )


def _columns_struct(path: Path, delimiter: str) -> str:
    """The header as a DuckDB ``columns`` struct, every column VARCHAR (names as written, de-duplicated)."""
    import csv

    with path.open(encoding="utf-8-sig", newline="") as fh:
        header = next(csv.reader(fh, delimiter=delimiter))
    names: list[str] = []
    seen: set[str] = set()  # a set: a header of 100,000 columns is checked in linear time
    for h in header:
        name = h.strip() or f"column{len(names) + 1}"
        while name.lower() in seen:  # DuckDB's names are case-insensitive: "Category" is "category" again
            name += "_"
        seen.add(name.lower())
        names.append(name)
    return "{" + ", ".join(f"{sql_str(n)}: 'VARCHAR'" for n in names) + "}"


def _stored_exprs(contract: Contract, match: HeaderMatch, key: bytes, agency: str) -> list[tuple[str, str]]:
    """(stored column, SQL expression over ``_checked``) for the accepted rows."""
    exprs: list[tuple[str, str]] = []
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
            continue  # tokens and linkage features go to identity_features only (warehouse/features.py)
        else:
            exprs += stored_value_sql(contract.name, col.name, val if present else "NULL")
            if col.kind == "datetime":
                has_time = f"({raw} IS NOT NULL AND regexp_matches({raw}, '\\d{{1,2}}:\\d{{2}}'))"
                exprs.append((f"{col.name}_has_time", has_time if present else "NULL"))
    return exprs


def _month_expr(contract: Contract, match: HeaderMatch) -> str:
    """The month of a row over its parsed values (the warehouse's own rule, :func:`month_sql`)."""
    if contract.month_column is None or contract.month_column not in match.mapping:
        return "NULL::VARCHAR"
    return month_sql(contract, quote_ident("val__" + contract.month_column))


def _write(
    con: duckdb.DuckDBPyConnection,
    contract: Contract,
    match: HeaderMatch,
    result: LoadResult,
    *,
    key: bytes,
    content_hash: str,
    delimiter: str,
    path: Path,
    plan: _Plan,
    today: dt.date,
    lines: int,
) -> None:
    table = contract.name
    stored = dict(_stored_exprs(contract, match, key, result.agency))
    names = [n for n, _ in stored_columns(contract) if not n.startswith("_")]
    month = _month_expr(contract, match)
    reject_cols = "(file_id, source, agency, file_name, line, column_name, reason, message, value, month)"
    for temp in ("_reader_errors", "_reader_scans", "_rejected"):
        con.execute(f"DROP TABLE IF EXISTS {temp}")
    con.execute("BEGIN TRANSACTION")
    try:
        # Rejects carry the month they belong to (migration for warehouses made before the column existed).
        con.execute("ALTER TABLE rejects ADD COLUMN IF NOT EXISTS month VARCHAR")
        file_id = int(con.execute("SELECT nextval('file_id_seq')").fetchall()[0][0])
        result.file_id = file_id
        # Accepted rows in one streaming pass over the file. The rows it refuses are counted on the way, by the
        # check that refused each (a temporary sequence per check, advanced only for a refused row), so the
        # rejects pass is needed only when a row was refused, and then only for the checks that refused one.
        # _month is computed from the month column when read, except in tables made before it was (stored there)
        stored_month = not con.execute(
            "SELECT count(*) FROM information_schema.columns WHERE table_catalog = current_database() "
            "AND table_name = ? AND column_name = '_month' AND is_generated = 'ALWAYS'",
            [table],
        ).fetchall()[0][0]
        meta = ["_file_id", "_agency", *(["_month"] if stored_month else [])]
        cols = ", ".join([*(quote_ident(n) for n in names), *meta])
        exprs = ", ".join(
            [*(stored[n] for n in names), str(file_id), sql_str(result.agency), *([month] if stored_month else [])]
        )
        counters = [f"_refused_{i}" for i in range(len(plan.conditions))]
        for counter in counters:
            con.execute(f"CREATE OR REPLACE TEMP SEQUENCE {counter}")
        count_refused = " ".join(
            f"WHEN {condition} THEN nextval({sql_str(counter)})"
            for condition, counter in zip(plan.conditions, counters, strict=True)
        )
        where = f"{plan.accepted} OR (CASE {count_refused} END) < 0" if counters else "true"
        with _insertion_order(con, preserve=False):
            try:
                accepted = int(
                    con.execute(
                        f"INSERT INTO {table} ({cols}) SELECT {exprs} FROM {plan.checked(quiet=False)} WHERE {where}"
                    ).fetchall()[0][0]
                )
            except duckdb.InvalidInputException as exc:
                first = str(exc).splitlines()[0]
                raise InputFileError(
                    f"{result.display}: the file could not be read as CSV ({first}). Nothing was loaded."
                ) from None
        refused = _refused_by_check(con, plan, counters)
        invalid = sum(refused.values())
        # Identity tokens and linkage features go apart from the events (warehouse/features.py); a second pass.
        features = plan.checked(quiet=True)
        for statement in features_insert_sql(
            contract, key, result.agency, set(match.mapping), stored, features, plan.accepted
        ):
            con.execute(statement)
        con.execute("DROP TABLE IF EXISTS _malformed")
        con.execute(
            "CREATE TEMP TABLE _malformed AS SELECT line AS _line, line_byte_position AS _pos, "
            "CASE WHEN column_name IS NULL OR error_type IN ('TOO MANY COLUMNS', 'LINE SIZE OVER MAXIMUM') "
            "THEN '(row)' ELSE column_name END AS _column, error_message AS _error "
            "FROM (SELECT DISTINCT ON (line) * FROM _reader_errors ORDER BY line)"
        )
        reader_errors = con.execute("SELECT count(*) FROM _malformed").fetchall()[0][0]
        unterminated = con.execute(
            "SELECT min(_line) FROM _malformed WHERE _error ILIKE '%unterminated quote%'"
        ).fetchall()[0][0]
        if unterminated is not None:
            # DuckDB reads on to the end of the file looking for the closing quote: the rest would be lost
            raise InputFileError(
                f"{result.display}: a value opened with a quote near record {unterminated} is never closed, so the "
                "rest of the file cannot be read reliably. Fix the quote (or save the file again as CSV) and load "
                "it again; nothing was loaded."
            )
        con.execute(
            'CREATE TEMP TABLE _rejected (_row BIGINT, _reject STRUCT("column" VARCHAR, reason VARCHAR, '
            '"value" VARCHAR), _reject_month VARCHAR)'
        )
        if invalid:
            narrow = _plan(contract, match, path, delimiter, today, set(refused), unicode_spaces=plan.unicode_spaces)
            _find_rejects(con, plan, refused, narrow=narrow)
        result.rows_accepted = int(accepted)
        result.rows_read = int(accepted) + int(invalid) + int(reader_errors)
        result.rows_rejected = result.rows_read - result.rows_accepted
        if contract.month_column is not None:
            months = con.execute(
                f"SELECT list_sort(list(DISTINCT _month)) FROM {table} WHERE _file_id = ? AND _month IS NOT NULL",
                [file_id],
            ).fetchall()[0][0]
            result.months = list(months or [])
        if result.rows_read == 0:
            raise InputFileError(f"{result.display}: the file has a header but no data rows; nothing was loaded.")
        con.execute("DROP TABLE IF EXISTS _line_map")
        con.execute("CREATE TEMP TABLE _line_map (_row BIGINT, line BIGINT)")
        if result.rows_read > result.rows_accepted:
            _fix_line_numbers(con, path, delimiter, accepted + invalid, int(reader_errors), lines)
        replaced = _delete_replaced(con, contract, result)
        result.rows_replaced = replaced
        con.execute(
            f"INSERT INTO rejects {reject_cols} SELECT ?, ?, ?, ?, {_LINE}, _reject.column, _reject.reason, "
            f"{_message_sql()}, _reject.value, _reject_month FROM _rejected LEFT JOIN _line_map m USING (_row)",
            [file_id, table, result.agency, result.display],
        )
        con.execute(
            f"INSERT INTO rejects {reject_cols} SELECT ?, ?, ?, ?, _line, _column, 'malformed_row', "
            "'line ' || _line || ': ' || left(_error, 160), '(not kept)', NULL FROM _malformed",
            [file_id, table, result.agency, result.display],
        )
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
        _supersede(con, contract, result, file_id)
        for statement in features_purge_sql(contract, key):
            con.execute(statement)
        result.unknown_codes = _unknown_codes(con, contract, match, file_id)
        result.unmapped_labels = _unmapped_labels(con, contract, match, plan)
        _record_notes(con, result)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    finally:
        con.execute("DROP TABLE IF EXISTS _rejected")
    result.rejects_by_reason = dict(
        con.execute(
            "SELECT reason, count(*) FROM rejects WHERE file_id = ? GROUP BY reason ORDER BY reason",
            [file_id],
        ).fetchall()
    )


def _delete_replaced(con: duckdb.DuckDBPyConnection, contract: Contract, result: LoadResult) -> int:
    """Delete the rows a corrected file replaces: same source and agency, and the same months (or keys)."""
    table = contract.name
    if contract.month_column is not None:
        if not result.months:
            return 0
        rows = con.execute(
            f"DELETE FROM {table} WHERE _agency = ? AND list_contains(?, _month) AND _file_id <> ?",
            [result.agency, result.months, result.file_id],
        ).fetchall()
        return int(rows[0][0]) if rows else 0
    if not contract.key_columns:
        return 0
    key_cols = []
    for name in contract.key_columns:
        col = contract.column(name)
        key_cols.append(key_column(col) if col.kind in ("ref", "case_ref") else col.name)
    cond = " AND ".join(f"t.{quote_ident(k)} IS NOT DISTINCT FROM n.{quote_ident(k)}" for k in key_cols)
    rows = con.execute(
        f"DELETE FROM {table} t WHERE t._agency = ? AND t._file_id <> ? AND EXISTS (SELECT 1 FROM "
        f"{table} n WHERE n._file_id = ? AND {cond})",
        [result.agency, result.file_id, result.file_id],
    ).fetchall()
    return int(rows[0][0]) if rows else 0


@contextlib.contextmanager
def _insertion_order(con: duckdb.DuckDBPyConnection, *, preserve: bool) -> Iterator[None]:
    """Set ``preserve_insertion_order`` for a statement, and restore it after.

    False for the accepted rows: DuckDB writes them in any order, streaming on every core without re-ordering row
    groups, so warehouse row order is not file order (nothing reads it). True for the rejects pass, whose record
    numbers are the row ids of a table written in file order.
    """
    previous = bool(con.execute("SELECT current_setting('preserve_insertion_order')").fetchall()[0][0])
    con.execute(f"SET preserve_insertion_order = {str(preserve).lower()}")
    try:
        yield
    finally:
        con.execute(f"SET preserve_insertion_order = {str(previous).lower()}")


def _refused_by_check(con: duckdb.DuckDBPyConnection, plan: _Plan, counters: list[str]) -> dict[tuple[str, str], int]:
    """Rows refused by each (column, reason), read from the load's counters (which are then dropped)."""
    refused: dict[tuple[str, str], int] = {}
    if counters:
        last = dict(
            con.execute(
                "SELECT sequence_name, last_value FROM duckdb_sequences() WHERE temporary AND list_contains(?, "
                "sequence_name)",
                [counters],
            ).fetchall()
        )
        for counter, check in zip(counters, plan.checks, strict=True):
            if last.get(counter):
                refused[check] = refused.get(check, 0) + int(last[counter])
    for counter in counters:
        con.execute(f"DROP SEQUENCE IF EXISTS {counter}")
    return refused


def _find_rejects(
    con: duckdb.DuckDBPyConnection, plan: _Plan, refused: dict[tuple[str, str], int], *, narrow: _Plan
) -> None:
    """Fill ``_rejected`` (record number, reject, month) with the rows the checks refused (``refused``: how many
    each (column, reason) refused, counted while the accepted rows were written).

    The file is read once more, narrowly: only the columns and checks that refused a row (``narrow``), since a
    row's first failing check is always one of those. The pass runs on every core and writes each record's reject
    (NULL for nearly all) to a temporary table in file order, so a record's number is its row id + 1; a
    ``row_number()`` window would keep the pass on one core. Where a unique column numbered the rows already
    (small partner files) the whole plan runs. Should the narrow pass not find exactly the rows counted (it always
    should), the whole plan runs too.
    """
    passes = [plan] if plan.numbered else [narrow, plan]
    for checks in passes:
        con.execute("DELETE FROM _rejected")
        month = f"CASE WHEN _reject IS NOT NULL THEN {checks.month_label} END AS _reject_month"
        rejects = f"SELECT *, {checks.reject} AS _reject FROM {checks.checked(quiet=True)}"
        if checks.numbered:
            # the filter sits above the window, so it is not pushed into (and repeated inside) the layers
            con.execute(
                f"INSERT INTO _rejected SELECT * FROM (SELECT _row, _reject, {month} FROM ({rejects})) "
                "WHERE _reject IS NOT NULL"
            )
        else:
            con.execute("DROP TABLE IF EXISTS _record_rejects")
            with _insertion_order(con, preserve=True):
                con.execute(f"CREATE TEMP TABLE _record_rejects AS SELECT _reject, {month} FROM ({rejects})")
            # row ids of a table written in this transaction start at a large offset, one per record, in order
            con.execute(
                "INSERT INTO _rejected SELECT rowid - (SELECT min(rowid) FROM _record_rejects) + 1, _reject, "
                "_reject_month FROM _record_rejects WHERE _reject IS NOT NULL"
            )
            con.execute("DROP TABLE _record_rejects")
        found = con.execute("SELECT _reject.column, _reject.reason, count(*) FROM _rejected GROUP BY ALL").fetchall()
        if {(str(c), str(r)): int(n) for c, r, n in found} == refused:
            return


#: Area code columns checked against the bundled lookup (``geography``): column -> lookup columns it may match.
_LOOKUP_COLUMNS = {
    "lsoa_code": ("lsoa_code",),
    "ward_code": ("ward_code",),
    "lad_code": ("lad_code",),
    "area_code": ("lsoa_code", "ward_code", "lad_code"),
}


def _unknown_codes(
    con: duckdb.DuckDBPyConnection, contract: Contract, match: HeaderMatch, file_id: int
) -> dict[str, tuple[int, list[str]]]:
    """Accepted rows whose area code has a valid shape (E01999999) but is not in the lookup: counted, not refused
    (a newer boundary set than the bundled one is possible), and reported at ingest and in the appendix."""
    if contract.name == "geography":
        return {}
    out: dict[str, tuple[int, list[str]]] = {}
    for name, lookup in _LOOKUP_COLUMNS.items():
        if name not in match.mapping or contract.column(name).kind not in ("lsoa", "area"):
            continue
        known = " UNION ".join(f"SELECT {quote_ident(c)} AS code FROM geography" for c in lookup)
        rows, examples = con.execute(
            f"SELECT count(*), list_sort(list(DISTINCT {quote_ident(name)}))[1:3] FROM {contract.name} "
            f"WHERE _file_id = ? AND {quote_ident(name)} IS NOT NULL "
            f"AND {quote_ident(name)} NOT IN ({known}) "
            "AND EXISTS (SELECT 1 FROM geography)",
            [file_id],
        ).fetchall()[0]
        if rows:
            out[name] = (int(rows), [str(e) for e in examples or []])
    return out


def _unmapped_labels(
    con: duckdb.DuckDBPyConnection, contract: Contract, match: HeaderMatch, plan: _Plan
) -> dict[str, int]:
    """Accepted rows whose category label is in neither the vocabulary nor the partner's ``label_map`` (stored as
    ``Other``), per column: one more pass over the file, only for partner sources with vocabulary columns."""
    conditions = {
        col.name: cond
        for col in contract.columns
        if col.name in match.mapping
        and (cond := unmapped_sql(contract.name, col.name, quote_ident("val__" + col.name))) is not None
    }
    if not conditions:
        return {}
    counts = ", ".join(f"count(*) FILTER (WHERE {cond})" for cond in conditions.values())
    row = con.execute(f"SELECT {counts} FROM {plan.checked(quiet=True)} WHERE {plan.accepted}").fetchall()[0]
    return {name: int(n) for name, n in zip(conditions, row, strict=True) if n}


def _record_notes(con: duckdb.DuckDBPyConnection, result: LoadResult) -> None:
    """Keep unknown codes, unmapped labels, duplicated and ignored columns with the file (``ingest_notes``)."""
    con.execute(NOTES_DDL)
    for column, (rows, examples) in result.unknown_codes.items():
        con.execute(
            "INSERT INTO ingest_notes VALUES (?, ?, 'unknown_code', ?, ?)", [result.file_id, column, rows, examples]
        )
    for column, rows in result.unmapped_labels.items():
        con.execute(
            "INSERT INTO ingest_notes VALUES (?, ?, 'unmapped_label', ?, []::VARCHAR[])", [result.file_id, column, rows]
        )
    for note, columns in (("duplicated_column", result.duplicated_columns), ("ignored_column", result.ignored_columns)):
        if columns:  # one statement however many (a file may have 100,000 columns)
            con.execute(
                "INSERT INTO ingest_notes SELECT ?, unnest(?::VARCHAR[]), ?, 0, []::VARCHAR[]",
                [result.file_id, columns, note],
            )


def _supersede(con: duckdb.DuckDBPyConnection, contract: Contract, result: LoadResult, file_id: int) -> None:
    """Older files of the same source and agency: drop their rejects in the months this file covers, and retire
    those left holding nothing (no rows, no reject with a month), with their remaining rejects."""
    older = "source = ? AND agency = ? AND file_id <> ?"
    params: list[object] = [contract.name, result.agency, file_id]
    if contract.month_column is not None and result.months:
        con.execute(
            f"DELETE FROM rejects WHERE {older} AND month IS NOT NULL AND list_contains(?, month)",
            [*params, result.months],
        )
    con.execute(
        f"UPDATE ingest_log SET active = false WHERE {older} AND active "
        f"AND file_id NOT IN (SELECT DISTINCT _file_id FROM {contract.name} WHERE _agency = ?) "
        "AND file_id NOT IN (SELECT DISTINCT file_id FROM rejects WHERE month IS NOT NULL)",
        [*params, result.agency],
    )
    con.execute(
        f"DELETE FROM rejects WHERE {older} AND file_id IN (SELECT file_id FROM ingest_log WHERE NOT active)",
        params,
    )


#: The file line of a reject of ``_checked`` (joined with ``_line_map m``, filled by :func:`_fix_line_numbers`).
_LINE = "coalesce(m.line, _row + 1)"


def _record_starts(path: Path, delimiter: str, enough: int, last_byte: int) -> tuple[list[int], list[int], bool]:
    """(line starts, record lines, whole file read): byte offset of each physical line, and the 1-based line where
    each non-blank data record starts, as Python's csv module splits the file (as DuckDB does: quotes may span
    lines).

    Bounded: reading stops once more than ``enough`` records are found and byte ``last_byte`` is passed (the rejects
    to place are all before), so a malformed line near the top of a large file costs little. A file without a quote
    (every data.police.uk file) is split without the csv module: each non-blank line is a record
    (:func:`_unquoted_record_starts`, vectorised).
    """
    unquoted = _unquoted_record_starts(path, enough, last_byte)
    if unquoted is not None:
        return unquoted
    offsets: list[int] = []

    def lines() -> Iterator[str]:
        pos = 0
        with path.open("rb") as fh:
            for raw in fh:
                offsets.append(pos)
                pos += len(raw)
                yield raw.decode("utf-8", "replace")

    starts: list[int] = []
    previous = csv.field_size_limit(1 << 30)
    complete = True
    try:
        reader = csv.reader(lines(), delimiter=delimiter)
        end = 0
        for i, record in enumerate(reader):
            first, end = end + 1, reader.line_num
            if i > 0 and record:  # the header, and blank lines (which DuckDB skips), are not data records
                starts.append(first)
            if len(starts) > enough and offsets[-1] > last_byte:
                complete = False
                break
    finally:
        csv.field_size_limit(previous)
    return offsets, starts, complete


def _unquoted_record_starts(path: Path, enough: int, last_byte: int) -> tuple[list[int], list[int], bool] | None:
    """:func:`_record_starts` for a file with no quote character: lines are split at LF, a line that is empty (or
    only CR) is blank, and every other line after the first is a record; numpy over 16 MB blocks instead of a
    Python loop per line. None when the file holds a quote, a NUL or a CR that does not end a line (the csv module
    decides those)."""
    import numpy as np

    block_size = 1 << 20  # doubled up to 16 MB: a reject near the top of a large file reads little
    line_starts: list[np.ndarray] = [np.zeros(1, dtype=np.int64)]
    records: list[np.ndarray] = []
    found = 0
    base = 0
    previous = -1  # the byte before this block (-1 at the start of the file)
    line = 1  # 1-based number of the first line starting in this block's range
    complete = True
    with path.open("rb") as fh:
        while block := fh.read(block_size):
            data = np.frombuffer(block, dtype=np.uint8)
            if np.any(data == 34) or np.any(data == 0) or (previous == 13 and data[0] != 10):
                return None
            cr = np.flatnonzero(data[:-1] == 13)  # a CR must end a line (CR LF); one at the block's end: next block
            if cr.size and np.any(data[cr + 1] != 10):
                return None
            newlines = np.flatnonzero(data == 10)
            # each LF ends the line that started after the previous LF; it is blank when it holds nothing or a CR
            ends = newlines + base
            starts = np.concatenate(([line_starts[-1][-1]], ends[:-1] + 1)) if len(ends) else np.empty(0, np.int64)
            length = ends - starts
            first_byte = np.where(starts >= base, data[np.clip(starts - base, 0, len(data) - 1)], previous)
            blank = (length == 0) | ((length == 1) & (first_byte == 13))
            numbers = np.arange(line, line + len(ends), dtype=np.int64)
            records.append(numbers[~blank & (numbers > 1)])
            found += int(records[-1].size)
            line += len(ends)
            if len(ends):
                line_starts.append(ends + 1)
            base += len(data)
            previous = int(data[-1])
            block_size = min(block_size * 2, 1 << 24)
            if found > enough and base > last_byte:
                complete = False
                break
    if complete and previous == 13:
        return None  # the file ends with a CR
    offsets = np.concatenate(line_starts)
    size = base
    if complete and offsets[-1] >= size:  # the file ends with LF: no line starts after it
        offsets = offsets[:-1]
    elif complete and line > 1:  # a last line without LF (not the header) is a record: it is not blank
        records.append(np.array([line], dtype=np.int64))
    if not complete:
        offsets = offsets[:-1] if offsets[-1] >= base else offsets
    return offsets.tolist(), np.concatenate(records).tolist() if records else [], complete


def _fix_line_numbers(
    con: duckdb.DuckDBPyConnection, path: Path, delimiter: str, accepted_records: int, malformed: int, lines: int
) -> None:
    """Make reject line numbers the file lines where their records start (``_line_map`` and ``_malformed``).

    Nothing to do when each record is one line and no record was malformed (the common case; ``lines`` is counted
    only for a file with rejects). Otherwise DuckDB's malformed records are placed by their byte position, and the
    k-th record DuckDB returned is the k-th record of the file that is not malformed. If Python's and DuckDB's
    reading of the file disagree on the number of records, the record numbers are kept (best effort).
    """
    if malformed == 0 and lines == accepted_records + 1:
        return
    last_row = con.execute("SELECT coalesce(max(_row), 0) FROM _rejected").fetchall()[0][0]
    last_byte = con.execute("SELECT coalesce(max(_pos), 0) FROM _malformed").fetchall()[0][0]
    try:
        offsets, starts, complete = _record_starts(path, delimiter, int(last_row) + malformed, int(last_byte))
    except (csv.Error, OSError):
        return
    if complete and len(starts) != accepted_records + malformed:
        return
    bad: dict[int, int] = {}  # DuckDB's line number -> record index
    for duck_line, pos in con.execute("SELECT _line, _pos FROM _malformed").fetchall():
        if pos is None:
            return
        line = bisect.bisect_right(offsets, int(pos))  # the file line holding the byte DuckDB points at
        bad[int(duck_line)] = bisect.bisect_right(starts, line) - 1  # the record starting at or before it
    if len(set(bad.values())) != malformed or min(bad.values(), default=0) < 0:
        return
    import numpy as np

    good = np.delete(np.asarray(starts, dtype=np.int64), sorted(set(bad.values())))  # records DuckDB returned
    rejected = [int(r) for (r,) in con.execute("SELECT _row FROM _rejected").fetchall()]
    if any(r > len(good) for r in rejected):
        return
    con.execute(
        "INSERT INTO _line_map SELECT unnest(?::BIGINT[]), unnest(?::BIGINT[])",
        [rejected, [int(good[r - 1]) for r in rejected]],
    )
    for duck_line, index in bad.items():
        con.execute("UPDATE _malformed SET _line = ? WHERE _line = ?", [starts[index], duck_line])


def _message_sql() -> str:
    cases = " ".join(f"WHEN {sql_str(code)} THEN {sql_str(text)}" for code, text in REASONS.items())
    return (
        f"'line ' || ({_LINE}) || ', column ' || _reject.column || ': ' || "
        f"(CASE _reject.reason {cases} ELSE _reject.reason END) || ' (found ' || _reject.value || ')'"
    )

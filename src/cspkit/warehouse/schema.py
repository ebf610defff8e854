"""The warehouse schema, derived from the data contracts.

Each source has one table named after it. Personal columns never appear: a ``*_ref`` column becomes a keyed
pseudonym ``<base>_key`` (``victim_ref`` -> ``victim_key``), and direct identifiers (names, dates of birth,
postcodes) leave no column at all: their keyed tokens and linkage features are kept apart in ``identity_features``
(warehouse/features.py), joined only through a keyed record key. ``victim_age`` is stored as ``victim_age_band``.
Every table also has ``_file_id`` (the ingest log entry the row came from), ``_agency`` and ``_month``
(``YYYY-MM`` of the row, for coverage, replacement and Parquet partitioning).
"""

from __future__ import annotations

from cspkit.sources.contracts import CONTRACTS, Column, Contract
from cspkit.sources.vocabularies import BANDED, stored_name
from cspkit.sql import quote_ident

__all__ = [
    "META_DDL",
    "NOTES_DDL",
    "SCHEMA_VERSION",
    "month_sql",
    "stored_columns",
    "table_ddl",
]

#: 2: victim_age stored as a band; forename-initial, birth-year and postcode-district tokens moved to
#: identity_features. 3: every other identity token and linkage feature moved there too (the event tables hold
#: only keyed pseudonyms of references).
SCHEMA_VERSION = "3"

_SQL_TYPES = {
    "text": "VARCHAR",
    "category": "VARCHAR",
    "lsoa": "VARCHAR",
    "area": "VARCHAR",
    "month": "VARCHAR",
    "year": "VARCHAR",
    "date": "DATE",
    "datetime": "TIMESTAMP",
    "int": "BIGINT",
    "float": "DOUBLE",
    "longitude": "DOUBLE",
    "latitude": "DOUBLE",
    "bool": "BOOLEAN",
    "list": "VARCHAR[]",
}

#: Kinds of direct identifier: stored only as tokens and features in identity_features, never in an event table.
_IDENTIFIERS = ("name", "dob", "postcode")


def person_prefix(column: Column) -> str:
    """``victim_name`` -> ``victim``; ``offender_dob`` -> ``offender``."""
    return column.name.rsplit("_", 1)[0]


def key_column(column: Column) -> str:
    """Stored name of the pseudonym of a reference column: ``victim_ref`` -> ``victim_key``."""
    base = column.name[: -len("_ref")] if column.name.endswith("_ref") else column.name
    return f"{base}_key"


def stored_columns(contract: Contract) -> list[tuple[str, str]]:
    """(column name, SQL type) of the warehouse table for a contract, metadata columns last."""
    out: list[tuple[str, str]] = []
    for col in contract.columns:
        if col.kind in ("ref", "case_ref"):
            out.append((key_column(col), "VARCHAR"))
        elif col.kind in _IDENTIFIERS:
            continue  # kept apart, in identity_features (warehouse/features.py)
        elif (contract.name, col.name) in BANDED:
            out.append((stored_name(contract.name, col.name), "VARCHAR"))
        else:
            out.append((col.name, _SQL_TYPES[col.kind]))
            if col.kind == "datetime":
                out.append((f"{col.name}_has_time", "BOOLEAN"))
    out += [("_file_id", "BIGINT"), ("_agency", "VARCHAR"), ("_month", "VARCHAR")]
    return out


def month_sql(contract: Contract, column_ref: str | None = None) -> str:
    """The month ('YYYY-MM') of a row of the contract's table (NULL without a month column).

    Over the stored month column, or over ``column_ref`` when given (the loader's parsed value of that column).
    """
    if contract.month_column is None:
        return "NULL::VARCHAR"
    column = contract.column(contract.month_column)
    ref = column_ref or quote_ident(column.name)
    return ref if column.kind == "month" else f"strftime({ref}, '%Y-%m')"


def table_ddl(contract: Contract) -> str:
    """The table of a contract. ``_month`` is a virtual column computed from the month column when read: stored, it
    was one more text column to compress for every row (about 0.4 s per 5 million police rows at ingest), and for
    police files a copy of ``month``. Warehouses made before keep a stored ``_month``; the loader writes it there."""
    cols = ", ".join(
        f"{name} {sql_type}" + (f" GENERATED ALWAYS AS ({month_sql(contract)}) VIRTUAL" if name == "_month" else "")
        for name, sql_type in stored_columns(contract)
    )
    return f"CREATE TABLE IF NOT EXISTS {contract.name} ({cols})"


#: What ingest learnt about a file beyond its rows and rejects, for the data-quality appendix: area codes of a
#: valid shape that are not in the lookup (``unknown_code``, with rows and up to three examples), header names
#: written twice (``duplicated_column``) and columns outside the contract (``ignored_column``).
NOTES_DDL = """CREATE TABLE IF NOT EXISTS ingest_notes (
    file_id BIGINT,
    column_name VARCHAR,
    note VARCHAR,
    rows BIGINT,
    examples VARCHAR[]
)"""


META_DDL = [
    "CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)",
    "CREATE SEQUENCE IF NOT EXISTS file_id_seq START 1",
    """CREATE TABLE IF NOT EXISTS ingest_log (
        file_id BIGINT PRIMARY KEY,
        file_name VARCHAR,
        member VARCHAR,
        content_hash VARCHAR,
        source VARCHAR,
        agency VARCHAR,
        rows_read BIGINT,
        rows_accepted BIGINT,
        rows_rejected BIGINT,
        months VARCHAR[],
        column_mapping VARCHAR,
        encoding VARCHAR,
        delimiter VARCHAR,
        replaced_rows BIGINT,
        loaded_at TIMESTAMP,
        active BOOLEAN
    )""",
    """CREATE TABLE IF NOT EXISTS rejects (
        file_id BIGINT,
        source VARCHAR,
        agency VARCHAR,
        file_name VARCHAR,
        line BIGINT,
        column_name VARCHAR,
        reason VARCHAR,
        message VARCHAR,
        value VARCHAR,
        month VARCHAR
    )""",
    NOTES_DDL,
]


def all_ddl() -> list[str]:
    """Every statement that creates the warehouse schema (idempotent)."""
    from cspkit.warehouse.features import FEATURES_DDL  # features builds on this module

    return [*META_DDL, FEATURES_DDL, *(table_ddl(c) for c in CONTRACTS.values())]

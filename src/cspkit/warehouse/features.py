"""Identity tokens and linkage features, kept apart from the analytic tables.

Everything derived from a name, a date of birth or a postcode lives only in ``identity_features``, never in an
event table: the exact tokens (surname, forename, date of birth, postcode), the low-entropy ones (forename initial,
birth year, postcode district) and the linkage features (bigram sets, Soundex codes, date-part pairs, the swapped
date, the postcode sector; privacy/features.py). A low-entropy token beside a clear attribute that correlates with
it (an age at a dated event, an LSOA code) could be labelled with its clear value, and then every row carrying it,
in every agency, without the key; an exact token beside the events would say which events of two agencies concern
the same person. So:

- one row per record and person (victim, offender, perpetrator) with the tokens and features, the source, the
  person's role and the agency: no month, no file, no reference, nothing that joins to an event row;
- the row's ``record_key`` is a keyed hash (under a key derived from the workspace key) of the event row's own
  pseudonym (the case reference where the source has one, else the person's reference): with the key, linkage joins
  features to events; without it, nobody can;
- rows are written in ``record_key`` order (not file order), so their position gives nothing away either.

Schema 2 kept only the three low-entropy tokens here; schema 3 (:func:`migrate_identity_features`) moves the rest.
"""

from __future__ import annotations

from typing import Any

from cspkit.privacy.features import FEATURE_FIELDS, linkage_features_sql
from cspkit.privacy.keys import derive_key
from cspkit.privacy.pseudonymise import identity_tokens_sql, pseudonym_sql
from cspkit.sources.contracts import Column, Contract
from cspkit.sql import quote_ident, sql_str
from cspkit.warehouse.schema import key_column

__all__ = [
    "FEATURES_DDL",
    "FEATURES_TABLE",
    "FEATURE_TOKENS",
    "IDENTITY_COLUMNS",
    "anchor_column",
    "features_insert_sql",
    "features_purge_sql",
    "migrate_identity_features",
    "migrate_to_features",
    "persons",
    "record_key_sql",
]

FEATURES_TABLE = "identity_features"
#: The low-entropy tokens, the only ones kept here in schema 2 (first, so a migrated table has the same layout).
LOW_ENTROPY_TOKENS = ("forename_initial_token", "birth_year_token", "postcode_district_token")
#: Every column of identity_features after the record key, source, person and agency, with its SQL type: the
#: low-entropy tokens, the exact tokens, then the linkage features (privacy/features.py), without the role prefix.
IDENTITY_COLUMNS: tuple[tuple[str, str], ...] = (
    *((t, "VARCHAR") for t in LOW_ENTROPY_TOKENS),
    *((t, "VARCHAR") for t in ("surname_token", "forename_token", "dob_token", "postcode_token")),
    *((name.removeprefix("{p}_"), sql_type) for fields in FEATURE_FIELDS.values() for name, sql_type in fields),
)
FEATURE_TOKENS = tuple(name for name, _ in IDENTITY_COLUMNS)
FEATURES_DDL = (
    f"CREATE TABLE IF NOT EXISTS {FEATURES_TABLE} (record_key VARCHAR, source VARCHAR, person VARCHAR, "
    f"agency VARCHAR, {', '.join(f'{name} {sql_type}' for name, sql_type in IDENTITY_COLUMNS)})"
)
_PURPOSE = "identity-features-v1"
_IDENTIFIER_KINDS = ("name", "dob", "postcode")


def _person(column: Column) -> str:
    return column.name.rsplit("_", 1)[0]


def persons(contract: Contract) -> list[str]:
    """Roles with a name, date of birth or postcode column in this contract (victim, offender, perpetrator)."""
    seen: list[str] = []
    for col in contract.columns:
        if col.kind in _IDENTIFIER_KINDS and _person(col) not in seen:
            seen.append(_person(col))
    return seen


def anchor_column(contract: Contract, person: str) -> Column | None:
    """The reference a feature row hangs on: the case reference, else the person's own reference."""
    for col in contract.columns:
        if col.kind == "case_ref":
            return col
    for col in contract.columns:
        if col.kind == "ref" and col.name == f"{person}_ref":
            return col
    return None


def record_key_sql(key: bytes, contract: Contract, person: str, agency_sql: str, anchor_key_sql: str) -> str:
    """SQL of the record key: a keyed hash of agency and the event row's stored pseudonym (never stored itself)."""
    namespace = f"record|{contract.name}|{person}"
    value = f"({agency_sql}) || chr(31) || ({anchor_key_sql})"
    return pseudonym_sql(derive_key(key, _PURPOSE), namespace, value)


def features_insert_sql(
    contract: Contract,
    key: bytes,
    agency: str,
    present: set[str],
    stored: dict[str, str],
    rows_sql: str = "_checked",
    accepted_sql: str = "_reject IS NULL",
) -> list[str]:
    """Statements writing the feature rows of the accepted rows of a file being loaded.

    Args:
        contract: the source being loaded.
        key: the workspace key.
        agency: the agency of the file.
        present: contract columns present in the file.
        stored: the loader's stored column -> SQL expression over its rows (the anchor's pseudonym is read
            from it, so the record key hangs on exactly what the event row stores).
        rows_sql: the loader's FROM item of the file's rows, with ``raw__<column>`` text columns.
        accepted_sql: the loader's condition of an accepted row.

    Feature rows with the record keys being written are replaced first, so a corrected file replaces its features.
    """
    statements: list[str] = []
    for person in persons(contract):
        anchor_col = anchor_column(contract, person)
        anchor = stored.get(key_column(anchor_col)) if anchor_col is not None else None
        raw = {
            f"{col.kind}_sql": quote_ident("raw__" + col.name)
            for col in contract.columns
            if _person(col) == person and col.kind in _IDENTIFIER_KINDS and col.name in present
        }
        if anchor is None or not raw:
            continue
        tokens = dict(identity_tokens_sql(key, person, **raw)) | dict(linkage_features_sql(key, person, **raw))
        values = [tokens.get(f"{person}_{t}", f"NULL::{sql_type}") for t, sql_type in IDENTITY_COLUMNS]
        record = record_key_sql(key, contract, person, sql_str(agency), anchor)
        select = ", ".join(f"{v} AS {t}" for v, t in zip(values, FEATURE_TOKENS, strict=True))
        staged = f"_features_{person}"
        statements += [
            f"DROP TABLE IF EXISTS {staged}",
            f"CREATE TEMP TABLE {staged} AS SELECT DISTINCT * FROM (SELECT {record} AS record_key, {select} "
            f"FROM {rows_sql} WHERE {accepted_sql}) "
            f"WHERE record_key IS NOT NULL AND ({' OR '.join(f'{t} IS NOT NULL' for t in FEATURE_TOKENS)})",
            f"DELETE FROM {FEATURES_TABLE} WHERE source = {sql_str(contract.name)} AND person = {sql_str(person)} "
            f"AND record_key IN (SELECT record_key FROM {staged})",
            f"INSERT INTO {FEATURES_TABLE} SELECT record_key, {sql_str(contract.name)}, {sql_str(person)}, "
            f"{sql_str(agency)}, {', '.join(FEATURE_TOKENS)} FROM {staged} ORDER BY record_key",
            f"DROP TABLE {staged}",
        ]
    return statements


def features_purge_sql(contract: Contract, key: bytes) -> list[str]:
    """Statements deleting feature rows whose event rows are gone (replaced or retired by a later file)."""
    statements = []
    for person in persons(contract):
        anchor_col = anchor_column(contract, person)
        if anchor_col is None:
            continue
        column = key_column(anchor_col)
        live = record_key_sql(key, contract, person, "_agency", quote_ident(column))
        statements.append(
            f"DELETE FROM {FEATURES_TABLE} WHERE source = {sql_str(contract.name)} AND person = {sql_str(person)} "
            f"AND record_key NOT IN (SELECT {live} FROM {contract.name} WHERE {quote_ident(column)} IS NOT NULL)"
        )
    return statements


def migrate_to_features(con: Any, key: bytes) -> list[str]:
    """Move a warehouse written before identity_features (schema 1) to schema 2, in place.

    Exact ages become bands, and birth-year and postcode-district tokens move from the event tables into
    ``identity_features`` (with their record keys), then leave the event tables.

    Returns:
        The tables changed (empty when there was nothing to do).
    """
    from cspkit.privacy.generalise import age_band_sql
    from cspkit.sources.contracts import CONTRACTS
    from cspkit.sources.vocabularies import BANDED, stored_name

    changed: list[str] = []
    for contract in CONTRACTS.values():
        columns = _table_columns(con, contract.name)
        table = quote_ident(contract.name)
        for (source, column), bands in BANDED.items():
            if source == contract.name and column in columns:
                band = stored_name(source, column)
                con.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {quote_ident(band)} VARCHAR")
                con.execute(f"UPDATE {table} SET {quote_ident(band)} = {age_band_sql(quote_ident(column), bands)}")
                con.execute(f"ALTER TABLE {table} DROP COLUMN {quote_ident(column)}")
                changed.append(contract.name)
        for person in persons(contract):
            old = [f"{person}_{t}" for t in LOW_ENTROPY_TOKENS]
            if not any(c in columns for c in old):
                continue
            anchor_col = anchor_column(contract, person)
            if anchor_col is not None:
                anchor = quote_ident(key_column(anchor_col))
                record = record_key_sql(key, contract, person, "_agency", anchor)
                values = ", ".join(quote_ident(c) if c in columns else "NULL" for c in old)
                low = ", ".join(LOW_ENTROPY_TOKENS)
                con.execute(
                    f"INSERT INTO {FEATURES_TABLE} (record_key, source, person, agency, {low}) "
                    f"SELECT DISTINCT {record} AS record_key, {sql_str(contract.name)}, "
                    f"{sql_str(person)}, _agency, {values} FROM {table} WHERE {anchor} IS NOT NULL "
                    f"AND ({' OR '.join(f'{quote_ident(c)} IS NOT NULL' for c in old if c in columns)}) "
                    "ORDER BY record_key"
                )
            for c in old:
                if c in columns:
                    con.execute(f"ALTER TABLE {table} DROP COLUMN {quote_ident(c)}")
            changed.append(contract.name)
    return sorted(set(changed))


def _table_columns(con: Any, table: str) -> set[str]:
    return {
        row[0]
        for row in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_catalog = current_database() "
            "AND table_schema = 'main' AND table_name = ?",
            [table],
        ).fetchall()
    }


def migrate_identity_features(con: Any, key: bytes) -> list[str]:
    """Move a schema 2 warehouse to schema 3, in place: every identity token and linkage feature still in an
    event table (exact tokens, bigram sets, Soundex codes, date-part pairs...) moves into ``identity_features``,
    merged with the record's low-entropy tokens already there, and leaves the event table.

    Returns:
        The event tables changed (empty when there was nothing to do).
    """
    from cspkit.sources.contracts import CONTRACTS

    for name, sql_type in IDENTITY_COLUMNS:
        con.execute(f"ALTER TABLE {FEATURES_TABLE} ADD COLUMN IF NOT EXISTS {name} {sql_type}")
    every = ", ".join(FEATURE_TOKENS)
    changed: list[str] = []
    for contract in CONTRACTS.values():
        columns = _table_columns(con, contract.name)
        table = quote_ident(contract.name)
        for person in persons(contract):
            moving = [t for t in FEATURE_TOKENS if f"{person}_{t}" in columns]
            if not moving:
                continue
            anchor_col = anchor_column(contract, person)
            if anchor_col is not None and key_column(anchor_col) in columns:
                anchor = quote_ident(key_column(anchor_col))
                record = record_key_sql(key, contract, person, "_agency", anchor)
                mine = f"source = {sql_str(contract.name)} AND person = {sql_str(person)}"
                merged = ", ".join(
                    f"coalesce(m.{t}, f.{t}) AS {t}" if t in moving else f"f.{t} AS {t}" for t in FEATURE_TOKENS
                )
                old = {t: quote_ident(f"{person}_{t}") for t in moving}
                con.execute("DROP TABLE IF EXISTS _moving")
                con.execute(
                    f"CREATE TEMP TABLE _moving AS SELECT DISTINCT {record} AS record_key, _agency AS agency, "
                    f"{', '.join(f'{c} AS {t}' for t, c in old.items())} FROM {table} WHERE {anchor} IS NOT NULL "
                    f"AND ({' OR '.join(f'{c} IS NOT NULL' for c in old.values())})"
                )
                con.execute("DROP TABLE IF EXISTS _merged")
                con.execute(
                    f"CREATE TEMP TABLE _merged AS SELECT coalesce(f.record_key, m.record_key) AS record_key, "
                    f"coalesce(f.agency, m.agency) AS agency, {merged} "
                    f"FROM (SELECT * FROM {FEATURES_TABLE} WHERE {mine}) AS f "
                    "FULL JOIN _moving AS m ON f.record_key = m.record_key"
                )
                con.execute(f"DELETE FROM {FEATURES_TABLE} WHERE {mine}")
                con.execute(
                    f"INSERT INTO {FEATURES_TABLE} (record_key, source, person, agency, {every}) "
                    f"SELECT record_key, {sql_str(contract.name)}, {sql_str(person)}, agency, {every} FROM _merged "
                    "ORDER BY record_key"
                )
                con.execute("DROP TABLE _moving")
                con.execute("DROP TABLE _merged")
            for t in moving:
                con.execute(f"ALTER TABLE {table} DROP COLUMN {quote_ident(f'{person}_{t}')}")
            changed.append(contract.name)
    return sorted(set(changed))

"""The person records linkage works on: every identified person in every partner source, one row each.

A person record is one role in one row of a partner table (the victim of an ASB incident, the perpetrator of a
DA incident, an offender's cohort membership). Only keyed values are read: the exact tokens and the linkage
features the gate derived (:mod:`cspkit.privacy.features`), the record's own case reference (a pseudonym) and
the agency's reference of the person (a pseudonym, only comparable within one agency and column).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from cspkit.sources.contracts import CONTRACTS
from cspkit.sql import quote_ident
from cspkit.warehouse.features import FEATURE_TOKENS, FEATURES_TABLE, anchor_column, record_key_sql
from cspkit.warehouse.schema import key_column

__all__ = ["FEATURE_COLUMNS", "ROLES", "Role", "records_sql", "unique_id_sql"]


@dataclass(frozen=True)
class Role:
    """Where the person records of one role live in the warehouse."""

    source: str
    role: str
    prefix: str  # column prefix of the identity tokens (victim, perpetrator, offender)
    record_key: str  # the row's case reference pseudonym
    ref_column: str  # the partner's person reference (stored as <base>_key)
    date_column: str
    extra_key: tuple[str, ...] = ()  # columns that make the record unique beside record_key

    @property
    def ref_key(self) -> str:
        return self.ref_column[: -len("_ref")] + "_key"


ROLES: tuple[Role, ...] = (
    Role("asb_incidents", "victim", "victim", "incident_key", "victim_ref", "reported_at"),
    Role("domestic_abuse", "victim", "victim", "incident_key", "victim_ref", "reported_at"),
    Role("domestic_abuse", "perpetrator", "perpetrator", "incident_key", "perpetrator_ref", "reported_at"),
    Role("marac_referrals", "victim", "victim", "referral_key", "victim_ref", "referral_date"),
    Role("marac_referrals", "perpetrator", "perpetrator", "referral_key", "perpetrator_ref", "referral_date"),
    Role("offenders", "offender", "offender", "offender_key", "offender_ref", "entry_date", ("cohort", "entry_date")),
)

#: record column -> token column suffix in the warehouse (``{prefix}_{suffix}``).
FEATURE_COLUMNS: dict[str, str] = {
    "forename": "forename_token",  # as written (no nickname table): the exact-match baseline uses it
    "forename_std": "forename_std_token",
    "forename_grams": "forename_grams",
    "forename_phonetic": "forename_phonetic",
    "surname": "surname_token",
    "surname_grams": "surname_grams",
    "surname_phonetic": "surname_phonetic",
    "dob": "dob_token",
    "dob_swap": "dob_swap_token",
    "dob_ym": "dob_ym_token",
    "dob_md": "dob_md_token",
    "dob_yd": "dob_yd_token",
    "postcode": "postcode_token",
    "postcode_sector": "postcode_sector_token",
    "postcode_district": "postcode_district_token",
}


def unique_id_sql(role: Role) -> str:
    """SQL of a record's stable id: a hash of source, role, agency and the record's own (pseudonymised) keys."""
    parts = ", ".join(
        [
            f"'{role.source}'",
            f"'{role.role}'",
            "_agency",
            role.record_key,
            *(f"CAST({c} AS VARCHAR)" for c in role.extra_key),
        ]
    )
    return f"left(md5(concat_ws('|', {parts})), 24)"


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> set[str]:
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? AND table_schema = 'main'", [table]
    ).fetchall()
    return {r[0] for r in rows}


def _kept_apart(key: bytes, role: Role, have: set[str], tables: set[str]) -> tuple[str, dict[str, str]]:
    """A join to the low-entropy tokens kept apart in identity_features, and the columns it gives.

    Those tokens (postcode district, birth year, forename initial) are not in the event tables; their rows hang on
    a keyed record key that only the key holder can compute (warehouse/features.py), so linkage, which holds the
    key, joins them here. One row per record key: a person's rows could in principle carry different tokens.
    """
    contract = CONTRACTS[role.source]
    anchor = anchor_column(contract, role.prefix)
    if FEATURES_TABLE not in tables or anchor is None or key_column(anchor) not in have:
        return "", {}
    record = record_key_sql(key, contract, role.prefix, "_agency", quote_ident(key_column(anchor)))
    tokens = ", ".join(f"min({t}) AS {t}" for t in FEATURE_TOKENS)
    join = (
        f" LEFT JOIN (SELECT record_key AS _feature_key, {tokens} FROM {FEATURES_TABLE} "
        f"WHERE source = '{role.source}' AND person = '{role.prefix}' GROUP BY record_key) AS _kept "
        f"ON _kept._feature_key = {record}"
    )
    return join, {f"{role.prefix}_{t}": f"_kept.{t}" for t in FEATURE_TOKENS}


def records_sql(con: duckdb.DuckDBPyConnection, key: bytes) -> str:
    """SQL of all person records in the warehouse (sources or roles without identity columns are skipped)."""
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    selects: list[str] = []
    for role in ROLES:
        have = _columns(con, role.source)
        token = {name: f"{role.prefix}_{suffix}" for name, suffix in FEATURE_COLUMNS.items()}
        if not {role.record_key, token["surname"], token["forename_grams"]} <= have:
            continue
        ref = role.ref_key if role.ref_key in have else "NULL"
        join, kept = _kept_apart(key, role, have, tables)
        # A column neither in the event table nor kept apart is NULL: its levels never fire, and the other
        # comparisons carry the match.
        features = ", ".join(
            f"{column if column in have else kept.get(column, 'NULL')} AS {name}" for name, column in token.items()
        )
        selects.append(
            f"SELECT {unique_id_sql(role)} AS unique_id, '{role.source}' AS source, '{role.role}' AS role, "
            f"_agency AS agency, {role.record_key} AS record_key, {ref} AS ref_key, "
            f"_agency || '|{role.ref_column}' AS ref_scope, CAST({role.date_column} AS DATE) AS event_date, "
            f"{features} FROM {role.source}{join} "
            f"WHERE coalesce({token['surname']}, {token['dob']}, {token['postcode']}) IS NOT NULL"
        )
    if not selects:
        return ""
    return " UNION ALL ".join(selects)

"""The person records linkage works on: every identified person in every partner source, one row each.

A person record is one role in one row of a partner table (the victim of an ASB incident, the perpetrator of a
DA incident, an offender's cohort membership). Only keyed values are read: the exact tokens and the linkage
features the gate derived (:mod:`cspkit.privacy.features`), the record's own case reference (a pseudonym) and
the agency's reference of the person (a pseudonym, only comparable within one agency and column). The tokens and
features are not in the event tables: they live in ``identity_features`` (warehouse/features.py), joined here
through the keyed record key, which only the key holder can compute.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from cspkit.sources.contracts import CONTRACTS
from cspkit.sql import quote_ident
from cspkit.warehouse.features import FEATURE_TOKENS, FEATURES_TABLE, anchor_column, record_key_sql
from cspkit.warehouse.schema import key_column

__all__ = ["FEATURE_COLUMNS", "ROLES", "Role", "agency_label", "records_sql", "unique_id_sql"]


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

#: record column -> its column in identity_features (the gate's ``{prefix}_{column}`` without the role prefix).
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


def _identity_join(key: bytes, role: Role, have: set[str]) -> str | None:
    """A join of a role's event rows to their tokens and features in identity_features (None when it cannot).

    The rows hang on a keyed record key that only the key holder can compute (warehouse/features.py); linkage
    holds the key. One row per record key, the same one every run: a person's rows could in principle carry
    different values (an offender's cohort rows share a reference), and mixing columns of two rows would make a
    record nobody wrote.
    """
    contract = CONTRACTS[role.source]
    anchor = anchor_column(contract, role.prefix)
    if anchor is None or key_column(anchor) not in have:
        return None
    record = record_key_sql(key, contract, role.prefix, "_agency", quote_ident(key_column(anchor)))
    every = ", ".join(FEATURE_TOKENS)
    return (
        f" JOIN (SELECT DISTINCT ON (record_key) record_key AS _feature_key, {every} FROM {FEATURES_TABLE} "
        f"WHERE source = '{role.source}' AND person = '{role.prefix}' ORDER BY record_key, {every}) AS _kept "
        f"ON _kept._feature_key = {record}"
    )


def records_sql(con: duckdb.DuckDBPyConnection, key: bytes) -> str:
    """SQL of all person records in the warehouse (sources or roles without identity features are skipped)."""
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if FEATURES_TABLE not in tables:
        return ""
    features = ", ".join(f"_kept.{column} AS {name}" for name, column in FEATURE_COLUMNS.items())
    selects: list[str] = []
    for role in ROLES:
        have = _columns(con, role.source)
        join = _identity_join(key, role, have)
        if role.record_key not in have or join is None:
            continue
        ref = role.ref_key if role.ref_key in have else "NULL"
        selects.append(
            f"SELECT {unique_id_sql(role)} AS unique_id, '{role.source}' AS source, '{role.role}' AS role, "
            f"_agency AS agency, {role.record_key} AS record_key, {ref} AS ref_key, "
            f"_agency || '|{role.ref_column}' AS ref_scope, CAST({role.date_column} AS DATE) AS event_date, "
            f"{features} FROM {role.source}{join} "
            "WHERE coalesce(_kept.surname_token, _kept.dob_token, _kept.postcode_token) IS NOT NULL"
        )
    if not selects:
        return ""
    return " UNION ALL ".join(selects)


def agency_label(source: str, agency: str) -> str:
    """The service a record comes from, as the multi-agency findings name it."""
    if source == "asb_incidents":
        return f"{agency} ASB"
    if source == "domestic_abuse":
        return f"{agency} DA"
    if source == "marac_referrals":
        return "MARAC"
    return "IOM/PPO"

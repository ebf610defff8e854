"""The privacy gate: the workspace key, pseudonyms for personal identifiers, and disclosure control.

Partner references (``*_ref``) and direct identifiers (``*_name``, ``*_dob``, ``*_postcode``) are replaced by
keyed pseudonyms before anything reaches the warehouse; public tables hide small counts.
"""

from typing import Any

from cspkit.privacy.keys import (
    KEY_BYTES,
    check_key_fingerprint,
    create_key,
    derive_key,
    key_fingerprint,
    key_permissions_ok,
    load_key,
)
from cspkit.privacy.pseudonymise import (
    PSEUDONYM_HEX_CHARS,
    TOKEN_NAMESPACES,
    forename_initial,
    identity_tokens,
    identity_tokens_sql,
    mask,
    masked_sample,
    normalise_dob,
    normalise_dob_sql,
    normalise_name,
    normalise_name_sql,
    normalise_postcode,
    normalise_postcode_sql,
    postcode_district,
    postcode_district_sql,
    postcode_sector,
    pseudonym,
    pseudonym_sql,
    ref_namespace,
    split_name,
    split_name_sql,
)

__all__ = [
    "KEY_BYTES",
    "PSEUDONYM_HEX_CHARS",
    "SECONDARY_MARKER",
    "TOKEN_NAMESPACES",
    "SuppressedTable",
    "check_key_fingerprint",
    "create_key",
    "derive_key",
    "forename_initial",
    "identity_tokens",
    "identity_tokens_sql",
    "key_fingerprint",
    "key_permissions_ok",
    "load_key",
    "mask",
    "masked_sample",
    "normalise_dob",
    "normalise_dob_sql",
    "normalise_name",
    "normalise_name_sql",
    "normalise_postcode",
    "normalise_postcode_sql",
    "postcode_district",
    "postcode_district_sql",
    "postcode_sector",
    "primary_marker",
    "pseudonym",
    "pseudonym_sql",
    "ref_namespace",
    "round_to",
    "split_name",
    "split_name_sql",
    "suppress_table",
    "suppress_value",
]


# Disclosure control needs pandas; it is imported on first use so that commands which only need the key or
# pseudonyms (init, ingest, status) start fast.
_DISCLOSURE = {"SECONDARY_MARKER", "SuppressedTable", "primary_marker", "round_to", "suppress_table", "suppress_value"}


def __getattr__(name: str) -> Any:
    if name in _DISCLOSURE:
        from cspkit.privacy import disclosure

        return getattr(disclosure, name)
    raise AttributeError(f"module 'cspkit.privacy' has no attribute {name!r}")

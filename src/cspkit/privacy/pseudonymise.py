"""Keyed pseudonyms for personal identifiers, computed identically in Python and in DuckDB SQL.

A pseudonym is ``HMAC-SHA256(key, namespace + "\\x1f" + value)`` as lowercase hex, cut to 32 characters
(128 bits). The value is first trimmed of whitespace (space, tab, CR, LF, VT, FF, no-break space); a value
that is missing or blank has no pseudonym (None / NULL). Ingest runs in SQL, so :func:`pseudonym_sql` builds a
DuckDB expression giving exactly the same string as :func:`pseudonym`.

Namespaces keep pseudonyms apart:

- partner references (``*_ref``) are namespaced by agency and column (:func:`ref_namespace`), so each agency's
  references stay stable yet never collide with another agency's;
- direct identifiers (``*_name``, ``*_dob``, ``*_postcode``) are normalised and then tokenised under
  namespaces that are *not* agency-specific (:data:`TOKEN_NAMESPACES`), so people can later be linked across
  agencies on tokens without anyone seeing the cleartext.

Name normalisation, the same in :func:`normalise_name` and :func:`normalise_name_sql`:

1. strip marks: canonical decomposition (NFD), drop every mark (Unicode categories Mn, Mc, Me), recompose
   (NFC): DuckDB's ``strip_accents``. "Zoë" becomes "Zoe", "Siân" "Sian";
2. lower-case each character by its simple mapping: DuckDB's ``lower``;
3. delete hyphens (category Pd), invisible format characters (Cf) and apostrophes ``' ‘ ’ ʼ ` ´``, so that
   "O'Brien" becomes "obrien" and "Smith-Jones" "smithjones";
4. turn every run of other characters that are not letters or digits (categories L*, N*) into one space;
5. trim spaces; an empty result is None.

Compatibility forms are not folded (DuckDB has no NFKC): "ﬁ" stays a ligature, "ß" stays "ß". Python and
DuckDB agree for every character assigned in Python's Unicode database (Unicode 14 in Python 3.11); characters
assigned later may be classified differently.

Warning: the SQL expressions embed key material (the HMAC pads). Treat them like the key: never log them, and
wrap DuckDB errors raised while running them without repeating the query text.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Callable, Iterable
from datetime import date

from cspkit.sql import sql_str

__all__ = [
    "PSEUDONYM_HEX_CHARS",
    "TOKEN_NAMESPACES",
    "forename_initial",
    "identity_tokens",
    "identity_tokens_sql",
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
    "pseudonym",
    "pseudonym_sql",
    "ref_namespace",
    "split_name",
    "split_name_sql",
]

PSEUDONYM_HEX_CHARS = 32
TOKEN_NAMESPACES = (
    "surname",
    "forename",
    "forename_initial",
    "dob",
    "birth_year",
    "postcode",
    "postcode_district",
)

_SEPARATOR = "\x1f"  # ASCII unit separator: cannot occur in a namespace, so namespace|value is unambiguous
_HMAC_BLOCK = 64  # SHA-256 block size in bytes
_TRIM_CHARS = " \t\n\r\v\f\u00a0"
_TRIM_CHARS_SQL = " || ".join(f"chr({ord(char)})" for char in _TRIM_CHARS)
_APOSTROPHES = "'‘’ʼ`´"
_MARK_CATEGORIES = frozenset({"Mn", "Mc", "Me"})
_JOINER_CATEGORIES = frozenset({"Pd", "Cf"})

_POSTCODE_SPACES = " \t\n\r\v\f\u00a0"
_POSTCODE_SPACES_RE = "[ \\t\\n\\r\\v\\f\\x{00A0}]"  # the same set, in RE2 syntax for DuckDB
_FULL_POSTCODE = "[A-Za-z]{1,2}[0-9][A-Za-z0-9]?[0-9][A-Za-z]{2}"
_OUTWARD_CODE = "[A-Za-z]{1,2}[0-9][A-Za-z0-9]?"
_FULL_POSTCODE_RE = re.compile(_FULL_POSTCODE)
_OUTWARD_CODE_RE = re.compile(_OUTWARD_CODE)

# Dates of birth: ISO or UK day-first, optionally with a midnight time as spreadsheets export them.
_MIDNIGHT = "[ T]00:00(:00)?$"
_ISO_DATE = "([1-9][0-9]{3})-([0-9]{1,2})-([0-9]{1,2})"
_UK_DATE = "([0-9]{1,2})/([0-9]{1,2})/([1-9][0-9]{3})"
_MIDNIGHT_RE = re.compile(_MIDNIGHT)
_ISO_DATE_RE = re.compile(_ISO_DATE)
_UK_DATE_RE = re.compile(_UK_DATE)


# --- Python normalisers ----------------------------------------------------------------------------


def _strip_blank(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip(_TRIM_CHARS)
    return value or None


def normalise_name(value: str | None) -> str | None:
    """Normalise a name as the module docstring says: "  Siân O'Brien-Smith " -> "sian obriensmith"."""
    if value is None:
        return None
    text = unicodedata.normalize("NFD", value)
    text = "".join(char for char in text if unicodedata.category(char) not in _MARK_CATEGORIES)
    text = unicodedata.normalize("NFC", text)
    # Character by character, so that Python's context-sensitive final sigma does not apply (as in DuckDB).
    text = "".join(char.lower() for char in text)
    kept = []
    for char in text:
        category = unicodedata.category(char)
        if category in _JOINER_CATEGORIES or char in _APOSTROPHES:
            continue
        kept.append(char if category[0] in "LN" else " ")
    return " ".join("".join(kept).split()) or None


def split_name(full_name: str | None) -> tuple[str | None, str | None]:
    """Split a full name into its normalised (forename, surname).

    The surname is the last word; the forename is the first word when there are two or more (middle names
    are dropped, as partners record them inconsistently). With a comma the surname comes first: "SMITH, John"
    gives ("john", "smith"), and "VAN DER BERG, Jan" gives ("jan", "berg") like "Jan van der Berg" does.
    """
    if full_name is None:
        return None, None
    if "," in full_name:
        surname_part, forename_part = full_name.split(",", 1)
        surname_words = (normalise_name(surname_part) or "").split()
        forename_words = (normalise_name(forename_part) or "").split()
        return (forename_words[0] if forename_words else None, surname_words[-1] if surname_words else None)
    words = (normalise_name(full_name) or "").split()
    if not words:
        return None, None
    return (words[0] if len(words) > 1 else None, words[-1])


def forename_initial(forename: str | None) -> str | None:
    """The first letter of the normalised forename: "Élodie" -> "e"."""
    normalised = normalise_name(forename)
    return normalised[0] if normalised else None


def normalise_postcode(value: str | None) -> str | None:
    """Upper-case a UK postcode without spaces: " lu7 1aa" -> "LU71AA".

    The shape is checked loosely (A9 9AA, A99 9AA, A9A 9AA, AA9 9AA, AA99 9AA, AA9A 9AA), not against the
    list of real postcodes.

    Raises:
        ValueError: the value is not shaped like a full UK postcode.
    """
    text = _strip_blank(value)
    if text is None:
        return None
    compact = "".join(char for char in text if char not in _POSTCODE_SPACES)
    if not _FULL_POSTCODE_RE.fullmatch(compact):
        raise ValueError(f"not a UK postcode: {mask(value)}")
    return compact.upper()


def postcode_district(value: str | None) -> str | None:
    """The postcode district (outward code): "LU7 1AA" -> "LU7". An outward code alone is accepted too.

    Raises:
        ValueError: the value is neither a full postcode nor an outward code.
    """
    text = _strip_blank(value)
    if text is None:
        return None
    compact = "".join(char for char in text if char not in _POSTCODE_SPACES)
    if _FULL_POSTCODE_RE.fullmatch(compact):
        return compact[:-3].upper()
    if _OUTWARD_CODE_RE.fullmatch(compact):
        return compact.upper()
    raise ValueError(f"not a UK postcode or postcode district: {mask(value)}")


def postcode_sector(value: str | None) -> str | None:
    """The postcode sector: "LU71AA" -> "LU7 1".

    Raises:
        ValueError: the value is not shaped like a full UK postcode.
    """
    compact = normalise_postcode(value)
    return None if compact is None else f"{compact[:-3]} {compact[-3]}"


def normalise_dob(value: str | None) -> str | None:
    """Read a date of birth given as YYYY-MM-DD or DD/MM/YYYY (UK order, never US) and return it as ISO.

    Leading zeros are optional and a midnight time ("1990-03-04 00:00:00", as spreadsheets export dates) is
    ignored.

    Raises:
        ValueError: the value is not a real date in one of those forms.
    """
    text = _strip_blank(value)
    if text is None:
        return None
    text = _MIDNIGHT_RE.sub("", text)
    if match := _ISO_DATE_RE.fullmatch(text):
        year, month, day = match.groups()
    elif match := _UK_DATE_RE.fullmatch(text):
        day, month, year = match.groups()
    else:
        raise ValueError(f"not a date in the form YYYY-MM-DD or DD/MM/YYYY: {mask(value)}")
    try:
        return date(int(year), int(month), int(day)).isoformat()
    except ValueError:
        raise ValueError(f"not a real date: {mask(value)}") from None


# --- pseudonyms ------------------------------------------------------------------------------------


def _check_namespace(namespace: str) -> None:
    if not namespace or _SEPARATOR in namespace:
        raise ValueError(f"a namespace must be non-empty and free of the separator: {namespace!r}")


def ref_namespace(agency: str, column: str) -> str:
    """The namespace for one agency's reference column: ``ref_namespace("Police", "victim_ref")`` ->
    ``"ref|police|victim_ref"``."""
    agency_key = agency.strip().casefold()
    if not agency_key or not column or "|" in agency_key + column:
        raise ValueError(f"an agency and column name are needed, without '|': {agency!r}, {column!r}")
    return f"ref|{agency_key}|{column}"


def pseudonym(key: bytes, namespace: str, value: str | None) -> str | None:
    """The pseudonym of ``value`` (trimmed) in ``namespace``; None for a missing or blank value."""
    _check_namespace(namespace)
    text = _strip_blank(value)
    if text is None:
        return None
    message = (namespace + _SEPARATOR + text).encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:PSEUDONYM_HEX_CHARS]


def _hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """The inner and outer padded keys of RFC 2104."""
    if len(key) > _HMAC_BLOCK:
        key = hashlib.sha256(key).digest()
    block = key.ljust(_HMAC_BLOCK, b"\x00")
    return bytes(byte ^ 0x36 for byte in block), bytes(byte ^ 0x5C for byte in block)


def _trimmed_sql(value_sql: str) -> str:
    """SQL: the value as VARCHAR, trimmed like :func:`_strip_blank`, NULL when blank."""
    return f"NULLIF(trim(CAST(({value_sql}) AS VARCHAR), {_TRIM_CHARS_SQL}), '')"


def pseudonym_sql(key: bytes, namespace: str, value_sql: str) -> str:
    """A DuckDB SQL expression giving :func:`pseudonym` of the SQL expression ``value_sql``.

    ``value_sql`` is cast to VARCHAR, so integer references work too (read references as text to keep leading
    zeros). The result is NULL when the value is NULL or blank. The expression contains key material: see the
    module docstring.
    """
    _check_namespace(namespace)
    inner_pad, outer_pad = _hmac_pads(key)
    inner_prefix = inner_pad + (namespace + _SEPARATOR).encode("utf-8")
    inner_hash = f"sha256(unhex('{inner_prefix.hex()}') || encode({_trimmed_sql(value_sql)}))"
    return f"left(sha256(unhex('{outer_pad.hex()}') || unhex({inner_hash})), {PSEUDONYM_HEX_CHARS})"


# --- SQL normalisers -------------------------------------------------------------------------------


def normalise_name_sql(value_sql: str) -> str:
    """SQL for :func:`normalise_name` of ``value_sql``."""
    joiners = sql_str("[\\p{Pd}\\p{Cf}" + _APOSTROPHES + "]")
    # strip_accents stops at a NUL character; NUL becomes a space in step 4 anyway, so replace it first.
    stripped = f"lower(strip_accents(replace(CAST(({value_sql}) AS VARCHAR), chr(0), ' ')))"
    joined = f"regexp_replace({stripped}, {joiners}, '', 'g')"
    spaced = f"regexp_replace({joined}, '[^\\p{{L}}\\p{{N}}]+', ' ', 'g')"
    return f"NULLIF(trim({spaced}), '')"


def _first_word_sql(normalised_sql: str) -> str:
    return f"regexp_extract({normalised_sql}, '^[^ ]+')"


def _last_word_sql(normalised_sql: str) -> str:
    return f"regexp_extract({normalised_sql}, '[^ ]+$')"


def split_name_sql(value_sql: str) -> tuple[str, str]:
    """SQL for :func:`split_name` of ``value_sql``: the (forename, surname) expressions."""
    raw = f"CAST(({value_sql}) AS VARCHAR)"
    has_comma = f"strpos({raw}, ',') > 0"
    whole = normalise_name_sql(raw)
    before_comma = normalise_name_sql(f"split_part({raw}, ',', 1)")
    after_comma = normalise_name_sql(f"substr({raw}, strpos({raw}, ',') + 1)")
    forename = (
        f"CASE WHEN {has_comma} THEN {_first_word_sql(after_comma)} "
        f"WHEN strpos({whole}, ' ') > 0 THEN {_first_word_sql(whole)} END"
    )
    surname = f"CASE WHEN {has_comma} THEN {_last_word_sql(before_comma)} ELSE {_last_word_sql(whole)} END"
    return forename, surname


def _compact_postcode_sql(value_sql: str) -> str:
    return f"regexp_replace(CAST(({value_sql}) AS VARCHAR), '{_POSTCODE_SPACES_RE}', '', 'g')"


def normalise_postcode_sql(value_sql: str) -> str:
    """SQL for :func:`normalise_postcode`, NULL where Python would raise ValueError."""
    compact = _compact_postcode_sql(value_sql)
    return f"CASE WHEN regexp_full_match({compact}, '{_FULL_POSTCODE}') THEN upper({compact}) END"


def postcode_district_sql(value_sql: str) -> str:
    """SQL for :func:`postcode_district`, NULL where Python would raise ValueError."""
    compact = _compact_postcode_sql(value_sql)
    return (
        f"CASE WHEN regexp_full_match({compact}, '{_FULL_POSTCODE}') "
        f"THEN upper(left({compact}, length({compact}) - 3)) "
        f"WHEN regexp_full_match({compact}, '{_OUTWARD_CODE}') THEN upper({compact}) END"
    )


def normalise_dob_sql(value_sql: str) -> str:
    """SQL for :func:`normalise_dob` (an ISO date as VARCHAR), NULL where Python would raise ValueError."""
    text = f"regexp_replace(trim(CAST(({value_sql}) AS VARCHAR), {_TRIM_CHARS_SQL}), '{_MIDNIGHT}', '')"
    return (
        f"CASE WHEN regexp_full_match({text}, '{_ISO_DATE}') "
        f"THEN strftime(try_strptime({text}, '%Y-%m-%d'), '%Y-%m-%d') "
        f"WHEN regexp_full_match({text}, '{_UK_DATE}') "
        f"THEN strftime(try_strptime({text}, '%d/%m/%Y'), '%Y-%m-%d') END"
    )


# --- identity tokens -------------------------------------------------------------------------------


def _or_none(normaliser: Callable[[str | None], str | None], value: str | None) -> str | None:
    """Apply a normaliser, giving None where it raises ValueError (as the SQL gives NULL)."""
    try:
        return normaliser(value)
    except ValueError:
        return None


def identity_tokens(
    key: bytes,
    person: str,
    *,
    name: str | None = None,
    dob: str | None = None,
    postcode: str | None = None,
) -> dict[str, str | None]:
    """The tokens :func:`identity_tokens_sql` computes, for one person's values in Python.

    Only the kinds passed are returned; values that cannot be read (a malformed date or postcode) give None.
    """
    tokens: dict[str, str | None] = {}
    if name is not None:
        forename, surname = split_name(name)
        tokens[f"{person}_surname_token"] = pseudonym(key, "surname", surname)
        tokens[f"{person}_forename_token"] = pseudonym(key, "forename", forename)
        tokens[f"{person}_forename_initial_token"] = pseudonym(
            key, "forename_initial", forename[0] if forename else None
        )
    if dob is not None:
        dob_iso = _or_none(normalise_dob, dob)
        tokens[f"{person}_dob_token"] = pseudonym(key, "dob", dob_iso)
        tokens[f"{person}_birth_year_token"] = pseudonym(key, "birth_year", dob_iso[:4] if dob_iso else None)
    if postcode is not None:
        postcode_full = _or_none(normalise_postcode, postcode)
        tokens[f"{person}_postcode_token"] = pseudonym(key, "postcode", postcode_full)
        tokens[f"{person}_postcode_district_token"] = pseudonym(
            key, "postcode_district", _or_none(postcode_district, postcode)
        )
    return tokens


def identity_tokens_sql(
    key: bytes,
    person: str,
    *,
    name_sql: str | None = None,
    dob_sql: str | None = None,
    postcode_sql: str | None = None,
) -> list[tuple[str, str]]:
    """The (output column, SQL expression) pairs of the identity tokens to store for one person.

    For ``person="victim"`` and all three inputs the columns are ``victim_surname_token``,
    ``victim_forename_token``, ``victim_forename_initial_token``, ``victim_dob_token``,
    ``victim_birth_year_token``, ``victim_postcode_token`` and ``victim_postcode_district_token``.
    Normalisation happens in SQL, identical to the Python normalisers; the expressions contain key material.

    Args:
        key: the workspace key.
        person: the role the tokens describe (victim, offender, perpetrator), used as column prefix.
        name_sql: SQL expression of the full name column, if any.
        dob_sql: SQL expression of the date-of-birth column, if any.
        postcode_sql: SQL expression of the postcode column, if any.
    """
    columns: list[tuple[str, str]] = []
    if name_sql is not None:
        forename, surname = split_name_sql(name_sql)
        columns += [
            (f"{person}_surname_token", pseudonym_sql(key, "surname", surname)),
            (f"{person}_forename_token", pseudonym_sql(key, "forename", forename)),
            (
                f"{person}_forename_initial_token",
                pseudonym_sql(key, "forename_initial", f"substring({forename}, 1, 1)"),
            ),
        ]
    if dob_sql is not None:
        dob_iso = normalise_dob_sql(dob_sql)
        columns += [
            (f"{person}_dob_token", pseudonym_sql(key, "dob", dob_iso)),
            (f"{person}_birth_year_token", pseudonym_sql(key, "birth_year", f"left({dob_iso}, 4)")),
        ]
    if postcode_sql is not None:
        columns += [
            (
                f"{person}_postcode_token",
                pseudonym_sql(key, "postcode", normalise_postcode_sql(postcode_sql)),
            ),
            (
                f"{person}_postcode_district_token",
                pseudonym_sql(key, "postcode_district", postcode_district_sql(postcode_sql)),
            ),
        ]
    return columns


# --- masking for messages --------------------------------------------------------------------------


def mask(value: str | None) -> str:
    """A hint of a value fit for messages and reject logs, never the value itself.

    "Johnson" -> "J*** (7 chars)"; dates -> "****-**-**"; values of three characters or fewer show no
    character at all: "AB" -> "*** (2 chars)"; missing or blank -> "(blank)".
    """
    text = _strip_blank(value)
    if text is None:
        return "(blank)"
    if _ISO_DATE_RE.fullmatch(_MIDNIGHT_RE.sub("", text)) or _UK_DATE_RE.fullmatch(text):
        return "****-**-**"
    length = f"({len(text)} char{'s' if len(text) != 1 else ''})"
    return f"*** {length}" if len(text) <= 3 else f"{text[0]}*** {length}"


def masked_sample(values: Iterable[str | None], limit: int = 3) -> str:
    """Up to ``limit`` distinct masked values, comma-separated, for a message about many rows."""
    masked: list[str] = []
    for value in values:
        hint = mask(value)
        if hint not in masked:
            masked.append(hint)
        if len(masked) == limit:
            break
    return ", ".join(masked)

"""Keyed linkage features: what the gate stores so people can be linked with typos, without clear text.

Exact tokens (:func:`cspkit.privacy.pseudonymise.identity_tokens_sql`) lose every misspelt name and every
date keyed day-first in one system and month-first in another. So, beside them, the gate derives features that
allow fuzzy comparison, each under the workspace key (HMAC-SHA256, as every pseudonym), in SQL while the file is
loaded; nothing in clear is stored. For a person role ``p`` (victim, perpetrator, offender):

- ``p_forename_std_token``: the forename after the nickname table (Bob, Rob, Bobby -> robert), keyed;
- ``p_forename_grams`` / ``p_surname_grams``: the set of keyed bigrams of the (canonical) forename and of the
  surname, padded (``^robert$`` -> ^r ro ob be er rt t$), each cut to 16 hex characters. Linkage compares two
  sets by Jaccard or Dice similarity: "Robret" and "Robert" share 5 of 9 distinct bigrams;
- ``p_forename_phonetic`` / ``p_surname_phonetic``: the keyed Soundex code (Smith, Smyth -> S530);
- ``p_dob_swap_token``: the date of birth with day and month swapped (when the day is 12 or less), keyed in the
  same namespace as ``p_dob_token``, so ``dob_swap_token = dob_token`` across two records means one system
  swapped them;
- ``p_dob_ym_token``, ``p_dob_md_token``, ``p_dob_yd_token``: keyed pairs of date parts (year-month, month-day,
  year-day), so "two of the three parts agree" is a token match (one mistyped part). Pairs, not single parts:
  a lone month or day token has 12 or 31 values and would be a low-entropy quasi-identifier in the warehouse;
- ``p_postcode_sector_token``: the keyed postcode sector (LU7 1), beside the unit and district tokens.

The privacy argument and its limits are in docs/linkage.md and docs/privacy.md. In short: without the key, every
value is an HMAC of a known-format string, so nothing can be looked up or brute-forced offline; what remains is
the pattern of equalities (which records share a bigram, a Soundex code, a birth month-day), which supports
frequency analysis of the commonest bigrams and codes. That is why gram tokens are short-lived in meaning (they
are only compared within one warehouse) and why no single low-entropy part is stored on its own.

Warning: like :func:`~cspkit.privacy.pseudonymise.pseudonym_sql`, the SQL embeds key material.
"""

from __future__ import annotations

from cspkit.privacy.nicknames import CANONICAL_FORENAME
from cspkit.privacy.pseudonymise import (
    normalise_dob_sql,
    normalise_postcode_sql,
    pseudonym_sql,
    split_name_sql,
)

__all__ = [
    "FEATURE_FIELDS",
    "GRAM_HEX_CHARS",
    "feature_columns",
    "linkage_features_sql",
    "soundex",
    "soundex_sql",
]

GRAM_HEX_CHARS = 16  # 64 bits: collisions between the few hundred distinct bigrams are negligible

#: Feature columns per kind of direct identifier, with their SQL types (``{p}`` is the person role).
FEATURE_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "name": (
        ("{p}_forename_std_token", "VARCHAR"),
        ("{p}_forename_grams", "VARCHAR[]"),
        ("{p}_forename_phonetic", "VARCHAR"),
        ("{p}_surname_grams", "VARCHAR[]"),
        ("{p}_surname_phonetic", "VARCHAR"),
    ),
    "dob": (
        ("{p}_dob_swap_token", "VARCHAR"),
        ("{p}_dob_ym_token", "VARCHAR"),
        ("{p}_dob_md_token", "VARCHAR"),
        ("{p}_dob_yd_token", "VARCHAR"),
    ),
    "postcode": (("{p}_postcode_sector_token", "VARCHAR"),),
}

# Soundex digit per letter a..z; h and w are handled apart (they do not separate equal codes).
_SOUNDEX_DIGITS = "01230120022455012623010202"
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def feature_columns(person: str, kind: str) -> list[tuple[str, str]]:
    """(column, SQL type) of the linkage features stored for one direct identifier column of a person role."""
    return [(name.format(p=person), sql_type) for name, sql_type in FEATURE_FIELDS.get(kind, ())]


# --- Soundex ---------------------------------------------------------------------------------------------


def soundex(name: str | None) -> str | None:
    """American Soundex of a normalised name (letters a-z only are read): "robert" -> "R163".

    The first letter is kept; the others become digits, h and w are skipped, vowels separate equal digits,
    runs of one digit count once (the first letter's own digit included), and the code is cut or padded to
    four characters. None when the name has no letter a-z.
    """
    letters = "".join(ch for ch in (name or "") if ch in _LETTERS)
    if not letters:
        return None
    first = letters[0]
    digits = [_SOUNDEX_DIGITS[_LETTERS.index(first)] if first not in "hw" else ""]
    for ch in letters[1:]:
        if ch in "hw":
            continue
        digits.append(_SOUNDEX_DIGITS[_LETTERS.index(ch)])
    collapsed: list[str] = []
    for digit in digits:
        if not collapsed or digit != collapsed[-1] or digit == "":
            collapsed.append(digit)
    code = "".join(d for d in collapsed[1:] if d != "0")
    return (first.upper() + code + "000")[:4]


def soundex_sql(name_sql: str) -> str:
    """SQL for :func:`soundex` of a normalised name expression."""
    return _once(f"regexp_replace(({name_sql}), '[^a-z]', '', 'g')", "s", _soundex_of_letters_sql("s"))


def _soundex_of_letters_sql(letters: str) -> str:
    first = f"left({letters}, 1)"
    # The first letter's digit (empty for h/w), then the rest with h and w deleted, each letter as its digit.
    first_digit = _digits_sql(first)
    rest = _digits_sql(f"substr({letters}, 2)")
    coded = f"({first_digit} || {rest})"
    collapsed = coded
    for digit in "0123456":
        collapsed = f"regexp_replace({collapsed}, '{digit}{digit}+', '{digit}', 'g')"
    # Drop the first letter's digit when it had one (h/w give none), then vowels' zeros; pad to 4.
    tail = _once(collapsed, "c", f"CASE WHEN {first} IN ('h', 'w') THEN c ELSE substr(c, 2) END")
    code = f"upper({first}) || left(replace({tail}, '0', '') || '000', 3)"
    return f"CASE WHEN {letters} <> '' THEN {code} END"


def _digits_sql(text_sql: str) -> str:
    """SQL: each letter as its Soundex digit, h and w deleted (translate drops letters without a counterpart)."""
    kept = [(ch, d) for ch, d in zip(_LETTERS, _SOUNDEX_DIGITS, strict=True) if ch not in "hw"]
    letters = "".join(ch for ch, _ in kept) + "hw"
    digits = "".join(d for _, d in kept)
    return f"translate({text_sql}, '{letters}', '{digits}')"


# --- features in SQL -------------------------------------------------------------------------------------


def _once(value_sql: str, name: str, body: str) -> str:
    """SQL evaluating ``value_sql`` once and ``body`` on it (as ``name``): DuckDB would otherwise repeat a
    long expression at every use, and inside a lambda at every list element (names are normalised by a chain
    of regular expressions, so this makes the gate several times faster)."""
    return f"list_transform([{value_sql}], lambda {name}: {body})[1]"


def _canonical_forename_sql(forename_sql: str) -> str:
    pairs = ", ".join(f"'{form}': '{canonical}'" for form, canonical in sorted(CANONICAL_FORENAME.items()))
    return _once(forename_sql, "f", f"coalesce(MAP {{{pairs}}}[f], f)")


def _grams_sql(key: bytes, namespace: str, word_sql: str) -> str:
    """SQL: the sorted distinct keyed bigrams of ``^word$`` (NULL for a NULL word)."""
    grams = "list_distinct(list_transform(range(1, length(w)), lambda i: substr(w, i::BIGINT, 2)))"
    keyed = (
        f"list_sort(list_transform({grams}, lambda g: left({pseudonym_sql(key, namespace, 'g')}, {GRAM_HEX_CHARS})))"
    )
    return _once(f"'^' || ({word_sql}) || '$'", "w", f"CASE WHEN w IS NOT NULL THEN {keyed} END")


def linkage_features_sql(
    key: bytes,
    person: str,
    *,
    name_sql: str | None = None,
    dob_sql: str | None = None,
    postcode_sql: str | None = None,
) -> list[tuple[str, str]]:
    """(output column, SQL expression) of the keyed linkage features of one person role (see module docstring).

    The inputs are SQL expressions of the raw full name, date of birth and postcode columns; only the kinds
    given produce columns. The expressions contain key material.
    """
    columns: list[tuple[str, str]] = []
    if name_sql is not None:
        forename, surname = split_name_sql(name_sql)
        canonical = _canonical_forename_sql(forename)
        columns += [
            (f"{person}_forename_std_token", pseudonym_sql(key, "link_forename", canonical)),
            (f"{person}_forename_grams", _grams_sql(key, "link_gram", canonical)),
            (f"{person}_forename_phonetic", pseudonym_sql(key, "link_phonetic", soundex_sql(canonical))),
            (f"{person}_surname_grams", _grams_sql(key, "link_gram", surname)),
            (f"{person}_surname_phonetic", pseudonym_sql(key, "link_phonetic", soundex_sql(surname))),
        ]
    if dob_sql is not None:
        iso = normalise_dob_sql(dob_sql)
        year, month, day = f"left({iso}, 4)", f"substr({iso}, 6, 2)", f"substr({iso}, 9, 2)"
        swapped = f"CASE WHEN {day} <= '12' AND {day} <> {month} THEN {year} || '-' || {day} || '-' || {month} END"
        columns += [
            (f"{person}_dob_swap_token", pseudonym_sql(key, "dob", swapped)),
            (f"{person}_dob_ym_token", pseudonym_sql(key, "dob_ym", f"{year} || '-' || {month}")),
            (f"{person}_dob_md_token", pseudonym_sql(key, "dob_md", f"{month} || '-' || {day}")),
            (f"{person}_dob_yd_token", pseudonym_sql(key, "dob_yd", f"{year} || '/' || {day}")),
        ]
    if postcode_sql is not None:
        unit = normalise_postcode_sql(postcode_sql)
        sector = f"left({unit}, length({unit}) - 3) || ' ' || substr({unit}, length({unit}) - 2, 1)"
        columns.append((f"{person}_postcode_sector_token", pseudonym_sql(key, "postcode_sector", sector)))
    return columns

"""Keyed linkage features: hand-computed values, SQL equal to Python where both exist, nothing in clear."""

from __future__ import annotations

import duckdb
import pytest

from cspkit.privacy.features import GRAM_HEX_CHARS, feature_columns, linkage_features_sql, soundex, soundex_sql
from cspkit.privacy.nicknames import CANONICAL_FORENAME, NICKNAME_FAMILIES
from cspkit.privacy.pseudonymise import pseudonym

KEY = bytes(range(32))


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    return duckdb.connect()


def _features(con: duckdb.DuckDBPyConnection, name: str | None, dob: str | None, postcode: str | None) -> dict:
    cols = linkage_features_sql(KEY, "p", name_sql="n", dob_sql="d", postcode_sql="pc")
    sql = (
        "SELECT "
        + ", ".join(f"{e} AS {c}" for c, e in cols)
        + " FROM (SELECT ?::VARCHAR n, ?::VARCHAR d, ?::VARCHAR pc)"
    )
    cur = con.execute(sql, [name, dob, postcode])
    names = [d[0] for d in cur.description or []]
    return dict(zip(names, cur.fetchall()[0], strict=True))


@pytest.mark.parametrize(
    ("name", "code"),
    [("robert", "R163"), ("rupert", "R163"), ("ashcraft", "A261"), ("tymczak", "T522"), ("pfister", "P236"),
     ("hughes", "H220"), ("smith", "S530"), ("smyth", "S530"), ("lee", "L000"), ("whitehead", "W330"), ("", None)],
)  # fmt: skip
def test_soundex_by_hand_in_python_and_sql(con: duckdb.DuckDBPyConnection, name: str, code: str | None) -> None:
    assert soundex(name) == code
    assert con.execute(f"SELECT {soundex_sql('x')} FROM (SELECT ?::VARCHAR x)", [name]).fetchall()[0][0] == code


def test_nickname_forms_belong_to_one_family() -> None:
    forms = [form for family in NICKNAME_FAMILIES.values() for form in family]
    assert len(forms) == len(set(forms))
    assert not set(forms) & set(NICKNAME_FAMILIES)  # a canonical name is never another family's form
    assert CANONICAL_FORENAME["bob"] == CANONICAL_FORENAME["bobby"] == "robert"


def test_nicknames_share_the_canonical_token_and_typos_share_most_bigrams(con: duckdb.DuckDBPyConnection) -> None:
    bob = _features(con, "Bob SMITH", None, None)
    robert = _features(con, "SMITH, Robert", None, None)
    robret = _features(con, "Robret Smyth", None, None)
    assert bob["p_forename_std_token"] == robert["p_forename_std_token"] == pseudonym(KEY, "link_forename", "robert")
    # ^robert$ has bigrams ^r ro ob be er rt t$; ^robret$ has ^r ro ob br re et t$: 4 shared of 7 + 7, Dice 8/14
    a, b = set(robert["p_forename_grams"]), set(robret["p_forename_grams"])
    assert (len(a), len(b), len(a & b)) == (7, 7, 4)
    assert all(len(g) == GRAM_HEX_CHARS and int(g, 16) >= 0 for g in a)
    assert a & b == {pseudonym(KEY, "link_gram", g)[:GRAM_HEX_CHARS] for g in ("^r", "ro", "ob", "t$")}
    assert robert["p_forename_phonetic"] == robret["p_forename_phonetic"] == pseudonym(KEY, "link_phonetic", "R163")
    assert robert["p_surname_phonetic"] == robret["p_surname_phonetic"]  # Smith, Smyth: S530
    assert robert["p_surname_grams"] != robret["p_surname_grams"]


def test_date_of_birth_swap_and_part_pairs(con: duckdb.DuckDBPyConnection) -> None:
    march = _features(con, None, "1990-03-04", None)
    april = _features(con, None, "04/04/1990", None)  # UK order: 4 April
    swapped = _features(con, None, "1990-04-03", None)
    assert march["p_dob_swap_token"] == pseudonym(KEY, "dob", "1990-04-03")  # compares with dob_token
    assert swapped["p_dob_swap_token"] == pseudonym(KEY, "dob", "1990-03-04")
    assert april["p_dob_swap_token"] is None  # day equals month: no swap
    assert _features(con, None, "1990-03-25", None)["p_dob_swap_token"] is None  # day > 12
    assert march["p_dob_ym_token"] == pseudonym(KEY, "dob_ym", "1990-03")
    assert march["p_dob_md_token"] == pseudonym(KEY, "dob_md", "03-04")
    assert march["p_dob_yd_token"] == pseudonym(KEY, "dob_yd", "1990/04")
    assert march["p_dob_yd_token"] == april["p_dob_yd_token"] and march["p_dob_ym_token"] != april["p_dob_ym_token"]


def test_postcode_sector_and_missing_values(con: duckdb.DuckDBPyConnection) -> None:
    assert _features(con, None, None, "lu7 1aa")["p_postcode_sector_token"] == pseudonym(
        KEY, "postcode_sector", "LU7 1"
    )
    assert _features(con, None, None, "LU71AB")["p_postcode_sector_token"] == pseudonym(KEY, "postcode_sector", "LU7 1")
    empty = _features(con, None, "not a date", "nonsense")
    assert all(v is None for v in empty.values())


def test_features_are_keyed_and_hold_no_clear_text(con: duckdb.DuckDBPyConnection) -> None:
    values = _features(con, "Zebediah Quillfeather", "1971-03-14", "LU7 9QZ")
    assert [c for c, v in values.items() if v is None] == ["p_dob_swap_token"]  # the 14th has no swap
    flat = [
        v for value in values.values() if value is not None for v in (value if isinstance(value, list) else [value])
    ]
    assert flat and all(isinstance(v, str) and set(v) <= set("0123456789abcdef") for v in flat)
    other_key = linkage_features_sql(b"another key", "p", name_sql="'Zebediah Quillfeather'")
    other = con.execute("SELECT " + ", ".join(e for _, e in other_key)).fetchall()[0]
    assert other[0] != values["p_forename_std_token"] and set(other[1]).isdisjoint(values["p_forename_grams"])


def test_feature_columns_per_kind() -> None:
    assert [c for c, _ in feature_columns("victim", "dob")] == [
        "victim_dob_swap_token",
        "victim_dob_ym_token",
        "victim_dob_md_token",
        "victim_dob_yd_token",
    ]
    assert ("victim_forename_grams", "VARCHAR[]") in feature_columns("victim", "name")
    assert feature_columns("victim", "text") == []

"""Age bands, label vocabularies and identifier screening: SQL and Python agree, and they catch what they should."""

from __future__ import annotations

import duckdb
import pytest

from cspkit.privacy.generalise import (
    age_band,
    age_band_sql,
    band_labels,
    find_identifier,
    identifier_condition_sql,
    normalise_label,
    normalise_label_sql,
    vocabulary_sql,
)
from cspkit.sql import sql_str

BANDS = (0, 16, 25, 35, 45, 55, 65)

HOLDING_IDENTIFIERS = {
    "Call J Smith 07700 900999": "phone",
    "ring 01234 567890 after 6": "phone",
    "+44 7700 900123": "phone",
    "see jo.bloggs@example.org": "email",
    "lives at LU7 1AA": "postcode",
    "NI AB 12 34 56 C": "ni_number",
    "born 12/03/1984": "date",
    "since 2023-01-05": "date",
    "Mr Quillfeather shouting": "name",
    "dispute with Mrs Brown": "name",
    "J. Smith next door": "name",
    "Sarah Connor again": "name",
}
CLEAN = (
    "Noise",
    "Fly-tipping",
    "Rowdy or inconsiderate behaviour",
    "Community Protection Warning",
    "Fixed penalty notice (£100)",
    "Case closed - resolved",
    "Green space misuse",
    "IOM",
    "Violence against the person",
    "children's services",
    "Dog fouling near LU7",
    "Section 35 dispersal",
)


def _sql_value(con: duckdb.DuckDBPyConnection, expression: str) -> object:
    return con.execute(f"SELECT {expression}").fetchall()[0][0]


@pytest.mark.parametrize(("text", "kind"), HOLDING_IDENTIFIERS.items())
def test_identifiers_are_found_in_python_and_sql(text: str, kind: str) -> None:
    assert find_identifier(text) == kind
    con = duckdb.connect()
    assert _sql_value(con, identifier_condition_sql(sql_str(text))) is True


@pytest.mark.parametrize("text", CLEAN)
def test_category_words_pass(text: str) -> None:
    assert find_identifier(text) is None
    con = duckdb.connect()
    assert _sql_value(con, identifier_condition_sql(sql_str(text))) is False


def test_a_missing_value_is_not_an_identifier() -> None:
    assert find_identifier(None) is None
    assert _sql_value(duckdb.connect(), identifier_condition_sql("NULL::VARCHAR")) is False


def test_age_bands_agree_and_cover_every_age() -> None:
    assert band_labels(BANDS) == ["0-15", "16-24", "25-34", "35-44", "45-54", "55-64", "65+"]
    con = duckdb.connect()
    rows = con.execute(f"SELECT i, {age_band_sql('i', BANDS)} FROM range(-1, 121) t(i) ORDER BY i").fetchall()
    assert all(band == age_band(int(i), BANDS) for i, band in rows)
    assert (age_band(15, BANDS), age_band(16, BANDS), age_band(64, BANDS), age_band(65, BANDS)) == (
        "0-15",
        "16-24",
        "55-64",
        "65+",
    )
    assert age_band(None, BANDS) is None and age_band(-1, BANDS) is None


def test_labels_map_onto_the_vocabulary() -> None:
    values = ("Noise", "Fly-tipping", "Other")
    aliases = (("fly tipping", "Fly-tipping"),)
    expression = vocabulary_sql("v", values, aliases, other="Other")
    con = duckdb.connect()
    cases = {
        "noise": "Noise",
        "  NOISE ": "Noise",
        "Fly  Tipping": "Fly-tipping",
        "fly-tipping": "Fly-tipping",
        "Parking on verge": "Other",
        "": None,
    }
    for given, expected in cases.items():
        assert _sql_value(con, f"(SELECT {expression} FROM (SELECT {sql_str(given)} AS v))") == expected, given
    assert _sql_value(con, f"(SELECT {expression} FROM (SELECT NULL::VARCHAR AS v))") is None
    assert (
        normalise_label("  Fly  Tipping ") == "fly tipping" == _sql_value(con, normalise_label_sql("'  Fly  Tipping '"))
    )

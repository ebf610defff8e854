import hashlib
import hmac
import unicodedata
from collections.abc import Callable, Iterator, Sequence

import duckdb
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cspkit.privacy.pseudonymise import (
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

KEY = bytes.fromhex("3f" * 16 + "a0" * 16)

UK_NAMES = [
    "John Smith",
    "SMITH, John",
    "Smith,John",
    "smith ,  john paul",
    "Mary O'Brien",
    "Mary O’Brien",
    "Aoife Ní Bhriain",
    "Jane Smith-Jones",
    "Jane  Smith - Jones",
    "Zoë Ellis",
    "Siân Llŷr",
    "Siân  Evans",
    "  Dafydd   ap Gwilym  ",
    "Jan van der Berg",
    "VAN DER BERG, Jan",
    "Renée Zellweger",
    "José María García-López",
    "Chloé D'Arcy",
    "MCDONALD, Ross",
    "J. R. R. Tolkien",
    "Dr. Priya Patel",
    "Nguyễn Văn An",
    "Łukasz Żółć",
    "Øystein Ødegaard",
    "Müller-Lüdenscheidt, Heinz",
    "Mohammed Al-Hassan",
    "Ayşe Yılmaz",
    "İbrahim Öztürk",
    "ΟΔΥΣΣΕΥΣ Παπαδόπουλος",
    "Иван Петров",
    "李 小龍",
    "Madonna",
    "O'",
    "-",
    ",",
    ", John",
    "Smith,",
    "   ",
    "",
    "Name\u00a0With\u00a0NBSP",
    "Tab\tSeparated\nName",
    "zero\u200bwidth",
    "soft\u00adhyphen",
    "Emoji 😀 Person",
    "Nul\x00Zoë",
]


@pytest.fixture(scope="module")
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    connection = duckdb.connect()
    yield connection
    connection.close()


def sql_column(con: duckdb.DuckDBPyConnection, expression: str, values: Sequence[object]) -> list[object]:
    """Evaluate a SQL expression over column ``v`` of a table holding ``values``, in order."""
    table = pa.table({"i": list(range(len(values))), "v": list(values)})
    con.register("value_table", table)
    try:
        return [row[0] for row in con.sql(f"SELECT {expression} FROM value_table ORDER BY i").fetchall()]
    finally:
        con.unregister("value_table")


def or_none(function: Callable[[str | None], str | None], value: str | None) -> str | None:
    try:
        return function(value)
    except ValueError:
        return None


def reference_pseudonym(key: bytes, namespace: str, value: str) -> str:
    return hmac.new(key, (namespace + "\x1f" + value).encode("utf-8"), hashlib.sha256).hexdigest()[:32]


# --- pseudonym -----------------------------------------------------------------------------------------------


def test_pseudonym_is_hmac_sha256_of_namespace_separator_value() -> None:
    assert pseudonym(KEY, "ref|police|victim_ref", "V123") == reference_pseudonym(KEY, "ref|police|victim_ref", "V123")
    assert len(pseudonym(KEY, "ns", "x") or "") == 32


def test_pseudonym_trims_and_gives_none_for_blank() -> None:
    assert pseudonym(KEY, "ns", None) is None
    assert pseudonym(KEY, "ns", "") is None
    assert pseudonym(KEY, "ns", " \t\u00a0\n") is None
    assert pseudonym(KEY, "ns", "  V1 \t") == pseudonym(KEY, "ns", "V1")


def test_pseudonym_depends_on_key_namespace_and_case() -> None:
    base = pseudonym(KEY, "ns", "V1")
    assert pseudonym(bytes(32), "ns", "V1") != base
    assert pseudonym(KEY, "other", "V1") != base
    assert pseudonym(KEY, "ns", "v1") != base


def test_namespace_must_not_hold_the_separator() -> None:
    with pytest.raises(ValueError):
        pseudonym(KEY, "a\x1fb", "x")
    with pytest.raises(ValueError):
        pseudonym_sql(KEY, "", "v")


def test_ref_namespace() -> None:
    assert ref_namespace("police", "victim_ref") == "ref|police|victim_ref"
    assert ref_namespace(" Police ", "victim_ref") == "ref|police|victim_ref"
    assert pseudonym(KEY, ref_namespace("police", "victim_ref"), "A1") != pseudonym(
        KEY, ref_namespace("council", "victim_ref"), "A1"
    )
    with pytest.raises(ValueError):
        ref_namespace("a|b", "victim_ref")
    with pytest.raises(ValueError):
        ref_namespace(" ", "victim_ref")


PARITY_VALUES: list[str | None] = [
    "V123",
    "  padded  ",
    "Zoë",
    "Siân",
    "naïve café",
    "😀🏳️‍🌈 emoji",
    "李小龍",
    "quote ' and \" and \\ backslash",
    "new\nline",
    "x" * 10_000,
    "é" * 3_000,
    "",
    "   ",
    None,
    "0",
    "\x1f",
]


@pytest.mark.parametrize("key", [KEY, b"Jefe", bytes(range(131))], ids=["32-byte", "short", "131-byte"])
def test_pseudonym_sql_matches_python(con: duckdb.DuckDBPyConnection, key: bytes) -> None:
    namespace = "ref|police|victim_ref"
    got = sql_column(con, pseudonym_sql(key, namespace, "v"), PARITY_VALUES)
    assert got == [pseudonym(key, namespace, value) for value in PARITY_VALUES]
    assert got[0] == reference_pseudonym(key, namespace, "V123")
    assert got[-5:-2] == [None, None, None]


def test_pseudonym_sql_namespace_with_quote_and_accent(con: duckdb.DuckDBPyConnection) -> None:
    namespace = "ref|o'brien agency é|victim_ref"
    assert sql_column(con, pseudonym_sql(KEY, namespace, "v"), ["A1"]) == [pseudonym(KEY, namespace, "A1")]


def test_pseudonym_sql_casts_integer_references(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.sql(f"SELECT {pseudonym_sql(KEY, 'ns', 'x')} FROM (VALUES (123::BIGINT)) t(x)").fetchall()
    assert rows == [(pseudonym(KEY, "ns", "123"),)]


def assigned_characters() -> st.SearchStrategy[str]:
    # Parity is promised for characters Python 3.11's Unicode database knows (see the module docstring).
    return st.characters(blacklist_categories=("Cs", "Cn"))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(alphabet=assigned_characters(), max_size=40)), max_size=20))
def test_pseudonym_sql_matches_python_property(values: list[str | None]) -> None:
    with duckdb.connect() as con:
        got = sql_column(con, pseudonym_sql(KEY, "surname", "v"), values)
    assert got == [pseudonym(KEY, "surname", value) for value in values]


# --- normalisers ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("John Smith", "john smith"),
        ("  SMITH,  John ", "smith john"),
        ("O'Brien", "obrien"),
        ("O’Brien", "obrien"),
        ("Smith-Jones", "smithjones"),
        ("Zoë", "zoe"),
        ("Siân", "sian"),
        ("J.Smith", "j smith"),
        ("Łukasz", "łukasz"),
        ("İbrahim", "ibrahim"),
        ("ΟΔΥΣΣΕΥΣ", "οδυσσευσ"),
        ("Mary\u00a0Ann", "mary ann"),
        ("e\u0301lodie", "elodie"),
        ("''", None),
        ("   ", None),
        ("", None),
        (None, None),
    ],
)
def test_normalise_name(raw: str | None, expected: str | None) -> None:
    assert normalise_name(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("John Smith", ("john", "smith")),
        ("John Paul Smith", ("john", "smith")),
        ("SMITH, John", ("john", "smith")),
        ("SMITH, John Paul", ("john", "smith")),
        ("Jan van der Berg", ("jan", "berg")),
        ("VAN DER BERG, Jan", ("jan", "berg")),
        ("Jane Smith-Jones", ("jane", "smithjones")),
        ("Madonna", (None, "madonna")),
        (", John", ("john", None)),
        ("Smith,", (None, "smith")),
        ("  ", (None, None)),
        (None, (None, None)),
    ],
)
def test_split_name(raw: str | None, expected: tuple[str | None, str | None]) -> None:
    assert split_name(raw) == expected


def test_forename_initial() -> None:
    assert forename_initial("Élodie") == "e"
    assert forename_initial("  ") is None
    assert forename_initial(None) is None


@pytest.mark.parametrize(
    ("raw", "full", "district", "sector"),
    [
        ("LU7 1AA", "LU71AA", "LU7", "LU7 1"),
        (" lu71aa ", "LU71AA", "LU7", "LU7 1"),
        ("W1A 0AX", "W1A0AX", "W1A", "W1A 0"),
        ("M1 1AE", "M11AE", "M1", "M1 1"),
        ("EC1A\u00a01BB", "EC1A1BB", "EC1A", "EC1A 1"),
        ("SW1W 0NY", "SW1W0NY", "SW1W", "SW1W 0"),
        (None, None, None, None),
        ("  ", None, None, None),
    ],
)
def test_postcodes(raw: str | None, full: str | None, district: str | None, sector: str | None) -> None:
    assert normalise_postcode(raw) == full
    assert postcode_district(raw) == district
    assert postcode_sector(raw) == sector


def test_postcode_district_accepts_an_outward_code_alone() -> None:
    assert postcode_district("lu7") == "LU7"
    with pytest.raises(ValueError):
        normalise_postcode("LU7")


@pytest.mark.parametrize("raw", ["LU7 1A", "1U7 1AA", "LU7 1AAA", "not a postcode", "LU71ÄA", "ABC1 1AA"])
def test_bad_postcodes_raise_without_echoing_the_value(raw: str) -> None:
    with pytest.raises(ValueError) as error:
        normalise_postcode(raw)
    assert raw not in str(error.value)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1990-12-31", "1990-12-31"),
        ("1990-2-3", "1990-02-03"),
        ("31/12/1990", "1990-12-31"),
        ("03/04/1990", "1990-04-03"),
        ("3/4/1990", "1990-04-03"),
        ("29/02/2000", "2000-02-29"),
        (" 1990-12-31 00:00:00 ", "1990-12-31"),
        ("1990-12-31T00:00", "1990-12-31"),
        (None, None),
        ("  ", None),
    ],
)
def test_normalise_dob(raw: str | None, expected: str | None) -> None:
    assert normalise_dob(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["12/31/1990", "31/02/1990", "29/02/1900", "1990-13-01", "0990-01-01", "31-12-1990", "1990/12/31", "yesterday"],
)
def test_bad_dates_raise(raw: str) -> None:
    with pytest.raises(ValueError):
        normalise_dob(raw)


# --- SQL normalisers agree with Python -------------------------------------------------------------------------


def test_normalise_name_sql_matches_python_on_uk_names(con: duckdb.DuckDBPyConnection) -> None:
    values: list[str | None] = [*UK_NAMES, None]
    assert sql_column(con, normalise_name_sql("v"), values) == [normalise_name(value) for value in values]


def test_split_name_sql_matches_python_on_uk_names(con: duckdb.DuckDBPyConnection) -> None:
    values: list[str | None] = [*UK_NAMES, None]
    forename_sql, surname_sql = split_name_sql("v")
    assert sql_column(con, forename_sql, values) == [split_name(value)[0] for value in values]
    assert sql_column(con, surname_sql, values) == [split_name(value)[1] for value in values]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet=assigned_characters(), max_size=30), min_size=1, max_size=20))
def test_name_normalisation_sql_matches_python_property(values: list[str]) -> None:
    forename_sql, surname_sql = split_name_sql("v")
    with duckdb.connect() as con:
        assert sql_column(con, normalise_name_sql("v"), values) == [normalise_name(v) for v in values]
        assert sql_column(con, forename_sql, values) == [split_name(v)[0] for v in values]
        assert sql_column(con, surname_sql, values) == [split_name(v)[1] for v in values]


POSTCODES = ["LU7 1AA", " lu71aa", "W1A 0AX", "EC1A\u00a01BB", "LU7", "lu7 ", "LU7 1A", "L", "", "  ", None, "SW1W 0NY"]
DATES = [
    "1990-12-31",
    "1990-2-3",
    "31/12/1990",
    "3/4/1990",
    "29/02/2000",
    "29/02/1900",
    "31/04/1990",
    "12/31/1990",
    "1990-00-10",
    "0999-01-01",
    "1990-12-31 00:00:00",
    "1990-12-31T00:00",
    "1990-12-31 10:00:00",
    " 1990-12-31\t",
    "",
    None,
    "garbage",
]


def test_postcode_sql_matches_python(con: duckdb.DuckDBPyConnection) -> None:
    assert sql_column(con, normalise_postcode_sql("v"), POSTCODES) == [
        or_none(normalise_postcode, value) for value in POSTCODES
    ]
    assert sql_column(con, postcode_district_sql("v"), POSTCODES) == [
        or_none(postcode_district, value) for value in POSTCODES
    ]


def test_dob_sql_matches_python(con: duckdb.DuckDBPyConnection) -> None:
    expected = [or_none(normalise_dob, value) for value in DATES]
    assert expected[:5] == ["1990-12-31", "1990-02-03", "1990-12-31", "1990-04-03", "2000-02-29"]
    assert sql_column(con, normalise_dob_sql("v"), DATES) == expected


def test_dob_sql_accepts_date_columns(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.sql(f"SELECT {normalise_dob_sql('d')} FROM (VALUES (DATE '1990-12-31')) t(d)").fetchall()
    assert rows == [("1990-12-31",)]


# --- identity tokens -------------------------------------------------------------------------------------------


def test_identity_tokens_sql_columns_and_parity(con: duckdb.DuckDBPyConnection) -> None:
    people = [
        ("SMITH, John", "31/12/1990", "LU7 1AA"),
        ("John Smith", "1990-12-31", "lu71aa"),
        ("Zoë O'Brien-Smith", "03/04/1985", "LU7"),
        ("Madonna", "31/02/1985", "not a postcode"),
        (None, None, None),
        ("  ", " ", " "),
    ]
    table = pa.table(
        {
            "i": list(range(len(people))),
            "victim_name": [p[0] for p in people],
            "victim_dob": [p[1] for p in people],
            "victim_postcode": [p[2] for p in people],
        }
    )
    con.register("people", table)
    columns = identity_tokens_sql(
        KEY, "victim", name_sql="victim_name", dob_sql="victim_dob", postcode_sql="victim_postcode"
    )
    names = [name for name, _ in columns]
    assert names == [
        "victim_surname_token",
        "victim_forename_token",
        "victim_forename_initial_token",
        "victim_dob_token",
        "victim_birth_year_token",
        "victim_postcode_token",
        "victim_postcode_district_token",
    ]
    select = ", ".join(f"{sql} AS {name}" for name, sql in columns)
    rows = con.sql(f"SELECT {select} FROM people ORDER BY i").fetchall()
    con.unregister("people")
    expected = [identity_tokens(KEY, "victim", name=name, dob=dob, postcode=postcode) for name, dob, postcode in people]
    got = [dict(zip(names, row, strict=True)) for row in rows]
    assert got[:4] + got[5:] == expected[:4] + expected[5:]
    assert expected[4] == {}  # identity_tokens leaves out kinds not given
    # The two spellings of John Smith born 31/12/1990 in LU7 1AA give the same tokens.
    assert rows[0] == rows[1]
    assert rows[0][0] == pseudonym(KEY, "surname", "smith")
    assert rows[0][2] == pseudonym(KEY, "forename_initial", "j")
    assert rows[0][4] == pseudonym(KEY, "birth_year", "1990")
    assert rows[0][6] == pseudonym(KEY, "postcode_district", "LU7")
    # An outward code alone still gives a district token, and unreadable values give none.
    assert rows[2][5] is None and rows[2][6] == pseudonym(KEY, "postcode_district", "LU7")
    assert rows[3][1] is None and rows[3][3] is None and rows[3][5] is None
    assert all(value is None for value in rows[4])
    assert all(value is None for value in rows[5])


def test_identity_tokens_only_for_the_kinds_given() -> None:
    assert [name for name, _ in identity_tokens_sql(KEY, "offender", dob_sql="d")] == [
        "offender_dob_token",
        "offender_birth_year_token",
    ]
    assert list(identity_tokens(KEY, "offender", postcode="LU7 1AA")) == [
        "offender_postcode_token",
        "offender_postcode_district_token",
    ]


def test_tokens_are_not_agency_namespaced() -> None:
    assert set(TOKEN_NAMESPACES) == {
        "surname",
        "forename",
        "forename_initial",
        "dob",
        "birth_year",
        "postcode",
        "postcode_district",
    }
    assert all("|" not in namespace for namespace in TOKEN_NAMESPACES)


# --- masking -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Johnson", "J*** (7 chars)"),
        ("  LU7 1AA ", "L*** (7 chars)"),
        ("AB", "*** (2 chars)"),
        ("A", "*** (1 char)"),
        ("1990-12-31", "****-**-**"),
        ("31/12/1990", "****-**-**"),
        (None, "(blank)"),
        ("  ", "(blank)"),
    ],
)
def test_mask(raw: str | None, expected: str) -> None:
    assert mask(raw) == expected


def test_masked_sample() -> None:
    values = ["Johnson", "Jackson", "Smith", None, "Brown"]
    assert masked_sample(values) == "J*** (7 chars), S*** (5 chars), (blank)"
    assert masked_sample(values, limit=1) == "J*** (7 chars)"
    assert masked_sample([]) == ""


def test_unicode_database_is_the_one_parity_was_checked_against() -> None:
    # If Python's Unicode version changes, re-run the full per-character parity check (see module docstring).
    assert unicodedata.unidata_version.split(".")[0] in {"14", "15", "16"}


def test_normalise_name_sql_matches_python_on_every_assigned_bmp_character(
    con: duckdb.DuckDBPyConnection,
) -> None:
    values = [
        f"Ab{chr(code)}c d"
        for code in range(0x20, 0x10000)
        if not 0xD800 <= code <= 0xDFFF and unicodedata.category(chr(code)) != "Cn"
    ]
    got = sql_column(con, normalise_name_sql("v"), values)
    mismatches = [value for value, result in zip(values, got, strict=True) if result != normalise_name(value)]
    assert mismatches == []

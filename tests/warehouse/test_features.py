"""Low-entropy tokens cannot be turned back into birth years without the key.

The attack that worked before (issue 15): birth-year tokens sat in the domestic abuse table beside ``victim_age``,
so ``mode(year(reported_at) - victim_age)`` per token gave each token's birth year (64 of 65), and so every row in
every agency carrying that token. Now ages are banded and the tokens live in ``identity_features``, with nothing
that joins them to an event row unless one holds the key.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from cspkit.ingest import ingest_paths
from cspkit.privacy.pseudonymise import pseudonym, ref_namespace
from cspkit.sources.contracts import CONTRACTS
from cspkit.warehouse.features import FEATURES_TABLE, IDENTITY_COLUMNS, record_key_sql
from cspkit.warehouse.schema import SCHEMA_VERSION, all_ddl
from cspkit.warehouse.store import get_meta, query
from cspkit.workspace import Workspace

END = date(2023, 3, 31)


def _age(dob: date, on: date) -> int:
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


def _da_rows(seed: int = 7) -> tuple[list[dict[str, str]], dict[str, int]]:
    """Domestic abuse incidents shaped like the real thing: 300 victims born 1945-2006, 1 to 8 incidents each
    over three years, exact ages at each incident. Returns the rows and each victim's birth year."""
    rng = random.Random(seed)
    rows: list[dict[str, str]] = []
    years: dict[str, int] = {}
    for v in range(300):
        dob = date(1945, 1, 1) + timedelta(days=rng.randrange(0, 62 * 365))
        ref = f"V{v:04d}"
        years[ref] = dob.year
        for i in range(rng.choice([1, 1, 1, 2, 2, 3, 5, 8])):
            when = END - timedelta(days=rng.randrange(0, 3 * 365))
            rows.append(
                {
                    "incident_ref": f"DA-{v:04d}-{i}",
                    "reported_at": f"{when.isoformat()} 21:{rng.randrange(60):02d}",
                    "victim_ref": ref,
                    "victim_age": str(_age(dob, when)),
                    "victim_dob": dob.isoformat(),
                    "victim_postcode": f"LU{rng.randrange(1, 8)} {rng.randrange(1, 9)}AB",
                    "lsoa_code": "E01015712",
                }
            )
    return rows, years


def _write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    header = list(rows[0])
    lines = [",".join(header)] + [",".join(r[h] for h in header) for r in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def loaded(workspace: Workspace, tmp_path: Path) -> tuple[Workspace, dict[str, int], list[dict[str, str]]]:
    rows, years = _da_rows()
    path = _write_csv(tmp_path / "domestic_abuse.csv", rows)
    con = workspace.connect()
    try:
        report = ingest_paths(con, [path], key=workspace.key(), source="domestic_abuse", agency="police")
        assert report.ok, report.errors
        assert report.loaded[0].rows_accepted == len(rows)
    finally:
        con.close()
    return workspace, years, rows


def _truth(key: bytes, years: dict[str, int]) -> dict[str, int]:
    """Token -> birth year, as only the key holder can compute it."""
    return {pseudonym(key, "birth_year", str(y)): y for y in set(years.values())}  # type: ignore[misc]


def _mode(values: list[int]) -> int:
    return Counter(values).most_common(1)[0][0]


def _hit(truth: int | None, guess: int) -> bool:
    """The attacker's success, generously: within a year (year - age is the birth year or the year after)."""
    return truth is not None and abs(truth - guess) <= 1


def test_the_birth_year_attack_fails(loaded: tuple[Workspace, dict[str, int], list[dict[str, str]]]) -> None:
    ws, years, rows = loaded
    truth = _truth(ws.key(), years)
    con = ws.connect(read_only=True)
    try:
        # 1. The original query: neither an age nor a birth-year token is left in the table.
        with pytest.raises(duckdb.BinderException):
            con.execute(
                "SELECT victim_birth_year_token, mode(year(reported_at) - victim_age) FROM domestic_abuse GROUP BY 1"
            ).fetchall()
        columns = {
            r["column_name"]
            for r in query(con, "SELECT column_name FROM duckdb_columns() WHERE table_name = 'domestic_abuse'")
        }
        assert "victim_age" not in columns and "victim_age_band" in columns
        assert not {c for c in columns if c.endswith(("birth_year_token", "postcode_district_token", "initial_token"))}
        assert not _identity_columns(con)  # nor any other token or linkage feature (schema 3)

        # 2. The best join left without the key: the agency. Every token then gets the same guess.
        mids = {"0-15": 8, "16-24": 20, "25-34": 30, "35-44": 40, "45-54": 50, "55-64": 60, "65+": 70}
        guesses_by_agency = {
            agency: _mode(
                [
                    r["y"] - mids[r["band"]]
                    for r in query(
                        con,
                        "SELECT year(reported_at) AS y, victim_age_band AS band FROM domestic_abuse WHERE _agency = ?",
                        [agency],
                    )
                ]
            )
            for agency in ("police",)
        }
        features = query(
            con,
            f"SELECT birth_year_token AS t, agency FROM {FEATURES_TABLE} WHERE source = "
            "'domestic_abuse' ORDER BY rowid",
        )
        by_agency = {f["t"]: guesses_by_agency[f["agency"]] for f in features}
        recovered = sum(_hit(truth.get(t), y) for t, y in by_agency.items())
        assert recovered <= 3, recovered  # one guess for all: at most the three years around it

        # 3. Joining by row position (the n-th feature row to the n-th event row): rows are in record-key order.
        events = query(con, "SELECT year(reported_at) AS y, victim_age_band AS band FROM domestic_abuse ORDER BY rowid")
        per_token: dict[str, list[int]] = {}
        for f, e in zip(features, events, strict=False):
            per_token.setdefault(f["t"], []).append(e["y"] - mids[e["band"]])
        recovered_by_position = sum(_hit(truth.get(t), _mode(v)) for t, v in per_token.items())
        assert recovered_by_position <= 0.15 * len(per_token), (recovered_by_position, len(per_token))
    finally:
        con.close()

    # Control: the same attack on the old layout (exact age beside the token) recovers nearly every birth year,
    # so the assertions above would fail if the layout leaked again.
    old: dict[str, list[int]] = {}
    for r in rows:
        token = pseudonym(ws.key(), "birth_year", r["victim_dob"][:4])
        assert token is not None
        old.setdefault(token, []).append(int(r["reported_at"][:4]) - int(r["victim_age"]))
    recovered_old = sum(_hit(truth[t], _mode(v)) for t, v in old.items())
    assert recovered_old == len(old)


def test_with_the_key_features_join_back_to_their_events(
    loaded: tuple[Workspace, dict[str, int], list[dict[str, str]]],
) -> None:
    """Linkage (which holds the key) can still use the features: each event has exactly its feature row."""
    ws, _years, rows = loaded
    key = ws.key()
    record = record_key_sql(key, CONTRACTS["domestic_abuse"], "victim", "_agency", "incident_key")
    con = ws.connect(read_only=True)
    try:
        joined = query(
            con,
            f"SELECT count(*) AS n, count(f.record_key) AS matched, "
            f"count(*) FILTER (WHERE f.birth_year_token = e.y) AS right_year "
            f"FROM (SELECT {record} AS rk, victim_key, NULL AS y FROM domestic_abuse) d "
            f"LEFT JOIN {FEATURES_TABLE} f ON f.record_key = d.rk "
            f"CROSS JOIN (SELECT NULL AS y) e",
        )[0]
        assert joined["n"] == len(rows) and joined["matched"] == len(rows)
        # Every record key is absent from every event column: nothing joins without the key.
        keys = {r["record_key"] for r in query(con, f"SELECT record_key FROM {FEATURES_TABLE}")}
        stored = {v for r in query(con, "SELECT incident_key, victim_key FROM domestic_abuse") for v in r.values()}
        assert keys and not keys & stored
    finally:
        con.close()


def test_a_corrected_file_replaces_its_features(
    loaded: tuple[Workspace, dict[str, int], list[dict[str, str]]], tmp_path: Path
) -> None:
    ws, _years, rows = loaded
    fixed = [dict(r, victim_dob="1980-06-01") if r["victim_ref"] == "V0000" else r for r in rows]
    path = _write_csv(tmp_path / "domestic_abuse_v2.csv", fixed)
    con = ws.connect()
    try:
        report = ingest_paths(con, [path], key=ws.key(), source="domestic_abuse", agency="police")
        assert report.ok, report.errors
        n = query(con, f"SELECT count(*) AS n FROM {FEATURES_TABLE}")[0]["n"]
        assert n == len(rows)  # one row per incident, the old ones replaced, none orphaned
        token_1980 = pseudonym(ws.key(), "birth_year", "1980")
        record = record_key_sql(ws.key(), CONTRACTS["domestic_abuse"], "victim", "_agency", "incident_key")
        v0 = query(
            con,
            f"SELECT DISTINCT f.birth_year_token AS t FROM (SELECT {record} AS rk FROM domestic_abuse) d "
            f"JOIN {FEATURES_TABLE} f ON f.record_key = d.rk "
            f"WHERE d.rk IN (SELECT {record} FROM domestic_abuse WHERE victim_key = ?)",
            [pseudonym(ws.key(), ref_namespace("police", "victim_ref"), "V0000")],
        )
        assert [r["t"] for r in v0] == [token_1980]
    finally:
        con.close()


def test_an_old_warehouse_is_migrated(workspace: Workspace) -> None:
    """Schema 1 kept victim_age and the tokens in the event table: opening for writing moves them."""
    key = workspace.key()
    con = workspace.connect()
    try:
        con.execute("DROP TABLE domestic_abuse")
        ddl = next(d for d in all_ddl() if "TABLE IF NOT EXISTS domestic_abuse " in d)
        con.execute(
            ddl.replace(
                "victim_age_band VARCHAR",
                "victim_age BIGINT, victim_dob_token VARCHAR, victim_birth_year_token VARCHAR",
            )
        )
        by, dob = pseudonym(key, "birth_year", "1990"), pseudonym(key, "dob", "1990-01-02")
        con.execute(
            "INSERT INTO domestic_abuse (incident_key, victim_key, victim_age, victim_dob_token, "
            "victim_birth_year_token, _agency) VALUES ('i1', 'v1', 33, ?, ?, 'police'), "
            "('i2', 'v1', 17, ?, ?, 'police')",
            [dob, by, dob, by],
        )
        con.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    finally:
        con.close()
    con = workspace.connect()
    try:
        assert get_meta(con, "schema_version") == SCHEMA_VERSION == "3"
        assert query(con, "SELECT victim_age_band AS b FROM domestic_abuse ORDER BY incident_key") == [
            {"b": "25-34"},
            {"b": "16-24"},
        ]
        # schema 1 -> 2 moved the birth year, 2 -> 3 the exact date: one row per record, with both
        assert query(
            con, f"SELECT count(*) AS n, min(birth_year_token) AS t, min(dob_token) AS d FROM {FEATURES_TABLE}"
        )[0] == {"n": 2, "t": by, "d": dob}
        assert not _identity_columns(con)
    finally:
        con.close()


def _identity_columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Columns of the event tables that hold anything derived from a name, date of birth or postcode."""
    names = [
        r["c"]
        for r in query(
            con,
            "SELECT table_name || '.' || column_name AS c FROM duckdb_columns() WHERE table_name IN "
            f"({', '.join(repr(c) for c in CONTRACTS)})",
        )
    ]
    return [c for c in names if c.endswith(("_token", "_grams", "_phonetic"))]


def test_a_schema_2_warehouse_moves_its_linkage_features(workspace: Workspace) -> None:
    """Schema 2 kept exact tokens and linkage features in the event tables and three tokens apart: schema 3 merges
    them into one identity_features row per record and drops them from the event table."""
    key = workspace.key()
    con = workspace.connect()
    try:
        con.execute(f"DROP TABLE {FEATURES_TABLE}")
        con.execute(
            f"CREATE TABLE {FEATURES_TABLE} (record_key VARCHAR, source VARCHAR, person VARCHAR, agency VARCHAR, "
            "forename_initial_token VARCHAR, birth_year_token VARCHAR, postcode_district_token VARCHAR)"
        )
        con.execute("DROP TABLE domestic_abuse")
        ddl = next(d for d in all_ddl() if "TABLE IF NOT EXISTS domestic_abuse " in d)
        con.execute(
            ddl.replace(
                "victim_age_band VARCHAR",
                "victim_age_band VARCHAR, victim_surname_token VARCHAR, victim_surname_grams VARCHAR[], "
                "victim_dob_md_token VARCHAR, perpetrator_surname_phonetic VARCHAR",
            )
        )
        con.execute(
            "INSERT INTO domestic_abuse (incident_key, victim_key, victim_surname_token, victim_surname_grams, "
            "victim_dob_md_token, perpetrator_surname_phonetic, _agency) VALUES "
            "('i1', 'v1', 'sur1', ['g1', 'g2'], 'md1', 'ph1', 'police'), "
            "('i2', 'v2', 'sur2', NULL, NULL, NULL, 'police'), ('i3', 'v3', NULL, NULL, NULL, NULL, 'police')"
        )
        da = CONTRACTS["domestic_abuse"]
        victim = {
            k: con.execute(
                f"SELECT {record_key_sql(key, da, 'victim', chr(39) + 'police' + chr(39), repr(k))}"
            ).fetchall()[0][0]
            for k in ("i1", "i2")
        }
        con.execute(
            f"INSERT INTO {FEATURES_TABLE} VALUES (?, 'domestic_abuse', 'victim', 'police', 'fi1', 'by1', NULL)",
            [victim["i1"]],
        )
        con.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    finally:
        con.close()
    con = workspace.connect()
    try:
        assert get_meta(con, "schema_version") == "3"
        assert not _identity_columns(con)
        rows = query(
            con,
            f"SELECT record_key, person, forename_initial_token AS fi, birth_year_token AS by, surname_token AS s, "
            f"surname_grams AS g, dob_md_token AS md, surname_phonetic AS ph FROM {FEATURES_TABLE} "
            "ORDER BY person DESC, s",
        )
        assert [{k: v for k, v in r.items() if k != "record_key"} for r in rows] == [
            {"person": "victim", "fi": "fi1", "by": "by1", "s": "sur1", "g": ["g1", "g2"], "md": "md1", "ph": None},
            {"person": "victim", "fi": None, "by": None, "s": "sur2", "g": None, "md": None, "ph": None},
            {"person": "perpetrator", "fi": None, "by": None, "s": None, "g": None, "md": None, "ph": "ph1"},
        ]
        assert [r["record_key"] for r in rows[:2]] == [victim["i1"], victim["i2"]]
        # The migrated table has the layout of a new one, so the loader's inserts fit it.
        columns = [r["column_name"] for r in query(con, f"DESCRIBE {FEATURES_TABLE}")]
        assert columns == ["record_key", "source", "person", "agency", *(c for c, _ in IDENTITY_COLUMNS)]
    finally:
        con.close()

"""Bundled national reference data every workspace starts with.

- ONS LSOA (2021) -> electoral ward (2024) -> local authority (2024) best-fit lookup for England and Wales.
- ONS mid-2024 population estimates by LSOA 2021, with women aged 16 and over (F16-29 + F30-44 + F45-64 + F65+).

Both are loaded as agency ``ons-bundled``; a partnership can load its own geography or population over them
(later loads of the same area and year win; see :func:`cspkit.findings.area.area_lsoas_sql`). Reading the bundled
files is the ingest stage's work: the warehouse stores what ingest gives it and reads no files itself.
Contains public sector information licensed under the Open Government Licence v3.0.
"""

from __future__ import annotations

import datetime as dt
import difflib
import gzip
import shutil
import tempfile
from pathlib import Path

import duckdb

from cspkit.bundled import bundled_path
from cspkit.errors import ConfigError
from cspkit.ingest.loader import load_file
from cspkit.ingest.readers import InputFile
from cspkit.sql import sql_str
from cspkit.warehouse.store import query

__all__ = [
    "BUNDLED_AGENCY",
    "check_area_codes",
    "known_lad_codes",
    "load_bundled_reference",
]

BUNDLED_AGENCY = "ons-bundled"
GEOGRAPHY_FILE = "geography/lsoa21_ward24_lad24_lookup_ew.csv.gz"
POPULATION_FILE = "population/mid2024_population_sex_broadage_lsoa21_ew.csv.gz"


def load_bundled_reference(con: duckdb.DuckDBPyConnection, key: bytes) -> None:
    """Load the bundled geography and population (a no-op when already loaded)."""
    geo = bundled_path(GEOGRAPHY_FILE)
    # The lookup is gzipped; DuckDB reads .csv.gz directly but the sniffer reads bytes, so decompress first.
    with tempfile.TemporaryDirectory(prefix="cspkit-ref-") as tmp:
        plain = Path(tmp) / "lsoa21_ward24_lad24_lookup_ew.csv"
        with gzip.open(geo, "rb") as src, plain.open("wb") as dst:
            shutil.copyfileobj(src, dst)
        load_file(
            con,
            InputFile(plain, f"bundled:{GEOGRAPHY_FILE}"),
            key=key,
            scratch=Path(tmp),
            source="geography",
            agency=BUNDLED_AGENCY,
            today=dt.date.today(),
        )
    _load_population(con)


def _load_population(con: duckdb.DuckDBPyConnection) -> None:
    path = bundled_path(POPULATION_FILE)
    display = f"bundled:{POPULATION_FILE}"
    if con.execute("SELECT count(*) FROM ingest_log WHERE file_name = ? AND active", [display]).fetchall()[0][0]:
        return
    con.execute("BEGIN TRANSACTION")
    try:
        file_id = con.execute("SELECT nextval('file_id_seq')").fetchall()[0][0]
        n = con.execute(
            "INSERT INTO population (area_code, year, population, adult_female_population, households, _file_id, "
            "_agency) SELECT LSOA21CD, '2024', Total, "
            '"F16-29" + "F30-44" + "F45-64" + "F65+", NULL, ?, ? '
            f"FROM read_csv({sql_str(str(path))}, header = true)",
            [file_id, BUNDLED_AGENCY],
        ).fetchall()[0][0]
        con.execute(
            "INSERT INTO ingest_log VALUES (?, ?, NULL, 'bundled', 'population', ?, ?, ?, 0, [], '{}', "
            "'utf-8', ',', 0, now(), true)",
            [file_id, display, BUNDLED_AGENCY, n, n],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def known_lad_codes(con: duckdb.DuckDBPyConnection | None = None) -> dict[str, str]:
    """Local authority codes and names: of the loaded geography, or of the bundled lookup when ``con`` is None."""
    if con is None:
        rel = duckdb.sql(
            "SELECT DISTINCT ltla24_code AS lad_code, ltla24_name AS lad_name "
            f"FROM read_csv({sql_str(str(bundled_path(GEOGRAPHY_FILE)))}, header = true)"
        )
        return {code: name for code, name in rel.fetchall()} if rel is not None else {}
    return {r["lad_code"]: r["lad_name"] for r in query(con, "SELECT DISTINCT lad_code, lad_name FROM geography")}


def check_area_codes(codes: list[str], con: duckdb.DuckDBPyConnection | None = None) -> dict[str, str]:
    """Names of the area codes, or a ConfigError naming the unknown ones and close matches."""
    known = known_lad_codes(con)
    unknown = [c for c in codes if c not in known]
    if unknown:
        hints = []
        for code in unknown:
            close = difflib.get_close_matches(code, list(known), n=3, cutoff=0.7)
            hints.append(f"{code}" + (f" (did you mean {', '.join(close)}?)" if close else ""))
        raise ConfigError(
            "Unknown local authority code(s): "
            + "; ".join(hints)
            + ". Codes are ONS LAD 2024 codes such as E06000056 (Central Bedfordshire)."
        )
    if not codes:
        raise ConfigError("No area code given: pass --area with an ONS local authority code such as E06000056.")
    return {c: known[c] for c in codes}

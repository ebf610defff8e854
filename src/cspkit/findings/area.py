"""The partnership's area: its LSOAs, wards and populations, from the loaded geography and population.

A partnership's own geography or population rows win over the bundled national ones (agency ``ons-bundled``)
for the same LSOA or area and year; the latest population year loaded is used.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from cspkit.config import Config
from cspkit.errors import AnalysisError
from cspkit.sql import sql_list
from cspkit.warehouse.store import query

__all__ = ["AreaContext", "area_lsoas_sql", "load_area"]


def area_lsoas_sql(area_codes: list[str]) -> str:
    """SQL of the area's LSOAs with ward and authority (one row per LSOA; user-loaded rows first).

    Ordered by LSOA code so that everything keyed by LSOA (and the findings JSON) comes out in the same order on
    every run.
    """
    codes = sql_list(area_codes)
    return (
        "SELECT lsoa_code, lsoa_name, ward_code, ward_name, lad_code, lad_name FROM ("
        "SELECT *, row_number() OVER (PARTITION BY lsoa_code ORDER BY (_agency = 'ons-bundled'), _file_id DESC) "
        "AS _pick FROM geography) WHERE _pick = 1 AND lad_code IN (" + codes + ") ORDER BY lsoa_code"
    )


@dataclass
class AreaContext:
    """What findings need to know about the area.

    Attributes:
        codes: Local authority codes of the partnership.
        name: Display name (authority names joined).
        lsoa_ward: LSOA code -> ward code.
        ward_names: Ward code -> ward name.
        lsoa_names: LSOA code -> LSOA name.
        population: LSOA code -> residents (latest year loaded), if loaded.
        adult_women: LSOA code -> women aged 16 and over, if loaded.
        households: LSOA code -> households, if loaded.
        population_year: The population year used.
    """

    codes: list[str]
    name: str
    lsoa_ward: dict[str, str]
    ward_names: dict[str, str]
    lsoa_names: dict[str, str]
    population: dict[str, float] = field(default_factory=dict)
    adult_women: dict[str, float] = field(default_factory=dict)
    households: dict[str, float] = field(default_factory=dict)
    population_year: str | None = None
    population_source: str = ""

    @property
    def label(self) -> str:
        return self.name

    def total_population(self) -> float | None:
        return float(sum(self.population.values())) if self.population else None

    def total_adult_women(self) -> float | None:
        return float(sum(self.adult_women.values())) if self.adult_women else None

    def total_households(self) -> float | None:
        return float(sum(self.households.values())) if self.households else None

    def ward_population(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for lsoa, pop in self.population.items():
            ward = self.lsoa_ward.get(lsoa)
            if ward:
                out[ward] = out.get(ward, 0.0) + pop
        return out


def load_area(con: duckdb.DuckDBPyConnection, config: Config) -> AreaContext:
    """The area of the workspace.

    Raises:
        AnalysisError: No area codes configured, or none of them in the loaded geography.
    """
    codes = config.area_codes
    if not codes:
        raise AnalysisError("No area codes in cspkit.toml ([partnership] area_codes); findings need an area.")
    rows = query(con, area_lsoas_sql(codes))
    if not rows:
        raise AnalysisError(
            f"The loaded geography has no LSOA in {', '.join(codes)}; load a geography file for the area."
        )
    lad_names = sorted({r["lad_name"] for r in rows})
    ctx = AreaContext(
        codes=codes,
        name=" and ".join(lad_names),
        lsoa_ward={r["lsoa_code"]: r["ward_code"] for r in rows},
        ward_names={r["ward_code"]: r["ward_name"] for r in rows},
        lsoa_names={r["lsoa_code"]: r["lsoa_name"] for r in rows},
    )
    pop_rows = query(
        con,
        "WITH area AS (" + area_lsoas_sql(codes) + "), "
        "pop AS (SELECT *, row_number() OVER (PARTITION BY area_code, year "
        "ORDER BY (_agency = 'ons-bundled'), _file_id DESC) AS _pick FROM population), "
        "latest AS (SELECT max(year) AS year FROM pop JOIN area ON pop.area_code = area.lsoa_code) "
        "SELECT pop.area_code, pop.year, pop.population, pop.adult_female_population, pop.households, pop._agency "
        "FROM pop JOIN area ON pop.area_code = area.lsoa_code JOIN latest USING (year) WHERE _pick = 1 "
        "ORDER BY pop.area_code",
    )
    if pop_rows:
        ctx.population_year = str(pop_rows[0]["year"])
        ctx.population = {r["area_code"]: float(r["population"]) for r in pop_rows if r["population"] is not None}
        ctx.adult_women = {
            r["area_code"]: float(r["adult_female_population"])
            for r in pop_rows
            if r["adult_female_population"] is not None
        }
        ctx.households = {r["area_code"]: float(r["households"]) for r in pop_rows if r["households"] is not None}
        agencies = {r["_agency"] for r in pop_rows}
        ctx.population_source = (
            f"ONS mid-{ctx.population_year} LSOA population estimates"
            if agencies == {"ons-bundled"}
            else f"population {ctx.population_year} loaded by {', '.join(sorted(agencies))}"
        )
    return ctx

"""The partnership's area: its LSOAs, wards and populations, from the loaded geography and population.

A partnership's own geography rows win over the bundled national ones (agency ``ons-bundled``) for the same LSOA.

Population (residents, women aged 16+, households) may be loaded per LSOA, per ward or for the whole local
authority. For each measure the engine takes, in this order, the first source that **covers the area**:
loaded LSOA figures, loaded ward figures, loaded authority figures, then the bundled ONS LSOA figures; within a
source and level the latest year. A loaded file that cannot be used (codes outside the area, a level that does
not cover it) is never silently replaced: :attr:`AreaContext.population_notes` says what was used and why
another file was not, and the data-quality findings repeat it. Ward rates need ward figures: they come from
loaded ward or LSOA figures when those cover the wards, otherwise from the bundled LSOA figures, and say so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from cspkit.config import Config
from cspkit.errors import AnalysisError
from cspkit.sql import sql_list
from cspkit.warehouse.store import query

__all__ = ["AreaContext", "area_lsoas_sql", "load_area", "population_load_warnings"]


def area_lsoas_sql(area_codes: list[str]) -> str:
    """SQL of the area's LSOAs with ward and authority (one row per LSOA; user-loaded rows first).

    Ordered by LSOA code so that everything keyed by LSOA (and the findings JSON) comes out in the same order on
    every run.
    """
    codes = sql_list(area_codes)
    # Only the rows of LSOAs that some row places in the area are ranked (an LSOA whose chosen row is in the area
    # has such a row): ranking the whole country's lookup took three times as long, in every query that places
    # rows in the area.
    return (
        "SELECT lsoa_code, lsoa_name, ward_code, ward_name, lad_code, lad_name FROM ("
        "SELECT *, row_number() OVER (PARTITION BY lsoa_code ORDER BY (_agency = 'ons-bundled'), _file_id DESC) "
        "AS _pick FROM geography WHERE lsoa_code IN (SELECT lsoa_code FROM geography WHERE lad_code IN ("
        + codes
        + "))) WHERE _pick = 1 AND lad_code IN ("
        + codes
        + ") ORDER BY lsoa_code"
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
    #: Measure -> area total chosen by the rule in the module docstring (overrides the LSOA sums).
    population_totals: dict[str, float] = field(default_factory=dict)
    #: Measure -> which source and level were used, in words.
    population_used: dict[str, str] = field(default_factory=dict)
    #: Warnings about loaded population files that could not be used, and why.
    population_notes: list[str] = field(default_factory=list)
    #: Ward code -> residents from loaded ward figures, when they cover every ward.
    ward_residents: dict[str, float] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.name

    def total_population(self) -> float | None:
        if "population" in self.population_totals:
            return self.population_totals["population"]
        return float(sum(self.population.values())) if self.population else None

    def total_adult_women(self) -> float | None:
        if "adult_female_population" in self.population_totals:
            return self.population_totals["adult_female_population"]
        return float(sum(self.adult_women.values())) if self.adult_women else None

    def total_households(self) -> float | None:
        if "households" in self.population_totals:
            return self.population_totals["households"]
        return float(sum(self.households.values())) if self.households else None

    def ward_population(self) -> dict[str, float]:
        if self.ward_residents:
            return dict(self.ward_residents)
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
    return load_area_codes(con, codes)


def load_area_codes(con: duckdb.DuckDBPyConnection, codes: list[str]) -> AreaContext:
    """The area made of these local authority codes (see :func:`load_area`)."""
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
    _choose_population(con, ctx)
    return ctx


_MEASURES = {
    "population": "residents",
    "adult_female_population": "women aged 16+",
    "households": "households",
}
_LEVEL_WORDS = {"lsoa": "LSOA", "ward": "ward", "lad": "local authority"}


def _population_rows(con: duckdb.DuckDBPyConnection, codes: list[str]) -> list[dict[str, object]]:
    area_sql = area_lsoas_sql(codes)
    return query(
        con,
        f"WITH area AS ({area_sql}), "
        "levels AS (SELECT DISTINCT lsoa_code AS code, 'lsoa' AS level FROM area "
        "UNION SELECT DISTINCT ward_code, 'ward' FROM area UNION SELECT DISTINCT lad_code, 'lad' FROM area) "
        "SELECT p.area_code, p.year, p.population, p.adult_female_population, p.households, p._agency, p._file_id, "
        "l.level FROM population p JOIN levels l ON p.area_code = l.code ORDER BY p.area_code, p._file_id",
    )


def _choose_population(con: duckdb.DuckDBPyConnection, ctx: AreaContext) -> None:
    """Pick, per measure, the first source and level that covers the area (see the module docstring)."""
    rows = _population_rows(con, ctx.codes)
    required = {"lsoa": set(ctx.lsoa_ward), "ward": set(ctx.ward_names), "lad": set(ctx.codes)}
    chosen_years: set[str] = set()
    agencies_used: set[str] = set()
    for measure, words in _MEASURES.items():
        picked = _pick(rows, measure, required, ctx, words)
        if picked is None:
            continue
        level, year, values, agency = picked
        total = float(sum(values.values()))
        ctx.population_totals[measure] = total
        who = "the bundled ONS estimates" if agency == "ons-bundled" else f"the file loaded by {agency}"
        ctx.population_used[measure] = f"{words}: {total:,.0f} ({year}, {_LEVEL_WORDS[level]} level, from {who})"
        chosen_years.add(year)
        agencies_used.add(agency)
        if level == "ward" and measure == "population":
            ctx.ward_residents = dict(values)
    # LSOA detail (ward rates, LSOA rates, maps): the first source whose LSOA figures cover the area
    lsoa_only = {"lsoa": required["lsoa"], "ward": set(), "lad": set()}
    for measure, target in (
        ("population", ctx.population),
        ("adult_female_population", ctx.adult_women),
        ("households", ctx.households),
    ):
        detail = _pick(rows, measure, lsoa_only, None, "", levels=("lsoa",))
        if detail is not None:
            target.update(detail[2])
    used = ctx.population_used.get("population", "")
    if ctx.population and used and "LSOA level" not in used and not ctx.ward_residents:
        ctx.population_notes.append(
            "Ward and LSOA rates use LSOA figures, which need not add up to the figure used for the area as a "
            f"whole ({used})."
        )
    ctx.population_notes += _files_for_other_areas(con, ctx, {_int(r["_file_id"]) for r in rows})
    if chosen_years:
        ctx.population_year = max(chosen_years)
        ctx.population_source = "; ".join(ctx.population_used.values())
        if agencies_used == {"ons-bundled"}:
            ctx.population_source = f"ONS mid-{ctx.population_year} LSOA population estimates"


def _files_for_other_areas(con: duckdb.DuckDBPyConnection, ctx: AreaContext, in_area: set[int]) -> list[str]:
    """Loaded population files none of whose codes is in the area: named, so nothing is silently ignored."""
    rows = query(
        con,
        "SELECT file_id, file_name, agency FROM ingest_log WHERE source = 'population' AND active "
        "AND agency <> 'ons-bundled' ORDER BY file_id",
    )
    return [
        f"The population file {r['file_name']} (loaded by {r['agency']}) has no figure for an LSOA, ward or local "
        f"authority of {ctx.name} ({', '.join(ctx.codes)}), so it was not used; check it is for this area."
        for r in rows
        if _int(r["file_id"]) not in in_area
    ]


def _pick(
    rows: list[dict[str, object]],
    measure: str,
    required: dict[str, set[str]],
    ctx: AreaContext | None,
    words: str,
    levels: tuple[str, ...] = ("lsoa", "ward", "lad"),
) -> tuple[str, str, dict[str, float], str] | None:
    """The first file that covers the area, at its finest level: loaded files newest first, then the bundled ones.

    Returns (level, year, code -> value, agency), or None. Loaded files that hold figures for the area but do not
    cover it are noted on ``ctx``.
    """
    with_measure = [r for r in rows if r[measure] is not None]
    files = sorted(
        {(str(r["_agency"]) == "ons-bundled", -_int(r["_file_id"]), str(r["_agency"])) for r in with_measure}
    )
    for bundled, neg_file_id, agency in files:
        in_file = [r for r in with_measure if _int(r["_file_id"]) == -neg_file_id]
        for level in levels:
            at_level = [r for r in in_file if r["level"] == level]
            if not at_level:
                continue
            year = max(str(r["year"]) for r in at_level)
            values = {str(r["area_code"]): _float(r[measure]) for r in at_level if str(r["year"]) == year}
            if not required[level] - set(values):
                return level, year, values, agency
            if ctx is not None and not bundled:
                ctx.population_notes.append(
                    f"The {words} figures loaded by {agency} ({year}) cover {len(values)} of the "
                    f"{len(required[level])} {_LEVEL_WORDS[level]} areas of {ctx.name}, so they were not used; load "
                    "figures for every one, or one figure for the whole authority."
                )
    return None


def _int(value: object) -> int:
    return int(value)  # type: ignore[call-overload]


def _float(value: object) -> float:
    return float(value)  # type: ignore[arg-type]


def population_load_warnings(con: duckdb.DuckDBPyConnection, area_codes: list[str], file_ids: list[int]) -> list[str]:
    """Warnings about just-loaded population files that the findings cannot use for the workspace's area.

    A file whose codes are none of the area's LSOAs, wards or local authorities is for another area; a file that
    covers only part of a level is not used either. Called by ``cspkit ingest`` after loading population files.
    """
    if not area_codes or not file_ids:
        return []
    ids = ", ".join(str(int(i)) for i in file_ids)
    area_sql = area_lsoas_sql(area_codes)
    rows = query(
        con,
        f"WITH area AS ({area_sql}), "
        "levels AS (SELECT DISTINCT lsoa_code AS code, 'lsoa' AS level FROM area "
        "UNION SELECT DISTINCT ward_code, 'ward' FROM area UNION SELECT DISTINCT lad_code, 'lad' FROM area) "
        "SELECT p._file_id AS file_id, any_value(f.file_name) AS display, count(*) AS n_rows, "
        "count(l.code) AS in_area, list(DISTINCT l.level) FILTER (WHERE l.level IS NOT NULL) AS levels, "
        "min(p.area_code) FILTER (WHERE l.code IS NULL) AS example "
        "FROM population p LEFT JOIN levels l ON p.area_code = l.code "
        f"LEFT JOIN ingest_log f ON f.file_id = p._file_id WHERE p._file_id IN ({ids}) GROUP BY p._file_id",
    )
    codes = ", ".join(area_codes)
    warnings: list[str] = []
    for r in rows:
        name = r["display"] or f"file {r['file_id']}"
        if not r["in_area"]:
            warnings.append(
                f"{name}: none of its {r['n_rows']:,} area codes (e.g. {r['example']}) is an LSOA, ward or local "
                f"authority of this partnership ({codes}); it will not be used for rates. Check the file is for "
                "this area."
            )
        elif r["in_area"] < r["n_rows"]:
            warnings.append(
                f"{name}: {r['n_rows'] - r['in_area']:,} of its {r['n_rows']:,} rows have codes outside this "
                f"partnership's area (e.g. {r['example']}); those rows are not used."
            )
    warnings += load_area_codes(con, area_codes).population_notes
    return warnings

"""The partnership's geography for the generator: LSOAs, wards, mid-2024 population and points inside LSOAs.

Everything comes from the data bundled in ``cspkit/data``: the national LSOA 2021 -> ward 2024 -> local authority
lookup, the mid-2024 population by sex and broad age, and (where bundled) LSOA boundaries for placing incidents.
"""

from __future__ import annotations

import csv
import gzip
import json
from dataclasses import dataclass
from importlib.resources import files
from typing import Any

import numpy as np
import shapely

from cspkit.synth.names import postcode_district_for_ward

__all__ = ["Area", "Lsoa", "load_area"]

_ADULT_FEMALE_COLUMNS = ("F16-29", "F30-44", "F45-64", "F65+")


@dataclass(frozen=True)
class Lsoa:
    """One LSOA of the partnership with its ward, population and postcode districts."""

    code: str
    name: str
    ward_code: str
    ward_name: str
    population: int
    adult_female_population: int
    postcode_districts: tuple[str, ...]


@dataclass
class Area:
    """A local authority district: its LSOAs in code order and, if boundaries are bundled, points inside them."""

    lad_code: str
    lad_name: str
    lsoas: list[Lsoa]
    points: dict[str, list[tuple[float, float]]]

    @property
    def population(self) -> int:
        """Mid-2024 resident population of the district."""
        return sum(lsoa.population for lsoa in self.lsoas)

    @property
    def adult_female_population(self) -> int:
        """Mid-2024 women aged 16 and over."""
        return sum(lsoa.adult_female_population for lsoa in self.lsoas)

    def wards(self) -> dict[str, str]:
        """Ward code -> ward name, in code order."""
        return dict(sorted({(lsoa.ward_code, lsoa.ward_name) for lsoa in self.lsoas}))


def _data_text(*parts: str) -> Any:
    resource = files("cspkit").joinpath("data", *parts)
    return gzip.open(resource.open("rb"), "rt", encoding="utf-8", newline="")


def load_area(lad_code: str, seed: int) -> Area:
    """Load a district's LSOAs and population; place a pool of points inside each LSOA if boundaries exist.

    Raises:
        ValueError: the LAD code is not in the bundled lookup.
    """
    with _data_text("geography", "lsoa21_ward24_lad24_lookup_ew.csv.gz") as handle:
        rows = [row for row in csv.DictReader(handle) if row["ltla24_code"] == lad_code]
    if not rows:
        raise ValueError(f"LAD code {lad_code!r} is not in the bundled LSOA-ward-LAD lookup")
    codes = {row["lsoa21_code"] for row in rows}
    with _data_text("population", "mid2024_population_sex_broadage_lsoa21_ew.csv.gz") as handle:
        population = {row["LSOA21CD"]: row for row in csv.DictReader(handle) if row["LSOA21CD"] in codes}
    ward_index = {code: i for i, code in enumerate(sorted({row["ward24_code"] for row in rows}))}
    lsoas = []
    for row in sorted(rows, key=lambda r: r["lsoa21_code"]):
        counts = population.get(row["lsoa21_code"])
        lsoas.append(
            Lsoa(
                code=row["lsoa21_code"],
                name=row["lsoa21_name"],
                ward_code=row["ward24_code"],
                ward_name=row["ward24_name"],
                population=int(counts["Total"]) if counts else 0,
                adult_female_population=sum(int(counts[c]) for c in _ADULT_FEMALE_COLUMNS) if counts else 0,
                postcode_districts=postcode_district_for_ward(row["ward24_name"], ward_index[row["ward24_code"]]),
            )
        )
    return Area(lad_code, rows[0]["ltla24_name"], lsoas, _point_pools(lad_code, codes, seed))


def _point_pools(lad_code: str, codes: set[str], seed: int, size: int = 40) -> dict[str, list[tuple[float, float]]]:
    """Random points inside each LSOA polygon, rounded to 6 decimals; empty if no boundary file is bundled."""
    resource = files("cspkit").joinpath("data", "boundaries", f"lsoa21_{lad_code}.geojson.gz")
    if not resource.is_file():
        return {}
    with _data_text("boundaries", f"lsoa21_{lad_code}.geojson.gz") as handle:
        features = json.load(handle)["features"]
    rng = np.random.default_rng([seed, 7])
    pools: dict[str, list[tuple[float, float]]] = {}
    for feature in sorted(features, key=lambda f: f["properties"]["LSOA21CD"]):
        code = feature["properties"]["LSOA21CD"]
        if code not in codes:
            continue
        polygon = shapely.geometry.shape(feature["geometry"])
        min_x, min_y, max_x, max_y = polygon.bounds
        inside: list[tuple[float, float]] = []
        for _ in range(20):  # rejection sampling; a few rounds fill even thin polygons
            xs = rng.uniform(min_x, max_x, size * 4)
            ys = rng.uniform(min_y, max_y, size * 4)
            keep = shapely.contains_xy(polygon, xs, ys)
            inside.extend((round(float(x), 6), round(float(y), 6)) for x, y in zip(xs[keep], ys[keep], strict=True))
            if len(inside) >= size:
                break
        if not inside:
            point = polygon.representative_point()
            inside = [(round(point.x, 6), round(point.y, 6))]
        pools[code] = inside[:size]
    return pools

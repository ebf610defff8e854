"""Hotspot statistics: concentration, persistent and emerging hotspots, Gi*, and the bundled boundaries."""

from __future__ import annotations

import json
import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
from scipy.stats import betabinom
from shapely.geometry import box

from cspkit.errors import AnalysisError, InputFileError
from cspkit.findings.boundaries import load_boundaries
from cspkit.findings.calibration import HOTSPOT_SERIES, HotspotCalibration, calibrate_hotspots
from cspkit.findings.hotspots import (
    concentration,
    emerging_hotspots,
    gi_star,
    hotspot_overdispersion,
    persistent_hotspots,
)

CENTRAL_BEDFORDSHIRE = "E06000056"


@pytest.fixture(scope="module")
def central_beds_lsoas() -> gpd.GeoDataFrame:
    return load_boundaries([CENTRAL_BEDFORDSHIRE], "lsoa")


# --- concentration ---


def test_concentration_share_of_top_tenth_by_hand() -> None:
    # 20 areas, so the top 10% is 2 areas: 50 + 30 = 80 of 130 incidents.
    values = [50, 30, 10, 8, 7, 6, 5, 4, 3, 2, 2, 1, 1, 1, 0, 0, 0, 0, 0, 0]
    counts = {f"A{i:02d}": value for i, value in enumerate(values, start=1)}
    shuffled = dict(reversed(list(counts.items())))  # input order must not matter

    result = concentration(shuffled)

    assert result.n_areas == 20
    assert result.n_top_areas == 2
    assert result.total == 130
    assert result.top_total == 80
    assert result.share_of_incidents == pytest.approx(80 / 130)
    assert result.top_areas == ["A01", "A02"]
    assert result.tied_at_cutoff == []
    json.dumps(result.to_dict())


def test_concentration_ties_at_cutoff_are_reported_and_broken_by_code() -> None:
    counts = {f"B{i:02d}": 1 for i in range(1, 21)} | {"B07": 9, "B03": 5, "B12": 5}
    result = concentration(counts)
    assert result.top_areas == ["B07", "B03"]  # B03 and B12 tie at 5: the lower code is listed
    assert result.tied_at_cutoff == ["B12"]
    assert result.share_of_incidents == pytest.approx(14 / 36)


def test_concentration_area_count_rounds_up_without_float_error() -> None:
    assert concentration({f"C{i:02d}": 1 for i in range(30)}).n_top_areas == 3  # 0.1 * 30 is not 4
    assert concentration({f"C{i:02d}": 1 for i in range(21)}).n_top_areas == 3  # ceil(2.1)
    assert concentration({"C1": 0, "C2": 3}).n_top_areas == 1


def test_concentration_gini_by_hand_and_all_zero() -> None:
    # Sorted 0, 0, 0, 4: sum (2i - n - 1) x_i / (n * total) = (2*4 - 5) * 4 / (4 * 4) = 0.75.
    assert concentration({"a": 0, "b": 4, "c": 0, "d": 0}).gini == pytest.approx(0.75)
    assert concentration({"a": 2, "b": 2}).gini == pytest.approx(0.0)
    empty = concentration({"a": 0, "b": 0})
    assert empty.share_of_incidents is None
    assert empty.gini is None


def test_concentration_refuses_bad_input() -> None:
    with pytest.raises(AnalysisError):
        concentration({})
    with pytest.raises(ValueError):
        concentration({"a": -1})
    with pytest.raises(ValueError):
        concentration({"a": 1}, top_share=0)


# --- persistent hotspots ---


def test_persistent_hotspots_in_every_year() -> None:
    base = {f"L{i:02d}": 2 for i in range(1, 21)}  # 20 areas: top 10% = 2 areas per year
    years = {
        "2020-21": base | {"L01": 20, "L02": 15},
        "2021-22": base | {"L01": 18, "L03": 16},
        "2022-23": base | {"L02": 19, "L01": 17},
    }
    assert persistent_hotspots(years) == ["L01"]
    # Two years only: L01 and L02 are both in the top two in 2020-21 and 2022-23; L01 has more in total.
    assert persistent_hotspots({k: years[k] for k in ("2020-21", "2022-23")}) == ["L01", "L02"]


def test_persistent_hotspots_ties_at_cutoff_qualify_and_zero_never_does() -> None:
    base = {f"L{i:02d}": 0 for i in range(1, 11)}  # 10 areas: top 10% = 1 area
    years = {"y1": base | {"L04": 5, "L09": 5}, "y2": base | {"L04": 3, "L09": 3}}
    assert persistent_hotspots(years) == ["L04", "L09"]
    assert persistent_hotspots({"y1": base, "y2": base}) == []
    # An area missing from a year counts as zero there.
    assert persistent_hotspots({"y1": {"a": 5, "b": 1}, "y2": {"b": 1}}) == []


# --- emerging hotspots ---


def _upper_tail_half(k: int, n: int) -> float:
    """P(X >= k) for X ~ Binomial(n, 1/2), by hand."""
    return sum(math.comb(n, j) for j in range(k, n + 1)) / 2**n


def test_emerging_hotspot_planted_rise_beats_noise_after_bh() -> None:
    baseline = {f"N{i:02d}": 20 for i in range(29)} | {"RISE": 10, "DROP": 40, "TINY": 0}
    current = {f"N{i:02d}": 24 for i in range(29)} | {"RISE": 40, "DROP": 10, "TINY": 4}

    found = emerging_hotspots(current, baseline)

    assert [hotspot.area for hotspot in found] == ["RISE"]
    rise = found[0]
    p_rise = _upper_tail_half(40, 50)
    assert rise.p_value == pytest.approx(p_rise, rel=1e-9)
    # 31 areas tested (TINY has 4 < min_count in total); the rise has the smallest p, so BH gives p * 31 / 1.
    assert rise.p_adjusted == pytest.approx(p_rise * 31, rel=1e-9)
    assert (rise.baseline, rise.current, rise.rate_ratio) == (10, 40, 4.0)
    assert rise.ci_low is not None and rise.ci_high is not None
    assert 1 < rise.ci_low < 4 < rise.ci_high
    json.dumps(rise.to_dict())
    # 20 -> 24 on its own is noise: p = P(X >= 24 | 44, 1/2) is far from significant.
    assert _upper_tail_half(24, 44) > 0.2
    assert emerging_hotspots({"a": 24, "b": 24}, {"a": 20, "b": 20}) == []


def test_emerging_hotspot_with_a_longer_baseline() -> None:
    # Baseline = three years' total (30, i.e. 10 a year); current year 40: rate ratio 40 / (30 / 3) = 4.
    found = emerging_hotspots({"a": 40}, {"a": 30}, exposure_ratio=1 / 3)
    assert len(found) == 1
    assert found[0].rate_ratio == pytest.approx(4.0)


def test_emerging_hotspots_refuse_fractional_counts() -> None:
    with pytest.raises(ValueError):
        emerging_hotspots({"a": 2.5}, {"a": 1})


# --- Gi* ---


def _planted_cluster(lsoas: gpd.GeoDataFrame) -> tuple[dict[str, float], str, str]:
    """Poisson(5) everywhere, 30 in a focal LSOA and every LSOA touching it; and the farthest LSOA."""
    focal = "E01017562"  # Central Bedfordshire 033B, 10 queen neighbours
    focal_geometry = lsoas.loc[lsoas["code"] == focal, "geometry"].iloc[0]
    cluster = set(lsoas.loc[lsoas.intersects(focal_geometry), "code"])
    rng = np.random.default_rng(20240401)
    counts = {code: float(rng.poisson(5)) for code in lsoas["code"]}
    counts |= dict.fromkeys(cluster, 30.0)
    centroids = lsoas.to_crs("EPSG:27700").centroid
    distance = centroids.distance(centroids[lsoas["code"] == focal].iloc[0])
    farthest = str(lsoas["code"].iloc[int(distance.to_numpy().argmax())])
    assert len(cluster) == 11 and farthest not in cluster
    return counts, focal, farthest


def test_gi_star_finds_planted_cluster(central_beds_lsoas: gpd.GeoDataFrame) -> None:
    counts, focal, farthest = _planted_cluster(central_beds_lsoas)

    result = gi_star(counts, central_beds_lsoas)

    by_code = {area.code: area for area in result.areas}
    hot = by_code[focal]
    assert len(result.areas) == 175
    assert hot.classification == "hot"
    assert hot.z is not None and hot.z > 5
    assert hot.p_sim == pytest.approx(1 / 1000)  # nothing in 999 permutations beats it
    assert hot.p_fdr is not None and hot.p_fdr < 0.05
    assert by_code[farthest].classification != "hot"
    assert focal in result.hot
    assert result.islands == []
    assert result.settings["permutations"] == 999
    assert result.settings["seed"] == 12345
    assert "queen" in result.settings["weights"]
    assert "Benjamini-Hochberg" in result.settings["multiple_testing"]
    json.dumps(result.to_dict(), allow_nan=False)


def test_gi_star_is_identical_for_the_same_seed(central_beds_lsoas: gpd.GeoDataFrame) -> None:
    counts, _, _ = _planted_cluster(central_beds_lsoas)
    first = gi_star(counts, central_beds_lsoas, permutations=199, seed=7)
    second = gi_star(counts, central_beds_lsoas, permutations=199, seed=7)
    assert first.to_dict() == second.to_dict()


def test_gi_star_missing_areas_count_as_zero_and_stray_codes_are_reported(
    central_beds_lsoas: gpd.GeoDataFrame,
) -> None:
    counts, _, _ = _planted_cluster(central_beds_lsoas)
    dropped = str(central_beds_lsoas["code"].iloc[0])
    partial = {code: count for code, count in counts.items() if code != dropped} | {"E01999999": 3.0}
    result = gi_star(partial, central_beds_lsoas, permutations=99)
    assert next(area for area in result.areas if area.code == dropped).count == 0
    assert result.codes_not_in_boundaries == ["E01999999"]


def test_gi_star_reports_islands_without_crashing() -> None:
    # A 3 x 3 grid of unit squares and one square far away (an island).
    squares = [box(x, y, x + 1, y + 1) for y in range(3) for x in range(3)] + [box(10, 10, 11, 11)]
    codes = [f"G{i}" for i in range(9)] + ["ISLAND"]
    areas = gpd.GeoDataFrame({"code": codes, "name": codes}, geometry=squares)
    counts = dict(zip(codes, [1.0, 2, 3, 4, 20, 5, 6, 7, 8, 50], strict=True))

    result = gi_star(counts, areas, permutations=99)

    assert result.islands == ["ISLAND"]
    island = next(area for area in result.areas if area.code == "ISLAND")
    assert (island.z, island.p_sim, island.classification) == (None, None, "not significant")
    assert result.settings["areas_tested"] == 9


def test_gi_star_refuses_no_incidents(central_beds_lsoas: gpd.GeoDataFrame) -> None:
    with pytest.raises(AnalysisError):
        gi_star({}, central_beds_lsoas, permutations=99)


# --- boundaries ---


def test_bundled_boundaries_for_central_bedfordshire(central_beds_lsoas: gpd.GeoDataFrame) -> None:
    wards = load_boundaries([CENTRAL_BEDFORDSHIRE], "ward")
    assert len(central_beds_lsoas) == 175
    assert len(wards) == 31
    assert list(central_beds_lsoas.columns) == ["code", "name", "geometry"]
    assert central_beds_lsoas.crs.to_epsg() == 4326
    assert central_beds_lsoas["code"].is_unique
    assert central_beds_lsoas["code"].str.startswith("E01").all()
    assert wards["code"].str.startswith("E05").all()
    assert "Ampthill" in set(wards["name"])


def test_boundaries_missing_for_an_area_raise_analysis_error() -> None:
    with pytest.raises(AnalysisError, match="E09000001"):
        load_boundaries(["E09000001"], "lsoa")


def test_workspace_boundaries_are_read_from_extra_dirs(tmp_path: Path) -> None:
    feature = {
        "type": "Feature",
        "properties": {"LSOA21CD": "E01000001", "LSOA21NM": "City of London 001A"},
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[-0.1, 51.5], [-0.09, 51.5], [-0.09, 51.51], [-0.1, 51.5]]],
        },
    }
    (tmp_path / "lsoa21_E09000001.geojson").write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    (tmp_path / "lsoa21_E09000002.geojson").write_text("not json")

    areas = load_boundaries(["E09000001"], "lsoa", extra_dirs=[tmp_path])

    assert areas[["code", "name"]].to_dict("records") == [{"code": "E01000001", "name": "City of London 001A"}]
    with pytest.raises(InputFileError):
        load_boundaries(["E09000002"], "lsoa", extra_dirs=[tmp_path])


# --- emerging hotspots that allow for over-dispersion ---


def test_overdispersion_is_the_moment_estimate_by_hand() -> None:
    """Twelve areas of 50 (25 + 25 on average): six with 30 now, six with 20, pooled share 1/2. Each squared
    residual is 25 against a binomial variance of 12.5, so rho = (12 x (25 - 12.5)) / (12 x 50 x 49 x 1/4) = 1/49.
    None is extreme (two-sided p far above 0.001), so none is set aside."""
    current = {f"A{i:02d}": (30 if i < 6 else 20) for i in range(12)}
    baseline = {f"A{i:02d}": (20 if i < 6 else 30) for i in range(12)}
    assert hotspot_overdispersion(current, baseline) == pytest.approx(1 / 49)
    assert hotspot_overdispersion(dict(list(current.items())[:9]), dict(list(baseline.items())[:9])) == 0.0  # < 10


def test_overdispersed_p_value_is_the_beta_binomial_tail() -> None:
    """With rho given, the one-sided p-value of 40 of 50 is P(X >= 40) under the beta-binomial with mean 1/2 and
    intra-class correlation rho: a = b = (1 - rho) / (2 rho)."""
    rho = 0.03
    found = emerging_hotspots({"a": 40, "b": 1}, {"a": 10, "b": 1}, overdispersion=rho, alpha=0.5)
    a = 0.5 * (1 - rho) / rho
    expected = float(betabinom(50, a, a).sf(39))
    assert found[0].p_value == pytest.approx(expected, rel=1e-9)
    assert expected > _upper_tail_half(40, 50) * 100  # far less sure than the pure-Poisson test
    assert found[0].overdispersion == rho
    assert found[0].ci_low is not None and found[0].ci_high is not None and found[0].ci_low < 4 < found[0].ci_high
    # the interval is wider than the Clopper-Pearson one the pure-Poisson test gives
    plain = emerging_hotspots({"a": 40, "b": 1}, {"a": 10, "b": 1}, overdispersion=0.0)[0]
    assert plain.ci_low is not None and found[0].ci_low < plain.ci_low


@pytest.fixture(scope="module")
def hotspot_calibration() -> HotspotCalibration:
    return calibrate_hotspots(range(1, 7))


def test_lsoa_null_simulation_holds_the_false_flag_share(hotspot_calibration: HotspotCalibration) -> None:
    """LSOA counts shaped like Central Bedfordshire's (175 LSOAs, ten crime types, the year-to-year drift measured on
    the real data): with no real change anywhere, the over-dispersion-aware test flags almost no LSOA and at most
    the nominal 5% of families (tolerance 5 points over 60 families), where the pure-Poisson test flags a false
    emerging hotspot in a third or more of them."""
    c = hotspot_calibration
    assert c.families == 60 and c.tested > 6000
    assert c.flagged / c.tested <= 0.005
    assert c.families_flagged / c.families <= 0.10
    assert c.old_families_flagged / c.families >= 0.3
    assert c.old_flagged > 5 * max(c.flagged, 1)
    # the estimated rho is close to the truth on average (VSO: cv 0.155 -> rho 0.0119)
    vso = [r for i, r in enumerate(c.rho) if i % len(HOTSPOT_SERIES) == 0]
    assert sum(vso) / len(vso) == pytest.approx(0.155**2 / (2 + 0.155**2), rel=0.35)


def test_lsoa_planted_rises_are_found_at_realistic_volumes(hotspot_calibration: HotspotCalibration) -> None:
    """A tripling in an LSOA with 20 or more a year is found some of the time; the real year-to-year drift of busy
    LSOAs (cv 0.16 to 0.46) leaves a doubling mostly indistinguishable from it."""
    c = hotspot_calibration
    assert c.planted[3.0] > 50
    assert c.power(3.0) >= 0.1
    assert c.power(3.0) > c.power(2.0)

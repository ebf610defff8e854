"""Where incidents concentrate: concentration, persistent and emerging hotspots, and local Getis-Ord Gi*.

All functions are pure: they take counts per area code (LSOA or ward) that the indicator code has already
aggregated, and return dataclasses with a JSON-able ``to_dict()``. Pass **every** area of the area of
interest, zeros included: the share of areas (the "top 10%") and the Gi* statistic both depend on how many
areas there are.

Conventions used throughout:

- The top share of areas is ``ceil(top_share * n)`` areas (at least one), ranked by count, highest first.
- Ties are broken by area code (ascending), so results never depend on input order.
- An area with no incidents is never called a hotspot.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from scipy import optimize

from cspkit.errors import AnalysisError
from cspkit.findings.distributions import (
    betabinom_lower,
    betabinom_upper,
    binom_lower,
    binom_upper,
    clopper_pearson,
)
from cspkit.findings.stats import benjamini_hochberg

if TYPE_CHECKING:  # libpysal, esda and geopandas take a second to import: only Gi* needs them (imported there)
    import geopandas as gpd
    import libpysal
    from esda import G_Local

__all__ = [
    "AreaGiStar",
    "Concentration",
    "EmergingHotspot",
    "GiStarResult",
    "concentration",
    "emerging_hotspots",
    "gi_star",
    "hotspot_overdispersion",
    "persistent_hotspots",
]

GiClass = Literal["hot", "cold", "not significant"]


# ----------------------------------------------------------------------------------------------------
# Concentration and persistent hotspots
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Concentration:
    """How concentrated incidents are in the busiest areas.

    Attributes:
        top_share: The share of areas asked for (0.10 = the top 10% of areas).
        n_areas: Number of areas, zeros included.
        n_top_areas: ``ceil(top_share * n_areas)``.
        total: All incidents in all areas.
        top_total: Incidents in the top areas.
        share_of_incidents: ``top_total / total`` (0 to 1), or None when there are no incidents.
        top_areas: Codes of the top areas, highest count first (ties by code).
        tied_at_cutoff: Areas left out of ``top_areas`` whose count equals the lowest count in it; which of
            them is listed does not change ``share_of_incidents``.
        gini: Gini coefficient of the counts across areas (0 = spread evenly, towards 1 = all in one area), or
            None when there are no incidents. With small counts, chance alone makes it well above 0.
    """

    top_share: float
    n_areas: int
    n_top_areas: int
    total: float
    top_total: float
    share_of_incidents: float | None
    top_areas: list[str]
    tied_at_cutoff: list[str]
    gini: float | None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict of the result."""
        return asdict(self)


def concentration(counts: Mapping[str, float], top_share: float = 0.10) -> Concentration:
    """Share of all incidents that fall in the top ``top_share`` of areas.

    Args:
        counts: Incidents per area code, for every area of the area of interest (zeros included).
        top_share: Share of areas to count as "top" (0 < top_share <= 1).

    Returns:
        The concentration, with the top areas and the Gini coefficient.

    Raises:
        AnalysisError: No areas were given.
    """
    _check_share(top_share)
    values = _checked_counts(counts)
    ranked = _ranked(values)
    n_top = _n_top(len(ranked), top_share)
    top = ranked[:n_top]
    cutoff = values[top[-1]]
    total = float(sum(values.values()))
    top_total = float(sum(values[code] for code in top))
    return Concentration(
        top_share=top_share,
        n_areas=len(ranked),
        n_top_areas=n_top,
        total=total,
        top_total=top_total,
        share_of_incidents=top_total / total if total > 0 else None,
        top_areas=top,
        tied_at_cutoff=[code for code in ranked[n_top:] if values[code] == cutoff],
        gini=_gini(list(values.values())),
    )


def persistent_hotspots(counts_by_year: Mapping[str, Mapping[str, float]], top_share: float = 0.10) -> list[str]:
    """Areas in the top ``top_share`` of areas in every year given.

    Each year is ranked on its own. An area is in a year's top share when its count is at least the count of
    the ``ceil(top_share * n)``-th ranked area (so areas tied at the cut-off all qualify) and above zero. An
    area missing from a year counts as zero that year.

    Args:
        counts_by_year: Incidents per area code, per year (e.g. ``{"2021-22": {...}, "2022-23": {...}}``).
        top_share: Share of areas to count as "top" in each year.

    Returns:
        Codes of the persistent hotspots, highest total over the years first (ties by code).

    Raises:
        AnalysisError: No years or no areas were given.
    """
    _check_share(top_share)
    if not counts_by_year:
        raise AnalysisError("Persistent hotspots need at least one year of counts.")
    all_codes = sorted({code for counts in counts_by_year.values() for code in counts})
    if not all_codes:
        raise AnalysisError("Persistent hotspots need counts for at least one area.")

    persistent = set(all_codes)
    totals = dict.fromkeys(all_codes, 0.0)
    for counts in counts_by_year.values():
        values = _checked_counts({code: counts.get(code, 0.0) for code in all_codes})
        ranked = _ranked(values)
        cutoff = values[ranked[_n_top(len(ranked), top_share) - 1]]
        persistent &= {code for code, count in values.items() if count >= cutoff and count > 0}
        for code, count in values.items():
            totals[code] += count
    return sorted(persistent, key=lambda code: (-totals[code], code))


# ----------------------------------------------------------------------------------------------------
# Emerging hotspots
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EmergingHotspot:
    """An area whose count rose significantly against its baseline.

    Attributes:
        area: Area code.
        baseline: Incidents in the baseline period.
        current: Incidents in the current period.
        rate_ratio: Current rate / baseline rate, or None when the baseline is zero.
        ci_low: Lower bound of the exact 95% confidence interval of the rate ratio.
        ci_high: Upper bound, or None when the baseline is zero (unbounded).
        p_value: One-sided exact p-value of a rise.
        p_adjusted: ``p_value`` after Benjamini-Hochberg adjustment across all areas tested.
        overdispersion: The intra-class correlation ``rho`` of the beta-binomial the test used (0: pure Poisson).
    """

    area: str
    baseline: float
    current: float
    rate_ratio: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float
    p_adjusted: float
    overdispersion: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict of the result."""
        return asdict(self)


#: Fewest areas tested for the over-dispersion to be estimated; with fewer the test assumes pure Poisson.
MIN_AREAS_FOR_OVERDISPERSION = 10


def hotspot_overdispersion(current: Mapping[str, float], baseline: Mapping[str, float], min_count: int = 5) -> float:
    """How much more area counts move between periods than Poisson allows: the beta-binomial ``rho``.

    If each area's counts are Poisson with a mean that drifts from period to period by a gamma factor (coefficient
    of variation ``c``), then given an area's total ``n`` its current count is beta-binomial with intra-class
    correlation ``rho = c^2 / (2 + c^2)``: ``Var = n p (1 - p) (1 + (n - 1) rho)``, so busy areas vary far more than
    Poisson and quiet ones barely more. ``rho`` is estimated by moments over the areas tested (``n >= min_count``),
    around the share ``p`` pooled over them (so an area-wide rise or fall does not count as dispersion):
    ``rho = sum((x - n p)^2 - n p (1 - p)) / sum(n (n - 1) p (1 - p))``, at least 0. Real changes would inflate
    it and hide themselves, so the estimate starts from a robust one (the rho at which the median squared
    standardised residual is that of chi-square(1)); areas whose change is extreme either way under it (two-sided
    p below 0.001) are set aside and ``rho`` re-estimated by moments on the rest, until the set aside no longer
    changes. On simulated null LSOA counts this recovers the true rho; a stricter set-aside lets planted rises
    mask themselves, a looser one under-estimates rho (see :func:`cspkit.findings.calibration.calibrate_hotspots`).
    On the Bedfordshire LSOAs (May 2021 to April 2023) it is 0.01 to 0.10 by crime type (c = 0.16 to 0.46).
    Returns 0 with fewer than :data:`MIN_AREAS_FOR_OVERDISPERSION` areas tested.
    """
    codes = sorted(set(current) | set(baseline))
    pairs = [(current.get(c, 0.0), current.get(c, 0.0) + baseline.get(c, 0.0)) for c in codes]
    pairs = [(x, n) for x, n in pairs if n >= max(min_count, 1)]
    if len(pairs) < MIN_AREAS_FOR_OVERDISPERSION:
        return 0.0
    x = np.array([x for x, _ in pairs], dtype=float)
    n = np.array([n for _, n in pairs], dtype=float)
    p = float(np.median(x / n))
    if p <= 0 or p >= 1:
        return 0.0
    rho = _median_rho(x, n, p)  # a start that a few real changes cannot inflate (and so mask themselves)
    kept = np.ones(len(x), dtype=bool)
    for step in range(10):
        if step:
            p = x[kept].sum() / n[kept].sum()
            if p <= 0 or p >= 1 or kept.sum() < MIN_AREAS_FOR_OVERDISPERSION:
                return rho
            excess = float(((x[kept] - n[kept] * p) ** 2 - n[kept] * p * (1 - p)).sum())
            scale = float((n[kept] * (n[kept] - 1) * p * (1 - p)).sum())
            rho = max(0.0, min(excess / scale, 0.5)) if scale > 0 else 0.0
        two_sided = np.minimum(1.0, 2 * np.minimum(_tails(x, n, p, rho, upper=True), _tails(x, n, p, rho, upper=False)))
        outside = two_sided < _SET_ASIDE_P
        if step and np.array_equal(~outside, kept):
            break
        kept = ~outside
    return rho


_CHI2_1_MEDIAN = 0.454936423119572
_SET_ASIDE_P = 0.001


def _median_rho(x: np.ndarray, n: np.ndarray, p: float) -> float:
    """The rho at which the median squared standardised residual is the median of chi-square(1)."""
    r2 = (x - n * p) ** 2 / (n * p * (1 - p))

    def excess(rho: float) -> float:
        return float(np.median(r2 / (1 + (n - 1) * rho))) - _CHI2_1_MEDIAN

    if excess(0.0) <= 0:
        return 0.0
    return float(optimize.brentq(excess, 0.0, 0.5)) if excess(0.5) < 0 else 0.5


def _tails(x: np.ndarray, n: np.ndarray, p: float, rho: float, *, upper: bool) -> np.ndarray:
    """P(X >= x) (``upper``) or P(X <= x) for every area at once, binomial (rho 0) or beta-binomial."""
    if rho <= 0:
        return binom_upper(x, n, p) if upper else binom_lower(x, n, p)
    a, b = p * (1 - rho) / rho, (1 - p) * (1 - rho) / rho
    return betabinom_upper(x, n, a, b) if upper else betabinom_lower(x, n, a, b)


def _upper_p(k: int, n: int, p: float, rho: float) -> float:
    """P(X >= k) under Binomial(n, p) (rho 0) or the beta-binomial with mean p and intra-class correlation rho."""
    return float(_tails(np.array([k]), np.array([n]), p, rho, upper=True)[0])


def _share_interval(k: int, n: int, rho: float, level: float = 0.95) -> tuple[float, float]:
    """Two-sided interval of the current share, by inverting the beta-binomial tails (Clopper-Pearson when rho 0)."""
    if rho <= 0:
        return clopper_pearson(k, n, level)
    tail = (1 - level) / 2
    eps = 1e-12
    low = 0.0 if k == 0 else float(optimize.brentq(lambda q: _upper_p(k, n, q, rho) - tail, eps, 1 - eps))
    high = (
        1.0
        if k == n
        else float(
            optimize.brentq(
                lambda q: float(_tails(np.array([k]), np.array([n]), q, rho, upper=False)[0]) - tail, eps, 1 - eps
            )
        )
    )
    return low, high


def emerging_hotspots(
    current: Mapping[str, float],
    baseline: Mapping[str, float],
    alpha: float = 0.05,
    min_count: int = 5,
    exposure_ratio: float = 1.0,
    overdispersion: float | None = None,
) -> list[EmergingHotspot]:
    """Areas where incidents rose significantly from the baseline period to the current one.

    Per area, an exact conditional test: given ``n = baseline + current``, under no change ``current`` is
    beta-binomial with mean share ``p = exposure_ratio / (1 + exposure_ratio)`` (0.5 for equal periods) and the
    intra-class correlation ``rho`` of :func:`hotspot_overdispersion` (estimated from all the areas unless given):
    areas' counts drift from year to year more than Poisson allows, and a pure-Poisson test calls that drift a
    rise. With ``rho = 0`` it is the exact conditional test of two Poisson counts (``Binomial(n, p)``,
    ``scipy.stats.binomtest``). The one-sided p-value is of a rise. P-values are adjusted
    with Benjamini-Hochberg across all areas tested. Areas with fewer than ``min_count`` incidents in the two
    periods together are not tested: the test has no power there, and because the total carries no
    information about a change under the null, leaving them out keeps the false discovery rate valid.

    Args:
        current: Incidents per area code in the current period.
        baseline: Incidents per area code in the baseline period (areas missing from either count as zero).
        alpha: False discovery rate at which a rise is called significant.
        min_count: Smallest combined count (baseline + current) for an area to be tested.
        exposure_ratio: Length (or population-time) of the current period divided by the baseline's, e.g.
            1/3 when the baseline is the total of the three previous years.

    Returns:
        Areas with a significant rise, smallest adjusted p-value first (ties by code).
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, not {alpha}")
    if not exposure_ratio > 0:
        raise ValueError(f"exposure_ratio must be positive, not {exposure_ratio}")
    codes = sorted(set(current) | set(baseline))
    now = _checked_counts({code: current.get(code, 0.0) for code in codes}, whole=True)
    before = _checked_counts({code: baseline.get(code, 0.0) for code in codes}, whole=True)
    tested = [code for code in codes if now[code] + before[code] >= max(min_count, 1)]
    if not tested:
        return []

    p_current = exposure_ratio / (1.0 + exposure_ratio)
    rho = hotspot_overdispersion(now, before, min_count) if overdispersion is None else float(overdispersion)
    counts = np.array([now[code] for code in tested])
    p_values = _tails(counts, counts + np.array([before[code] for code in tested]), p_current, rho, upper=True)
    p_adjusted = np.array(benjamini_hochberg(list(p_values)), dtype=float)

    found = []
    for code, p_value, p_adj in zip(tested, p_values, p_adjusted, strict=True):
        if p_adj >= alpha or now[code] <= before[code] * exposure_ratio:
            continue
        # The two-sided exact interval of the current share q (beta-binomial, or Clopper-Pearson when rho is 0)
        # maps to the rate ratio as q / (1 - q) / exposure_ratio.
        k, n = int(now[code]), int(now[code] + before[code])
        low, high = _share_interval(k, n, rho)
        found.append(
            EmergingHotspot(
                area=code,
                baseline=before[code],
                current=now[code],
                rate_ratio=now[code] / (before[code] * exposure_ratio) if before[code] > 0 else None,
                ci_low=_odds(low) / exposure_ratio,
                ci_high=_odds(high) / exposure_ratio if high < 1 else None,
                p_value=float(p_value),
                p_adjusted=float(p_adj),
                overdispersion=rho,
            )
        )
    return sorted(found, key=lambda hotspot: (hotspot.p_adjusted, hotspot.area))


# ----------------------------------------------------------------------------------------------------
# Local Getis-Ord Gi*
# ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AreaGiStar:
    """The Gi* result for one area.

    Attributes:
        code: Area code.
        name: Area name.
        count: The count used (0 where the area was missing from the counts).
        z: The Gi* z-score (standardised under the normal approximation), or None for an island.
        z_sim: The z-score against the permutation distribution, or None for an island.
        p_sim: One-sided permutation pseudo p-value, in the direction of the observed value, or None.
        p_fdr: ``p_sim`` after Benjamini-Hochberg adjustment across all areas tested, or None.
        classification: "hot", "cold" or "not significant" (islands are never tested).
    """

    code: str
    name: str
    count: float
    z: float | None
    z_sim: float | None
    p_sim: float | None
    p_fdr: float | None
    classification: GiClass

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict of the result."""
        return asdict(self)


@dataclass(frozen=True)
class GiStarResult:
    """Local Getis-Ord Gi* over a set of areas.

    Attributes:
        areas: One result per area in the boundaries, in boundary order.
        islands: Areas with no neighbour; they cannot be tested and are left out of the calculation.
        codes_not_in_boundaries: Codes in the counts that match no boundary (their counts were not used).
        settings: The method in words and numbers, for the report's method notes.
    """

    areas: list[AreaGiStar]
    islands: list[str] = field(default_factory=list)
    codes_not_in_boundaries: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def hot(self) -> list[str]:
        """Codes of the areas classified "hot"."""
        return [area.code for area in self.areas if area.classification == "hot"]

    @property
    def cold(self) -> list[str]:
        """Codes of the areas classified "cold"."""
        return [area.code for area in self.areas if area.classification == "cold"]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict of the result."""
        return {
            "areas": [area.to_dict() for area in self.areas],
            "hot": self.hot,
            "cold": self.cold,
            "islands": list(self.islands),
            "codes_not_in_boundaries": list(self.codes_not_in_boundaries),
            "settings": dict(self.settings),
        }


def gi_star(
    counts: Mapping[str, float],
    boundaries: gpd.GeoDataFrame,
    permutations: int = 999,
    seed: int = 12345,
    alpha: float = 0.05,
) -> GiStarResult:
    """Local Getis-Ord Gi* hot and cold spots, with permutation inference and FDR control.

    Weights are queen contiguity (areas sharing an edge or a corner), binary, with each area's own value
    included (the "star" in Gi*). Significance comes from conditional permutations with a fixed seed, so the
    same data always give the same result; the pseudo p-values are then adjusted with Benjamini-Hochberg
    across all areas tested. The smallest attainable p-value is ``1 / (permutations + 1)``, so with many
    areas and few permutations a lone hot area can fail the FDR threshold; raising ``permutations`` to 9,999
    costs well under a second.

    Args:
        counts: Incidents (or a rate) per area code. Areas in the boundaries but missing here count as zero.
        boundaries: Areas with columns ``code``, ``name`` and ``geometry`` (see ``load_boundaries``).
        permutations: Number of conditional permutations.
        seed: Seed for the permutations.
        alpha: False discovery rate at which an area is called hot or cold.

    Returns:
        Per-area z-scores, p-values and classes, the islands and the settings used.

    Raises:
        AnalysisError: Fewer than three areas with neighbours, or no incidents at all.
    """
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be between 0 and 1, not {alpha}")
    if permutations < 99:
        raise ValueError(f"use at least 99 permutations, not {permutations}")
    codes = [str(code) for code in boundaries["code"]]
    names = [str(name) for name in boundaries["name"]] if "name" in boundaries else [""] * len(codes)
    if len(set(codes)) != len(codes):
        raise AnalysisError("The boundaries contain the same area code more than once.")
    if len(codes) < 3:
        raise AnalysisError(f"Gi* needs at least three areas; the boundaries give {len(codes)}.")
    values = _checked_counts({code: counts.get(code, 0.0) for code in codes})
    unmatched = sorted(str(code) for code in counts if code not in values)

    contiguity = _queen(boundaries, codes)
    islands = sorted(contiguity.islands)
    if islands:
        contiguity = _without_islands(contiguity, [code for code in codes if code not in set(islands)])
    tested = [str(code) for code in contiguity.id_order]  # the order of the weights matrix
    if len(tested) < 3:
        raise AnalysisError(f"Gi* needs at least three neighbouring areas; there are {len(tested)}.")
    y = np.array([values[code] for code in tested], dtype=float)
    if y.sum() <= 0:
        raise AnalysisError("Gi* cannot run: there are no incidents in any area.")

    statistic = _g_local_star(y, contiguity, permutations, seed)
    # esda stores p_sim in single precision; it is always (k + 1) / (permutations + 1), so restore it exactly.
    p_sim = np.round(np.nan_to_num(np.asarray(statistic.p_sim, dtype=float), nan=1.0) * (permutations + 1))
    p_sim = p_sim / (permutations + 1)
    p_fdr = np.array(benjamini_hochberg(list(p_sim)), dtype=float)
    by_code = {
        code: (_finite(z), _finite(z_sim), float(p), float(q))
        for code, z, z_sim, p, q in zip(tested, statistic.Zs, statistic.z_sim, p_sim, p_fdr, strict=True)
    }

    areas = []
    for code, name in zip(codes, names, strict=True):
        if code not in by_code:
            areas.append(AreaGiStar(code, name, values[code], None, None, None, None, "not significant"))
            continue
        z, z_sim, p, q = by_code[code]
        if z_sim is None:  # no variation to test (e.g. every area has the same count)
            areas.append(AreaGiStar(code, name, values[code], z, None, None, None, "not significant"))
            continue
        # Direction follows the permutation z, the same tail p_sim was taken from.
        label: GiClass = "not significant"
        if q < alpha and z_sim != 0:
            label = "hot" if z_sim > 0 else "cold"
        areas.append(AreaGiStar(code, name, values[code], z, z_sim, p, q, label))

    settings = {
        "statistic": "local Getis-Ord Gi* (esda.G_Local, star)",
        "weights": "queen contiguity (shared edge or corner), binary, each area's own value included",
        "permutations": permutations,
        "seed": seed,
        "inference": "conditional permutation, one-sided pseudo p-value in the observed direction",
        "multiple_testing": "Benjamini-Hochberg false discovery rate across all areas tested",
        "alpha": alpha,
        "areas": len(codes),
        "areas_tested": len(tested),
        "islands": len(islands),
        "missing_areas_count_as": 0,
    }
    return GiStarResult(areas=areas, islands=islands, codes_not_in_boundaries=unmatched, settings=settings)


def _queen(boundaries: gpd.GeoDataFrame, codes: list[str]) -> libpysal.weights.W:
    """Queen contiguity weights with ids in ``codes`` order."""
    import libpysal

    with warnings.catch_warnings():
        # libpysal warns about islands and disconnected parts; islands are reported in the result instead.
        warnings.simplefilter("ignore", UserWarning)
        return libpysal.weights.Queen.from_dataframe(boundaries, ids=codes, use_index=False)


def _without_islands(contiguity: libpysal.weights.W, tested: list[str]) -> libpysal.weights.W:
    import libpysal

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return libpysal.weights.w_subset(contiguity, tested)


def _g_local_star(y: np.ndarray, contiguity: libpysal.weights.W, permutations: int, seed: int) -> G_Local:
    import libpysal
    from esda import G_Local

    with warnings.catch_warnings():
        # libpysal repeats its disconnected-parts warning; esda announces a future change of its default
        # alternative, uses a deprecated numpy alias, and divides by zero when every area has the same count.
        warnings.simplefilter("ignore", UserWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        # A fresh star-weights copy every call: esda zeroes the self-weights of the W it is given, in place.
        weights = libpysal.weights.fill_diagonal(contiguity, 1.0)
        # n_jobs=1: the parallel path is not reproducible for a given seed, and it starts worker processes.
        return G_Local(y, weights, star=None, transform="B", permutations=permutations, seed=seed, n_jobs=1)


# ----------------------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------------------


def _check_share(top_share: float) -> None:
    if not 0 < top_share <= 1:
        raise ValueError(f"top_share must be above 0 and at most 1, not {top_share}")


def _checked_counts(counts: Mapping[str, float], whole: bool = False) -> dict[str, float]:
    """Counts as floats, refusing empty input, negative or missing values and (if ``whole``) fractions."""
    if not counts:
        raise AnalysisError("No areas were given: pass every area of the area of interest, zeros included.")
    checked = {}
    for code, count in counts.items():
        value = float(count)
        if math.isnan(value) or value < 0 or math.isinf(value):
            raise ValueError(f"count for {code} must be a non-negative number, not {count!r}")
        if whole and not value.is_integer():
            raise ValueError(f"count for {code} must be a whole number for an exact test, not {count!r}")
        checked[str(code)] = value
    return checked


def _ranked(values: Mapping[str, float]) -> list[str]:
    """Area codes, highest count first, ties by code."""
    return sorted(values, key=lambda code: (-values[code], code))


def _n_top(n_areas: int, top_share: float) -> int:
    # round() first so that e.g. 0.1 * 30 = 3.0000000000000004 gives 3 areas, not 4.
    return max(1, math.ceil(round(top_share * n_areas, 9)))


def _gini(values: list[float]) -> float | None:
    """Gini coefficient: sum over sorted values of (2i - n - 1) x_i / (n * total), i from 1."""
    total = sum(values)
    if total <= 0:
        return None
    ordered = sorted(values)
    n = len(ordered)
    return sum((2 * i - n - 1) * x for i, x in enumerate(ordered, start=1)) / (n * total)


def _finite(value: float) -> float | None:
    """The value as a float, or None when it is not finite (JSON has no NaN)."""
    return float(value) if math.isfinite(value) else None


def _odds(p: float) -> float:
    return p / (1.0 - p)

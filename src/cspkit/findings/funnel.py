"""Exact intervals for rates, and funnel limits for judging small areas against the area mean.

A rate of a count ``x`` over a denominator ``n`` (residents, households, women aged 16+) gets the exact
**Garwood** interval: ``chi2.ppf(a/2, 2x)/2`` to ``chi2.ppf(1 - a/2, 2x + 2)/2`` events, divided by ``n``.

Ward and LSOA rates are judged with a **funnel plot** (Spiegelhalter 2005): if every part had the area's rate
``r``, a part of denominator ``n`` would expect ``E = r·n`` events, and its count would fall inside the exact
Poisson limits around ``E`` (the same chi-square form with ``2E``) 95% and 99.8% of the time. A part outside the
99.8% limits differs from the area by more than chance; a part with a high rate but inside the limits does not,
however high it ranks. Tables are ranked by the standardised deviation ``z = (x − E)/√E``, not by raw rate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from scipy import special

__all__ = ["FUNNEL_LEVELS", "funnel", "garwood_interval", "rate_interval", "rate_unit"]

#: The funnel's limits: 95% (about 2 sigma) and 99.8% (about 3 sigma).
FUNNEL_LEVELS = (0.95, 0.998)


def _chi2_ppf(q: float, df: float) -> float:
    """``scipy.stats.chi2.ppf(q, df)`` for 0 < q < 1 and df > 0, by the same special function it calls, without
    its per-call argument checking (ward and LSOA funnels call this thousands of times per run)."""
    return float(2 * special.gammaincinv(df / 2, q))


def garwood_interval(count: float, level: float = 0.95) -> tuple[float, float]:
    """Exact (Garwood) interval for a Poisson mean, given an observed count (a non-integer is allowed: the
    chi-square form is continuous, which is what funnel limits around an expected count need)."""
    if count < 0:
        raise ValueError("a count cannot be negative")
    tail = (1 - level) / 2
    low = 0.0 if count == 0 else _chi2_ppf(tail, 2 * count) / 2
    high = _chi2_ppf(1 - tail, 2 * count + 2) / 2
    return low, high


def rate_interval(count: float, denominator: float, per: int, level: float = 0.95) -> tuple[float, float]:
    """Exact (Garwood) interval for the rate ``count / denominator × per``."""
    low, high = garwood_interval(count, level)
    return low / denominator * per, high / denominator * per


def rate_unit(per: int, denominator_words: str) -> str:
    """``per 1,000 residents``: every rate carries its unit."""
    return f"per {per:,} {denominator_words}"


def _limits(expected: float, level: float) -> tuple[float, float]:
    """Count limits around an expected count: the central ``level`` of Poisson counts with that mean."""
    tail = (1 - level) / 2
    low = 0.0 if expected == 0 else _chi2_ppf(tail, 2 * expected) / 2
    high = _chi2_ppf(1 - tail, 2 * expected + 2) / 2
    return low, high


def _position(count: float, limits: dict[float, tuple[float, float]]) -> str:
    low95, high95 = limits[0.95]
    low998, high998 = limits[0.998]
    if count > high998:
        return "above 99.8% limit"
    if count > high95:
        return "above 95% limit"
    if count < low998:
        return "below 99.8% limit"
    if count < low95:
        return "below 95% limit"
    return "within limits"


def funnel(
    counts: Mapping[str, float],
    denominators: Mapping[str, float],
    names: Mapping[str, str],
    per: int,
    denominator_words: str,
    area_count: float | None = None,
    area_denominator: float | None = None,
    curve_points: int = 40,
) -> dict[str, object] | None:
    """Funnel data for parts of an area (wards, LSOAs): points ranked by evidence, and limit curves to draw.

    Args:
        counts: Part code -> count in the period.
        denominators: Part code -> denominator (parts without one are left out and listed).
        names: Part code -> display name.
        per: Rates per this many (1,000).
        denominator_words: ``residents``, ``households``...
        area_count: The area's count (default: the sum over parts with a denominator).
        area_denominator: The area's denominator (default: the sum over parts).
        curve_points: Points on each limit curve.

    Returns:
        JSON-able funnel data, or None when no part has a denominator or the area has none.
    """
    usable = [p for p in counts if denominators.get(p)]
    if not usable:
        return None
    total_n = area_denominator or float(sum(denominators[p] for p in usable))
    total_x = area_count if area_count is not None else float(sum(counts[p] for p in usable))
    if not total_n:
        return None
    rate = total_x / total_n  # per unit of denominator
    points = []
    for part in usable:
        n, x = float(denominators[part]), float(counts[part])
        expected = rate * n
        limits = {level: _limits(expected, level) for level in FUNNEL_LEVELS}
        low, high = rate_interval(x, n, per)
        points.append(
            {
                "area": part,
                "name": names.get(part, part),
                "count": x,
                "denominator": n,
                "rate": x / n * per,
                "rate_low": low,
                "rate_high": high,
                "expected": expected,
                "z": (x - expected) / math.sqrt(expected) if expected > 0 else None,
                "lower_95": limits[0.95][0] / n * per,
                "upper_95": limits[0.95][1] / n * per,
                "lower_998": limits[0.998][0] / n * per,
                "upper_998": limits[0.998][1] / n * per,
                "position": _position(x, limits),
            }
        )
    points.sort(key=lambda p: (-(p["z"] if p["z"] is not None else -math.inf), str(p["area"])))  # type: ignore[operator]
    smallest = min(float(denominators[p]) for p in usable)
    largest = max(float(denominators[p]) for p in usable)
    curve = []
    for i in range(curve_points):
        n = smallest * (largest / smallest) ** (i / max(curve_points - 1, 1)) if smallest > 0 else largest
        row: dict[str, float] = {"denominator": n}
        for level, tag in ((0.95, "95"), (0.998, "998")):
            lo, hi = _limits(rate * n, level)
            row[f"lower_{tag}"] = lo / n * per
            row[f"upper_{tag}"] = hi / n * per
        curve.append(row)
    return {
        "unit": rate_unit(per, denominator_words),
        "rate_per": per,
        "area_rate": rate * per,
        "area_count": total_x,
        "area_denominator": total_n,
        "levels": list(FUNNEL_LEVELS),
        "method": "exact Poisson limits around the area rate (chi-square form), 95% and 99.8%; points ranked by "
        "z = (count - expected) / sqrt(expected)",
        "points": points,
        "curve": curve,
        "left_out": sorted(p for p in counts if not denominators.get(p)),
        "above_998": sum(p["position"] == "above 99.8% limit" for p in points),
        "below_998": sum(p["position"] == "below 99.8% limit" for p in points),
    }

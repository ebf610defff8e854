"""Exact rate intervals and funnel limits, by hand and against scipy's Poisson distribution."""

from __future__ import annotations

import math

import pytest
from scipy import stats

from cspkit.findings.funnel import funnel, garwood_interval, rate_interval, rate_unit


def test_garwood_interval_known_values() -> None:
    """0 events: 0 to 3.689 (= -ln 0.025); 10 events: 4.795 to 18.390 (textbook exact Poisson limits)."""
    low, high = garwood_interval(0)
    assert low == 0 and high == pytest.approx(-math.log(0.025), rel=1e-9)
    low, high = garwood_interval(10)
    assert (round(low, 3), round(high, 3)) == (4.795, 18.390)
    # the bounds are the means at which P(X >= 10) and P(X <= 10) are 2.5%
    assert stats.poisson.sf(9, low) == pytest.approx(0.025, rel=1e-6)
    assert stats.poisson.cdf(10, high) == pytest.approx(0.025, rel=1e-6)


def test_rate_interval_scales_with_denominator_and_carries_its_unit() -> None:
    low, high = rate_interval(10, 5_000, 1000)
    assert (low, high) == pytest.approx((4.7954 / 5, 18.3904 / 5), rel=1e-4)
    assert rate_unit(1000, "households") == "per 1,000 households"


def test_funnel_judges_parts_against_the_area_rate_and_ranks_by_evidence() -> None:
    """Area rate 100 / 10,000 = 10 per 1,000. Ward B: expected 20, observed 40 (z 4.47) is above the 99.8% limit;
    ward A has the highest raw rate (12 per 1,000 on 500 residents) but is well within the limits."""
    data = funnel(
        {"A": 6, "B": 40, "C": 54, "D": 3},
        {"A": 500, "B": 2_000, "C": 7_500, "D": 0},
        {"A": "Small", "B": "Busy", "C": "Large"},
        1000,
        "residents",
    )
    assert data is not None
    assert data["area_rate"] == pytest.approx(100 / 10_000 * 1000)
    assert data["unit"] == "per 1,000 residents"
    assert data["left_out"] == ["D"]  # no denominator: listed, never silently rated
    points = data["points"]
    assert [p["area"] for p in points] == ["B", "A", "C"]  # by z, not by raw rate (A's 12 is the highest rate)
    busy = points[0]
    assert busy["expected"] == pytest.approx(20) and busy["z"] == pytest.approx(20 / math.sqrt(20))
    assert busy["position"] == "above 99.8% limit"
    # the 99.8% upper limit is the Poisson count limit around 20 (chi-square form), as a rate
    assert busy["upper_998"] == pytest.approx(stats.chi2.ppf(0.999, 42) / 2 / 2_000 * 1000)
    assert stats.poisson.sf(40, 20) < 0.001
    small = points[1]
    assert small["rate"] == pytest.approx(12.0) and small["position"] == "within limits"
    assert small["rate_low"] < 10 < small["rate_high"]
    assert data["above_998"] == 1
    curve = data["curve"]
    assert curve[0]["denominator"] == pytest.approx(500) and curve[-1]["denominator"] == pytest.approx(7_500)
    assert curve[0]["upper_998"] > curve[-1]["upper_998"] > 10  # the funnel narrows as the denominator grows

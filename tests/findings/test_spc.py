"""Control charts: hand-computed limits, planted signals, and the chart-choice rule."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from cspkit.errors import AnalysisError
from cspkit.findings.model import SpcSignal
from cspkit.findings.periods import month_range
from cspkit.findings.spc import (
    BEYOND_3_SIGMA,
    EIGHT_IN_A_ROW,
    TWO_OF_THREE,
    ChartSignal,
    control_chart,
    latest_signal,
)

SETTLED = [4, 6, 5, 5, 4, 6, 5, 5]  # mean 5, well within Poisson variation, so a c-chart


def months(n: int) -> list[str]:
    return month_range("2022-01", "2030-12")[:n]


def test_c_chart_limits_by_hand_and_a_planted_spike() -> None:
    values = [*SETTLED, 20]
    chart = control_chart(values, months(9), baseline_months=8)
    assert chart.chart == "c-chart"
    assert chart.centre == pytest.approx(5.0)
    assert chart.sigma == pytest.approx(math.sqrt(5))
    assert chart.ucl == pytest.approx(5 + 3 * math.sqrt(5))  # 11.708
    assert chart.warn_upper == pytest.approx(5 + 2 * math.sqrt(5))  # 9.472
    assert chart.lcl == 0.0  # 5 - 6.708 floored at 0
    assert chart.warn_lower == pytest.approx(5 - 2 * math.sqrt(5))  # 0.528
    assert chart.signals == [ChartSignal("2022-09", BEYOND_3_SIGMA, "above")]
    assert chart.limit_months == months(8)


def test_planted_shift_is_found_by_eight_in_a_row() -> None:
    shifted = [7, 8, 8, 7, 8, 9, 7, 8]  # all above 5, none beyond the 2-sigma line 9.47
    chart = control_chart([*SETTLED, *shifted], months(16), baseline_months=8)
    assert chart.chart == "c-chart"
    assert chart.signals == [ChartSignal("2023-04", EIGHT_IN_A_ROW, "above")]  # the 8th shifted month


def test_a_continuing_shift_keeps_signalling_and_latest_is_last() -> None:
    values = [*SETTLED, 7, 8, 8, 7, 8, 9, 7, 8, 8]
    chart = control_chart(values, months(17), baseline_months=8)
    assert [s.month for s in chart.signals] == ["2023-04", "2023-05"]
    assert latest_signal(chart) == SpcSignal(rule=EIGHT_IN_A_ROW, month="2023-05", chart="c-chart", side="above")


def test_a_point_on_the_centre_line_breaks_a_run() -> None:
    values = [*SETTLED, 7, 8, 8, 5, 8, 9, 7, 8]
    chart = control_chart(values, months(16), chart="c", baseline_months=8)
    assert chart.signals == []
    assert latest_signal(chart) is None


def test_two_of_three_beyond_two_sigma() -> None:
    values = [*SETTLED, 10, 5, 10]  # 10 > 9.47 twice within three months, never beyond 11.71
    chart = control_chart(values, months(11), chart="c", baseline_months=8)
    assert chart.signals == [ChartSignal("2022-11", TWO_OF_THREE, "above")]


def test_latest_signal_prefers_the_most_severe_rule_in_a_month() -> None:
    values = [*SETTLED, 10, 12]  # the 12 is beyond 3 sigma and completes 2 of 3 beyond 2 sigma
    chart = control_chart(values, months(10), chart="c", baseline_months=8)
    assert {s.rule for s in chart.signals if s.month == "2022-10"} == {BEYOND_3_SIGMA, TWO_OF_THREE}
    signal = latest_signal(chart)
    assert signal is not None and signal.rule == BEYOND_3_SIGMA


def test_xmr_chosen_for_an_over_dispersed_series() -> None:
    values = [2, 30, 5, 25, 3, 28, 4, 26, 6, 24, 2, 29]
    chart = control_chart(values, months(12))
    assert chart.chart == "XmR"
    assert "XmR" in chart.reason and "variance/mean" in chart.reason
    mean_moving_range = np.abs(np.diff(values)).mean()
    assert chart.centre == pytest.approx(np.mean(values))
    assert chart.sigma == pytest.approx(mean_moving_range / 1.128)
    assert chart.ucl == pytest.approx(np.mean(values) + 2.6596 * mean_moving_range, rel=1e-4)


@pytest.mark.parametrize("seed", range(6))
def test_chart_choice_follows_the_dispersion_rule(seed: int) -> None:
    rng = np.random.default_rng(seed)
    # Half the series are Poisson, half a Poisson-gamma mixture (over-dispersed).
    mean = rng.gamma(2.0, 10.0, 24) if seed % 2 else np.full(24, 20.0)
    values = rng.poisson(mean)
    dispersion = ((values - values.mean()) ** 2).sum() / values.mean()
    over_dispersed = stats.chi2.sf(dispersion, len(values) - 1) < 0.01
    chart = control_chart(list(values), months(24))
    assert over_dispersed == bool(seed % 2)  # these seeds separate cleanly (p < 1e-14 or p > 0.3)
    assert chart.chart == ("XmR" if over_dispersed else "c-chart")


def test_rates_get_an_xmr_chart() -> None:
    chart = control_chart([1.2, 1.5, 1.1, 1.4], months(4))
    assert chart.chart == "XmR" and "not whole counts" in chart.reason


def test_refusals() -> None:
    with pytest.raises(AnalysisError):
        control_chart([5], months(1))
    with pytest.raises(AnalysisError):
        control_chart([1.5, 2.5, 3.0], months(3), chart="c")
    with pytest.raises(ValueError):
        control_chart([1, 2, 3], months(2))


# --- re-baselining and de-seasonalising ---


def test_a_sustained_shift_starts_a_new_phase_with_its_own_limits() -> None:
    """Settled at 5 for 8 months, then 12 months near 8: the run of 8 above the centre (2022-09 to 2023-04) confirms
    the shift in April 2023. A new phase starts in September 2022 with limits from its first 12 months (mean 7.75,
    sigma sqrt(7.75)); the run is the signal of the shift, and the months after it are read against the new
    limits, so the shift does not go on signalling as if nothing had been learned (as it does without
    re-baselining), while a spike against the new level still signals."""
    shifted = [7, 8, 8, 7, 8, 9, 7, 8, 8, 9, 7, 7]
    values = [*SETTLED, *shifted, 8, 19]
    chart = control_chart(values, months(22), baseline_months=8, rebaseline=True)
    assert [p.first for p in chart.phases] == ["2022-01", "2022-09"]
    assert chart.phases[1].why == "8 in a row above from 2022-09, confirmed 2023-04"
    assert chart.phases[1].limit_months == month_range("2022-09", "2023-08")
    assert chart.centre == pytest.approx(sum(shifted) / 12) and chart.sigma == pytest.approx(math.sqrt(93 / 12))
    assert chart.signals == [
        ChartSignal("2023-04", EIGHT_IN_A_ROW, "above"),
        ChartSignal("2023-10", BEYOND_3_SIGMA, "above"),  # 19 > 7.75 + 3 x 2.78 = 16.1
    ]
    assert chart.by_month("centre") == [5.0] * 8 + [pytest.approx(7.75)] * 14
    # without re-baselining every month of the new level from April 2023 to October 2023 signals "8 in a row"
    plain = control_chart(values, months(22), baseline_months=8)
    assert sum(s.rule == EIGHT_IN_A_ROW for s in plain.signals) == 7
    assert "Re-baselined 1 time(s)" in chart.reason


def test_no_shift_no_new_phase() -> None:
    chart = control_chart([*SETTLED, 4, 6, 5, 5, 6, 4, 5, 6], months(16), baseline_months=8, rebaseline=True)
    assert len(chart.phases) == 1 and chart.phases[0].why == "baseline"
    assert chart.by_month("ucl") == [pytest.approx(5 + 3 * math.sqrt(5))] * 16


def test_deseasonalising_removes_a_december_that_is_always_busy() -> None:
    """Two years of a steady 20 a month with December at 40, then a third year the same: seasonal index 40/21.67 for
    December and 20/21.67 otherwise, so after dividing it out every month is 21.67 and nothing signals; left in,
    December breaks the 3-sigma line each year."""
    year = [20.0] * 11 + [40.0]
    values = year * 3
    ms = month_range("2021-01", "2023-12")
    chart = control_chart(values, ms, chart="xmr", baseline_months=24, deseasonalise=True)
    mean = sum(year) / 12
    assert chart.seasonal_index[12] == pytest.approx(40 / mean) and chart.seasonal_index[1] == pytest.approx(20 / mean)
    assert chart.values == pytest.approx([mean] * 36)
    assert chart.signals == []
    plain = control_chart(values, ms, chart="c", baseline_months=24)
    assert ChartSignal("2023-12", BEYOND_3_SIGMA, "above") in plain.signals


def test_deseasonalising_needs_two_years_of_limit_months() -> None:
    chart = control_chart([*SETTLED, *SETTLED], months(16), baseline_months=8, deseasonalise=True)
    assert chart.seasonal_index == {} and "Not de-seasonalised" in chart.reason

"""Statistical process control charts for monthly series (domain notes, section 3.6).

Which chart (the rule, stated in every result):

* **c-chart** for monthly counts that vary as Poisson counts do: centre ``c̄``, sigma ``√c̄``.
* **XmR chart** when the counts are over-dispersed, i.e. the chi-square index-of-dispersion test
  (``Σ(x − x̄)² / x̄`` against chi-square with n − 1 degrees of freedom) gives p < 0.01; also for values
  that are not counts (rates, proportions). Centre ``x̄``, sigma ``MR̄ / 1.128`` where ``MR̄`` is the mean
  moving range.

Control limits are centre ± 3 sigma and warning limits ± 2 sigma; lower limits are floored at 0 for values
that cannot be negative. Limits come from all points, or from the first ``baseline_months`` points and are
then applied to the whole series.

Signal rules (Western Electric), each attributed to the month where the rule is met:

* ``beyond 3 sigma``: one point outside a control limit;
* ``2 of 3 beyond 2 sigma``: this point and at least one of the two before it outside the same warning limit;
* ``8 in a row on one side``: this point and the seven before it all above (or all below) the centre line;
  a point on the centre line breaks the run.

A run that goes on signals again at each further month, so the latest signal tracks a continuing shift.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np
from scipy import stats

from cspkit.errors import AnalysisError
from cspkit.findings.model import SpcSignal

__all__ = [
    "BEYOND_3_SIGMA",
    "DISPERSION_P",
    "EIGHT_IN_A_ROW",
    "TWO_OF_THREE",
    "ChartSignal",
    "ControlChart",
    "control_chart",
    "latest_signal",
]

BEYOND_3_SIGMA = "beyond 3 sigma"
TWO_OF_THREE = "2 of 3 beyond 2 sigma"
EIGHT_IN_A_ROW = "8 in a row on one side"
_RULES_BY_SEVERITY = (BEYOND_3_SIGMA, TWO_OF_THREE, EIGHT_IN_A_ROW)

#: Counts are over-dispersed (XmR chart) when the chi-square dispersion test gives p below this.
DISPERSION_P = 0.01

_D2 = 1.128  # bias constant for moving ranges of two points
_RUN_LENGTH = 8

Side = Literal["above", "below"]


class ChartSignal(NamedTuple):
    """A month where a signal rule is met."""

    month: str
    rule: str
    side: Side


@dataclass(frozen=True)
class ControlChart:
    """A control chart with its limits and signals.

    Attributes:
        chart: ``c-chart`` or ``XmR``.
        reason: Why this chart was chosen, in words, with the numbers.
        months: Months of the series.
        values: Values of the series.
        centre: Centre line.
        sigma: One sigma.
        ucl: Upper control limit (centre + 3 sigma).
        lcl: Lower control limit (centre − 3 sigma, floored at 0 for non-negative data).
        warn_upper: Upper warning limit (centre + 2 sigma).
        warn_lower: Lower warning limit (centre − 2 sigma, floored like ``lcl``).
        signals: Signals in month order; within a month, the most severe rule first.
        limit_months: Months the centre and limits were computed from.
    """

    chart: str
    reason: str
    months: list[str]
    values: list[float]
    centre: float
    sigma: float
    ucl: float
    lcl: float
    warn_upper: float
    warn_lower: float
    signals: list[ChartSignal]
    limit_months: list[str]


def _is_counts(values: np.ndarray) -> bool:
    return bool(np.all(values >= 0) and np.all(values == np.round(values)))


def _choose_chart(limit_values: np.ndarray) -> tuple[str, str]:
    """Apply the chart rule to the points the limits are computed from; return (chart, reason)."""
    if not _is_counts(limit_values):
        return "XmR", "XmR chart because the values are not whole counts (a rate or proportion)."
    mean = float(limit_values.mean())
    if mean == 0:
        return "c-chart", "c-chart because every count is zero."
    dispersion = float(((limit_values - mean) ** 2).sum() / mean)
    df = len(limit_values) - 1
    p = float(stats.chi2.sf(dispersion, df))
    ratio = dispersion / df
    if p < DISPERSION_P:
        return "XmR", (
            f"XmR chart because the counts vary more than chance alone explains (variance/mean {ratio:.1f}, "
            f"chi-square dispersion test p = {p:.2g} < {DISPERSION_P})."
        )
    return "c-chart", (
        f"c-chart because the counts vary as chance alone would (variance/mean {ratio:.1f}, chi-square "
        f"dispersion test p = {p:.2g} >= {DISPERSION_P})."
    )


def control_chart(
    values: Sequence[float] | np.ndarray,
    months: Sequence[str],
    chart: Literal["auto", "c", "xmr"] = "auto",
    baseline_months: int | None = None,
    exposure_days: Sequence[float] | None = None,
) -> ControlChart:
    """Build a control chart for a monthly series and find its signals.

    Args:
        values: Monthly values (counts for a c-chart), in month order.
        months: The months, ``YYYY-MM``, same length as ``values``.
        chart: ``auto`` applies the rule in the module docstring; ``c`` or ``xmr`` forces a chart.
        baseline_months: Compute the limits from the first this many points only (e.g. the months before the
            period judged, so that the period cannot move its own limits); None uses all points.
        exposure_days: Days in each month: the chart is chosen on the counts, then drawn on counts scaled to an
            average month (365.25/12 days), so that February's three fewer days do not look like a fall.

    Raises:
        AnalysisError: If there are fewer than two points (or baseline points), or a forced c-chart is given
            values that are not counts.
    """
    if len(values) != len(months):
        raise ValueError(f"values and months differ in length ({len(values)} and {len(months)})")
    series = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(series)):
        raise AnalysisError("A control chart needs a value for every month (found a missing value).")
    n_limit = len(series) if baseline_months is None else baseline_months
    if n_limit < 2 or n_limit > len(series):
        raise AnalysisError(f"A control chart needs at least 2 months for its limits (have {n_limit}).")
    limit_values = series[:n_limit]

    if chart == "auto":
        chart_name, reason = _choose_chart(limit_values)
    elif chart == "c":
        if not _is_counts(series) and exposure_days is None:
            raise AnalysisError("A c-chart needs whole counts; use an XmR chart for rates or proportions.")
        chart_name, reason = "c-chart", "c-chart as requested."
    elif chart == "xmr":
        chart_name, reason = "XmR", "XmR chart as requested."
    else:
        raise ValueError(f"unknown chart {chart!r}")

    if exposure_days is not None:
        if len(exposure_days) != len(series):
            raise ValueError("exposure_days must give one value per month")
        series = series * (365.25 / 12) / np.asarray(exposure_days, dtype=float)
        limit_values = series[:n_limit]
        reason += " Counts are scaled to an average-length month (days in month)."
    centre = float(limit_values.mean())
    mean_moving_range = float(np.abs(np.diff(limit_values)).mean())
    sigma = math.sqrt(centre) if chart_name == "c-chart" else mean_moving_range / _D2
    floor = 0.0 if np.all(series >= 0) else -math.inf
    ucl, warn_upper = centre + 3 * sigma, centre + 2 * sigma
    lcl, warn_lower = max(centre - 3 * sigma, floor), max(centre - 2 * sigma, floor)

    return ControlChart(
        chart=chart_name,
        reason=reason,
        months=list(months),
        values=[float(v) for v in series],
        centre=centre,
        sigma=sigma,
        ucl=ucl,
        lcl=lcl,
        warn_upper=warn_upper,
        warn_lower=warn_lower,
        signals=_find_signals(series, list(months), centre, ucl, lcl, warn_upper, warn_lower),
        limit_months=list(months[:n_limit]),
    )


def _find_signals(
    series: np.ndarray,
    months: list[str],
    centre: float,
    ucl: float,
    lcl: float,
    warn_upper: float,
    warn_lower: float,
) -> list[ChartSignal]:
    above_warn = series > warn_upper
    below_warn = series < warn_lower
    above_centre = series > centre
    below_centre = series < centre
    signals: list[ChartSignal] = []
    for i, (month, x) in enumerate(zip(months, series, strict=True)):
        if x > ucl:
            signals.append(ChartSignal(month, BEYOND_3_SIGMA, "above"))
        elif x < lcl:
            signals.append(ChartSignal(month, BEYOND_3_SIGMA, "below"))

        window = slice(max(0, i - 2), i + 1)
        if above_warn[i] and above_warn[window].sum() >= 2:
            signals.append(ChartSignal(month, TWO_OF_THREE, "above"))
        elif below_warn[i] and below_warn[window].sum() >= 2:
            signals.append(ChartSignal(month, TWO_OF_THREE, "below"))

        if i >= _RUN_LENGTH - 1:
            run = slice(i - _RUN_LENGTH + 1, i + 1)
            if above_centre[run].all():
                signals.append(ChartSignal(month, EIGHT_IN_A_ROW, "above"))
            elif below_centre[run].all():
                signals.append(ChartSignal(month, EIGHT_IN_A_ROW, "below"))
    return signals


def latest_signal(chart: ControlChart) -> SpcSignal | None:
    """The most recent signal of a chart (the most severe rule if several fall in that month), or None."""
    if not chart.signals:
        return None
    latest_month = max(s.month for s in chart.signals)
    in_month = [s for s in chart.signals if s.month == latest_month]
    chosen = min(in_month, key=lambda s: _RULES_BY_SEVERITY.index(s.rule))
    return SpcSignal(rule=chosen.rule, month=chosen.month, chart=chart.chart, side=chosen.side)

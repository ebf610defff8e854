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

Re-baselining (``rebaseline=True``, as police SPC practice runs it): once a sustained shift is confirmed (8 in a
row on one side of the centre line, all after the months the limits came from), the process is taken to have
moved. A new phase starts at the first month of that run, with its centre and limits computed from its first 12
months (at least the 8 of the run). Signals are then read against the new limits from the month after the shift
was confirmed; the run itself is the signal of the shift. Each phase is listed in ``phases`` and the limits are
given month by month (``centre_by_month`` ...), so the chart draws each phase's own limits.

De-seasonalising (``deseasonalise=True``): with at least 24 limit months and every calendar month at least twice
among them, each month is divided by its seasonal index (the mean of that calendar month over the limit months
divided by their overall mean), so that a December that is always busy does not signal. With fewer months it is
not applied, and ``reason`` says so.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

import numpy as np

from cspkit.errors import AnalysisError
from cspkit.findings.distributions import chi2_sf
from cspkit.findings.model import SpcSignal

__all__ = [
    "BEYOND_3_SIGMA",
    "DISPERSION_P",
    "EIGHT_IN_A_ROW",
    "TWO_OF_THREE",
    "ChartSignal",
    "ControlChart",
    "Phase",
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
#: Months a re-baselined phase takes its limits from (fewer when the series ends sooner; at least the run of 8).
PHASE_LIMIT_MONTHS = 12
#: Limit months needed to de-seasonalise (every calendar month at least twice).
SEASON_MONTHS = 24

Side = Literal["above", "below"]


class ChartSignal(NamedTuple):
    """A month where a signal rule is met."""

    month: str
    rule: str
    side: Side


@dataclass(frozen=True)
class Phase:
    """One stretch of a chart with its own centre and limits.

    Attributes:
        first: First month of the phase.
        last: Last month of the phase.
        limit_months: Months its centre and limits come from.
        centre, sigma, ucl, lcl, warn_upper, warn_lower: As in :class:`ControlChart`.
        why: ``baseline`` or the shift that started it (``8 in a row above from 2022-09, confirmed 2023-04``).
    """

    first: str
    last: str
    limit_months: list[str]
    centre: float
    sigma: float
    ucl: float
    lcl: float
    warn_upper: float
    warn_lower: float
    why: str


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
        limit_months: Months the centre and limits of the first phase were computed from.
        phases: The phases (one unless re-baselined); ``centre`` ... ``warn_lower`` above are the last phase's.
        seasonal_index: Calendar month (1-12) -> seasonal index divided out, when de-seasonalised.
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
    phases: list[Phase] = field(default_factory=list)
    seasonal_index: dict[int, float] = field(default_factory=dict)

    def by_month(self, attribute: str) -> list[float]:
        """A phase attribute (``centre``, ``ucl``, ``lcl``, ``warn_upper``, ``warn_lower``) for every month."""
        out: list[float] = []
        for phase in self.phases:
            n = sum(1 for m in self.months if phase.first <= m <= phase.last)
            out += [float(getattr(phase, attribute))] * n
        return out


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
    p = chi2_sf(dispersion, df)
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
    rebaseline: bool = False,
    deseasonalise: bool = False,
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
        rebaseline: Start a new phase with new limits after a sustained shift (see the module docstring).
        deseasonalise: Divide out a seasonal index from the limit months (see the module docstring).

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
        reason += " Counts are scaled to an average-length month (days in month)."
    seasonal_index: dict[int, float] = {}
    if deseasonalise:
        series, seasonal_index, note = _deseasonalised(series, list(months), n_limit)
        reason += " " + note
    floor = 0.0 if np.all(series >= 0) else -math.inf
    month_list = list(months)
    phase_starts = [(0, n_limit, "baseline", -1)]  # (first index, end of limit window, why, confirmed at)
    if rebaseline:
        phase_starts = _phases(series, month_list, chart_name, n_limit, floor)
    phases: list[Phase] = []
    signals: list[ChartSignal] = []
    for k, (start, limit_end, why, confirmed) in enumerate(phase_starts):
        end = phase_starts[k + 1][0] - 1 if k + 1 < len(phase_starts) else len(series) - 1
        judged_to = phase_starts[k + 1][3] if k + 1 < len(phase_starts) else len(series) - 1
        centre, sigma, ucl, lcl, warn_upper, warn_lower = _limits(series[start:limit_end], chart_name, floor)
        phases.append(
            Phase(
                month_list[start],
                month_list[end],
                month_list[start:limit_end],
                centre,
                sigma,
                ucl,
                lcl,
                warn_upper,
                warn_lower,
                why,
            )
        )
        found = _find_signals(
            series[start : judged_to + 1], month_list[start : judged_to + 1], centre, ucl, lcl, warn_upper, warn_lower
        )
        signals += [s for s in found if month_list.index(s.month) > confirmed]
    last = phases[-1]
    if len(phases) > 1:
        reason += f" Re-baselined {len(phases) - 1} time(s) after a sustained shift (8 in a row on one side)."
    return ControlChart(
        chart=chart_name,
        reason=reason,
        months=month_list,
        values=[float(v) for v in series],
        centre=last.centre,
        sigma=last.sigma,
        ucl=last.ucl,
        lcl=last.lcl,
        warn_upper=last.warn_upper,
        warn_lower=last.warn_lower,
        signals=signals,
        limit_months=month_list[:n_limit],
        phases=phases,
        seasonal_index=seasonal_index,
    )


def _limits(values: np.ndarray, chart_name: str, floor: float) -> tuple[float, float, float, float, float, float]:
    """(centre, sigma, ucl, lcl, warn_upper, warn_lower) from the limit values."""
    centre = float(values.mean())
    mean_moving_range = float(np.abs(np.diff(values)).mean()) if len(values) > 1 else 0.0
    sigma = math.sqrt(centre) if chart_name == "c-chart" else mean_moving_range / _D2
    return (
        centre,
        sigma,
        centre + 3 * sigma,
        max(centre - 3 * sigma, floor),
        centre + 2 * sigma,
        max(centre - 2 * sigma, floor),
    )


def _phases(
    series: np.ndarray, months: list[str], chart_name: str, n_limit: int, floor: float
) -> list[tuple[int, int, str, int]]:
    """Where the process shifted: (first index, end of its limit window, why, index where confirmed)."""
    phases = [(0, n_limit, "baseline", -1)]
    start, limit_end = 0, n_limit
    centre = _limits(series[start:limit_end], chart_name, floor)[0]
    i = limit_end + _RUN_LENGTH - 1
    while i < len(series):
        run = series[i - _RUN_LENGTH + 1 : i + 1]
        side = "above" if np.all(run > centre) else "below" if np.all(run < centre) else None
        if side is None:
            i += 1
            continue
        start = i - _RUN_LENGTH + 1
        limit_end = min(start + PHASE_LIMIT_MONTHS, len(series))
        why = f"{_RUN_LENGTH} in a row {side} from {months[start]}, confirmed {months[i]}"
        phases.append((start, limit_end, why, i))
        centre = _limits(series[start:limit_end], chart_name, floor)[0]
        i = max(limit_end, i + 1) + _RUN_LENGTH - 1
    return phases


def _deseasonalised(series: np.ndarray, months: list[str], n_limit: int) -> tuple[np.ndarray, dict[int, float], str]:
    calendar = np.array([int(m[5:7]) for m in months])
    base, base_months = series[:n_limit], calendar[:n_limit]
    if n_limit < SEASON_MONTHS or any((base_months == k).sum() < 2 for k in range(1, 13)) or base.mean() <= 0:
        return (
            series,
            {},
            (
                f"Not de-seasonalised: that needs {SEASON_MONTHS} limit months with every calendar month "
                f"at least twice (have {n_limit})."
            ),
        )
    overall = float(base.mean())
    index = {k: float(base[base_months == k].mean()) / overall for k in range(1, 13)}
    if any(v <= 0 for v in index.values()):
        return series, {}, "Not de-seasonalised: a calendar month has no events in the limit months."
    adjusted = series / np.array([index[k] for k in calendar])
    return (
        adjusted,
        index,
        (
            f"De-seasonalised: each month divided by its seasonal index from the {n_limit} limit months (mean of the "
            "calendar month / overall mean)."
        ),
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

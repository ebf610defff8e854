"""Count indicators: from monthly counts to Finding records with honest change tests.

Every topic hands this module monthly counts (one series per indicator); it computes the value and baseline for
the comparison plan, the change test (quasi-Poisson with season, or the exact mid-p test, by the rule in
:mod:`cspkit.findings.stats`) and its rate-ratio interval, the Benjamini-Hochberg verdict across the family of
indicators compared together with the matching multiplicity-adjusted interval, the control chart of the monthly
series, an optional forecast, and the cautious sentence. Topics then only decide *what* to count.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from cspkit.findings.forecast import forecast_monthly
from cspkit.findings.funnel import rate_interval, rate_unit
from cspkit.findings.model import Coverage, Finding, GoodDirection
from cspkit.findings.periods import Comparison, month_add, month_label, month_range
from cspkit.findings.spc import control_chart, latest_signal
from cspkit.findings.stats import TestedChange, adjust_changes, compare_monthly_counts_many
from cspkit.findings.wording import describe_change, describe_spc, format_number

__all__ = ["EMERGING_DEFINITION", "CountSeries", "FindingContext", "build_count_findings", "restricted_clause", "slug"]


def slug(text: str) -> str:
    """``Criminal damage and arson`` -> ``criminal_damage_and_arson``."""
    import re

    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def restricted_clause(comparison: Comparison) -> str:
    """A sentence saying which months the figures cover when a comparison was restricted; else ``""``.

    Without it, "14,430 in 2022-23" would read as the whole year when only 11 of its months were counted.
    """
    if not comparison.restricted:
        return ""
    months = comparison.current_months
    span = month_label(months[0]) if len(months) == 1 else f"{month_label(months[0])} to {month_label(months[-1])}"
    if len(month_range(months[0], months[-1])) != len(months):
        span += ", with gaps"
    return (
        f" Both figures cover only {len(months)} of the {comparison.current.n_months} months ({span}, and the same "
        "months before), the months loaded for every period compared."
    )


@dataclass(frozen=True)
class FindingContext:
    """What every finding of one run shares: the period, comparison and settings."""

    comparison: Comparison
    area_code: str
    area_name: str
    alpha: float = 0.05
    small_number_threshold: int = 10
    suppress_below: int = 5
    #: Divide out a seasonal index before charting (needs 24 months before the period judged).
    spc_deseasonalise: bool = False

    @property
    def period(self) -> tuple[str, str]:
        return (self.comparison.current.first, self.comparison.current.last)

    @property
    def period_label(self) -> str:
        return self.comparison.current.label

    @property
    def comparison_label(self) -> str:
        return self.comparison.baseline_label


@dataclass
class CountSeries:
    """One indicator to build: a monthly count series and how to describe it.

    Attributes:
        id: Stable finding id.
        topic: Topic of the finding.
        title: Short title.
        subject: What is counted, as it reads mid-sentence (``burglary``, ``ASB incidents``).
        monthly: Month -> count, for every loaded month (zeros included).
        definition: How it was counted, in words.
        sources: Provenance.
        area_code: Area the finding is for (default: the partnership).
        area_name: Display name of that area.
        denominator: Population (or households, adult women) for a rate, if known.
        rate_per: Rate per this many of the denominator.
        rate_denominator: Words for the denominator (``residents``, ``households``).
        good_direction: Which way is better.
        control_chart: Draw a control chart of the monthly series.
        forecast: Forecast the next 12 months.
        coverage: Rows outside the area and without location, for the coverage record.
        extra: Topic-specific detail to carry.
    """

    id: str
    topic: str
    title: str
    subject: str
    monthly: dict[str, float]
    definition: str
    sources: list[str]
    area_code: str | None = None
    area_name: str | None = None
    denominator: float | None = None
    rate_per: int = 1000
    rate_denominator: str = "residents"
    good_direction: GoodDirection = "down"
    control_chart: bool = True
    forecast: bool = False
    rows_outside_area: int = 0
    rows_without_location: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


#: What "emerging" means, printed with the definitions.
EMERGING_DEFINITION = (
    "Emerging: a change in the unwanted direction that is significant after the Benjamini-Hochberg adjustment of "
    "its family. Control-chart signals are screening flags (about 17 charts x 3 rules are read, and no "
    "correction is made across them), so on their own they do not make an issue emerging."
)

_SCREENING = " This is a screening signal from the control chart, not a test of change."


def _chart(history: list[str], values: list[float], ctx: FindingContext) -> tuple[Any, dict[str, Any]]:
    """The control chart of a monthly series as police SPC practice runs it.

    Limits come from the months before the period judged (at least 12), so the period cannot move its own
    limits; counts are scaled for days in month (and de-seasonalised when the run asks for it); after a sustained
    shift (8 in a row on one side) the chart is re-baselined; only signals inside the period judged are reported,
    and they are labelled as screening.
    """
    from cspkit.findings.stats import _days_in

    first, last = ctx.period
    n_before = sum(m < first for m in history)
    baseline = n_before if n_before >= 12 else None
    chart = control_chart(
        values,
        history,
        baseline_months=baseline,
        exposure_days=[_days_in(m) for m in history],
        rebaseline=True,
        deseasonalise=ctx.spc_deseasonalise,
    )
    in_period = [s for s in chart.signals if first <= s.month <= last]
    judged = replace(chart, signals=in_period)
    spc = latest_signal(judged)
    limits = (
        f"limits from the {n_before} months before the period judged ({chart.limit_months[0]} to "
        f"{chart.limit_months[-1]})"
        if baseline
        else f"limits from all {len(history)} months (fewer than 12 months before the period judged)"
    )
    for phase in chart.phases[1:]:
        limits += (
            f"; re-baselined after a sustained shift ({phase.why}), new limits from {phase.limit_months[0]} to "
            f"{phase.limit_months[-1]}"
        )
    return spc, {
        "chart": chart.chart,
        "reason": chart.reason,
        "centre": chart.centre,
        "ucl": chart.ucl,
        "lcl": chart.lcl,
        "warn_upper": chart.warn_upper,
        "warn_lower": chart.warn_lower,
        "sigma": chart.sigma,
        "limit_months": chart.limit_months,
        "limits": limits,
        "phases": [
            {"first": ph.first, "last": ph.last, "centre": ph.centre, "ucl": ph.ucl, "lcl": ph.lcl, "why": ph.why}
            for ph in chart.phases
        ],
        "centre_by_month": chart.by_month("centre"),
        "ucl_by_month": chart.by_month("ucl"),
        "lcl_by_month": chart.by_month("lcl"),
        "seasonal_index": chart.seasonal_index,
        "adjusted_values": chart.values,
        "signals": [s._asdict() for s in in_period],
        "signals_before_period": [s._asdict() for s in chart.signals if s.month < first],
        "signals_are": "screening: not corrected for multiplicity across charts and rules",
    }


def _sum(monthly: dict[str, float], months: list[str]) -> float:
    return float(sum(monthly.get(m, 0.0) for m in months))


def _raw_changes(family: list[CountSeries], ctx: FindingContext) -> list[tuple[float, float, TestedChange]]:
    """(value, baseline, tested change) of each series; the family's GLMs are fitted together."""
    comp = ctx.comparison
    changes = compare_monthly_counts_many(
        [
            (
                {m: series.monthly.get(m, 0.0) for m in comp.current_months},
                {m: series.monthly.get(m, 0.0) for months in comp.baseline_months for m in months},
                comp.exposure_current,
                comp.exposure_baseline,
            )
            for series in family
        ]
    )
    out = []
    for series, change in zip(family, changes, strict=True):
        value = _sum(series.monthly, comp.current_months)
        baseline = float(sum(_sum(series.monthly, months) for months in comp.baseline_months))
        out.append((value, baseline / len(comp.baseline_months), change))
    return out


def build_count_findings(family: list[CountSeries], ctx: FindingContext) -> list[Finding]:
    """Findings for a family of count indicators compared together (one Benjamini-Hochberg adjustment).

    Args:
        family: The indicators; their p-values are adjusted together.
        ctx: The period, comparison and settings of the run.
    """
    raw = _raw_changes(family, ctx)
    adjusted = adjust_changes([r[2] for r in raw], alpha=ctx.alpha)
    out: list[Finding] = []
    quarter_start = month_add(ctx.period[1], -2)
    for series, (value, baseline, _), change in zip(family, raw, adjusted, strict=True):
        assert change is not None
        spc = None
        extra = dict(series.extra)
        history = sorted(m for m in series.monthly if m <= ctx.period[1])
        values = [series.monthly[m] for m in history]
        if series.control_chart and len(history) >= 12:
            spc, extra["control_chart"] = _chart(history, values, ctx)
        if series.forecast and len(history) >= 12:
            fc = forecast_monthly(history, values, horizon=12)
            extra["forecast"] = {
                "model": fc.model,
                "rule": fc.rule,
                "months": fc.months,
                "mean": fc.mean,
                "lower_80": fc.lower_80,
                "upper_80": fc.upper_80,
                "lower_95": fc.lower_95,
                "upper_95": fc.upper_95,
                "next_12_months_total": float(sum(fc.mean)),
                "backtest_mase": fc.backtest.mase if fc.backtest else None,
                "backtest_months": fc.backtest.months if fc.backtest else [],
                "backtest_origins": fc.backtest.origins if fc.backtest else [],
                "backtest_naive_mase": fc.backtest.naive_mase if fc.backtest else None,
                "backtest_coverage_80": fc.backtest.coverage_80 if fc.backtest else None,
                "backtest_coverage_95": fc.backtest.coverage_95 if fc.backtest else None,
                "published": fc.published,
                "verdict": fc.verdict,
            }
        rate = series.denominator and value / series.denominator * series.rate_per
        rate_low = rate_high = None
        if rate and series.denominator:
            rate_low, rate_high = rate_interval(value, series.denominator, series.rate_per)
        sentence = describe_change(
            series.subject,
            value,
            baseline,
            change,
            ctx.period_label,
            ctx.comparison_label,
            small_number_threshold=ctx.small_number_threshold,
        )
        sentence += restricted_clause(ctx.comparison)
        if rate:
            sentence += f" That is {format_number(round(rate, 2))} per {series.rate_per:,} {series.rate_denominator}."
        if spc is not None and spc.month >= quarter_start:
            sentence += " " + describe_spc(spc, f"monthly {series.subject}") + _SCREENING
        bad_rise = change.significant and change.direction == ("up" if series.good_direction == "down" else "down")
        definition = series.definition
        if change.test:
            definition += f" Change test: {change.test}."
        if ctx.comparison.restricted:
            definition += " " + ctx.comparison.note
        out.append(
            Finding(
                id=series.id,
                topic=series.topic,
                title=series.title,
                area=series.area_code or ctx.area_code,
                area_name=series.area_name or ctx.area_name,
                period=ctx.period,
                value=value,
                unit="count",
                definition=definition,
                sentence=sentence,
                comparison_period=ctx.comparison.baseline_span,
                baseline=baseline,
                change=change,
                good_direction=series.good_direction,
                spc=spc,
                coverage=Coverage(
                    months=list(ctx.comparison.current_months),
                    rows_outside_area=series.rows_outside_area,
                    rows_without_location=series.rows_without_location,
                    complete=ctx.comparison.complete,
                    note=ctx.comparison.note,
                ),
                numerator=value,
                denominator=series.denominator,
                rate=rate or None,
                rate_per=series.rate_per if rate else None,
                rate_unit=rate_unit(series.rate_per, series.rate_denominator) if rate else "",
                rate_low=rate_low,
                rate_high=rate_high,
                small_number=0 < value < ctx.suppress_below,
                emerging=bool(bad_rise),
                series=[(m, series.monthly[m]) for m in history],
                sources=list(series.sources),
                extra=extra,
            )
        )
    return out


def with_extra(finding: Finding, **extra: Any) -> Finding:
    """A copy of a finding with more detail in ``extra``."""
    return replace(finding, extra={**finding.extra, **extra})

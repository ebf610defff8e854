"""Cautious plain-English sentences for findings.

Rules the sentences keep:

* A change that is not significant after adjustment is never called an increase, rise, fall or decrease.
* Both base numbers are always given, with thousands separators.
* No percentage when either number is below the small-number threshold: percentages of small numbers mislead.
* A significant change gives its direction, both numbers, the percentage (when the numbers are big enough) and
  the rate ratio with its 95% confidence interval.
"""

from __future__ import annotations

import math

from cspkit.findings.model import Change, SpcSignal
from cspkit.findings.periods import month_label
from cspkit.findings.spc import BEYOND_3_SIGMA, EIGHT_IN_A_ROW, TWO_OF_THREE

__all__ = ["describe_change", "describe_level", "describe_spc", "format_number"]

_NO_UNIT = ("", "count")


def format_number(value: float) -> str:
    """A number for prose: ``1,204``; ``398.3``; ``0.42``."""
    if math.isfinite(value) and value == round(value):
        return f"{value:,.0f}"
    if abs(value) >= 1:
        return f"{value:,.1f}"
    return f"{value:.2f}"


def _amount(value: float, unit: str) -> str:
    if unit == "proportion":
        return f"{format_number(round(value * 100, 1))}%"
    if unit in _NO_UNIT:
        return format_number(value)
    return f"{format_number(value)} {unit}"


def _level(level: float) -> str:
    """``0.9966`` -> ``99.7%``; never rounds up to 100%."""
    shown = math.floor(level * 1000) / 10
    return f"{shown:.1f}%" if shown != round(shown) else f"{shown:.0f}%"


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _signed_percent(percent: float) -> str:
    return f"{'+' if percent >= 0 else '-'}{abs(percent):,.0f}%"


def _details(change: Change, unit: str, small: bool) -> str:
    """The bracketed detail of a significant change: percentage, rate ratio and interval."""
    parts: list[str] = []
    if unit == "proportion":
        points = change.absolute * 100
        parts.append(f"{'+' if points >= 0 else '-'}{abs(points):.1f} percentage points")
        if change.ci_low is not None and change.ci_high is not None:
            parts.append(f"95% CI {change.ci_low * 100:.1f} to {change.ci_high * 100:.1f} points")
        return ", ".join(parts)
    if change.percent is not None and not small:
        parts.append(_signed_percent(change.percent))
    if change.rate_ratio is not None:
        parts.append(f"rate ratio {change.rate_ratio:.2f}")
        if change.ci_low is not None and change.ci_high is not None:
            parts.append(f"95% CI {change.ci_low:.2f}–{change.ci_high:.2f}")
        elif change.ci_low is not None:
            parts.append(f"95% CI from {change.ci_low:.2f}")
        if change.ci_adjusted_level is not None and change.ci_adjusted_low is not None:
            # the interval that matches the verdict: adjusted for the indicators judged together
            high = f"–{change.ci_adjusted_high:.2f}" if change.ci_adjusted_high is not None else " upwards"
            parts.append(
                f"{_level(change.ci_adjusted_level)} CI adjusted for multiple comparisons "
                f"{change.ci_adjusted_low:.2f}{high}"
            )
    elif change.ci_low is not None and change.ci_high is not None:
        parts.append(f"95% CI for the difference {format_number(change.ci_low)} to {format_number(change.ci_high)}")
    return ", ".join(parts)


def describe_change(
    subject: str,
    value: float,
    baseline: float,
    change: Change | None,
    period_label: str,
    comparison_label: str,
    unit: str = "",
    small_number_threshold: float = 10,
) -> str:
    """One cautious sentence about a change, e.g.

    "Burglary rose significantly: 1,204 in 2023-24 against 1,010 in 2022-23 (+19%, rate ratio 1.19, 95% CI
    1.10–1.30)." or "There was no statistically significant change in robbery: 4 in 2023-24 compared with 6 in
    2022-23."

    Args:
        subject: What is counted, as it reads mid-sentence (e.g. ``burglary``, ``ASB incidents``).
        value: The value in the current period.
        baseline: The value in the comparison period (or the mean of the comparison periods).
        change: The adjusted change (see ``stats.adjust_changes``); None when not tested.
        period_label: e.g. ``2023-24`` or ``May 2022 to April 2023``.
        comparison_label: e.g. ``2022-23`` or ``the previous 12 months``.
        unit: ``""`` or ``count`` for counts, ``proportion`` for shares (shown as %), or words such as
            ``per 1,000 residents``.
        small_number_threshold: Below this (in either period) no percentage is given.
    """
    now, before = _amount(value, unit), _amount(baseline, unit)
    if change is None:
        return (
            f"{_capitalise(subject)}: {now} in {period_label} compared with {before} in {comparison_label}; "
            "the change was not tested for significance."
        )
    if not change.significant or change.direction == "none":
        return (
            f"There was no statistically significant change in {subject}: {now} in {period_label} "
            f"compared with {before} in {comparison_label}."
        )
    verb = "rose" if change.direction == "up" else "fell"
    small = min(value, baseline) < small_number_threshold
    details = _details(change, unit, small)
    tail = f" ({details})" if details else ""
    return (
        f"{_capitalise(subject)} {verb} significantly: {now} in {period_label} against {before} in "
        f"{comparison_label}{tail}."
    )


def describe_level(
    subject: str,
    value: float,
    period_label: str,
    unit: str = "",
    rate: float | None = None,
    rate_per: int | None = None,
    rate_denominator: str = "residents",
    small_number_threshold: float = 10,
) -> str:
    """One sentence for a finding without a comparison, e.g.

    "Burglary: 1,204 in 2023-24 (5.3 per 1,000 residents)."

    A value below the small-number threshold gets a caution that it can vary a lot by chance.
    """
    sentence = f"{_capitalise(subject)}: {_amount(value, unit)} in {period_label}"
    if rate is not None and rate_per is not None:
        sentence += f" ({format_number(round(rate, 1))} per {rate_per:,} {rate_denominator})"
    sentence += "."
    if unit != "proportion" and value < small_number_threshold:
        sentence += " This is a small number, so it can vary a lot from year to year by chance."
    return sentence


def describe_spc(signal: SpcSignal | None, subject: str = "the monthly figures") -> str:
    """One sentence about the latest control-chart signal of a series (or its absence)."""
    if signal is None:
        return (
            f"The control chart of {subject} shows no signal: the month-to-month variation is within what "
            "chance alone would produce."
        )
    above = signal.side == "above"
    if signal.rule == BEYOND_3_SIGMA:
        what = (
            "the figure was above the upper control limit" if above else "the figure was below the lower control limit"
        )
    elif signal.rule == TWO_OF_THREE:
        limit = "above the upper" if above else "below the lower"
        what = f"two of the last three months were {limit} warning limit"
    elif signal.rule == EIGHT_IN_A_ROW:
        what = f"eight months in a row were {'above' if above else 'below'} the average"
    else:
        what = signal.rule
    chart = f" ({signal.chart})" if signal.chart else ""
    return (
        f"The control chart of {subject}{chart} shows a signal in {month_label(signal.month)}: {what}. "
        "This is unlikely to be chance alone and is worth looking into."
    )

"""Significance tests for changes in counts, rates and proportions (domain notes, section 3.6).

Counts of crimes or incidents are treated as Poisson. Two period counts are compared with the exact
conditional test: given ``n = x_base + x_cur`` events in total,
``x_cur ~ Binomial(n, t_cur / (t_base + t_cur))`` when the rates are equal, where ``t`` is each period's
exposure (months, years, or people at risk).

Many findings are tested at once, so p-values are adjusted with Benjamini-Hochberg before any change is called
significant: :func:`compare_counts` returns a :class:`~cspkit.findings.model.Change` with
``significant=False`` and ``direction="none"``, and :func:`adjust_changes` fills in the verdict for a batch.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np
from scipy import stats

from cspkit.errors import AnalysisError
from cspkit.findings.model import Change, Direction

__all__ = [
    "EXACT_CI_BELOW",
    "PairedTest",
    "RateRatioCI",
    "adjust_changes",
    "benjamini_hochberg",
    "change_between",
    "compare_counts",
    "compare_proportions",
    "paired_counts_test",
    "poisson_exact_test",
    "poisson_z",
    "rate_per",
    "rate_ratio_ci",
]

#: Below this many events in either period, the rate-ratio interval is exact rather than log-normal.
EXACT_CI_BELOW = 10

#: Fewer pairs than this and the before/after test is flagged as weak.
_SMALL_PAIRED_N = 20


def _as_count(value: float, name: str) -> int:
    """A non-negative whole number of events; refuses means, which must be passed as sums with an exposure."""
    if isinstance(value, bool) or not math.isfinite(float(value)) or float(value) < 0:
        raise ValueError(f"{name} must be a non-negative count, not {value!r}")
    if float(value) != round(float(value)):
        raise ValueError(
            f"{name} must be a whole count, not {value!r}; for a mean of k periods pass the summed count "
            "and an exposure of k"
        )
    return round(float(value))


def _check_exposure(value: float, name: str) -> float:
    if not math.isfinite(float(value)) or float(value) <= 0:
        raise ValueError(f"{name} must be positive, not {value!r}")
    return float(value)


def poisson_exact_test(x_base: float, t_base: float, x_cur: float, t_cur: float) -> float:
    """Two-sided p-value for equal Poisson rates in two periods (exact conditional binomial test).

    Args:
        x_base: Events in the baseline period(s).
        t_base: Exposure of the baseline (e.g. 1 for one year, 3 for three years).
        x_cur: Events in the current period.
        t_cur: Exposure of the current period.

    Returns:
        The p-value; 1.0 when there are no events at all.
    """
    base, cur = _as_count(x_base, "x_base"), _as_count(x_cur, "x_cur")
    t_base, t_cur = _check_exposure(t_base, "t_base"), _check_exposure(t_cur, "t_cur")
    n = base + cur
    if n == 0:
        return 1.0
    return float(stats.binomtest(cur, n, t_cur / (t_base + t_cur)).pvalue)


class RateRatioCI(NamedTuple):
    """A rate ratio (current over baseline) with its confidence interval.

    ``ratio`` is None when the baseline has no events; ``high`` is None when the interval has no upper bound
    (no baseline events); all three are None when neither period has events.
    """

    ratio: float | None
    low: float | None
    high: float | None
    method: str


def rate_ratio_ci(x_base: float, t_base: float, x_cur: float, t_cur: float, level: float = 0.95) -> RateRatioCI:
    """Rate ratio ``(x_cur/t_cur) / (x_base/t_base)`` with a confidence interval.

    The interval is log-normal, ``exp(ln RR ± z·sqrt(1/x_base + 1/x_cur))``, when both counts are at least
    :data:`EXACT_CI_BELOW`; otherwise it is exact: the Clopper-Pearson interval for the share of events
    falling in the current period, converted to a rate ratio. ``method`` says which was used.
    """
    base, cur = _as_count(x_base, "x_base"), _as_count(x_cur, "x_cur")
    t_base, t_cur = _check_exposure(t_base, "t_base"), _check_exposure(t_cur, "t_cur")
    if base + cur == 0:
        return RateRatioCI(None, None, None, "none: no events in either period")
    ratio = (cur / t_cur) / (base / t_base) if base > 0 else None

    if ratio is not None and min(base, cur) >= EXACT_CI_BELOW:
        z = stats.norm.ppf(0.5 + level / 2)
        half_width = z * math.sqrt(1 / base + 1 / cur)
        return RateRatioCI(
            ratio,
            ratio * math.exp(-half_width),
            ratio * math.exp(half_width),
            "log-normal (Wald on log scale)",
        )

    # Exact: p = share of events in the current period; RR = p/(1-p) * t_base/t_cur.
    interval = stats.binomtest(cur, base + cur).proportion_ci(confidence_level=level, method="exact")
    p_low, p_high = float(interval.low), float(interval.high)
    low = p_low / (1 - p_low) * t_base / t_cur
    high = None if p_high >= 1 else p_high / (1 - p_high) * t_base / t_cur
    return RateRatioCI(ratio, low, high, "exact (Clopper-Pearson on the conditional binomial)")


def poisson_z(current: float, baseline_mean: float) -> float:
    """Wheeler's Poisson z-score ``2·(√current − √baseline_mean)``, roughly standard normal under no change.

    Flag ``|z| >= 2`` (or 3 when screening many series). Example: a baseline of 16 a month against 25 now
    gives z = 2.0, although the percentage change (+56%) looks dramatic.
    """
    if current < 0 or baseline_mean < 0:
        raise ValueError("counts must be non-negative")
    return 2.0 * (math.sqrt(current) - math.sqrt(baseline_mean))


def benjamini_hochberg(p_values: Sequence[float | None]) -> list[float | None]:
    """Benjamini-Hochberg adjusted p-values (false discovery rate), in the input order; Nones pass through.

    Step-up: the i-th smallest of m p-values becomes ``min over j >= i of p_(j)·m/j``, capped at 1, so
    adjusted values keep the order of the raw ones.
    """
    present = [(i, float(p)) for i, p in enumerate(p_values) if p is not None]
    for _, p in present:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"p-values must be between 0 and 1, not {p}")
    m = len(present)
    adjusted: list[float | None] = [None] * len(p_values)
    running_min = 1.0
    ordered = sorted(present, key=lambda item: item[1])
    for rank in range(m, 0, -1):  # from the largest p-value down
        index, p = ordered[rank - 1]
        running_min = min(running_min, p * m / rank)
        adjusted[index] = running_min
    return adjusted


def compare_counts(
    current: float,
    baseline: float,
    exposure_current: float = 1.0,
    exposure_baseline: float = 1.0,
    level: float = 0.95,
) -> Change:
    """Compare a current count with a baseline count: change, rate ratio, interval and exact p-value.

    To compare with the mean of k earlier periods, pass the *summed* count of those periods as ``baseline``
    and ``exposure_baseline=k`` (a mean is not a count and would understate the evidence). ``absolute`` is
    then the current count minus the baseline rate scaled to the current exposure, and ``percent`` is the
    change in rate.

    The result is not yet judged: ``p_adjusted`` is None, ``significant`` False and ``direction`` ``"none"``
    until :func:`adjust_changes` is applied to the batch of findings.

    Args:
        current: Events in the current period.
        baseline: Events in the baseline period(s), summed.
        exposure_current: Exposure of the current period (e.g. 1 year, or 10 months for a part year).
        exposure_baseline: Exposure of the baseline (e.g. 3 for three years).
        level: Confidence level of the rate-ratio interval.
    """
    cur, base = _as_count(current, "current"), _as_count(baseline, "baseline")
    exposure_current = _check_exposure(exposure_current, "exposure_current")
    exposure_baseline = _check_exposure(exposure_baseline, "exposure_baseline")
    expected = base * exposure_current / exposure_baseline  # baseline rate over the current exposure
    ci = rate_ratio_ci(base, exposure_baseline, cur, exposure_current, level)
    return Change(
        absolute=cur - expected,
        percent=(cur / expected - 1.0) * 100.0 if base > 0 else None,
        rate_ratio=ci.ratio,
        ci_low=ci.low,
        ci_high=ci.high,
        p_value=poisson_exact_test(base, exposure_baseline, cur, exposure_current),
        p_adjusted=None,
        significant=False,
        direction="none",
        test=f"exact Poisson test (conditional binomial); rate ratio CI {ci.method}",
    )


def change_between(value: float, baseline: float, p_value: float | None, test: str) -> Change:
    """A change with no rate ratio (a weighted total, a share of the same people), not yet judged.

    ``p_value`` None means the change was not tested; ``test`` says how it was tested, or why it was not.
    """
    return Change(
        absolute=value - baseline,
        percent=(value / baseline - 1) * 100 if baseline else None,
        rate_ratio=None,
        ci_low=None,
        ci_high=None,
        p_value=p_value,
        p_adjusted=None,
        significant=False,
        direction="none",
        test=test,
    )


def adjust_changes(changes: Sequence[Change | None], alpha: float = 0.05) -> list[Change | None]:
    """Adjust a batch of changes for multiple comparisons (Benjamini-Hochberg) and judge each.

    Sets ``p_adjusted``; ``significant`` is ``p_adjusted < alpha``; ``direction`` is ``up`` or ``down`` (the
    sign of ``absolute``) only when significant. Nones, and changes without a p-value, pass through unjudged.
    """
    adjusted = benjamini_hochberg([c.p_value if c is not None else None for c in changes])
    result: list[Change | None] = []
    for change, p_adj in zip(changes, adjusted, strict=True):
        if change is None or p_adj is None:
            result.append(change)
            continue
        significant = p_adj < alpha and change.absolute != 0
        direction: Direction = ("up" if change.absolute > 0 else "down") if significant else "none"
        result.append(replace(change, p_adjusted=p_adj, significant=significant, direction=direction))
    return result


def _wilson(x: int, n: int, level: float) -> tuple[float, float]:
    interval = stats.binomtest(x, n).proportion_ci(confidence_level=level, method="wilson")
    return float(interval.low), float(interval.high)


def compare_proportions(x1: float, n1: float, x2: float, n2: float, level: float = 0.95) -> Change:
    """Compare a baseline proportion ``x1/n1`` with a current proportion ``x2/n2``.

    The test is the pooled two-proportion z-test, or Fisher's exact test when any expected cell of the 2x2
    table is below 5 (``test`` says which). ``absolute`` is the difference ``p2 − p1`` (a proportion, not
    percentage points), ``ci_low``/``ci_high`` its Newcombe (Wilson score) interval, which behaves at small
    counts and at 0 or 100%, and ``percent`` the relative change. ``rate_ratio`` is None. Judge the result in
    a batch with :func:`adjust_changes`.

    Raises:
        AnalysisError: If either group is empty.
    """
    a, n_a = _as_count(x1, "x1"), _as_count(n1, "n1")
    b, n_b = _as_count(x2, "x2"), _as_count(n2, "n2")
    if n_a == 0 or n_b == 0:
        raise AnalysisError("Cannot compare proportions: a group has no members.")
    if a > n_a or b > n_b:
        raise ValueError("a count cannot exceed its group size")
    p1, p2 = a / n_a, b / n_b

    table = np.array([[a, n_a - a], [b, n_b - b]])
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    if (expected < 5).any():
        p_value = float(stats.fisher_exact(table).pvalue)
        test = "Fisher's exact test (an expected cell is below 5)"
    else:
        pooled = (a + b) / (n_a + n_b)
        z = (p2 - p1) / math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
        p_value = float(2 * stats.norm.sf(abs(z)))
        test = "two-proportion z-test (pooled)"

    l1, u1 = _wilson(a, n_a, level)
    l2, u2 = _wilson(b, n_b, level)
    diff = p2 - p1
    return Change(
        absolute=diff,
        percent=(p2 / p1 - 1.0) * 100.0 if p1 > 0 else None,
        rate_ratio=None,
        ci_low=diff - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2),
        ci_high=diff + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2),
        p_value=p_value,
        p_adjusted=None,
        significant=False,
        direction="none",
        test=f"{test}; CI for the difference: Newcombe (Wilson score)",
    )


@dataclass(frozen=True)
class PairedTest:
    """Before/after counts per person (e.g. offences in the 12 months before and after joining IOM)."""

    n: int
    mean_before: float
    mean_after: float
    mean_difference: float
    p_value: float
    test: str
    note: str


def paired_counts_test(before: Sequence[float], after: Sequence[float]) -> PairedTest:
    """Wilcoxon signed-rank test of after-minus-before counts for the same people.

    People with no change are dropped from the ranks (Wilcoxon's method), as usual. ``note`` warns when the
    cohort is small, and always about regression to the mean: people are often selected at a peak of
    offending, so some fall is expected without any intervention.

    Raises:
        AnalysisError: If the lists differ in length or are empty.
    """
    if len(before) != len(after):
        raise AnalysisError(f"Before and after counts differ in length ({len(before)} and {len(after)}).")
    if not before:
        raise AnalysisError("No people to compare before and after.")
    b = np.asarray(before, dtype=float)
    a = np.asarray(after, dtype=float)
    n = len(b)
    notes: list[str] = []
    if np.all(a == b):
        p_value = 1.0
        notes.append("No person's count changed.")
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scipy warns when it falls back from the exact method (ties)
            p_value = float(stats.wilcoxon(a, b, zero_method="wilcox").pvalue)
    if n < _SMALL_PAIRED_N:
        notes.append(f"Only {n} people: the test has little power, so treat the result as indicative.")
    notes.append(
        "People are often selected at a peak of offending, so some fall is expected anyway (regression to the mean)."
    )
    return PairedTest(
        n=n,
        mean_before=float(b.mean()),
        mean_after=float(a.mean()),
        mean_difference=float((a - b).mean()),
        p_value=p_value,
        test="Wilcoxon signed-rank test (zero differences dropped)",
        note=" ".join(notes),
    )


def rate_per(count: float, population: float, per: int = 1000) -> float:
    """Rate per ``per`` people: ``count / population × per``.

    Raises:
        AnalysisError: If the population is not positive.
    """
    if not population or population <= 0 or not math.isfinite(population):
        raise AnalysisError(f"Cannot compute a rate per {per:,}: the population is {population!r}.")
    return count / population * per

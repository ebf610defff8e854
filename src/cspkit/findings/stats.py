"""Significance tests for changes in counts, rates and proportions (domain notes, section 3.6).

Monthly counts of crimes and incidents are usually *over-dispersed* (they vary more from month to month than
Poisson counts would: variance/mean 1.8 to 24 on the Bedfordshire series) and seasonal. A test that assumes pure
Poisson variation then calls noise a change. :func:`compare_monthly_counts` therefore applies this rule, stated
in every result's ``test``:

1. **Quasi-Poisson GLM** of the monthly counts of both periods: ``log E[y_t] = log(days_t) + season + β·current``
   with month-of-year terms when the periods hold at least 24 months (each calendar month at least twice),
   and the over-dispersion ``φ`` estimated from the Pearson chi-square over the residual degrees of freedom. The
   rate ratio is ``exp(β)`` (per day at risk); its test and interval use ``se·√φ`` and a t distribution with the
   residual degrees of freedom.
2. **Exact conditional test (mid-p)** instead, when the counts are consistent with Poisson (``φ ≤ 1``), when there
   are too few months to estimate ``φ`` (fewer than :data:`MIN_DISPERSION_DF` residual degrees of freedom), or when a
   period has no events: given ``n = x_base + x_cur`` events, ``x_cur ~ Binomial(n, t_cur / (t_base + t_cur))``
   when the rates are equal; the mid-p value counts half the probability of the observed split, and the interval
   is the mid-p interval (the inverted test), so interval and p-value always agree.

:func:`compare_counts` (two totals without monthly detail) uses the exact mid-p test alone.

Many findings are tested at once, so p-values are adjusted with Benjamini-Hochberg before any change is called
significant: :func:`compare_counts` returns a :class:`~cspkit.findings.model.Change` with
``significant=False`` and ``direction="none"``, and :func:`adjust_changes` fills in the verdict for a batch.
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np
from scipy import special

from cspkit.errors import AnalysisError
from cspkit.findings.distributions import (
    binom_two_sided_p,
    clopper_pearson,
    fisher_exact_p,
    norm_ppf,
    norm_sf,
    t_ppf,
    t_sf,
    wilcoxon_signed_rank_p,
    wilson,
)
from cspkit.findings.model import Change, Direction

__all__ = [
    "EXACT_CI_BELOW",
    "MIN_DISPERSION_DF",
    "SEASON_FROM_MONTHS",
    "PairedTest",
    "RateRatioCI",
    "TestedChange",
    "adjust_changes",
    "benjamini_hochberg",
    "change_between",
    "compare_counts",
    "compare_monthly_counts",
    "compare_monthly_counts_many",
    "compare_proportions",
    "midp_rate_ratio_ci",
    "paired_counts_test",
    "poisson_exact_test",
    "poisson_midp_test",
    "poisson_z",
    "rate_per",
    "rate_ratio_ci",
]

#: Below this many events in either period, the rate-ratio interval is exact rather than log-normal.
EXACT_CI_BELOW = 10

#: Fewer residual degrees of freedom than this and over-dispersion is not estimated (exact mid-p test instead).
MIN_DISPERSION_DF = 6

#: Month-of-year terms enter the model from this many months (each calendar month seen at least twice).
SEASON_FROM_MONTHS = 24

QUASI_POISSON = "quasi-Poisson GLM"
EXACT_MIDP = "exact conditional (mid-p)"

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
    return binom_two_sided_p(cur, n, t_cur / (t_base + t_cur))


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
        z = norm_ppf(0.5 + level / 2)
        half_width = z * math.sqrt(1 / base + 1 / cur)
        return RateRatioCI(
            ratio,
            ratio * math.exp(-half_width),
            ratio * math.exp(half_width),
            "log-normal (Wald on log scale)",
        )

    # Exact: p = share of events in the current period; RR = p/(1-p) * t_base/t_cur.
    p_low, p_high = clopper_pearson(cur, base + cur, level)
    low = p_low / (1 - p_low) * t_base / t_cur
    high = None if p_high >= 1 else p_high / (1 - p_high) * t_base / t_cur
    return RateRatioCI(ratio, low, high, "exact (Clopper-Pearson on the conditional binomial)")


def _midp_tails(x: int, n: int, p: float) -> tuple[float, float]:
    """(lower, upper) mid-p tails of Binomial(n, p) at x: P(X<x)+½P(X=x) and P(X>x)+½P(X=x).

    P(X<x)+½P(X=x) is the mean of P(X<=x-1) and P(X<=x), so each tail is two calls of ``scipy.special.bdtr``
    (or ``bdtrc``), with no subtraction to lose small tails: interval inversion calls this thousands of times.
    """
    return _midp_lower(x, n, p), _midp_upper(x, n, p)


def _midp_lower(x: int, n: int, p: float) -> float:
    if p <= 0.0 or p >= 1.0:
        at = 0 if p <= 0.0 else n
        return (1.0 if x > at else 0.0) + (0.5 if x == at else 0.0)
    below = float(special.bdtr(x - 1, n, p)) if x > 0 else 0.0  # P(X < x)
    at_or_below = float(special.bdtr(x, n, p)) if x < n else 1.0
    return 0.5 * (below + at_or_below)


def _midp_upper(x: int, n: int, p: float) -> float:
    if p <= 0.0 or p >= 1.0:
        at = 0 if p <= 0.0 else n
        return (1.0 if x < at else 0.0) + (0.5 if x == at else 0.0)
    above = float(special.bdtrc(x, n, p)) if x < n else 0.0  # P(X > x)
    at_or_above = float(special.bdtrc(x - 1, n, p)) if x > 0 else 1.0
    return 0.5 * (above + at_or_above)


def poisson_midp_test(x_base: float, t_base: float, x_cur: float, t_cur: float) -> float:
    """Two-sided mid-p value for equal Poisson rates in two periods (conditional binomial).

    ``2·min(P(X<x)+½P(X=x), P(X>x)+½P(X=x))`` for ``X ~ Binomial(x_base + x_cur, t_cur/(t_base + t_cur))``,
    capped at 1. Less conservative than the exact test at small counts, and close to nominal on average.
    """
    base, cur = _as_count(x_base, "x_base"), _as_count(x_cur, "x_cur")
    t_base, t_cur = _check_exposure(t_base, "t_base"), _check_exposure(t_cur, "t_cur")
    n = base + cur
    if n == 0:
        return 1.0
    lower, upper = _midp_tails(cur, n, t_cur / (t_base + t_cur))
    return min(1.0, 2.0 * min(lower, upper))


def _midp_share_interval(x: int, n: int, level: float) -> tuple[float, float]:
    """Mid-p confidence interval for a binomial share: the shares not rejected by the two-sided mid-p test."""
    from scipy.optimize import brentq

    tail = (1.0 - level) / 2.0
    eps = 1e-12
    low = 0.0 if x == 0 else float(brentq(lambda p: _midp_upper(x, n, p) - tail, eps, 1 - eps, xtol=1e-12))
    high = 1.0 if x == n else float(brentq(lambda p: _midp_lower(x, n, p) - tail, eps, 1 - eps, xtol=1e-12))
    return low, high


def midp_rate_ratio_ci(x_base: float, t_base: float, x_cur: float, t_cur: float, level: float = 0.95) -> RateRatioCI:
    """Rate ratio with the mid-p interval: the ratios the two-sided mid-p test does not reject at ``1 - level``.

    The share of events in the current period has a mid-p interval ``(p_l, p_h)``; as a rate ratio
    ``RR = p/(1-p) · t_base/t_cur``. ``high`` is None (unbounded) when the baseline has no events.
    """
    base, cur = _as_count(x_base, "x_base"), _as_count(x_cur, "x_cur")
    t_base, t_cur = _check_exposure(t_base, "t_base"), _check_exposure(t_cur, "t_cur")
    if base + cur == 0:
        return RateRatioCI(None, None, None, "none: no events in either period")
    ratio = (cur / t_cur) / (base / t_base) if base > 0 else None
    p_low, p_high = _midp_share_interval(cur, base + cur, level)
    low = p_low / (1 - p_low) * t_base / t_cur
    high = None if p_high >= 1 else p_high / (1 - p_high) * t_base / t_cur
    return RateRatioCI(ratio, low, high, "mid-p (inverted conditional binomial test)")


IntervalAt = Callable[[float], tuple[float | None, float | None]]


@dataclass(frozen=True)
class TestedChange:
    """A change not yet judged, with a way to recompute its interval at any level (for adjusted intervals)."""

    change: Change
    interval: IntervalAt | None = None


def _days_in(month: str) -> int:
    year, mon = int(month[:4]), int(month[5:7])
    return calendar.monthrange(year, mon)[1]


#: A period effect fitted by :func:`_glm_period_effects`: (β, se, φ, residual df, season used).
PeriodFit = tuple[float, float, float, int, bool]


def _has_season(months: list[str], counts: np.ndarray) -> bool:
    """Month-of-year terms are fitted with at least :data:`SEASON_FROM_MONTHS` months, each calendar month seen
    at least twice and with at least one event (a calendar month of zeros has no finite effect)."""
    moy = np.array([int(m[5:7]) for m in months])
    return len(months) >= SEASON_FROM_MONTHS and all(
        (moy == k).sum() >= 2 and counts[moy == k].sum() > 0 for k in range(1, 13)
    )


def _glm_period_effects(series: Sequence[tuple[list[str], np.ndarray, np.ndarray]]) -> list[PeriodFit]:
    """Poisson GLMs of monthly counts with a period indicator, for many series: (β, se, φ, residual df, season).

    Each series is ``(months, counts, current)`` (``current`` is 1 in the current period's months). Series with
    the same months, period and season terms share one design matrix and are fitted together
    (:func:`_poisson_irls`): a run of the findings fits about five hundred. A degenerate fit gives NaNs (the
    caller falls back to the exact test).
    """
    out: list[PeriodFit | None] = [None] * len(series)
    groups: dict[tuple[tuple[str, ...], tuple[int, ...], bool], list[int]] = {}
    for i, (months, counts, current) in enumerate(series):
        key = (tuple(months), tuple(int(c) for c in current), _has_season(months, counts))
        groups.setdefault(key, []).append(i)
    for (months_key, current_key, season), members in groups.items():
        months = list(months_key)
        moy = np.array([int(m[5:7]) for m in months])
        columns = [np.ones(len(months)), np.asarray(current_key, dtype=float)]
        if season:
            columns += [(moy == k).astype(float) for k in range(2, 13)]
        design = np.column_stack(columns)
        offset = np.log([_days_in(m) for m in months])
        counts = np.vstack([series[i][1] for i in members]).astype(float)
        df_resid = len(months) - design.shape[1]
        for i, y, fitted in zip(members, counts, _poisson_irls(counts, design, offset), strict=True):
            if fitted is None:
                out[i] = (math.nan, math.nan, math.nan, 0, season)
                continue
            beta, cov, mu = fitted
            phi = float(((y - mu) ** 2 / mu).sum() / df_resid) if df_resid > 0 else math.nan
            out[i] = (float(beta[1]), float(math.sqrt(cov[1, 1])), phi, df_resid, season)
    return [fit for fit in out if fit is not None]


def _poisson_irls(
    y: np.ndarray, design: np.ndarray, offset: np.ndarray, max_iter: int = 50, tol: float = 1e-10
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray] | None]:
    """Poisson log-link GLMs by Newton-Raphson (= IRLS), one per row of ``y``, all with the same design and
    offset: (coefficients, covariance, fitted means) per row, or None where the fit fails.

    The same maximum-likelihood fit as ``statsmodels.GLM(..., family=Poisson(), offset=...)`` (the tests check
    it), written out because findings fit about five hundred small models per run and statsmodels' set-up per
    fit costs more than the fit itself. Rows are fitted together (a stack of small matrices per step), and each
    row stops at its own convergence, so a row's fit is what it would be alone.
    """
    n_rows = y.shape[0]
    beta = np.zeros((n_rows, design.shape[1]))
    # start from the overall rate, which is the exact fit of the intercept-only model
    beta[:, 0] = np.log(np.maximum(y.sum(axis=1), 0.5) / np.exp(offset).sum())
    deviance = np.full(n_rows, math.inf)
    active = np.ones(n_rows, dtype=bool)
    failed = np.zeros(n_rows, dtype=bool)

    def means(b: np.ndarray) -> np.ndarray:
        return np.exp(np.clip(b @ design.T + offset, -30, 30))

    for _ in range(max_iter):
        rows = np.flatnonzero(active)
        if len(rows) == 0:
            break
        mu = means(beta[rows])
        hessian = np.einsum("np,rn,nq->rpq", design, mu, design)
        gradient = (y[rows] - mu) @ design
        try:
            step = np.linalg.solve(hessian, gradient[:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:  # one singular row spoils the stack: take the rows one by one
            step = np.zeros_like(gradient)
            for k, singular in enumerate(rows):
                try:
                    step[k] = np.linalg.solve(hessian[k], gradient[k])
                except np.linalg.LinAlgError:
                    failed[singular] = True
        ok = ~failed[rows]
        rows, step = rows[ok], step[ok]
        beta[rows] += step
        mu = means(beta[rows])
        yr = y[rows]
        with np.errstate(divide="ignore", invalid="ignore"):
            new_deviance = 2 * np.sum(np.where(yr > 0, yr * np.log(yr / mu), 0.0) - (yr - mu), axis=1)
        converged = np.abs(new_deviance - deviance[rows]) <= tol * (np.abs(new_deviance) + 0.1)
        deviance[rows] = new_deviance
        active[:] = False
        active[rows[~converged]] = True
    out: list[tuple[np.ndarray, np.ndarray, np.ndarray] | None] = []
    for row in range(n_rows):
        if failed[row] or active[row]:  # singular, or not converged in max_iter steps
            out.append(None)
            continue
        mu = np.exp(design @ beta[row] + offset)
        try:
            cov = np.linalg.inv(design.T @ (design * mu[:, None]))
        except np.linalg.LinAlgError:
            out.append(None)
            continue
        out.append((beta[row], cov, mu) if np.all(np.isfinite(beta[row])) and np.all(np.isfinite(cov)) else None)
    return out


def _midp_change(
    cur: int, base: int, t_cur: float, t_base: float, expected: float, reason: str, dispersion: float | None
) -> TestedChange:
    ci = midp_rate_ratio_ci(base, t_base, cur, t_cur)

    def interval(level: float) -> tuple[float | None, float | None]:
        found = midp_rate_ratio_ci(base, t_base, cur, t_cur, level)
        return found.low, found.high

    change = Change(
        absolute=cur - expected,
        percent=(cur / expected - 1.0) * 100.0 if base > 0 else None,
        rate_ratio=ci.ratio,
        ci_low=ci.low,
        ci_high=ci.high,
        p_value=poisson_midp_test(base, t_base, cur, t_cur),
        p_adjusted=None,
        significant=False,
        direction="none",
        test=f"{EXACT_MIDP} test of the two period totals ({reason}); rate ratio CI {ci.method}",
        method=EXACT_MIDP,
        dispersion=dispersion,
    )
    return TestedChange(change, interval)


def compare_monthly_counts(
    current: Mapping[str, float],
    baseline: Mapping[str, float],
    exposure_current: float | None = None,
    exposure_baseline: float | None = None,
    level: float = 0.95,
) -> TestedChange:
    """Compare monthly counts of the current period with those of the baseline period(s), allowing for
    over-dispersion and season (the rule in the module docstring).

    Args:
        current: Month (``YYYY-MM``) -> count in the current period.
        baseline: Month -> count in all baseline periods together (three years for a mean of three).
        exposure_current: Exposure of the current period for ``absolute``/``percent`` (default: its months).
        exposure_baseline: Exposure of the baseline (default: its months).
        level: Confidence level of the unadjusted interval.

    Returns:
        The change (not yet judged: see :func:`adjust_changes`) and its interval at any level.
    """
    return compare_monthly_counts_many([(current, baseline, exposure_current, exposure_baseline)], level)[0]


@dataclass(frozen=True)
class _Pending:
    """A comparison that needs its quasi-Poisson GLM (fitted with others by :func:`_glm_period_effects`)."""

    cur: int
    base: int
    t_cur: float
    t_base: float
    expected: float
    months: list[str]
    counts: np.ndarray
    is_current: np.ndarray


def compare_monthly_counts_many(
    comparisons: Sequence[tuple[Mapping[str, float], Mapping[str, float], float | None, float | None]],
    level: float = 0.95,
) -> list[TestedChange]:
    """:func:`compare_monthly_counts` of many series, ``(current, baseline, exposure_current, exposure_baseline)``
    each, with the GLMs of series that share their months fitted together (the same results, faster)."""
    started = [_start_comparison(*c) for c in comparisons]
    pending = [p for p in started if isinstance(p, _Pending)]
    fits = iter(_glm_period_effects([(p.months, p.counts, p.is_current) for p in pending]))
    return [_finish_comparison(p, next(fits), level) if isinstance(p, _Pending) else p for p in started]


def _start_comparison(
    current: Mapping[str, float],
    baseline: Mapping[str, float],
    exposure_current: float | None,
    exposure_baseline: float | None,
) -> TestedChange | _Pending:
    if not current or not baseline:
        raise AnalysisError("A change needs months in both the current and the baseline period.")
    if set(current) & set(baseline):
        raise ValueError("the current and baseline periods share months")
    cur_counts = [_as_count(v, "current") for v in current.values()]
    base_counts = [_as_count(v, "baseline") for v in baseline.values()]
    cur, base = sum(cur_counts), sum(base_counts)
    t_cur = _check_exposure(exposure_current or float(len(current)), "exposure_current")
    t_base = _check_exposure(exposure_baseline or float(len(baseline)), "exposure_baseline")
    expected = base * t_cur / t_base

    if cur == 0 or base == 0:
        return _midp_change(cur, base, t_cur, t_base, expected, "a period has no events", None)
    months = [*baseline, *current]
    counts = np.array(base_counts + cur_counts, dtype=float)
    is_current = np.array([0] * len(baseline) + [1] * len(current))
    if len(months) - 2 < MIN_DISPERSION_DF:
        return _midp_change(
            cur, base, t_cur, t_base, expected, f"{len(months)} months are too few to estimate over-dispersion", None
        )
    return _Pending(cur, base, t_cur, t_base, expected, months, counts, is_current)


def _finish_comparison(p: _Pending, fit: PeriodFit, level: float) -> TestedChange:
    cur, base, t_cur, t_base, expected, months = p.cur, p.base, p.t_cur, p.t_base, p.expected, p.months
    beta, se, phi, df_resid, season = fit
    if df_resid < MIN_DISPERSION_DF or not math.isfinite(phi) or not math.isfinite(se):
        return _midp_change(
            cur, base, t_cur, t_base, expected, f"{len(months)} months are too few to estimate over-dispersion", None
        )
    season_words = "with month-of-year terms" if season else "without month-of-year terms"
    if phi <= 1.0:
        return _midp_change(
            cur,
            base,
            t_cur,
            t_base,
            expected,
            f"the monthly counts are consistent with Poisson variation: dispersion {phi:.2f} <= 1 in a Poisson GLM "
            f"{season_words}",
            phi,
        )
    se_q = se * math.sqrt(phi)
    t_stat = beta / se_q
    p_value = 2 * t_sf(abs(t_stat), df_resid)

    def interval(at: float) -> tuple[float | None, float | None]:
        q = t_ppf(0.5 + at / 2, df_resid)
        return math.exp(beta - q * se_q), math.exp(beta + q * se_q)

    low, high = interval(level)
    change = Change(
        absolute=cur - expected,
        percent=(cur / expected - 1.0) * 100.0,
        rate_ratio=math.exp(beta),
        ci_low=low,
        ci_high=high,
        p_value=p_value,
        p_adjusted=None,
        significant=False,
        direction="none",
        test=(
            f"{QUASI_POISSON} of {len(months)} monthly counts {season_words} and a period term, exposure days in "
            f"month; over-dispersion {phi:.2f} (Pearson chi-square / {df_resid} df), so the test and interval use "
            f"standard errors x {math.sqrt(phi):.2f} and a t distribution on {df_resid} df; rate ratio per day at risk"
        ),
        method=QUASI_POISSON,
        dispersion=phi,
    )
    return TestedChange(change, interval)


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
    """Compare a current count with a baseline count: change, rate ratio, mid-p interval and exact mid-p value.

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
    return _midp_change(
        cur, base, exposure_current, exposure_baseline, expected, "two totals without monthly detail", None
    ).change


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


def adjust_changes(changes: Sequence[Change | TestedChange | None], alpha: float = 0.05) -> list[Change | None]:
    """Adjust a batch of changes for multiple comparisons (Benjamini-Hochberg) and judge each.

    Sets ``p_adjusted``; ``significant`` is ``p_adjusted < alpha``; ``direction`` is ``up`` or ``down`` (the
    sign of ``absolute``) only when significant. Nones, and changes without a p-value, pass through unjudged.

    For a :class:`TestedChange` the interval is also recomputed at the false-coverage-rate adjusted level
    ``1 - max(R, 1)·alpha/m`` (Benjamini-Yekutieli 2005; R flagged of m tested) into ``ci_adjusted_*``: for
    every test whose interval inverts it, that interval excludes "no change" exactly when the change is flagged.
    """
    tested = [c if isinstance(c, TestedChange) else (TestedChange(c) if c is not None else None) for c in changes]
    adjusted = benjamini_hochberg([t.change.p_value if t is not None else None for t in tested])
    m = sum(p is not None for p in adjusted)
    flagged = sum(p is not None and p < alpha for p in adjusted)
    adjusted_level = 1.0 - max(flagged, 1) * alpha / m if m else None
    result: list[Change | None] = []
    for item, p_adj in zip(tested, adjusted, strict=True):
        if item is None or p_adj is None:
            result.append(item.change if item is not None else None)
            continue
        change = item.change
        significant = p_adj < alpha and change.absolute != 0
        direction: Direction = ("up" if change.absolute > 0 else "down") if significant else "none"
        judged = replace(change, p_adjusted=p_adj, significant=significant, direction=direction)
        if item.interval is not None and adjusted_level is not None:
            low, high = item.interval(adjusted_level)
            judged = replace(judged, ci_adjusted_low=low, ci_adjusted_high=high, ci_adjusted_level=adjusted_level)
        result.append(judged)
    return result


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
        p_value = fisher_exact_p(table)
        test = "Fisher's exact test (an expected cell is below 5)"
        method = "Fisher's exact test"
    else:
        pooled = (a + b) / (n_a + n_b)
        z = (p2 - p1) / math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
        p_value = 2 * norm_sf(abs(z))
        test = "two-proportion z-test (pooled)"
        method = "two-proportion z-test"

    l1, u1 = wilson(a, n_a, level)
    l2, u2 = wilson(b, n_b, level)
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
        method=method,
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
        p_value = wilcoxon_signed_rank_p(b, a)
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

"""Observed against predicted: how many people had an outcome, against the sum of their predicted probabilities.

Used for proven reoffending against OGRS (each member's predicted probability of a proven reoffence within the
score's horizon). Under "the predictions are right" the number of members with the outcome follows the
Poisson-binomial distribution of independent Bernoulli(p_i) trials, computed exactly here (a dynamic programme,
O(n^2), well under a second for thousands of people).

- The test is the two-sided exact mid-p test of the observed count against that distribution.
- The interval is for the ratio actual / predicted, found by inverting the same test over predictions scaled by r
  (p_i -> min(1, r p_i)): it excludes 1 exactly when the test rejects at the same level, so verdict and interval
  always agree. The Wilson interval of the observed share and the range of shares the predictions allow by chance
  (the 2.5% and 97.5% points of the Poisson-binomial) are given beside it for the table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from cspkit.errors import AnalysisError
from cspkit.findings.distributions import wilson
from cspkit.findings.model import Change
from cspkit.findings.stats import TestedChange

__all__ = ["ActualPredicted", "actual_against_predicted", "poisson_binomial_pmf", "poisson_binomial_test"]


def poisson_binomial_pmf(probabilities: Sequence[float] | np.ndarray) -> np.ndarray:
    """P(X = k), k = 0..n, for X the number of successes of independent Bernoulli(p_i) trials."""
    pmf = np.zeros(len(probabilities) + 1)
    pmf[0] = 1.0
    for i, p in enumerate(np.asarray(probabilities, dtype=float), start=1):
        # adding one trial: P_i(k) = P_{i-1}(k) (1 - p) + P_{i-1}(k - 1) p
        pmf[1 : i + 1] = pmf[1 : i + 1] * (1.0 - p) + pmf[0:i] * p
        pmf[0] *= 1.0 - p
    return pmf


def _midp_tails(observed: int, probabilities: np.ndarray) -> tuple[float, float]:
    """(P(X < x) + P(X = x)/2, P(X > x) + P(X = x)/2) under the Poisson-binomial."""
    pmf = poisson_binomial_pmf(probabilities)
    below, at = float(pmf[:observed].sum()), float(pmf[observed])
    return below + at / 2, max(0.0, 1.0 - below - at) + at / 2


def poisson_binomial_test(observed: int, probabilities: Sequence[float] | np.ndarray) -> float:
    """Two-sided exact mid-p value of ``observed`` successes against independent Bernoulli(p_i) trials."""
    below, above = _midp_tails(observed, np.asarray(probabilities, dtype=float))
    return min(1.0, 2 * min(below, above))


def _scaled(probabilities: np.ndarray, r: float) -> np.ndarray:
    return np.minimum(1.0, probabilities * r)


@dataclass(frozen=True)
class ActualPredicted:
    """Observed against predicted for one group of people."""

    people: int
    observed: int
    expected: float
    #: Observed and predicted shares.
    observed_rate: float
    predicted_rate: float
    #: Wilson 95% interval of the observed share.
    observed_low: float
    observed_high: float
    #: The shares the predictions allow by chance: 2.5% and 97.5% points of the Poisson-binomial, over people.
    predicted_low: float
    predicted_high: float
    tested: TestedChange


def ratio_interval(observed: int, probabilities: np.ndarray, level: float) -> tuple[float | None, float | None]:
    """Interval for r in "the true probabilities are min(1, r p_i)", by inverting the mid-p test at ``level``."""
    alpha = (1.0 - level) / 2
    r_max = 1.0 / float(probabilities.min())  # every p_i reaches 1: X = n surely
    n = len(probabilities)

    def upper_tail(r: float) -> float:  # rises with r
        return _midp_tails(observed, _scaled(probabilities, r))[1] - alpha

    def lower_tail(r: float) -> float:  # falls with r
        return _midp_tails(observed, _scaled(probabilities, r))[0] - alpha

    tiny = 1e-9
    low = 0.0 if observed == 0 or upper_tail(tiny) >= 0 else float(optimize.brentq(upper_tail, tiny, r_max))
    high: float | None
    if observed == n:
        high = None  # no upper limit: everyone had the outcome
    else:
        high = r_max if lower_tail(r_max) >= 0 else float(optimize.brentq(lower_tail, tiny, r_max))
    return low, high


def actual_against_predicted(observed: int, probabilities: Sequence[float], level: float = 0.95) -> ActualPredicted:
    """Compare ``observed`` people with the outcome against predicted probabilities (one per person, 0..1).

    The change is ``observed share - predicted share`` with ``rate_ratio`` = actual / predicted and its interval
    (see the module docstring); judge it in a family with :func:`cspkit.findings.stats.adjust_changes`.

    Raises:
        AnalysisError: With no people, a probability outside (0, 1], or an observed count outside 0..n.
    """
    p = np.asarray(probabilities, dtype=float)
    n = len(p)
    if n == 0:
        raise AnalysisError("No people to compare with their predictions.")
    if not np.all((p > 0) & (p <= 1)):
        raise AnalysisError("Predicted probabilities must be above 0 and at most 1.")
    if not 0 <= observed <= n:
        raise AnalysisError(f"Observed count {observed} is outside 0..{n}.")
    expected = float(p.sum())
    p_value = poisson_binomial_test(observed, p)
    low, high = ratio_interval(observed, p, level)
    value, baseline = observed / n, expected / n
    change = Change(
        absolute=value - baseline,
        percent=(observed / expected - 1) * 100,
        rate_ratio=observed / expected,
        ci_low=low,
        ci_high=high,
        p_value=p_value,
        p_adjusted=None,
        significant=False,
        direction="none",
        test=f"exact Poisson-binomial test (mid-p) of {observed} observed against {expected:.1f} predicted from "
        f"{n} people's own probabilities; interval for actual / predicted by inverting the same test",
        method="Poisson-binomial exact (mid-p)",
        ci_level=level,
    )
    wilson_low, wilson_high = wilson(observed, n, level)
    cdf = np.cumsum(poisson_binomial_pmf(p))
    q_low = int(np.searchsorted(cdf, (1 - level) / 2))
    q_high = int(np.searchsorted(cdf, 1 - (1 - level) / 2))
    return ActualPredicted(
        people=n,
        observed=observed,
        expected=expected,
        observed_rate=value,
        predicted_rate=baseline,
        observed_low=wilson_low,
        observed_high=wilson_high,
        predicted_low=q_low / n,
        predicted_high=min(q_high, n) / n,
        tested=TestedChange(change, lambda lv: ratio_interval(observed, p, lv)),
    )

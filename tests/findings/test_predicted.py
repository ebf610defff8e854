"""Observed against predicted (OGRS): the Poisson-binomial distribution, its test and interval, and a null
simulation with OGRS-shaped, unequal probabilities."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from cspkit.errors import AnalysisError
from cspkit.findings.predicted import (
    actual_against_predicted,
    poisson_binomial_pmf,
    poisson_binomial_test,
    ratio_interval,
)
from cspkit.findings.stats import adjust_changes


def test_pmf_by_hand() -> None:
    # p = 0.2, 0.5, 0.9: P(0) = .8 x .5 x .1, P(3) = .2 x .5 x .9, P(1) = .01 + .04 + .36, P(2) = the rest.
    assert poisson_binomial_pmf([0.2, 0.5, 0.9]) == pytest.approx([0.04, 0.41, 0.46, 0.09])


def test_pmf_against_enumeration_and_binomial() -> None:
    p = [0.35, 0.6, 0.72, 0.9, 0.41]
    brute = np.zeros(6)
    for outcome in itertools.product([0, 1], repeat=5):
        brute[sum(outcome)] += np.prod([q if o else 1 - q for q, o in zip(p, outcome, strict=True)])
    assert poisson_binomial_pmf(p) == pytest.approx(brute)
    assert poisson_binomial_pmf([0.3] * 40) == pytest.approx(stats.binom.pmf(range(41), 40, 0.3))


def test_equal_probabilities_give_the_binomial_mid_p() -> None:
    # 9 of 30 against p = 0.5 each: mid-p = 2 (P(X < 9) + P(X = 9) / 2) under Binomial(30, 0.5).
    expected = 2 * (stats.binom.cdf(8, 30, 0.5) + stats.binom.pmf(9, 30, 0.5) / 2)
    assert poisson_binomial_test(9, [0.5] * 30) == pytest.approx(expected)


def test_actual_against_predicted_values_and_interval_agree_with_the_test() -> None:
    p = [0.9] * 20 + [0.6] * 20  # predicted 30 of 40 (75%)
    result = actual_against_predicted(20, p)
    assert (result.people, result.observed, result.expected) == (40, 20, pytest.approx(30.0))
    assert result.predicted_rate == pytest.approx(0.75) and result.observed_rate == pytest.approx(0.5)
    change = result.tested.change
    assert change.rate_ratio == pytest.approx(20 / 30)
    assert change.p_value is not None and change.p_value < 0.001
    assert change.ci_high is not None and change.ci_high < 1  # the interval excludes 1, as the test does
    # the interval's ends are where the test, with the predictions scaled by r, sits at 2.5% on each side
    low, high = change.ci_low, change.ci_high
    assert low is not None and high is not None and low < 20 / 30 < high
    assert poisson_binomial_test(20, np.minimum(1, np.array(p) * low)) == pytest.approx(0.05, abs=1e-6)
    assert poisson_binomial_test(20, np.minimum(1, np.array(p) * high)) == pytest.approx(0.05, abs=1e-6)
    # the chance range of the predicted share holds the predicted share
    assert result.predicted_low < 0.75 < result.predicted_high
    judged = adjust_changes([result.tested])[0]
    assert judged is not None and judged.significant and judged.direction == "down"
    assert judged.ci_adjusted_high is not None and judged.ci_adjusted_high < 1


def test_interval_excludes_one_exactly_when_the_test_rejects() -> None:
    rng = np.random.default_rng(3)
    for _ in range(40):
        p = rng.uniform(0.35, 0.96, size=int(rng.integers(8, 60)))
        x = int(rng.integers(0, len(p) + 1))
        low, high = ratio_interval(x, p, 0.95)
        excludes = low > 1 or (high is not None and high < 1)
        assert excludes == (poisson_binomial_test(x, p) < 0.05), (x, len(p))


def test_everyone_or_no_one_reoffending() -> None:
    assert actual_against_predicted(5, [0.5] * 5).tested.change.ci_high is None
    assert actual_against_predicted(0, [0.5] * 5).tested.change.ci_low == 0.0


def test_bad_input_is_refused() -> None:
    with pytest.raises(AnalysisError):
        actual_against_predicted(0, [])
    with pytest.raises(AnalysisError):
        actual_against_predicted(1, [0.5, 1.2])
    with pytest.raises(AnalysisError):
        actual_against_predicted(3, [0.5, 0.5])


def test_null_simulation_with_ogrs_shaped_scores() -> None:
    """Cohorts of 30 to 90 members whose OGRS scores spread from 35% to 96% (as an IOM cohort's do), with outcomes
    drawn from their own probabilities: the test flags at most 5% (tolerance 1.5 points over 3,000 cohorts), and a
    cohort reoffending at 75% of its predicted risk is found most of the time at 90 members.

    The naive binomial test at the mean probability is shown beside it: it ignores that risks differ, which makes
    it conservative here, so the Poisson-binomial test is the one with the nominal size."""
    rng = np.random.default_rng(20261201)
    flagged = naive = 0
    runs = 3000
    for _ in range(runs):
        n = int(rng.integers(30, 91))
        p = np.clip(rng.beta(4, 2.2, size=n), 0.35, 0.96)
        x = int((rng.random(n) < p).sum())
        flagged += poisson_binomial_test(x, p) < 0.05
        naive += stats.binomtest(x, n, float(p.mean())).pvalue < 0.05
    assert flagged / runs <= 0.065
    assert flagged / runs >= 0.02  # not a test that never fires
    assert naive <= flagged
    found = 0
    for _ in range(300):
        p = np.clip(rng.beta(4, 2.2, size=90), 0.35, 0.96)
        x = int((rng.random(90) < 0.75 * p).sum())
        found += poisson_binomial_test(x, p) < 0.05
    assert found / 300 > 0.8

"""The scipy.special versions of the findings' probability functions agree with scipy.stats.

Grids cover what the findings meet: counts from 0 to thousands (an LSOA's two years of all crime), shares near 0,
0.5 and 1, tiny tails (a real rise gives p-values of 1e-30 and below), ties of the two-sided tests (symmetric
tables, ``k = n p``) and beta-binomial dispersion from almost Poisson to heavy.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from scipy import stats

from cspkit.findings import distributions as d


def close(a: float, b: float, rel: float = 1e-9) -> bool:
    """Equal to ``rel`` relative, or both below 1e-300 (underflow)."""
    return bool(abs(a - b) <= rel * max(abs(a), abs(b)) or max(abs(a), abs(b)) < 1e-300)


@pytest.mark.parametrize("q", [1e-12, 0.001, 0.025, 0.5, 0.975, 0.999999])
def test_normal_and_t_and_chi2(q: float) -> None:
    assert close(d.norm_ppf(q), float(stats.norm.ppf(q)))
    for df in (1, 3, 10, 40.5, 300):
        assert close(d.t_ppf(q, df), float(stats.t.ppf(q, df)))
    for z in (-40.0, -3.0, 0.0, 1.96, 8.0):
        assert close(d.norm_sf(z), float(stats.norm.sf(z)))
        for df in (1, 5, 22, 300):
            assert close(d.t_sf(z, df), float(stats.t.sf(z, df)))
    for x, df in itertools.product((0.0, 0.3, 4.0, 31.0, 400.0), (1, 2, 11, 23, 200)):
        assert close(d.chi2_sf(x, df), float(stats.chi2.sf(x, df)))


def test_binomial_tails_including_the_edges() -> None:
    n = np.array([0, 1, 5, 5, 5, 5, 40, 40, 40, 2000, 2000, 2000])
    x = np.array([0, 1, -1, 0, 5, 6, 0, 20, 40, 900, 1000, 1300])
    for p in (1e-4, 0.25, 0.5, 0.9):
        upper, lower = d.binom_upper(x, n, p), d.binom_lower(x, n, p)
        for i in range(len(n)):
            assert close(upper[i], float(stats.binom.sf(x[i] - 1, n[i], p)))
            assert close(lower[i], float(stats.binom.cdf(x[i], n[i], p)))


@pytest.mark.parametrize("p", [0.01, 1 / 3, 0.5, 0.75, 0.97])
def test_two_sided_binomial_test_matches_binomtest(p: float) -> None:
    for n in (1, 2, 7, 12, 13, 60, 451, 3000):
        ks = sorted({0, 1, n // 3, n // 2, round(n * p), n - 1, n})
        for k in ks:
            if 0 <= k <= n:
                assert close(d.binom_two_sided_p(k, n, p), float(stats.binomtest(k, n, p).pvalue), 1e-7), (k, n, p)


def test_confidence_intervals_for_a_share() -> None:
    for n in (1, 2, 9, 50, 1234):
        for k in sorted({0, 1, n // 2, n - 1, n}):
            for level in (0.9, 0.95, 0.999):
                test = stats.binomtest(k, n)
                exact = test.proportion_ci(confidence_level=level, method="exact")
                score = test.proportion_ci(confidence_level=level, method="wilson")
                low, high = d.clopper_pearson(k, n, level)
                assert close(low, float(exact.low)) and close(high, float(exact.high)), (k, n, level)
                low, high = d.wilson(k, n, level)
                assert close(low, float(score.low)) and close(high, float(score.high)), (k, n, level)


@pytest.mark.parametrize("rho", [1e-4, 0.01, 0.1, 0.45])
def test_beta_binomial_tails_match_scipy_even_far_out(rho: float) -> None:
    rng = np.random.default_rng(7)
    n = np.concatenate(([0, 1, 1, 5, 5, 5], rng.integers(5, 2500, 60)))
    x = np.concatenate(([0, 0, 1, -1, 6, 3], [rng.integers(0, m + 1) for m in n[6:]]))
    x[-1], x[-2] = n[-1], 0  # the extreme ends of the support
    for p in (0.05, 0.5, 0.75):
        a, b = p * (1 - rho) / rho, (1 - p) * (1 - rho) / rho
        upper, lower = d.betabinom_upper(x, n, a, b), d.betabinom_lower(x, n, a, b)
        for i in range(len(n)):
            # scipy's sf is 1 - cdf, which cannot go below about 1e-12: the reference is the sum of scipy's own
            # probabilities over the tail
            support = np.arange(n[i] + 1)
            pmf = stats.betabinom.pmf(support, n[i], a, b)
            assert close(upper[i], float(pmf[support >= x[i]].sum()), 1e-8), (x[i], n[i], p)
            assert close(lower[i], float(pmf[support <= x[i]].sum()), 1e-8), (x[i], n[i], p)
            assert abs(upper[i] - float(stats.betabinom.sf(x[i] - 1, n[i], a, b))) < 1e-10


def test_fisher_exact_matches_scipy_with_ties_and_empty_margins() -> None:
    tables = [
        [[8, 2], [1, 5]],
        [[3, 3], [3, 3]],  # symmetric: every table as likely as its mirror
        [[0, 10], [10, 0]],
        [[0, 0], [4, 6]],  # an empty row
        [[1, 40], [0, 60]],
        [[12, 130], [30, 95]],
        [[500, 520], [480, 540]],
    ]
    for table in tables:
        assert close(d.fisher_exact_p(table), float(stats.fisher_exact(table).pvalue), 1e-7), table
    with pytest.raises(ValueError):
        d.fisher_exact_p([[1, 2, 3], [4, 5, 6]])


def test_chi_square_contingency_with_and_without_yates() -> None:
    tables = [
        [[10, 20], [30, 5]],  # one degree of freedom: Yates-corrected, as scipy
        [[10.0, 10.2], [10.1, 9.9]],  # |observed - expected| below 0.5: corrected to zero, not past it
        [[40, 30, 20, 10], [35, 35, 15, 15]],
        [[5, 0, 7], [3, 4, 2], [9, 1, 1]],
    ]
    for table in tables:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            statistic, p_value, dof, _ = stats.chi2_contingency(table)
        mine = d.chi2_contingency(table)
        assert close(mine[0], float(statistic)) and close(mine[1], float(p_value)) and mine[2] == dof, table


def test_wilcoxon_signed_rank_matches_scipy_on_counts_with_ties_and_zeros() -> None:
    """Offences before and after joining a cohort: small whole counts, so many ties and zero differences."""
    rng = np.random.default_rng(11)
    cases = [([1, 2, 3, 4, 5], [2, 4, 6, 8, 11])]  # no ties, no zeros: the exact distribution
    for n in (2, 5, 9, 13, 14, 20, 37, 50, 51, 120):
        for _ in range(6):
            before = rng.negative_binomial(2, 0.35, n)
            cases.append((list(before), list(np.maximum(0, before + rng.integers(-3, 3, n)))))
        distinct = rng.permutation(np.arange(1, n + 1)) * rng.choice([-1, 1], n)  # untied differences
        cases.append((list(np.zeros(n)), list(distinct)))
    for before, after in cases:
        b, a = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
        if np.all(a == b):
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            expected = float(stats.wilcoxon(a, b, zero_method="wilcox").pvalue)
        assert close(d.wilcoxon_signed_rank_p(b, a), expected, 1e-9), (before, after)

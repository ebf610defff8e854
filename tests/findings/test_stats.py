"""Significance tests: checked against scipy/statsmodels and hand calculations."""

from __future__ import annotations

import calendar
import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import confint_proportions_2indep

from cspkit.errors import AnalysisError
from cspkit.findings.stats import (
    adjust_changes,
    benjamini_hochberg,
    compare_counts,
    compare_monthly_counts,
    compare_monthly_counts_many,
    compare_proportions,
    midp_rate_ratio_ci,
    paired_counts_test,
    poisson_exact_test,
    poisson_midp_test,
    poisson_z,
    rate_per,
    rate_ratio_ci,
)

Z95 = 1.959963984540054


def test_exact_test_10_vs_20_equal_exposure() -> None:
    p = poisson_exact_test(10, 1, 20, 1)
    assert p == pytest.approx(0.0987, abs=5e-5)
    assert p == pytest.approx(stats.binomtest(20, 30, 0.5).pvalue)


def test_exact_test_unequal_exposure() -> None:
    # 30 events over 3 years against 15 in one: under H0 the current year holds a quarter of the 45.
    assert poisson_exact_test(30, 3, 15, 1) == pytest.approx(stats.binomtest(15, 45, 0.25).pvalue)


def test_exact_test_zero_counts() -> None:
    assert poisson_exact_test(0, 1, 0, 1) == 1.0
    assert poisson_exact_test(0, 1, 5, 1) == pytest.approx(0.0625)  # 2 * 0.5**5
    assert poisson_exact_test(5, 1, 0, 1) == pytest.approx(0.0625)


def test_exact_test_refuses_a_mean_as_count() -> None:
    with pytest.raises(ValueError, match="summed count"):
        poisson_exact_test(10.5, 1, 12, 1)


def test_rate_ratio_log_normal_interval() -> None:
    ratio, low, high, method = rate_ratio_ci(100, 1, 150, 1)
    half = Z95 * math.sqrt(1 / 100 + 1 / 150)
    assert ratio == pytest.approx(1.5)
    assert low == pytest.approx(1.5 * math.exp(-half))
    assert high == pytest.approx(1.5 * math.exp(half))
    assert method.startswith("log-normal")


def test_rate_ratio_exact_interval_with_zero_current() -> None:
    # 4 then 0: Clopper-Pearson upper bound for 0/4 is 1 - 0.025**(1/4); RR = p/(1-p).
    ratio, low, high, method = rate_ratio_ci(4, 1, 0, 1)
    p_high = 1 - 0.025 ** (1 / 4)
    assert ratio == 0.0 and low == 0.0
    assert high == pytest.approx(p_high / (1 - p_high))
    assert method.startswith("exact")


def test_rate_ratio_exact_interval_with_zero_baseline_has_no_upper_bound() -> None:
    ratio, low, high, _ = rate_ratio_ci(0, 1, 5, 1)
    p_low = 0.025 ** (1 / 5)
    assert ratio is None and high is None
    assert low == pytest.approx(p_low / (1 - p_low))


def test_rate_ratio_exact_interval_scales_with_exposure() -> None:
    # Baseline over 3 years, current over 1: RR bounds are the 1-year bounds times 3.
    _, low_1, high_1, _ = rate_ratio_ci(6, 1, 4, 1)
    ratio, low_3, high_3, _ = rate_ratio_ci(6, 3, 4, 1)
    assert ratio == pytest.approx(2.0)
    assert low_1 is not None and low_3 is not None
    assert low_3 == pytest.approx(3 * low_1)
    assert high_3 is not None and high_1 is not None
    assert high_3 == pytest.approx(3 * high_1)


def test_wheeler_example() -> None:
    assert poisson_z(25, 16) == pytest.approx(2.0)
    assert poisson_z(16, 16) == 0.0


def test_benjamini_hochberg_matches_statsmodels() -> None:
    rng = np.random.default_rng(7)
    p = np.concatenate([rng.uniform(0, 1, 30), rng.uniform(0, 0.01, 10)])
    expected = multipletests(p, method="fdr_bh")[1]
    assert benjamini_hochberg(list(p)) == pytest.approx(list(expected))


def test_benjamini_hochberg_passes_nones_through() -> None:
    p = [0.01, None, 0.04, 0.03, None, 0.5]
    present = [x for x in p if x is not None]
    expected = iter(multipletests(present, method="fdr_bh")[1])
    adjusted = benjamini_hochberg(p)
    assert adjusted[1] is None and adjusted[4] is None
    assert [a for a in adjusted if a is not None] == pytest.approx([next(expected) for _ in present])
    assert adjusted[0] == pytest.approx(0.04)  # 0.01 * 4 / 1, below the next rank's 0.04 * 4 / 3


def _midp(x: int, n: int, p: float) -> float:
    half = 0.5 * stats.binom.pmf(x, n, p)
    return float(min(1.0, 2 * min(stats.binom.cdf(x - 1, n, p) + half, stats.binom.sf(x, n, p) + half)))


def test_compare_counts_equal_exposure() -> None:
    change = compare_counts(1204, 1010)
    assert change.absolute == 194
    assert change.percent == pytest.approx((1204 / 1010 - 1) * 100)
    assert change.rate_ratio == pytest.approx(1204 / 1010)
    half = Z95 * math.sqrt(1 / 1010 + 1 / 1204)
    assert change.ci_low == pytest.approx(1204 / 1010 * math.exp(-half), rel=1e-3)  # mid-p ~ log-normal at scale
    assert change.p_value == pytest.approx(_midp(1204, 2214, 0.5))
    # mid-p is a little below the exact p-value (half the probability of the observed split)
    assert change.p_value < stats.binomtest(1204, 2214, 0.5).pvalue
    assert change.method == "exact conditional (mid-p)"
    assert (change.p_adjusted, change.significant, change.direction) == (None, False, "none")


def test_compare_counts_with_mean_of_three_periods() -> None:
    # 300 over three years (mean 100) against 130 now.
    change = compare_counts(130, 300, exposure_current=1, exposure_baseline=3)
    assert change.absolute == pytest.approx(30.0)
    assert change.percent == pytest.approx(30.0)
    assert change.rate_ratio == pytest.approx(1.3)
    assert change.p_value == pytest.approx(_midp(130, 430, 0.25))


def test_compare_counts_zero_baseline_has_no_percent() -> None:
    change = compare_counts(7, 0)
    assert change.percent is None and change.rate_ratio is None and change.ci_high is None
    assert change.absolute == 7


def test_adjust_changes_judges_the_batch() -> None:
    changes = [compare_counts(1204, 1010), None, compare_counts(6, 4), compare_counts(800, 1000)]
    adjusted = adjust_changes(changes)
    expected = multipletests([c.p_value for c in changes if c is not None], method="fdr_bh")[1]
    assert adjusted[1] is None
    rise, small, fall = adjusted[0], adjusted[2], adjusted[3]
    assert rise is not None and small is not None and fall is not None
    assert [rise.p_adjusted, small.p_adjusted, fall.p_adjusted] == pytest.approx(list(expected))
    assert (rise.significant, rise.direction) == (True, "up")
    assert (small.significant, small.direction) == (False, "none")
    assert (fall.significant, fall.direction) == (True, "down")


def test_null_simulation_flags_about_five_percent() -> None:
    rng = np.random.default_rng(20240501)
    pairs = rng.poisson(50, size=(2000, 2))
    changes = [compare_counts(int(cur), int(base)) for base, cur in pairs]
    p_values = np.array([c.p_value for c in changes])
    raw_rate = float((p_values < 0.05).mean())
    assert 0.025 <= raw_rate <= 0.065  # exact test: at most 5%, somewhat conservative
    judged = adjust_changes(changes)
    assert sum(c is not None and c.significant for c in judged) <= 5  # adjustment removes nearly all


def test_compare_proportions_z_test() -> None:
    change = compare_proportions(30, 100, 45, 100)
    pooled = 75 / 200
    z = 0.15 / math.sqrt(pooled * (1 - pooled) * (2 / 100))
    assert change.absolute == pytest.approx(0.15)
    assert change.p_value == pytest.approx(2 * stats.norm.sf(z))
    assert change.percent == pytest.approx(50.0)
    assert change.rate_ratio is None
    low, high = confint_proportions_2indep(45, 100, 30, 100, method="newcomb", compare="diff")
    assert (change.ci_low, change.ci_high) == pytest.approx((low, high))
    assert change.test.startswith("two-proportion z-test")


def test_compare_proportions_uses_fisher_for_small_cells() -> None:
    change = compare_proportions(1, 10, 5, 10)
    assert change.p_value == pytest.approx(stats.fisher_exact([[1, 9], [5, 5]]).pvalue)
    assert change.test.startswith("Fisher")
    low, high = confint_proportions_2indep(5, 10, 1, 10, method="newcomb", compare="diff")
    assert (change.ci_low, change.ci_high) == pytest.approx((low, high))


def test_compare_proportions_refuses_an_empty_group() -> None:
    with pytest.raises(AnalysisError):
        compare_proportions(0, 0, 3, 10)


def test_paired_counts_test_matches_scipy() -> None:
    before = [3, 4, 2, 5, 6, 1, 2, 3, 4, 2]
    after = [1, 2, 2, 1, 3, 0, 1, 1, 5, 2]
    result = paired_counts_test(before, after)
    assert result.p_value == pytest.approx(stats.wilcoxon(after, before).pvalue)
    assert result.mean_before == pytest.approx(3.2)
    assert result.mean_after == pytest.approx(1.8)
    assert result.mean_difference == pytest.approx(-1.4)
    assert result.n == 10
    assert "Only 10 people" in result.note and "regression to the mean" in result.note


def test_paired_counts_test_no_change() -> None:
    result = paired_counts_test([1, 2, 3], [1, 2, 3])
    assert result.p_value == 1.0 and result.mean_difference == 0.0


def test_rate_per() -> None:
    assert rate_per(50, 25_000) == pytest.approx(2.0)
    assert rate_per(3, 1_500, per=100) == pytest.approx(0.2)
    with pytest.raises(AnalysisError):
        rate_per(3, 0)


# --- over-dispersed, seasonal monthly counts ---------------------------------------------------------------------


def _months(first_year: int, n: int) -> list[str]:
    return [f"{first_year + (i // 12)}-{i % 12 + 1:02d}" for i in range(n)]


def test_midp_hand_values_and_interval_inversion() -> None:
    """4 against 6: mid-p = 2 * (P(X<=3) + P(X=4)/2) for Binomial(10, 1/2) = 2 * (176 + 105)/1024."""
    assert poisson_midp_test(6, 1, 4, 1) == pytest.approx(562 / 1024)
    assert poisson_midp_test(0, 1, 0, 1) == 1.0
    assert poisson_midp_test(0, 1, 5, 1) == pytest.approx(2 * 0.5 * 0.5**5)  # only the observed split, halved
    ratio, low, high, _ = midp_rate_ratio_ci(6, 1, 4, 1)
    assert ratio == pytest.approx(4 / 6)
    # each bound is where the matching mid-p tail equals 2.5%
    for bound, tail in ((low, "upper"), (high, "lower")):
        assert bound is not None
        share = bound / (1 + bound)
        half = 0.5 * stats.binom.pmf(4, 10, share)
        value = stats.binom.sf(4, 10, share) + half if tail == "upper" else stats.binom.cdf(3, 10, share) + half
        assert value == pytest.approx(0.025, rel=1e-6)


def test_quasi_poisson_matches_statsmodels_with_season_and_days() -> None:
    """Over-dispersed seasonal counts: beta, se x sqrt(phi) and the t test on 11 df equal statsmodels' GLM."""
    import statsmodels.api as sm

    rng = np.random.default_rng(7)
    months = _months(2021, 24)
    mean = 60 * (1 + 0.3 * np.sin(np.arange(24) * np.pi / 6)) * rng.gamma(25, 1 / 25, 24)
    counts = rng.poisson(mean)
    tested = compare_monthly_counts(
        {m: float(c) for m, c in zip(months[12:], counts[12:], strict=True)},
        {m: float(c) for m, c in zip(months[:12], counts[:12], strict=True)},
    )
    change = tested.change
    moy = np.array([int(m[5:]) for m in months])
    design = np.column_stack([np.ones(24), [0] * 12 + [1] * 12] + [(moy == k) * 1.0 for k in range(2, 13)])
    offset = np.log([calendar.monthrange(int(m[:4]), int(m[5:]))[1] for m in months])
    fit = sm.GLM(counts, design, family=sm.families.Poisson(), offset=offset).fit(scale="X2")
    assert change.method == "quasi-Poisson GLM" and "with month-of-year terms" in change.test
    assert change.dispersion == pytest.approx(fit.scale, rel=1e-8)
    assert change.rate_ratio == pytest.approx(math.exp(fit.params[1]), rel=1e-8)
    assert change.p_value == pytest.approx(2 * stats.t.sf(abs(fit.params[1] / fit.bse[1]), 11), rel=1e-6)
    q = stats.t.ppf(0.975, 11)
    assert change.ci_low == pytest.approx(math.exp(fit.params[1] - q * fit.bse[1]), rel=1e-6)
    assert tested.interval is not None
    low99, high99 = tested.interval(0.99)
    assert low99 is not None and high99 is not None and low99 < (change.ci_low or 0) and high99 > (change.ci_high or 0)


def test_many_series_fitted_together_match_each_fitted_alone_and_statsmodels() -> None:
    """A family like the ward x crime-type one: seasonal, over-dispersed, small, some with a calendar month of
    zeros (no season terms), one with no current events, one constant. Fitted as one stack, each result is the
    series' own fit and statsmodels' GLM."""
    import statsmodels.api as sm

    rng = np.random.default_rng(3)
    months = _months(2021, 24)
    family = []
    for level in (0.4, 1.5, 3, 8, 25, 80, 300):
        for _ in range(3):
            mean = level * (1 + 0.4 * np.sin(np.arange(24) * np.pi / 6)) * rng.gamma(4, 1 / 4, 24)
            family.append(rng.poisson(mean).astype(float))
    family.append(np.r_[rng.poisson(5, 12), np.zeros(12)].astype(float))  # nothing in the current year
    family.append(np.full(24, 7.0))  # under-dispersed: the exact mid-p test
    comparisons = [
        (dict(zip(months[12:], c[12:], strict=True)), dict(zip(months[:12], c[:12], strict=True)), None, None)
        for c in family
    ]
    together = compare_monthly_counts_many(comparisons)
    alone = [compare_monthly_counts(*c[:2]) for c in comparisons]
    methods = set()
    moy = np.array([int(m[5:]) for m in months])
    offset = np.log([calendar.monthrange(int(m[:4]), int(m[5:]))[1] for m in months])
    for counts, a, b in zip(family, together, alone, strict=True):
        assert a.change.method == b.change.method and a.change.test == b.change.test
        for name in ("rate_ratio", "ci_low", "ci_high", "p_value", "dispersion"):
            x, y = getattr(a.change, name), getattr(b.change, name)
            assert (x is None and y is None) or x == pytest.approx(y, rel=1e-10), name
        methods.add(a.change.method)
        if a.change.method == "quasi-Poisson GLM":
            season = "with month-of-year" in a.change.test
            columns = [np.ones(24), [0] * 12 + [1] * 12] + ([(moy == k) * 1.0 for k in range(2, 13)] if season else [])
            fit = sm.GLM(counts, np.column_stack(columns), family=sm.families.Poisson(), offset=offset).fit(scale="X2")
            assert a.change.rate_ratio == pytest.approx(math.exp(fit.params[1]), rel=1e-7)
            assert a.change.dispersion == pytest.approx(fit.scale, rel=1e-7)
    assert len(methods) == 2  # both the GLM and the exact fallback were taken
    assert any("without month-of-year" in t.change.test for t in together)  # and both designs


def test_fallback_rules_are_stated() -> None:
    # too short: 3 months each side
    short = compare_monthly_counts(
        {"2023-04": 5, "2023-05": 9, "2023-06": 2}, {"2022-04": 1, "2022-05": 8, "2022-06": 3}
    )
    assert short.change.method == "exact conditional (mid-p)" and "too few" in short.change.test
    assert short.change.p_value == pytest.approx(poisson_midp_test(12, 3, 16, 3))
    # a period without events
    empty = compare_monthly_counts({m: 0 for m in _months(2023, 12)}, {m: 1 for m in _months(2022, 12)})
    assert "no events" in empty.change.test
    # perfectly even months: consistent with Poisson
    even = compare_monthly_counts({m: 10 for m in _months(2023, 12)}, {m: 8 for m in _months(2022, 12)})
    assert even.change.method == "exact conditional (mid-p)" and "consistent with Poisson" in even.change.test
    assert even.change.dispersion is not None and even.change.dispersion <= 1


def test_adjusted_intervals_agree_with_bh_verdicts() -> None:
    """Five changes, two flagged by BH: the adjusted level is 1 - 2 x 0.05 / 5 = 98%; flagged ones exclude 1."""
    tested = [
        compare_monthly_counts(
            {m: float(c) for m, c in zip(_months(2023, 12), [x] * 12, strict=True)},
            {m: float(c) for m, c in zip(_months(2022, 12), [y] * 12, strict=True)},
        )
        for x, y in [(30, 20), (12, 10), (40, 25), (9, 10), (11, 10)]
    ]
    judged = adjust_changes(tested)
    flagged = [c for c in judged if c is not None and c.significant]
    assert len(flagged) == 2
    for c in judged:
        assert c is not None and c.ci_adjusted_level == pytest.approx(0.98)
        assert c.ci_adjusted_low is not None and c.ci_adjusted_high is not None
        assert (c.ci_adjusted_low > 1 or c.ci_adjusted_high < 1) == c.significant

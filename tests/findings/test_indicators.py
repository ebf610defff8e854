"""Count indicators on tiny hand-made series: values, exact tests, BH verdicts, rates and cautious sentences.

Every expected number is computed here by hand or with scipy/statsmodels, independently of cspkit.stats.
"""

from __future__ import annotations

import math
import re

import pytest
from scipy.stats import binom
from statsmodels.stats.multitest import multipletests

from cspkit.findings.indicators import CountSeries, FindingContext, build_count_findings, restricted_clause, slug
from cspkit.findings.model import Finding
from cspkit.findings.periods import Comparison, month_range, parse_period, plan_comparison

FY_2022 = month_range("2022-04", "2023-03")  # 2022-23, the comparison year
FY_2023 = month_range("2023-04", "2024-03")  # 2023-24, the year reported on
SIGNED_PERCENT = re.compile(r"[+-−]?\d[\d,]*%")
CHANGE_WORDS = ("rose", "fell", "increase", "decrease", "rise", "fall ")


def _midp(x: int, n: int, p: float = 0.5) -> float:
    """Two-sided mid-p of x events of n in the current period, by hand from scipy's binomial."""
    half = 0.5 * binom.pmf(x, n, p)
    return float(min(1.0, 2 * min(binom.cdf(x - 1, n, p) + half, binom.sf(x, n, p) + half)))


def _context(loaded: list[str], period: str = "2023-24", mode: str = "previous") -> FindingContext:
    comparison: Comparison = plan_comparison(parse_period(period), loaded, mode)  # type: ignore[arg-type]
    return FindingContext(comparison=comparison, area_code="E06000056", area_name="Central Bedfordshire")


def _spread(total: int, months: list[str]) -> dict[str, float]:
    """``total`` events spread over ``months`` as evenly as whole numbers allow (remainder in the first months)."""
    base, extra = divmod(total, len(months))
    return {m: float(base + (1 if i < extra else 0)) for i, m in enumerate(months)}


def _series(ident: str, subject: str, current: int, baseline: int, **kw: object) -> CountSeries:
    monthly = {**_spread(baseline, FY_2022), **_spread(current, FY_2023)}
    return CountSeries(
        id=ident,
        topic="crime",
        title=subject.capitalize(),
        subject=subject,
        monthly=monthly,
        definition=f"Crimes of type {subject}, counted by hand for a test.",
        sources=["hand-made"],
        control_chart=False,
        **kw,  # type: ignore[arg-type]
    )


def test_slug_follows_the_id_contract() -> None:
    """Crime types become lower-case words joined by underscores, as the finding ids require."""
    assert slug("Criminal damage and arson") == "criminal_damage_and_arson"
    assert slug("Violence and sexual offences") == "violence_and_sexual_offences"
    assert slug("Anti-social behaviour") == "anti_social_behaviour"


def test_small_non_significant_change_says_so_with_both_counts_and_no_percentage() -> None:
    """4 robberies against 6: the sentence says 'not significant', gives 4 and 6, and no percentage."""
    ctx = _context(FY_2022 + FY_2023)
    (finding,) = build_count_findings([_series("crime.robbery.count", "robbery", 4, 6)], ctx)

    assert finding.value == 4 and finding.baseline == 6
    assert finding.sentence == (
        "There was no statistically significant change in robbery: 4 in 2023-24 compared with 6 in 2022-23."
    )
    assert "%" not in finding.sentence
    assert not any(word in finding.sentence for word in CHANGE_WORDS)
    change = finding.change
    assert change is not None
    # Evenly spread counts vary less than Poisson counts, so the exact mid-p test applies (the rule in the text)
    assert change.method == "exact conditional (mid-p)" and "consistent with Poisson" in change.test
    assert change.p_value == pytest.approx(_midp(4, 10), rel=1e-12)
    assert change.p_value == pytest.approx(562 / 1024)  # 2 * (P(X <= 3) + P(X = 4)/2) = 2 * (176 + 105)/1024
    assert not change.significant and change.direction == "none"
    assert finding.small_number  # 4 is below the default suppression threshold of 5
    assert not finding.emerging


def test_significant_small_count_gives_no_percentage_but_both_numbers() -> None:
    """2 against 14 is significant (mid-p = 0.0023), but percentages of small numbers mislead: none is given."""
    ctx = _context(FY_2022 + FY_2023)
    (finding,) = build_count_findings([_series("crime.drugs.count", "drug crime", 14, 2)], ctx)

    change = finding.change
    assert change is not None
    assert change.p_value == pytest.approx(_midp(14, 16), rel=1e-12)
    assert change.p_value == pytest.approx(2 * (1 + 16 + 120 / 2) / 2**16)
    assert change.significant and change.direction == "up"
    assert finding.sentence.startswith("Drug crime rose significantly: 14 in 2023-24 against 2 in 2022-23 (")
    assert not SIGNED_PERCENT.search(finding.sentence.replace("95%", ""))
    assert "rate ratio 7.00" in finding.sentence
    assert finding.emerging  # a significant rise in something whose good direction is down


def test_family_is_adjusted_together_with_benjamini_hochberg() -> None:
    """p_adjusted equals statsmodels' fdr_bh over the family; significance is p_adjusted < 0.05."""
    pairs = [(120, 100), (150, 100), (95, 100), (300, 240), (10, 18), (0, 0)]
    family = [_series(f"crime.t{i}.count", f"type {i}", cur, base) for i, (cur, base) in enumerate(pairs)]
    findings = build_count_findings(family, _context(FY_2022 + FY_2023))

    raw = [_midp(cur, cur + base) if cur + base else 1.0 for cur, base in pairs]
    _, expected, _, _ = multipletests(raw, method="fdr_bh")
    for finding, p, p_adj in zip(findings, raw, expected, strict=True):
        assert finding.change is not None
        assert finding.change.p_value == pytest.approx(p, rel=1e-10)
        assert finding.change.p_adjusted == pytest.approx(p_adj, rel=1e-10)
        assert finding.change.significant == (p_adj < 0.05)
    verdicts = [(f.change.significant, f.change.direction) for f in findings if f.change]
    # Worked out from the p-values: 150 v 100 (p = 0.0019) and 300 v 240 (p = 0.013) survive BH; 120 v 100 does not.
    assert verdicts == [(False, "none"), (True, "up"), (False, "none"), (True, "up"), (False, "none"), (False, "none")]


def test_rate_ratio_interval_is_the_inverted_midp_test_and_rate_uses_the_denominator() -> None:
    """RR = 150/100; each bound is the ratio at which the mid-p tail is 2.5%; close to the log-normal interval
    exp(+-1.96 sqrt(1/150 + 1/100)); rate per 1,000 of 25,000 residents = 6.0."""
    ctx = _context(FY_2022 + FY_2023)
    (finding,) = build_count_findings([_series("asb.count", "ASB", 150, 100, denominator=25_000.0)], ctx)
    change = finding.change
    assert change is not None
    assert change.rate_ratio == pytest.approx(1.5)
    assert change.ci_low is not None and change.ci_high is not None
    share_low, share_high = change.ci_low / (1 + change.ci_low), change.ci_high / (1 + change.ci_high)
    assert binom.sf(150, 250, share_low) + 0.5 * binom.pmf(150, 250, share_low) == pytest.approx(0.025, rel=1e-6)
    assert binom.cdf(149, 250, share_high) + 0.5 * binom.pmf(150, 250, share_high) == pytest.approx(0.025, rel=1e-6)
    half = 1.959964 * math.sqrt(1 / 150 + 1 / 100)
    assert change.ci_low == pytest.approx(1.5 * math.exp(-half), rel=0.01)
    assert change.ci_high == pytest.approx(1.5 * math.exp(half), rel=0.01)
    assert change.absolute == 50 and change.percent == pytest.approx(50.0)
    assert finding.rate == pytest.approx(6.0) and finding.rate_per == 1000
    assert finding.sentence.endswith("That is 6 per 1,000 residents.")
    assert "150 in 2023-24 against 100 in 2022-23 (+50%, rate ratio 1.50" in finding.sentence


def test_mean_of_three_uses_summed_baseline_with_exposure_three() -> None:
    """Against the mean of three years the test is binomial with p = 1/4 on the summed count (not on the mean)."""
    loaded = month_range("2019-04", "2024-03")
    monthly = {
        **_spread(90, month_range("2020-04", "2021-03")),
        **_spread(110, month_range("2021-04", "2022-03")),
        **_spread(100, month_range("2022-04", "2023-03")),
        **_spread(140, FY_2023),
    }
    series = CountSeries("crime.burglary.count", "crime", "Burglary", "burglary", monthly, "hand", ["hand"])
    (finding,) = build_count_findings([series], _context(loaded, mode="mean_of_3"))

    change = finding.change
    assert change is not None
    assert finding.value == 140 and finding.baseline == pytest.approx(100.0)
    assert finding.comparison_period == ("2020-04", "2023-03")
    # 48 evenly spread months: under-dispersed, so the exact mid-p test on the summed count
    assert change.method == "exact conditional (mid-p)"
    assert change.p_value == pytest.approx(_midp(140, 440, 0.25), rel=1e-12)
    assert change.rate_ratio == pytest.approx(1.4)
    half = 1.959964 * math.sqrt(1 / 300 + 1 / 140)
    assert change.ci_low == pytest.approx(1.4 * math.exp(-half), rel=0.01)
    assert "against 100 in the average of 2020-21, 2021-22 and 2022-23" in finding.sentence


def test_restricted_comparison_is_stated_in_definition_coverage_and_sentence() -> None:
    """With April 2022 missing, both years are cut to May-March and the finding says so, sentence included."""
    loaded = [m for m in FY_2022 + FY_2023 if m != "2022-04"]
    ctx = _context(loaded)
    series = _series("crime.shoplifting.count", "shoplifting", 120, 120)
    (finding,) = build_count_findings([series], ctx)

    assert ctx.comparison.restricted and not ctx.comparison.complete
    # April 2023 (10 events: 120/12) is left out, and so is April 2022.
    assert finding.value == 110 and finding.baseline == 110
    assert finding.coverage.months == month_range("2023-05", "2024-03")
    assert not finding.coverage.complete
    assert "using only the 11 of 12 months" in finding.definition
    assert "Both figures cover only 11 of the 12 months (May 2023 to March 2024" in finding.sentence
    assert restricted_clause(_context(FY_2022 + FY_2023).comparison) == ""


def test_control_chart_and_forecast_details_are_attached_and_json_safe() -> None:
    """A steady 100 a month gets a c-chart with limits from the year before the period judged, on counts scaled to
    an average month (100 x 30.44 / days), centre about 100 and limits centre +- 3 sqrt(centre); and a forecast."""
    ctx = _context(FY_2022 + FY_2023)
    series = _series("crime.vehicle_crime.count", "vehicle crime", 1200, 1200)
    series.control_chart, series.forecast = True, True
    (finding,) = build_count_findings([series], ctx)
    chart = finding.extra["control_chart"]
    assert chart["chart"] == "c-chart"
    import calendar

    days = [calendar.monthrange(int(m[:4]), int(m[5:]))[1] for m in FY_2022]
    centre = sum(100 * 365.25 / 12 / d for d in days) / 12
    assert chart["centre"] == pytest.approx(centre) and 100 < centre < 100.3
    assert chart["ucl"] == pytest.approx(centre + 3 * centre**0.5)
    assert chart["lcl"] == pytest.approx(centre - 3 * centre**0.5)
    assert chart["limit_months"] == FY_2022 and "before the period judged" in chart["limits"]
    assert chart["signals_are"].startswith("screening")
    assert finding.spc is None  # no month outside the limits, no run of 8 on one side
    assert len(finding.extra["forecast"]["mean"]) == 12
    assert finding.series == [(m, 100.0) for m in FY_2022 + FY_2023]
    assert Finding.from_dict(finding.to_dict()) == finding

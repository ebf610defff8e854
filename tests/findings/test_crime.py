"""Police crime and ASB findings against independent counts: real Bedfordshire files, hand-made counts, synthetic data.

The independent method never touches the warehouse: it reads the 24 street CSVs straight out of the bundled zip
with Python's csv module, places each row with the bundled LSOA -> ward -> local authority lookup, and takes
populations from the bundled mid-2024 estimates. P-values come from scipy, BH adjustments from statsmodels.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import shutil
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pytest
from scipy.stats import betabinom, binomtest
from scipy.stats import chi2 as stats_chi2
from scipy.stats import t as t_dist
from statsmodels.stats.multitest import multipletests

from cspkit.findings.area import AreaContext
from cspkit.findings.crime import ASB, PoliceCounts, crime_findings
from cspkit.findings.engine import FindingSet, compute_findings
from cspkit.findings.harm import get_harm_index
from cspkit.findings.indicators import FindingContext, slug
from cspkit.findings.model import Finding
from cspkit.findings.periods import month_range, parse_period, plan_comparison
from cspkit.ingest import ingest_paths
from cspkit.synth import generate
from cspkit.topics import TOPIC_BUILDERS
from cspkit.workspace import Workspace

REPO = Path(__file__).resolve().parents[2]
POLICE_ZIP = REPO / "demo" / "police" / "bedfordshire-2021-05_2023-04.zip"
LOOKUP = REPO / "src" / "cspkit" / "data" / "geography" / "lsoa21_ward24_lad24_lookup_ew.csv.gz"
POPULATION = REPO / "src" / "cspkit" / "data" / "population" / "mid2024_population_sex_broadage_lsoa21_ew.csv.gz"
AREA = "E06000056"
CURRENT = month_range("2022-05", "2023-04")
PREVIOUS = month_range("2021-05", "2022-04")
FAST = {"forecast": False, "hotspot_maps": False}


# --- the independent method ----------------------------------------------------------------------------------


@dataclass
class Independent:
    """Counts made with csv over the zip and the bundled lookup, keyed (month, crime type, ward)."""

    counts: Counter[tuple[str, str, str]]
    by_lsoa: Counter[tuple[str, str, str]]
    area_lsoas: list[str]
    outside: Counter[str]
    no_location: Counter[str]
    ward_population: dict[str, int]
    population: int

    def total(self, months: list[str], types: set[str] | None = None, ward: str | None = None) -> int:
        wanted = set(months)
        return sum(
            n
            for (m, t, w), n in self.counts.items()
            if m in wanted and (types is None or t in types) and (ward is None or w == ward)
        )

    def lsoa_totals(self, months: list[str], types: set[str]) -> dict[str, int]:
        wanted = set(months)
        out = dict.fromkeys(self.area_lsoas, 0)
        for (m, t, lsoa), n in self.by_lsoa.items():
            if m in wanted and t in types:
                out[lsoa] += n
        return out

    def types(self) -> set[str]:
        return {t for (_, t, _) in self.counts}

    def crimes(self) -> set[str]:
        return self.types() - {ASB}


def _lookup() -> dict[str, tuple[str, str, str]]:
    with gzip.open(LOOKUP, "rt", encoding="utf-8") as fh:
        return {r["lsoa21_code"]: (r["ltla24_code"], r["ward24_code"], r["lsoa21_name"]) for r in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def indep() -> Independent:
    lookup = _lookup()
    counts: Counter[tuple[str, str, str]] = Counter()
    by_lsoa: Counter[tuple[str, str, str]] = Counter()
    outside: Counter[str] = Counter()
    no_location: Counter[str] = Counter()
    with zipfile.ZipFile(POLICE_ZIP) as archive:
        for name in archive.namelist():
            if not name.endswith("-street.csv"):
                continue
            with archive.open(name) as raw:
                for row in csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8-sig")):
                    lsoa, month = row["LSOA code"].strip(), row["Month"]
                    if not lsoa:
                        no_location[month] += 1
                    elif lookup.get(lsoa, ("",))[0] != AREA:
                        outside[month] += 1
                    else:
                        counts[(month, row["Crime type"], lookup[lsoa][1])] += 1
                        by_lsoa[(month, row["Crime type"], lsoa)] += 1
    ward_population: dict[str, int] = {}
    with gzip.open(POPULATION, "rt", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            place = lookup.get(r["LSOA21CD"])
            if place and place[0] == AREA:
                ward_population[place[1]] = ward_population.get(place[1], 0) + int(r["Total"])
    area_lsoas = sorted(code for code, (lad, _, _) in lookup.items() if lad == AREA)
    population = sum(ward_population.values())
    return Independent(counts, by_lsoa, area_lsoas, outside, no_location, ward_population, population)


@pytest.fixture(scope="module")
def fs(police_workspace: Workspace) -> FindingSet:
    con = police_workspace.connect(read_only=True)
    try:
        return compute_findings(con, police_workspace.config(), **FAST, builders=TOPIC_BUILDERS)  # type: ignore[arg-type]
    finally:
        con.close()


@pytest.fixture(scope="module")
def fs_fy(police_workspace: Workspace) -> FindingSet:
    con = police_workspace.connect(read_only=True)
    try:
        return compute_findings(con, police_workspace.config(), period="2022-23", **FAST, builders=TOPIC_BUILDERS)  # type: ignore[arg-type]
    finally:
        con.close()


# --- real files: counts, tests, rates, coverage -------------------------------------------------------------


def test_independent_method_reproduces_the_published_totals(indep: Independent) -> None:
    """Guard on the independent method itself: the totals quoted in the issue."""
    assert indep.total(CURRENT, indep.crimes()) == 15_680
    assert indep.total(PREVIOUS, indep.crimes()) == 14_123
    assert indep.total(CURRENT, {ASB}) == 4_015
    assert indep.total(PREVIOUS, {ASB}) == 4_982
    assert indep.population == 315_877


def test_default_period_is_latest_12_complete_months_against_the_12_before(fs: FindingSet) -> None:
    """24 months loaded (2021-05..2023-04): May 2022-April 2023 against May 2021-April 2022, complete."""
    assert (fs.period.first, fs.period.last) == ("2022-05", "2023-04")
    assert fs.comparison.current_months == CURRENT
    assert fs.comparison.baseline_months == [PREVIOUS]
    assert fs.comparison.complete and not fs.comparison.restricted
    assert fs.comparison.exposure_current == fs.comparison.exposure_baseline == 12


def test_all_crime_and_asb_counts_equal_the_independent_count(fs: FindingSet, indep: Independent) -> None:
    """crime.all.count = 15,680 v 14,123 (ASB excluded); asb.count = 4,015 v 4,982."""
    crime, asb = fs.require("crime.all.count"), fs.require("asb.count")
    assert (crime.value, crime.baseline) == (15_680, 14_123)
    assert (asb.value, asb.baseline) == (4_015, 4_982)
    assert crime.value == indep.total(CURRENT, indep.crimes())
    assert asb.baseline == indep.total(PREVIOUS, {ASB})
    assert crime.series == [(m, float(indep.total([m], indep.crimes()))) for m in month_range("2021-05", "2023-04")]


def test_every_crime_type_count_equals_the_independent_count(fs: FindingSet, indep: Independent) -> None:
    """Each of the 13 data.police.uk crime types, value and baseline, under its contract id."""
    assert len(indep.crimes()) == 13
    for crime_type in sorted(indep.crimes()):
        finding = fs.require(f"crime.{slug(crime_type)}.count")
        assert finding.value == indep.total(CURRENT, {crime_type}), crime_type
        assert finding.baseline == indep.total(PREVIOUS, {crime_type}), crime_type
        assert finding.title == crime_type


def test_ward_counts_equal_the_independent_count_for_every_ward(fs: FindingSet, indep: Independent) -> None:
    """crime.burglary.ward.<code>.count for each ward; the busiest ward checked in full, rate by ward population."""
    wards = sorted(indep.ward_population)
    assert len(wards) == len({k for k in fs.area.ward_names})
    for ward in wards:
        finding = fs.require(f"crime.burglary.ward.{ward}.count")
        assert finding.value == indep.total(CURRENT, {"Burglary"}, ward)
        assert finding.baseline == indep.total(PREVIOUS, {"Burglary"}, ward)
        assert finding.area == ward
    busiest = max(wards, key=lambda w: (indep.total(CURRENT, {"Burglary"}, w), w))
    finding = fs.require(f"crime.burglary.ward.{busiest}.count")
    assert finding.value == indep.total(CURRENT, {"Burglary"}, busiest) > 30
    assert finding.rate == pytest.approx(finding.value / indep.ward_population[busiest] * 1000, rel=1e-12)
    assert finding.area_name == fs.area.ward_names[busiest]
    # The ward counts of a type add up to the area count: nothing is lost between the two levels.
    assert sum(fs.require(f"asb.ward.{w}.count").value or 0 for w in wards) == 4_015


def _midp(x: int, n: int, p: float) -> float:
    """Two-sided mid-p of the conditional binomial, by hand from scipy."""
    from scipy.stats import binom

    half = 0.5 * binom.pmf(x, n, p)
    return float(min(1.0, 2 * min(binom.cdf(x - 1, n, p) + half, binom.sf(x, n, p) + half)))


def _quasi_poisson(
    indep: Independent,
    types: set[str],
    before: list[str] = PREVIOUS,
    after: list[str] = CURRENT,
    season: bool = True,
) -> tuple[float, float, float, int]:
    """Independent fit with statsmodels' formula API: (log RR, quasi se, dispersion, residual df)."""
    import calendar

    import numpy as np
    import pandas as pd
    import statsmodels.formula.api as smf
    from statsmodels.genmod.families import Poisson

    months = before + after
    frame = pd.DataFrame(
        {
            "y": [indep.total([m], types) for m in months],
            "moy": [m[5:] for m in months],
            "current": [0] * len(before) + [1] * len(after),
            "days": [calendar.monthrange(int(m[:4]), int(m[5:]))[1] for m in months],
        }
    )
    formula = "y ~ current + C(moy)" if season else "y ~ current"
    fit = smf.glm(formula, frame, family=Poisson(), offset=np.log(frame["days"])).fit(scale="X2")
    phi = float(fit.pearson_chi2 / fit.df_resid)
    return float(fit.params["current"]), float(fit.bse["current"]), phi, int(fit.df_resid)


def test_change_is_quasi_poisson_with_season_and_its_interval_agrees(fs: FindingSet, indep: Independent) -> None:
    """All crime 15,680 vs 14,123: over-dispersed monthly counts, so quasi-Poisson with month-of-year terms (11 df),
    checked against an independent statsmodels formula fit; the exact test would say p = 2e-19."""
    change = fs.require("crime.all.count").change
    assert change is not None
    beta, se, phi, df = _quasi_poisson(indep, indep.crimes())
    assert df == 11 and phi > 1.5
    assert change.method == "quasi-Poisson GLM" and change.dispersion == pytest.approx(phi, rel=1e-6)
    p_expected = 2 * t_dist.sf(abs(beta / se), df)
    assert change.p_value == pytest.approx(p_expected, rel=1e-6)
    assert change.p_value > binomtest(15_680, 15_680 + 14_123, 0.5).pvalue * 1e10  # far less certain than Poisson
    q = t_dist.ppf(0.975, df)
    assert change.rate_ratio == pytest.approx(math.exp(beta), rel=1e-9)
    assert change.ci_low == pytest.approx(math.exp(beta - q * se), rel=1e-6)
    assert change.ci_high == pytest.approx(math.exp(beta + q * se), rel=1e-6)
    # per day at risk: 2022-05..2023-04 and 2021-05..2022-04 both have 365 days, so the RR is the ratio of totals
    assert change.rate_ratio == pytest.approx(15_680 / 14_123, rel=1e-6)
    assert change.absolute == 1_557 and change.percent == pytest.approx(1_557 / 14_123 * 100)
    assert change.significant and change.direction == "up"
    # the adjusted interval excludes 1 because the change is flagged; it is wider than the 95% one
    assert change.ci_adjusted_low is not None and change.ci_adjusted_high is not None
    assert change.ci_adjusted_level is not None and change.ci_adjusted_level > 0.95
    assert 1 < change.ci_adjusted_low < change.ci_low < change.ci_high < change.ci_adjusted_high
    assert "over-dispersion" in change.test and "month-of-year" in change.test

    burglary = fs.require("crime.burglary.count").change
    assert burglary is not None
    assert not burglary.significant and burglary.direction == "none"
    assert burglary.ci_adjusted_low is not None and burglary.ci_adjusted_high is not None
    assert burglary.ci_adjusted_low < 1 < burglary.ci_adjusted_high


def test_every_verdict_agrees_with_its_adjusted_interval(fs: FindingSet) -> None:
    """Flagged exactly when the multiplicity-adjusted interval excludes a rate ratio of 1 (area and ward families)."""
    checked = 0
    for f in fs.findings:
        c = f.change
        if c is None or c.ci_adjusted_level is None or c.rate_ratio is None or c.absolute == 0:
            continue
        low, high = c.ci_adjusted_low, c.ci_adjusted_high
        excludes_one = (low is not None and low > 1) or (high is not None and high < 1)
        assert excludes_one == c.significant, f.id
        checked += 1
    assert checked > 300


def test_bh_adjustment_spans_the_area_family_and_the_ward_family_separately(fs: FindingSet) -> None:
    """The 15 area indicators (all crime, ASB, 13 types) are adjusted together; the ward ones among themselves."""
    area_family = [
        f for f in fs.findings if f.id.endswith(".count") and ".ward." not in f.id and f.topic in ("crime", "asb")
    ]
    assert len(area_family) == 15
    ward_family = [f for f in fs.findings if ".ward." in f.id and f.topic in ("crime", "asb")]
    assert len(ward_family) == 15 * len(fs.area.ward_names)
    for family in (area_family, ward_family):
        raw = [f.change.p_value for f in family if f.change is not None]
        assert len(raw) == len(family)
        expected = multipletests(raw, method="fdr_bh")[1]
        for finding, p_adj in zip(family, expected, strict=True):
            assert finding.change is not None
            assert finding.change.p_adjusted == pytest.approx(p_adj, rel=1e-9, abs=1e-300)
            assert finding.change.significant == (p_adj < 0.05)
    # Figures worth quoting: bicycle theft 172 v 131 was "significant" (adjusted p 0.046) under a pure Poisson
    # test; its monthly counts vary three times as much as Poisson counts would, so it is not a change.
    bikes = fs.require("crime.bicycle_theft.count").change
    assert bikes is not None and not bikes.significant and bikes.method == "quasi-Poisson GLM"
    assert bikes.dispersion is not None and 2.5 < bikes.dispersion < 3.5
    assert bikes.ci_low is not None and bikes.ci_low < 1


def test_coverage_counts_rows_outside_the_area_and_without_location(fs: FindingSet, indep: Independent) -> None:
    """38,922 rows fell in LSOAs outside Central Bedfordshire and 2,328 had no location in the period."""
    outside = sum(indep.outside[m] for m in CURRENT)
    no_location = sum(indep.no_location[m] for m in CURRENT)
    assert (outside, no_location) == (38_922, 2_328)
    for fid in ("crime.all.count", "asb.count", "crime.burglary.count", "crime.harm.total"):
        coverage = fs.require(fid).coverage
        assert (coverage.rows_outside_area, coverage.rows_without_location) == (outside, no_location), fid
        assert coverage.months == CURRENT
    quality = fs.require("quality.police.coverage")
    placed = indep.total(CURRENT)
    assert quality.extra == {"placed": placed, "outside_area": outside, "without_location": no_location}
    assert quality.value == pytest.approx(no_location / (placed + outside + no_location))
    assert f"{outside:,} rows in the period fell in LSOAs outside the area" in fs.require("asb.count").definition


def test_rates_per_thousand_use_the_mid_2024_population(fs: FindingSet, indep: Independent) -> None:
    """Rates per 1,000 residents of 315,877 (ONS mid-2024): all crime 49.6, ASB 12.7, burglary 2.6."""
    assert fs.area.total_population() == indep.population == 315_877
    assert fs.area.population_year == "2024"
    for fid, count in (("crime.all.count", 15_680), ("asb.count", 4_015), ("crime.burglary.count", 835)):
        finding = fs.require(fid)
        assert finding.rate == pytest.approx(count / 315_877 * 1000, rel=1e-12)
        assert finding.rate_per == 1000 and finding.denominator == 315_877
    assert "That is 49.6 per 1,000 residents." in fs.require("crime.all.count").sentence


def test_harm_total_weights_the_independent_counts(fs: FindingSet, indep: Independent) -> None:
    """crime.harm.total = sum of count x approximate CCHI day weight per type, labelled approximate."""
    harm = get_harm_index("cchi_approx")
    finding = fs.require("crime.harm.total")
    expected = sum(indep.total(CURRENT, {t}) * (harm.weight(t) or 0) for t in indep.crimes())
    assert finding.value == pytest.approx(expected)
    assert finding.baseline == pytest.approx(
        sum(indep.total(PREVIOUS, {t}) * (harm.weight(t) or 0) for t in indep.crimes())
    )
    assert finding.extra["approximate"] is True and "pproximate" in finding.definition
    assert finding.change is not None and finding.change.p_value is None and finding.change.direction == "none"


def _top_decile(counts: dict[str, int]) -> set[str]:
    """LSOAs at or above the count of the ceil(10%)-th busiest, and above zero (ties at the cut-off all count)."""
    cutoff = sorted(counts.values(), reverse=True)[math.ceil(0.1 * len(counts)) - 1]
    return {code for code, n in counts.items() if n >= cutoff and n > 0}


def test_asb_hotspots_concentration_persistent_and_emerging_by_hand(fs: FindingSet, indep: Independent) -> None:
    """Top 18 of 175 LSOAs hold 1,292 of 4,015 ASB incidents (32%); persistent = top decile in both years;
    emerging = one-sided exact test per LSOA (5 or more incidents), BH-adjusted, as in the definition."""
    finding = fs.require("asb.hotspots")
    current = indep.lsoa_totals(CURRENT, {ASB})
    previous = indep.lsoa_totals(PREVIOUS, {ASB})
    assert len(current) == 175
    assert finding.extra["lsoa_counts"] == {k: float(v) for k, v in current.items()}
    top = sorted(current.values(), reverse=True)[:18]
    assert sum(top) == 1_292
    assert finding.value == pytest.approx(1_292 / 4_015)
    assert finding.extra["concentration"]["n_top_areas"] == 18
    persistent = {p["lsoa"] for p in finding.extra["persistent"]}
    assert persistent == _top_decile(current) & _top_decile(previous)
    assert len(persistent) == 14
    tested = [code for code in sorted(current) if current[code] + previous[code] >= 5]
    raw = [binomtest(current[c], current[c] + previous[c], 0.5, alternative="greater").pvalue for c in tested]
    adjusted = multipletests(raw, method="fdr_bh")[1]
    poisson = {c for c, p in zip(tested, adjusted, strict=True) if p < 0.05 and current[c] > previous[c]}
    assert len(poisson) == 5  # what a pure-Poisson test would call emerging
    # LSOA counts drift from year to year more than Poisson allows: the test is beta-binomial with the rho estimated
    # across the LSOAs, close to the plain moment estimate over all of them
    rho = finding.extra["emerging_overdispersion"]
    x = np.array([current[c] for c in tested], dtype=float)
    n = x + np.array([previous[c] for c in tested], dtype=float)
    share = x.sum() / n.sum()
    moments = ((x - n * share) ** 2 - n * share * (1 - share)).sum() / (n * (n - 1) * share * (1 - share)).sum()
    assert rho == pytest.approx(moments, abs=0.01) and 0.02 < rho < 0.05
    a = 0.5 * (1 - rho) / rho
    raw = [float(betabinom(int(m), a, a).sf(k - 1)) for k, m in zip(x, n, strict=True)]
    adjusted = multipletests(raw, method="fdr_bh")[1]
    expected = {c for c, p in zip(tested, adjusted, strict=True) if p < 0.05 and current[c] > previous[c]}
    assert {e["area"] for e in finding.extra["emerging"]} == expected
    assert expected < poisson


def test_financial_year_with_a_missing_april_is_restricted_to_may_to_march(
    fs_fy: FindingSet, indep: Independent
) -> None:
    """2022-23: April 2022 is loaded but April 2021 is not, so both years use May-March (11 months) and say so."""
    months = month_range("2022-05", "2023-03")
    before = month_range("2021-05", "2022-03")
    assert fs_fy.period.label == "2022-23"
    assert fs_fy.comparison.current_months == months and fs_fy.comparison.baseline_months == [before]
    assert fs_fy.comparison.restricted and not fs_fy.comparison.complete
    assert "using only the 11 of 12 months" in fs_fy.comparison.note
    assert "May 2022 to March 2023" in fs_fy.comparison.note
    assert fs_fy.comparison.note in fs_fy.notes
    crime = fs_fy.require("crime.all.count")
    assert crime.value == indep.total(months, indep.crimes()) == 14_430
    assert crime.baseline == indep.total(before, indep.crimes()) == 12_930
    assert fs_fy.comparison.note in crime.definition
    assert not crime.coverage.complete and crime.coverage.months == months
    assert "Both figures cover only 11 of the 12 months (May 2022 to March 2023" in crime.sentence
    assert crime.change is not None
    # 22 months (fewer than 24): over-dispersion is estimated without month-of-year terms
    beta, se, _phi, df = _quasi_poisson(indep, indep.crimes(), before, months, season=False)
    assert df == 20 and crime.change.method == "quasi-Poisson GLM" and "without month-of-year" in crime.change.test
    assert crime.change.p_value == pytest.approx(2 * t_dist.sf(abs(beta / se), df), rel=1e-6)


# --- hand-made counts through crime_findings --------------------------------------------------------------------

HAND_MONTHS = month_range("2020-04", "2024-03")
YEARS = [month_range(f"{y}-04", f"{y + 1}-03") for y in (2020, 2021, 2022, 2023)]


def _hand_counts() -> tuple[PoliceCounts, AreaContext]:
    """Four LSOAs in two wards, four financial years; L1's ASB triples in the last year."""
    area = AreaContext(
        codes=[AREA],
        name="Testshire",
        lsoa_ward={
            "E01000001": "E05000001",
            "E01000002": "E05000001",
            "E01000003": "E05000002",
            "E01000004": "E05000002",
        },
        ward_names={"E05000001": "North", "E05000002": "South"},
        lsoa_names={f"E0100000{i}": f"Testshire 00{i}A" for i in range(1, 5)},
        population={"E01000001": 1000.0, "E01000002": 1500.0, "E01000003": 2000.0, "E01000004": 500.0},
    )
    yearly: dict[tuple[str, str], list[int]] = {  # (crime type, LSOA) -> events in each of the four years
        (ASB, "E01000001"): [10, 10, 10, 30],
        (ASB, "E01000002"): [10, 10, 10, 10],
        (ASB, "E01000003"): [10, 10, 10, 10],
        (ASB, "E01000004"): [10, 10, 10, 10],
        ("Burglary", "E01000002"): [4, 4, 4, 4],
        ("Shoplifting", "E01000003"): [6, 6, 6, 3],
    }
    by_lsoa: dict[tuple[str, str, str], int] = {}
    for (crime_type, lsoa), per_year in yearly.items():
        for months, total in zip(YEARS, per_year, strict=True):
            for i in range(total):  # spread over the months, first months first
                key = (months[i % 12], crime_type, lsoa)
                by_lsoa[key] = by_lsoa.get(key, 0) + 1
    by_ward: dict[tuple[str, str, str], int] = {}
    for (m, t, lsoa), n in by_lsoa.items():
        key = (m, t, area.lsoa_ward[lsoa])
        by_ward[key] = by_ward.get(key, 0) + n
    counts = PoliceCounts(
        by_ward=by_ward,
        by_lsoa=by_lsoa,
        months=HAND_MONTHS,
        outside_area={m: 1 for m in HAND_MONTHS},
        without_location={m: 2 for m in HAND_MONTHS},
        agencies=["test-police"],
    )
    return counts, area


@pytest.fixture(scope="module")
def hand_mean_of_3() -> dict[str, Finding]:
    counts, area = _hand_counts()
    comparison = plan_comparison(parse_period("2023-24"), HAND_MONTHS, "mean_of_3")
    ctx = FindingContext(comparison=comparison, area_code=AREA, area_name=area.name)
    con = duckdb.connect()  # not read: the counts are given
    try:
        findings = crime_findings(con, area, ctx, get_harm_index("cchi_approx"), counts=counts, forecast=False)
    finally:
        con.close()
    return {f.id: f for f in findings}


def test_hand_made_mean_of_three_counts_tests_and_rates(hand_mean_of_3: dict[str, Finding]) -> None:
    """ASB 60 against a mean of 40 (mid-p of 60 of 180 at 1/4); all crime 7 against a mean of 10."""
    f = hand_mean_of_3
    asb = f["asb.count"]
    assert (asb.value, asb.baseline) == (60, 40)
    assert asb.change is not None
    assert asb.change.method == "exact conditional (mid-p)"
    assert asb.change.p_value == pytest.approx(_midp(60, 180, 0.25), rel=1e-12)
    assert asb.change.rate_ratio == pytest.approx(1.5)
    assert asb.rate == pytest.approx(60 / 5000 * 1000)
    crime = f["crime.all.count"]
    assert (crime.value, crime.baseline) == (7, 10)
    assert crime.change is not None
    # 37 crimes bunched in a few of 48 months: over-dispersed, so quasi-Poisson, less certain than the exact test
    assert crime.change.method == "quasi-Poisson GLM" and (crime.change.dispersion or 0) > 1
    assert crime.change.p_value is not None and crime.change.p_value > _midp(7, 37, 0.25)
    north = f["asb.ward.E05000001.count"]
    assert (north.value, north.baseline) == (40, 20)
    assert north.rate == pytest.approx(40 / 2500 * 1000)
    assert f["crime.shoplifting.count"].value == 3 and f["crime.shoplifting.count"].baseline == 6
    assert "crime.bicycle_theft.count" not in f  # only types present in the data get findings
    harm = f["crime.harm.total"]
    assert harm.value == 4 * 222.0 + 3 * 1.0 and harm.baseline == 4 * 222.0 + 6 * 1.0
    coverage = f["quality.police.coverage"]
    assert coverage.extra == {"placed": 67, "outside_area": 12, "without_location": 24}
    assert harm.coverage.rows_outside_area == 12 and harm.coverage.rows_without_location == 24


def test_hand_made_emerging_hotspot_against_the_mean_of_three_years(hand_mean_of_3: dict[str, Finding]) -> None:
    """L1 went from 10 a year to 30: against three baseline years (30 events, exposure 1:3) it is emerging, with
    rate ratio 3 and p from binomtest(30, 60, 1/4, 'greater'); the steady LSOAs are not."""
    hot = hand_mean_of_3["asb.hotspots"]
    emerging = hot.extra["emerging"]
    assert [e["area"] for e in emerging] == ["E01000001"]
    (e,) = emerging
    assert (e["current"], e["baseline"]) == (30, 30)
    assert e["rate_ratio"] == pytest.approx(3.0)
    assert e["p_value"] == pytest.approx(binomtest(30, 60, 0.25, alternative="greater").pvalue, rel=1e-12)
    assert hot.emerging
    assert hot.value == pytest.approx(0.5)  # top 10% of 4 LSOAs = 1 LSOA: 30 of 60


# --- planted signals from the synthetic generator ----------------------------------------------------------------

STREET_HEADER = [
    "Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude", "Location",
    "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context",
]  # fmt: skip


def _write_police_files(rows: list[dict[str, str]], folder: Path) -> None:
    """Synthetic police ASB rows as data.police.uk monthly street files (YYYY-MM/YYYY-MM-<force>-street.csv)."""
    names = {code: name for code, (_, _, name) in _lookup().items()}
    by_month: dict[str, list[list[str]]] = {}
    for r in rows:
        month = r["reported_at"][:7]
        lsoa = r["lsoa_code"]
        force = "Bedfordshire Police"
        place = [r["longitude"], r["latitude"], "On or near Test Street", lsoa, names.get(lsoa, "")]
        by_month.setdefault(month, []).append(["", month, force, force, *place, ASB, "", ""])
    for month, out in by_month.items():
        target = folder / month / f"{month}-bedfordshire-street.csv"
        target.parent.mkdir(parents=True, exist_ok=True)
        with target.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(STREET_HEADER)
            writer.writerows(out)


@dataclass
class Planted:
    truth: dict[str, Any]
    fs: FindingSet
    fs_thinned: FindingSet
    kept_previous: int
    hotspot_kept_previous: int


def _ingest_and_compute(template: Path, root: Path, police: Path) -> FindingSet:
    shutil.copytree(template, root)
    ws = Workspace(root)
    con = ws.connect()
    try:
        report = ingest_paths(con, [police], key=ws.key())
        assert report.ok, report.errors
        return compute_findings(con, ws.config(), **FAST, builders=TOPIC_BUILDERS)  # type: ignore[arg-type]
    finally:
        con.close()


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory, _blank_workspace_template: Path) -> Planted:
    base = tmp_path_factory.mktemp("planted")
    summary = generate(base / "synth", seed=1, years=2)
    truth = json.loads(summary.truth_path.read_text(encoding="utf-8"))
    with (base / "synth" / "asb_incidents_police.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert all(r["lsoa_code"] for r in rows)
    _write_police_files(rows, base / "police")
    # Thinned: every 4th incident of the previous year dropped, so ASB as a whole rises by about a third.
    previous = [r for r in rows if r["reported_at"][:7] < "2022-05"]
    kept = [r for i, r in enumerate(previous) if i % 4 != 3]
    _write_police_files(kept + [r for r in rows if r["reported_at"][:7] >= "2022-05"], base / "thinned")
    hotspot = truth["planted"]["asb_hotspot"]["lsoa_code"]
    return Planted(
        truth=truth,
        fs=_ingest_and_compute(_blank_workspace_template, base / "ws1", base / "police"),
        fs_thinned=_ingest_and_compute(_blank_workspace_template, base / "ws2", base / "thinned"),
        kept_previous=len(kept),
        hotspot_kept_previous=sum(r["lsoa_code"] == hotspot for r in kept),
    )


def test_planted_asb_hotspot_is_an_emerging_hotspot(planted: Planted) -> None:
    """The generator's hotspot LSOA (3x its rate in the assessment year) is listed as emerging, with the true counts."""
    hotspot = planted.truth["planted"]["asb_hotspot"]
    finding = planted.fs.require("asb.hotspots")
    emerging = {e["area"]: e for e in finding.extra["emerging"]}
    assert hotspot["lsoa_code"] in emerging
    entry = emerging[hotspot["lsoa_code"]]
    assert entry["current"] == hotspot["incidents"]["police"]["assessment"]
    assert entry["baseline"] == hotspot["incidents"]["police"]["previous"]
    # the synthetic police-like counts drift little from year to year, so rho is small but estimated, not assumed 0
    rho = finding.extra["emerging_overdispersion"]
    assert entry["overdispersion"] == rho
    a = 0.5 * (1 - rho) / rho if rho > 0 else None
    k, n = int(entry["current"]), int(entry["current"] + entry["baseline"])
    expected = (
        float(betabinom(n, a, a).sf(k - 1)) if a is not None else binomtest(k, n, 0.5, alternative="greater").pvalue
    )
    assert entry["p_value"] == pytest.approx(expected)
    assert finding.emerging
    # It is the strongest signal: first in the list (smallest adjusted p-value).
    assert finding.extra["emerging"][0]["area"] == hotspot["lsoa_code"]
    # The hotspot's ward count rises too.
    ward = planted.fs.require(f"asb.ward.{hotspot['ward_code']}.count")
    assert ward.value is not None and ward.baseline is not None and ward.value > ward.baseline


def test_synthetic_asb_count_equals_truth_and_small_rise_is_judged_honestly(planted: Planted) -> None:
    """asb.count equals the generator's police incidents per year; the ~4% rise is tested by the stated rule."""
    police = planted.truth["asb"]["police"]["incidents"]
    asb = planted.fs.require("asb.count")
    assert (asb.value, asb.baseline) == (police["assessment"], police["previous"])
    assert asb.change is not None
    if asb.change.method == "exact conditional (mid-p)":  # the synthetic months vary as Poisson counts do
        assert asb.change.dispersion is not None and asb.change.dispersion <= 1
        p = _midp(police["assessment"], police["assessment"] + police["previous"], 0.5)
        assert asb.change.p_value == pytest.approx(p, rel=1e-9)
    else:
        assert asb.change.dispersion is not None and asb.change.dispersion > 1
    assert asb.change.significant == ((asb.change.p_adjusted or 1) < 0.05)


def test_large_planted_rise_in_asb_is_significant_and_up(planted: Planted) -> None:
    """With a quarter of the previous year's incidents removed, asb.count rises by about a third: flagged up."""
    police = planted.truth["asb"]["police"]["incidents"]
    asb = planted.fs_thinned.require("asb.count")
    assert (asb.value, asb.baseline) == (police["assessment"], planted.kept_previous)
    assert asb.change is not None
    assert asb.change.significant and asb.change.direction == "up"
    assert asb.change.p_value is not None and asb.change.p_value < 1e-6
    assert asb.emerging
    assert asb.sentence.startswith("Police-recorded ASB rose significantly")
    hotspot = planted.truth["planted"]["asb_hotspot"]["lsoa_code"]
    emerging = {e["area"]: e for e in planted.fs_thinned.require("asb.hotspots").extra["emerging"]}
    assert emerging[hotspot]["baseline"] == planted.hotspot_kept_previous


def test_a_significant_change_names_the_wards_and_types_that_moved_most(fs: FindingSet) -> None:
    """The contributions partition the change: ward moves (and crime-type moves) add up to the area's move."""
    allc = fs.require("crime.all.count")
    assert allc.change is not None and allc.change.significant and allc.value is not None
    assert allc.baseline is not None
    wards = allc.extra["contributions_by_ward"]
    assert len(wards) == 31
    assert sum(w["difference"] for w in wards) == pytest.approx(allc.value - allc.baseline)
    types = allc.extra["contributions_by_crime_type"]
    assert sum(t["difference"] for t in types) == pytest.approx(allc.value - allc.baseline)
    top = max(types, key=lambda t: t["difference"])
    assert top["name"] == "Violence and sexual offences" and top["difference"] == 5957 - 5294
    assert "The wards that moved most: " in allc.sentence and "violence and sexual offences (+663)" in allc.sentence
    burglary = fs.require("crime.burglary.count")  # not significant: no contributions claimed
    assert "contributions_by_ward" not in burglary.extra


def test_rates_carry_units_and_exact_intervals_and_wards_sit_on_a_funnel(fs: FindingSet, indep: Independent) -> None:
    """Burglary is per 1,000 households at area level (never mixed with per-resident rates); every rate has its
    Garwood interval; ward rates are judged against the area rate per resident with 95%/99.8% limits."""
    burglary = fs.require("crime.burglary.count")
    words = "households" if fs.area.total_households() else "residents"  # per household only when loaded
    assert burglary.rate_unit == f"per 1,000 {words}"
    assert fs.require("crime.robbery.count").rate_unit == "per 1,000 residents"
    assert burglary.rate_low is not None and burglary.rate_high is not None and burglary.denominator
    low = stats_chi2.ppf(0.025, 2 * 835) / 2 / burglary.denominator * 1000
    assert burglary.rate_low == pytest.approx(low, rel=1e-9) and burglary.rate_low < (burglary.rate or 0)
    data = burglary.extra["funnel"]
    assert data["unit"] == "per 1,000 residents" and len(data["points"]) == len(fs.area.ward_names)
    assert data["area_rate"] == pytest.approx(835 / indep.population * 1000, rel=1e-9)
    zs = [p["z"] for p in data["points"]]
    assert zs == sorted(zs, reverse=True)
    top = data["points"][0]
    ward = fs.require(f"crime.burglary.ward.{top['area']}.count")
    assert ward.extra["funnel"]["position"] == top["position"]
    assert ward.rate_unit == "per 1,000 residents" and ward.rate_low is not None

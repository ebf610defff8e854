"""Calibration of the change tests on series shaped like real police data (used by the tests and ``make bench``).

A test that is checked only on data drawn from its own assumptions proves little. Here monthly counts are drawn
as **negative binomial** (Poisson counts whose monthly mean is multiplied by a gamma factor with coefficient of
variation ``cv``) with a **seasonal** pattern, at the volumes and over-dispersion measured on the bundled
Bedfordshire series (Central Bedfordshire, May 2021 to April 2023, quasi-Poisson fit with month-of-year terms;
``cv = sqrt((φ - 1) / mean)``):

* area family: all crime, ASB and 13 crime types, with each one's measured monthly mean and ``cv``;
* ward family: every crime type in every ward, the area mean shared out across wards (log-normal shares), with
  the ``cv`` measured on ward series of that volume.

Each family goes through :func:`~cspkit.findings.indicators.build_count_findings` exactly as topics use it (one
Benjamini-Hochberg adjustment per family). Under the null nothing changes between the two years; for power, some
indicators are multiplied by 1.25 or 1.5 in the second year. The same series are also judged by the old exact
Poisson test of the two totals, to show what ignoring over-dispersion does. Power is counted at realistic
volumes: area indicators of 25 or more a month and ward series of 10 or more a month.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cspkit.findings.indicators import CountSeries, FindingContext, build_count_findings
from cspkit.findings.periods import month_range, parse_period, plan_comparison
from cspkit.findings.stats import benjamini_hochberg, poisson_exact_test

__all__ = [
    "AREA_SERIES",
    "HOTSPOT_SERIES",
    "WARD_CV_BY_VOLUME",
    "Calibration",
    "HotspotCalibration",
    "calibrate",
    "calibrate_hotspots",
]

#: (indicator, monthly mean, cv of the monthly gamma factor), measured on the bundled Bedfordshire series.
AREA_SERIES: tuple[tuple[str, float, float], ...] = (
    ("all crime", 1241.8, 0.069),
    ("ASB", 374.9, 0.075),
    ("violence and sexual offences", 468.8, 0.089),
    ("vehicle crime", 140.6, 0.139),
    ("other theft", 135.8, 0.136),
    ("public order", 130.6, 0.139),
    ("criminal damage and arson", 124.0, 0.0),
    ("shoplifting", 85.4, 0.151),
    ("burglary", 69.4, 0.222),
    ("drugs", 25.2, 0.177),
    ("other crime", 24.7, 0.215),
    ("bicycle theft", 12.6, 0.407),
    ("robbery", 10.9, 0.415),
    ("theft from the person", 6.9, 0.228),
    ("possession of weapons", 6.8, 0.194),
)

#: (upper bound of the monthly mean, cv) for ward series, the median measured on the 386 Bedfordshire ward
#: series of each volume band (below one a month over-dispersion cannot be told from Poisson; 0.25 is assumed).
WARD_CV_BY_VOLUME: tuple[tuple[float, float], ...] = ((1, 0.25), (3, 0.39), (10, 0.26), (30, 0.20), (math.inf, 0.17))

_MONTHS = month_range("2021-04", "2023-03")


@dataclass
class Calibration:
    """What the simulation found, per family kind (``area``, ``ward``).

    Attributes:
        seeds: Seeds run.
        null_indicators: Null indicators judged, per family kind.
        false_flags: Null indicators flagged significant after BH, per family kind.
        families: Families run, per family kind.
        families_with_false_flag: Families with at least one null indicator flagged.
        raw_rejections: Null indicators with raw p < alpha (calibration of the single test).
        old_false_flags: The same null series flagged by the exact Poisson test of the totals after BH.
        old_raw_rejections: ... and with its raw p < alpha.
        planted: (family kind, rise) -> indicators planted with that rise.
        found: (family kind, rise) -> of those, flagged up.
        planted_flags: Flags on null indicators in families that also hold planted rises (false discoveries).
        all_flags: All flags in those families.
    """

    seeds: list[int]
    null_indicators: dict[str, int] = field(default_factory=dict)
    false_flags: dict[str, int] = field(default_factory=dict)
    families: dict[str, int] = field(default_factory=dict)
    families_with_false_flag: dict[str, int] = field(default_factory=dict)
    raw_rejections: dict[str, int] = field(default_factory=dict)
    old_false_flags: dict[str, int] = field(default_factory=dict)
    old_raw_rejections: dict[str, int] = field(default_factory=dict)
    planted: dict[tuple[str, float], int] = field(default_factory=dict)
    found: dict[tuple[str, float], int] = field(default_factory=dict)
    planted_false_flags: dict[str, int] = field(default_factory=dict)
    planted_all_flags: dict[str, int] = field(default_factory=dict)

    def share(self, numerator: dict[str, int], denominator: dict[str, int], kind: str) -> float:
        return numerator.get(kind, 0) / denominator[kind] if denominator.get(kind) else math.nan

    def power(self, kind: str, rise: float) -> float:
        n = self.planted.get((kind, rise), 0)
        return self.found.get((kind, rise), 0) / n if n else math.nan

    def table(self) -> list[str]:
        """The results as lines of text (for ``make bench``)."""
        lines = [f"Null simulation: negative-binomial seasonal series, seeds {self.seeds[0]}..{self.seeds[-1]}"]
        for kind in sorted(self.families):
            lines.append(
                f"  {kind:5s} families: {self.families[kind]}, null indicators {self.null_indicators[kind]:,}; "
                f"flagged after BH {self.share(self.false_flags, self.null_indicators, kind):.2%} "
                f"(old exact Poisson test {self.share(self.old_false_flags, self.null_indicators, kind):.2%}); "
                f"families with any false flag {self.share(self.families_with_false_flag, self.families, kind):.1%}; "
                f"raw p<0.05 {self.share(self.raw_rejections, self.null_indicators, kind):.1%} "
                f"(old {self.share(self.old_raw_rejections, self.null_indicators, kind):.1%})"
            )
        for (kind, rise), n in sorted(self.planted.items()):
            lines.append(f"  power {kind:5s} +{(rise - 1) * 100:.0f}%: {self.power(kind, rise):.0%} of {n} found")
        for kind in sorted(self.planted_all_flags):
            flags = self.planted_all_flags[kind]
            false = self.planted_false_flags.get(kind, 0)
            lines.append(
                f"  {kind:5s} families with planted rises: {flags} flags, {false} false ({false / max(flags, 1):.1%})"
            )
        return lines


def _series(
    rng: np.random.Generator, kind: str, means: list[float], cvs: list[float], rises: dict[int, float]
) -> list[CountSeries]:
    family = []
    for i, (mean, cv) in enumerate(zip(means, cvs, strict=True)):
        phase = rng.uniform(0, 2 * np.pi)
        amplitude = rng.uniform(0.1, 0.3)
        season = 1 + amplitude * np.sin(2 * np.pi * np.arange(len(_MONTHS)) / 12 + phase)
        mu = mean * season
        mu[12:] *= rises.get(i, 1.0)
        if cv > 0:
            mu = mu * rng.gamma(1 / cv**2, cv**2, size=len(mu))
        counts = rng.poisson(mu)
        family.append(
            CountSeries(
                id=f"{kind}.{i}.count",
                topic="crime",
                title=f"{kind} {i}",
                subject=f"{kind} {i}",
                monthly={m: float(c) for m, c in zip(_MONTHS, counts, strict=True)},
                definition="simulated negative-binomial seasonal counts",
                sources=["simulation"],
                control_chart=False,
            )
        )
    return family


def _ward_family(rng: np.random.Generator, n_wards: int) -> tuple[list[float], list[float]]:
    shares = rng.lognormal(0, 0.5, size=n_wards)
    shares /= shares.sum()
    means, cvs = [], []
    for _, area_mean, _ in AREA_SERIES:
        for share in shares:
            mean = area_mean * share
            means.append(mean)
            cvs.append(next(cv for upper, cv in WARD_CV_BY_VOLUME if mean < upper))
    return means, cvs


def calibrate(
    seeds: range | list[int],
    n_wards: int = 31,
    rises: tuple[float, ...] = (1.25, 1.5),
    planted_share: float = 0.2,
    alpha: float = 0.05,
    wards: bool = True,
) -> Calibration:
    """Run the null and planted simulations over ``seeds``.

    Args:
        seeds: Random seeds; each gives one null area family, one null ward family and one of each with rises.
        n_wards: Wards in the ward family (31 in Central Bedfordshire).
        rises: Rises planted (multipliers of the second year's mean).
        planted_share: Share of indicators given a rise in the planted families (split evenly among ``rises``).
        alpha: Significance level after adjustment.
        wards: Also simulate ward families (slower: n_wards x 15 series each).
    """
    comparison = plan_comparison(parse_period("2022-23"), _MONTHS, "previous")
    ctx = FindingContext(comparison=comparison, area_code="E0", area_name="simulated", alpha=alpha)
    result = Calibration(seeds=list(seeds))
    for seed in seeds:
        rng = np.random.default_rng(seed)
        kinds: list[tuple[str, list[float], list[float]]] = [
            ("area", [m for _, m, _ in AREA_SERIES], [cv for _, _, cv in AREA_SERIES])
        ]
        if wards:
            kinds.append(("ward", *_ward_family(rng, n_wards)))
        for kind, means, cvs in kinds:
            _null_family(result, ctx, rng, kind, means, cvs, alpha)
            _planted_family(result, ctx, rng, kind, means, cvs, rises, planted_share, alpha)
    return result


def _add(counter: dict[str, int], kind: str, n: int) -> None:
    counter[kind] = counter.get(kind, 0) + n


def _null_family(
    result: Calibration,
    ctx: FindingContext,
    rng: np.random.Generator,
    kind: str,
    means: list[float],
    cvs: list[float],
    alpha: float,
) -> None:
    family = _series(rng, kind, means, cvs, {})
    findings = build_count_findings(family, ctx)
    flags = sum(bool(f.change and f.change.significant) for f in findings)
    raw = sum(bool(f.change and f.change.p_value is not None and f.change.p_value < alpha) for f in findings)
    _add(result.null_indicators, kind, len(findings))
    _add(result.false_flags, kind, flags)
    _add(result.families, kind, 1)
    _add(result.families_with_false_flag, kind, int(flags > 0))
    _add(result.raw_rejections, kind, raw)
    # the old test: exact Poisson on the two yearly totals
    old = []
    for series in family:
        before = sum(series.monthly[m] for m in ctx.comparison.baseline_months[0])
        after = sum(series.monthly[m] for m in ctx.comparison.current_months)
        old.append(poisson_exact_test(before, 1, after, 1))
    adjusted = benjamini_hochberg(old)
    _add(result.old_false_flags, kind, sum(p is not None and p < alpha for p in adjusted))
    _add(result.old_raw_rejections, kind, sum(p < alpha for p in old))


def _planted_family(
    result: Calibration,
    ctx: FindingContext,
    rng: np.random.Generator,
    kind: str,
    means: list[float],
    cvs: list[float],
    rises: tuple[float, ...],
    planted_share: float,
    alpha: float,
) -> None:
    n_planted = max(len(rises), round(planted_share * len(means)))
    chosen = rng.choice(len(means), size=n_planted, replace=False)
    planted = {int(i): rises[k % len(rises)] for k, i in enumerate(chosen)}
    findings = build_count_findings(_series(rng, kind, means, cvs, planted), ctx)
    for i, finding in enumerate(findings):
        change = finding.change
        flagged = bool(change and change.significant)
        if i in planted:
            # power at realistic volumes: area indicators of 25 or more a month, ward series of 10 or more
            if means[i] >= (25 if kind == "area" else 10):
                key = (kind, planted[i])
                result.planted[key] = result.planted.get(key, 0) + 1
                result.found[key] = result.found.get(key, 0) + int(
                    flagged and change is not None and change.direction == "up"
                )
        elif flagged:
            _add(result.planted_false_flags, kind, 1)
        if flagged:
            _add(result.planted_all_flags, kind, 1)
    result.planted_all_flags.setdefault(kind, 0)


# --- LSOA emerging hotspots -----------------------------------------------------------------------------------

#: (crime type, yearly mean per LSOA, cv of an LSOA's yearly gamma factor, lognormal sigma of LSOA volumes), measured
#: on the 175 Central Bedfordshire LSOAs, May 2021 to April 2023 (cv from the beta-binomial rho of the two years:
#: ``cv = sqrt(2 rho / (1 - rho))``; sigma from the spread of LSOA totals net of Poisson noise).
HOTSPOT_SERIES: tuple[tuple[str, float, float, float], ...] = (
    ("violence and sexual offences", 32.1, 0.155, 0.66),
    ("ASB", 25.7, 0.257, 0.71),
    ("vehicle crime", 9.6, 0.344, 0.84),
    ("other theft", 9.1, 0.210, 1.29),
    ("public order", 8.8, 0.221, 0.72),
    ("criminal damage and arson", 8.4, 0.273, 0.68),
    ("shoplifting", 5.7, 0.462, 1.51),
    ("burglary", 4.4, 0.303, 0.63),
    ("drugs", 1.0, 0.394, 0.8),
    ("other crime", 0.9, 0.395, 0.8),
)


@dataclass
class HotspotCalibration:
    """The LSOA emerging-hotspot test on simulated LSOA counts, with and without over-dispersion.

    Attributes:
        seeds: Seeds run.
        families: Crime-type families run (one BH family each, as in the findings).
        tested: LSOAs tested in null families.
        flagged / old_flagged: Of those, flagged by the over-dispersion-aware test / the pure-Poisson test.
        families_flagged / old_families_flagged: Null families with any flag.
        planted / found / old_found: by rise, LSOAs given that rise at 20 or more a year in the planted families,
            and of those flagged by each test.
        rho: The estimated rho of every null family (to compare with the truth).
    """

    seeds: list[int]
    families: int = 0
    tested: int = 0
    flagged: int = 0
    old_flagged: int = 0
    families_flagged: int = 0
    old_families_flagged: int = 0
    planted: dict[float, int] = field(default_factory=dict)
    found: dict[float, int] = field(default_factory=dict)
    old_found: dict[float, int] = field(default_factory=dict)
    rho: list[float] = field(default_factory=list)

    def power(self, rise: float, old: bool = False) -> float:
        n = self.planted.get(rise, 0)
        return (self.old_found if old else self.found).get(rise, 0) / n if n else math.nan

    def table(self) -> list[str]:
        """The results as lines of text (for ``make bench``)."""
        return [
            f"LSOA emerging hotspots: negative-binomial LSOA counts, seeds {self.seeds[0]}..{self.seeds[-1]}, "
            f"{self.families} null crime-type families, {self.tested:,} LSOA tests",
            f"  flagged {self.flagged / max(self.tested, 1):.2%} of LSOAs, families with any false flag "
            f"{self.families_flagged / max(self.families, 1):.1%} (pure-Poisson test: "
            f"{self.old_flagged / max(self.tested, 1):.2%}, {self.old_families_flagged / max(self.families, 1):.1%})",
            *(
                f"  power, LSOA x{rise:g} at 20+ a year: {self.power(rise):.0%} of {n} "
                f"(pure-Poisson {self.power(rise, old=True):.0%})"
                for rise, n in sorted(self.planted.items())
            ),
        ]


def _lsoa_counts(
    rng: Any, n_lsoas: int, mean: float, cv: float, sigma: float, rises: dict[int, float]
) -> tuple[dict[str, float], dict[str, float]]:
    shares = rng.lognormal(0, sigma, size=n_lsoas)
    mu = mean * n_lsoas * shares / shares.sum()
    years = []
    for year in range(2):
        drift = rng.gamma(1 / cv**2, cv**2, size=n_lsoas) if cv > 0 else np.ones(n_lsoas)
        lam = mu * drift
        if year == 1:
            lam = lam * np.array([rises.get(i, 1.0) for i in range(n_lsoas)])
        years.append(rng.poisson(lam))
    codes = [f"L{i:03d}" for i in range(n_lsoas)]
    return (
        {c: float(v) for c, v in zip(codes, years[1], strict=True)},
        {c: float(v) for c, v in zip(codes, years[0], strict=True)},
    )


def calibrate_hotspots(
    seeds: range | list[int], n_lsoas: int = 175, alpha: float = 0.05, rises: tuple[float, ...] = (2.0, 3.0)
) -> HotspotCalibration:
    """Null and planted simulations of the LSOA emerging-hotspot test (one family per crime type and seed).

    Under the null each LSOA's yearly mean drifts by an independent gamma factor with the measured cv (no real
    change anywhere); in the planted families one LSOA in 20 of those with 20 or more a year rises by each of
    ``rises`` in turn.
    """
    from cspkit.findings.hotspots import emerging_hotspots, hotspot_overdispersion

    result = HotspotCalibration(seeds=list(seeds))
    for seed in seeds:
        rng = np.random.default_rng(seed)
        for _, mean, cv, sigma in HOTSPOT_SERIES:
            current, baseline = _lsoa_counts(rng, n_lsoas, mean, cv, sigma, {})
            tested = sum(1 for c in current if current[c] + baseline[c] >= 5)
            new = emerging_hotspots(current, baseline, alpha=alpha)
            old = emerging_hotspots(current, baseline, alpha=alpha, overdispersion=0.0)
            result.families += 1
            result.tested += tested
            result.flagged += len(new)
            result.old_flagged += len(old)
            result.families_flagged += int(bool(new))
            result.old_families_flagged += int(bool(old))
            result.rho.append(hotspot_overdispersion(current, baseline))
            # planted: a rise in one busy LSOA in 20
            for rise in rises:
                shares = rng.lognormal(0, sigma, size=n_lsoas)
                busy = [i for i, s in enumerate(shares / shares.sum() * mean * n_lsoas) if s >= 20]
                if not busy:
                    continue
                chosen = rng.choice(busy, size=max(1, len(busy) // 20), replace=False)
                planted = {int(i): rise for i in chosen}
                current, baseline = _lsoa_counts(_Replay(rng, shares), n_lsoas, mean, cv, sigma, planted)
                codes = {f"L{i:03d}" for i in planted}
                new_codes = {h.area for h in emerging_hotspots(current, baseline, alpha=alpha)}
                old_codes = {h.area for h in emerging_hotspots(current, baseline, alpha=alpha, overdispersion=0.0)}
                result.planted[rise] = result.planted.get(rise, 0) + len(codes)
                result.found[rise] = result.found.get(rise, 0) + len(codes & new_codes)
                result.old_found[rise] = result.old_found.get(rise, 0) + len(codes & old_codes)
    return result


class _Replay:
    """A generator that hands back fixed LSOA shares for the first lognormal draw (so the planted LSOAs are the busy
    ones chosen beforehand) and passes every other draw to the real generator."""

    def __init__(self, rng: np.random.Generator, shares: np.ndarray) -> None:
        self._rng, self._shares = rng, shares

    def lognormal(self, *_args: object, **_kwargs: object) -> np.ndarray:
        return self._shares

    def gamma(self, shape: float, scale: float, size: int) -> np.ndarray:
        return self._rng.gamma(shape, scale, size=size)

    def poisson(self, lam: np.ndarray) -> np.ndarray:
        return self._rng.poisson(lam)

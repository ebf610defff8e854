"""The Finding record: the one currency that topics produce and report, scoring and dashboard read.

A finding is one number for one area and period, with its comparison, its significance test, its control-chart
signal, its coverage and provenance, its definition in words, and one cautious plain-English sentence. Nothing
downstream recomputes a number: it reads findings.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = ["Change", "Coverage", "Finding", "SpcSignal"]

Direction = Literal["up", "down", "none"]
GoodDirection = Literal["up", "down", "none"]


@dataclass(frozen=True)
class Change:
    """A change between a comparison period and the current period, with its test.

    ``direction`` is ``"none"`` unless the change is significant after multiple-comparison adjustment: the
    software never reports noise as an increase or a decrease.
    """

    absolute: float
    percent: float | None
    rate_ratio: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    p_adjusted: float | None
    significant: bool
    direction: Direction
    test: str = ""
    #: Short name of the test: ``quasi-Poisson GLM``, ``exact conditional (mid-p)``, ``two-proportion z`` ...
    method: str = ""
    #: Confidence level of ``ci_low``/``ci_high`` (unadjusted, from the same model as the p-value).
    ci_level: float = 0.95
    #: Interval adjusted for the family's multiplicity (Benjamini-Yekutieli false-coverage-rate, level
    #: ``1 - R·alpha/m`` with R flagged of m tested): it excludes "no change" exactly when the change is
    #: significant after Benjamini-Hochberg, so it is the interval to print beside the verdict.
    ci_adjusted_low: float | None = None
    ci_adjusted_high: float | None = None
    ci_adjusted_level: float | None = None
    #: Over-dispersion (Pearson chi-square / residual df) of the monthly counts, when estimated.
    dispersion: float | None = None


@dataclass(frozen=True)
class SpcSignal:
    """The latest control-chart signal in a monthly series."""

    rule: str
    month: str
    chart: str = ""
    side: Literal["above", "below"] = "above"


@dataclass(frozen=True)
class Coverage:
    """What data the finding rests on."""

    months: list[str] = field(default_factory=list)
    rows_outside_area: int = 0
    rows_without_location: int = 0
    complete: bool = True
    note: str = ""


@dataclass(frozen=True)
class Finding:
    """One reported number with everything needed to trust it.

    Attributes:
        id: Stable dotted name, e.g. ``crime.burglary.count`` or ``asb.ward.E05012345.count``.
        topic: ``crime``, ``asb``, ``reoffending``, ``da``, ``sv``, ``quality`` ...
        title: Short human title.
        area: Area code (local authority or ward code).
        area_name: Area name for display.
        period: (first month, last month) as ``YYYY-MM``.
        comparison_period: (first month, last month) of the baseline period, if compared.
        value: The value in the period.
        baseline: The value in the comparison period (or the mean of comparison periods).
        unit: e.g. ``count``, ``per 1,000 residents``, ``proportion``, ``harm days``.
        change: The change and its test, or None when not compared.
        good_direction: Which way is better: ``down`` for most crime, ``up`` for e.g. outcomes.
        spc: Latest control-chart signal, if any.
        coverage: Months covered and rows that could not be placed in the area.
        definition: How the number was computed, in words, including configurable settings.
        sentence: One cautious sentence that gives base numbers and never calls noise a change.
        numerator: Count behind a rate or proportion, if any.
        denominator: Denominator behind a rate or proportion, if any.
        rate: Rate per ``rate_per`` of the denominator population, if computed.
        rate_unit: The rate's unit in words (``per 1,000 households``); rates in different units never mix.
        rate_low: Lower bound of the exact (Garwood) 95% interval of the rate.
        rate_high: Upper bound of that interval.
        small_number: True when a public edition must suppress this count.
        emerging: True for a change in the unwanted direction that is significant after BH adjustment (control-chart
            signals are screening flags and do not make a finding emerging).
        series: Monthly values ``[(YYYY-MM, value), ...]`` behind the finding, for charts.
        sources: Provenance: which sources, agencies and files the rows came from.
        extra: Topic-specific detail (breakdowns, forecasts, hotspot tables) as plain JSON-able values.
    """

    id: str
    topic: str
    title: str
    area: str
    area_name: str
    period: tuple[str, str]
    value: float | None
    unit: str
    definition: str
    sentence: str
    comparison_period: tuple[str, str] | None = None
    baseline: float | None = None
    change: Change | None = None
    good_direction: GoodDirection = "down"
    spc: SpcSignal | None = None
    coverage: Coverage = field(default_factory=Coverage)
    numerator: float | None = None
    denominator: float | None = None
    rate: float | None = None
    rate_per: int | None = None
    #: The rate's unit in words, e.g. ``per 1,000 residents`` or ``per 1,000 households``.
    rate_unit: str = ""
    #: Exact (Garwood) 95% interval of the rate.
    rate_low: float | None = None
    rate_high: float | None = None
    small_number: bool = False
    emerging: bool = False
    series: list[tuple[str, float]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the finding as plain JSON-able data."""
        data = asdict(self)
        data["period"] = list(self.period)
        data["comparison_period"] = list(self.comparison_period) if self.comparison_period else None
        data["series"] = [list(p) for p in self.series]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        """Rebuild a finding from :meth:`to_dict` output."""
        d = dict(data)
        d["period"] = tuple(d["period"])
        d["comparison_period"] = tuple(d["comparison_period"]) if d.get("comparison_period") else None
        d["change"] = Change(**d["change"]) if d.get("change") else None
        d["spc"] = SpcSignal(**d["spc"]) if d.get("spc") else None
        d["coverage"] = Coverage(**d["coverage"]) if d.get("coverage") else Coverage()
        d["series"] = [(str(m), float(v)) for m, v in d.get("series", [])]
        return cls(**d)

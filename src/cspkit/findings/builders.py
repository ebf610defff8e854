"""Building Finding records from a run's context: the shapes every topic repeats, written once.

- :func:`level_finding`: a finding for the partnership and the run's period, with the run's coverage (a level, a
  mix, a profile, or a proportion with its test).
- :func:`monthly_counts`: a month -> count series over every month loaded (zeros included).
- :func:`ward_count_series`: the same monthly count for every ward of the area, as a family of
  :class:`~cspkit.findings.indicators.CountSeries` tested together.
- :func:`data_missing_finding`: the data-quality finding a topic gives when its source is not loaded.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from cspkit.findings.area import AreaContext
from cspkit.findings.indicators import CountSeries, FindingContext
from cspkit.findings.model import Change, Coverage, Finding, GoodDirection

__all__ = ["data_missing_finding", "level_finding", "monthly_counts", "run_coverage", "ward_count_series"]


def run_coverage(ctx: FindingContext, **kwargs: Any) -> Coverage:
    """The coverage record of the run's current period (months, completeness, the comparison's note)."""
    comp = ctx.comparison
    return Coverage(months=list(comp.current_months), complete=comp.complete, note=comp.note, **kwargs)


def level_finding(
    ctx: FindingContext,
    *,
    id: str,
    topic: str,
    title: str,
    value: float | None,
    unit: str,
    definition: str,
    sentence: str,
    sources: list[str],
    baseline: float | None = None,
    change: Change | None = None,
    good_direction: GoodDirection = "none",
    numerator: float | None = None,
    denominator: float | None = None,
    rate: float | None = None,
    rate_per: int | None = None,
    small_number: bool = False,
    emerging: bool = False,
    extra: dict[str, Any] | None = None,
) -> Finding:
    """A finding for the partnership in the run's period; compared with the comparison period when ``baseline`` is
    given (with ``change`` when it was tested)."""
    return Finding(
        id=id,
        topic=topic,
        title=title,
        area=ctx.area_code,
        area_name=ctx.area_name,
        period=ctx.period,
        value=value,
        unit=unit,
        definition=definition,
        sentence=sentence,
        comparison_period=ctx.comparison.baseline_span if baseline is not None else None,
        baseline=baseline,
        change=change,
        good_direction=good_direction,
        coverage=run_coverage(ctx),
        numerator=numerator,
        denominator=denominator,
        rate=rate,
        rate_per=rate_per,
        small_number=small_number,
        emerging=emerging,
        sources=list(sources),
        extra=dict(extra or {}),
    )


def data_missing_finding(
    ctx: FindingContext, *, id: str, title: str, definition: str, sentence: str, extra: dict[str, Any] | None = None
) -> Finding:
    """The data-quality finding of a topic whose source is not loaded: no value, no sources, the reason in words."""
    return level_finding(
        ctx,
        id=id,
        topic="quality",
        title=title,
        value=None,
        unit="count",
        definition=definition,
        sentence=sentence,
        sources=[],
        extra=extra,
    )


def monthly_counts(rows: Iterable[tuple[str, float]], months: list[str]) -> dict[str, float]:
    """Month -> count for every month of ``months`` (zeros where no row), from ``(month, count)`` rows; counts of
    the same month add up."""
    out = dict.fromkeys(months, 0.0)
    for month, n in rows:
        out[month] = out.get(month, 0.0) + float(n)
    return out


def ward_count_series(
    area: AreaContext,
    rows: Iterable[tuple[str, str, float]],
    months: list[str],
    *,
    id: str,
    topic: str,
    title: str,
    subject: str,
    definition: str,
    sources: list[str],
) -> list[CountSeries]:
    """One monthly count series per ward of the area (in ward code order), from ``(ward, month, count)`` rows.

    ``id``, ``title`` and ``subject`` are templates with ``{ward}`` (the ward code) and ``{name}`` (its name), e.g.
    ``"da.ward.{ward}.incidents"``. Rates are per resident of the ward; ward series have no control chart (the
    family is tested together, Benjamini-Hochberg adjusted across wards, by ``build_count_findings``).
    """
    by_ward: dict[str, list[tuple[str, float]]] = {}
    for ward, month, n in rows:
        by_ward.setdefault(ward, []).append((month, n))
    population = area.ward_population()
    return [
        CountSeries(
            id=id.format(ward=ward, name=name),
            topic=topic,
            title=title.format(ward=ward, name=name),
            subject=subject.format(ward=ward, name=name),
            monthly=monthly_counts(by_ward.get(ward, []), months),
            definition=definition,
            sources=list(sources),
            area_code=ward,
            area_name=name,
            denominator=population.get(ward),
            control_chart=False,
        )
        for ward, name in sorted(area.ward_names.items())
    ]

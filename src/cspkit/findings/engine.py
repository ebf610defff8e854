"""Computing every finding of a workspace for a period: the single entry point report, scoring and CLI use.

The caller passes the topic builders, functions ``(TopicInput) -> list[Finding]`` (the list is
:data:`cspkit.topics.TOPIC_BUILDERS`); the engine gives each the same area, period, comparison and settings, so every
finding of a run is comparable. The engine does not import the topics: they sit above it and import it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import duckdb

from cspkit.config import Config
from cspkit.errors import AnalysisError, PeriodError
from cspkit.findings.area import AreaContext, load_area
from cspkit.findings.crime import crime_findings, police_months
from cspkit.findings.data_sources import SourceRecord, source_records
from cspkit.findings.harm import get_harm_index
from cspkit.findings.indicators import EMERGING_DEFINITION, FindingContext
from cspkit.findings.model import Finding
from cspkit.findings.periods import Comparison, Period, latest_complete_12, parse_period, plan_comparison

#: The rule for testing changes in counts, printed with the definitions (each finding's ``change.test`` says which
#: branch applied to it).
CHANGE_TEST_RULE = (
    "Changes in monthly counts are tested with a quasi-Poisson model of the months of both periods (month-of-year "
    "terms when there are 24 months or more, days in month as exposure, over-dispersion estimated from the data), "
    "or with the exact conditional mid-p test when the counts vary no more than Poisson counts, there are too few "
    "months to estimate over-dispersion, or a period has no events. P-values are adjusted with Benjamini-Hochberg "
    "within each family (area indicators together, ward indicators together); the adjusted interval printed with "
    "a significant change has the matching false-coverage-rate level, so it excludes 'no change' exactly when the "
    "change is called significant."
)

__all__ = [
    "CHANGE_TEST_RULE",
    "FindingSet",
    "TopicBuilder",
    "TopicInput",
    "compute_findings",
    "loaded_event_months",
]


@dataclass
class TopicInput:
    """What a topic builder receives."""

    con: duckdb.DuckDBPyConnection
    config: Config
    area: AreaContext
    ctx: FindingContext
    loaded_months: list[str]
    boundaries_lsoa: Any | None


TopicBuilder = Callable[[TopicInput], list[Finding]]


@dataclass
class FindingSet:
    """All findings of one run, with the context they share.

    ``data_sources`` records what the run read (rows read, accepted and rejected, months, per source and agency) for
    the data-quality appendix; it is not part of :meth:`to_dict`, which stays the findings and their context.
    """

    findings: list[Finding]
    period: Period
    comparison: Comparison
    area: AreaContext
    definitions: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    data_sources: list[SourceRecord] = field(default_factory=list)

    def get(self, finding_id: str) -> Finding | None:
        for f in self.findings:
            if f.id == finding_id:
                return f
        return None

    def require(self, finding_id: str) -> Finding:
        found = self.get(finding_id)
        if found is None:
            raise AnalysisError(f"No finding {finding_id!r} in this run; see `cspkit findings` for the ids.")
        return found

    def by_topic(self, topic: str) -> list[Finding]:
        return [f for f in self.findings if f.topic == topic]

    def to_dict(self) -> dict[str, Any]:
        return {
            "area": {"codes": self.area.codes, "name": self.area.name},
            "period": {"first": self.period.first, "last": self.period.last, "label": self.period.label},
            "comparison": {
                "mode": self.comparison.mode,
                "baseline": list(self.comparison.baseline_span),
                "label": self.comparison.baseline_label,
                "restricted": self.comparison.restricted,
                "complete": self.comparison.complete,
                "note": self.comparison.note,
            },
            "definitions": self.definitions,
            "notes": self.notes,
            "findings": [f.to_dict() for f in self.findings],
        }


def _population_finding(area: AreaContext, ctx: FindingContext) -> Finding:
    """Which population figures the rates use, and any loaded population file that could not be used."""
    used = list(area.population_used.values())
    notes = list(area.population_notes)
    sentence = (
        "Rates use " + "; ".join(used) + "." if used else "No population figures cover the area: no rates are given."
    )
    if notes:
        sentence += " " + " ".join(notes)
    return Finding(
        id="quality.population",
        topic="quality",
        title="Population figures used for rates",
        area=ctx.area_code,
        area_name=ctx.area_name,
        period=ctx.period,
        value=float(len(notes)),
        unit="warnings",
        definition="For each measure (residents, women aged 16+, households) the first source that covers the "
        "area: loaded LSOA figures, loaded ward figures, loaded local-authority figures, then the bundled ONS LSOA "
        "estimates; within each, the latest year. A loaded file that does not cover the area is not used and is "
        "named here.",
        sentence=sentence,
        good_direction="down",
        sources=[area.population_source] if area.population_source else [],
        extra={"used": dict(area.population_used), "warnings": notes, "year": area.population_year},
    )


def _with_rate_interval(finding: Finding) -> Finding:
    """Every rate carries its unit and, when it is a count over a denominator, its exact (Garwood) interval."""
    from dataclasses import replace

    from cspkit.findings.funnel import rate_interval

    if finding.rate is None or finding.rate_per is None:
        return finding
    changes: dict[str, Any] = {}
    if not finding.rate_unit:
        if finding.unit.startswith("per "):
            changes["rate_unit"] = finding.unit
        elif finding.unit in ("", "count"):
            changes["rate_unit"] = f"per {finding.rate_per:,} residents"
        else:  # a weighted total such as harm days
            changes["rate_unit"] = f"{finding.unit} per {finding.rate_per:,} residents"
    x, n = finding.numerator, finding.denominator
    whole = x is not None and float(x) == round(float(x)) and x >= 0
    if finding.rate_low is None and whole and n and x is not None:
        changes["rate_low"], changes["rate_high"] = rate_interval(float(x), float(n), finding.rate_per)
    return replace(finding, **changes) if changes else finding


def loaded_event_months(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Months with police street data; if none, months with any partner event data."""
    months = police_months(con)
    if months:
        return months
    rows = con.execute(
        "SELECT DISTINCT _month FROM (SELECT _month FROM asb_incidents UNION ALL SELECT _month FROM domestic_abuse "
        "UNION ALL SELECT _month FROM marac_referrals UNION ALL SELECT _month FROM offences) WHERE _month IS NOT NULL "
        "ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


def compute_findings(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    *,
    period: str | None = None,
    compare: str = "previous",
    topics: list[str] | None = None,
    forecast: bool = True,
    hotspot_maps: bool = True,
    builders: Mapping[str, TopicBuilder],
) -> FindingSet:
    """Every finding for the workspace's area and a period.

    Args:
        con: Warehouse connection.
        config: Workspace settings (area, financial year, definitions).
        builders: Topic name -> builder, run in this order after the police findings; normally
            :data:`cspkit.topics.TOPIC_BUILDERS`.
        period: ``2023-24``, ``2023-24Q2``, ``2023-05..2024-04``...; default: the latest 12 complete months
            loaded, compared with the 12 before.
        compare: ``previous`` (the equal period before) or ``mean_of_3`` (the mean of the three before).
        topics: Only these topics (default: all). ``crime`` also gives police ASB (``asb.count``).
        forecast: Forecast the area-level monthly series (slower).
        hotspot_maps: Run Gi* where boundaries are available.

    Raises:
        PeriodError: The period cannot be parsed or compared with the data loaded.
        AnalysisError: The area or data needed is missing.
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    area = load_area(con, config)
    loaded = loaded_event_months(con)
    if not loaded:
        raise AnalysisError("No event data is loaded (police street files or partner incidents); run `cspkit ingest`.")
    current = (
        parse_period(period, config.fy_start_month) if period else latest_complete_12(loaded, config.fy_start_month)
    )
    if compare not in ("previous", "mean_of_3", "previous_year"):
        raise PeriodError(f"Unknown comparison {compare!r}: use 'previous', 'mean_of_3' or 'previous_year'.")
    comparison = plan_comparison(current, loaded, compare)  # type: ignore[arg-type]
    ctx = FindingContext(
        comparison=comparison,
        area_code=area.codes[0] if len(area.codes) == 1 else "+".join(area.codes),
        area_name=area.name,
        alpha=float(config.get("definitions.significance_level")),
        small_number_threshold=int(config.get("definitions.small_number_threshold")),
        suppress_below=int(config.get("disclosure.suppress_below")),
        spc_deseasonalise=bool(config.get("definitions.spc_deseasonalise")),
    )
    notes: list[str] = []
    boundaries = None
    if hotspot_maps:
        from cspkit.findings.boundaries import load_boundaries

        try:
            boundaries = load_boundaries(area.codes, "lsoa")
        except AnalysisError as exc:
            notes.append(f"Hotspot clusters (Gi*) and maps skipped: {exc}")
    timings["setup"] = time.perf_counter() - t0
    wanted = set(topics) if topics else None
    known = {"crime", "asb", "quality", *builders}
    if wanted and wanted - known:
        raise AnalysisError(
            f"Unknown topic(s) {', '.join(sorted(wanted - known))}; choose from {', '.join(sorted(known))}."
        )
    findings: list[Finding] = []
    police = police_months(con)
    if police and (wanted is None or wanted & {"crime", "asb", "quality"}):
        t = time.perf_counter()
        harm = get_harm_index(str(config.get("definitions.harm_index")))
        findings += crime_findings(con, area, ctx, harm, boundaries_lsoa=boundaries, forecast=forecast)
        timings["crime"] = time.perf_counter() - t
    elif not police:
        notes.append("No data.police.uk street files are loaded: police crime and ASB findings are missing.")
    topic_input = TopicInput(con, config, area, ctx, loaded, boundaries)
    for name, builder in builders.items():
        # --topic quality alone asks for the data-quality findings of every topic
        if wanted is not None and name not in wanted and wanted != {"quality"}:
            continue
        t = time.perf_counter()
        findings += builder(topic_input)
        timings[name] = time.perf_counter() - t
    if wanted is None or "quality" in wanted:
        findings.append(_population_finding(area, ctx))
    if wanted is not None:
        findings = [f for f in findings if f.topic in wanted]
    findings = [_with_rate_interval(f) for f in findings]
    definitions = {
        **config.definitions(),
        "comparison": comparison.note,
        "change_test": CHANGE_TEST_RULE,
        "emerging": EMERGING_DEFINITION,
    }
    if comparison.restricted:
        notes.append(comparison.note)
    data_sources = source_records(con)
    timings["total"] = time.perf_counter() - t0
    return FindingSet(findings, current, comparison, area, definitions, notes, timings, data_sources)

"""Police-recorded crime and ASB from data.police.uk: counts, rates, changes, harm and hotspots.

Rows are placed in the partnership's area by their LSOA code through the geography lookup. Rows with an LSOA
outside the area, and rows with no location at all, cannot be placed: they are counted and reported as coverage,
never silently dropped. The heavy work is one GROUP BY in DuckDB; Python only sees aggregated counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import duckdb

from cspkit.errors import AnalysisError
from cspkit.findings.area import AreaContext, area_lsoas_sql
from cspkit.findings.funnel import funnel
from cspkit.findings.harm import HarmIndex
from cspkit.findings.hotspots import (
    concentration,
    emerging_hotspots,
    gi_star,
    hotspot_overdispersion,
    persistent_hotspots,
)
from cspkit.findings.indicators import CountSeries, FindingContext, build_count_findings, restricted_clause, slug
from cspkit.findings.model import Coverage, Finding
from cspkit.findings.periods import month_add, month_range
from cspkit.findings.stats import change_between
from cspkit.findings.wording import describe_change, format_number

__all__ = ["ASB", "PoliceCounts", "crime_findings", "load_police_counts", "police_months"]

ASB = "Anti-social behaviour"


@dataclass
class PoliceCounts:
    """Aggregated police counts for the area.

    Attributes:
        by_ward: (month, crime_type, ward_code) -> count.
        by_lsoa: (month, crime_type, lsoa_code) -> count.
        months: Months loaded.
        outside_area: month -> rows with an LSOA outside the area.
        without_location: month -> rows with no LSOA.
        agencies: Agencies (forces) whose files were used.
    """

    by_ward: dict[tuple[str, str, str], int]
    by_lsoa: dict[tuple[str, str, str], int]
    months: list[str]
    outside_area: dict[str, int]
    without_location: dict[str, int]
    agencies: list[str]
    _index: dict[tuple[str, str | None], dict[str, int]] = field(default_factory=dict)
    _lsoa_index: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)

    def series(self, crime_type: str, ward: str | None) -> dict[str, int]:
        """Monthly counts of one crime type in one ward (or the whole area when ward is None), indexed once."""
        if not self._index:
            for (m, t, w), n in self.by_ward.items():
                for key in ((t, w), (t, None)):
                    month_counts = self._index.setdefault(key, {})
                    month_counts[m] = month_counts.get(m, 0) + n
        return self._index.get((crime_type, ward), {})

    def lsoa_month(self, crime_type: str, month: str) -> dict[str, int]:
        """Counts by LSOA of one crime type in one month, indexed once (hotspots read them many times)."""
        if not self._lsoa_index:
            for (m, t, lsoa), n in self.by_lsoa.items():
                self._lsoa_index.setdefault((t, m), {})[lsoa] = n
        return self._lsoa_index.get((crime_type, month), {})


def _lsoas(n: int, one: str = "was", many: str = "were") -> str:
    """ "1 LSOA was", "3 LSOAs were": a count with its noun and verb agreeing."""
    return f"{n} LSOA {one}" if n == 1 else f"{n} LSOAs {many}"


def police_months(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute("SELECT DISTINCT month FROM police_street ORDER BY 1").fetchall()
    return [r[0] for r in rows]


def load_police_counts(con: duckdb.DuckDBPyConnection, area: AreaContext) -> PoliceCounts:
    """Aggregate the street-level rows for the area: by month, crime type and LSOA, plus coverage."""
    area_sql = area_lsoas_sql(area.codes)
    lsoa_rows = con.execute(
        f"WITH area AS ({area_sql}) "
        "SELECT s.month, s.crime_type, s.lsoa_code, count(*) FROM police_street s "
        "JOIN area a ON s.lsoa_code = a.lsoa_code GROUP BY ALL"
    ).fetchall()
    coverage = con.execute(
        f"WITH area AS ({area_sql}) "
        "SELECT s.month, count(*) FILTER (WHERE s.lsoa_code IS NULL), "
        "count(*) FILTER (WHERE s.lsoa_code IS NOT NULL AND a.lsoa_code IS NULL) "
        "FROM police_street s LEFT JOIN area a ON s.lsoa_code = a.lsoa_code GROUP BY ALL ORDER BY 1"
    ).fetchall()
    agencies = [r[0] for r in con.execute("SELECT DISTINCT _agency FROM police_street ORDER BY 1").fetchall()]
    by_lsoa = {(m, t, lsoa): n for m, t, lsoa, n in lsoa_rows}  # count(*) is already a Python int
    by_ward: dict[tuple[str, str, str], int] = {}
    for (m, t, lsoa), n in by_lsoa.items():
        key = (m, t, area.lsoa_ward[lsoa])
        by_ward[key] = by_ward.get(key, 0) + n
    return PoliceCounts(
        by_ward=by_ward,
        by_lsoa=by_lsoa,
        months=[r[0] for r in coverage],
        outside_area={r[0]: int(r[2]) for r in coverage},
        without_location={r[0]: int(r[1]) for r in coverage},
        agencies=agencies,
    )


def _monthly(counts: PoliceCounts, types: set[str], ward: str | None = None) -> dict[str, float]:
    out = {m: 0.0 for m in counts.months}
    for t in types:
        for m, n in counts.series(t, ward).items():
            out[m] += n
    return out


def _lsoa_totals(counts: PoliceCounts, types: set[str], months: list[str], area: AreaContext) -> dict[str, float]:
    out = {lsoa: 0.0 for lsoa in area.lsoa_ward}
    for t in types:
        for m in set(months):
            for lsoa, n in counts.lsoa_month(t, m).items():
                out[lsoa] += n
    return out


def crime_findings(
    con: duckdb.DuckDBPyConnection,
    area: AreaContext,
    ctx: FindingContext,
    harm: HarmIndex,
    *,
    counts: PoliceCounts | None = None,
    boundaries_lsoa: object | None = None,
    forecast: bool = True,
) -> list[Finding]:
    """Findings for every crime type, all crime and ASB: area and ward counts, harm, hotspots and coverage."""
    counts = counts or load_police_counts(con, area)
    if not counts.months:
        raise AnalysisError("No data.police.uk street-level data is loaded; run `cspkit ingest` on the files first.")
    comp = ctx.comparison
    used_months = comp.current_months
    outside = sum(counts.outside_area.get(m, 0) for m in used_months)
    no_location = sum(counts.without_location.get(m, 0) for m in used_months)
    sources = [f"data.police.uk street-level crime and ASB ({', '.join(counts.agencies)})"]
    types = sorted({t for (_, t, _) in counts.by_ward})
    crime_types = [t for t in types if t != ASB]
    population = area.total_population()
    households = area.total_households()
    ward_population = area.ward_population()

    def placement(kind: str) -> str:
        return (
            f"{kind} recorded by the police and published on data.police.uk, placed in {area.name} by the LSOA "
            "of its anonymised location (LSOA 2021 -> ward 2024 -> local authority 2024 best-fit lookup); "
            f"{outside:,} rows in the period fell in LSOAs outside the area and {no_location:,} had no location "
            "and could not be placed."
        )

    def indicator(crime_type: str | None, ward: str | None = None) -> CountSeries:
        if crime_type is None:
            selected, key, title, subject = set(crime_types), "crime.all", "All crime", "all police-recorded crime"
            what = "All crimes (anti-social behaviour excluded)"
        elif crime_type == ASB:
            selected, key, title, subject = {ASB}, "asb", "Anti-social behaviour (police)", "police-recorded ASB"
            what = "ASB incidents"
        else:
            selected, key = {crime_type}, f"crime.{slug(crime_type)}"
            title, subject, what = crime_type, crime_type.lower(), f"Crimes of type '{crime_type}'"
        denominator, denominator_words = population, "residents"
        if crime_type == "Burglary" and households:
            denominator, denominator_words = households, "households"
        if ward is not None:
            denominator = ward_population.get(ward)
            denominator_words = "residents"
        ward_suffix = f".ward.{ward}" if ward else ""
        return CountSeries(
            id=f"{key}{ward_suffix}.count",
            topic="asb" if crime_type == ASB else "crime",
            title=title if ward is None else f"{title}: {area.ward_names.get(ward, ward)}",
            subject=subject if ward is None else f"{subject} in {area.ward_names.get(ward, ward)}",
            monthly=_monthly(counts, selected, ward),
            definition=placement(what),
            sources=sources,
            area_code=ward,
            area_name=area.ward_names.get(ward) if ward else None,
            denominator=denominator,
            rate_denominator=denominator_words,
            control_chart=ward is None,
            forecast=forecast and ward is None,
            rows_outside_area=outside,
            rows_without_location=no_location,
        )

    area_family = [indicator(None), indicator(ASB), *(indicator(t) for t in crime_types)]
    area_findings = build_count_findings(area_family, ctx)
    wards = sorted(area.ward_names)
    ward_family = [indicator(t, w) for t in [None, ASB, *crime_types] for w in wards]
    ward_findings = build_count_findings(ward_family, ctx)
    area_findings, ward_findings = _with_funnels(area_findings, ward_findings, area, ward_population)
    findings = _with_contributions(area_findings, ward_findings) + ward_findings
    findings.append(_harm_finding(counts, ctx, harm, crime_types, sources, population))
    findings += _hotspot_findings(counts, ctx, area, crime_types, boundaries_lsoa)
    findings.append(_coverage_finding(counts, ctx, area))
    return findings


def _with_funnels(
    area_findings: list[Finding],
    ward_findings: list[Finding],
    area: AreaContext,
    ward_population: dict[str, float],
) -> tuple[list[Finding], list[Finding]]:
    """Ward rates judged against the area rate: funnel data on each area finding, its position on each ward one.

    Ward rates are per 1,000 residents for every type (households are not known by ward), so the funnel's area
    rate is per resident too, even for burglary.
    """
    from dataclasses import replace

    by_prefix: dict[str, list[Finding]] = {}
    for f in ward_findings:
        by_prefix.setdefault(f.id.split(".ward.")[0], []).append(f)
    position: dict[str, dict[str, object]] = {}
    out_area = []
    for f in area_findings:
        wards = by_prefix.get(f.id.removesuffix(".count"), [])
        data = funnel(
            {w.area: w.value or 0.0 for w in wards},
            ward_population,
            area.ward_names,
            1000,
            "residents",
        )
        if data is None:
            out_area.append(f)
            continue
        for point in data["points"]:  # type: ignore[attr-defined]
            position[f"{f.id.removesuffix('.count')}.ward.{point['area']}.count"] = point
        out_area.append(replace(f, extra={**f.extra, "funnel": data}))
    out_wards = []
    for w in ward_findings:
        point = position.get(w.id)
        if point is None:
            out_wards.append(w)
            continue
        judged = {k: point[k] for k in ("expected", "z", "position", "lower_95", "upper_95", "lower_998", "upper_998")}
        out_wards.append(replace(w, extra={**w.extra, "funnel": judged}))
    return out_area, out_wards


@dataclass(frozen=True)
class Contribution:
    """How much one part (a ward, a crime type) moved between the comparison period and the current one."""

    id: str
    name: str
    current: float
    comparison: float

    @property
    def difference(self) -> float:
        return self.current - self.comparison

    def to_dict(self) -> dict[str, object]:
        return {**self.__dict__, "difference": self.difference}


def _contributions(parts: list[Finding]) -> list[Contribution]:
    """Each part's current and comparison values, the largest movers first."""
    rows = [
        Contribution(f.id, f.area_name if ".ward." in f.id else f.title, f.value, f.baseline)
        for f in parts
        if f.value is not None and f.baseline is not None
    ]
    return sorted(rows, key=lambda r: -abs(r.difference))


def _movers(rows: list[Contribution], up: bool, lower: bool = False) -> str:
    """The three largest moves the same way as the change, in words."""
    same_way = [r for r in rows if (r.difference > 0) == up][:3]
    return ", ".join(f"{r.name.lower() if lower else r.name} ({r.difference:+,.0f})" for r in same_way)


def _with_contributions(area_findings: list[Finding], ward_findings: list[Finding]) -> list[Finding]:
    """What drove each significant change: the wards (and for all crime, the crime types) that moved most.

    This is the first evidence for "why did it change" (reg. 5): it says where and in what, not why; the
    analyst's narrative gives the causes.
    """
    from dataclasses import replace

    by_prefix: dict[str, list[Finding]] = {}
    for f in ward_findings:
        by_prefix.setdefault(f.id.split(".ward.")[0], []).append(f)
    types = [f for f in area_findings if f.id.startswith("crime.") and f.id != "crime.all.count"]
    out = []
    for f in area_findings:
        c = f.change
        if c is None or not c.significant:
            out.append(f)
            continue
        up = c.direction == "up"
        wards = _contributions(by_prefix.get(f.id.removesuffix(".count"), []))
        extra: dict[str, object] = {"contributions_by_ward": [w.to_dict() for w in wards]}
        sentence = f.sentence
        if movers := _movers(wards, up):
            sentence += f" The wards that moved most: {movers}."
        if f.id == "crime.all.count":
            by_type = _contributions(types)
            extra["contributions_by_crime_type"] = [t.to_dict() for t in by_type]
            if movers := _movers(by_type, up, lower=True):
                sentence += f" By type: {movers}."
        out.append(replace(f, sentence=sentence, extra={**f.extra, **extra}))
    return out


def _three_figures(value: float) -> float:
    """An approximate index printed to the precision it has: 1,475,312.2 -> 1,480,000."""
    if not value:
        return value
    return float(round(value, 2 - math.floor(math.log10(abs(value)))))


def _harm_finding(
    counts: PoliceCounts,
    ctx: FindingContext,
    harm: HarmIndex,
    crime_types: list[str],
    sources: list[str],
    population: float | None,
) -> Finding:
    comp = ctx.comparison

    def weighted(months: list[str]) -> tuple[float, dict[str, float]]:
        per_type: dict[str, float] = {}
        wanted = set(months)
        for (m, t, _), n in counts.by_ward.items():
            w = harm.weight(t)
            if m in wanted and w is not None:
                per_type[t] = per_type.get(t, 0.0) + n * w
        return sum(per_type.values()), per_type

    value, per_type = weighted(comp.current_months)
    baseline_sum = sum(weighted(months)[0] for months in comp.baseline_months)
    baseline = baseline_sum / len(comp.baseline_months)
    change = change_between(
        value,
        baseline,
        None,
        "not tested: a harm-weighted total is not a count, so the Poisson test does not apply; see the "
        "tests of the crime types behind it",
    )
    rate = value / population * 1000 if population else None
    sentence = describe_change(
        f"harm-weighted crime ({harm.unit}, {harm.label}, to 3 significant figures)",
        _three_figures(value),
        _three_figures(baseline),
        None,
        ctx.period_label,
        ctx.comparison_label,
    )
    sentence += restricted_clause(comp)
    if rate:
        sentence += f" That is {format_number(round(rate, 1))} {harm.unit} per 1,000 residents."
    ranked = sorted(per_type.items(), key=lambda kv: -kv[1])
    return Finding(
        id="crime.harm.total",
        topic="crime",
        title=f"Harm-weighted crime ({harm.name})",
        area=ctx.area_code,
        area_name=ctx.area_name,
        period=ctx.period,
        value=value,
        unit=harm.unit,
        definition=f"Sum over crime types of count x weight, weights from the {harm.label} ({harm.caveat}) "
        "ASB carries no crime-harm weight and is excluded.",
        sentence=sentence,
        comparison_period=comp.baseline_span,
        baseline=baseline,
        change=change,
        coverage=Coverage(
            months=list(comp.current_months),
            rows_outside_area=sum(counts.outside_area.get(m, 0) for m in comp.current_months),
            rows_without_location=sum(counts.without_location.get(m, 0) for m in comp.current_months),
            complete=comp.complete,
            note=comp.note,
        ),
        rate=rate,
        rate_per=1000 if rate else None,
        sources=sources,
        extra={
            "harm_index": harm.name,
            "approximate": harm.name != "unweighted",
            "weights": {t: harm.weight(t) for t in crime_types},
            "by_crime_type": [{"crime_type": t, "harm": h, "share": h / value if value else None} for t, h in ranked],
        },
    )


def _year_blocks(period_last: str, months: list[str], n_max: int = 3) -> list[list[str]]:
    """Consecutive 12-month blocks ending at the period's last month, as many as fully loaded (up to n_max)."""
    loaded = set(months)
    blocks = []
    for i in range(n_max):
        last = month_add(period_last, -12 * i)
        block = month_range(month_add(last, -11), last)
        if all(m in loaded for m in block):
            blocks.append(block)
    return blocks


def _hotspot_findings(
    counts: PoliceCounts,
    ctx: FindingContext,
    area: AreaContext,
    crime_types: list[str],
    boundaries_lsoa: object | None,
) -> list[Finding]:
    comp = ctx.comparison
    out: list[Finding] = []
    blocks = _year_blocks(ctx.period[1], counts.months)
    groups: list[tuple[str, str, set[str], bool]] = [
        ("crime.all", "All crime", set(crime_types), True),
        ("asb", "Anti-social behaviour (police)", {ASB}, True),
    ]
    groups += [(f"crime.{slug(t)}", t, {t}, False) for t in crime_types]
    for key, title, types, with_gi in groups:
        current = _lsoa_totals(counts, types, comp.current_months, area)
        baseline = _lsoa_totals(counts, types, [m for ms in comp.baseline_months for m in ms], area)
        conc = concentration(current)
        yearly = {f"{b[0]}..{b[-1]}": _lsoa_totals(counts, types, b, area) for b in blocks}
        persistent = persistent_hotspots(yearly) if len(yearly) >= 2 else []
        # The baseline is the total of all comparison periods, so the current period's exposure relative to it is
        # 1/k (k = 1 for 'previous', 3 for 'mean_of_3').
        rho = hotspot_overdispersion(current, baseline)
        emerging = emerging_hotspots(
            current, baseline, exposure_ratio=1.0 / len(comp.baseline_months), overdispersion=rho
        )
        extra: dict[str, object] = {
            "emerging_overdispersion": rho,
            "concentration": conc.to_dict(),
            "persistent": [{"lsoa": c, "lsoa_name": area.lsoa_names.get(c, c)} for c in persistent],
            "persistent_years": list(yearly),
            "emerging": [e.to_dict() for e in emerging],
            "lsoa_counts": current,
        }
        sentence_parts = []
        if conc.share_of_incidents is not None:
            sentence_parts.append(
                f"The busiest {conc.n_top_areas} of {conc.n_areas} LSOAs (top 10%) had "
                f"{conc.share_of_incidents:.0%} of {title.lower()} ({format_number(conc.top_total)} of "
                f"{format_number(conc.total)}) in {ctx.period_label}."
            )
        if persistent:
            sentence_parts.append(f"{_lsoas(len(persistent))} in the top 10% in each of the {len(yearly)} years.")
        if emerging:
            sentence_parts.append(f"{_lsoas(len(emerging), 'shows', 'show')} a statistically significant rise.")
        if with_gi and boundaries_lsoa is not None and (conc.total or 0) > 0:
            gi = gi_star(current, boundaries_lsoa)
            extra["gi_star"] = gi.to_dict()
            if gi.hot:
                sentence_parts.append(
                    f"Getis-Ord Gi* finds {len(gi.hot)} {'LSOA' if len(gi.hot) == 1 else 'LSOAs'} in significant "
                    "clusters of high counts (false discovery rate 5%)."
                )
        out.append(
            Finding(
                id=f"{key}.hotspots",
                topic="asb" if key == "asb" else "crime",
                title=f"Where {title.lower()} is concentrated",
                area=ctx.area_code,
                area_name=ctx.area_name,
                period=ctx.period,
                value=conc.share_of_incidents,
                unit="proportion",
                definition="Share of incidents in the top 10% of LSOAs (ceil(10% of LSOAs), ties broken by code); "
                "persistent hotspots: in the top 10% in each of the last consecutive 12-month blocks loaded (up to "
                "3); emerging hotspots: exact test of a rise against the comparison period that allows for LSOA "
                f"counts drifting from year to year more than Poisson (beta-binomial, intra-class correlation "
                f"rho = {rho:.3f} "
                "estimated across the LSOAs; 0 is pure Poisson), Benjamini-Hochberg adjusted across LSOAs; Gi*: see "
                "its settings.",
                sentence=" ".join(sentence_parts) or f"No {title.lower()} in {ctx.period_label}.",
                comparison_period=comp.baseline_span,
                coverage=Coverage(months=list(comp.current_months), complete=comp.complete, note=comp.note),
                good_direction="none",
                emerging=bool(emerging),
                sources=[f"data.police.uk street-level crime and ASB ({', '.join(counts.agencies)})"],
                extra=extra,
            )
        )
    return out


def _coverage_finding(counts: PoliceCounts, ctx: FindingContext, area: AreaContext) -> Finding:
    comp = ctx.comparison
    outside = sum(counts.outside_area.get(m, 0) for m in comp.current_months)
    no_location = sum(counts.without_location.get(m, 0) for m in comp.current_months)
    placed = sum(n for (m, _, _), n in counts.by_ward.items() if m in set(comp.current_months))
    total = placed + outside + no_location
    share = no_location / total if total else None
    return Finding(
        id="quality.police.coverage",
        topic="quality",
        title="Police data placed in the area",
        area=ctx.area_code,
        area_name=ctx.area_name,
        period=ctx.period,
        value=share,
        unit="proportion",
        definition="Rows of the loaded data.police.uk street files in the period: placed in the area by LSOA, "
        "with an LSOA outside the area, or with no location (share without location is the value).",
        sentence=(
            f"Of {total:,} police rows in {ctx.period_label}, {placed:,} were placed in {area.name}, "
            f"{outside:,} were in LSOAs outside it and {no_location:,} ({(share or 0):.1%}) had no location."
        ),
        good_direction="down",
        numerator=no_location,
        denominator=total,
        coverage=Coverage(
            months=list(comp.current_months), rows_outside_area=outside, rows_without_location=no_location
        ),
        sources=[f"data.police.uk street-level crime and ASB ({', '.join(counts.agencies)})"],
        extra={"placed": placed, "outside_area": outside, "without_location": no_location},
    )

"""Anti-social behaviour from partner case systems (``asb_incidents``): volume, mix, timing, repeat and vulnerable
victims, places and data quality.

Police ASB published on data.police.uk is ``asb.count`` (see :mod:`cspkit.findings.crime`); this topic reads the
partners' own incident records. Each agency is reported on its own (``asb.partner.<agency>.count``) and combined
(``asb.partner.count``), where an incident reported to two agencies under the same incident reference (the same
``incident_key``) counts once, at its earliest report.

Victims are identified by the agency's own victim reference (``victim_key``, a pseudonym per agency): the same
person known to two agencies is two victims until cross-agency linking exists, so combined victim figures add up
the agencies' figures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import duckdb

from cspkit.errors import ConfigError
from cspkit.findings.area import area_lsoas_sql
from cspkit.findings.builders import data_missing_finding, level_finding, monthly_counts, ward_count_series
from cspkit.findings.engine import TopicInput
from cspkit.findings.hotspots import concentration, emerging_hotspots, hotspot_overdispersion
from cspkit.findings.indicators import CountSeries, build_count_findings, slug
from cspkit.findings.model import Finding
from cspkit.findings.wording import format_number
from cspkit.topics._partner import (
    Proportion,
    QualityCheck,
    baseline_months,
    build_proportion_findings,
    count_finding,
    drop_uncovered_comparisons,
    mix_extra,
    quality_findings,
    source_months,
    table_rows,
)

__all__ = ["VictimCounts", "build", "night_time_windows", "victim_counts"]

_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WINDOW = re.compile(r"^(mon|tue|wed|thu|fri|sat|sun)[a-z]*\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})$", re.I)
_WEEK_MINUTES = 7 * 24 * 60


def _lsoas(n: int, one: str = "was", many: str = "were") -> str:
    """ "1 LSOA was", "3 LSOAs were": a count with its noun and verb agreeing."""
    return f"{n} LSOA {one}" if n == 1 else f"{n} LSOAs {many}"


def night_time_windows(setting: str) -> list[tuple[int, int]]:
    """Parse ``"Fri 20:00-04:00; Sat 20:00-04:00"`` into minute-of-week ranges ``[start, end)``.

    Monday 00:00 is minute 0; a window whose end is not after its start runs past midnight into the next day
    (and from Sunday into Monday, past the end of the week).

    Raises:
        ConfigError: A part is not ``Day HH:MM-HH:MM``.
    """
    windows = []
    for part in (p.strip() for p in setting.split(";")):
        if not part:
            continue
        match = _WINDOW.match(part)
        if not match:
            raise ConfigError(
                f"definitions.night_time_economy: {part!r} is not like 'Fri 20:00-04:00' (day, start-end, 24-hour)."
            )
        day, h1, m1, h2, m2 = match.groups()
        start, end = int(h1) * 60 + int(m1), int(h2) * 60 + int(m2)
        if start >= 1440 or end > 1440:
            raise ConfigError(f"definitions.night_time_economy: {part!r} has an hour outside 00:00-24:00.")
        duration = (end - start) % 1440 or 1440
        offset = _DAYS.index(day.lower()[:3]) * 1440 + start
        windows.append((offset, offset + duration))
    if not windows:
        raise ConfigError("definitions.night_time_economy is empty; give at least one window like 'Fri 20:00-04:00'.")
    return windows


def _night_time_sql(windows: list[tuple[int, int]]) -> str:
    mow = "((isodow(reported_at) - 1) * 1440 + hour(reported_at) * 60 + minute(reported_at))"
    parts = [f"({mow} >= {s} AND {mow} < {e}) OR ({mow} + {_WEEK_MINUTES} >= {s} AND {mow} + {_WEEK_MINUTES} < {e})"
             for s, e in windows]  # fmt: skip
    return "(" + " OR ".join(parts) + ")"


def _base_sql(area_codes: list[str]) -> str:
    """CTEs: ``asb`` (every agency's rows, placed in a ward) and ``incidents`` (one row per incident_key)."""
    return (
        f"WITH area AS ({area_lsoas_sql(area_codes)}), "
        "area_wards AS (SELECT DISTINCT ward_code FROM area), "
        "asb AS (SELECT a.incident_key, a.reported_at, CAST(a.reported_at AS DATE) AS day, "
        "coalesce(a.reported_at_has_time, FALSE) AS has_time, a.category, "
        "coalesce(NULLIF(trim(a.asb_type), ''), 'not recorded') AS asb_type, a.victim_key, a.risk_score, "
        "a.risk_level, a.vulnerable, a.lsoa_code, coalesce(g.ward_code, w.ward_code) AS ward, "
        "g.lsoa_code AS placed_lsoa, a._agency AS agency, a._month AS month, "
        "(a.lsoa_code IS NOT NULL AND g.lsoa_code IS NULL AND w.ward_code IS NULL) AS outside_area, "
        "(a.lsoa_code IS NULL AND a.ward_code IS NULL) AS no_location "
        "FROM asb_incidents a LEFT JOIN area g ON a.lsoa_code = g.lsoa_code "
        "LEFT JOIN area_wards w ON g.lsoa_code IS NULL AND a.ward_code = w.ward_code), "
        "incidents AS (SELECT *, count(*) OVER (PARTITION BY incident_key) AS reports FROM asb "
        "QUALIFY row_number() OVER (PARTITION BY incident_key ORDER BY reported_at, agency) = 1) "
    )


#: The topic's queries read ``asb`` and ``incidents`` through these two temporary tables, placed once per run by
#: :func:`_place_incidents`: a dozen queries each repeating the placing and the de-duplication took a fifth of a
#: second of every `cspkit findings`.
_PLACED = "WITH asb AS (FROM _asb_placed), incidents AS (FROM _asb_placed_incidents) "


def _place_incidents(con: duckdb.DuckDBPyConnection, area_codes: list[str]) -> None:
    base = _base_sql(area_codes)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _asb_placed AS {base} FROM asb")
    con.execute(f"CREATE OR REPLACE TEMP TABLE _asb_placed_incidents AS {base} FROM incidents")


@dataclass(frozen=True)
class VictimCounts:
    """Victim figures of one agency in one period (victims are the agency's own victim references)."""

    incidents: int
    incidents_with_victim: int
    victims: int
    repeat_victims: int
    incidents_from_repeat_victims: int
    community_trigger: int
    high_risk_victims: int
    vulnerable_victims: int
    high_risk_repeat: int
    high_risk_incidents: int

    def to_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def victim_counts(inp: TopicInput, months: list[str]) -> dict[str, VictimCounts]:
    """Per agency: incidents, victims, repeat, Community Trigger, high-risk and vulnerable victims in ``months``.

    A victim is a repeat victim when at least k of their incidents in the months fall within a window of w days
    (the k-th incident at most w - 1 days after the first, so both ends count: with w = 365, incidents on day 1
    and day 365 are in one window, day 1 and day 366 are not). Only incidents in the months count. Reads the
    incidents :func:`build` placed (``_PLACED``), so it is called from there.
    """
    get = inp.config.get
    k, window = int(get("definitions.repeat_victim_min_incidents")), int(get("definitions.repeat_victim_window_days"))
    ct_k = int(get("definitions.community_trigger_min_incidents"))
    ct_window = int(get("definitions.community_trigger_window_days"))
    high = int(get("definitions.asb_high_risk_score"))
    high_sql = f"(risk_score >= {high} OR risk_level = 'high')"
    rows = inp.con.execute(
        _PLACED + ", ev AS (SELECT * FROM asb WHERE list_contains($months, month)), "
        f"w AS (SELECT agency, victim_key, day, risk_score, risk_level, vulnerable, "
        f"lead(day, {k - 1}) OVER (PARTITION BY agency, victim_key ORDER BY day) AS kth, "
        f"lead(day, {ct_k - 1}) OVER (PARTITION BY agency, victim_key ORDER BY day) AS ct_kth "
        "FROM ev WHERE victim_key IS NOT NULL), "
        "v AS (SELECT agency, victim_key, count(*) AS n, "
        f"coalesce(bool_or(kth - day <= {window - 1}), FALSE) AS is_repeat, "
        f"coalesce(bool_or(ct_kth - day <= {ct_window - 1}), FALSE) AS trigger, "
        f"coalesce(bool_or({high_sql}), FALSE) AS high_risk, "
        f"coalesce(bool_or({high_sql} OR vulnerable), FALSE) AS vulnerable "
        "FROM w GROUP BY ALL), "
        "per_victim AS (SELECT agency, count(*) AS victims, count(*) FILTER (WHERE is_repeat) AS repeat_victims, "
        "coalesce(sum(n) FILTER (WHERE is_repeat), 0) AS from_repeat, count(*) FILTER (WHERE trigger) AS trigger, "
        "count(*) FILTER (WHERE high_risk) AS high_risk, count(*) FILTER (WHERE vulnerable) AS vulnerable, "
        "count(*) FILTER (WHERE high_risk AND is_repeat) AS high_risk_repeat FROM v GROUP BY agency), "
        "per_incident AS (SELECT agency, count(*) AS incidents, count(victim_key) AS with_victim, "
        f"count(*) FILTER (WHERE {high_sql}) AS high_risk_incidents FROM ev GROUP BY agency) "
        "SELECT i.agency, i.incidents, i.with_victim, coalesce(v.victims, 0), coalesce(v.repeat_victims, 0), "
        "coalesce(v.from_repeat, 0), coalesce(v.trigger, 0), coalesce(v.high_risk, 0), coalesce(v.vulnerable, 0), "
        "coalesce(v.high_risk_repeat, 0), i.high_risk_incidents "
        "FROM per_incident i LEFT JOIN per_victim v USING (agency) ORDER BY 1",
        {"months": months},
    ).fetchall()
    return {
        r[0]: VictimCounts(
            incidents=int(r[1]),
            incidents_with_victim=int(r[2]),
            victims=int(r[3]),
            repeat_victims=int(r[4]),
            incidents_from_repeat_victims=int(r[5]),
            community_trigger=int(r[6]),
            high_risk_victims=int(r[7]),
            vulnerable_victims=int(r[8]),
            high_risk_repeat=int(r[9]),
            high_risk_incidents=int(r[10]),
        )
        for r in rows
    }


def _total(counts: dict[str, VictimCounts], name: str, agencies: list[str] | None = None) -> int:
    return sum(getattr(c, name) for a, c in counts.items() if agencies is None or a in agencies)


def build(inp: TopicInput) -> list[Finding]:
    """All partner ASB findings (empty, with one quality finding, when no partner ASB data is loaded)."""
    ctx = inp.ctx
    if not table_rows(inp.con, "asb_incidents"):
        return [
            data_missing_finding(
                ctx,
                id="quality.asb.partner_data_missing",
                title="Partner ASB data not loaded",
                definition="Partner ASB incident records (source asb_incidents) in the warehouse.",
                sentence="No partner ASB incident records are loaded, so repeat and vulnerable victims, the ASB "
                "mix and timing cannot be reported; only police ASB from data.police.uk is available.",
            )
        ]
    con = inp.con
    agencies = [r[0] for r in con.execute("SELECT DISTINCT _agency FROM asb_incidents ORDER BY 1").fetchall()]
    sources = [f"partner ASB incident records (asb_incidents: {', '.join(agencies)})"]
    months = source_months(con, "asb_incidents")
    findings: list[Finding] = []
    _place_incidents(con, inp.area.codes)
    try:
        findings += _volume(inp, agencies, months, sources)
        findings += _mix_and_timing(inp, sources)
        findings += _victims(inp, agencies, sources)
        findings.append(_places(inp, sources))
    finally:
        con.execute("DROP TABLE IF EXISTS _asb_placed; DROP TABLE IF EXISTS _asb_placed_incidents")
    findings += quality_findings(
        con,
        ctx,
        table="asb_incidents",
        prefix="asb",
        what="ASB incidents",
        checks=[
            QualityCheck("missing_victim_ref", "had no victim reference", "victim_key IS NULL"),
            QualityCheck(
                "missing_location", "had no location (LSOA or ward)", "lsoa_code IS NULL AND ward_code IS NULL"
            ),
            QualityCheck(
                "missing_risk",
                "had no risk assessment (risk score, risk level or vulnerable flag)",
                "risk_score IS NULL AND risk_level IS NULL AND vulnerable IS NULL",
                among="victim_key IS NOT NULL",
                among_words="with a victim reference",
            ),
        ],
        per_agency=True,
        sources=sources,
    )
    return findings


def _volume(inp: TopicInput, agencies: list[str], months: list[str], sources: list[str]) -> list[Finding]:
    con, area, ctx = inp.con, inp.area, inp.ctx
    base = _PLACED
    combined = con.execute(base + "SELECT month, count(*) FROM incidents GROUP BY ALL").fetchall()
    by_agency = con.execute(base + "SELECT agency, month, count(*) FROM asb GROUP BY ALL").fetchall()
    by_ward = con.execute(base + "SELECT ward, month, count(*) FROM incidents WHERE ward IS NOT NULL GROUP BY ALL")
    ward_rows = by_ward.fetchall()
    shared, outside, no_location = con.execute(
        base + "SELECT count(*) FILTER (WHERE reports > 1), count(*) FILTER (WHERE outside_area), "
        "count(*) FILTER (WHERE no_location) FROM incidents WHERE list_contains($months, month)",
        {"months": ctx.comparison.current_months},
    ).fetchall()[0]
    population = area.total_population()
    dedup = (
        "An incident reported to more than one agency under the same incident reference counts once, in the month "
        "of its earliest report"
    )
    family = [
        CountSeries(
            id="asb.partner.count",
            topic="asb",
            title="ASB incidents (partner records, combined)",
            subject="ASB incidents recorded by partners",
            monthly=monthly_counts(combined, months),
            definition=f"Partner ASB incident records of {', '.join(agencies)}, counted by month reported. {dedup} "
            f"({int(shared):,} such shared incidents in the period).",
            sources=sources,
            denominator=population,
            rows_outside_area=int(outside),
            rows_without_location=int(no_location),
            extra={"shared_incidents": int(shared), "agencies": agencies},
        )
    ]
    for agency in agencies:
        family.append(
            CountSeries(
                id=f"asb.partner.{slug(agency)}.count",
                topic="asb",
                title=f"ASB incidents recorded by {agency}",
                subject=f"ASB incidents recorded by {agency}",
                monthly=monthly_counts([(m, n) for a, m, n in by_agency if a == agency], months),
                definition=f"ASB incident records supplied by {agency}, counted by month reported (an incident also "
                "recorded by another agency counts here too).",
                sources=[f"partner ASB incident records (asb_incidents: {agency})"],
                denominator=population,
            )
        )
    findings = build_count_findings(family, ctx)
    ward_family = ward_count_series(
        area,
        ward_rows,
        months,
        id="asb.partner.ward.{ward}.count",
        topic="asb",
        title="ASB incidents (partner records): {name}",
        subject="partner-recorded ASB incidents in {name}",
        definition=f"Combined partner ASB incidents placed in the ward by their LSOA (or ward code). {dedup}.",
        sources=sources,
    )
    findings += build_count_findings(ward_family, ctx)
    return drop_uncovered_comparisons(findings, months, ctx)


def _mix_and_timing(inp: TopicInput, sources: list[str]) -> list[Finding]:
    con, ctx = inp.con, inp.ctx
    base = _PLACED
    current, before = ctx.comparison.current_months, baseline_months(ctx)
    params = {"cur": current, "base": before}
    out: list[Finding] = []
    for column, words in (("category", "category (personal, nuisance, environmental)"), ("asb_type", "type")):
        rows = con.execute(
            base + f"SELECT coalesce({column}, 'not recorded'), count(*) FILTER (WHERE list_contains($cur, month)), "
            "count(*) FILTER (WHERE list_contains($base, month)) FROM incidents GROUP BY ALL",
            params,
        ).fetchall()
        by_agency = con.execute(
            base + f"SELECT agency, coalesce({column}, 'not recorded'), count(*) FROM asb "
            "WHERE list_contains($cur, month) GROUP BY ALL ORDER BY 1, 2",
            {"cur": current},
        ).fetchall()
        extra = mix_extra({r[0]: int(r[1]) for r in rows if r[1]}, {r[0]: int(r[2]) for r in rows if r[2]})
        extra["by_agency"] = {}
        for agency, key, n in by_agency:
            extra["by_agency"].setdefault(agency, {})[key] = int(n)
        total = sum(extra["counts"].values())
        shares = [f"{share:.0%} {key}" for key, share in extra["shares"].items() if share is not None][:5]
        sentence = (
            f"Of {format_number(total)} partner-recorded ASB incidents in {ctx.period_label}, "
            + ", ".join(shares)
            + "."
            if total
            else f"No partner-recorded ASB incidents in {ctx.period_label}."
        )
        test = extra["mix_change_test"]
        if test is not None:
            changed = test["p_value"] < ctx.alpha
            sentence += (
                " The mix differs significantly from the comparison period."
                if changed
                else " The mix is not significantly different from the comparison period."
            )
        out.append(
            level_finding(
                ctx,
                id=f"asb.mix.{column}",
                topic="asb",
                title=f"ASB by {words}",
                value=float(total),
                unit="count",
                definition=f"Combined partner ASB incidents in the period by {words}; shares of the incidents with "
                "the field recorded ('not recorded' shown as its own group). Chi-square test of the mix against "
                "the comparison period.",
                sentence=sentence,
                sources=sources,
                extra=extra,
            )
        )

    windows_setting = str(inp.config.get("definitions.night_time_economy"))
    night = _night_time_sql(night_time_windows(windows_setting))
    profile = con.execute(
        base + "SELECT isodow(reported_at), hour(reported_at), count(*) FROM incidents "
        "WHERE has_time AND list_contains($cur, month) GROUP BY ALL",
        {"cur": current},
    ).fetchall()
    matrix = [[0] * 24 for _ in range(7)]
    for dow, hour, n in profile:
        matrix[int(dow) - 1][int(hour)] = int(n)
    timed = sum(map(sum, matrix))
    nte_cur, timed_cur, nte_base, timed_base, untimed = con.execute(
        base + f"SELECT count(*) FILTER (WHERE has_time AND {night} AND list_contains($cur, month)), "
        "count(*) FILTER (WHERE has_time AND list_contains($cur, month)), "
        f"count(*) FILTER (WHERE has_time AND {night} AND list_contains($base, month)), "
        "count(*) FILTER (WHERE has_time AND list_contains($base, month)), "
        "count(*) FILTER (WHERE NOT has_time AND list_contains($cur, month)) FROM incidents",
        params,
    ).fetchall()[0]
    day_names = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    if timed:
        busiest_day = max(range(7), key=lambda d: sum(matrix[d]))
        busiest_hour = max(range(24), key=lambda h: sum(matrix[d][h] for d in range(7)))
        sentence = (
            f"Of {format_number(timed)} partner-recorded ASB incidents with a time in {ctx.period_label}, the "
            f"busiest day was {day_names[busiest_day]} and the busiest hour "
            f"{busiest_hour:02d}:00-{busiest_hour:02d}:59."
        )
    else:
        sentence = f"No partner-recorded ASB incident in {ctx.period_label} has a time of day, so no profile is given."
    if untimed:
        sentence += f" {format_number(int(untimed))} incidents had a date only and are left out."
    out.append(
        level_finding(
            ctx,
            id="asb.time_profile",
            topic="asb",
            title="When ASB happens (day of week by hour)",
            value=float(timed),
            unit="count",
            definition="Combined partner ASB incidents with a time of day, by day of week (Monday first) and hour.",
            sentence=sentence,
            sources=sources,
            extra={"days": day_names, "hours": list(range(24)), "matrix": matrix, "without_time": int(untimed)},
        )
    )
    out += build_proportion_findings(
        [
            Proportion(
                id="asb.night_time_share",
                topic="asb",
                title="ASB in night-time economy hours",
                subject="the share of ASB in night-time economy hours",
                numerator=int(nte_cur),
                denominator=int(timed_cur),
                baseline_numerator=int(nte_base),
                baseline_denominator=int(timed_base),
                definition=f"Combined partner ASB incidents with a time of day that fall in night-time economy hours "
                f"({windows_setting}; definitions.night_time_economy), over all such incidents with a time.",
                sources=sources,
                good_direction="none",
                missing=f"No partner ASB incident in {ctx.period_label} has a time of day, so the night-time share "
                "cannot be measured.",
                extra={"windows": windows_setting},
            )
        ],
        ctx,
    )
    return out


def _victims(inp: TopicInput, agencies: list[str], sources: list[str]) -> list[Finding]:
    ctx, get = inp.ctx, inp.config.get
    k, window = int(get("definitions.repeat_victim_min_incidents")), int(get("definitions.repeat_victim_window_days"))
    ct_k = int(get("definitions.community_trigger_min_incidents"))
    ct_window = int(get("definitions.community_trigger_window_days"))
    high = int(get("definitions.asb_high_risk_score"))
    before_months = baseline_months(ctx)
    current = victim_counts(inp, ctx.comparison.current_months)
    before = victim_counts(inp, before_months) if before_months else {}
    with_refs = [a for a, c in current.items() if c.incidents_with_victim > 0]
    without_refs = [a for a, c in current.items() if c.incidents > 0 and c.incidents_with_victim == 0]
    before_with = [a for a in with_refs if before.get(a) and before[a].incidents_with_victim > 0]
    no_refs_note = (
        f"{' and '.join(without_refs)} supplied no victim references, so repeat and vulnerable victims of "
        f"{'that agency' if len(without_refs) == 1 else 'those agencies'} cannot be counted and are left out."
        if without_refs
        else ""
    )
    identity = (
        "A victim is an agency's own victim reference: the same person known to two agencies counts once for each "
        "(cross-agency linking is not applied)."
    )
    repeat_def = (
        f"A repeat victim has at least {k} ASB incidents within a rolling window of {window} days among the incidents "
        f"in the period (incident number {k} at most {window - 1} days after the first, so incidents {window - 1} days "
        f"apart are in one window; definitions.repeat_victim_min_incidents, repeat_victim_window_days). " + identity
    )
    by_agency = {a: c.to_dict() for a, c in current.items()}
    extra_common: dict[str, Any] = {
        "by_agency": by_agency,
        "baseline_by_agency": {a: c.to_dict() for a, c in before.items()},
        "agencies_without_victim_refs": without_refs,
    }
    missing = (
        f"No agency supplied victim references for {ctx.period_label}, so repeat victims cannot be counted "
        "(this is not a rate of 0%)."
    )

    def base_total(name: str) -> int | None:
        return _total(before, name, before_with) if before_with else None

    findings = [
        count_finding(
            ctx,
            id="asb.repeat_victims",
            topic="asb",
            title="Repeat victims of ASB",
            subject="repeat victims of ASB (partner records)",
            value=_total(current, "repeat_victims", with_refs),
            baseline=base_total("repeat_victims"),
            definition=repeat_def,
            sources=sources,
            note=" ".join(
                part
                for part in (
                    no_refs_note if with_refs else missing,
                    "The significance test is on asb.repeat_victim_rate.",
                )
                if part
            ),
            extra={**extra_common, "k": k, "window_days": window},
        ),
        count_finding(
            ctx,
            id="asb.community_trigger_eligible",
            topic="asb",
            title="Victims meeting the ASB case review (Community Trigger) threshold",
            subject="victims meeting the Community Trigger threshold",
            value=_total(current, "community_trigger", with_refs),
            baseline=base_total("community_trigger"),
            definition=f"Victims with at least {ct_k} ASB incidents within {ct_window} days among incidents in the "
            "period (definitions.community_trigger_min_incidents, community_trigger_window_days). Incidents stand "
            "in for complaints: whether each complaint qualifies is not recorded. " + identity,
            sources=sources,
            note=no_refs_note if with_refs else missing,
            extra={**extra_common, "k": ct_k, "window_days": ct_window},
        ),
        count_finding(
            ctx,
            id="asb.vulnerable_victims",
            topic="asb",
            title="Vulnerable victims of ASB",
            subject="vulnerable victims of ASB (partner records)",
            value=_total(current, "vulnerable_victims", with_refs),
            baseline=base_total("vulnerable_victims"),
            definition=f"Victims with at least one incident in the period with a risk score of {high} or more "
            "(definitions.asb_high_risk_score), a risk level of high, or the vulnerable flag. " + identity,
            sources=sources,
            note=no_refs_note if with_refs else missing,
            extra=extra_common,
        ),
        count_finding(
            ctx,
            id="asb.high_risk_cases",
            topic="asb",
            title="High-risk ASB victims",
            subject="high-risk ASB victims (partner records)",
            value=_total(current, "high_risk_victims", with_refs),
            baseline=base_total("high_risk_victims"),
            definition=f"Victims with at least one incident in the period with a risk score of {high} or more or a "
            "risk level of high. " + identity,
            sources=sources,
            note=no_refs_note if with_refs else missing,
            extra={
                **extra_common,
                "high_risk_incidents": _total(current, "high_risk_incidents", with_refs),
                "high_risk_victims_also_repeat": _total(current, "high_risk_repeat", with_refs),
            },
        ),
    ]

    def proportion(pid: str, title: str, subject: str, num: str, den: str, definition: str) -> Proportion:
        return Proportion(
            id=pid,
            topic="asb",
            title=title,
            subject=subject,
            numerator=_total(current, num, with_refs),
            denominator=_total(current, den, with_refs),
            baseline_numerator=base_total(num),
            baseline_denominator=base_total(den),
            definition=definition,
            sources=sources,
            missing=missing,
            note=no_refs_note,
            extra={
                "by_agency": {
                    a: {
                        "numerator": getattr(c, num),
                        "denominator": getattr(c, den),
                        "value": getattr(c, num) / getattr(c, den) if getattr(c, den) else None,
                    }
                    for a, c in current.items()
                },
                "agencies_without_victim_refs": without_refs,
            },
        )

    findings += build_proportion_findings(
        [
            proportion(
                "asb.repeat_victim_rate",
                "Repeat victim rate (ASB)",
                "the repeat victim rate",
                "repeat_victims",
                "victims",
                "Repeat victims over victims with at least one incident in the period. " + repeat_def,
            ),
            proportion(
                "asb.incidents_from_repeat_victims",
                "ASB incidents from repeat victims",
                "the share of ASB incidents that came from repeat victims",
                "incidents_from_repeat_victims",
                "incidents_with_victim",
                "Incidents in the period of repeat victims over all incidents with a victim reference. " + repeat_def,
            ),
            proportion(
                "asb.high_risk_repeat_share",
                "High-risk ASB victims who are repeat victims",
                "the share of high-risk ASB victims who are also repeat victims",
                "high_risk_repeat",
                "high_risk_victims",
                "High-risk victims (see asb.high_risk_cases) who are also repeat victims, over high-risk victims. "
                + repeat_def,
            ),
        ],
        ctx,
    )
    return findings


def _places(inp: TopicInput, sources: list[str]) -> Finding:
    con, area, ctx = inp.con, inp.area, inp.ctx
    base = _PLACED
    params = {"cur": ctx.comparison.current_months, "base": [m for ms in ctx.comparison.baseline_months for m in ms]}
    lsoa_rows = con.execute(
        base + "SELECT placed_lsoa, count(*) FILTER (WHERE list_contains($cur, month)), "
        "count(*) FILTER (WHERE list_contains($base, month)) FROM incidents WHERE placed_lsoa IS NOT NULL GROUP BY ALL",
        params,
    ).fetchall()
    ward_rows = con.execute(
        base
        + "SELECT ward, count(*) FROM incidents WHERE ward IS NOT NULL AND list_contains($cur, month) GROUP BY ALL",
        {"cur": ctx.comparison.current_months},
    ).fetchall()
    current = {lsoa: 0.0 for lsoa in area.lsoa_ward}
    baseline = {lsoa: 0.0 for lsoa in area.lsoa_ward}
    for lsoa, cur, before in lsoa_rows:
        current[lsoa], baseline[lsoa] = float(cur), float(before)
    conc = concentration(current)
    # the baseline is the total of the k comparison periods: the current period's exposure is 1/k of it
    rho = hotspot_overdispersion(current, baseline)
    emerging = emerging_hotspots(
        current, baseline, exposure_ratio=1.0 / (len(ctx.comparison.baseline_months) or 1), overdispersion=rho
    )
    top_lsoas = sorted(current.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    top_wards = sorted(((w, int(n)) for w, n in ward_rows), key=lambda kv: (-kv[1], kv[0]))[:10]
    parts = []
    if conc.share_of_incidents is not None:
        parts.append(
            f"The busiest {conc.n_top_areas} of {conc.n_areas} LSOAs (top 10%) had {conc.share_of_incidents:.0%} of "
            f"partner-recorded ASB ({format_number(conc.top_total)} of {format_number(conc.total)}) in "
            f"{ctx.period_label}."
        )
    if top_wards:
        ward, n = top_wards[0]
        parts.append(f"The ward with most incidents was {area.ward_names.get(ward, ward)} ({format_number(n)}).")
    if emerging:
        parts.append(f"{_lsoas(len(emerging), 'shows', 'show')} a statistically significant rise.")
    return level_finding(
        ctx,
        id="asb.partner.repeat_locations",
        topic="asb",
        title="Where partner-recorded ASB is concentrated",
        value=conc.share_of_incidents,
        unit="proportion",
        definition="Combined partner ASB incidents placed by LSOA: share in the top 10% of LSOAs; the LSOAs and wards "
        "with most incidents; emerging hotspots by an exact test against the comparison period that allows for LSOA "
        f"counts drifting more than Poisson (beta-binomial, rho = {rho:.3f} estimated across the LSOAs), "
        "Benjamini-Hochberg adjusted across LSOAs.",
        sentence=" ".join(parts) or f"No partner-recorded ASB could be placed in an LSOA in {ctx.period_label}.",
        sources=sources,
        emerging=bool(emerging),
        extra={
            "concentration": conc.to_dict(),
            "top_lsoas": [
                {"lsoa": c, "lsoa_name": area.lsoa_names.get(c, c), "ward": area.lsoa_ward.get(c), "count": int(n)}
                for c, n in top_lsoas
                if n > 0
            ],
            "top_wards": [{"ward": w, "ward_name": area.ward_names.get(w, w), "count": n} for w, n in top_wards],
            "emerging": [e.to_dict() for e in emerging],
            "emerging_overdispersion": rho,
            "lsoa_counts": current,
        },
    )

"""What linkage adds: the people several agencies share (findings of topic ``linkage``).

All read the person id per record that ``cspkit link`` stored (``link_people``); without a linkage there are no
findings here. Records count in the run's period by their event date (incident, referral, cohort entry).

- ``linkage.multi_agency``: people known to two or more services, by combination (UpSet-style counts);
- ``linkage.hidden_repeat_victims``: victims with 3+ incidents within 365 days across agencies whose repeat no
  single agency's own references show;
- ``linkage.da_perpetrators_managed``: DA perpetrators who are IOM/PPO offenders;
- ``linkage.victims_several_perpetrators``: DA or MARAC victims linked to two or more different perpetrators;
- ``linkage.marac_repeat_predicted``: MARAC repeat referrals by earlier police DA incidents, with a test;
- ``linkage.asb_combined``: ASB incidents recorded by both council and police (same person, same LSOA, within
  three days, or one shared reference) counted once, with the police/partner reconciliation table.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta
from typing import Any

import duckdb

from cspkit.findings.builders import level_finding
from cspkit.findings.distributions import fisher_exact_p
from cspkit.findings.engine import TopicInput
from cspkit.findings.indicators import FindingContext
from cspkit.findings.model import Finding
from cspkit.linkage.duplicates import ASB_DUPLICATE_DAYS, asb_duplicates
from cspkit.linkage.records import agency_label

__all__ = ["ASB_DUPLICATE_DAYS", "REPEAT_INCIDENTS", "build"]

REPEAT_INCIDENTS = 3  # incidents within 365 days, as the ASB and DA repeat definitions
_SOURCE = "person linkage across partner sources (cspkit link: link_people)"


def _has_linkage(con: duckdb.DuckDBPyConnection) -> bool:
    rows = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'link_people' AND table_schema = 'main'"
    ).fetchall()
    return bool(rows[0][0]) and bool(con.execute("SELECT count(*) FROM link_people").fetchall()[0][0])


def _bounds(ctx: FindingContext) -> tuple[date, date]:
    first, last = ctx.period
    start = date.fromisoformat(first + "-01")
    y, m = int(last[:4]), int(last[5:7])
    end = date(y + (m == 12), m % 12 + 1, 1) - timedelta(days=1)
    return start, end


def _small(ctx: FindingContext, n: int) -> bool:
    return 0 < n < ctx.suppress_below


def build(inp: TopicInput) -> list[Finding]:
    """The linkage findings for the run's period (none when no linkage is stored)."""
    con, ctx = inp.con, inp.ctx
    if not _has_linkage(con):
        return []
    start, end = _bounds(ctx)
    rows = con.execute(
        "SELECT person_id, source, role, agency, record_key, ref_key, event_date FROM link_people "
        "WHERE event_date BETWEEN ? AND ?",
        [start, end],
    ).fetchall()
    linkage_run = con.execute("SELECT max(run_id), max(linkage_id) FROM link_runs").fetchall()[0]
    provenance = {"link_run": linkage_run[0], "linkage_id": linkage_run[1]}
    return [
        _multi_agency(ctx, rows, provenance),
        _hidden_repeats(ctx, rows, provenance),
        _managed_perpetrators(con, ctx, rows, provenance),
        _several_perpetrators(ctx, rows, provenance),
        _marac_predicted(con, ctx, start, end, provenance),
        _asb_combined(con, ctx, start, end, provenance),
    ]


def _multi_agency(ctx: FindingContext, rows: list[tuple[Any, ...]], provenance: dict[str, Any]) -> Finding:
    services: dict[int, set[str]] = defaultdict(set)
    for person, source, _, agency, *_ in rows:
        services[person].add(agency_label(source, agency))
    combos = Counter(" + ".join(sorted(s)) for s in services.values() if len(s) > 1)
    shared = sum(combos.values())
    people = len(services)
    by = dict(sorted(combos.items(), key=lambda kv: (-kv[1], kv[0])))
    top = ", ".join(f"{k} ({v:,})" for k, v in list(by.items())[:3])
    return level_finding(
        ctx,
        id="linkage.multi_agency",
        topic="linkage",
        title="People known to two or more services",
        value=float(shared),
        unit="people",
        definition="People (linked across partner sources) with records at two or more services in the period: "
        "police ASB, council ASB, police DA, MARAC, IOM/PPO. A person counts once, under the combination of all "
        "services that hold a record of them.",
        sentence=f"Of {people:,} people in the partner records in {ctx.period_label}, {shared:,} are known to two or "
        f"more services" + (f"; the commonest combinations are {top}." if top else "."),
        sources=[_SOURCE],
        numerator=float(shared),
        denominator=float(people),
        good_direction="none",
        small_number=_small(ctx, shared),
        extra={"by_combination": by, "people": people, **provenance},
    )


def _repeat(dates: list[date]) -> bool:
    """3+ dates within any 365-day window."""
    ordered = sorted(dates)
    k = REPEAT_INCIDENTS - 1
    return any((ordered[i + k] - ordered[i]).days <= 364 for i in range(len(ordered) - k))


def _hidden_repeats(ctx: FindingContext, rows: list[tuple[Any, ...]], provenance: dict[str, Any]) -> Finding:
    incidents: dict[int, dict[tuple[str, str], date]] = defaultdict(dict)  # person -> incident -> date
    by_reference: dict[tuple[str, str, str, str], list[date]] = defaultdict(list)
    for person, source, role, agency, record_key, ref_key, event_date in rows:
        if role != "victim" or source == "offenders":
            continue
        incidents[person][(source, record_key)] = event_date  # a shared ASB reference is one incident
        if ref_key is not None:
            by_reference[(source, agency, ref_key, str(person))].append(event_date)
    repeat = {p for p, inc in incidents.items() if _repeat(list(inc.values()))}
    seen_by_an_agency = {int(key[3]) for key, dates in by_reference.items() if _repeat(dates)}
    hidden = repeat - seen_by_an_agency
    return level_finding(
        ctx,
        id="linkage.hidden_repeat_victims",
        topic="linkage",
        title="Hidden repeat victims: repeat only when agencies' records are put together",
        value=float(len(hidden)),
        unit="people",
        definition=f"Victims (ASB, DA and MARAC victim records, linked) with {REPEAT_INCIDENTS} or more incidents "
        "within any 365 days in the period, counting an incident reported to two agencies under one reference "
        f"once; hidden when no single agency's own victim reference has {REPEAT_INCIDENTS} incidents within 365 days.",
        sentence=f"{len(repeat):,} victims had {REPEAT_INCIDENTS} or more incidents within a year across agencies in "
        f"{ctx.period_label}; {len(hidden):,} of them are hidden repeats that no single agency's records show.",
        sources=[_SOURCE],
        numerator=float(len(hidden)),
        denominator=float(len(repeat)),
        good_direction="down",
        small_number=_small(ctx, len(hidden)),
        extra={
            "repeat_victims_across_agencies": len(repeat),
            "repeat_seen_by_one_agency": len(seen_by_an_agency),
            **provenance,
        },
    )


def _managed_perpetrators(
    con: duckdb.DuckDBPyConnection, ctx: FindingContext, rows: list[tuple[Any, ...]], provenance: dict[str, Any]
) -> Finding:
    perpetrators = {p for p, source, role, *_ in rows if source == "domestic_abuse" and role == "perpetrator"}
    offenders = {
        int(r[0])
        for r in con.execute("SELECT DISTINCT person_id FROM link_people WHERE source = 'offenders'").fetchall()
    }
    managed = perpetrators & offenders
    return level_finding(
        ctx,
        id="linkage.da_perpetrators_managed",
        topic="linkage",
        title="Domestic abuse perpetrators who are IOM/PPO offenders",
        value=float(len(managed)),
        unit="people",
        definition="People recorded as a perpetrator in a police domestic abuse incident in the period who are "
        "also in the IOM/PPO offender cohort (any entry date), by linkage.",
        sentence=f"{len(managed):,} of {len(perpetrators):,} domestic abuse perpetrators in {ctx.period_label} are "
        "IOM/PPO offenders.",
        sources=[_SOURCE],
        numerator=float(len(managed)),
        denominator=float(len(perpetrators)),
        good_direction="none",
        small_number=_small(ctx, len(managed)),
        extra=provenance,
    )


def _several_perpetrators(ctx: FindingContext, rows: list[tuple[Any, ...]], provenance: dict[str, Any]) -> Finding:
    by_record: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for person, source, role, _, record_key, *_ in rows:
        if source in ("domestic_abuse", "marac_referrals"):
            by_record[(source, record_key)][role] = person
    perpetrators_of: dict[int, set[int]] = defaultdict(set)
    for roles in by_record.values():
        if "victim" in roles and "perpetrator" in roles:
            perpetrators_of[roles["victim"]].add(roles["perpetrator"])
    several = sum(1 for ps in perpetrators_of.values() if len(ps) > 1)
    return level_finding(
        ctx,
        id="linkage.victims_several_perpetrators",
        topic="linkage",
        title="Victims of more than one perpetrator",
        value=float(several),
        unit="people",
        definition="Victims in police domestic abuse incidents or MARAC referrals in the period whose records name "
        "two or more different perpetrators (people, by linkage, not references). The perpetrators named for one "
        "victim count as one person when an agency holds them under one reference, or when two of surname, "
        "forename, date of birth and postcode agree (a name among them) and no date of birth or reference tells "
        "them apart: perpetrators are often recorded without a date of birth or postcode.",
        sentence=f"{several:,} of {len(perpetrators_of):,} domestic abuse victims with a recorded perpetrator in "
        f"{ctx.period_label} were victims of more than one perpetrator.",
        sources=[_SOURCE],
        numerator=float(several),
        denominator=float(len(perpetrators_of)),
        good_direction="down",
        small_number=_small(ctx, several),
        extra=provenance,
    )


def _marac_predicted(
    con: duckdb.DuckDBPyConnection, ctx: FindingContext, start: date, end: date, provenance: dict[str, Any]
) -> Finding:

    referrals = con.execute(
        "SELECT person_id, event_date FROM link_people WHERE source = 'marac_referrals' AND role = 'victim' "
        "ORDER BY event_date"
    ).fetchall()
    da = defaultdict(list)
    for person, day in con.execute(
        "SELECT person_id, event_date FROM link_people WHERE source = 'domestic_abuse' AND role = 'victim'"
    ).fetchall():
        da[person].append(day)
    last: dict[int, date] = {}
    table = {True: [0, 0], False: [0, 0]}  # earlier DA incidents? -> [repeat, not repeat]
    for person, day in referrals:
        repeat = person in last and 0 < (day - last[person]).days <= 365
        if start <= day <= end:
            earlier = sum(1 for d in da[person] if 0 <= (day - d).days <= 365) >= 2
            table[earlier][0 if repeat else 1] += 1
        last[person] = day
    (a, b), (c, d) = table[True], table[False]
    p_value = fisher_exact_p([[a, b], [c, d]]) if (a + b) and (c + d) else None
    rate_with = a / (a + b) if a + b else None
    rate_without = c / (c + d) if c + d else None
    significant = p_value is not None and p_value < ctx.alpha

    def pct(x: float | None) -> str:
        return "n/a" if x is None else f"{100 * x:.0f}%"

    verdict = "a statistically significant difference" if significant else "no statistically significant difference"
    return level_finding(
        ctx,
        id="linkage.marac_repeat_predicted",
        topic="linkage",
        title="MARAC repeat referrals and earlier police domestic abuse incidents",
        value=rate_with,
        baseline=rate_without,
        unit="proportion",
        definition="MARAC referrals in the period; a repeat is a referral within 365 days of the same victim's "
        "previous referral (by linkage, across referring agencies). Victims with two or more police domestic "
        "abuse incidents in the 365 days before the referral are compared with the others (Fisher's exact test).",
        sentence=f"Of {a + b:,} MARAC referrals of victims with two or more police domestic abuse incidents in the "
        f"year before, {a:,} ({pct(rate_with)}) were repeats, against {c:,} of {c + d:,} ({pct(rate_without)}) for "
        f"other victims in {ctx.period_label}: {verdict}"
        + (f" (Fisher's exact test, p = {p_value:.3g})." if p_value is not None else "."),
        sources=[_SOURCE],
        numerator=float(a),
        denominator=float(a + b),
        good_direction="none",
        small_number=any(_small(ctx, n) for n in (a, b, c, d)),
        extra={"table": {"with_earlier_da": [a, b], "without": [c, d]}, "p_value": p_value,
               "significant": significant, **provenance},
    )  # fmt: skip


def _asb_combined(
    con: duckdb.DuckDBPyConnection, ctx: FindingContext, start: date, end: date, provenance: dict[str, Any]
) -> Finding:
    found = asb_duplicates(con, start, end)
    police, partners, shared, linked, combined = (
        found.police, found.partners, found.shared, len(found.linked), found.combined
    )  # fmt: skip
    reconciliation = [
        {"line": "police ASB incidents (partner file)", "incidents": police},
        {"line": "council and other partner ASB incidents", "incidents": partners},
        {"line": "less: the same incident under one shared reference", "incidents": -shared},
        {"line": f"less: the same person, LSOA and within {ASB_DUPLICATE_DAYS} days (linkage)", "incidents": -linked},
        {"line": "combined ASB incidents, each counted once", "incidents": combined},
    ]
    return level_finding(
        ctx,
        id="linkage.asb_combined",
        topic="linkage",
        title="ASB incidents recorded by both council and police, counted once",
        value=float(combined),
        unit="incidents",
        definition="Police and partner ASB incidents in the period; a partner incident is the same as a police one "
        f"when both carry the same incident reference, or when linkage finds the same victim, in the same LSOA, "
        f"within {ASB_DUPLICATE_DAYS} days. Incidents without a victim are never matched. The police open-data "
        "ASB count (asb.count, data.police.uk) is a different recording and is shown beside it, not reconciled.",
        sentence=f"In {ctx.period_label} police recorded {police:,} ASB incidents and partners {partners:,}; "
        f"{shared + linked:,} partner incidents were the same as a police one ({shared:,} by shared reference, "
        f"{linked:,} found by linkage), so the combined count is {combined:,}.",
        sources=[_SOURCE, "ASB incidents (asb_incidents)"],
        numerator=float(shared + linked),
        denominator=float(partners),
        good_direction="down",
        small_number=_small(ctx, linked),
        extra={
            "reconciliation": reconciliation,
            "duplicate_days": ASB_DUPLICATE_DAYS,
            "police_open_data_finding": "asb.count",
            **provenance,
        },
    )

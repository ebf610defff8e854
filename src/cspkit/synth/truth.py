"""Ground truth computed in plain Python from the rows the generator wrote.

These figures are deliberately independent of any cspkit SQL: they are what the warehouse and findings must
reproduce. Definitions (also written into truth.json):

- A period is 12 calendar months; ``assessment`` is the final 12 months of the data, ``previous`` the 12 before.
- **Repeat ASB victim** in a period: a victim (an agency's ``victim_ref``; for ``combined_by_person`` the true
  person) with at least 3 incidents within any 365-day window, counting only incidents in the period, i.e. three
  incident dates d1 <= d2 <= d3 in the period with d3 - d1 <= 364 days. Combined counts count an incident reported
  to both agencies under a shared ``incident_ref`` once.
- **High-risk ASB victim**: a victim with at least one incident in the period with ``risk_level`` high (score >= 22).
- **MARAC repeat referral**: a referral dated within 365 days after the same ``victim_ref``'s previous referral.
- **IOM**: offences are counted by ``offence_date``; "before entry" is [entry - 365 days, entry), "after entry"
  [entry, entry + 365 days); "on programme" is entry <= date <= exit (or no exit).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

__all__ = ["Period", "asb_truth", "da_truth", "iom_truth", "marac_truth", "repeat_victims"]

Row = dict[str, str]


@dataclass(frozen=True)
class Period:
    """A named span of whole days, both ends included."""

    name: str
    start: date
    end: date

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    def as_dict(self) -> dict[str, str]:
        """The period as ISO dates, for truth.json."""
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}


def _day(text: str) -> date:
    return date.fromisoformat(text[:10])


def _has_three_within_a_year(days: list[date]) -> bool:
    days = sorted(days)
    return any(days[i + 2] - days[i] <= timedelta(days=364) for i in range(len(days) - 2))


def repeat_victims(events: Iterable[tuple[str, date]], period: Period) -> set[str]:
    """Victims with at least 3 events within any 365-day window, counting only events in the period."""
    by_victim: dict[str, list[date]] = defaultdict(list)
    for victim, day in events:
        if victim and day in period:
            by_victim[victim].append(day)
    return {victim for victim, days in by_victim.items() if _has_three_within_a_year(days)}


def _per_period(periods: list[Period], count: Any) -> dict[str, Any]:
    return {period.name: count(period) for period in periods}


def _bucket(rows: list[Row], column: str, periods: list[Period]) -> dict[str, list[Row]]:
    """Rows by the period their date column falls in (rows outside every period are left out)."""
    buckets: dict[str, list[Row]] = {p.name: [] for p in periods}
    for row in rows:
        day = _day(row[column])
        for period in periods:
            if day in period:
                buckets[period.name].append(row)
                break
    return buckets


def asb_truth(
    police: list[Row],
    council: list[Row],
    person_of: dict[str, dict[str, str]],
    periods: list[Period],
    planted_refs: list[tuple[str, str]],
    hotspot_lsoa: str,
) -> dict[str, Any]:
    """ASB incidents, repeat, high-risk and vulnerable victims, the planted group and the hotspot per period."""
    by_agency = {"police": police, "council": council}
    shared = sorted({r["incident_ref"] for r in police} & {r["incident_ref"] for r in council})

    # One event per distinct incident_ref for the combined view; the earliest report of a shared incident counts.
    combined: dict[str, tuple[date, str, str]] = {}
    for agency, rows in by_agency.items():
        for row in rows:
            person = person_of[agency].get(row["victim_ref"], "") if row["victim_ref"] else ""
            event = (_day(row["reported_at"]), person, row["lsoa_code"])
            if row["incident_ref"] not in combined or event[0] < combined[row["incident_ref"]][0]:
                combined[row["incident_ref"]] = event

    def victims(rows: list[Row], column: str = "", value: str = "") -> int:
        return len({r["victim_ref"] for r in rows if r["victim_ref"] and (not column or r[column] == value)})

    def agency_figures(rows: list[Row]) -> dict[str, Any]:
        buckets = _bucket(rows, "reported_at", periods)
        events = [(r["victim_ref"], _day(r["reported_at"])) for r in rows]
        return {
            "incidents": {k: len(v) for k, v in buckets.items()},
            "incidents_with_victim": {k: sum(1 for r in v if r["victim_ref"]) for k, v in buckets.items()},
            "identifiable_victims": {k: victims(v) for k, v in buckets.items()},
            "repeat_victims": _per_period(periods, lambda p: len(repeat_victims(events, p))),
            "high_risk_victims": {k: victims(v, "risk_level", "high") for k, v in buckets.items()},
            "vulnerable_victims": {k: victims(v, "vulnerable", "yes") for k, v in buckets.items()},
            "by_category": {
                k: {c: sum(1 for r in v if r["category"] == c) for c in ("personal", "nuisance", "environmental")}
                for k, v in buckets.items()
            },
        }

    combined_events = [(person, day) for day, person, _ in combined.values()]
    planted = set(planted_refs)
    planted_events = [
        (f"{agency}:{r['victim_ref']}", _day(r["reported_at"]))
        for agency, rows in by_agency.items()
        for r in rows
        if (agency, r["victim_ref"]) in planted
    ]
    hotspot: dict[str, Any] = {
        agency: {
            k: sum(1 for r in v if r["lsoa_code"] == hotspot_lsoa)
            for k, v in _bucket(rows, "reported_at", periods).items()
        }
        for agency, rows in by_agency.items()
    }
    hotspot["combined_deduplicated"] = _per_period(
        periods, lambda p: sum(1 for day, _, lsoa in combined.values() if lsoa == hotspot_lsoa and day in p)
    )
    return {
        "police": agency_figures(police),
        "council": agency_figures(council),
        "combined_by_person": {
            "incidents_deduplicated": _per_period(
                periods, lambda p: sum(1 for day, _, _ in combined.values() if day in p)
            ),
            "identifiable_victims": _per_period(
                periods,
                lambda p: len({person for day, person, _ in combined.values() if person and day in p}),
            ),
            "repeat_victims": _per_period(periods, lambda p: len(repeat_victims(combined_events, p))),
        },
        "planted_group_repeat_victims": _per_period(periods, lambda p: len(repeat_victims(planted_events, p))),
        "shared_incident_refs": len(shared),
        "shared_incident_refs_by_period": _per_period(
            periods, lambda p: sum(1 for ref in shared if combined[ref][0] in p)
        ),
        "hotspot": hotspot,
    }


def da_truth(rows: list[Row], ward_of: dict[str, str], periods: list[Period]) -> dict[str, Any]:
    """Domestic abuse incidents, crimes, DASH mix and incidents per ward per period."""
    buckets = _bucket(rows, "reported_at", periods)
    by_ward: dict[str, dict[str, int]] = {ward: dict.fromkeys(buckets, 0) for ward in sorted(set(ward_of.values()))}
    for name, bucket in buckets.items():
        for row in bucket:
            by_ward[ward_of[row["lsoa_code"]]][name] += 1
    return {
        "incidents": {k: len(v) for k, v in buckets.items()},
        "crimes": {k: sum(1 for r in v if r["is_crime"] == "yes") for k, v in buckets.items()},
        "dash_risk": {
            k: {level: sum(1 for r in v if r["dash_risk"] == level) for level in ("standard", "medium", "high")}
            for k, v in buckets.items()
        },
        "victims": {k: len({r["victim_ref"] for r in v}) for k, v in buckets.items()},
        "by_ward": by_ward,
    }


def marac_truth(rows: list[Row], periods: list[Period], adult_female_population: int) -> dict[str, Any]:
    """MARAC referrals, repeat referrals, repeat rate and volume per 10,000 women aged 16+ per period."""
    last: dict[str, date] = {}
    repeat_refs: set[str] = set()
    for row in sorted(rows, key=lambda r: (r["referral_date"], r["referral_ref"])):
        day = _day(row["referral_date"])
        previous = last.get(row["victim_ref"])
        if previous is not None and day - previous <= timedelta(days=365):
            repeat_refs.add(row["referral_ref"])
        last[row["victim_ref"]] = day

    referrals = _per_period(periods, lambda p: sum(1 for r in rows if _day(r["referral_date"]) in p))
    repeats = _per_period(
        periods,
        lambda p: sum(1 for r in rows if r["referral_ref"] in repeat_refs and _day(r["referral_date"]) in p),
    )
    return {
        "referrals": referrals,
        "repeat_referrals": repeats,
        "repeat_rate": {k: round(repeats[k] / referrals[k], 6) if referrals[k] else None for k in referrals},
        "adult_female_population": adult_female_population,
        "per_10k_adult_females": {k: round(v / adult_female_population * 10_000, 6) for k, v in referrals.items()},
        "dash_14_or_more": _per_period(
            periods,
            lambda p: sum(1 for r in rows if int(r["dash_score"]) >= 14 and _day(r["referral_date"]) in p),
        ),
    }


def _per_reoffender(offences: int, reoffenders: int) -> float | None:
    return round(offences / reoffenders, 6) if reoffenders else None


def iom_truth(offenders: list[Row], offences: list[Row], periods: list[Period]) -> dict[str, Any]:
    """IOM before/after entry for each period's entrants, and re-offences per re-offender for the active cohort."""
    days_by_offender: dict[str, list[date]] = defaultdict(list)
    for row in offences:
        days_by_offender[row["offender_ref"]].append(_day(row["offence_date"]))
    year = timedelta(days=365)

    def entrants(period: Period) -> dict[str, Any]:
        members = [r for r in offenders if _day(r["entry_date"]) in period]
        before = [
            sum(
                1
                for d in days_by_offender[m["offender_ref"]]
                if _day(m["entry_date"]) - year <= d < _day(m["entry_date"])
            )
            for m in members
        ]
        after = [
            sum(
                1
                for d in days_by_offender[m["offender_ref"]]
                if _day(m["entry_date"]) <= d < _day(m["entry_date"]) + year
            )
            for m in members
        ]
        return {
            "members": len(members),
            "offences_12m_before_entry": sum(before),
            "offences_12m_after_entry": sum(after),
            "offenders_before": sum(1 for n in before if n),
            "offenders_after": sum(1 for n in after if n),
            "members_without_offences_after": sum(1 for n in after if not n),
            "follow_up_complete": all(
                _day(m["entry_date"]) + year <= periods[0].end + timedelta(days=1) for m in members
            ),
        }

    def active_cohort(period: Period, baseline: Period) -> dict[str, Any]:
        members = [
            r
            for r in offenders
            if _day(r["entry_date"]) <= period.end and (not r["exit_date"] or _day(r["exit_date"]) >= period.start)
        ]
        on_programme, in_baseline = [], []
        for m in members:
            entry = _day(m["entry_date"])
            exit_day = _day(m["exit_date"]) if m["exit_date"] else date.max
            days = days_by_offender[m["offender_ref"]]
            on_programme.append(sum(1 for d in days if d in period and entry <= d <= exit_day))
            in_baseline.append(sum(1 for d in days if d in baseline))
        reoffenders = sum(1 for n in on_programme if n)
        baseline_offenders = sum(1 for n in in_baseline if n)
        return {
            "members": len(members),
            "offences_on_programme": sum(on_programme),
            "reoffenders": reoffenders,
            "reoffences_per_reoffender": _per_reoffender(sum(on_programme), reoffenders),
            "baseline_offences": sum(in_baseline),
            "baseline_offenders": baseline_offenders,
            "baseline_reoffences_per_reoffender": _per_reoffender(sum(in_baseline), baseline_offenders),
        }

    end = periods[0].end
    return {
        "members": len(offenders),
        "active_at_end": sum(
            1 for r in offenders if _day(r["entry_date"]) <= end and (not r["exit_date"] or _day(r["exit_date"]) >= end)
        ),
        "entrants": {p.name: entrants(p) for p in periods},
        "active_cohort": {p.name: active_cohort(p, periods[i + 1]) for i, p in enumerate(periods[:-1])},
        "offences": _per_period(periods, lambda p: sum(1 for r in offences if _day(r["offence_date"]) in p)),
    }

"""Deterministic synthetic partner data for a Community Safety Partnership, with planted signals and ground truth.

``generate(out_dir)`` writes one CSV per partner source (ASB incidents from police and council, IOM offenders and
their offences, domestic abuse incidents, MARAC referrals, population, last year's recommendations and a residents'
survey), a ``manifest.json`` for ingest, a ``truth.json`` with the planted signals and exact ground-truth figures,
and a ``README.md`` describing both. The same seed gives byte-identical files.

Volumes follow the domain notes for a district of about 300,000 people (police ASB about 4,500 incidents a year,
council ASB about 1,000, domestic abuse about 16 incidents per 1,000 residents, MARAC about 40 referrals per 10,000
women aged 16+ with about 30% repeats, an IOM cohort of 60-100) and scale with ``population``.
"""

from __future__ import annotations

import bisect
import csv
import heapq
import io
import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np

from cspkit.synth import messy as messy_mode
from cspkit.synth import substance
from cspkit.synth import truth as ground_truth
from cspkit.synth.area import Area, Lsoa, load_area
from cspkit.synth.identities import LINKAGE_TRUTH_COLUMNS, add_re_referenced_asb_copies, render_identities
from cspkit.synth.names import (
    ASB_OUTCOMES,
    ASB_TYPES,
    DA_CRIME_TYPES,
    MARAC_REFERRING_AGENCIES,
    OFFENCE_GROUPS,
    OFFENCE_OUTCOMES,
    OFFENDER_NEEDS,
)
from cspkit.synth.people import People, Person
from cspkit.synth.readme import render_readme
from cspkit.synth.truth import Period

__all__ = ["COLUMNS", "MANIFEST", "SynthSummary", "generate"]

GENERATOR_VERSION = "1"

COLUMNS: dict[str, tuple[str, ...]] = {
    "asb_incidents_police.csv": (
        "incident_ref", "reported_at", "category", "agency", "asb_type", "victim_ref", "victim_name", "victim_dob",
        "victim_postcode", "risk_score", "risk_level", "vulnerable", "lsoa_code", "ward_code", "longitude",
        "latitude", "outcome",
    ),
    "offenders.csv": (
        "offender_ref", "cohort", "entry_date", "exit_date", "needs", "ogrs_score", "offender_name", "offender_dob",
        "offender_postcode",
    ),
    "offences.csv": ("offender_ref", "offence_date", "offence_group", "outcome", "outcome_date", "lsoa_code"),
    "domestic_abuse.csv": (
        "incident_ref", "reported_at", "victim_ref", "perpetrator_ref", "is_crime", "crime_type", "dash_risk",
        "victim_sex", "victim_age", "children_present", "lsoa_code", "victim_name", "victim_dob", "victim_postcode",
        "perpetrator_name", "perpetrator_dob", "perpetrator_postcode",
    ),
    "marac_referrals.csv": (
        "referral_ref", "referral_date", "victim_ref", "perpetrator_ref", "referring_agency", "dash_score",
        "children_in_household", "victim_name", "victim_dob", "victim_postcode", "perpetrator_name",
        "perpetrator_dob", "perpetrator_postcode",
    ),
    "population.csv": ("area_code", "year", "population", "adult_female_population", "households"),
    "recommendations.csv": ("ref", "year", "text", "status", "priority", "owner", "due", "evidence"),
    "public_views.csv": ("year", "theme", "respondents", "share_concerned", "area_code", "source"),
    "substance_misuse.csv": substance.COLUMNS,
}  # fmt: skip
COLUMNS["asb_incidents_council.csv"] = COLUMNS["asb_incidents_police.csv"]

# file -> (source, agency), in the order the files are listed in manifest.json.
MANIFEST: dict[str, tuple[str, str]] = {
    "asb_incidents_police.csv": ("asb_incidents", "police"),
    "asb_incidents_council.csv": ("asb_incidents", "council"),
    "offenders.csv": ("offenders", "probation"),
    "offences.csv": ("offences", "probation"),
    "domestic_abuse.csv": ("domestic_abuse", "police"),
    "marac_referrals.csv": ("marac_referrals", "marac"),
    "population.csv": ("population", "ons"),
    "recommendations.csv": ("recommendations", "csp"),
    "public_views.csv": ("public_views", "council"),
    "substance_misuse.csv": ("substance_misuse", "treatment"),
}

# Calibration (domain.md 3.2-3.4), per year for the real Central Bedfordshire population.
_REFERENCE_POPULATION = 315_877
_POLICE_ASB_PER_YEAR = 4_500
_COUNCIL_ASB_PER_YEAR = 950  # plus ~5% shared with police, about 1,000 council records a year
_SHARED_ASB_SHARE = 0.05
_DA_PER_1000 = 16.0
_MARAC_PER_10K_WOMEN = 40.0
_MARAC_REPEAT_SHARE = 0.33  # a few picks fall through to new victims, so ~30% are repeats
_IOM_ENTRIES_PER_YEAR = 32

# Planted signals.
_PLANTED_REPEAT_VICTIMS = 25
_HOTSPOT_MULTIPLIER = 3.0
_DA_RISING_WARDS = 3
_DA_RISE = 0.5
_IOM_RATE_BEFORE = 2.0
_IOM_RATE_ON_PROGRAMME = 0.8
_IOM_RATE_AFTER_EXIT = 1.2

# Hour-of-day weights: ASB peaks in the evening, domestic abuse late evening.
_ASB_HOURS = (
    2,
    1.5,
    1,
    0.5,
    0.3,
    0.3,
    0.5,
    1,
    1.5,
    2,
    2.5,
    3,
    3.5,
    3.5,
    3.5,
    4,
    4.5,
    5,
    5.5,
    6,
    6,
    5.5,
    4.5,
    3,
)
_DA_HOURS = (4, 3, 2, 1.5, 1, 0.5, 0.5, 1, 1.5, 2, 2, 2, 2.5, 2.5, 2.5, 3, 3.5, 4, 4.5, 5, 5.5, 6, 6, 5)


T = TypeVar("T")


class _Weighted(Generic[T]):
    """Weighted random choice by one uniform draw and a bisection (much faster than numpy's choice per call)."""

    def __init__(self, items: list[T] | tuple[T, ...], weights: Any) -> None:
        cumulative = np.cumsum(np.asarray(weights, dtype=float))
        self.items = list(items)
        self.cumulative = (cumulative / cumulative[-1]).tolist()

    def draw(self, rng: np.random.Generator) -> T:
        return self.items[bisect.bisect_right(self.cumulative, rng.random())]


_ASB_HOUR = _Weighted(list(range(24)), _ASB_HOURS)
_DA_HOUR = _Weighted(list(range(24)), _DA_HOURS)
_CATEGORIES = ("personal", "nuisance", "environmental")
_VICTIM_SHARE = {"personal": 0.9, "nuisance": 0.35, "environmental": 0.05}
# Further incidents a new ASB victim reports within a year: most report once (domain notes 3.2).
_ASB_FOLLOW_UPS = _Weighted([0, 1, 2, 3, 4, 5, 6], [0.85, 0.105, 0.025, 0.01, 0.005, 0.003, 0.002])
_ASB_MEAN_FOLLOW_UPS = 0.105 + 2 * 0.025 + 3 * 0.01 + 4 * 0.005 + 5 * 0.003 + 6 * 0.002


@dataclass(frozen=True)
class SynthSummary:
    """What ``generate`` wrote.

    Attributes:
        out_dir: the folder holding the files.
        seed: the random seed.
        lad_code: the local authority district.
        population: the population the volumes were scaled to.
        rows: data rows per CSV file (planted bad rows included in messy mode).
        truth_path: the ground-truth JSON file.
        messy: whether messy mode was on.
    """

    out_dir: Path
    seed: int
    lad_code: str
    population: int
    rows: dict[str, int]
    truth_path: Path
    messy: bool


def _month_start(year: int, month: int, offset: int = 0) -> date:
    index = year * 12 + (month - 1) + offset
    return date(index // 12, index % 12 + 1, 1)


def _periods(end_month: str, years: int) -> list[Period]:
    """Twelve-month periods ending with end_month, newest first: assessment, previous, previous_2, ..."""
    year, month = (int(part) for part in end_month.split("-"))
    names = ["assessment", "previous"] + [f"previous_{k}" for k in range(2, years)]
    return [
        Period(
            names[k],
            _month_start(year, month, -12 * k - 11),
            _month_start(year, month, -12 * k + 1) - timedelta(days=1),
        )
        for k in range(years)
    ]


@dataclass
class _Draft:
    """An ASB incident before its reference and victim are settled."""

    when: datetime
    category: str
    lsoa: Lsoa
    victim: Person | None = None
    planted: bool = False
    needs_victim: bool = False


@dataclass
class _Generator:
    rng: np.random.Generator
    area: Area
    periods: list[Period]
    scale: float
    people: People
    lsoa_by_code: dict[str, Lsoa] = field(default_factory=dict)
    da_victims_by_lsoa: dict[str, list[Person]] = field(default_factory=lambda: defaultdict(list))
    perpetrator_of: dict[str, Person] = field(default_factory=dict)
    planted_victim_refs: list[tuple[str, str]] = field(default_factory=list)
    planted_person_ids: set[str] = field(default_factory=set)
    _pickers: dict[int, _Weighted[str]] = field(default_factory=dict)

    @property
    def start(self) -> date:
        return self.periods[-1].start

    @property
    def end(self) -> date:
        return self.periods[0].end

    # -- random helpers --------------------------------------------------------------------------------------

    def pick(self, weighted: tuple[tuple[str, float], ...]) -> str:
        chooser = self._pickers.get(id(weighted))
        if chooser is None:
            chooser = self._pickers[id(weighted)] = _Weighted([v for v, _ in weighted], [w for _, w in weighted])
        return chooser.draw(self.rng)

    def moment(self, day: date, hours: _Weighted[int]) -> datetime:
        return datetime(day.year, day.month, day.day, hours.draw(self.rng), int(self.rng.random() * 60))

    def day_between(self, first: date, last: date) -> date:
        return first + timedelta(days=int(self.rng.random() * ((last - first).days + 1)))

    def lsoa_weighted(self, weights: np.ndarray) -> Lsoa:
        return self.area.lsoas[int(self.rng.choice(len(self.area.lsoas), p=weights / weights.sum()))]

    def point(self, lsoa: Lsoa) -> tuple[str, str]:
        pool = self.area.points.get(lsoa.code)
        if not pool:
            return "", ""
        lon, lat = pool[int(self.rng.integers(len(pool)))]
        return f"{lon:.6f}", f"{lat:.6f}"

    # -- domestic abuse --------------------------------------------------------------------------------------

    def domestic_abuse(self) -> tuple[list[dict[str, str]], list[str]]:
        """DA incidents: flat ward counts (within ±5% a year) except 3 planted wards, +50% in the final year."""
        rng = self.rng
        wards = self.area.wards()
        female = np.array([lsoa.adult_female_population for lsoa in self.area.lsoas], dtype=float)
        lsoa_factor = rng.gamma(4.0, 0.25, len(female))  # some neighbourhoods see more DA than others
        weights = female * lsoa_factor
        expected_total = _DA_PER_1000 * self.area.population * self.scale / 1000
        ward_weight: dict[str, float] = defaultdict(float)
        for weight, lsoa in zip(weights, self.area.lsoas, strict=True):
            ward_weight[lsoa.ward_code] += float(weight)
        ward_base = {ward: expected_total * ward_weight[ward] / weights.sum() for ward in wards}
        median = float(np.median(list(ward_base.values())))
        candidates = [ward for ward in wards if ward_base[ward] >= median]
        rising = sorted(
            str(w) for w in rng.choice(candidates, size=min(_DA_RISING_WARDS, len(candidates)), replace=False)
        )

        events: list[tuple[datetime, Lsoa]] = []
        for ward in wards:
            in_ward = [i for i, lsoa in enumerate(self.area.lsoas) if lsoa.ward_code == ward]
            lsoa_in_ward = _Weighted([self.area.lsoas[i] for i in in_ward], weights[in_ward])
            for k, period in enumerate(self.periods):
                factor = 1 + float(rng.uniform(-0.05, 0.05))
                if ward in rising and k == 0:
                    factor *= 1 + _DA_RISE
                for _ in range(round(ward_base[ward] * factor)):
                    lsoa = lsoa_in_ward.draw(rng)
                    events.append((self.moment(self.day_between(period.start, period.end), _DA_HOUR), lsoa))
        events.sort(key=lambda e: (e[0], e[1].code))

        # Per ward, victims in order of their latest incident; an entry is stale once its victim reappears later.
        seen: dict[str, list[tuple[Person, date]]] = defaultdict(list)
        oldest: dict[str, int] = defaultdict(int)
        latest: dict[str, date] = {}
        rows: list[dict[str, str]] = []
        counters: dict[int, int] = defaultdict(int)
        for when, lsoa in events:
            ward_seen = seen[lsoa.ward_code]
            while (
                oldest[lsoa.ward_code] < len(ward_seen)
                and (when.date() - ward_seen[oldest[lsoa.ward_code]][1]).days > 365
            ):
                oldest[lsoa.ward_code] += 1
            victim = None
            if oldest[lsoa.ward_code] < len(ward_seen) and rng.random() < 0.3:  # a repeat victim within the year
                first = oldest[lsoa.ward_code]
                person, last = ward_seen[first + int(rng.random() * (len(ward_seen) - first))]
                if latest[person.person_id] == last:
                    victim = person
            if victim is None:
                sex = "F" if rng.random() < 0.78 else "M"
                victim = self.people.new_person(lsoa, sex, *_age_band(rng, 16, 80, mode=30))
                partner_home = lsoa if rng.random() < 0.7 else self.area.lsoas[int(rng.integers(len(self.area.lsoas)))]
                partner_sex = ("M" if sex == "F" else "F") if rng.random() < 0.92 else sex
                self.perpetrator_of[victim.person_id] = self.people.new_person(partner_home, partner_sex, 17, 70)
                self.da_victims_by_lsoa[lsoa.code].append(victim)
            ward_seen.append((victim, when.date()))
            latest[victim.person_id] = when.date()
            perpetrator = self.perpetrator_of[victim.person_id]
            counters[when.year] += 1
            ref = self.people.ref("police", victim, when.date())
            ids = self.people.identifiers[("police", ref)]
            is_crime = rng.random() < 0.38
            risk = rng.random()
            rows.append(
                {
                    "incident_ref": f"DA/{when.year % 100:02d}/{counters[when.year]:06d}",
                    "reported_at": when.strftime("%Y-%m-%d %H:%M"),
                    "victim_ref": ref,
                    "perpetrator_ref": self.people.ref("police", perpetrator, when.date()),
                    "is_crime": "yes" if is_crime else "no",
                    "crime_type": self.pick(DA_CRIME_TYPES) if is_crime else "",
                    "dash_risk": "high" if risk < 0.08 else "medium" if risk < 0.30 else "standard",
                    "victim_sex": victim.sex,
                    "victim_age": str(_age(victim.dob, when.date())),
                    "children_present": "yes" if rng.random() < 0.3 else "no",
                    "lsoa_code": lsoa.code,
                    "victim_name": ids.name,
                    "victim_dob": ids.dob,
                    "victim_postcode": ids.postcode,
                }
            )
        return rows, rising

    # -- MARAC -----------------------------------------------------------------------------------------------

    def marac(self, da_rows: list[dict[str, str]]) -> list[dict[str, str]]:
        """MARAC referrals: new high-risk victims from police DA incidents or other agencies, ~30% repeats."""
        rng = self.rng
        police_person = {ref: pid for pid, ref in self.people.refs["police"].items()}
        high_risk = [
            (date.fromisoformat(r["reported_at"][:10]), self.people.by_id(police_person[r["victim_ref"]]))
            for r in da_rows
            if r["dash_risk"] == "high"
        ]
        per_year = _MARAC_PER_10K_WOMEN * self.area.adult_female_population * self.scale / 10_000
        days = sorted(
            self.day_between(self.start, self.end) for _ in range(int(rng.poisson(per_year * len(self.periods))))
        )
        high_risk_days = [d for d, _ in high_risk]
        referred: dict[str, date] = {}
        history: list[tuple[date, str]] = []  # referrals in date order; stale once the victim is referred again
        oldest = 0
        female = np.array([lsoa.adult_female_population for lsoa in self.area.lsoas], dtype=float)
        rows = []
        counters: dict[int, int] = defaultdict(int)
        cursor = 0
        for day in days:
            while oldest < len(history) and (day - history[oldest][0]).days > 365:
                oldest += 1
            victim = None
            if oldest < len(history) and rng.random() < _MARAC_REPEAT_SHARE:
                for _ in range(3):  # a victim whose latest referral was within the year
                    last, pid = history[oldest + int(rng.random() * (len(history) - oldest))]
                    if referred[pid] == last < day:
                        victim = self.people.by_id(pid)
                        break
                agency = self.pick(MARAC_REFERRING_AGENCIES)
            if victim is None:
                while cursor < len(high_risk) and high_risk[cursor][0] < day - timedelta(days=45):
                    cursor += 1
                recent_high_risk = high_risk[cursor : bisect.bisect_left(high_risk_days, day)]
                candidates = [p for _, p in recent_high_risk if p.person_id not in referred]
                if candidates and rng.random() < 0.8:
                    victim = candidates[int(rng.random() * len(candidates))]
                    agency = "police" if rng.random() < 0.85 else self.pick(MARAC_REFERRING_AGENCIES)
                else:  # a victim first identified by another agency, unknown to police
                    victim = self.people.new_person(self.lsoa_weighted(female), "F", *_age_band(rng, 18, 70, mode=30))
                    self.perpetrator_of[victim.person_id] = self.people.new_person(
                        self.lsoa_weighted(female), "M", 18, 65
                    )
                    agency = self.pick(MARAC_REFERRING_AGENCIES[1:])
            is_repeat = victim.person_id in referred and (day - referred[victim.person_id]).days <= 365
            referred[victim.person_id] = day
            history.append((day, victim.person_id))
            counters[day.year] += 1
            visible_high_risk = rng.random() < 0.85 or is_repeat
            rows.append(
                {
                    "referral_ref": f"MR-{day.year}-{counters[day.year]:04d}",
                    "referral_date": day.isoformat(),
                    "victim_ref": self.people.ref("marac", victim, day),
                    "perpetrator_ref": self.people.ref("marac", self.perpetrator_of[victim.person_id], day),
                    "referring_agency": agency,
                    "dash_score": str(int(rng.integers(14, 28)) if visible_high_risk else int(rng.integers(6, 14))),
                    "children_in_household": str(int(rng.choice(5, p=[0.45, 0.22, 0.2, 0.09, 0.04]))),
                }
            )
        return rows

    # -- ASB -------------------------------------------------------------------------------------------------

    def asb(self) -> tuple[list[dict[str, str]], list[dict[str, str]], Lsoa]:
        """Police and council ASB incidents with the planted hotspot and repeat-vulnerable victims."""
        rng = self.rng
        population = np.array([lsoa.population for lsoa in self.area.lsoas], dtype=float)
        busyness = population * rng.gamma(2.0, 0.5, len(population))
        # The hotspot: a fixed, fairly busy LSOA for the seed, so its tripling stands out from noise.
        ranked = sorted(range(len(busyness)), key=lambda i: (-busyness[i], self.area.lsoas[i].code))
        hotspot = self.area.lsoas[ranked[int(rng.integers(5, min(25, len(ranked))))] if len(ranked) > 5 else ranked[0]]

        police = self._asb_drafts(busyness, _POLICE_ASB_PER_YEAR, (0.25, 0.6, 0.15), hotspot)
        council = self._asb_drafts(busyness, _COUNCIL_ASB_PER_YEAR, (0.35, 0.3, 0.35), hotspot)
        self._plant_repeat_victims(police, council, population)

        police_rows = self._settle("police", police, lambda n, when: f"ASB/{when.year % 100:02d}/{n:06d}", (0.04, 0.16))
        council_rows = self._settle("council", council, lambda n, when: f"CASB-{n:05d}", (0.05, 0.2))

        # A documented share of council records are the same incident as a police one, under the shared ref.
        shared_count = round(len(council_rows) * _SHARED_ASB_SHARE / (1 - _SHARED_ASB_SHARE))
        eligible = [i for i, r in enumerate(police_rows) if r["category"] != "environmental"]
        chosen = sorted(int(i) for i in rng.choice(eligible, size=min(shared_count, len(eligible)), replace=False))
        police_person = {ref: pid for pid, ref in self.people.refs["police"].items()}
        for i in chosen:
            source = police_rows[i]
            when = datetime.strptime(source["reported_at"], "%Y-%m-%d %H:%M")
            when = min(
                when + timedelta(days=int(rng.integers(0, 4)), minutes=int(rng.integers(30, 600))),
                datetime(self.end.year, self.end.month, self.end.day, 23, 59),
            )
            row = dict(
                source,
                reported_at=when.strftime("%Y-%m-%d %H:%M"),
                agency="council",
                outcome=ASB_OUTCOMES[int(rng.integers(len(ASB_OUTCOMES)))],
            )
            if source["victim_ref"]:
                victim = self.people.by_id(police_person[source["victim_ref"]])
                ref = self.people.ref("council", victim, when.date())
                ids = self.people.identifiers[("council", ref)]
                row.update(victim_ref=ref, victim_name=ids.name, victim_dob=ids.dob, victim_postcode=ids.postcode)
            council_rows.append(row)
        council_rows.sort(key=lambda r: (r["reported_at"], r["incident_ref"]))
        return police_rows, council_rows, hotspot

    def _asb_drafts(
        self, busyness: np.ndarray, per_year: float, category_mix: tuple[float, float, float], hotspot: Lsoa
    ) -> list[_Draft]:
        """First reports of ASB incidents, Poisson per LSOA and month, with a summer peak and the hotspot."""
        rng = self.rng
        # Victims' follow-up reports come on top of these, so first reports are scaled down to keep the volume.
        victim_share = sum(m * _VICTIM_SHARE[c] for m, c in zip(category_mix, _CATEGORIES, strict=True))
        rates = busyness / busyness.sum() * per_year * self.scale / 12 / (1 + victim_share * _ASB_MEAN_FOLLOW_UPS)
        category = _Weighted(_CATEGORIES, category_mix)
        hotspot_index = self.area.lsoas.index(hotspot)
        drafts = []
        month = self.start
        while month <= self.end:
            next_month = _month_start(month.year, month.month, 1)
            season = 1 + 0.25 * math.cos(2 * math.pi * (month.month - 7) / 12)  # summer peak
            expected = rates * season
            if month in self.periods[0]:
                expected[hotspot_index] *= _HOTSPOT_MULTIPLIER
            counts = rng.poisson(expected)
            for i, lsoa in enumerate(self.area.lsoas):
                for _ in range(int(counts[i])):
                    kind = category.draw(rng)
                    day = self.day_between(month, next_month - timedelta(days=1))
                    needs_victim = rng.random() < _VICTIM_SHARE[kind]
                    drafts.append(_Draft(self.moment(day, _ASB_HOUR), kind, lsoa, needs_victim=needs_victim))
            month = next_month
        return drafts

    def _plant_repeat_victims(self, police: list[_Draft], council: list[_Draft], population: np.ndarray) -> None:
        """Planted signal 1: vulnerable victims with 3-8 high-risk personal incidents in the final 12 months."""
        rng = self.rng
        group = max(5, round(_PLANTED_REPEAT_VICTIMS * self.scale))
        period = self.periods[0]
        for k in range(group):
            drafts = police if k % 5 < 3 else council  # 3 in 5 known to police, 2 in 5 to the council
            lsoa = self.lsoa_weighted(population)
            victim = self.people.new_person(lsoa, "F" if rng.random() < 0.6 else "M", *_age_band(rng, 18, 90, mode=60))
            self.planted_person_ids.add(victim.person_id)
            for _ in range(int(rng.integers(3, 9))):
                drafts.append(
                    _Draft(
                        self.moment(self.day_between(period.start, period.end), _ASB_HOUR),
                        "personal",
                        lsoa,
                        victim,
                        planted=True,
                    )
                )

    def _settle(
        self, agency: str, drafts: list[_Draft], make_ref: Any, risk_mix: tuple[float, float]
    ) -> list[dict[str, str]]:
        """Take drafts in time order, give each a reference and a victim, and turn them into rows.

        A new victim may report again: their follow-up incidents (same place and category, within about 300
        days) join the queue as they are drawn, so repeat victimisation is the same in every year.
        """
        rng = self.rng
        queue = [(d.when, n, d) for n, d in enumerate(drafts)]
        heapq.heapify(queue)
        sequence = len(queue)
        known_elsewhere: dict[str, list[Person]] = defaultdict(list)
        if agency == "council":  # victims already known to police may report to the council too
            perpetrators = {p.person_id for p in self.perpetrator_of.values()}
            for pid in self.people.refs["police"]:
                if pid not in perpetrators and pid not in self.planted_person_ids:
                    person = self.people.by_id(pid)
                    known_elsewhere[person.lsoa_code].append(person)
        per_year: dict[int, int] = defaultdict(int)
        serial = 0
        rows = []
        p_high, p_medium = risk_mix
        end = datetime(self.end.year, self.end.month, self.end.day, 23, 59)
        while queue:
            _, _, draft = heapq.heappop(queue)
            victim = draft.victim
            if draft.needs_victim and victim is None:
                victim = self._asb_victim(draft, known_elsewhere)
                for _ in range(_ASB_FOLLOW_UPS.draw(rng)):
                    when = self.moment(draft.when.date() + timedelta(days=1 + int(rng.random() * 300)), _ASB_HOUR)
                    if when <= end:
                        sequence += 1
                        heapq.heappush(queue, (when, sequence, _Draft(when, draft.category, draft.lsoa, victim)))
            per_year[draft.when.year] += 1
            serial += 1
            ref = make_ref(per_year[draft.when.year] if agency == "police" else serial, draft.when)
            row = {
                "incident_ref": ref,
                "reported_at": draft.when.strftime("%Y-%m-%d %H:%M"),
                "category": draft.category,
                "agency": agency,
                "asb_type": self.pick(ASB_TYPES[draft.category]),
                "victim_ref": "",
                "victim_name": "",
                "victim_dob": "",
                "victim_postcode": "",
                "risk_score": "",
                "risk_level": "",
                "vulnerable": "",
                "lsoa_code": draft.lsoa.code,
                "ward_code": draft.lsoa.ward_code,
                "longitude": "",
                "latitude": "",
                "outcome": ASB_OUTCOMES[int(rng.random() * len(ASB_OUTCOMES))],
            }
            row["longitude"], row["latitude"] = self.point(draft.lsoa)
            if victim is not None:
                victim_ref = self.people.ref(agency, victim, draft.when.date())
                ids = self.people.identifiers[(agency, victim_ref)]
                u = rng.random()
                if draft.planted:
                    score = 22 + int(u * 9)
                    if (agency, victim_ref) not in self.planted_victim_refs:
                        self.planted_victim_refs.append((agency, victim_ref))
                elif u < p_high:
                    score = 22 + int(u / p_high * 9)
                elif u < p_high + p_medium:
                    score = 12 + int((u - p_high) / p_medium * 10)
                else:
                    score = int((u - p_high - p_medium) / (1 - p_high - p_medium) * 12)
                level = "high" if score >= 22 else "medium" if score >= 12 else "standard"
                vulnerable = level == "high" or rng.random() < (0.15 if level == "medium" else 0.03)
                row.update(
                    victim_ref=victim_ref,
                    victim_name=ids.name,
                    victim_dob=ids.dob,
                    victim_postcode=ids.postcode,
                    risk_score=str(score),
                    risk_level=level,
                    vulnerable="yes" if vulnerable else "no",
                )
            rows.append(row)
        return rows

    def _asb_victim(self, draft: _Draft, known_elsewhere: dict[str, list[Person]]) -> Person:
        """A new victim for this agency; a few are already known to police for domestic abuse or ASB."""
        rng = self.rng
        u = rng.random()
        if u < 0.04 and self.da_victims_by_lsoa.get(draft.lsoa.code):
            known = self.da_victims_by_lsoa[draft.lsoa.code]
            return known[int(rng.random() * len(known))]
        if u < 0.12 and known_elsewhere.get(draft.lsoa.code):
            known = known_elsewhere[draft.lsoa.code]
            return known[int(rng.random() * len(known))]
        sex = "F" if rng.random() < 0.52 else "M"
        return self.people.new_person(draft.lsoa, sex, *_age_band(rng, 16, 90, mode=45))

    # -- IOM -------------------------------------------------------------------------------------------------

    def iom(self) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
        """IOM offenders and their offences: 2.0 offences a year before entry, 0.8 on the programme, 1.2 after."""
        rng = self.rng
        population = np.array([lsoa.population for lsoa in self.area.lsoas], dtype=float)
        entries = int(rng.poisson(_IOM_ENTRIES_PER_YEAR * self.scale * len(self.periods)))
        entry_days = sorted(self.day_between(self.start, self.end) for _ in range(entries))
        perpetrators = sorted((p for p in self.perpetrator_of.values() if p.sex == "M"), key=lambda p: p.person_id)
        offenders, offences = [], []
        for entry in entry_days:
            if perpetrators and rng.random() < 0.1:  # a DA perpetrator known to police, now managed by IOM
                person = perpetrators.pop(int(rng.integers(len(perpetrators))))
            else:
                person = self.people.new_person(
                    self.lsoa_weighted(population),
                    "M" if rng.random() < 0.88 else "F",
                    *_age_band(rng, 18, 55, mode=27),
                )
            exit_day: date | None = entry + timedelta(days=int(rng.integers(270, 900)))
            if exit_day is not None and exit_day > self.end:
                exit_day = None
            ref = self.people.ref("probation", person, entry)
            ids = self.people.identifiers[("probation", ref)]
            needs = [need for need, p in OFFENDER_NEEDS if rng.random() < p] or ["accommodation"]
            offenders.append(
                {
                    "offender_ref": ref,
                    "cohort": "PPO" if rng.random() < 0.15 else "IOM",
                    "entry_date": entry.isoformat(),
                    "exit_date": exit_day.isoformat() if exit_day else "",
                    "needs": ";".join(needs),
                    "ogrs_score": str(int(rng.integers(35, 96))),
                    "offender_name": ids.name,
                    "offender_dob": ids.dob,
                    "offender_postcode": ids.postcode,
                }
            )
            spans = [(entry - timedelta(days=730), entry - timedelta(days=1), _IOM_RATE_BEFORE)]
            spans.append((entry, exit_day or self.end, _IOM_RATE_ON_PROGRAMME))
            if exit_day:
                spans.append((exit_day + timedelta(days=1), self.end, _IOM_RATE_AFTER_EXIT))
            for first, last, rate in spans:
                if last < first:
                    continue
                for _ in range(int(rng.poisson(rate * ((last - first).days + 1) / 365))):
                    day = self.day_between(first, last)
                    if day < self.start:
                        continue  # before the extract: not in the file, as in a real extract
                    offences.append(self._offence(ref, person, day))
        offences.sort(key=lambda r: (r["offence_date"], r["offender_ref"], r["offence_group"]))
        return offenders, offences

    def _offence(self, ref: str, person: Person, day: date) -> dict[str, str]:
        rng = self.rng
        outcome_day = day + timedelta(days=int(rng.integers(1, 121)))
        pending = outcome_day > self.end
        home = self.lsoa_by_code[person.lsoa_code]
        return {
            "offender_ref": ref,
            "offence_date": day.isoformat(),
            "offence_group": self.pick(OFFENCE_GROUPS),
            "outcome": "Under investigation" if pending else self.pick(OFFENCE_OUTCOMES),
            "outcome_date": "" if pending else outcome_day.isoformat(),
            "lsoa_code": home.code
            if rng.random() < 0.7
            else self.area.lsoas[int(rng.integers(len(self.area.lsoas)))].code,
        }

    # -- context files ---------------------------------------------------------------------------------------

    def population_rows(self) -> list[dict[str, str]]:
        """Mid-2024 population per LSOA (scaled with the volumes); households = population / 2.4, synthetic."""
        rows = []
        for lsoa in self.area.lsoas:
            population = round(lsoa.population * self.scale)
            rows.append(
                {
                    "area_code": lsoa.code,
                    "year": "2024",
                    "population": str(population),
                    "adult_female_population": str(round(lsoa.adult_female_population * self.scale)),
                    "households": str(round(population / 2.4)),
                }
            )
        return rows

    def recommendations(self) -> list[dict[str, str]]:
        """About 8 recommendations of last year's plan with a delivery status."""
        rng = self.rng
        plan_start = self.periods[0].start
        label = f"{plan_start.year}-{(plan_start.year + 1) % 100:02d}"
        items = (
            (
                "Introduce a shared ASB case-management system so that police and council see repeat victims "
                "at first contact.",
                "ASB",
                "Head of Community Safety",
            ),
            (
                "Risk-assess every ASB victim at first contact and review high-risk cases every 14 days.",
                "ASB",
                "Bedfordshire Police",
            ),
            (
                "Extend the IOM cohort to include domestic abuse perpetrators.",
                "Reducing reoffending",
                "Probation Service",
            ),
            (
                "Secure move-on accommodation for IOM offenders leaving custody.",
                "Reducing reoffending",
                "Housing Services",
            ),
            ("Commission a domestic abuse perpetrator programme.", "Domestic abuse", "Public Health"),
            (
                "Raise MARAC referrals from agencies other than police to at least 25%.",
                "Domestic abuse",
                "MARAC Chair",
            ),
            (
                "Map sexual violence services and publish a referral pathway.",
                "Sexual violence",
                "Community Safety Partnership",
            ),
            (
                "Run a residents' survey each year and publish the results by ward.",
                "Public confidence",
                "Council Insight Team",
            ),
        )
        statuses = ("complete", "on_track", "delayed", "not_started", "dropped")
        rows = []
        for i, (text, priority, owner) in enumerate(items, start=1):
            status = statuses[int(rng.choice(5, p=[0.35, 0.3, 0.2, 0.1, 0.05]))]
            due = self.day_between(plan_start + timedelta(days=90), self.end)
            evidence = {
                "complete": "Delivered; see partnership board minutes.",
                "on_track": "Milestones met to date.",
                "delayed": "Funding agreed late; revised timetable.",
                "not_started": "Awaiting partner capacity.",
                "dropped": "Superseded by a national programme.",
            }[status]
            rows.append(
                {
                    "ref": f"R{i:02d}",
                    "year": label,
                    "text": text,
                    "status": status,
                    "priority": priority,
                    "owner": owner,
                    "due": due.isoformat(),
                    "evidence": evidence,
                }
            )
        return rows

    def public_views(self) -> list[dict[str, str]]:
        """Two residents' surveys (the last two calendar years of the data) with the share concerned per theme."""
        rng = self.rng
        themes = (
            ("anti-social behaviour", 0.38), ("speeding and road safety", 0.45), ("burglary", 0.31),
            ("drugs", 0.27), ("domestic abuse", 0.12), ("violence", 0.15), ("shoplifting", 0.14),
            ("vehicle crime", 0.22), ("criminal damage", 0.18),
        )  # fmt: skip
        survey_year = self.end.year - 1
        rows = []
        for year in (survey_year - 1, survey_year):
            respondents = int(rng.integers(900, 1400))
            for theme, share in themes:
                drift = 0.04 if theme == "anti-social behaviour" and year == survey_year else 0.0
                value = min(0.95, max(0.01, share + drift + float(rng.normal(0, 0.015))))
                rows.append(
                    {
                        "year": str(year),
                        "theme": theme,
                        "respondents": str(respondents),
                        "share_concerned": f"{value:.3f}",
                        "area_code": self.area.lad_code,
                        "source": f"Residents' survey {year} (synthetic)",
                    }
                )
        return rows


def _age_band(rng: np.random.Generator, low: int, high: int, mode: int) -> tuple[int, int]:
    """A one-year age band drawn from a triangular distribution, as (min_age, max_age)."""
    age = int(rng.triangular(low, mode, high))
    return age, age


def _age(dob: date, on: date) -> int:
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


def _csv_text(columns: tuple[str, ...], rows: list[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows([row[c] for c in columns] for row in rows)
    return buffer.getvalue()


def generate(
    out_dir: Path,
    *,
    seed: int = 1,
    lad_code: str = "E06000056",
    population: int | None = None,
    years: int = 3,
    end_month: str = "2023-04",
    messy: bool = False,
) -> SynthSummary:
    """Write a partnership's synthetic partner files, manifest.json, truth.json and README.md into out_dir.

    Args:
        out_dir: folder to write into (created if needed; files of the same name are replaced).
        seed: random seed; the same seed and arguments give byte-identical files.
        lad_code: the local authority district (LAD 2024 code) whose LSOAs, wards and population to use.
        population: population to scale volumes to; None uses the district's real mid-2024 total.
        years: number of 12-month periods of data (at least 2: the assessment period and the one before).
        end_month: last month of the data, ``YYYY-MM``; the assessment period is the 12 months ending with it.
        messy: write realistic mess (aliased headers, UK dates, cp1252, semicolons, CRLF, planted bad rows).

    Returns:
        A summary of what was written.

    Raises:
        ValueError: years < 2, a malformed end_month, a non-positive population or an unknown LAD code.
    """
    if years < 2:
        raise ValueError("years must be at least 2 (the assessment period and the previous one)")
    try:
        datetime.strptime(end_month, "%Y-%m")
    except ValueError as error:
        raise ValueError(f"end_month must be YYYY-MM, got {end_month!r}") from error
    if population is not None and population <= 0:
        raise ValueError("population must be positive")

    rng = np.random.default_rng(seed)
    area = load_area(lad_code, seed)
    real_population = area.population
    scale = population / real_population if population else 1.0
    periods = _periods(end_month, years)
    people = People(rng, periods[0].end)
    gen = _Generator(rng, area, periods, scale, people, {lsoa.code: lsoa for lsoa in area.lsoas})

    da_rows, rising_wards = gen.domestic_abuse()
    marac_rows = gen.marac(da_rows)
    police_rows, council_rows, hotspot = gen.asb()
    offenders, offences = gen.iom()
    population_rows = gen.population_rows()
    tables: dict[str, list[dict[str, str]]] = {
        "asb_incidents_police.csv": police_rows,
        "asb_incidents_council.csv": council_rows,
        "offenders.csv": offenders,
        "offences.csv": offences,
        "domestic_abuse.csv": da_rows,
        "marac_referrals.csv": marac_rows,
        "population.csv": population_rows,
        "recommendations.csv": gen.recommendations(),
        "public_views.csv": gen.public_views(),
        # its own random stream, so that the other files are unchanged by it
        "substance_misuse.csv": substance.substance_rows(
            np.random.default_rng([seed, 7]), periods, sum(int(r["population"]) for r in population_rows), lad_code
        ),
    }

    # Identities of every person record, with linkage noise, from a stream of their own (other truths unchanged).
    for name in ("domestic_abuse.csv", "marac_referrals.csv"):
        for row in tables[name]:
            for column in COLUMNS[name]:
                row.setdefault(column, "")
    # Council copies of police incidents under the council's own reference (found only by linkage), on a stream
    # of their own and after every other file is drawn.
    copies = add_re_referenced_asb_copies(police_rows, council_rows, people, np.random.default_rng([seed, 13]), gen.end)
    police_person = {ref: pid for pid, ref in people.refs["police"].items()}
    linkage_rows, linkage_summary = render_identities(
        tables,
        people,
        gen.perpetrator_of,
        {police_person[r["victim_ref"]] for r in da_rows},
        np.random.default_rng([seed, 12]),
        (gen.start, gen.end),
        copies,
    )

    wards = area.wards()
    ward_of = {lsoa.code: lsoa.ward_code for lsoa in area.lsoas}
    adult_females = sum(int(r["adult_female_population"]) for r in population_rows)
    person_of = people.person_of()
    asb = ground_truth.asb_truth(police_rows, council_rows, person_of, periods, gen.planted_victim_refs, hotspot.code)
    da = ground_truth.da_truth(da_rows, ward_of, periods)
    truth: dict[str, Any] = {
        "generator": {
            "name": "cspkit.synth",
            "version": GENERATOR_VERSION,
            "seed": seed,
            "lad_code": lad_code,
            "lad_name": area.lad_name,
            "population": sum(int(r["population"]) for r in population_rows),
            "real_population": real_population,
            "scale": round(scale, 6),
            "years": years,
            "end_month": end_month,
            "messy": messy,
        },
        "window": {"start": gen.start.isoformat(), "end": gen.end.isoformat()},
        "periods": {p.name: p.as_dict() for p in periods},
        "definitions": _DEFINITIONS,
        "rows": {name: len(rows) for name, rows in tables.items()},
        "planted": {
            "repeat_vulnerable_asb_victims": {
                "victims": len(gen.planted_victim_refs),
                "incidents_each": [3, 8],
                "risk_score_min": 22,
                "risk_level": "high",
                "vulnerable": "yes",
                "category": "personal",
                "period": "assessment",
                "refs": [{"agency": a, "victim_ref": r} for a, r in gen.planted_victim_refs],
                "person_ids": [person_of[a][r] for a, r in gen.planted_victim_refs],
            },
            "asb_hotspot": {
                "lsoa_code": hotspot.code,
                "lsoa_name": hotspot.name,
                "ward_code": hotspot.ward_code,
                "ward_name": hotspot.ward_name,
                "multiplier": _HOTSPOT_MULTIPLIER,
                "period": "assessment",
                "incidents": asb["hotspot"],
            },
            "da_rising_wards": {
                "rise": _DA_RISE,
                "other_wards_yearly_noise": 0.05,
                "wards": [{"ward_code": w, "ward_name": wards[w], "incidents": da["by_ward"][w]} for w in rising_wards],
            },
            "iom_reoffending": {
                "offences_per_year_before_entry": _IOM_RATE_BEFORE,
                "offences_per_year_on_programme": _IOM_RATE_ON_PROGRAMME,
                "offences_per_year_after_exit": _IOM_RATE_AFTER_EXIT,
            },
            "shared_asb_incident_share": _SHARED_ASB_SHARE,
        },
        "asb": asb,
        "domestic_abuse": da,
        "marac": ground_truth.marac_truth(marac_rows, periods, adult_females),
        "iom": ground_truth.iom_truth(offenders, offences, periods),
        "substance_misuse": substance.substance_truth(tables["substance_misuse.csv"], periods),
        "people": {
            "persons": len(people.persons),
            "refs_per_agency": {agency: len(refs) for agency, refs in person_of.items()},
            "persons_known_to_several_agencies": _multi_agency(person_of),
            "person_of": person_of,
        },
        "linkage": {
            "truth_file": "linkage_truth.csv",
            "definition": "One row per person record: source, record_ref (incident_ref, referral_ref or "
            "offender_ref as in the partner file), role (victim, perpetrator, offender), person_label (true person), "
            "same_incident_as (for a council ASB record that copies a police incident under the council's own "
            "reference: the police incident_ref).",
            "asb_re_referenced_copies": len(copies),
            "asb_re_referenced_copies_by_period": {
                p.name: sum(
                    1
                    for r in council_rows
                    if r["incident_ref"] in copies and date.fromisoformat(r["reported_at"][:10]) in p
                )
                for p in periods
            },
            **linkage_summary,
        },
        "messy": None,
    }

    out_dir.mkdir(parents=True, exist_ok=True)
    if messy:
        texts, truth["messy"] = messy_mode.render(tables, COLUMNS, np.random.default_rng([seed, 99]))
        for name, payload in texts.items():
            (out_dir / name).write_bytes(payload)
        rows_written = {
            name: len(tables[name]) + len(truth["messy"]["files"].get(name, {}).get("bad_rows", [])) for name in tables
        }
    else:
        for name, rows in tables.items():
            (out_dir / name).write_bytes(_csv_text(COLUMNS[name], rows).encode("utf-8"))
        rows_written = {name: len(rows) for name, rows in tables.items()}
    (out_dir / "linkage_truth.csv").write_bytes(_csv_text(LINKAGE_TRUTH_COLUMNS, linkage_rows).encode("utf-8"))
    manifest = [{"file": name, "source": source, "agency": agency} for name, (source, agency) in MANIFEST.items()]
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    truth_path = out_dir / "truth.json"
    truth_path.write_text(json.dumps(truth, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    (out_dir / "README.md").write_text(render_readme(truth), encoding="utf-8")
    return SynthSummary(
        out_dir=out_dir,
        seed=seed,
        lad_code=lad_code,
        population=truth["generator"]["population"],
        rows=rows_written,
        truth_path=truth_path,
        messy=messy,
    )


def _multi_agency(person_of: dict[str, dict[str, str]]) -> int:
    agencies_of: dict[str, set[str]] = defaultdict(set)
    for agency, refs in person_of.items():
        for pid in refs.values():
            agencies_of[pid].add(agency)
    return sum(1 for agencies in agencies_of.values() if len(agencies) > 1)


_DEFINITIONS = {
    "periods": "Each period is 12 calendar months, both ends included; 'assessment' is the final 12 months.",
    "asb_repeat_victim": (
        "A victim (an agency's victim_ref; for combined_by_person the true person, counting an incident reported "
        "to both agencies under a shared incident_ref once) with at least 3 incidents within any 365-day window, "
        "counting only incidents in the period: dates d1 <= d2 <= d3 in the period with d3 - d1 <= 364 days."
    ),
    "asb_high_risk_victim": (
        "A victim with at least one incident in the period with risk_level high (risk_score >= 22)."
    ),
    "asb_vulnerable_victim": "A victim with at least one incident in the period flagged vulnerable = yes.",
    "asb_risk_levels": "risk_score 0-11 standard, 12-21 medium, 22-30 high (Stockton-style threshold 22).",
    "marac_repeat": "A referral dated within 365 days after the same victim_ref's previous referral (0 < days <= 365).",
    "marac_volume": "Referrals per 10,000 women aged 16+ (adult_female_population summed over population.csv).",
    "iom_entrants": (
        "Members whose entry_date is in the period; offences with offence_date in [entry - 365 days, entry) and "
        "[entry, entry + 365 days). follow_up_complete is false when the data end before the year after entry. "
        "Offences before the data window are not in the extract, so entrants early in the window show fewer "
        "offences before entry."
    ),
    "iom_active_cohort": (
        "Members with entry_date <= period end and no exit_date or exit_date >= period start. offences_on_programme: "
        "offences in the period with entry_date <= offence_date <= exit_date; reoffences_per_reoffender = those "
        "offences / members with at least one. Baseline: the same members' offences in the previous period / "
        "members with at least one."
    ),
    "da_by_ward": "Domestic abuse incidents by reported_at in the period, by the ward of their lsoa_code.",
    "person_of": "For every agency, the agency's ref -> the true person id (P000123): the linkage ground truth.",
}

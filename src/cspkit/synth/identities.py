"""Per-record identities with the noise that makes cross-agency linkage hard, and the linkage ground truth.

The generator decides who each record is about (its agency's reference -> the true person). This pass writes the
direct identifiers of every person record (ASB victims, DA victims and perpetrators, MARAC victims and
perpetrators, offenders) the way case systems hold them, from its own random stream, so every other planted
truth stays as it was. Noise, at rates chosen to be realistic rather than easy:

- per agency (one nominal record per person): name layout (``Forename SURNAME``, ``SURNAME, Forename``, lower
  case), accents dropped, a nickname (Bob for Robert), a married or maiden surname, a typo that sticks;
- per record: a fresh typo in either name, the day and month of the date of birth swapped, a mistyped date, a
  missing date of birth or postcode, a mistyped postcode, and the postcode after a house move (within the
  district, or for 40% of movers to another district of the area);
- between people: twins (same surname, date of birth and postcode), household members (same surname and
  postcode), DA perpetrators living with the victim and sharing her surname, and common names given to several
  people.

``linkage_truth.csv`` lists ``source,record_ref,role,person_label`` for every person record: the input of
``cspkit link evaluate``; a fifth column, ``same_incident_as``, gives for a council ASB record that copies a police
incident under the council's own reference (:func:`add_re_referenced_asb_copies`) the police ``incident_ref``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from cspkit.synth.names import ASB_OUTCOMES, NICKNAMES, SURNAMES
from cspkit.synth.people import People, Person, ascii_fold

__all__ = [
    "LINKAGE_TRUTH_COLUMNS",
    "RE_REFERENCED_ASB_SHARE",
    "PersonRecord",
    "add_re_referenced_asb_copies",
    "keying_typo",
    "render_identities",
]

LINKAGE_TRUTH_COLUMNS = ("source", "record_ref", "role", "person_label", "same_incident_as")
#: Council ASB records that are a police incident recorded again under the council's own reference, as a share of
#: the council's other records (on top of the copies that keep the police reference, generator.py).
RE_REFERENCED_ASB_SHARE = 0.05

_POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"

# Per agency: accents dropped, nickname, sticky typo, missing dob, unspaced postcode, missing postcode.
_AGENCY_NOISE: dict[str, tuple[float, float, float, float, float, float]] = {
    "police": (0.6, 0.05, 0.03, 0.03, 0.05, 0.03),
    "council": (0.2, 0.12, 0.05, 0.12, 0.30, 0.06),
    "marac": (0.1, 0.08, 0.03, 0.05, 0.10, 0.04),
    "probation": (0.5, 0.05, 0.03, 0.01, 0.10, 0.05),
}
_RECORD_TYPO = 0.04  # a fresh typo in one name on this record
_DOB_SWAP = 0.03  # day and month swapped (only when the day is 12 or less)
_DOB_TYPO = 0.02  # one date part mistyped
_POSTCODE_TYPO = 0.02
_PERPETRATOR_MISSING = (0.25, 0.30)  # perpetrators' dob and postcode are often unknown
_TWIN_SHARE = 0.01
_HOUSEHOLD_SHARE = 0.03
_COMMON_NAME_SHARE = 0.02
_MARRIED_SHARE = 0.15  # of women with records at 2+ agencies or 2+ records
_MOVER_SHARE = 0.15
_FAR_MOVER_SHARE = 0.4  # of movers, to another postcode district (the rest move within their district)
_COMMON_NAMES = {"F": (("Sarah", "Smith"), ("Emma", "Jones")), "M": (("Mohammed", "Khan"), ("Jack", "Smith"))}


@dataclass(frozen=True)
class PersonRecord:
    """One person record of a partner file: which row, which role, which agency, when."""

    file: str
    row: int
    role: str  # victim, perpetrator, offender
    agency: str
    ref: str  # the agency's reference of the person
    on: date
    source: str
    record_ref: str


@dataclass(frozen=True)
class _Profile:
    forename: str
    surname: str
    dob: date
    postcode: str
    sex: str
    other_surname: str | None = None  # a married (or maiden) surname some agencies hold
    moved_on: date | None = None
    new_postcode: str | None = None


def add_re_referenced_asb_copies(
    police: list[dict[str, str]],
    council: list[dict[str, str]],
    people: People,
    rng: np.random.Generator,
    end: date,
) -> dict[str, str]:
    """Council records of police ASB incidents with a victim, under a new council reference (``council`` in place).

    The same person reports the same incident to the council within a few days: same place, category and victim,
    the council's own reference for the incident and the victim. Only linkage can find these (no shared reference).
    Draws come from ``rng`` only (the generator's other truths are unchanged), except the council's reference of
    a victim new to the council, which People creates (after every other file is drawn).

    Returns:
        council incident_ref -> the police incident_ref it copies.
    """
    shared = {r["incident_ref"] for r in council} & {r["incident_ref"] for r in police}
    eligible = [
        i
        for i, r in enumerate(police)
        if r["victim_ref"] and r["category"] != "environmental" and r["incident_ref"] not in shared
    ]
    count = min(round(len(council) * RE_REFERENCED_ASB_SHARE), len(eligible))
    chosen = sorted(int(i) for i in rng.choice(eligible, size=count, replace=False)) if count else []
    police_person = {ref: pid for pid, ref in people.refs["police"].items()}
    serial = max((int(r["incident_ref"][5:]) for r in council if r["incident_ref"].startswith("CASB-")), default=0)
    last = datetime(end.year, end.month, end.day, 23, 59)
    copies: dict[str, str] = {}
    for i in chosen:
        source = police[i]
        when = datetime.strptime(source["reported_at"], "%Y-%m-%d %H:%M")
        when = min(when + timedelta(days=int(rng.integers(0, 4)), minutes=int(rng.integers(30, 600))), last)
        serial += 1
        ref = f"CASB-{serial:05d}"
        victim = people.by_id(police_person[source["victim_ref"]])
        victim_ref = people.ref("council", victim, when.date())
        council.append(
            dict(
                source,
                incident_ref=ref,
                reported_at=when.strftime("%Y-%m-%d %H:%M"),
                agency="council",
                outcome=ASB_OUTCOMES[int(rng.integers(len(ASB_OUTCOMES)))],
                victim_ref=victim_ref,
            )
        )
        copies[ref] = source["incident_ref"]
    council.sort(key=lambda r: (r["reported_at"], r["incident_ref"]))
    return copies


def render_identities(
    tables: dict[str, list[dict[str, str]]],
    people: People,
    perpetrator_of: dict[str, Person],
    protected: set[str],
    rng: np.random.Generator,
    window: tuple[date, date],
    copies: dict[str, str] | None = None,
) -> tuple[list[dict[str, str]], dict[str, Any]]:
    """Fill the identity columns of every person record in ``tables`` (in place).

    Args:
        tables: file name -> rows, as the generator made them.
        people: the population and each agency's references.
        perpetrator_of: DA victim person id -> perpetrator.
        protected: person ids whose date of birth other columns depend on (DA victims' ages): never altered.
        rng: this pass's own random stream.
        window: first and last day of the data.
        copies: council ASB incident_ref -> the police incident_ref it copies under a new reference.

    Returns:
        The linkage truth rows and a summary of the planted cases for truth.json.
    """
    person_of = people.person_of()
    records = _person_records(tables, person_of)
    involved = sorted({person_of[r.agency][r.ref] for r in records})
    profiles = {pid: _profile(people.by_id(pid)) for pid in involved}
    counts = _plant_relations(profiles, involved, perpetrator_of, protected, records, person_of, rng, window)

    agency_variant: dict[tuple[str, str], tuple[str, str, bool, bool]] = {}
    truth: set[tuple[str, str, str, str]] = set()
    for record in records:
        pid = person_of[record.agency][record.ref]
        profile = profiles[pid]
        key = (record.agency, pid)
        if key not in agency_variant:
            agency_variant[key] = _agency_variant(record.agency, profile, rng)
        forename, surname, drop_accents, unspaced = agency_variant[key]
        name, dob, postcode = _record_identity(record, profile, forename, surname, drop_accents, unspaced, rng)
        row = tables[record.file][record.row]
        row[f"{record.role}_name"], row[f"{record.role}_dob"], row[f"{record.role}_postcode"] = name, dob, postcode
        truth.add((record.source, record.record_ref, record.role, pid))
    copies = copies or {}
    rows = [
        dict(zip(LINKAGE_TRUTH_COLUMNS, (*t, copies.get(t[1], "") if t[0] == "asb_incidents" else ""), strict=True))
        for t in sorted(truth)
    ]
    counts["person_records"] = len(records)
    counts["people"] = len({r["person_label"] for r in rows})
    return rows, counts


def _person_records(
    tables: dict[str, list[dict[str, str]]], person_of: dict[str, dict[str, str]]
) -> list[PersonRecord]:
    out: list[PersonRecord] = []
    for file, source, ref_column, roles in (
        ("domestic_abuse.csv", "domestic_abuse", "incident_ref", (("victim", "police"), ("perpetrator", "police"))),
        ("marac_referrals.csv", "marac_referrals", "referral_ref", (("victim", "marac"), ("perpetrator", "marac"))),
        ("asb_incidents_police.csv", "asb_incidents", "incident_ref", (("victim", "police"),)),
        ("asb_incidents_council.csv", "asb_incidents", "incident_ref", (("victim", "council"),)),
        ("offenders.csv", "offenders", "offender_ref", (("offender", "probation"),)),
    ):
        date_column = {"domestic_abuse": "reported_at", "asb_incidents": "reported_at"}.get(
            source, "referral_date" if source == "marac_referrals" else "entry_date"
        )
        for i, row in enumerate(tables[file]):
            for role, agency in roles:
                ref = row.get(f"{role}_ref" if role != "offender" else "offender_ref", "")
                if not ref or ref not in person_of[agency]:
                    continue
                on = date.fromisoformat(row[date_column][:10])
                out.append(PersonRecord(file, i, role, agency, ref, on, source, row[ref_column]))
    return out


def _profile(person: Person) -> _Profile:
    return _Profile(person.forename, person.surname, person.dob, person.postcode, person.sex)


def _plant_relations(
    profiles: dict[str, _Profile],
    involved: list[str],
    perpetrator_of: dict[str, Person],
    protected: set[str],
    records: list[PersonRecord],
    person_of: dict[str, dict[str, str]],
    rng: np.random.Generator,
    window: tuple[date, date],
) -> dict[str, Any]:
    """Twins, households, shared surnames and addresses with perpetrators, common names, marriages and moves."""
    counts: dict[str, Any] = defaultdict(int)
    # DA: perpetrators often live with the victim, and some share her surname.
    for victim_id, perpetrator in sorted(perpetrator_of.items()):
        pid = perpetrator.person_id
        if victim_id not in profiles or pid not in profiles or pid in protected:
            continue
        victim, perp = profiles[victim_id], profiles[pid]
        u = rng.random(2)
        if u[0] < 0.5:
            perp = replace(perp, postcode=victim.postcode)
            counts["perpetrators_at_victims_address"] += 1
        if u[1] < 0.3:
            perp = replace(perp, surname=victim.surname)
            counts["perpetrators_sharing_victims_surname"] += 1
        profiles[pid] = perp
    changeable = [pid for pid in involved if pid not in protected]
    used: set[str] = set()

    def pick_pair() -> tuple[str, str] | None:
        for _ in range(20):
            a = involved[int(rng.integers(len(involved)))]
            b = changeable[int(rng.integers(len(changeable)))]
            if a != b and a not in used and b not in used:
                used.update((a, b))
                return a, b
        return None

    for _ in range(round(_TWIN_SHARE * len(involved))):
        if pair := pick_pair():
            a, b = profiles[pair[0]], profiles[pair[1]]
            profiles[pair[1]] = replace(b, surname=a.surname, dob=a.dob, postcode=a.postcode)
            counts["twin_pairs"] += 1
    for _ in range(round(_HOUSEHOLD_SHARE * len(involved))):
        if pair := pick_pair():
            a, b = profiles[pair[0]], profiles[pair[1]]
            profiles[pair[1]] = replace(b, surname=a.surname, postcode=a.postcode)
            counts["household_pairs"] += 1
    for pid in involved:
        if rng.random() < _COMMON_NAME_SHARE:
            names = _COMMON_NAMES[profiles[pid].sex if profiles[pid].sex in _COMMON_NAMES else "F"]
            forename, surname = names[int(rng.integers(len(names)))]
            profiles[pid] = replace(profiles[pid], forename=forename, surname=surname)
            counts["common_names"] += 1
    records_of: dict[str, int] = defaultdict(int)
    agencies_of: dict[str, set[str]] = defaultdict(set)
    for r in records:
        pid = person_of[r.agency][r.ref]
        records_of[pid] += 1
        agencies_of[pid].add(r.agency)
    span = (window[1] - window[0]).days
    districts = sorted({p.postcode.split()[0] for p in profiles.values()})
    for pid in involved:
        profile = profiles[pid]
        u = rng.random(4)
        if profile.sex == "F" and (records_of[pid] > 1 or len(agencies_of[pid]) > 1) and u[0] < _MARRIED_SHARE:
            profile = replace(profile, other_surname=SURNAMES[int(rng.integers(len(SURNAMES)))])
            counts["married_surnames"] += 1
        if u[1] < _MOVER_SHARE:
            district = profile.postcode.split()[0]
            if u[3] < _FAR_MOVER_SHARE:  # to another part of the area: the postcode then agrees on nothing
                others = [d for d in districts if d != district] or [district]
                district = others[int(rng.integers(len(others)))]
                counts["movers_to_another_district"] += 1
            inward = "".join(
                [str(1 + int(rng.integers(9))), *(_POSTCODE_LETTERS[int(rng.integers(20))] for _ in range(2))]
            )
            moved = window[0].toordinal() + int(u[2] * span)
            profile = replace(profile, moved_on=date.fromordinal(moved), new_postcode=f"{district} {inward}")
            counts["movers"] += 1
        profiles[pid] = profile
    return dict(counts)


def _agency_variant(agency: str, profile: _Profile, rng: np.random.Generator) -> tuple[str, str, bool, bool]:
    """The agency's nominal record: forename and surname as held, accents dropped?, postcode unspaced?"""
    p_ascii, p_nick, p_typo, _, p_unspaced, _ = _AGENCY_NOISE[agency]
    u = rng.random(6)
    forename, surname = profile.forename, profile.surname
    if profile.other_surname is not None and u[0] < 0.5:
        surname = profile.other_surname
    if u[1] < p_nick and forename in NICKNAMES:
        forename = NICKNAMES[forename]
    if u[2] < p_typo:
        surname = keying_typo(surname, int(rng.integers(1_000_000)))
    return forename, surname, bool(u[3] < p_ascii), bool(u[4] < p_unspaced)


def _record_identity(
    record: PersonRecord,
    profile: _Profile,
    forename: str,
    surname: str,
    drop_accents: bool,
    unspaced: bool,
    rng: np.random.Generator,
) -> tuple[str, str, str]:
    _, _, _, p_no_dob, _, p_no_postcode = _AGENCY_NOISE[record.agency]
    if record.role == "perpetrator":
        p_no_dob, p_no_postcode = _PERPETRATOR_MISSING
    u = rng.random(8)
    if u[0] < _RECORD_TYPO:
        draw = int(rng.integers(1_000_000))
        if u[1] < 0.5:
            forename = keying_typo(forename, draw)
        else:
            surname = keying_typo(surname, draw)
    if drop_accents:
        forename, surname = ascii_fold(forename), ascii_fold(surname)
    if record.agency == "police":
        name = f"{forename} {surname.upper()}"
    elif record.agency == "probation":
        name = f"{surname.upper()}, {forename}"
    elif record.agency == "council" and u[2] < 0.15:
        name = f"{forename} {surname}".lower()
    else:
        name = f"{forename} {surname}"

    dob_value = profile.dob
    dob = ""
    if u[3] >= p_no_dob:
        year, month, day = dob_value.year, dob_value.month, dob_value.day
        if u[4] < _DOB_SWAP and day <= 12 and day != month:
            month, day = day, month
        elif u[4] < _DOB_SWAP + _DOB_TYPO:
            draw = int(rng.integers(3))
            if draw == 0:
                year += 1 if rng.random() < 0.5 else -1
            elif draw == 1:
                day = 1 + (day % 28)
            else:
                month = 1 + (month % 12)
        try:
            dob = date(year, month, day).isoformat()
        except ValueError:
            dob = dob_value.isoformat()

    postcode = ""
    if u[5] >= p_no_postcode:
        postcode = profile.postcode
        if profile.moved_on is not None and profile.new_postcode is not None and record.on >= profile.moved_on:
            postcode = profile.new_postcode
        if u[6] < _POSTCODE_TYPO:
            postcode = postcode[:-1] + _POSTCODE_LETTERS[int(rng.integers(20))]
        if unspaced:
            postcode = postcode.replace(" ", "")
    return name, dob, postcode


def keying_typo(word: str, draw: int) -> str:
    """A plausible keying error: two letters swapped, one dropped, one doubled, or one replaced."""
    if len(word) < 4:
        return word + word[-1]
    i = 1 + draw % (len(word) - 2)
    kind = (draw // 1000) % 4
    if kind == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == 1:
        return word[:i] + word[i + 1 :]
    if kind == 2:
        return word[:i] + word[i] + word[i:]
    letter = "aeiou"[(draw // 10) % 5] if word[i] in "aeiou" else "bcdfgklmnprst"[(draw // 10) % 13]
    return word[:i] + letter + word[i + 1 :]

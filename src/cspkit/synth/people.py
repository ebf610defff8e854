"""One synthetic population of people, each known to agencies under the agency's own reference.

A person has a true id (``P000123``) that never appears in the partner files. Each agency that meets the person gives
them its own reference (police ``PV123456``, council ``C-00123``, MARAC ``M/2022/045``, probation ``E123456``) and
keeps its own copy of the direct identifiers, with the variations real systems show: case, accents dropped, nickname
forms, typos, postcode spacing and missing dates of birth.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from cspkit.synth.area import Lsoa
from cspkit.synth.names import FEMALE_FORENAMES, MALE_FORENAMES, NICKNAMES, SURNAMES

__all__ = ["AGENCIES", "Identifiers", "People", "Person", "ascii_fold"]

AGENCIES = ("police", "council", "marac", "probation")

_POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # inward-code letters never use C, I, K, M, O or V

# Per agency: chance of dropping accents, of a nickname, of a typo, of a missing dob, of an unspaced postcode.
_VARIATION: dict[str, tuple[float, float, float, float, float]] = {
    "police": (0.6, 0.03, 0.05, 0.02, 0.05),
    "council": (0.2, 0.12, 0.05, 0.10, 0.30),
    "marac": (0.1, 0.05, 0.05, 0.05, 0.10),
    "probation": (0.5, 0.05, 0.05, 0.01, 0.10),
}


@dataclass(frozen=True)
class Person:
    """A synthetic person: the truth behind every agency's record of them."""

    person_id: str
    forename: str
    surname: str
    sex: str
    dob: date
    postcode: str
    lsoa_code: str


@dataclass(frozen=True)
class Identifiers:
    """One agency's copy of a person's direct identifiers (dob may be blank)."""

    name: str
    dob: str
    postcode: str


@dataclass
class People:
    """The population of persons and each agency's references to them.

    Args:
        rng: the generator's random source; draws happen in call order, so results are deterministic.
        reference_date: ages are computed at this date (the end of the data window).
    """

    rng: np.random.Generator
    reference_date: date
    persons: list[Person] = field(default_factory=list)
    refs: dict[str, dict[str, str]] = field(default_factory=lambda: {a: {} for a in AGENCIES})
    identifiers: dict[tuple[str, str], Identifiers] = field(default_factory=dict)
    _counters: dict[str, int] = field(default_factory=dict)

    def new_person(self, lsoa: Lsoa, sex: str, min_age: int, max_age: int) -> Person:
        """Create a person living in an LSOA, aged between min_age and max_age at the reference date."""
        names = FEMALE_FORENAMES if sex == "F" else MALE_FORENAMES
        u = self.rng.random(7)  # one draw per attribute, in a fixed order
        forename = names[int(u[0] * len(names))]
        surname = SURNAMES[int(u[1] * len(SURNAMES))]
        age_days = min_age * 365 + 1 + int(u[2] * ((max_age + 1 - min_age) * 365 - 2))
        district = lsoa.postcode_districts[int(u[3] * len(lsoa.postcode_districts))]
        inward = f"{1 + int(u[4] * 9)}{_POSTCODE_LETTERS[int(u[5] * 20)]}{_POSTCODE_LETTERS[int(u[6] * 20)]}"
        person = Person(
            person_id=f"P{len(self.persons) + 1:06d}",
            forename=forename,
            surname=surname,
            sex=sex,
            dob=self.reference_date - timedelta(days=age_days),
            postcode=f"{district} {inward}",
            lsoa_code=lsoa.code,
        )
        self.persons.append(person)
        return person

    def by_id(self, person_id: str) -> Person:
        """The person with a true id (ids are sequential: P000001 is the first person created)."""
        return self.persons[int(person_id[1:]) - 1]

    def ref(self, agency: str, person: Person, when: date) -> str:
        """The agency's reference for a person, created (with the agency's identifiers) on first contact."""
        known = self.refs[agency].get(person.person_id)
        if known is not None:
            return known
        n = self._counters.get(agency, 0) + 1
        if agency == "marac":
            n = self._counters.get(f"marac{when.year}", 0) + 1
            self._counters[f"marac{when.year}"] = n
            ref = f"M/{when.year}/{n:03d}"
        else:
            self._counters[agency] = n
            if agency == "police":
                ref = f"PV{104_000 + 7 * n:06d}"
            elif agency == "council":
                ref = f"C-{n:05d}"
            else:
                ref = f"E{301_000 + 3 * n:06d}"
        self.refs[agency][person.person_id] = ref
        self.identifiers[(agency, ref)] = self._variant(agency, person)
        return ref

    def person_of(self) -> dict[str, dict[str, str]]:
        """For every agency, ref -> true person id (the linkage ground truth)."""
        return {agency: {ref: pid for pid, ref in sorted(by_person.items())} for agency, by_person in self.refs.items()}

    def _variant(self, agency: str, person: Person) -> Identifiers:
        rng = self.rng
        p_ascii, p_nick, p_typo, p_no_dob, p_unspaced = _VARIATION[agency]
        draws = rng.random(6)
        forename, surname = person.forename, person.surname
        if draws[0] < p_nick and forename in NICKNAMES:
            forename = NICKNAMES[forename]
        if draws[1] < p_typo:
            surname = _typo(surname, int(rng.integers(1_000_000)))
        if draws[2] < p_ascii:
            forename, surname = ascii_fold(forename), ascii_fold(surname)
        if agency == "police":
            name = f"{forename} {surname.upper()}"
        elif agency == "council" and draws[3] < 0.15:
            name = f"{forename} {surname}".lower()
        elif agency == "probation":
            name = f"{surname.upper()}, {forename}"
        else:
            name = f"{forename} {surname}"
        postcode = person.postcode.replace(" ", "") if draws[4] < p_unspaced else person.postcode
        dob = "" if draws[5] < p_no_dob else person.dob.isoformat()
        return Identifiers(name=name, dob=dob, postcode=postcode)


def ascii_fold(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


def _typo(word: str, draw: int) -> str:
    """A plausible keying error: two letters swapped, one dropped, or one doubled."""
    if len(word) < 4:
        return word + word[-1]
    i = 1 + draw % (len(word) - 2)
    kind = (draw // 1000) % 3
    if kind == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == 1:
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]

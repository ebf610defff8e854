"""ASB incidents recorded by both a partner (the council) and police: one rule, for the finding and for evaluation.

A partner incident is the same as a police one when both carry the same incident reference, or when linkage finds
the same victim (person id) in the same LSOA within :data:`ASB_DUPLICATE_DAYS` days of a police incident. An
incident without a linked victim is never matched.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date

import duckdb

__all__ = ["ASB_DUPLICATE_DAYS", "AsbDuplicates", "asb_duplicates"]

ASB_DUPLICATE_DAYS = 3


@dataclass(frozen=True)
class AsbDuplicates:
    """Police and partner ASB incidents of a span, and the partner incidents that duplicate a police one."""

    police: int
    partners: int
    shared: int  # partner incidents under a police incident's own reference
    linked: frozenset[tuple[str, str]]  # (agency, incident_key) of partner incidents found by linkage

    @property
    def combined(self) -> int:
        return self.police + self.partners - self.shared - len(self.linked)


def asb_duplicates(con: duckdb.DuckDBPyConnection, start: date | None = None, end: date | None = None) -> AsbDuplicates:
    """The duplicates among the ASB incidents reported from ``start`` to ``end`` (all dates when None)."""
    rows = con.execute(
        "SELECT a._agency, a.incident_key, CAST(a.reported_at AS DATE), a.lsoa_code, p.person_id "
        "FROM asb_incidents a LEFT JOIN link_people p ON p.source = 'asb_incidents' AND p.role = 'victim' "
        "AND p.agency = a._agency AND p.record_key = a.incident_key "
        "WHERE CAST(a.reported_at AS DATE) BETWEEN ? AND ?",
        [start or date.min, end or date.max],
    ).fetchall()
    police = [r for r in rows if r[0] == "police"]
    partners = [r for r in rows if r[0] != "police"]
    police_refs = {r[1] for r in police}
    shared = sum(1 for r in partners if r[1] in police_refs)
    by_person: dict[tuple[int, str], list[date]] = defaultdict(list)
    for _, _, day, lsoa, person in police:
        if person is not None:
            by_person[(person, lsoa)].append(day)
    linked = frozenset(
        (agency, ref)
        for agency, ref, day, lsoa, person in partners
        if ref not in police_refs
        and person is not None
        and any(abs((day - d).days) <= ASB_DUPLICATE_DAYS for d in by_person.get((person, lsoa), []))
    )
    return AsbDuplicates(len(police), len(partners), shared, linked)

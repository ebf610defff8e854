"""Disclosure control for the public edition: one ledger of what is withheld, read by every public output.

A count hidden in one table can be worked out from another: a ward's burglaries from the area total and the
other wards, a crime type from all crime and the other types, the PPO cohort from all cohorts and the IOM cohort.
So the public edition decides, once and before any chapter is written, which findings it withholds:

1. **primary**: a count from 1 to the threshold minus one, a share of a small group, anything the topic marked as
   resting on small numbers;
2. **secondary, across linked findings**: the findings that add up are laid out as the tables a reader could
   assemble from the whole document (wards by crime type with the area and all-crime totals; the wards of every
   other indicator with the area total; partner ASB by agency; each reoffending measure by cohort), and
   :func:`cspkit.privacy.disclosure.suppress_table` hides enough more that no hidden count can be recovered from
   the published ones, by differencing or by the bounds the markers give (its linear-programming audit), in the
   current period and in the comparison period alike. A finding hidden in one table is hidden in every table it
   belongs to, and the tables are worked through again until nothing changes;
3. **series**: a monthly series is published (chart, Excel annex) only when no month of it is small, and when it
   is one of a set that adds up (the crime types of all crime) no withheld series is the only one withheld.

Everything derived from a withheld finding goes with it: its rate, change, interval, p-value, chart, map colour,
the harm weighted by its count, and any sentence of another finding that names it with a number ("the wards that
moved most"). :class:`cspkit.report.builder.Builder` reads the ledger for every table, tile, sentence, chart,
map and the Excel annex, so no chapter has to remember the rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cspkit.findings.engine import FindingSet
from cspkit.findings.model import Finding
from cspkit.privacy.disclosure import suppress_table

__all__ = ["DisclosureLedger", "disclosure_ledger", "linked_tables", "small_finding"]

_WARD = re.compile(r"^(?P<prefix>.+)\.ward\.(?P<code>[^.]+)\.(?P<suffix>.+)$")
_CRIME_TYPE = re.compile(r"^crime\.(?P<type>[a-z_]+)\.(?P<rest>count|ward\.[^.]+\.count)$")
#: Cohorts reported beside the all-cohorts figures of the reoffending topic.
COHORTS = ("iom", "ppo")


@dataclass
class DisclosureLedger:
    """What the public edition withholds.

    Attributes:
        threshold: counts from 1 to this minus one are small.
        hidden: finding id -> why it is withheld (``small``, or the linked table that needed it).
        series_hidden: ids of findings whose monthly series is not published.
        unprinted: ids of ward findings no table prints (they protect others for free; sentences must not name
            them with a number either).
    """

    threshold: int
    hidden: dict[str, str] = field(default_factory=dict)
    series_hidden: set[str] = field(default_factory=set)
    unprinted: set[str] = field(default_factory=set)

    def is_hidden(self, finding_id: str) -> bool:
        return finding_id in self.hidden

    def is_small(self, finding_id: str) -> bool:
        """Withheld for its own small numbers (printed "<5" where a count), not to protect another."""
        return self.hidden.get(finding_id) == "small"


def small_finding(f: Finding, threshold: int) -> bool:
    """Whether a finding rests on small numbers itself (before any secondary suppression)."""
    if f.small_number:
        return True
    if f.unit == "count":
        return any(v is not None and 0 < v < threshold for v in (f.value, f.baseline))
    # a share, rate or ratio of a small count: the count follows from the base (or the population)
    return any(v is not None and 0 < v < threshold for v in (f.numerator, f.denominator))


@dataclass(frozen=True)
class LinkedTable:
    """Findings laid out as a reader could lay them out: cells that add up along rows and columns.

    Attributes:
        name: what the table is, for the ledger's reasons.
        cells: (row label, column label) -> finding id.
        total_row: label of the row of totals, if any.
        total_col: label of the column of totals, if any.
        measures: which numbers of each finding are the cells (``value``/``baseline``, or
            ``numerator``/``denominator`` for shares).
    """

    name: str
    cells: dict[tuple[str, str], str]
    total_row: str | None
    total_col: str | None
    measures: tuple[str, ...] = ("value", "baseline")


def linked_tables(fs: FindingSet) -> list[LinkedTable]:
    """The tables of findings that add up, as an attacker would assemble them from the published document."""
    by_id = {f.id: f for f in fs.findings}
    tables: list[LinkedTable] = []

    # crime: wards x crime types, with the area row and the all-crime column
    crime: dict[tuple[str, str], str] = {}
    for f in fs.findings:
        m = _CRIME_TYPE.match(f.id)
        if m and f.unit == "count":
            ward = m["rest"].split(".")[1] if m["rest"].startswith("ward.") else "area"
            crime[(ward, m["type"])] = f.id
    if crime:
        tables.append(LinkedTable("crime by ward and type", crime, "area", "all"))

    # every other indicator with ward findings: the wards and the area total
    wards: dict[str, dict[tuple[str, str], str]] = {}
    for f in fs.findings:
        m = _WARD.match(f.id)
        if not m or f.unit != "count" or f.id.startswith("crime."):
            continue
        total = f"{m['prefix']}.{m['suffix']}"
        cells = wards.setdefault(total, {})
        cells[(m["code"], "n")] = f.id
        if total in by_id:
            cells[("area", "n")] = total
    tables += [LinkedTable(f"{total} by ward", cells, "area", None) for total, cells in wards.items()]

    # partner ASB by recording agency
    agencies = {
        (f.id.split(".")[2], "n"): f.id
        for f in fs.findings
        if re.fullmatch(r"asb\.partner\.[a-z_]+\.count", f.id) and f.unit == "count"
    }
    if agencies and "asb.partner.count" in by_id:
        agencies[("all", "n")] = "asb.partner.count"
        tables.append(LinkedTable("partner ASB by agency", agencies, "all", None))

    # reoffending: each measure by cohort, with all cohorts
    for f in fs.findings:
        parts = f.id.split(".")
        if parts[0] != "reoffending" or len(parts) < 2 or parts[1] in COHORTS:
            continue
        members = {(c, "n"): f"reoffending.{c}.{'.'.join(parts[1:])}" for c in COHORTS}
        members = {k: v for k, v in members.items() if v in by_id}
        if not members or f.unit not in ("count", "proportion"):
            continue
        measures = ("numerator", "denominator") if f.unit == "proportion" else ("value", "baseline")
        tables.append(LinkedTable(f"{f.id} by cohort", {**members, ("all", "n"): f.id}, "all", None, measures))
    return tables


def _number(f: Finding, measure: str) -> int:
    value = getattr(f, measure)
    return max(round(value), 0) if isinstance(value, int | float) and value == value else 0


def _suppress_linked(table: LinkedTable, by_id: dict[str, Finding], ledger: DisclosureLedger) -> set[str]:
    """The findings of one linked table to hide, given those hidden already and those never printed (hidden from
    the reader anyway, so they protect the others for free)."""
    rows = sorted({r for r, _ in table.cells}, key=lambda r: (r == table.total_row, r))
    cols = sorted({c for _, c in table.cells}, key=lambda c: (c == table.total_col, c))
    newly: set[str] = set()
    for measure in table.measures:
        counts = pd.DataFrame(0, index=rows, columns=cols, dtype=np.int64)
        forced = pd.DataFrame(False, index=rows, columns=cols)
        for (r, c), fid in table.cells.items():
            counts.loc[r, c] = _number(by_id[fid], measure)
            forced.loc[r, c] = ledger.is_hidden(fid) or fid in ledger.unprinted
        result = suppress_table(
            counts,
            threshold=ledger.threshold,
            total_row=table.total_row,
            total_col=table.total_col,
            hidden=forced,
        )
        for (r, c), fid in table.cells.items():
            if bool(result.suppressed.loc[r, c]) and not ledger.is_hidden(fid) and fid not in ledger.unprinted:
                newly.add(fid)
    return newly


def _series_groups(fs: FindingSet) -> list[list[str]]:
    """Monthly series that add up: the crime types and all crime."""
    crime = [f.id for f in fs.findings if _CRIME_TYPE.match(f.id) and ".ward." not in f.id]
    return [crime] if crime else []


def disclosure_ledger(
    fs: FindingSet, threshold: int, ward_crime_types: Iterable[str] | None = None
) -> DisclosureLedger:
    """Decide, once for the whole public edition, which findings (and monthly series) are withheld.

    Args:
        fs: the findings of the run.
        threshold: counts from 1 to this minus one are small.
        ward_crime_types: the crime types whose ward counts the document prints (all crime's always are; the
            others in the chapters of recommended priorities). The ward counts of the other types are never
            printed, so they count as hidden without being withheld. None: every type's are printed.
    """
    ledger = DisclosureLedger(threshold)
    printed_types = None if ward_crime_types is None else {"all", *ward_crime_types}
    ledger.unprinted = {
        f.id
        for f in fs.findings
        if printed_types is not None
        and (m := _CRIME_TYPE.match(f.id))
        and ".ward." in f.id
        and m["type"] not in printed_types
    }
    by_id = {f.id: f for f in fs.findings}
    for f in fs.findings:
        if small_finding(f, threshold):
            ledger.hidden[f.id] = "small"
    tables = linked_tables(fs)
    changed = True
    while changed:  # a finding hidden in one table may open a line of another
        changed = False
        for table in tables:
            for fid in sorted(_suppress_linked(table, by_id, ledger)):
                ledger.hidden[fid] = f"protects a figure in {table.name}"
                changed = True

    # derived values: harm is weight x count summed over crime types, so with a crime type withheld the harm
    # total (and its rate) would give it back; the chapter shows the harm of the published types instead
    crime_types = [fid for fid in by_id if _CRIME_TYPE.match(fid) and ".ward." not in fid]
    if "crime.harm.total" in by_id and any(fid in ledger.hidden for fid in crime_types):
        ledger.hidden.setdefault("crime.harm.total", "its crime types include a withheld count")

    def series_small(f: Finding) -> bool:
        return any(0 < v < threshold for _, v in f.series)

    ledger.series_hidden = {f.id for f in fs.findings if f.id in ledger.hidden or series_small(f)}
    for group in _series_groups(fs):
        withheld = [fid for fid in group if fid in ledger.series_hidden]
        if len(withheld) == 1:  # all crime minus the other types would give the one withheld series back
            rest = [by_id[fid] for fid in group if fid not in ledger.series_hidden and fid != "crime.all.count"]
            if rest:
                ledger.series_hidden.add(min(rest, key=lambda f: sum(v for _, v in f.series)).id)
    return ledger


def names_hidden(text: str, names: Iterable[str]) -> bool:
    """Whether a text names one of ``names`` (a withheld ward or crime type) next to a number in brackets."""
    return any(re.search(rf"\b{re.escape(name)} \([+\-−]?[\d,]+\)", text, flags=re.I) for name in names)

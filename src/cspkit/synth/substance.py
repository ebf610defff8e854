"""Synthetic drug and alcohol treatment counts in the shape of an NDTMS partnership extract, with planted truth.

One row per month and substance group: adults in treatment during the month, new presentations, successful
completions and re-presentations (of those who completed successfully six months earlier). The volumes follow the
national shape, scaled to the area's adult population: opiate clients are the largest group with the lowest
successful completion rate, alcohol clients complete most often.

Planted truth (what ``cspkit findings`` must recover): new presentations for alcohol rise by
:data:`ALCOHOL_RISE` in the assessment period, and opiate successful completions run at about
:data:`COMPLETION_RATE` ``["opiate"]`` of the caseload a month (a low rate that the topic reports against the other
groups). The generator uses its own random stream, so adding it changed no other synthetic file.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np

from cspkit.synth.truth import Period

__all__ = ["ALCOHOL_RISE", "COLUMNS", "COMPLETION_RATE", "substance_rows", "substance_truth"]

COLUMNS = (
    "month",
    "substance",
    "in_treatment",
    "new_presentations",
    "successful_completions",
    "representations",
    "area_code",
)

#: Monthly caseload per 100,000 residents, by substance group (national shape, rounded).
CASELOAD_PER_100K = {"opiate": 220.0, "non-opiate": 70.0, "alcohol": 130.0, "non-opiate and alcohol": 60.0}
#: New presentations a month as a share of the caseload.
NEW_SHARE = {"opiate": 0.025, "non-opiate": 0.09, "alcohol": 0.09, "non-opiate and alcohol": 0.08}
#: Successful completions a month as a share of the caseload.
COMPLETION_RATE = {"opiate": 0.004, "non-opiate": 0.035, "alcohol": 0.04, "non-opiate and alcohol": 0.03}
#: Share of successful completions who come back within six months.
REPRESENTATION_RATE = {"opiate": 0.18, "non-opiate": 0.06, "alcohol": 0.08, "non-opiate and alcohol": 0.09}
#: Planted: alcohol new presentations in the assessment period are this multiple of before.
ALCOHOL_RISE = 1.35


def _months(first: date, last: date) -> list[str]:
    out = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def substance_rows(
    rng: np.random.Generator, periods: list[Period], population: int, lad_code: str
) -> list[dict[str, str]]:
    """Monthly rows for every substance group over the periods (oldest first)."""
    months = _months(periods[-1].start, periods[0].end)
    assessment = set(_months(periods[0].start, periods[0].end))
    rows: list[dict[str, str]] = []
    completions: dict[str, list[int]] = {s: [] for s in CASELOAD_PER_100K}
    for index, month in enumerate(months):
        for substance, per_100k in CASELOAD_PER_100K.items():
            caseload = int(rng.poisson(per_100k * population / 100_000))
            rise = ALCOHOL_RISE if substance == "alcohol" and month in assessment else 1.0
            new = int(rng.poisson(caseload * NEW_SHARE[substance] * rise))
            done = int(rng.binomial(caseload, COMPLETION_RATE[substance]))
            earlier = completions[substance][index - 6] if index >= 6 else 0
            back = int(rng.binomial(earlier, REPRESENTATION_RATE[substance]))
            completions[substance].append(done)
            rows.append(
                {
                    "month": month,
                    "substance": substance,
                    "in_treatment": str(caseload),
                    "new_presentations": str(new),
                    "successful_completions": str(done),
                    "representations": str(back),
                    "area_code": lad_code,
                }
            )
    return rows


def substance_truth(rows: list[dict[str, str]], periods: list[Period]) -> dict[str, Any]:
    """Totals per period and substance group, as the topic must find them."""
    out: dict[str, Any] = {
        "alcohol_new_presentations_rise": ALCOHOL_RISE,
        "completion_rate_per_month": COMPLETION_RATE,
        "periods": {},
    }
    for period in periods[:2]:
        months = set(_months(period.start, period.end))
        first = min(months)
        totals: dict[str, dict[str, int]] = {}
        for row in rows:
            if row["month"] not in months:
                continue
            t = totals.setdefault(
                row["substance"],
                {"in_treatment": 0, "new_presentations": 0, "successful_completions": 0, "representations": 0},
            )
            for key in ("new_presentations", "successful_completions", "representations"):
                t[key] += int(row[key])
            if row["month"] == first:  # in treatment in the period: the first month's caseload plus the new starts
                t["in_treatment"] += int(row["in_treatment"])
        for t in totals.values():
            t["in_treatment"] += t["new_presentations"]
        out["periods"][period.name] = totals
    return out

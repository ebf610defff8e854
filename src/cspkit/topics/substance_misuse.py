"""Substance misuse: drug and alcohol treatment from an NDTMS-style partnership extract (``substance_misuse``).

The source holds counts by month and substance group (no person-level data). Findings:

- ``substance.in_treatment``: adults in treatment in the period, the first month's caseload plus the new
  presentations (the NDTMS "number in treatment" counts everyone in treatment at any time in the 12 months);
  not tested (people, not events).
- ``substance.new_presentations`` and ``substance.<group>.new_presentations``: new treatment journeys, tested as
  counts (exact Poisson test, Benjamini-Hochberg across the family). Rated neutral: more people coming forward for
  treatment is not a worse outcome.
- ``substance.completion_rate`` and ``substance.<group>.completion_rate``: successful completions as a share of
  those in treatment (two-proportion test); higher is better.
- ``substance.representation_rate``: re-presentations within six months as a share of the successful
  completions in the period; lower is better.
"""

from __future__ import annotations

from typing import Any

from cspkit.findings.engine import TopicInput
from cspkit.findings.indicators import CountSeries, build_count_findings, slug
from cspkit.findings.model import Finding
from cspkit.topics._partner import (
    Proportion,
    baseline_months,
    build_proportion_findings,
    count_finding,
    drop_uncovered_comparisons,
    source_months,
    table_rows,
)

__all__ = ["GROUPS", "build"]

#: Substance groups in NDTMS order.
GROUPS = ("opiate", "non-opiate", "alcohol", "non-opiate and alcohol")

_SOURCE = "drug and alcohol treatment service (substance_misuse)"


def _totals(rows: list[tuple[Any, ...]], months: list[str]) -> dict[str, dict[str, int]]:
    """Per group and in all: in treatment (first month's caseload + new), new, completions, re-presentations."""
    wanted = set(months)
    first = min(months) if months else ""
    out: dict[str, dict[str, int]] = {g: {"in": 0, "new": 0, "done": 0, "back": 0} for g in ("all", *GROUPS)}
    for month, group, caseload, new, done, back in rows:
        if month not in wanted or group not in out:
            continue
        for key in (group, "all"):
            t = out[key]
            t["new"] += int(new)
            t["done"] += int(done)
            t["back"] += int(back)
            if month == first:
                t["in"] += int(caseload)
    for t in out.values():
        t["in"] += t["new"]
    return out


def build(inp: TopicInput) -> list[Finding]:
    """The substance-misuse findings, when treatment data is loaded."""
    con, ctx = inp.con, inp.ctx
    if not table_rows(con, "substance_misuse"):
        return []
    months = source_months(con, "substance_misuse")
    rows = con.execute(
        "SELECT _month, substance, sum(in_treatment), sum(new_presentations), sum(successful_completions), "
        "sum(representations) FROM substance_misuse GROUP BY ALL ORDER BY 1, 2"
    ).fetchall()
    current_months = list(ctx.comparison.current_months)
    before_months = baseline_months(ctx)
    now = _totals(rows, current_months)
    before = _totals(rows, before_months) if before_months and set(before_months) <= set(months) else None

    findings: list[Finding] = []
    findings.append(
        count_finding(
            ctx,
            id="substance.in_treatment",
            topic="substance",
            title="Adults in drug and alcohol treatment",
            subject="adults in drug and alcohol treatment",
            value=now["all"]["in"],
            baseline=before["all"]["in"] if before else None,
            definition="Adults in structured treatment at any time in the period: the caseload of the period's "
            "first month plus the new presentations in the period (as the NDTMS 'number in treatment').",
            sources=[_SOURCE],
            good_direction="none",
            extra={
                "by_substance": [
                    {
                        "substance": g,
                        "in_treatment": now[g]["in"],
                        "new_presentations": now[g]["new"],
                        "successful_completions": now[g]["done"],
                        "representations": now[g]["back"],
                        "in_treatment_before": before[g]["in"] if before else None,
                    }
                    for g in GROUPS
                ]
            },
        )
    )

    monthly: dict[str, dict[str, float]] = {g: dict.fromkeys(months, 0.0) for g in ("all", *GROUPS)}
    for month, group, _, new, _, _ in rows:
        if group in monthly:
            monthly[group][month] += float(new)
            monthly["all"][month] += float(new)
    population = inp.area.total_population()
    series = [
        CountSeries(
            id="substance.new_presentations" if g == "all" else f"substance.{slug(g)}.new_presentations",
            topic="substance",
            title="New presentations to treatment" + ("" if g == "all" else f" ({g})"),
            subject="new presentations to drug and alcohol treatment" + ("" if g == "all" else f" for {g} use"),
            monthly=monthly[g],
            definition="Adults starting a new treatment journey, by month of presentation. Rated neutral: more "
            "people coming forward for treatment is not in itself a worse outcome.",
            sources=[_SOURCE],
            denominator=population,
            good_direction="none",
        )
        for g in ("all", *GROUPS)
    ]
    findings += drop_uncovered_comparisons(build_count_findings(series, ctx), months, ctx)

    proportions = [
        Proportion(
            id="substance.completion_rate" if g == "all" else f"substance.{slug(g)}.completion_rate",
            topic="substance",
            title="Successful completions" + ("" if g == "all" else f" ({g})"),
            subject="the share of adults in treatment who completed it successfully"
            + ("" if g == "all" else f" ({g})"),
            numerator=now[g]["done"],
            denominator=now[g]["in"],
            baseline_numerator=before[g]["done"] if before else None,
            baseline_denominator=before[g]["in"] if before else None,
            definition="Successful completions (exits free of dependence) in the period over adults in treatment "
            "in the period.",
            sources=[_SOURCE],
            good_direction="up",
        )
        for g in ("all", *GROUPS)
    ]
    proportions.append(
        Proportion(
            id="substance.representation_rate",
            topic="substance",
            title="Re-presentations within six months",
            subject="the share of successful completions followed by a return to treatment within six months",
            numerator=now["all"]["back"],
            denominator=now["all"]["done"],
            baseline_numerator=before["all"]["back"] if before else None,
            baseline_denominator=before["all"]["done"] if before else None,
            definition="Re-presentations in the period (adults who completed successfully six months earlier and "
            "came back) over the successful completions in the period.",
            sources=[_SOURCE],
            good_direction="down",
        )
    )
    findings += build_proportion_findings(proportions, ctx)
    return findings

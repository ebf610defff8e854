"""The multi-agency chapter: what linking people across partner sources adds (findings of topic ``linkage``).

Small numbers follow the rest of the report: sentences of small findings are replaced in the public edition,
tables go through ``protect`` (primary and secondary suppression), and the chart shows only the combinations the
protected table shows.
"""

from __future__ import annotations

from typing import Any

from cspkit.report.builder import Builder
from cspkit.report.charts import bar_chart
from cspkit.report.model import Column, Figure, Paragraph, Provenance, Section, Table

__all__ = ["build"]

_SOURCES = ["Partner person records linked across sources (cspkit link; keyed features only)"]


def _chapter(b: Builder) -> Section | None:
    """The chapter, or None when no linkage findings exist (no ``cspkit link`` run)."""
    findings = b.findings_of("linkage.")
    if not findings:
        return None
    by_id = {f.id: f for f in findings}
    blocks: list[Any] = b.narrative(
        "multi-agency",
        [
            "People are linked across partner sources on keyed features of their names, dates of birth and "
            "postcodes (no one's identity is visible to the analysis); the counts below are of people, not records.",
            *[b.sentence(f) for f in findings],
        ],
    )
    multi = by_id.get("linkage.multi_agency")
    if multi is not None and multi.extra.get("by_combination"):
        combos = multi.extra["by_combination"]
        table = b.protect(
            Table(
                [Column("services", "Services that know the person"), Column("people", "People", "int")],
                [{"services": k, "people": v} for k, v in combos.items()],
                caption="People known to two or more services, by combination",
                id="linkage-combinations",
                provenance=Provenance(_SOURCES, [multi.id], multi.definition),
            ),
            known_total=multi.value,  # the sentence prints the total: the parts must not give a hidden one away
        )
        shown = [(r["services"], r["people"]) for r in table.rows if isinstance(r["people"], int | float)]
        if shown:
            chart = bar_chart([s for s, _ in shown], [float(n) for _, n in shown], x_label="People")
            blocks.append(
                Figure(
                    chart.svg,
                    chart.png,
                    chart.alt,
                    "People known to two or more services, by combination (UpSet-style counts)",
                    Provenance(_SOURCES, [multi.id], multi.definition),
                    "linkage-combinations-chart",
                )
            )
        blocks.append(table)
    asb = by_id.get("linkage.asb_combined")
    if asb is not None and asb.extra.get("reconciliation"):
        rows = [
            {"line": line["line"], "incidents": abs(int(line["incidents"]))} for line in asb.extra["reconciliation"]
        ]
        blocks.append(
            b.protect(
                Table(
                    [Column("line", "ASB incidents"), Column("incidents", "Incidents", "int")],
                    rows,
                    caption="Police and partner ASB incidents reconciled: each incident counted once",
                    id="linkage-asb-reconciliation",
                    note="The police open-data ASB count (data.police.uk) is a separate recording, shown in the "
                    "ASB chapter; it is not part of this reconciliation.",
                    provenance=Provenance([*_SOURCES, "ASB incidents (police and partners)"], [asb.id], asb.definition),
                )
            )
        )
    several = by_id.get("linkage.victims_several_perpetrators")
    if several is not None:  # the count depends on how perpetrators without a date of birth are told apart
        blocks.append(Paragraph(f"*How perpetrators were counted:* {several.definition}"))
    marac = by_id.get("linkage.marac_repeat_predicted")
    if marac is not None:
        blocks.append(Paragraph(f"*How this was tested:* {marac.definition}"))
    return Section("multi-agency", "People known to several agencies", blocks, xlsx_sheet="Multi-agency")


def build(b: Builder) -> list[Section]:
    """This chapter's sections (none when no linkage was run)."""
    section = _chapter(b)
    return [] if section is None else [section]

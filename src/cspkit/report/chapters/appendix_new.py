"""Appendix D: new recommendations."""

from __future__ import annotations

from cspkit.report.builder import Builder
from cspkit.report.model import Column, Paragraph, Section, Table


def _appendix_new(b: Builder) -> Section:
    rows = b.inp.new_recommendations
    if not rows:
        return Section(
            "appendix-new", "Appendix D: New recommendations", [Paragraph("No priority reached the top band.")]
        )
    cols = [
        Column("ref", "Ref"),
        Column("priority", "Priority"),
        Column("action", "Recommendation"),
        Column("evidence", "Evidence"),
        Column("owner", "Suggested owner"),
    ]
    rows = [{**r, "evidence": b.scrub(str(r.get("evidence") or ""))} for r in rows]
    return Section(
        "appendix-new",
        "Appendix D: New recommendations",
        [
            Paragraph("Drafted from the evidence for each recommended priority; edit them in the workspace."),
            Table(cols, rows, caption="New recommendations", id="new-recommendations"),
        ],
        xlsx_sheet="D New recs",
    )


def build(b: Builder) -> list[Section]:
    """This chapter's sections (none when there is nothing to report)."""
    section = _appendix_new(b)
    return [] if section is None else [section]

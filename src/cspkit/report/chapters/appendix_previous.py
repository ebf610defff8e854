"""Appendix B: last year's recommendations."""

from __future__ import annotations

from cspkit.report.builder import RAG_LABELS, STATUS_LABELS, Builder
from cspkit.report.model import Callout, Column, Section, Table


def _appendix_previous(b: Builder) -> Section:
    rows = b.inp.previous_recommendations
    if not rows:
        return Section(
            "appendix-previous",
            "Appendix B: Last year's recommendations",
            [Callout("caution", "Missing", "No previous recommendations are loaded (source `recommendations`).")],
        )
    cols = [
        Column("ref", "Ref"),
        Column("text", "Recommendation"),
        Column("owner", "Owner"),
        Column("status", "Status"),
        Column("rag", "RAG"),
        Column("evidence", "Evidence"),
    ]
    return Section(
        "appendix-previous",
        "Appendix B: Last year's recommendations",
        [
            Table(
                cols,
                [
                    {
                        **r,
                        "status": STATUS_LABELS.get(str(r.get("status")), str(r.get("status") or "")),
                        "rag": RAG_LABELS.get(str(r.get("rag")), str(r.get("rag") or "")),
                        "evidence": b.scrub(str(r.get("evidence") or "")),
                    }
                    for r in rows
                ],
                caption="Previous recommendations and their status",
                id="previous-recommendations",
            )
        ],
        xlsx_sheet="B Previous recs",
    )


def build(b: Builder) -> list[Section]:
    """This chapter's sections (none when there is nothing to report)."""
    section = _appendix_previous(b)
    return [] if section is None else [section]

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
        Column("action", "Recommendation"),
        Column("target", "Target (baseline from the findings)"),
        Column("owner", "Lead agency"),
        Column("review", "Review by"),
    ]
    shown = [
        {
            # the drafted evidence text stays out of the document: its finding ids are printed, and its sentences
            # (of another period's findings) are not checked by this edition's disclosure ledger
            **{k: v for k, v in r.items() if k != "evidence"},
            # the evidence (finding ids) goes with the action, so the printed table fits the page
            # the priority leads the recommendation (no column of its own: the printed table must fit the page)
            "action": f"{r.get('priority')}: "
            + b.scrub(str(r.get("action") or ""))
            + " Evidence: "
            + (", ".join(r.get("finding_ids") or []) or "the analyst's text")
            + ".",
            "target": b.scrub(str(r.get("target") or "")) or "To be agreed by the board",
            "review": _date_words(str(r.get("review") or "")),
        }
        for r in rows
    ]
    return Section(
        "appendix-new",
        "Appendix D: New recommendations",
        [
            Paragraph(
                "One recommendation for each recommended priority: what to do, the measurable target and its baseline "
                "from the findings, the lead agency, and when the board reviews it; each names the findings it "
                "rests on."
            ),
            Table(cols, shown, caption="New recommendations", id="new-recommendations"),
        ],
        xlsx_sheet="D New recs",
    )


def _date_words(iso: str) -> str:
    """2023-10-31 -> 31 October 2023 (anything else as given)."""
    import datetime as dt

    try:
        day = dt.date.fromisoformat(iso)
    except ValueError:
        return iso
    return f"{day.day} {day:%B %Y}"


def build(b: Builder) -> list[Section]:
    """This chapter's sections (none when there is nothing to report)."""
    section = _appendix_new(b)
    return [] if section is None else [section]

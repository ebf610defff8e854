"""Emerging issues: what is rising or signalling and is not yet a priority, each with the one fact that flags it."""

from __future__ import annotations

from cspkit.report.builder import Builder, emerging_findings, prov, why_emerging
from cspkit.report.model import Paragraph, Section


def _emerging(b: Builder) -> Section:
    pr = b.inp.priorities
    recommended = set(pr.recommended()) if pr is not None else set()
    emerging = emerging_findings(b, recommended)
    for f in emerging:
        b.used_ids.add(f.id)
    items = "\n".join(f"- **{f.title}**: {b.scrub(why_emerging(f))}." for f in emerging)
    generated = [
        "An issue is emerging when it rose significantly, or its control chart signalled in the latest quarter, "
        "and it is not already a recommended priority (those have their own chapters). Each is listed with the "
        "fact that flags it; the chapters give the detail.",
        items if items else "No other indicator is flagged as emerging.",
    ]
    blocks = b.narrative("emerging", generated)
    if emerging and "emerging" not in b.inp.narrative:
        blocks[-1] = Paragraph(items, provenance=prov(emerging))
    return Section("emerging", "Emerging issues", blocks, xlsx_sheet="Emerging")


def build(b: Builder) -> list[Section]:
    """This chapter's sections."""
    return [_emerging(b)]

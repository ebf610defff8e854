"""The domestic abuse chapter: incidents, MARAC and wards."""

from __future__ import annotations

from typing import Any

from cspkit.report.builder import Builder
from cspkit.report.model import Section


def _da_chapter(b: Builder) -> Section | None:
    findings = b.findings_of("da.")
    if not findings:
        return None
    fs = b.fs
    blocks: list[Any] = []
    inc = fs.get("da.incidents")
    main = [f for f in findings if not f.id.startswith("da.marac")]
    blocks += b.narrative("domestic-abuse", [b.sentence(f) for f in main])
    fig = b.chart(inc, "Domestic abuse incidents per month, with control limits")
    if fig:
        blocks.append(fig)
    sub = []
    marac = [f for f in findings if f.id.startswith("da.marac")]
    if marac:
        sub.append(Section("da-marac", "MARAC", b.narrative("da-marac", [b.sentence(f) for f in marac])))
    ward = b.ward_table("da", ".incidents", "Domestic abuse incidents by ward", "da-wards")
    wmap = b.ward_map("da", ".incidents", "Domestic abuse incidents per 1,000 residents by ward")
    if ward:
        sub.append(Section("da-wards", "Where domestic abuse is reported", [x for x in (wmap, ward) if x is not None]))
    return Section("domestic-abuse", "Domestic abuse", blocks, sub, xlsx_sheet="Domestic abuse")


def build(b: Builder) -> list[Section]:
    """This chapter's sections (none when there is nothing to report)."""
    section = _da_chapter(b)
    return [] if section is None else [section]

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
    # a count of nought in both periods is not a finding to publish: it is named once, in one sentence
    none = [f for f in main if f.unit == "count" and f.value == 0 and f.baseline in (0, None)]
    texts = [b.sentence(f) for f in main if f not in none]
    if none:
        texts.append(
            "None recorded in either period: " + "; ".join(f.title[:1].lower() + f.title[1:] for f in none) + "."
        )
    blocks += b.narrative("domestic-abuse", texts)
    fig = b.chart(inc, "Domestic abuse incidents per month, with control limits")
    if fig:
        blocks.append(fig)
    sub = []
    marac = [f for f in findings if f.id.startswith("da.marac")]
    if marac:
        sub.append(Section("da-marac", "MARAC", b.narrative("da-marac", [b.sentence(f) for f in marac])))
    ward = b.ward_table("da", ".incidents", "Domestic abuse incidents by ward", "da-wards")
    wmap = b.ward_map("da", ".incidents", "Domestic abuse incidents per 1,000 residents by ward", ward)
    if ward:
        sub.append(Section("da-wards", "Where domestic abuse is reported", [x for x in (wmap, ward) if x is not None]))
    return Section("domestic-abuse", "Domestic abuse", blocks, sub, xlsx_sheet="Domestic abuse")


def build(b: Builder) -> list[Section]:
    """This chapter's sections (none when there is nothing to report)."""
    section = _da_chapter(b)
    return [] if section is None else [section]

"""The anti-social behaviour chapter: police and partner ASB, repeat and vulnerable victims, places."""

from __future__ import annotations

from typing import Any

from cspkit.report.builder import Builder, topic_blocks, where_blocks
from cspkit.report.model import Section


def _asb_chapter(b: Builder) -> Section | None:
    fs = b.fs
    police = fs.get("asb.count")
    partner = b.findings_of("asb.")
    if police is None and not partner:
        return None
    blocks: list[Any] = []
    if police is not None:
        blocks += b.narrative("asb", [b.sentence(police)])
        fig = b.chart(police, "Police-recorded ASB per month, with control limits and forecast")
        if fig:
            blocks.append(fig)
    counts = [f for f in partner if f.unit == "count" and f.change is not None and f.id != "asb.count"]
    if counts:
        blocks.append(b.indicator_table(counts, "ASB indicators (police and partners)", "asb-indicators"))
    sub = []
    repeat = [
        fs.get(i)
        for i in (
            "asb.repeat_victims",
            "asb.repeat_victim_rate",
            "asb.incidents_from_repeat_victims",
            "asb.community_trigger_eligible",
            "asb.vulnerable_victims",
            "asb.high_risk_cases",
        )
    ]
    repeat_f = [f for f in repeat if f is not None]
    if repeat_f:
        sub.append(
            Section(
                "asb-victims",
                "Repeat and vulnerable victims",
                b.narrative("asb-victims", [b.sentence(f) for f in repeat_f]),
            )
        )
    others = topic_blocks(b, "asb.", {f.id for f in repeat_f} | {f.id for f in counts} | {"asb.count", "asb.hotspots"})
    places = where_blocks(b, "asb", ".count", "Police-recorded ASB", "asb-wards")
    if places:
        sub.append(Section("asb-places", "Where ASB happens", places))
    if others:
        sub.append(Section("asb-more", "Patterns and data quality", others))
    return Section("asb", "Anti-social behaviour", blocks, sub, xlsx_sheet="ASB")


def build(b: Builder) -> list[Section]:
    """This chapter's sections (none when there is nothing to report)."""
    section = _asb_chapter(b)
    return [] if section is None else [section]

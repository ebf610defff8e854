"""One chapter per recommended priority that has no topic chapter of its own."""

from __future__ import annotations

from typing import Any

from cspkit.report.builder import Builder, where_blocks
from cspkit.report.model import Paragraph, Section

_TOPIC_OF_CANDIDATE = {"asb": "asb", "domestic_abuse": "da", "reoffending": "reoffending", "sexual_violence": "sv"}


def _priority_chapters(b: Builder) -> list[Section]:
    pr = b.inp.priorities
    if pr is None:
        return []
    out = []
    for key in pr.recommended():
        if key in _TOPIC_OF_CANDIDATE:
            continue  # has its own topic chapter
        f = b.fs.get(f"crime.{key}.count")
        if f is None:
            continue
        blocks: list[Any] = [*b.narrative(f"priority-{key}", [b.sentence(f)])]
        fig = b.chart(f, f"{f.title} per month, with control limits and forecast")
        if fig:
            blocks.append(fig)
        fc = f.extra.get("forecast")
        if fc and not b.inp.public:
            blocks.append(
                Paragraph(
                    f"Looking ahead: the forecast for the next 12 months is about {fc['next_12_months_total']:,.0f} "
                    f"({fc['model']}); treat it as a planning range, not a target."
                )
            )
        blocks += where_blocks(b, f"crime.{key}", ".count", f.title, f"ward-{key}", lsoa_map=False)
        out.append(Section(f"priority-{key}", f"Priority: {f.title}", blocks, xlsx_sheet=f.title))
    return out


def build(b: Builder) -> list[Section]:
    """This chapter's sections (none when there is nothing to report)."""
    return _priority_chapters(b)

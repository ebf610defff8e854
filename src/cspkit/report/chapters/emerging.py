"""Emerging issues: significant rises and recent control-chart signals."""

from __future__ import annotations

from cspkit.report.builder import Builder
from cspkit.report.model import Section


def _emerging(b: Builder) -> Section:
    emerging = [f for f in b.fs.findings if f.emerging and ".ward." not in f.id]
    texts = [f"- **{f.title}**: {b.sentence(f)}" for f in emerging]
    return Section(
        "emerging",
        "Emerging issues",
        b.narrative(
            "emerging",
            [
                "Issues flagged as emerging have a significant rise, or a control-chart signal in the latest quarter.",
                "\n".join(texts) if texts else "No indicator is flagged as emerging.",
            ],
        ),
        xlsx_sheet="Emerging",
    )


def build(b: Builder) -> list[Section]:
    """This chapter's sections (none when there is nothing to report)."""
    section = _emerging(b)
    return [] if section is None else [section]

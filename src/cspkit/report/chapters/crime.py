"""The crime chapter: all crime, harm, and where crime happens."""

from __future__ import annotations

from typing import Any

from cspkit.report.builder import Builder, prov, where_blocks
from cspkit.report.model import Callout, Column, Paragraph, Section, Table


def _crime_chapter(b: Builder) -> Section:
    fs = b.fs
    allc = fs.get("crime.all.count")
    blocks: list[Any] = []
    if allc is not None:
        blocks += b.narrative("crime", [b.sentence(allc)])
        fig = b.chart(allc, "All police-recorded crime per month, with control limits and forecast")
        if fig:
            blocks.append(fig)
    harm = fs.get("crime.harm.total")
    if harm is not None:
        rows = [
            {"crime_type": r["crime_type"], "harm": r["harm"], "share": r["share"]}
            for r in harm.extra.get("by_crime_type", [])
        ]
        blocks.append(Paragraph(b.sentence(harm)))
        blocks.append(
            Table(
                [
                    Column("crime_type", "Crime type"),
                    Column("harm", "Harm (approx. days)", "int"),
                    Column("share", "Share", "percent"),
                ],
                rows,
                caption="Where the harm is: harm-weighted crime by type (approximate weights)",
                id="harm",
                provenance=prov([harm], harm.definition),
            )
        )
    blocks += where_blocks(b, "crime.all", ".count", "All crime", "crime-wards")
    cov = fs.get("quality.police.coverage")
    if cov is not None:
        blocks.append(Callout("caution", "Police data coverage", b.sentence(cov)))
    return Section("crime", "Crime", blocks, xlsx_sheet="Crime")


def build(b: Builder) -> list[Section]:
    """This chapter's sections (none when there is nothing to report)."""
    section = _crime_chapter(b)
    return [] if section is None else [section]

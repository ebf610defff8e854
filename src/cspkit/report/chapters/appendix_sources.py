"""Appendix A: data sources, coverage and data quality."""

from __future__ import annotations

from typing import Any

from cspkit.report.builder import Builder
from cspkit.report.model import Column, Paragraph, Provenance, Section, Table


def _appendix_sources(b: Builder) -> Section:
    rows = b.inp.data_sources
    table = Table(
        [
            Column("source", "Source"),
            Column("agency", "Agency"),
            Column("files", "Files", "int"),
            Column("rows", "Rows loaded", "int"),
            Column("rejected", "Rows rejected", "int"),
            Column("months", "Months"),
            Column("gaps", "Gaps"),
            Column("reasons", "Reject reasons"),
            Column("notes", "Ingest notes"),
        ],
        rows,
        caption="Data sources, coverage and data quality",
        id="data-sources",
        provenance=Provenance(sources=["cspkit ingest log"]),
    )
    quality = [f for f in b.fs.findings if f.topic == "quality"]
    blocks: list[Any] = [table]
    if quality:
        blocks.append(
            b.indicator_table([f for f in quality if f.change is not None], "Data quality", "dq")
            if any(f.change is not None for f in quality)
            else Paragraph("")
        )
        blocks += [Paragraph(b.sentence(f)) for f in quality]
    return Section("appendix-sources", "Appendix A: Data sources and data quality", blocks, xlsx_sheet="A Data sources")


def build(b: Builder) -> list[Section]:
    """This chapter's sections (none when there is nothing to report)."""
    section = _appendix_sources(b)
    return [] if section is None else [section]

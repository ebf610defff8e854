"""The crime chapter: all crime, harm, and where crime happens."""

from __future__ import annotations

from typing import Any

from cspkit.report.builder import Builder, prov, three_figures, where_blocks
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
        note = ""
        if b.withheld(harm):
            rows, text, note = _published_harm(b, rows)
        else:
            text = b.sentence(harm)
        blocks.append(Paragraph(text))
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
                note=note,
                provenance=prov([harm], harm.definition),
            )
        )
    blocks += where_blocks(b, "crime.all", ".count", "All crime", "crime-wards")
    cov = fs.get("quality.police.coverage")
    if cov is not None:
        blocks.append(Callout("caution", "Police data coverage", b.sentence(cov)))
    return Section("crime", "Crime", blocks, xlsx_sheet="Crime")


def _published_harm(b: Builder, rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str, str]:
    """Public edition with a crime type withheld: the harm of the published types only.

    Harm is weight x count, so the harm of a withheld type, or a total that includes it, would give its count
    back. The table keeps the published types, with their shares of the harm they add up to.
    """
    type_ids = {f.title: f.id for f in b.fs.findings if f.id.startswith("crime.") and f.id.endswith(".count")}
    kept = [r for r in rows if type_ids.get(r["crime_type"]) not in b.hidden]
    left_out = [r["crime_type"].lower() for r in rows if type_ids.get(r["crime_type"]) in b.hidden]
    total = sum(r["harm"] for r in kept)
    kept = [{**r, "share": r["harm"] / total if total else None} for r in kept]
    names = ", ".join(left_out)
    text = (
        f"Harm-weighted crime of the crime types published here: about {three_figures(total):,.0f} harm days "
        f"(approximate Cambridge Crime Harm Index). The harm of {names} is left out, because their counts rest on "
        "small numbers and their harm would give them away."
    )
    note = f"Shares are of the harm of the crime types shown; {names} not published."
    return kept, text, note


def build(b: Builder) -> list[Section]:
    """This chapter's sections (none when there is nothing to report)."""
    section = _crime_chapter(b)
    return [] if section is None else [section]

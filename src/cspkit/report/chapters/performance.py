"""Performance and activities: the quarterly pack of local indicators and the crime and ASB indicators."""

from __future__ import annotations

from typing import Any

from cspkit.report.builder import Builder
from cspkit.report.model import Column, Section, Table


def _performance(b: Builder) -> Section:
    fs = b.fs
    blocks: list[Any] = []
    if b.inp.performance:
        blocks.append(
            b.protect(
                Table(
                    [
                        Column("indicator", "Indicator"),
                        Column("value", "Quarter", "int"),
                        Column("last_year", "Same quarter last year", "int"),
                        Column("ytd", "Year to date", "int"),
                        Column("ytd_last_year", "YTD last year", "int"),
                        Column("verdict", "Verdict"),
                        Column("rag", "RAG"),
                        Column("reason", "Why"),
                    ],
                    [_performance_row(r, b) for r in b.inp.performance],
                    caption=f"Local performance indicators, {b.inp.performance_label}",
                    id="performance",
                    note="RAG: red only for a significant move the wrong way or a target missed by more than its "
                    "tolerance; amber for a move the wrong way that is not significant, a control-chart signal the "
                    "wrong way, or a target missed within tolerance; green otherwise; grey when there is no data.",
                )
            )
        )
    area_counts = [
        f
        for f in fs.findings
        if f.unit == "count" and ".ward." not in f.id and f.change is not None and f.topic in ("crime", "asb")
    ]
    blocks.append(
        b.indicator_table(area_counts, f"Police-recorded crime and ASB, {fs.period.label}", "crime-indicators")
    )
    return Section(
        "performance",
        "Performance and activities",
        [*b.narrative("performance", []), *blocks],
        xlsx_sheet="Performance",
    )


_PERFORMANCE_VALUES = ("value", "last_year", "ytd", "ytd_last_year")


def _performance_row(row: dict[str, Any], b: Builder) -> dict[str, Any]:
    """A performance row as printed: a rate indicator's values as percentages (the columns hold counts)."""
    out = dict(row)
    out.pop("unit", None)
    values = [row.get(k) for k in _PERFORMANCE_VALUES]
    proportion = (
        row["unit"] == "proportion"
        if "unit" in row
        else any(isinstance(v, float) and not v.is_integer() for v in values)
    )
    if proportion:
        for k in _PERFORMANCE_VALUES:
            v = row.get(k)
            out[k] = f"{v:.1%}" if isinstance(v, int | float) else v
    out["reason"] = b.scrub(str(row.get("reason") or ""))
    return out


def build(b: Builder) -> list[Section]:
    """This chapter's sections (none when there is nothing to report)."""
    section = _performance(b)
    return [] if section is None else [section]

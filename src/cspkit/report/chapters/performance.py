"""Performance and activities: the quarterly pack of local indicators and the crime and ASB indicators."""

from __future__ import annotations

from typing import Any

from cspkit.report.builder import Builder
from cspkit.report.model import Column, Section, Table


def _performance(b: Builder) -> Section:
    fs = b.fs
    blocks: list[Any] = []
    if b.inp.performance:
        n = max(int(r.get("ytd_months") or 0) for r in b.inp.performance)
        months = f"{n} months" if n else "months"
        blocks.append(
            b.protect(
                Table(
                    [
                        Column("indicator", "Indicator"),
                        Column("value", "Quarter", "int"),
                        Column("last_year", "Same quarter last year", "int"),
                        Column("ytd", f"Year to date ({months})", "int"),
                        Column("ytd_last_year", f"Same {months} last year", "int"),
                        Column("verdict", "Verdict (quarter)"),
                        Column("rag", "RAG"),
                        Column("reason", "Why"),
                    ],
                    [_performance_row(r, b) for r in b.inp.performance],
                    caption=f"Local performance indicators, {b.inp.performance_label}",
                    id="performance",
                    note="RAG: red only for a significant move the wrong way on the same quarter last year or a "
                    "target missed by more than its tolerance; amber for a control-chart signal the wrong way or a "
                    "target missed within tolerance; green otherwise (a move that is not significant is not rated); "
                    "grey when there is no data. The verdict is the quarter's; the year to date compares the same "
                    "months on both sides.",
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
    out.pop("ytd_months", None)
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

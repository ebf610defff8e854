"""The executive summary: the headline tiles, the recommended priorities, the largest changes and progress."""

from __future__ import annotations

from typing import Any

from cspkit.report.builder import Builder, cautious, prov, status, tile
from cspkit.report.model import Column, Paragraph, Provenance, Section, Table, Tiles


def _executive_summary(b: Builder) -> Section:
    fs = b.fs
    tiles = [
        tile(fs.get("crime.all.count"), "All crime", b),
        tile(fs.get("asb.count"), "ASB (police)", b),
        tile(fs.get("da.incidents"), "Domestic abuse incidents", b),
        tile(fs.get("da.marac.referrals"), "MARAC referrals", b),
        tile(fs.get("asb.repeat_victims"), "Repeat ASB victims", b),
        cautious(tile(fs.get("reoffending.binary_rate"), "IOM cohort reoffending", b, proportion=True)),
    ]
    blocks: list[Any] = [
        *b.narrative(
            "summary",
            [
                f"This assessment covers {fs.area.name} for {fs.period.label}, compared with "
                f"{fs.comparison.baseline_label}. Changes are called significant only when an exact test, adjusted "
                "for the number of indicators compared, says they are unlikely to be chance (false discovery rate "
                f"{fs.definitions.get('definitions.significance_level', 0.05):.0%}); otherwise the report says there "
                "was no significant change, whatever the percentage."
            ],
        ),
        Tiles([t for t in tiles if t is not None], provenance=prov([f for f in (fs.get("crime.all.count"),) if f])),
    ]
    sub: list[Section] = []
    pr = b.inp.priorities
    if pr is not None:
        rows = []
        sens = {r.candidate: r for r in pr.sensitivity.rows} if pr.sensitivity else {}
        for row in pr.ranking.rows:
            if not row.complete:
                continue
            s = sens.get(row.candidate)
            rows.append(
                {
                    "rank": row.rank,
                    "issue": row.label,
                    "score": row.total,
                    "band": row.band,
                    "robustness": f"{s.stability} ({s.share_top_n:.0%} of runs in top {pr.sensitivity.top_n})"
                    if s
                    else "",
                    "flags": "; ".join(row.overrides),
                }
            )
        recommended = [r for r in rows if r["band"] == (pr.matrix.bands[0].label if pr.matrix.bands else None)]
        text = (
            "The scoring matrix recommends these priorities: "
            + ", ".join(f"**{r['issue']}**" for r in recommended)
            + "."
            if recommended
            else "No candidate reached the top band of the scoring matrix."
        )
        sub.append(
            Section(
                "summary-priorities",
                "Recommended priorities",
                [
                    Paragraph(text),
                    Table(
                        [
                            Column("rank", "Rank", "int"),
                            Column("issue", "Issue"),
                            Column("score", "Score", "float"),
                            Column("band", "Band"),
                            Column("robustness", "Robustness (weights ±20%, harm index)"),
                            Column("flags", "Flags (not scored)"),
                        ],
                        rows[:6],  # the full ranking is in appendix C
                        caption="Top of the priority ranking",
                        id="summary-ranking",
                        provenance=Provenance(sources=["scoring matrix (appendix C)"], definition=pr.matrix.label),
                    ),
                ],
            )
        )
    significant = [
        f
        for f in fs.findings
        if ".ward." not in f.id and f.change is not None and f.change.significant and f.unit == "count"
    ]
    significant.sort(key=lambda f: abs(f.change.absolute) if f.change else 0, reverse=True)
    top = significant[:8]
    change_blocks: list[Any]
    if top:
        worse = sum(1 for f in top if status(f) == "red")
        change_blocks = [
            *b.narrative(
                "summary-changes",
                [
                    f"{len(significant)} area indicators changed significantly; the {len(top)} largest changes "
                    f"are below ({worse} for the worse, {len(top) - worse} for the better). The chapters give "
                    "the detail, the rates per 1,000 and the confidence intervals."
                ],
            ),
            b.indicator_table(
                top,
                "The largest significant changes",
                "summary-changes-table",
                with_rate=False,
                compact=True,
            ),
        ]
    else:
        change_blocks = b.narrative(
            "summary-changes", ["No indicator changed significantly compared with the baseline."]
        )
    sub.append(Section("summary-changes", "The most important significant changes", change_blocks))
    prev = b.inp.previous_recommendations
    if prev:
        counts: dict[str, int] = {}
        for r in prev:
            counts[str(r.get("rag", r.get("status")))] = counts.get(str(r.get("rag", r.get("status"))), 0) + 1
        summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
        sub.append(
            Section(
                "summary-progress",
                "Progress on last year's recommendations",
                [Paragraph(f"Of {len(prev)} recommendations in last year's plan: {summary} (appendix B).")],
            )
        )
    return Section("summary", "Executive summary", blocks, sub, xlsx_sheet="Summary")


def build(b: Builder) -> list[Section]:
    """This chapter's sections (none when there is nothing to report)."""
    section = _executive_summary(b)
    return [] if section is None else [section]

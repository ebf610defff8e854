"""Appendix C: the scoring matrix, its evidence and its sensitivity."""

from __future__ import annotations

from typing import Any

from cspkit.report.builder import Builder
from cspkit.report.model import Column, Paragraph, Section, Table

#: Harm-index settings in words.
_INDEX_NAMES = {
    "base": "the index in force",
    "cchi_approx": "the approximate Cambridge Crime Harm Index",
    "unweighted": "unweighted counts",
}


def _appendix_matrix(b: Builder) -> Section:
    pr = b.inp.priorities
    if pr is None:
        return Section(
            "appendix-matrix", "Appendix C: Scoring matrix", [Paragraph("The scoring matrix could not run.")]
        )
    criteria = pr.matrix.criteria
    cols = [Column("rank", "Rank", "int"), Column("issue", "Issue")]
    cols += [Column(c.key, c.label, "float") for c in criteria]
    cols += [Column("total", "Total", "float"), Column("band", "Band"), Column("flags", "Flags (not scored)")]
    rows = []
    evidence_rows = []
    for row in pr.ranking.rows:
        r: dict[str, Any] = {
            "rank": row.rank,
            "issue": row.label,
            "total": row.total,
            "band": row.band or "incomplete: " + ", ".join(row.missing),
            "flags": "; ".join(row.overrides),
        }
        cells = {c.criterion: c for c in row.criteria}
        for c in criteria:
            cell = cells.get(c.key)
            r[c.key] = cell.score if cell else None
            evidence_rows.append(
                {
                    "issue": row.label,
                    "criterion": c.label,
                    "score": cell.score if cell else None,
                    "evidence": b.scrub(_evidence_text(cell, c.key, pr)) if cell else "missing",
                }
            )
        rows.append(r)
    blocks: list[Any] = [
        Paragraph(
            f"Matrix: {pr.matrix.label}. Weights: "
            + ", ".join(f"{c.label} {c.weight:g}" for c in criteria)
            + ". Bands: "
            + "; ".join(f"{band.label} from {band.min:g}" for band in pr.matrix.bands)
            + ". Every evidence score cites its findings; every judgement carries who decided it and why."
        ),
        Table(cols, rows, caption="The scoring matrix: scores and totals", id="matrix", print_max_rows=30),
        Table(
            [
                Column("issue", "Issue"),
                Column("criterion", "Criterion"),
                Column("score", "Score", "float"),
                Column("evidence", "Evidence or justification"),
            ],
            evidence_rows,
            caption="The evidence behind every score",
            id="matrix-evidence",
            print_max_rows=30,
        ),
    ]
    provisional = getattr(pr, "provisional", None)
    if provisional is not None:
        from cspkit.report.chapters.summary import provisional_block

        blocks.append(provisional_block(provisional, "matrix-provisional"))
    if pr.sensitivity is not None:
        s = pr.sensitivity
        blocks.append(
            Paragraph(
                f"Sensitivity: {s.runs:,} Monte Carlo runs (seed {s.seed}) with every weight varied by up to "
                f"±{s.weight_jitter:.0%} and the harm index switched between "
                + ", ".join(_INDEX_NAMES.get(name, name) for name in s.evidence_sets)
                + ". A priority "
                f"is robust when it stays in the top {s.top_n} in at least 80% of runs."
            )
        )
        blocks.append(
            Table(
                [
                    Column("label", "Issue"),
                    Column("base_rank", "Rank", "int"),
                    Column("share_top_n", f"Share of runs in top {s.top_n}", "percent"),
                    Column("range", "Rank range (5-95%)"),
                    Column("stability", "Robustness"),
                ],
                [{**r, "range": f"{r['rank_p5']}–{r['rank_p95']}"} for r in s.to_rows()],
                caption="How robust is the ranking?",
                id="sensitivity",
            )
        )
    return Section("appendix-matrix", "Appendix C: Scoring matrix", blocks, xlsx_sheet="C Scoring matrix")


def _evidence_text(cell: Any, criterion: str, pr: Any) -> str:
    """A matrix cell's explanation; public concern cites the public_views source it comes from."""
    text = cell.explanation or ""
    views = getattr(pr, "views", None)
    if criterion == "public_concern" and views is not None and getattr(views, "loaded", False):
        cite = f" Source: public_views, {views.source or 'residents survey'} ({views.year})."
        text = text.replace(" No finding ids were given.", "").rstrip() + cite
    if cell.who:
        text += f" (judged by {cell.who}, {cell.when})"
    return text


def build(b: Builder) -> list[Section]:
    """This chapter's sections (none when there is nothing to report)."""
    section = _appendix_matrix(b)
    return [] if section is None else [section]

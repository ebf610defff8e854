"""``cspkit assess``: compute everything for a period and write the assessment in every format asked for."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cspkit.errors import ConfigError
from cspkit.findings.engine import FindingSet, compute_findings
from cspkit.report.build import AssessmentInputs, build_document, narrative_files
from cspkit.report.model import Column, Document
from cspkit.topics import TOPIC_BUILDERS
from cspkit.workspace import Workspace

__all__ = ["FORMATS", "AssessResult", "assess"]

FORMATS = ("html", "pdf", "docx", "xlsx", "json")

#: Checklist status codes in words.
CHECKLIST_STATUS = {
    "present": "Covered",
    "partial": "Partly covered",
    "missing": "Not yet covered",
    "not applicable": "Not applicable",
}


@dataclass
class AssessResult:
    files: dict[str, Path]
    document: Document
    findings: FindingSet
    timings: dict[str, float] = field(default_factory=dict)
    #: What the analyst still has to do before the board meets (the statutory checklist's actions).
    checklist_actions: list[str] = field(default_factory=list)


def _data_source_rows(fs: FindingSet) -> list[dict[str, Any]]:
    rows = []
    for s in fs.data_sources:
        rows.append(
            {
                "source": s.source,
                "agency": s.agency,
                "files": s.files,
                "rows": s.rows_accepted,
                "rejected": s.rows_rejected,
                "months": f"{s.first_month} to {s.last_month}" if s.first_month else "",
                "gaps": ", ".join(s.gaps) if s.gaps else "none",
                "reasons": ", ".join(f"{k} {v}" for k, v in s.rejects_by_reason.items()),
            }
        )
    return rows


def _finding_rows(fs: FindingSet) -> tuple[list[Column], list[dict[str, Any]]]:
    cols = [
        Column("id", "Finding id"),
        Column("topic", "Topic"),
        Column("title", "Title"),
        Column("area", "Area"),
        Column("value", "Value", "float"),
        Column("baseline", "Baseline", "float"),
        Column("unit", "Unit"),
        Column("rate", "Rate", "rate"),
        Column("p_value", "p", "pvalue"),
        Column("p_adjusted", "p adjusted", "pvalue"),
        Column("direction", "Direction"),
        Column("spc", "Control-chart signal"),
        Column("sentence", "Sentence"),
        Column("definition", "Definition"),
    ]
    rows = []
    for f in fs.findings:
        c = f.change
        rows.append(
            {
                "id": f.id,
                "topic": f.topic,
                "title": f.title,
                "area": f.area,
                "value": f.value,
                "baseline": f.baseline,
                "unit": f.unit,
                "rate": f.rate,
                "p_value": c.p_value if c else None,
                "p_adjusted": c.p_adjusted if c else None,
                "direction": c.direction if c else "",
                "spc": f"{f.spc.rule} ({f.spc.month})" if f.spc else "",
                "sentence": f.sentence,
                "definition": f.definition,
            }
        )
    return cols, rows


def assess(
    ws: Workspace,
    *,
    period: str | None = None,
    compare: str = "previous",
    edition: str = "restricted",
    formats: list[str] | None = None,
    out_dir: Path | None = None,
    on_step: Callable[[str], None] | None = None,
    findings: FindingSet | None = None,
) -> AssessResult:
    """Build and write the Partnership Strategic Assessment.

    Args:
        findings: The findings already computed for this workspace state, ``period`` and ``compare`` (the web
            app's cached set), so they are not computed a second time; computed here when not given.

    Raises:
        ConfigError: Unknown edition or format.
    """
    formats = formats or ["html", "pdf", "docx", "xlsx"]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise ConfigError(f"Unknown format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}.")
    if edition not in ("public", "restricted"):
        raise ConfigError(f"Unknown edition {edition!r}; choose public or restricted.")
    step = on_step or (lambda _: None)
    timings: dict[str, float] = {}
    config = ws.config()
    t = time.perf_counter()
    con = ws.connect(read_only=True)
    try:
        if findings is None:
            step("Computing findings")
            fs = compute_findings(con, config, period=period, compare=compare, builders=TOPIC_BUILDERS)
        else:
            fs = findings
        timings["findings"] = time.perf_counter() - t
        t = time.perf_counter()
        step("Scoring priorities")
        from cspkit.priorities.run import prioritise

        priorities = prioritise(con, ws, fs)
        timings["priorities"] = time.perf_counter() - t
        extras = _extras(con, ws, fs, priorities)
        sources = _data_source_rows(fs)
    finally:
        con.close()
    from cspkit.errors import AnalysisError
    from cspkit.findings.boundaries import load_boundaries

    boundaries: dict[str, Any] = {}
    for level in ("lsoa", "ward"):
        try:
            boundaries[level] = load_boundaries(fs.area.codes, level)
        except AnalysisError:  # no boundaries bundled for this area: maps are left out (the findings say so)
            boundaries[level] = None
    public = edition == "public"
    marking = (
        str(config.get("disclosure.public_marking")) if public else str(config.get("partnership.protective_marking"))
    )
    t = time.perf_counter()
    step("Building the document")
    doc = build_document(
        AssessmentInputs(
            partnership=config.name,
            fs=fs,
            edition=edition,
            marking=marking,
            suppress_below=int(config.get("disclosure.suppress_below")),
            priorities=priorities,
            data_sources=sources,
            narrative=narrative_files(ws.narrative_dir),
            boundaries_lsoa=boundaries["lsoa"],
            boundaries_ward=boundaries["ward"],
            neutral_measures=[str(n) for n in config.get("report.neutral_measures")],
            **extras,
        )
    )
    timings["build"] = time.perf_counter() - t
    out = out_dir or (ws.outputs / f"assessment-{fs.period.code.replace('/', '-').replace('..', '_')}-{edition}")
    out.mkdir(parents=True, exist_ok=True)
    stem = "strategic-assessment"
    files: dict[str, Path] = {}
    if "html" in formats:
        t = time.perf_counter()
        step("Writing HTML")
        from cspkit.report.html import render_html

        path = out / f"{stem}.html"
        path.write_text(render_html(doc), encoding="utf-8")
        files["html"] = path
        timings["html"] = time.perf_counter() - t
    if "pdf" in formats:
        t = time.perf_counter()
        step("Writing PDF")
        from cspkit.report.pdf import render_pdf

        files["pdf"] = render_pdf(doc, out / f"{stem}.pdf")
        timings["pdf"] = time.perf_counter() - t
    if "docx" in formats:
        t = time.perf_counter()
        step("Writing Word")
        from cspkit.report.docx import render_docx

        files["docx"] = render_docx(doc, out / f"{stem}.docx")
        timings["docx"] = time.perf_counter() - t
    if "xlsx" in formats:
        t = time.perf_counter()
        step("Writing the Excel annex")
        from cspkit.report.xlsx import render_xlsx

        extra = {} if public else {"Findings": _finding_rows(fs)}
        files["xlsx"] = render_xlsx(doc, out / f"{stem}-annex.xlsx", extra_sheets=extra)
        timings["xlsx"] = time.perf_counter() - t
    actions = list(extras["checklist_actions"])
    # The analyst's to-do list is its own file, never part of the board document.
    checklist_path = out / "statutory-checklist.md"
    checklist_path.write_text(_checklist_markdown(extras["checklist"], actions), encoding="utf-8")
    files["checklist"] = checklist_path
    if "json" in formats and not public:
        path = out / "findings.json"
        path.write_text(json.dumps(fs.to_dict(), indent=1, default=str), encoding="utf-8")
        files["json"] = path
    return AssessResult(files, doc, fs, timings, actions)


def _checklist_markdown(rows: list[dict[str, Any]], actions: list[str]) -> str:
    """The statutory checklist with the analyst's actions: a working file for the analyst, not for the board."""
    lines = ["# Statutory checklist (SI 2007/1830 reg. 5)", ""]
    lines += [f"- **{r['id']}** {r['requirement']}: {r['status']}. {r['evidence']}".rstrip() for r in rows]
    lines += ["", "## Still to do", ""]
    lines += [f"- {a}" for a in actions] if actions else ["Nothing: every requirement is covered."]
    return "\n".join(lines) + "\n"


def _latest_quarter(fs: FindingSet) -> str:
    """The latest complete financial-year quarter inside the period."""
    from cspkit.findings.periods import month_add, quarter_of

    fy_start = fs.period.fy_start_month
    last = fs.period.last
    # step back to the last month of a quarter (quarters start at the financial year's first month)
    while (int(last[5:]) - fy_start + 1) % 3 != 0:
        last = month_add(last, -1)
    return quarter_of(last, fy_start)


def _extras(con: Any, ws: Workspace, fs: FindingSet, priorities: Any) -> dict[str, Any]:
    """Previous and new recommendations, the statutory checklist and the quarterly pack."""
    from cspkit.errors import CspkitError
    from cspkit.priorities.checklist import statutory_checklist
    from cspkit.priorities.performance import performance_pack
    from cspkit.priorities.recommendations import draft_recommendations, load_or_draft, previous_recommendations

    new = load_or_draft(ws.narrative_dir / "new_recommendations.toml", draft_recommendations(priorities, fs))
    new_rows = [
        {
            "ref": r.ref,
            "priority": r.label,
            "action": r.action,
            "evidence": " ".join(r.evidence),
            "owner": r.owner,
            "target": r.target,
            "review": r.review,
            "finding_ids": list(r.finding_ids),
        }
        for r in new
        if r.recommended
    ]
    checklist = []
    checklist_actions = []
    for item in statutory_checklist(fs, con, priorities, workspace=ws):
        checklist.append(
            {
                "id": item.id,
                "requirement": item.requirement,
                "status": CHECKLIST_STATUS.get(item.status, item.status),
                "evidence": item.evidence,
            }
        )
        if item.action:
            checklist_actions.append(f"{item.id} {item.requirement}: {item.action}")
    performance: list[dict[str, Any]] = []
    label = ""
    try:
        quarter = _latest_quarter(fs)
        pack = performance_pack(con, ws.config(), quarter)
        label = f"{pack.quarter.label} (year to date {pack.ytd.label})"
        performance = [
            {
                "indicator": r["indicator"],
                "unit": r["unit"],
                "value": r["quarter"],
                "last_year": r["quarter_last_year"],
                "ytd": r["ytd"],
                "ytd_last_year": r["ytd_last_year"],
                "verdict": r["significance"],
                "rag": str(r["rag"]).capitalize(),
                "reason": r["reason"],
                "ytd_months": row.ytd_months,
            }
            for r, row in zip(pack.to_rows(), pack.rows, strict=True)
        ]
    except CspkitError as exc:
        fs.notes.append(f"Quarterly performance pack not produced: {exc}")
    return {
        "previous_recommendations": previous_recommendations(con),
        "new_recommendations": new_rows,
        "checklist": checklist,
        "checklist_actions": checklist_actions,
        "performance": performance,
        "performance_label": label,
    }

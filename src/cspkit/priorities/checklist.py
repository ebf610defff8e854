"""The statutory checklist: which content the law asks of a strategic assessment is present, and what is missing.

The requirements are those of the Crime and Disorder (Formulation and Implementation of Strategy) Regulations
2007, reg 5 as amended, mapped to the sections of a Partnership Strategic Assessment (domain notes, section 1.5):

===  =====================================================  ======================================================
id   requirement                                            what is checked
===  =====================================================  ======================================================
R1   levels and patterns of crime, disorder and ASB         all-crime finding with its monthly series, ward
                                                            findings, an ASB finding
R2   the same for substance misuse                          a drugs finding and the treatment findings
                                                            (substance_misuse, NDTMS-style); police only: partial
R3   the same for reoffending                               a proven-reoffending or IOM cohort finding
R4   change since the previous assessment                   compared findings carry a significance test
R5   why it changed                                         an analyst's ``narrative/<section>.md`` for each
                                                            chapter whose findings changed significantly (cspkit
                                                            does not write why a change happened)
R6   recommended priorities                                 the scoring matrix ran and every candidate is scored
R7   public views                                           rows in the ``public_views`` table
R8   implementation of last year's plan                     every previous recommendation has a status (RAG) and
                                                            evidence
R9   two-tier areas: matters for the county group           not applicable for a unitary, metropolitan or London
                                                            authority (E06, E08, E09, W06); for a district (E07),
                                                            ``narrative/county-matters.md``
R10  distribution log and audit trail                       an assessment in ``outputs/`` with its findings.json
                                                            (each number's provenance) and the ingest log
===  =====================================================  ======================================================

Statuses are ``present``, ``partial``, ``missing`` and ``not applicable``; a missing or partial item says what to
do.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import duckdb

from cspkit.findings.engine import FindingSet
from cspkit.findings.wording import format_number
from cspkit.priorities.recommendations import previous_recommendations, rag_summary
from cspkit.priorities.run import PriorityResult
from cspkit.warehouse.store import query
from cspkit.workspace import Workspace

__all__ = ["NARRATIVE_SECTIONS", "REQUIREMENTS", "CheckItem", "area_tier", "statutory_checklist"]

Status = Literal["present", "partial", "missing", "not applicable"]

#: (id, requirement, PSA section) from the domain notes, section 1.5.
REQUIREMENTS: tuple[tuple[str, str, str], ...] = (
    ("R1", "Levels and patterns of crime, disorder and anti-social behaviour", "Performance & Activities; chapters"),
    ("R2", "Levels and patterns of substance misuse (alcohol included)", "Cross-cutting or thematic chapter"),
    ("R3", "Levels and patterns of reoffending", "Reducing Reoffending"),
    ("R4", "How they changed since the previous strategic assessment", "Every chapter"),
    ("R5", "Why those changes happened", "Every chapter"),
    ("R6", "The matters the responsible authorities should prioritise", "Executive Summary; Scoring Matrix appendix"),
    ("R7", "The matters people who live or work in the area think should be prioritised", "Introduction"),
    ("R8", "How far the previous year's partnership plan was implemented", "Previous recommendations appendix"),
    ("R9", "Two-tier areas: matters for the county strategy group", "County matters (two-tier areas only)"),
    ("R10", "Sent to the PCC and scrutiny: distribution log and audit trail", "Distribution log"),
)

#: Finding topic -> the report's section id, whose ``narrative/<id>.md`` explains the changes.
NARRATIVE_SECTIONS = {
    "crime": "crime",
    "asb": "asb",
    "da": "domestic-abuse",
    "reoffending": "reoffending",
    "sv": "sexual-violence",
}

_COUNTY_SECTION = "county-matters"
_REPORT_SUFFIXES = {".html", ".pdf", ".docx", ".xlsx"}


@dataclass(frozen=True)
class CheckItem:
    """One statutory requirement and whether the assessment meets it.

    Attributes:
        id: ``R1`` to ``R10``.
        requirement: The requirement in words.
        section: The PSA section that carries it.
        status: ``present``, ``partial``, ``missing`` or ``not applicable``.
        evidence: What was checked and found, citing finding ids or tables.
        action: What to do when it is missing or partial ("" otherwise).
    """

    id: str
    requirement: str
    section: str
    status: Status
    evidence: str
    action: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The item as plain JSON-able data."""
        return asdict(self)


def area_tier(codes: list[str]) -> Literal["unitary", "two-tier", "unknown"]:
    """Local government tier from ONS district codes.

    E06 (unitary), E08 (metropolitan district), E09 (London borough) and W06 (Welsh unitary) are single-tier;
    E07 (non-metropolitan district) is the lower tier of a two-tier county. Any E07 code makes the area two-tier.
    """
    prefixes = {code[:3] for code in codes}
    if "E07" in prefixes:
        return "two-tier"
    if prefixes and prefixes <= {"E06", "E08", "E09", "W06"}:
        return "unitary"
    return "unknown"


def _workspace_of(con: duckdb.DuckDBPyConnection) -> Workspace | None:
    rows = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    if not rows or not rows[0][0]:
        return None
    root = Path(rows[0][0]).parent
    return Workspace(root) if (root / "cspkit.toml").is_file() else None


def _narratives(ws: Workspace | None) -> dict[str, str]:
    if ws is None or not ws.narrative_dir.is_dir():
        return {}
    texts = {p.stem: p.read_text(encoding="utf-8") for p in sorted(ws.narrative_dir.glob("*.md"))}
    return {k: v for k, v in texts.items() if v.strip()}


def _r1(fs: FindingSet) -> tuple[Status, str, str]:
    allc = fs.get("crime.all.count")
    if allc is None or allc.value is None:
        return "missing", "No all-crime finding (crime.all.count).", "Load data.police.uk street files (cspkit ingest)."
    wards = [f for f in fs.findings if re.fullmatch(r"crime\.all\.ward\..+\.count", f.id)]
    asb = [f for f in (fs.get("asb.count"), fs.get("asb.partner.count")) if f is not None]
    parts = [
        f"crime.all.count ({format_number(allc.value)} in {fs.period.label}; monthly series of "
        f"{len(allc.series)} months)",
        f"{len(wards)} ward findings (crime.all.ward.*)" if wards else "no ward findings",
        ", ".join(f.id for f in asb) if asb else "no ASB finding",
    ]
    evidence = "; ".join(parts) + "."
    if wards and asb and allc.series:
        return "present", evidence, ""
    todo = []
    if not wards:
        todo.append("the geography lookup covering the area's LSOAs")
    if not asb:
        todo.append("ASB data (police street files or the asb_incidents contract)")
    if not allc.series:
        todo.append("monthly police data")
    return "partial", evidence, "Load " + " and ".join(todo) + "."


def _r2(fs: FindingSet) -> tuple[Status, str, str]:
    drugs = fs.get("crime.drugs.count")
    treatment = fs.get("substance.in_treatment")
    need = "Load the drug and alcohol treatment extract (the substance_misuse contract, NDTMS-style counts)."
    police = (
        f"crime.drugs.count ({format_number(drugs.value)} in {fs.period.label})"
        if drugs is not None and drugs.value is not None
        else ""
    )
    if treatment is not None and treatment.value is not None:
        parts = [p for p in (police, f"substance.* ({format_number(treatment.value)} adults in treatment)") if p]
        return "present", "; ".join(parts) + ".", ""
    if not police:
        return "missing", "No drugs finding (crime.drugs.count).", "Load data.police.uk street files. " + need
    return "partial", f"Police-recorded drug offences only ({police}).", need


def _r3(fs: FindingSet) -> tuple[Status, str, str]:
    ids = ("reoffending.binary_rate", "reoffending.iom.binary_rate", "reoffending.iom.cohort_size")
    found = [fid for fid in ids if (f := fs.get(fid)) is not None and f.value is not None]
    if not found:
        return (
            "missing",
            "No reoffending findings (reoffending.*).",
            "Load the offenders (IOM cohort) and offences contracts, or a proven reoffending extract.",
        )
    return "present", "Reoffending findings: " + ", ".join(found) + ".", ""


def _r4(fs: FindingSet) -> tuple[Status, str, str]:
    compared = [f for f in fs.findings if f.change is not None]
    tested = [f for f in compared if f.change is not None and f.change.p_value is not None]
    significant = [f for f in tested if f.change is not None and f.change.significant]
    if not tested:
        return (
            "missing",
            "No finding is compared with an earlier period with a significance test.",
            "Load at least two years of data so the period can be compared with the one before.",
        )
    return (
        "present",
        f"{len(tested)} findings compared with a significance test (Benjamini-Hochberg adjusted), "
        f"{len(significant)} significant; {fs.comparison.note}",
        "",
    )


def _r5(fs: FindingSet, ws: Workspace | None) -> tuple[Status, str, str]:
    changed = sorted(
        {f.topic for f in fs.findings if f.change is not None and f.change.significant} & set(NARRATIVE_SECTIONS)
    )
    if ws is None:
        return "missing", "No workspace to look for narrative files in.", "Run the check inside a workspace."
    texts = _narratives(ws)
    checked = "cspkit does not write why a change happened; it checks for the analyst's narrative/<section>.md."
    if not changed:
        return "present", f"No chapter has a significant change to explain. {checked}", ""
    sections = [NARRATIVE_SECTIONS[t] for t in changed]
    have = [s for s in sections if s in texts]
    lacking = [s for s in sections if s not in texts]
    evidence = (
        f"Chapters with significant changes: {', '.join(sections)}; narrative found for "
        f"{', '.join(have) if have else 'none'}. {checked}"
    )
    if not lacking:
        return "present", evidence, ""
    action = (
        "Explain the changes (causes, PESTELO factors, evidence) in "
        + ", ".join(f"narrative/{s}.md" for s in lacking)
        + "."
    )
    return ("partial" if have else "missing"), evidence, action


def _r6(priorities: PriorityResult | None) -> tuple[Status, str, str]:
    if priorities is None:
        return "missing", "The scoring matrix has not been run.", "Run `cspkit priorities`."
    rows = priorities.ranking.rows
    incomplete = [r for r in rows if not r.complete]
    recommended = priorities.recommended()
    evidence = (
        f"Matrix {priorities.matrix.name!r} scored {len(rows) - len(incomplete)} of {len(rows)} candidates; "
        f"recommended: {', '.join(recommended) if recommended else 'none yet'}."
    )
    if incomplete:
        missing = "; ".join(f"{r.candidate} ({', '.join(r.missing)})" for r in incomplete[:5])
        more = f" and {len(incomplete) - 5} more" if len(incomplete) > 5 else ""
        return (
            "partial",
            f"{evidence} Incomplete: {missing}{more}.",
            'Enter the missing judgements with `cspkit score set CANDIDATE CRITERION VALUE --why "..."`.',
        )
    if not recommended:
        return "partial", evidence, "No candidate reached the top band: review the matrix and the judgements."
    return "present", evidence, ""


def _r7(con: duckdb.DuckDBPyConnection) -> tuple[Status, str, str]:
    rows = query(
        con,
        "SELECT year, count(*) AS themes, max(respondents) AS respondents, string_agg(DISTINCT source, '; ') AS src "
        "FROM public_views WHERE year = (SELECT max(year) FROM public_views) GROUP BY year",
    )
    if not rows:
        return (
            "missing",
            "The public_views table is empty.",
            "No public views loaded: load a residents' survey with the public_views contract.",
        )
    r = rows[0]
    source = f" from {r['src']}" if r["src"] else ""
    return (
        "present",
        f"public_views: {r['themes']} themes for {r['year']}{source} (up to {format_number(r['respondents'])} "
        "respondents).",
        "",
    )


def _r8(con: duckdb.DuckDBPyConnection) -> tuple[Status, str, str]:
    previous = previous_recommendations(con)
    if not previous:
        return (
            "missing",
            "The recommendations table is empty.",
            "Load last year's recommendations with their status and evidence (recommendations contract).",
        )
    counts = rag_summary(previous)
    summary = ", ".join(f"{n} {rag}" for rag, n in counts.items() if n)
    evidence = f"recommendations: {len(previous)} of {previous[0]['year']} ({summary})."
    no_evidence = [r["ref"] for r in previous if not str(r["evidence"]).strip()]
    if no_evidence:
        return (
            "partial",
            evidence + f" Without evidence: {', '.join(no_evidence)}.",
            "Add the evidence of progress for " + ", ".join(no_evidence) + " and load the file again.",
        )
    return "present", evidence + " Each has a status (RAG) and evidence.", ""


def _r9(fs: FindingSet, ws: Workspace | None) -> tuple[Status, str, str]:
    codes = list(fs.area.codes)
    tier = area_tier(codes)
    if tier == "unitary":
        return "not applicable", f"{', '.join(codes)}: a single-tier authority, with no county strategy group.", ""
    path = f"narrative/{_COUNTY_SECTION}.md"
    if tier == "unknown":
        return (
            "missing",
            f"Cannot tell the tier from the area codes {', '.join(codes) or '(none)'}.",
            f"If the area is a district of a county, write {path}; otherwise ignore this item.",
        )
    if _COUNTY_SECTION in _narratives(ws):
        return "present", f"Two-tier district ({', '.join(codes)}); {path} found.", ""
    return (
        "missing",
        f"Two-tier district ({', '.join(codes)}); no {path}.",
        f"Write {path}: the matters to bring to the county strategy group's attention.",
    )


def _r10(con: duckdb.DuckDBPyConnection, ws: Workspace | None) -> tuple[Status, str, str]:
    log = con.execute("SELECT count(*) FROM ingest_log WHERE active").fetchall()[0][0]
    caveat = (
        "cspkit does not record who the assessment was sent to: keep the distribution (PCC, scrutiny committee) "
        "in the board minutes."
    )
    reports = sorted(p for p in ws.outputs.rglob("*") if p.suffix in _REPORT_SUFFIXES) if ws else []
    jsons = sorted(ws.outputs.rglob("findings.json")) if ws else []
    if not reports:
        return (
            "missing",
            f"No assessment in outputs/; ingest log: {log} files. {caveat}",
            "Run `cspkit assess` to write the assessment with its findings.json.",
        )
    root = ws.root if ws else Path()
    names = ", ".join(str(p.relative_to(root)) for p in reports[:4]) + (" ..." if len(reports) > 4 else "")
    evidence = f"Outputs: {names}; ingest log: {log} files."
    if not jsons:
        return (
            "partial",
            f"{evidence} No findings.json with the numbers' provenance. {caveat}",
            "Run `cspkit assess --format json` (restricted edition) to keep each number's provenance.",
        )
    return "present", f"{evidence} Provenance: {jsons[-1].relative_to(root)}. {caveat}", ""


def statutory_checklist(
    fs: FindingSet,
    con: duckdb.DuckDBPyConnection,
    priorities: PriorityResult | None,
    *,
    workspace: Workspace | None = None,
) -> list[CheckItem]:
    """Check the assessment being built against the statutory content (R1 to R10).

    Args:
        fs: The assessment's findings.
        con: Warehouse connection (public views, previous recommendations, ingest log).
        priorities: The scoring matrix result, or None when it has not been run.
        workspace: The workspace (narrative and outputs); default: the one holding the warehouse file.

    Returns:
        One item per requirement, in order R1 to R10.
    """
    ws = workspace if workspace is not None else _workspace_of(con)
    results = {
        "R1": _r1(fs),
        "R2": _r2(fs),
        "R3": _r3(fs),
        "R4": _r4(fs),
        "R5": _r5(fs, ws),
        "R6": _r6(priorities),
        "R7": _r7(con),
        "R8": _r8(con),
        "R9": _r9(fs, ws),
        "R10": _r10(con, ws),
    }
    return [
        CheckItem(rid, text, section, *results[rid])  # status, evidence, action
        for rid, text, section in REQUIREMENTS
    ]

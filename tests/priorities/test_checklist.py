"""The statutory checklist (R1-R10) on real police data plus the synthetic partnership, and on an empty one."""

from __future__ import annotations

import shutil

import pytest

from cspkit.findings.area import AreaContext
from cspkit.findings.engine import FindingSet, compute_findings
from cspkit.findings.periods import month_range, parse_period, plan_comparison
from cspkit.ingest import ingest_paths
from cspkit.priorities.checklist import CheckItem, area_tier, statutory_checklist
from cspkit.priorities.judgements import JudgementStore
from cspkit.priorities.run import PriorityResult, matrix_for, prioritise
from cspkit.synth import generate
from cspkit.topics import TOPIC_BUILDERS
from cspkit.workspace import Workspace

Full = tuple[Workspace, FindingSet, PriorityResult]


@pytest.fixture(scope="module")
def full(police_workspace: Workspace, tmp_path_factory: pytest.TempPathFactory) -> Full:
    """Real police data plus the synthetic partner data (seed 1), with findings and a first priorities run."""
    base = tmp_path_factory.mktemp("checklist")
    shutil.copytree(police_workspace.root, base / "ws")
    ws = Workspace(base / "ws")
    generate(base / "data", seed=1)
    con = ws.connect()
    try:
        report = ingest_paths(con, [base / "data"], key=ws.key())
        assert report.ok, report.errors
        fs = compute_findings(con, ws.config(), forecast=False, hotspot_maps=False, builders=TOPIC_BUILDERS)
        return ws, fs, prioritise(con, ws, fs, runs=20)
    finally:
        con.close()


def _check(ws: Workspace, fs: FindingSet, priorities: PriorityResult | None) -> dict[str, CheckItem]:
    con = ws.connect(read_only=True)
    try:
        return {item.id: item for item in statutory_checklist(fs, con, priorities)}
    finally:
        con.close()


def test_full_partnership(full: Full) -> None:
    ws, fs, priorities = full
    items = _check(ws, fs, priorities)
    assert list(items) == [f"R{i}" for i in range(1, 11)]
    status = {k: v.status for k, v in items.items()}
    assert status == {
        "R1": "present",
        "R2": "present",  # police drug offences and the treatment extract (substance_misuse)
        "R3": "present",
        "R4": "present",
        "R5": "missing",
        "R6": "partial",
        "R7": "present",
        "R8": "present",
        "R9": "not applicable",
        "R10": "missing",
    }
    assert "crime.all.count" in items["R1"].evidence and "ward findings" in items["R1"].evidence
    assert "monthly series of 24 months" in items["R1"].evidence
    assert "crime.drugs.count" in items["R2"].evidence and "substance.*" in items["R2"].evidence
    assert items["R2"].action == ""
    assert "reoffending.binary_rate" in items["R3"].evidence
    assert "significance test" in items["R4"].evidence
    assert "narrative/crime.md" in items["R5"].action
    # the default matrix needs the panel's partnership-value judgement for every candidate
    assert "partnership_value" in items["R6"].evidence and "cspkit score set" in items["R6"].action
    assert "public_views: 9 themes for 2022" in items["R7"].evidence
    # the synthetic plan (seed 1): 3 complete, 3 on track, 1 delayed, 1 not started
    assert items["R8"].evidence.startswith("recommendations: 8 of 2022-23 (3 complete, 3 green, 1 amber, 1 red)")
    assert items["R9"].evidence.startswith("E06000056: a single-tier authority")
    assert "cspkit assess" in items["R10"].action
    for item in items.values():
        assert bool(item.action) == (item.status in ("missing", "partial"))


def test_narrative_judgements_and_outputs_complete_the_list(full: Full) -> None:
    ws, fs, first = full
    store = JudgementStore(ws.judgements_path, matrix_for(ws.config()))
    for row in first.ranking.rows:
        store.set(row.candidate, "partnership_value", 3, "agreed at the board workshop", "CSP board", "2024-05-14")
    con = ws.connect(read_only=True)
    try:
        priorities = prioritise(con, ws, fs, runs=20)
    finally:
        con.close()
    # chapters with a significant change in May 2022 to April 2023 (sexual violence has none)
    sections = ["asb", "crime", "domestic-abuse", "reoffending"]
    assert f"Chapters with significant changes: {', '.join(sections)}; narrative found for none" in (
        _check(ws, fs, priorities)["R5"].evidence
    )
    (ws.narrative_dir / "crime.md").write_text("Why it changed: ...", encoding="utf-8")
    (ws.narrative_dir / "sexual-violence.md").write_text("   \n", encoding="utf-8")  # blank: does not count
    partial = _check(ws, fs, priorities)["R5"]
    assert partial.status == "partial"
    assert "narrative found for crime." in partial.evidence
    assert "narrative/asb.md, narrative/domestic-abuse.md, narrative/reoffending.md" in partial.action
    for section in sections:
        (ws.narrative_dir / f"{section}.md").write_text("Why it changed: ...", encoding="utf-8")
    out = ws.outputs / "assessment-2022-23-restricted"
    out.mkdir(parents=True)
    (out / "assessment.html").write_text("<html></html>", encoding="utf-8")
    after = _check(ws, fs, priorities)
    assert after["R10"].status == "partial"  # a report without findings.json: no provenance kept
    (out / "findings.json").write_text("{}", encoding="utf-8")
    after = _check(ws, fs, priorities)
    assert after["R5"].status == "present"
    assert after["R6"].status == "present"
    assert "recommended:" in after["R6"].evidence and priorities.recommended()
    assert after["R10"].status == "present"
    assert "findings.json" in after["R10"].evidence and "does not record who" in after["R10"].evidence


def test_empty_two_tier_district(workspace: Workspace) -> None:
    period = parse_period("2023-24")
    comparison = plan_comparison(period, month_range("2022-04", "2024-03"), "previous")
    fs = FindingSet([], period, comparison, AreaContext(["E07000240"], "St Albans", {}, {}, {}), {})
    items = _check(workspace, fs, None)
    assert {k: v.status for k, v in items.items()} == {
        "R1": "missing",
        "R2": "missing",
        "R3": "missing",
        "R4": "missing",
        "R5": "present",  # nothing changed significantly, so nothing to explain
        "R6": "missing",
        "R7": "missing",
        "R8": "missing",
        "R9": "missing",
        "R10": "missing",
    }
    assert items["R7"].action == "No public views loaded: load a residents' survey with the public_views contract."
    assert "recommendations contract" in items["R8"].action
    assert items["R6"].action == "Run `cspkit priorities`."
    assert "narrative/county-matters.md" in items["R9"].action
    (workspace.narrative_dir / "county-matters.md").write_text("Matters for the county group.", encoding="utf-8")
    assert _check(workspace, fs, None)["R9"].status == "present"


@pytest.mark.parametrize(
    ("codes", "tier"),
    [
        (["E06000056"], "unitary"),
        (["E08000025"], "unitary"),
        (["E09000033"], "unitary"),
        (["W06000015"], "unitary"),
        (["E07000240"], "two-tier"),
        (["E07000240", "E07000241"], "two-tier"),
        ([], "unknown"),
        (["S12000036"], "unknown"),
    ],
)
def test_area_tier(codes: list[str], tier: str) -> None:
    assert area_tier(codes) == tier

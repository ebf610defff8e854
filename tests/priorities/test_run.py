"""The scoring matrix on a whole partnership: real police data plus the synthetic partner data."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cspkit.findings.engine import FindingSet, compute_findings
from cspkit.ingest import ingest_paths
from cspkit.priorities.judgements import JudgementStore
from cspkit.priorities.matrix import describe_missing
from cspkit.priorities.presets import load_preset
from cspkit.priorities.run import PriorityResult, prioritise
from cspkit.synth import generate
from cspkit.topics import TOPIC_BUILDERS
from cspkit.workspace import Workspace
from tests.conftest import POLICE_ZIP


@pytest.fixture(scope="module")
def partnership(tmp_path_factory: pytest.TempPathFactory, _blank_workspace_template: Path) -> Workspace:
    root = tmp_path_factory.mktemp("partnership") / "ws"
    shutil.copytree(_blank_workspace_template, root)
    ws = Workspace(root)
    generate(root / "partner", seed=1)
    con = ws.connect()
    try:
        assert ingest_paths(con, [POLICE_ZIP, root / "partner"], key=ws.key()).ok
    finally:
        con.close()
    return ws


@pytest.fixture(scope="module")
def findings(partnership: Workspace) -> FindingSet:
    con = partnership.connect(read_only=True)
    try:
        return compute_findings(con, partnership.config(), forecast=False, hotspot_maps=False, builders=TOPIC_BUILDERS)
    finally:
        con.close()


def _run(ws: Workspace, fs: FindingSet, **kw: object) -> PriorityResult:
    con = ws.connect(read_only=True)
    try:
        return prioritise(con, ws, fs, runs=300, **kw)  # type: ignore[arg-type]
    finally:
        con.close()


def test_missing_judgements_leave_candidates_unranked_and_named(partnership: Workspace, findings: FindingSet) -> None:
    """With no judgement recorded, no candidate is scored as if zero: all are incomplete and named."""
    result = _run(partnership, findings)
    assert result.ranking.rows and all(not row.complete and row.total is None for row in result.ranking.rows)
    message = describe_missing(result.ranking)
    assert "Domestic abuse (domestic_abuse): no judgement for Partnership value (partnership_value)" in message
    assert result.sensitivity is None


def test_domestic_abuse_is_a_recommended_priority(partnership: Workspace, findings: FindingSet) -> None:
    """The planted domestic-abuse rise (high harm) makes it a recommended priority under the default preset,
    even when every candidate gets the same partnership-value judgement (so the evidence decides)."""
    store = JudgementStore(partnership.judgements_path, load_preset())
    first = _run(partnership, findings)
    for row in first.ranking.rows:
        store.set(row.candidate, "partnership_value", 3, why="same for all (test)", who="test")
    result = _run(partnership, findings)
    da = next(r for r in result.ranking.rows if r.candidate == "domestic_abuse")
    assert da.complete and da.band == "Recommended priority"
    assert "domestic_abuse" in result.recommended()
    cells = {c.criterion: c for c in da.criteria}
    assert cells["trend"].score == 5  # the planted rise is significant
    assert "da.incidents" in cells["trend"].explanation
    # reproducible for a seed, and the evidence cites its findings
    again = _run(partnership, findings)
    assert result.sensitivity is not None and again.sensitivity is not None
    assert result.sensitivity.to_rows() == again.sensitivity.to_rows()
    assert result.sensitivity.row("domestic_abuse").stability in ("robust", "fragile")
    assert "unweighted" in result.sensitivity.evidence_sets  # the harm index is varied too

"""The demo assessment, built once per test process and shared by test_assess.py and test_public_edition.py.

Does what ``scripts/demo.sh`` does through the Python API: a Central Bedfordshire workspace with the bundled
real police archive and the synthetic partner data (seed 1, 3 years to April 2023), the workshop's
partnership-value judgements, then ``assess`` once per edition with only the formats the tests read.
Building is cached at module level (not only as a pytest fixture) so that two test modules share one build.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cspkit.ingest import ingest_paths
from cspkit.priorities.judgements import JudgementStore
from cspkit.priorities.run import matrix_for
from cspkit.report.assess import AssessResult, assess
from cspkit.synth import generate
from cspkit.workspace import Workspace, init_workspace

__all__ = ["JUDGEMENTS", "demo_assessment", "demo_workspace"]

REPO = Path(__file__).resolve().parents[2]
POLICE_ZIP = REPO / "demo" / "police" / "bedfordshire-2021-05_2023-04.zip"

#: Partnership value per candidate, as scripts/demo_judgements.sh records them.
JUDGEMENTS = {
    "domestic_abuse": 5,
    "asb": 5,
    "reoffending": 5,
    "sexual_violence": 4,
    "violence_and_sexual_offences": 4,
    "drugs": 4,
    "burglary": 3,
    "criminal_damage_and_arson": 3,
    "shoplifting": 2,
    "vehicle_crime": 2,
    "public_order": 3,
    "possession_of_weapons": 4,
    "robbery": 3,
    "other_theft": 1,
    "theft_from_the_person": 1,
    "bicycle_theft": 1,
    "other_crime": 1,
}

_CACHE: dict[str, object] = {}


def demo_workspace(factory: pytest.TempPathFactory) -> Workspace:
    """The demo workspace (built on first call, then reused)."""
    if "ws" not in _CACHE:
        base = factory.mktemp("demo-assessment")
        root = base / "ws"
        init_workspace(root, name="Central Bedfordshire Community Safety Partnership", area_codes=["E06000056"])
        ws = Workspace(root)
        generate(base / "partner-data", seed=1, years=3, end_month="2023-04")
        con = ws.connect()
        try:
            report = ingest_paths(con, [POLICE_ZIP, base / "partner-data"], key=ws.key())
            assert report.ok, report.errors
        finally:
            con.close()
        store = JudgementStore(ws.judgements_path, matrix_for(ws.config()))
        for candidate, value in JUDGEMENTS.items():
            store.set(candidate, "partnership_value", value, "demo workshop judgement", "CSP strategy group (demo)")
        _CACHE["ws"] = ws
    ws = _CACHE["ws"]
    assert isinstance(ws, Workspace)
    return ws


def demo_assessment(
    factory: pytest.TempPathFactory, edition: str, formats: list[str], period: str | None = None
) -> AssessResult:
    """The demo assessment of one edition and period (default: the latest 12 months), rendered on first call,
    then reused."""
    prefix = f"{edition}:{period or ''}:"
    for key, cached in _CACHE.items():  # a render with every format asked for will do
        if key.startswith(prefix) and set(formats) <= set(key.removeprefix(prefix).split(",")):
            assert isinstance(cached, AssessResult)
            return cached
    key = prefix + ",".join(formats)
    if key not in _CACHE:
        ws = demo_workspace(factory)
        out = ws.root / "outputs" / f"test-{edition}-{(period or 'annual').replace('..', '_')}"
        if out.exists():
            shutil.rmtree(out)
        _CACHE[key] = assess(ws, period=period, edition=edition, formats=formats, out_dir=out)
    result = _CACHE[key]
    assert isinstance(result, AssessResult)
    return result

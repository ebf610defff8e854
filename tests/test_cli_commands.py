"""End-to-end CLI tests of the priority, performance, checklist and assessment commands on the demo workspace."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cspkit.cli import app
from cspkit.workspace import Workspace
from tests.report.demo_assessment import demo_workspace

runner = CliRunner()


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """A private copy of the demo workspace (real police data, synthetic partners, the workshop's judgements)."""
    root = tmp_path_factory.mktemp("cli-commands") / "ws"
    shutil.copytree(demo_workspace(tmp_path_factory).root, root)
    return Workspace(root)


def _json(args: list[str]) -> object:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_priorities_json_recommends_domestic_abuse(ws: Workspace) -> None:
    data = _json(["priorities", "--workspace", str(ws.root), "--runs", "200", "--json"])
    assert isinstance(data, dict)
    assert data["matrix"] == "vthpc" and "domestic_abuse" in data["recommended"]
    assert data["sensitivity"]["runs"] == 200


def test_score_set_refuses_a_judgement_without_a_reason(ws: Workspace) -> None:
    result = runner.invoke(
        app, ["score", "set", "burglary", "partnership_value", "4", "--why", " ", "--workspace", str(ws.root)]
    )
    assert result.exit_code == 1 and "Traceback" not in result.output
    ok = runner.invoke(
        app,
        [
            "score",
            "set",
            "burglary",
            "partnership_value",
            "4",
            "--why",
            "Neighbourhood Watch",
            "--workspace",
            str(ws.root),
        ],
    )
    assert ok.exit_code == 0, ok.output
    assert "burglary / partnership_value = 4" in ok.output


def test_performance_pack_for_a_quarter(ws: Workspace) -> None:
    data = _json(["performance", "--quarter", "2022-23Q3", "--workspace", str(ws.root), "--json"])
    assert isinstance(data, dict)
    rows = {r["finding"]: r for r in data["indicators"]}
    assert rows["crime.all.count"]["quarter"] == 3843  # October to December 2022, independent count in tests
    assert {r["rag"] for r in data["indicators"]} <= {"red", "amber", "green", "grey"}
    bad = runner.invoke(app, ["performance", "--quarter", "2022-23", "--workspace", str(ws.root)])
    assert bad.exit_code == 1 and "Traceback" not in bad.output


def test_check_lists_every_statutory_requirement(ws: Workspace) -> None:
    data = _json(["check", "--workspace", str(ws.root), "--json"])
    assert isinstance(data, list)
    assert [item["id"] for item in data] == [f"R{i}" for i in range(1, 11)]
    status = {item["id"]: item["status"] for item in data}
    assert status["R1"] == "present" and status["R7"] == "present" and status["R9"] == "not applicable"


def test_assess_writes_the_public_edition(ws: Workspace, tmp_path: Path) -> None:
    out = tmp_path / "public"
    result = runner.invoke(
        app,
        ["assess", "--workspace", str(ws.root), "--edition", "public", "--formats", "html,json", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert "marked OFFICIAL" in result.output and "not written for the public edition" in result.output
    assert (out / "strategic-assessment.html").is_file() and not (out / "findings.json").exists()
    typo = runner.invoke(app, ["assess", "--workspace", str(ws.root), "--formats", "htm"])
    assert typo.exit_code == 1 and "Unknown format" in typo.output

"""`cspkit findings` and `cspkit chart` on the real Bedfordshire workspace: table, JSON, SVG and clear errors.

The commands run for real (typer's CliRunner, in process). The engine's result for the same arguments is reused
between tests of this module, so each distinct computation happens once; errors are never cached.
"""

from __future__ import annotations

import inspect
import json
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

import cspkit.findings.engine as engine
from cspkit.cli import app
from cspkit.workspace import Workspace

runner = CliRunner()
_real_compute = engine.compute_findings
_cache: dict[tuple[Any, ...], engine.FindingSet] = {}


def _memoised(con: Any, config: Any, **kwargs: Any) -> engine.FindingSet:
    bound = inspect.signature(_real_compute).bind(con, config, **kwargs)
    bound.apply_defaults()  # `chart` (forecast by default) and `findings --json` (forecast=True) share a run
    key = (str(config.path), *((k, repr(v)) for k, v in bound.arguments.items() if k not in ("con", "config")))
    if key not in _cache:
        _cache[key] = _real_compute(con, config, **kwargs)
    return _cache[key]


@pytest.fixture(autouse=True)
def _reuse_engine_results(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(engine, "compute_findings", _memoised)
    yield


@pytest.fixture
def run(police_workspace: Workspace) -> Callable[..., Result]:
    def _run(*args: str) -> Result:
        return runner.invoke(app, [*args, "--workspace", str(police_workspace.root)])

    return _run


def _one_clear_error(result: Result) -> str:
    """Exit status 1, one "Error:" line on stderr, no traceback, nothing on stdout."""
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("Error: ")
    assert result.stderr.strip().count("\n") == 0, result.stderr
    return result.stderr.strip()


def test_findings_prints_the_table(run: Callable[..., Result]) -> None:
    """The table names the area and period and has crime.all.count with 15,680 against 14,123, no wards."""
    result = run("findings")
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    assert "Central Bedfordshire: May 2022 to April 2023 compared with May 2021 to April 2022" in out
    line = next(row for row in out.splitlines() if "crime.all.count" in row)
    assert "15,680" in line and "14,123" in line and "+11%" in line and "significant rise" in line
    asb = next(row for row in out.splitlines() if " asb.count " in row)
    assert "4,015" in asb and "4,982" in asb and "significant fall" in asb
    burglary = next(row for row in out.splitlines() if "crime.burglary.count" in row)
    assert "no significant change" in burglary
    assert ".ward." not in out


def test_findings_area_option_shows_one_wards_findings(run: Callable[..., Result]) -> None:
    """--area with a ward code lists that ward's findings only."""
    result = run("findings", "--area", "E05014422")
    assert result.exit_code == 0, result.stderr
    assert "asb.ward.E05014422.count" in result.stdout
    assert "crime.all.count " not in result.stdout and "E05014394" not in result.stdout


def test_findings_json_is_valid_and_has_the_all_crime_count(run: Callable[..., Result]) -> None:
    """--json prints one JSON document; crime.all.count has value 15680 and baseline 14123, with its test."""
    result = run("findings", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    by_id = {f["id"]: f for f in data["findings"]}
    crime = by_id["crime.all.count"]
    assert crime["value"] == 15680 and crime["baseline"] == 14123
    assert crime["change"]["direction"] == "up" and crime["change"]["significant"] is True
    assert crime["coverage"]["rows_outside_area"] == 38922 and crime["coverage"]["rows_without_location"] == 2328
    assert crime["period"] == ["2022-05", "2023-04"]
    assert "forecast" in by_id["asb.count"]["extra"]  # JSON carries the full records
    assert any(".ward." in fid for fid in by_id)


def test_findings_period_that_cannot_be_read_is_one_clear_error(run: Callable[..., Result]) -> None:
    """--period 2099-24 is not a financial year: one error line, exit code 1."""
    message = _one_clear_error(run("findings", "--period", "2099-24"))
    assert "'2099-24'" in message and "financial year" in message


def test_findings_period_without_data_is_one_clear_error(run: Callable[..., Result]) -> None:
    """--compare mean_of_3 needs three earlier years; two are loaded: one error line, exit code 1."""
    message = _one_clear_error(run("findings", "--compare", "mean_of_3"))
    assert "has no data loaded" in message


def test_chart_writes_an_svg_that_parses(run: Callable[..., Result], tmp_path: Path) -> None:
    """chart asb.count --out x.svg writes well-formed SVG with drawn paths."""
    out = tmp_path / "charts" / "x.svg"
    result = run("chart", "asb.count", "--out", str(out))
    assert result.exit_code == 0, result.stderr
    assert "Wrote" in result.stdout
    root = ET.parse(out).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert len(root.findall(".//{http://www.w3.org/2000/svg}path")) > 10


def test_chart_unknown_finding_is_one_clear_error(run: Callable[..., Result], tmp_path: Path) -> None:
    """An unknown id names the id and points to `cspkit findings`; no file is written."""
    out = tmp_path / "y.svg"
    message = _one_clear_error(run("chart", "crime.unknown.count", "--out", str(out)))
    assert "No finding 'crime.unknown.count'" in message and "cspkit findings" in message
    assert not out.exists()

"""The layers as a checked contract (.importlinter, docs/architecture.md): it holds on the real tree, and it breaks
on an import that goes against the data flow.

Each failing case copies the package into a temporary folder, plants one wrong import and runs ``lint-imports`` on
the copy in a subprocess (the copy comes first on PYTHONPATH, so the real tree is never touched).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "cspkit"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint(src: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(src), "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo", "--config", str(ROOT / ".importlinter")],
        cwd=src,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A copy of the package's Python modules (no bundled data) under tmp_path/src."""
    shutil.copytree(PACKAGE, tmp_path / "src" / "cspkit", ignore=shutil.ignore_patterns("data", "__pycache__"))
    return tmp_path / "src"


def _plant(copy: Path, module: str, line: str) -> None:
    path = copy / (module.replace(".", "/") + ".py")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(f"\n{line}  # noqa: E402, F401\n")


def test_the_contract_holds_on_the_real_tree() -> None:
    result = _lint(ROOT / "src")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout
    assert "Data flows one way" in result.stdout and "KEPT" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "expected"),
    [
        # storage reaching up into ingest (what warehouse/reference.py used to do)
        (
            "cspkit.warehouse.export",
            "from cspkit.ingest import loader",
            "cspkit.warehouse.export -> cspkit.ingest.loader",
        ),
        # the engine importing the topics that import it (the old import circle)
        ("cspkit.findings.engine", "import cspkit.topics", "cspkit.findings.engine -> cspkit.topics"),
        # the report opening the warehouse itself instead of reading the findings run
        (
            "cspkit.report.assess",
            "from cspkit.warehouse import status",
            "cspkit.report.assess -> cspkit.warehouse.status",
        ),
        # a web app (not in the tree yet: its layer is optional) reading the warehouse directly
        ("cspkit.web.app", "from cspkit.warehouse import store", "cspkit.web.app -> cspkit.warehouse.store"),
    ],
)
def test_an_import_against_the_flow_breaks_the_contract(copy: Path, module: str, line: str, expected: str) -> None:
    if module.startswith("cspkit.web.") and not (copy / "cspkit" / "web").exists():
        (copy / "cspkit" / "web").mkdir()
        (copy / "cspkit" / "web" / "__init__.py").write_text('"""The web app."""\n', encoding="utf-8")
        assert _lint(copy).returncode == 0  # an empty web package passes, so the planted line is what breaks it
    _plant(copy, module, line)
    result = _lint(copy)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout and expected in result.stdout, result.stdout


def test_a_new_package_must_take_its_place_in_the_layers(copy: Path) -> None:
    """The layers contract is exhaustive: a new top-level package that is not placed in a layer is refused."""
    (copy / "cspkit" / "newstage").mkdir()
    (copy / "cspkit" / "newstage" / "__init__.py").write_text('"""A stage nobody placed."""\n', encoding="utf-8")
    result = _lint(copy)
    assert result.returncode != 0
    assert "cspkit.newstage" in result.stdout + result.stderr


def test_docs_list_the_layers_of_the_contract_in_its_order() -> None:
    """docs/architecture.md's table of packages names the contract's layers, top to bottom, as .importlinter has
    them (so the prose cannot drift from what is checked)."""
    import configparser
    import re

    config = configparser.ConfigParser()
    config.read(ROOT / ".importlinter", encoding="utf-8")
    layers = [line.strip() for line in config["importlinter:contract:layers"]["layers"].splitlines() if line.strip()]
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (`[^|]*`(?: \\\| `[^|]*`)*) \|", text, flags=re.MULTILINE)
    documented = [" | ".join(re.findall(r"`([^`]+)`", row)) for row in rows]
    assert documented == layers

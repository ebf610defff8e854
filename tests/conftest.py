"""Shared fixtures: workspaces on real files (the bundled Bedfordshire police archive)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cspkit.ingest import ingest_paths
from cspkit.workspace import Workspace, init_workspace

REPO = Path(__file__).resolve().parents[1]
POLICE_ZIP = REPO / "demo" / "police" / "bedfordshire-2021-05_2023-04.zip"


@pytest.fixture(scope="session")
def _blank_workspace_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("template") / "ws"
    init_workspace(root, name="Central Bedfordshire CSP", area_codes=["E06000056"])
    return root


@pytest.fixture
def workspace(tmp_path: Path, _blank_workspace_template: Path) -> Workspace:
    """A fresh workspace for Central Bedfordshire with the bundled geography and population (copied, fast)."""
    root = tmp_path / "ws"
    shutil.copytree(_blank_workspace_template, root)
    return Workspace(root)


@pytest.fixture(scope="session")
def police_workspace(tmp_path_factory: pytest.TempPathFactory, _blank_workspace_template: Path) -> Workspace:
    """A workspace with the 24 real Bedfordshire street files and 4 outcomes files loaded (read-only use)."""
    root = tmp_path_factory.mktemp("police") / "ws"
    shutil.copytree(_blank_workspace_template, root)
    ws = Workspace(root)
    con = ws.connect()
    try:
        report = ingest_paths(con, [POLICE_ZIP], key=ws.key())
        assert report.ok, report.errors
    finally:
        con.close()
    return ws

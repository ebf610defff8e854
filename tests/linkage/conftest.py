"""Linked workspaces on the project's own synthetic partner files (built once per test session)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cspkit.ingest import ingest_paths
from cspkit.linkage.run import link_people
from cspkit.synth import generate
from cspkit.workspace import Workspace

#: Partner files with person records (the context files are not needed to link people).
PERSON_FILES = (
    "asb_incidents_police.csv",
    "asb_incidents_council.csv",
    "domestic_abuse.csv",
    "marac_referrals.csv",
    "offenders.csv",
)
POPULATION = 40_000  # about 5,500 person records: big enough for EM, quick enough for CI
U_PAIRS = 5e5


def ingest(ws: Workspace, paths: list[Path]) -> None:
    """Ingest files with the agency the synthetic manifest gives them (police and council ASB differ)."""
    agencies = {entry["file"]: entry["agency"] for entry in json.loads((paths[0].parent / "manifest.json").read_text())}
    con = ws.connect()
    try:
        for path in paths:
            report = ingest_paths(con, [path], key=ws.key(), agency=agencies[path.name])
            assert report.ok, report.errors
    finally:
        con.close()


@pytest.fixture(scope="session")
def synth_people(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("linkage-synth")
    generate(folder, seed=7, population=POPULATION, years=2)
    return folder


@pytest.fixture(scope="session")
def linked_workspace(
    tmp_path_factory: pytest.TempPathFactory, _blank_workspace_template: Path, synth_people: Path
) -> Workspace:
    """All person files ingested and linked once at the default threshold (read-only use in tests)."""
    root = tmp_path_factory.mktemp("linked") / "ws"
    shutil.copytree(_blank_workspace_template, root)
    ws = Workspace(root)
    ingest(ws, [synth_people / name for name in PERSON_FILES])
    con = ws.connect()
    try:
        link_people(con, ws.key(), charts_dir=ws.outputs / "linkage", max_pairs=U_PAIRS)
    finally:
        con.close()
    return ws

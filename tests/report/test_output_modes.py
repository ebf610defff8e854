"""Restricted outputs are owner-only wherever they are written (issue 15): ``assess --out`` outside the workspace
too. The public edition keeps the default modes (it is made to be shared)."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest

from cspkit.report.assess import assess
from cspkit.workspace import Workspace
from tests.report.demo_assessment import demo_workspace


@pytest.mark.skipif(os.name == "nt", reason="POSIX file modes")
def test_restricted_outputs_outside_the_workspace_are_owner_only(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    source = demo_workspace(tmp_path_factory)
    root = tmp_path / "ws"
    shutil.copytree(source.root, root, ignore=shutil.ignore_patterns("outputs"))
    ws = Workspace(root)
    out = tmp_path / "shared-drive" / "psa"  # outside the workspace, made by assess
    stale = out / "strategic-assessment.html"
    out.mkdir(parents=True)
    stale.write_text("an earlier run", encoding="utf-8")
    os.chmod(stale, 0o644)  # a file written over keeps its mode unless it is tightened
    previous = os.umask(0o022)
    try:
        restricted = assess(ws, formats=["html", "json"], out_dir=out)
        public = assess(ws, edition="public", formats=["html"], out_dir=tmp_path / "public")
    finally:
        os.umask(previous)
    assert os.umask(0o022) == 0o022  # the process umask is restored after writing
    assert set(restricted.files) == {"html", "json", "checklist"}
    for path in restricted.files.values():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    assert stat.S_IMODE(public.files["html"].stat().st_mode) == 0o644

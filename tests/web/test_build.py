"""The assessment built from the browser reads the findings the pages show: computed once, not once more per edition."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from cspkit.report import assess as assess_module
from cspkit.web.db import AssessmentBuild
from cspkit.workspace import Workspace
from tests.web.conftest import WebApp, csrf_of


def test_a_browser_build_takes_the_pages_findings(
    make_web: Callable[..., WebApp], own_workspace: Workspace, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    web = make_web(f"sqlite:///{tmp_path / 'web.sqlite3'}", ws=own_workspace, build_formats=("json",))
    cached = web.state.cache.get().fs
    before = json.dumps(cached.to_dict(), default=str)
    computed: list[str] = []
    real = assess_module.compute_findings

    def counted(*args: Any, **kwargs: Any) -> Any:
        computed.append("findings")
        return real(*args, **kwargs)

    monkeypatch.setattr(assess_module, "compute_findings", counted)
    analyst = web.signed_in("analyst")
    started = analyst.post("/assessment/build", data={"csrf_token": csrf_of(analyst.get("/assessment").text)})
    assert started.status_code == 200
    deadline = time.monotonic() + 600
    while True:
        db = web.state.sessions()
        try:
            build = db.execute(sa.select(AssessmentBuild)).scalar_one()
        finally:
            db.close()
        if build.status in ("done", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert build.status == "done", build.message
    assert computed == []  # both editions took the cached set
    written = json.loads((own_workspace.outputs / "web" / "restricted" / "findings.json").read_text())
    assert written == json.loads(before)  # the assessment's findings are the pages'
    assert json.dumps(cached.to_dict(), default=str) == before  # and building did not change the pages' set

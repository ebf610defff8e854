"""The partnership workspace in real Chromium (Debian's, driven by Playwright), with axe-core on every page.

One server and one browser serve the whole module. The flow is the one a partnership runs: a data owner uploads a
file and sees its counts; the analyst browses a finding; two board members score in the workshop; the analyst
closes it, builds the assessment and downloads it; the administrator sees all of that in the audit log.
Set ``CSPKIT_SCREENSHOTS=docs/screenshots`` to keep screenshots of the main pages.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from cspkit.web.analysis import AnalysisCache
from cspkit.web.app import create_app
from cspkit.web.security import add_user
from cspkit.workspace import Workspace
from tests.web.conftest import CANARIES, PASSWORD, USERS, asb_upload_csv, make_settings, seeded_cache

playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AXE = Path(__file__).parent / "vendor" / "axe.min.js"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
SHOTS = os.environ.get("CSPKIT_SCREENSHOTS")
ONE_TIME = "printed-once-5521"

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed (make setup)")


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(scope="module")
def server(web_template: Path, shared_cache: AnalysisCache, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    import uvicorn

    root = tmp_path_factory.mktemp("browser") / "ws"
    shutil.copytree(web_template, root, ignore=shutil.ignore_patterns("DONE", "partner-data"))
    ws = Workspace(root)
    settings = make_settings(f"sqlite:///{root.parent / 'web.sqlite3'}", build_formats=("html", "xlsx"))
    app = create_app(ws, settings, warm=False, cache=seeded_cache(ws, shared_cache))
    db = app.state.web.sessions()
    for role, email in USERS.items():
        add_user(db, email, role, PASSWORD, "Central Bedfordshire Housing" if role == "data-owner" else None)
    add_user(db, "board2@csp.example", "board", ONE_TIME, one_time=True)  # must choose their own first
    db.close()
    logs = _Collect()
    root_logger = logging.getLogger()
    root_logger.addHandler(logs)
    old_level = root_logger.level
    root_logger.setLevel(logging.INFO)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="info", access_log=True, log_config=None)
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    try:
        yield {"base": f"http://127.0.0.1:{port}", "ws": ws, "logs": logs, "db": root.parent / "web.sqlite3"}
    finally:
        srv.should_exit = True
        thread.join(timeout=20)
        root_logger.removeHandler(logs)
        root_logger.setLevel(old_level)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield b
        finally:
            b.close()


def _axe(page: object, name: str) -> None:
    """No serious or critical accessibility violation on the page (axe-core, WCAG 2.x A/AA rules)."""
    page.add_script_tag(path=str(AXE))  # type: ignore[attr-defined]
    result = page.evaluate(  # type: ignore[attr-defined]
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, n: v.nodes.length, target: v.nodes[0].target.join(' ')}))"
    )
    bad = [v for v in result if v["impact"] in ("serious", "critical")]
    assert not bad, f"{name}: {bad}"


def _shot(page: object, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=False)  # type: ignore[attr-defined]


def _signed_in(browser: object, base: str, email: str, start: str = "/uploads", password: str = PASSWORD) -> object:
    context = browser.new_context(  # type: ignore[attr-defined]
        base_url=base, bypass_csp=True, accept_downloads=True, viewport={"width": 1200, "height": 900}
    )
    context.set_default_timeout(180_000)  # generous: CI machines are shared; nothing here is a timed assertion
    page = context.new_page()
    page.goto(start)  # anonymous: sent to the sign-in page
    assert "/sign-in" in page.url
    _axe(page, "sign-in")
    _shot(page, "sign-in")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    return page


def test_the_partnership_flow_in_chromium(server: dict, browser: object, tmp_path: Path) -> None:
    base = server["base"]
    # 1. The analyst browses the findings (filters swap in without a reload) and opens one.
    analyst = _signed_in(browser, base, USERS["analyst"], "/findings")
    analyst.goto("/findings")
    analyst.wait_for_selector("#findings-count", timeout=120_000)
    _axe(analyst, "findings")
    analyst.evaluate("window.__noReload = true")
    analyst.select_option("#topic", "asb")
    analyst.wait_for_function(
        "document.querySelector('#findings-count').textContent.includes('in topic asb')", timeout=60_000
    )
    assert analyst.evaluate("window.__noReload") is True  # the page was not reloaded
    assert "topic=asb" in analyst.url
    analyst.wait_for_function("document.querySelector(\"img[src^='/maps/wards/']\").naturalWidth > 0", timeout=60_000)
    _shot(analyst, "findings")
    analyst.click("a.csp-id:has-text('asb.count')")
    analyst.wait_for_selector("h1")
    assert "asb.count" in analyst.inner_text(".govuk-caption-m")
    analyst.wait_for_function("document.querySelector('img.csp-figure').naturalWidth > 0", timeout=60_000)
    _axe(analyst, "finding")
    _shot(analyst, "finding")

    # 2. Two board members score in the workshop; each score saves as it is entered. The second was given a
    # one-time password: the workshop waits until they have chosen their own.
    for email, value in ((USERS["board"], "4"), ("board2@csp.example", "2")):
        one_time = email == "board2@csp.example"
        board = _signed_in(browser, base, email, "/workshop", ONE_TIME if one_time else PASSWORD)
        if one_time:
            assert "/change-password" in board.url
            assert board.locator("#navigation").count() == 0  # no menu until the password is theirs
            _axe(board, "change password")
            _shot(board, "change-password")
            board.fill("#current_password", ONE_TIME)
            board.fill("#new_password", "board two's own passphrase")
            board.fill("#confirm_password", "board two's own passphrase")
            board.click("button:has-text('Save my password')")
            board.wait_for_url("**/workshop")
        board.goto("/workshop")
        board.fill("#why-burglary-partnership_value", f"view of {email.split('@')[0]}")
        board.select_option("#score-burglary-partnership_value", value)
        form = board.locator("form.csp-score:has(#score-burglary-partnership_value)")
        form.locator(".csp-score-status:has-text('Saved at')").wait_for(timeout=30_000)
        _axe(board, "workshop (board)")
        if email == USERS["board"]:
            _shot(board, "workshop-board")
        board.context.close()

    # 3. The analyst sees the agreement, closes the workshop, builds the assessment and downloads it.
    analyst.goto("/workshop")
    assert "0 agree exactly" in analyst.inner_text("main")
    _axe(analyst, "workshop (analyst)")
    _shot(analyst, "workshop-analyst")
    analyst.click("#close-workshop")
    analyst.wait_for_selector(".govuk-notification-banner--success")
    recorded = server["ws"].judgements_path.read_text()
    assert "Median of 2 board scores" in recorded and "value = 2" in recorded  # lower middle of 2 and 4
    analyst.goto("/assessment")
    analyst.click("#build")
    analyst.wait_for_selector("#download-restricted-xlsx", timeout=600_000)
    _axe(analyst, "assessment")
    _shot(analyst, "assessment")
    with analyst.expect_download() as info:
        analyst.click("#download-restricted-xlsx")
    saved = tmp_path / "annex.xlsx"
    info.value.save_as(saved)
    assert saved.read_bytes()[:2] == b"PK"
    with analyst.expect_download() as info:
        analyst.click("#download-public-html")  # (the public edition, as a public reader would get it)
    html = tmp_path / "public.html"
    info.value.save_as(html)
    assert "<html" in html.read_text(encoding="utf-8")[:500].lower()

    # 4. A data owner uploads a partner file and sees its counts.
    owner = _signed_in(browser, base, USERS["data-owner"])
    owner.goto("/uploads")
    _axe(owner, "uploads")
    upload = tmp_path / "asb_incidents_housing.csv"
    content, read, accepted = asb_upload_csv()
    upload.write_bytes(content)
    owner.set_input_files("#file", str(upload))
    owner.click("button:has-text('Upload and load')")
    owner.wait_for_selector("#upload-counts", timeout=60_000)
    counts = owner.inner_text("#upload-counts")
    assert counts == f"{read} rows read = {accepted} accepted + {read - accepted} rejected."
    _axe(owner, "upload result")
    _shot(owner, "upload-result")

    # 5. The administrator sees every step in the audit log.
    admin = _signed_in(browser, base, USERS["administrator"], "/audit")
    admin.goto("/audit")
    _axe(admin, "audit")
    _shot(admin, "audit")
    log = admin.inner_text("table")
    for action in ("sign-in", "password changed", "upload", "upload done", "view", "score", "workshop closed",
                   "assessment build", "assessment built", "download"):  # fmt: skip
        assert re.search(rf"\t{re.escape(action)}\t", log), action
    assert "is intact" in admin.inner_text("#chain-status")

    # Nothing identifying from the upload is in any page seen, the server's log or the app database.
    pages = [p.content() for p in (owner, analyst, admin)]
    database = Path(server["db"]).read_bytes()
    for canary in CANARIES:
        assert all(canary not in text for text in pages), canary
        assert all(canary not in line for line in server["logs"].lines), canary
        assert canary.encode() not in database, canary
    assert any("GET /findings" in line for line in server["logs"].lines)  # the log was captured

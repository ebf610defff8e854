"""Uploads through the same ingest gate: counts, rejects, refusals, organisation isolation, no file kept."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cspkit.workspace import Workspace
from tests.web.conftest import CANARIES, WebApp, asb_upload_csv, csrf_of


def _upload(client: TestClient, name: str, content: bytes, source: str = "", media: str = "text/csv"):  # type: ignore[no-untyped-def]
    page = client.get("/uploads")
    return client.post(
        "/uploads",
        data={"csrf_token": csrf_of(page.text), "source": source},
        files={"file": (name, content, media)},
        follow_redirects=False,
    )


def _wait(client: TestClient, location: str) -> str:
    for _ in range(300):
        fragment = client.get(location + "/status").text
        if "hx-trigger" not in fragment:
            return fragment
        time.sleep(0.1)
    raise AssertionError("the upload did not finish")


def test_a_partner_upload_is_loaded_counted_and_deleted(
    caplog: pytest.LogCaptureFixture, make_web: Callable[..., WebApp], own_workspace: Workspace, tmp_path: Path
) -> None:
    web = make_web(f"sqlite:///{tmp_path / 'w.sqlite3'}", ws=own_workspace)
    owner = web.signed_in("data-owner")
    content, read, accepted = asb_upload_csv()
    response = _upload(owner, "asb_incidents_housing.csv", content)
    assert response.status_code == 303
    location = response.headers["location"]
    result = _wait(owner, location)
    counts = re.search(r"([\d,]+) rows read = ([\d,]+) accepted \+ ([\d,]+) rejected", result)
    assert counts and counts.groups() == (str(read), str(accepted), str(read - accepted)), result
    assert "asb_incidents" in result and "housing" in result  # matched to its contract; loaded under the owner's agency
    # rejects by reason: the three planted faults, counted by reason
    cell = '<td class="govuk-table__cell">([^<]+)</td>'
    number = r'<td class="govuk-table__cell govuk-table__cell--numeric">(\d+)</td>'
    reasons = dict(re.findall(cell + number, result))
    assert sum(int(v) for v in reasons.values()) == read - accepted
    # the uploaded file is not kept
    uploads = own_workspace.key_path.parent / "uploads"
    assert not any(p.is_file() for p in uploads.rglob("*"))
    # the same numbers, and the same reasons, are in the warehouse's own load record and rejects table
    with own_workspace.connect(read_only=True) as con:
        logged = con.execute(
            "SELECT rows_read, rows_accepted, rows_rejected FROM ingest_log WHERE agency = 'housing'"
        ).fetchall()
        by_reason = con.execute(
            "SELECT reason, count(*) FROM rejects WHERE agency = 'housing' GROUP BY reason"
        ).fetchall()
    assert logged == [(read, accepted, read - accepted)]
    assert {k: int(v) for k, v in reasons.items()} == {r: n for r, n in by_reason}
    # another organisation's data owner cannot see it; the analyst can
    assert web.signed_in("analyst").get(location).status_code == 200
    # Canary scan: no planted identifier in clear in any page of any role, the log, or the app database.
    pages = []
    for role in ("administrator", "analyst", "data-owner", "board", "public"):
        client = web.signed_in(role)
        for path in ("/", "/uploads", location, location + "/status", "/audit", "/audit/export.csv", "/users",
                     "/assessment", "/findings?topic=asb", "/findings/asb.partner.count"):  # fmt: skip
            pages.append(client.get(path).text)
    database = Path(str(web.settings.database_url).removeprefix("sqlite:///")).read_bytes()
    logs = caplog.text
    for canary in CANARIES:
        assert not any(canary in page for page in pages), canary
        assert canary.encode() not in database and canary not in logs, canary


def test_refused_uploads_say_why_and_load_nothing(web: WebApp) -> None:
    owner = web.signed_in("data-owner")
    content, _, _ = asb_upload_csv()
    cases = {
        "../../etc/asb.csv": "includes a folder path",
        "exports\\asb.csv": "includes a folder path",  # (a drive-letter path arrives as its base name)
        "asb.pdf": "is not a CSV (.csv) or Excel (.xlsx) file",
        "asb.xlsx": "its content is not an Excel workbook",
    }
    for name, message in cases.items():
        response = _upload(owner, name, content)
        assert response.status_code == 400, name
        assert message in response.text, (name, response.text[-2000:])
    binary = _upload(owner, "asb.csv", b"PK\x03\x04" + b"\x00" * 100)
    assert binary.status_code == 400 and "not text" in binary.text
    assert _upload(owner, "asb.csv", b"").status_code == 400


def test_an_upload_over_the_limit_is_refused(make_web: Callable[..., WebApp], tmp_path) -> None:  # type: ignore[no-untyped-def]
    web = make_web(f"sqlite:///{tmp_path / 'w.sqlite3'}", upload_limit_bytes=4096)
    owner = web.signed_in("data-owner")
    big = b"incident_ref,reported_at,category\n" + b"X-1,2023-01-01 10:00,personal\n" * 400
    response = _upload(owner, "asb.csv", big)
    assert response.status_code == 400
    assert "the limit is 0 MB" in response.text or "limit is" in response.text
    assert "Nothing was loaded" in response.text

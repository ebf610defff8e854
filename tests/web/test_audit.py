"""The audit log: what is recorded, the hash chain, append-only storage, and `cspkit audit verify`."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from cspkit.cli import app as cli
from cspkit.web import audit
from cspkit.web.db import AuditEntry
from cspkit.workspace import Workspace
from tests.web.conftest import USERS, WebApp, csrf_of


def _entries(web: WebApp) -> list[AuditEntry]:
    db = web.state.sessions()
    try:
        return list(db.query(AuditEntry).order_by(AuditEntry.id))
    finally:
        db.close()


def _raw(web: WebApp, sql: str) -> None:
    with web.state.sessions().get_bind().begin() as con:
        con.execute(text(sql))


def test_sign_ins_views_and_role_changes_are_chained_and_tampering_is_found(
    make_web: Callable[..., WebApp], database_url: str
) -> None:
    web = make_web(database_url)
    admin = web.signed_in("administrator")
    analyst = web.signed_in("analyst")
    analyst.get("/uploads/999")  # a view of a restricted page (even of a missing upload) is recorded
    users = admin.get("/users")
    board_id = next(e for e in _users(web) if e[1] == USERS["board"])[0]
    admin.post(f"/users/{board_id}/role", data={"role": "analyst", "csrf_token": csrf_of(users.text)})
    entries = _entries(web)
    actions = [(e.actor, e.action, e.target) for e in entries]
    assert (USERS["administrator"], "sign-in", USERS["administrator"]) in actions
    assert (USERS["analyst"], "view", "upload 999") in actions
    assert (USERS["administrator"], "role changed", USERS["board"]) in actions
    assert next(e for e in entries if e.action == "role changed").detail == "board -> analyst"
    assert entries[0].prev_hash == audit.GENESIS
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))
    db = web.state.sessions()
    try:
        assert audit.verify(db, web.settings.secret_key).ok
        # Append-only: the database itself refuses edits and deletions.
        with pytest.raises(Exception, match="append-only"):
            db.execute(text("UPDATE audit SET detail = 'x' WHERE id = 1"))
            db.commit()
        db.rollback()
        with pytest.raises(Exception, match="append-only"):
            db.execute(text("DELETE FROM audit WHERE id = 2"))
            db.commit()
        db.rollback()
    finally:
        db.close()
    # Someone who can switch the protection off can edit a row: the chain shows where.
    if database_url.startswith("sqlite"):
        _raw(web, "DROP TRIGGER audit_no_update")
        _raw(web, "DROP TRIGGER audit_no_delete")
    else:
        _raw(web, "ALTER TABLE audit DISABLE TRIGGER audit_append_only")
    target = entries[2].id
    _raw(web, f"UPDATE audit SET detail = 'nothing to see' WHERE id = {target}")
    db = web.state.sessions()
    try:
        report = audit.verify(db, web.settings.secret_key)
        assert not report.ok and report.first_broken == target and "edited" in report.reason
    finally:
        db.close()
    _raw(web, f"DELETE FROM audit WHERE id = {target}")
    db = web.state.sessions()
    try:
        report = audit.verify(db, web.settings.secret_key)
        assert not report.ok and report.first_broken == entries[3].id and "deleted" in report.reason
    finally:
        db.close()


def test_deleting_the_newest_entries_is_found_by_the_head_file(make_web: Callable[..., WebApp], tmp_path: Path) -> None:
    """A chain cut short at its end is still a valid chain: the head file outside the database shows the cut."""
    head = tmp_path / "audit-head"
    web = make_web(f"sqlite:///{tmp_path / 'web.sqlite3'}", audit_witness=head)
    web.signed_in("administrator")
    trailing = tmp_path / "trailing-head"  # as a process that stopped between its commit and its write leaves it
    trailing.write_bytes(head.read_bytes())
    for role in ("analyst", "board"):
        web.signed_in(role)
    entries = _entries(web)
    assert len(entries) >= 3 and audit.read_head(head, web.settings.secret_key) == (entries[-1].id, entries[-1].hash)
    assert head.stat().st_mode & 0o777 == 0o600
    db = web.state.sessions()
    try:
        assert audit.verify(db, web.settings.secret_key, trailing).ok  # a head behind the database is fine
    finally:
        db.close()
    _raw(web, "DROP TRIGGER audit_no_delete")
    _raw(web, f"DELETE FROM audit WHERE id >= {entries[-2].id}")  # the two newest sign-ins, gone
    db = web.state.sessions()
    try:
        assert audit.verify(db, web.settings.secret_key).ok  # without the head, nothing shows
        report = audit.verify(db, web.settings.secret_key, head)
        assert not report.ok and report.first_broken == entries[-1].id and "newest were deleted" in report.reason
        # moving the head back to hide the cut breaks its keyed hash
        head.write_text(head.read_text().replace(str(entries[-1].id), str(entries[0].id), 1))
        altered = audit.verify(db, web.settings.secret_key, head)
        assert not altered.ok and "altered" in altered.reason
        # the altered head is kept as evidence, and recording goes on (an audit entry never fails its request)
        kept = head.read_text()
        audit.append(db, web.settings.secret_key, actor="x", role="analyst", action="view", witness=head)
        assert head.read_text() == kept and not audit.verify(db, web.settings.secret_key, head).ok
        for garbage in ("[1, 2]", "{}", "not json"):
            head.write_text(garbage)
            audit.append(db, web.settings.secret_key, actor="x", role="analyst", action="view", witness=head)
            unreadable = audit.verify(db, web.settings.secret_key, head)
            assert not unreadable.ok and "not readable" in unreadable.reason
    finally:
        db.close()


def _users(web: WebApp) -> list[tuple[int, str]]:
    from cspkit.web.db import User

    db = web.state.sessions()
    try:
        return [(u.id, u.email) for u in db.query(User)]
    finally:
        db.close()


def test_the_audit_page_and_export_are_for_administrators(web: WebApp) -> None:
    admin = web.signed_in("administrator")
    page = admin.get("/audit")
    assert page.status_code == 200 and "is intact" in page.text and USERS["administrator"] in page.text
    export = admin.get("/audit/export.csv")
    lines = export.text.strip().splitlines()
    assert lines[0] == "id,at,actor,role,action,target,detail,prev_hash,hash"
    assert any(",audit export," in line for line in lines) or len(lines) > 2
    assert web.signed_in("analyst").get("/audit").status_code == 403


def test_cli_user_add_and_audit_verify(own_workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CSPKIT_DATABASE_URL", raising=False)
    monkeypatch.delenv("CSPKIT_SECRET_KEY", raising=False)
    runner = CliRunner()
    ws = str(own_workspace.root)
    made = runner.invoke(cli, ["user", "add", "first@csp.example", "--role", "administrator", "--workspace", ws])
    assert made.exit_code == 0, made.output
    assert "One-time password: " in made.output
    piped = runner.invoke(
        cli,
        ["user", "add", "owner@police.example", "--role", "data-owner", "--organisation", "Bedfordshire Police",
         "--password-stdin", "--workspace", ws],
        input="a long enough password\n",
    )  # fmt: skip
    assert piped.exit_code == 0 and "One-time" not in piped.output, piped.output
    no_org = runner.invoke(cli, ["user", "add", "x@csp.example", "--role", "data-owner", "--workspace", ws])
    assert no_org.exit_code == 1 and "--organisation" in no_org.output
    bad_role = runner.invoke(cli, ["user", "add", "y@csp.example", "--role", "mayor", "--workspace", ws])
    assert bad_role.exit_code == 1 and "Unknown role" in bad_role.output
    ok = runner.invoke(cli, ["audit", "verify", "--workspace", ws])
    assert ok.exit_code == 0 and "2 entries is intact" in ok.output
    import sqlite3

    con = sqlite3.connect(own_workspace.key_path.parent / "web.sqlite3")
    # the printed one-time password must be replaced at first sign-in; a password given on stdin is the user's own
    forced = dict(con.execute("SELECT email, must_change_password FROM users").fetchall())
    assert forced == {"first@csp.example": 1, "owner@police.example": 0}
    con.execute("DROP TRIGGER audit_no_update")
    con.execute("UPDATE audit SET role = 'public' WHERE id = 1")
    con.commit()
    con.close()
    broken = runner.invoke(cli, ["audit", "verify", "--workspace", ws])
    assert broken.exit_code == 1 and "broken" in broken.output and "entry 1" in broken.output

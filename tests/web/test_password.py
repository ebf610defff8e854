"""One-time passwords: a user given one (command line, Users page) must choose their own before any page opens."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from fastapi.testclient import TestClient

from cspkit.web.db import AuditEntry, User, UserSession, make_engine
from cspkit.web.security import SESSION_COOKIE, add_user, check_password
from tests.web.conftest import PASSWORD, USERS, WebApp, csrf_of, sign_in

NEW = "three unrelated garden words"


def _one_time_user(web: WebApp, email: str = "new.member@csp.example", role: str = "board") -> str:
    db = web.state.sessions()
    try:
        add_user(db, email, role, "one-time-pass-4471", one_time=True)
    finally:
        db.close()
    return email


def _change(client: TestClient, current: str, new: str, confirm: str | None = None, nxt: str = "/"):  # type: ignore[no-untyped-def]
    page = client.get("/change-password")
    return client.post(
        "/change-password",
        data={"csrf_token": csrf_of(page.text), "current_password": current, "new_password": new,
              "confirm_password": new if confirm is None else confirm, "next": nxt},
        follow_redirects=False,
    )  # fmt: skip


def _actions(web: WebApp) -> list[tuple[str, str, str]]:
    db = web.state.sessions()
    try:
        return [
            (e.action, e.target, e.detail) for e in db.execute(sa.select(AuditEntry).order_by(AuditEntry.id)).scalars()
        ]
    finally:
        db.close()


def test_a_one_time_password_opens_only_the_change_password_page(
    make_web: Callable[..., WebApp], database_url: str
) -> None:
    web = make_web(database_url)
    email = _one_time_user(web)
    client = web.client()
    page = client.get("/sign-in?next=/workshop")
    signed = client.post(
        "/sign-in",
        data={"email": email, "password": "one-time-pass-4471", "csrf_token": csrf_of(page.text), "next": "/workshop"},
        follow_redirects=False,
    )
    assert signed.status_code == 303 and signed.headers["location"] == "/change-password?next=%2Fworkshop"
    # every other page, plain or htmx, and every form sends them back to it
    for path in ("/", "/findings", "/workshop", "/assessment", "/findings/crime.burglary.count"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/change-password"), path
    assert client.get("/findings", follow_redirects=False).headers["location"] == "/change-password?next=%2Ffindings"
    hx = client.get("/findings?topic=asb", headers={"HX-Request": "true"}, follow_redirects=False)
    assert hx.status_code == 401 and hx.headers["HX-Redirect"].startswith("/change-password")
    form = client.get("/change-password")
    assert form.status_code == 200 and "Choose your password" in form.text and "One-time password" in form.text
    assert 'href="/findings"' not in form.text  # no menu until the password is theirs
    scored = client.post(
        "/workshop/score",
        data={"csrf_token": csrf_of(form.text), "candidate": "asb", "criterion": "partnership_value", "value": "3"},
        follow_redirects=False,
    )
    assert scored.status_code == 303 and scored.headers["location"] == "/change-password"

    # refusals, each with its reason and audited
    wrong = _change(client, "not the password", NEW)
    assert wrong.status_code == 400 and "current password is not right" in wrong.text
    short = _change(client, "one-time-pass-4471", "short one")
    assert short.status_code == 400 and "at least 12 characters" in short.text
    mismatch = _change(client, "one-time-pass-4471", NEW, NEW + "!")
    assert mismatch.status_code == 400 and "not the same" in mismatch.text
    same = _change(client, "one-time-pass-4471", "one-time-pass-4471")
    assert same.status_code == 400 and "different from the current one" in same.text
    assert client.get("/findings", follow_redirects=False).status_code == 303  # still forced

    # a second browser signed in with the one-time password is signed out by the change
    other = sign_in(web.client(), email, "one-time-pass-4471")
    done = _change(client, "one-time-pass-4471", NEW, nxt="/workshop")
    assert done.status_code == 303 and done.headers["location"] == "/workshop"
    assert client.get("/workshop").status_code == 200
    assert 'href="/findings"' in client.get("/assessment").text  # the menu is back
    assert other.get("/assessment", follow_redirects=False).headers["location"].startswith("/sign-in")

    # the old password no longer signs in; the new one does, straight to the page asked for
    again = web.client()
    page = again.get("/sign-in")
    old = again.post(
        "/sign-in", data={"email": email, "password": "one-time-pass-4471", "csrf_token": csrf_of(page.text)}
    )
    assert old.status_code == 401
    assert sign_in(web.client(), email, NEW).get("/findings", follow_redirects=False).status_code == 200

    db = web.state.sessions()
    try:
        user = db.execute(sa.select(User).where(User.email == email)).scalar_one()
        assert user.must_change_password is False and user.password_changed_at is not None
    finally:
        db.close()
    actions = _actions(web)
    refused = [a for a in actions if a[0] == "password change refused"]
    assert [r[2] for r in refused] == [
        "The current password is not right.",
        "The password must be at least 12 characters long.",
        "The new password and its confirmation are not the same.",
        "Choose a new password, different from the current one.",
    ]
    assert ("password changed", email, "one-time password replaced") in actions
    assert all(NEW not in " ".join(a) and "one-time-pass-4471" not in " ".join(a) for a in actions)


def test_wrong_current_passwords_are_throttled_like_sign_ins(web: WebApp) -> None:
    client = web.signed_in("analyst")
    for _ in range(web.settings.throttle_failures):
        assert _change(client, "wrong wrong wrong", NEW).status_code == 400
    refused = _change(client, PASSWORD, NEW)  # even the right password waits
    assert refused.status_code == 429 and "Too many wrong passwords" in refused.text
    db = web.state.sessions()
    try:  # the password was not changed (and sign-in for this address now waits too: one counter)
        user = db.execute(sa.select(User).where(User.email == USERS["analyst"])).scalar_one()
        assert check_password(user.password_hash, PASSWORD) and not check_password(user.password_hash, NEW)
    finally:
        db.close()


def test_users_added_on_the_users_page_get_a_one_time_password(web: WebApp) -> None:
    admin = web.signed_in("administrator")
    page = admin.get("/users")
    made = admin.post("/users", data={"csrf_token": csrf_of(page.text), "email": "late@csp.example", "role": "analyst"})
    assert made.status_code == 200 and "then must choose their own" in made.text
    password = made.text.split("with the password ", 1)[1].split(",", 1)[0]
    client = web.client()
    login = client.get("/sign-in")
    r = client.post(
        "/sign-in",
        data={"email": "late@csp.example", "password": password, "csrf_token": csrf_of(login.text)},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/change-password"
    assert _change(client, password, NEW).status_code == 303
    assert client.get("/uploads", follow_redirects=False).status_code == 200
    # a voluntary change later: the page says so, nothing is forced
    voluntary = client.get("/change-password")
    assert "Change your password" in voluntary.text and "One-time password" not in voluntary.text
    assert _change(client, NEW, NEW + " again").status_code == 303
    assert ("password changed", "late@csp.example", "") in _actions(web)


def test_the_migration_keeps_existing_users_passwords(database_url: str) -> None:
    from alembic import command
    from alembic.config import Config as AlembicConfig

    from cspkit.web import db as webdb
    from cspkit.web.db import migrate

    engine = make_engine(database_url)
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(Path(webdb.__file__).parent / "migrations"))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0001")
        connection.execute(
            sa.text("INSERT INTO users (email, password_hash, role, active, created_at) "
                    "VALUES ('old@csp.example', 'x', 'board', true, '2026-01-01 00:00:00')")
        )  # fmt: skip
    migrate(engine)
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT email, must_change_password FROM users")).all()
    assert [(e, bool(m)) for e, m in rows] == [("old@csp.example", False)]
    engine.dispose()


def test_session_rows_of_other_users_survive_a_change(web: WebApp) -> None:
    board = web.signed_in("board")
    analyst = web.signed_in("analyst")
    assert _change(analyst, PASSWORD, NEW).status_code == 303
    assert board.get("/findings", follow_redirects=False).status_code == 200
    db = web.state.sessions()
    try:
        owners = {s.user_id for s in db.execute(sa.select(UserSession)).scalars()}
    finally:
        db.close()
    assert len(owners) == 2
    assert board.cookies.get(SESSION_COOKIE)

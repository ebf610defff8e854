"""Signing in and out: forms, cookies, CSRF, throttling, session fixation, and the guard of every route."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from cspkit.web.app import ROUTE_ROLES
from cspkit.web.db import ROLES
from cspkit.web.security import SESSION_COOKIE
from tests.web.conftest import PASSWORD, USERS, WebApp, csrf_of, sign_in


def test_sign_in_form_has_email_password_and_csrf(web: WebApp) -> None:
    page = web.client().get("/sign-in")
    assert page.status_code == 200
    assert re.search(r'<input[^>]+name="email"', page.text)
    assert re.search(r'<input[^>]+name="password"[^>]*type="password"|type="password"[^>]*name="password"', page.text)
    assert re.search(r'<input type="hidden" name="[^"]*csrf[^"]*" value="[^"]+"', page.text)


@pytest.mark.parametrize("path", ["/findings", "/workshop", "/uploads", "/assessment", "/audit"])
def test_anonymous_visitors_are_sent_to_sign_in(web: WebApp, path: str) -> None:
    response = web.client().get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/sign-in")


def test_sign_in_on_both_databases(make_web: Callable[..., WebApp], database_url: str) -> None:
    web = make_web(database_url)
    client = web.client()
    page = client.get("/sign-in")
    bad = client.post(
        "/sign-in", data={"email": USERS["analyst"], "password": "wrong password!", "csrf_token": csrf_of(page.text)}
    )
    assert bad.status_code == 401
    assert "is not right" in bad.text
    sign_in(client, USERS["analyst"])
    home = client.get("/")
    assert home.status_code == 200 and USERS["analyst"] in home.text
    # signing out ends the session in the database: the old cookie no longer works
    token = client.cookies.get(SESSION_COOKIE)
    client.post("/sign-out", data={"csrf_token": csrf_of(home.text)}, follow_redirects=False)
    client.cookies.set(SESSION_COOKIE, token)
    assert client.get("/uploads", follow_redirects=False).status_code == 303


def test_session_cookie_is_httponly_samesite_and_secure_when_configured(
    make_web: Callable[..., WebApp], tmp_path
) -> None:
    from fastapi.testclient import TestClient

    web = make_web(f"sqlite:///{tmp_path / 'secure.sqlite3'}", secure_cookies=True)
    client = TestClient(web.app, base_url="https://testserver")  # Secure cookies travel over HTTPS only
    page = client.get("/sign-in")
    response = client.post(
        "/sign-in",
        data={"email": USERS["board"], "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    cookie = next(v for k, v in response.headers.multi_items() if k == "set-cookie" and SESSION_COOKIE in v)
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict") and "Secure" in cookie


def _issued_session(response) -> str:  # type: ignore[no-untyped-def]
    for key, value in response.headers.multi_items():
        if key == "set-cookie" and value.startswith(SESSION_COOKIE + "="):
            return value.split(";")[0].split("=", 1)[1]
    raise AssertionError("no session cookie was issued")


def _post_sign_in(web: WebApp, cookie: str | None):  # type: ignore[no-untyped-def]
    client = web.client()
    page = client.get("/sign-in")
    if cookie:
        client.cookies.set(SESSION_COOKIE, cookie, domain="testserver.local")
    return client.post(
        "/sign-in",
        data={"email": USERS["analyst"], "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )


def _works(web: WebApp, token: str) -> bool:
    client = web.client()
    client.cookies.set(SESSION_COOKIE, token, domain="testserver.local")
    return client.get("/uploads", follow_redirects=False).status_code == 200


def test_session_fixation_a_planted_session_id_is_never_adopted(web: WebApp) -> None:
    planted = "attacker-chosen-session-value-123456"
    issued = _issued_session(_post_sign_in(web, planted))
    assert issued != planted
    assert _works(web, issued) and not _works(web, planted)
    # Signing in again with a live session ends that session and issues a new one (no reuse).
    again = _issued_session(_post_sign_in(web, issued))
    assert again != issued
    assert _works(web, again) and not _works(web, issued)


def test_csrf_token_is_required_on_every_post(web: WebApp) -> None:
    anonymous = web.client()
    anonymous.get("/sign-in")
    refused = anonymous.post("/sign-in", data={"email": USERS["analyst"], "password": PASSWORD})
    assert refused.status_code == 403 and "security token" in refused.text
    analyst = web.signed_in("analyst")
    assert analyst.post("/assessment/build", data={}).status_code == 403
    assert analyst.post("/assessment/build", data={"csrf_token": "forged"}).status_code == 403
    board = web.signed_in("board")
    refused = board.post("/workshop/score", data={"candidate": "asb", "criterion": "partnership_value", "value": "3"})
    assert refused.status_code == 403
    # a token of another session is not accepted either
    other = csrf_of(web.signed_in("board").get("/workshop").text)
    assert board.post("/workshop/score", data={"csrf_token": other}).status_code == 403


def test_sign_in_is_throttled_after_repeated_failures(web: WebApp) -> None:
    client = web.client()
    for _ in range(web.settings.throttle_failures):
        page = client.get("/sign-in")
        r = client.post(
            "/sign-in", data={"email": USERS["board"], "password": "not it at all", "csrf_token": csrf_of(page.text)}
        )
        assert r.status_code == 401
    page = client.get("/sign-in")
    r = client.post("/sign-in", data={"email": USERS["board"], "password": PASSWORD, "csrf_token": csrf_of(page.text)})
    assert r.status_code == 429 and "Too many failed sign-ins" in r.text  # even the right password waits
    # another user is not affected
    sign_in(web.client(), USERS["analyst"])


def test_sign_in_never_redirects_off_site(web: WebApp) -> None:
    client = web.client()
    page = client.get("/sign-in?next=//evil.example/x")
    response = client.post(
        "/sign-in",
        data={
            "email": USERS["analyst"],
            "password": PASSWORD,
            "csrf_token": csrf_of(page.text),
            "next": "//evil.example/x",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


# ----------------------------------------------------------------------------------- every route, every role
_EXAMPLE = {"finding_id": "crime.burglary.count", "prefix": "asb", "upload_id": "1", "build_id": "1",
            "fmt": "html", "user_id": "1"}  # fmt: skip


def test_every_route_is_registered_with_its_roles(web: WebApp) -> None:
    from fastapi.routing import APIRoute

    routes = [(m, r.path) for r in web.app.routes if isinstance(r, APIRoute) for m in r.methods]  # type: ignore[attr-defined]
    assert routes, "no routes found"
    assert sorted(routes) == sorted(ROUTE_ROLES), "a route was added without declaring its roles"
    public = {k for k, v in ROUTE_ROLES.items() if v is None}
    assert public == {("GET", "/sign-in"), ("POST", "/sign-in"), ("GET", "/healthz")}


@pytest.mark.parametrize("role", ROLES)
def test_each_role_is_refused_every_route_it_may_not_use(web: WebApp, role: str) -> None:
    """Every guarded route, enumerated from the app: refused (403) to the roles not listed, open to the others.

    A POST by an allowed role is sent without its CSRF token, so it is refused for the token (which the guard
    checks after the role) and does nothing; a POST by a refused role carries a valid token, so only the role
    can be what refuses it.
    """
    client = web.signed_in(role)
    csrf = re.search(r'"X-CSRF-Token": "([^"]+)"', client.get("/").text).group(1)  # type: ignore[union-attr]
    refused = allowed = 0
    for (method, path), roles in ROUTE_ROLES.items():
        if roles is None:
            continue
        url = path.format(**_EXAMPLE)
        may = role in roles
        if method == "GET":
            response = client.get(url, follow_redirects=False)
        else:
            response = client.post(url, data={} if may else {"csrf_token": csrf}, follow_redirects=False)
        if may:
            if method == "GET":
                assert response.status_code != 403, f"{role} was refused GET {path}"
            else:
                assert response.status_code == 403 and "security token" in response.text, f"{role}: POST {path}"
            allowed += 1
        else:
            assert response.status_code == 403, f"{role} was let into {method} {path} ({response.status_code})"
            assert "does not give access" in response.text
            refused += 1
    assert allowed >= 3
    assert refused >= (1 if role == "administrator" else 5)


def test_anonymous_visitors_are_refused_every_guarded_route(web: WebApp) -> None:
    client = web.client()
    for (method, path), roles in ROUTE_ROLES.items():
        if roles is None:
            continue
        url = path.format(**_EXAMPLE)
        if method == "GET":
            response = client.get(url, follow_redirects=False)
            assert response.status_code == 303 and response.headers["location"].startswith("/sign-in"), path
        else:
            response = client.post(url, data={}, follow_redirects=False)
            assert response.status_code == 303, f"POST {path} answered {response.status_code} anonymously"

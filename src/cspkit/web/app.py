"""The partnership workspace web application: FastAPI routes over the same workspace, findings and report code.

Every route is registered with the roles that may use it (:data:`ROUTE_ROLES`); anonymous visitors are sent to
``/sign-in`` and a signed-in user without the role gets 403. Every POST needs the CSRF token. Views of restricted
pages, sign-ins, uploads, downloads, scores and role changes are written to the hash-chained audit log.
"""

from __future__ import annotations

import contextlib
import inspect
import secrets
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, PrefixLoader, select_autoescape
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.middleware.trustedhost import TrustedHostMiddleware

from cspkit.web import audit
from cspkit.web.analysis import (
    AnalysisCache,
)
from cspkit.web.db import (
    ROLES,
    User,
    UserSession,
    make_engine,
    migrate,
)
from cspkit.web.security import (
    PRESESSION_COOKIE,
    SESSION_COOKIE,
    presession_csrf,
    session_user,
)
from cspkit.web.settings import Settings
from cspkit.workspace import Workspace

__all__ = [
    "ROUTE_ROLES",
    "BadRequest",
    "Ctx",
    "Forbidden",
    "MustChangePassword",
    "NotSignedIn",
    "WebState",
    "create_app",
]

HERE = Path(__file__).parent
ADMIN, ANALYST, OWNER, BOARD, PUBLIC = ROLES
READERS = (ADMIN, ANALYST, BOARD)
EVERYONE = ROLES
UPLOAD_TYPES = (".csv", ".xlsx")
FORMATS = {"html": "strategic-assessment.html", "pdf": "strategic-assessment.pdf",
           "docx": "strategic-assessment.docx", "xlsx": "strategic-assessment-annex.xlsx"}  # fmt: skip
MEDIA = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
# The assessment's own HTML: self-contained, no script at all.
REPORT_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'none'"


class NotSignedIn(Exception):
    pass


class MustChangePassword(Exception):
    """A user still on a one-time password opened a page other than /change-password."""


#: What a user still on a one-time password may do.
PASSWORD_CHANGE_PATHS = ("/change-password", "/sign-out")


class Forbidden(Exception):
    def __init__(self, message: str = "Your role does not give access to this page.") -> None:
        super().__init__(message)
        self.message = message


class BadRequest(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class WebState:
    ws: Workspace
    settings: Settings
    sessions: sessionmaker
    cache: AnalysisCache
    templates: Jinja2Templates
    warehouse_lock: threading.Lock
    executor: ThreadPoolExecutor
    upload_lock: threading.Lock = field(default_factory=threading.Lock)
    _name: tuple[int, str] = (0, "")

    def partnership(self) -> str:
        """The partnership's name from the settings, re-read only when cspkit.toml changes."""
        mtime = self.ws.config_path.stat().st_mtime_ns
        if self._name[0] != mtime:
            self._name = (mtime, self.ws.config().name)
        return self._name[1]


@dataclass
class Ctx:
    """What a route handler gets: the request, a database session and the signed-in user (if any)."""

    request: Request
    state: WebState
    db: Session
    user: User | None
    session: UserSession | None
    form: FormData | None = None

    @property
    def role(self) -> str:
        return self.user.role if self.user else "anonymous"

    def audit(self, action: str, target: str = "", detail: str = "") -> None:
        actor = self.user.email if self.user else "anonymous"
        audit.append(
            self.db,
            self.state.settings.secret_key,
            witness=self.state.settings.audit_witness,
            actor=actor,
            role=self.role,
            action=action,
            target=target,
            detail=detail,
        )

    def render(self, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        base = {
            "user": self.user,
            "csrf": self.session.csrf_token if self.session else "",
            "nav": nav_for(self.user),
            "partnership": self.state.partnership(),
            "path": self.request.url.path,
        }
        return self.state.templates.TemplateResponse(self.request, name, {**base, **context}, status_code=status_code)


#: (method, path) -> roles allowed, or None for a page anyone may open. Filled as routes are added.
ROUTE_ROLES: dict[tuple[str, str], tuple[str, ...] | None] = {}


def nav_for(user: User | None) -> list[tuple[str, str]]:
    if user is None or user.must_change_password:
        return []
    items = [
        ("/findings", "Findings", READERS),
        ("/workshop", "Workshop", READERS),
        ("/uploads", "Uploads", (ADMIN, ANALYST, OWNER)),
        ("/assessment", "Assessment", EVERYONE),
        ("/audit", "Audit", (ADMIN,)),
        ("/users", "Users", (ADMIN,)),
    ]
    return [(href, label) for href, label, roles in items if user.role in roles]


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "–"
    if unit == "proportion":
        return f"{value:.1%}"
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"


def _verdict(f: Any) -> str:
    c = f.change
    if c is None or c.p_value is None:
        return ""
    if not c.significant or c.direction == "none":
        return "no significant change"
    rise = c.direction == "up"
    return "significant rise" if rise else "significant fall"


def _templates() -> Jinja2Templates:
    env = Environment(
        loader=ChoiceLoader(
            [
                FileSystemLoader(HERE / "templates"),
                PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
            ]
        ),
        autoescape=select_autoescape(["html", "xml"], default=True),
        auto_reload=False,  # templates ship with the package: no stat of every template on every page
    )
    env.filters["fmt"] = _fmt
    env.filters["verdict"] = _verdict
    env.filters["urlquote"] = lambda s: quote(str(s), safe="")
    return Jinja2Templates(env=env)


def create_app(ws: Workspace, settings: Settings, *, warm: bool = True, cache: AnalysisCache | None = None) -> FastAPI:
    """Build the web application over a workspace.

    Args:
        ws: The workspace (its warehouse, settings, key, judgements and outputs).
        settings: See :mod:`cspkit.web.settings`.
        warm: Start computing the findings at once in the background, so the first page is fast.
        cache: Share an analysis cache (and its warehouse lock) between apps over the same workspace.
    """
    engine = make_engine(settings.database_url)
    migrate(engine)
    cache = cache or AnalysisCache(ws, threading.Lock())
    lock = cache.warehouse_lock
    state = WebState(
        ws=ws,
        settings=settings,
        sessions=sessionmaker(engine, expire_on_commit=False),
        cache=cache,
        templates=_templates(),
        warehouse_lock=lock,
        executor=ThreadPoolExecutor(max_workers=2, thread_name_prefix="cspkit-web"),
    )
    app = FastAPI(title="cspkit partnership workspace", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.web = state
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts)

    @app.middleware("http")
    async def _headers(request: Request, call_next: Callable[[Request], Any]) -> Response:
        response: Response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        if not request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    @app.exception_handler(NotSignedIn)
    async def _not_signed_in(request: Request, _exc: NotSignedIn) -> Response:
        target = "/sign-in"
        if request.method == "GET" and request.url.path not in ("/", "/sign-in"):
            target += "?next=" + quote(request.url.path, safe="")
        if request.headers.get("HX-Request"):
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(MustChangePassword)
    async def _must_change(request: Request, _exc: MustChangePassword) -> Response:
        target = "/change-password"
        if request.method == "GET" and request.url.path != "/":
            target += "?next=" + quote(request.url.path, safe="")
        if request.headers.get("HX-Request"):
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        return state.templates.TemplateResponse(
            request,
            "error.html",
            {
                "title": "You do not have access",
                "message": exc.message,
                "user": None,
                "nav": [],
                "csrf": "",
                "partnership": state.partnership(),
                "path": request.url.path,
            },
            status_code=403,
        )

    @app.exception_handler(BadRequest)
    async def _bad_request(request: Request, exc: BadRequest) -> Response:
        return state.templates.TemplateResponse(
            request,
            "error.html",
            {
                "title": "That request cannot be done",
                "message": exc.message,
                "user": None,
                "nav": [],
                "csrf": "",
                "partnership": state.partnership(),
                "path": request.url.path,
            },
            status_code=400,
        )

    def need(roles: tuple[str, ...] | None, *, view: str | None = None) -> Callable[..., AsyncIterator[Ctx]]:
        """The guard of one route: session, role, CSRF on POST, and the audit entry of a restricted view."""

        async def guard(request: Request) -> AsyncIterator[Ctx]:
            db = state.sessions()
            try:
                # Database work runs in the thread pool: the event loop never waits on the app database.
                found = await run_in_threadpool(session_user, db, request.cookies.get(SESSION_COOKIE))
                ctx = Ctx(request, state, db, found[1] if found else None, found[0] if found else None)
                if roles is not None:
                    if ctx.user is None:
                        raise NotSignedIn()
                    if ctx.user.must_change_password and request.url.path not in PASSWORD_CHANGE_PATHS:
                        raise MustChangePassword()
                    if ctx.user.role not in roles:
                        raise Forbidden()
                if request.method == "POST":
                    limit = settings.upload_limit_bytes + 1024 * 1024
                    length = request.headers.get("content-length")
                    if length and length.isdigit() and int(length) > limit:
                        raise BadRequest(
                            f"The upload is {int(length) / 1048576:,.1f} MB; the limit is "
                            f"{settings.upload_limit_bytes / 1048576:,.0f} MB. Nothing was loaded."
                        )
                    ctx.form = await request.form()
                    sent = request.headers.get("X-CSRF-Token") or str(ctx.form.get("csrf_token") or "")
                    # The sign-in form's token is tied to the pre-session cookie, even when a session exists.
                    if ctx.session is not None and request.url.path != "/sign-in":
                        expected = ctx.session.csrf_token
                    else:
                        expected = presession_csrf(settings.secret_key, request.cookies.get(PRESESSION_COOKIE, ""))
                        if not request.cookies.get(PRESESSION_COOKIE):
                            expected = secrets.token_hex(32)  # no pre-session cookie: nothing can match
                    if not sent or not secrets.compare_digest(sent, expected):
                        raise Forbidden(
                            "The form's security token is missing or out of date. Go back, reload the page and "
                            "try again."
                        )
                if view and ctx.user is not None:
                    await run_in_threadpool(ctx.audit, "view", view.format(**request.path_params))
                # End the guard's transaction so its connection goes back to the pool while the handler runs
                # (in a worker thread, where it takes its own): the event loop never waits for a connection.
                await run_in_threadpool(db.commit)
                yield ctx
            finally:
                db.close()

        return guard

    # Each handler takes ``ctx: Ctx = Depends(...)``; the helper below binds the guard of its route.
    def handler(
        method: str, path: str, roles: tuple[str, ...] | None, *, view: str | None = None
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        guard = need(roles, view=view)

        def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
            ROUTE_ROLES[(method, path)] = roles
            sig = inspect.signature(fn)
            # Keyword-only, so the guarded ``ctx`` may come first and path/query parameters after it.
            params = [
                p.replace(kind=inspect.Parameter.KEYWORD_ONLY, default=Depends(guard) if p.name == "ctx" else p.default)
                for p in sig.parameters.values()
            ]
            fn.__signature__ = sig.replace(parameters=params)  # type: ignore[attr-defined]
            app.add_api_route(path, fn, methods=[method], response_model=None, include_in_schema=False)
            return fn

        return decorate

    from cspkit.web import routes

    routes.register(handler, state)
    if warm:
        state.executor.submit(_warm, state.cache)
    return app


def _warm(cache: AnalysisCache) -> None:
    with contextlib.suppress(Exception):
        cache.get()

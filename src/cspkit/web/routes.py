"""The pages of the partnership workspace. Each is registered with the roles that may open it."""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi.responses import FileResponse, HTMLResponse, PlainTextResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.datastructures import UploadFile

from cspkit.errors import CspkitError
from cspkit.web import audit, workshop
from cspkit.web.analysis import Analysis, finding_chart_svg, hotspot_map_svg, ward_map_svg
from cspkit.web.app import (
    ADMIN,
    ANALYST,
    BOARD,
    EVERYONE,
    FORMATS,
    MEDIA,
    OWNER,
    READERS,
    REPORT_CSP,
    UPLOAD_TYPES,
    BadRequest,
    Ctx,
    Forbidden,
    WebState,
)
from cspkit.web.db import ROLES, AssessmentBuild, AuditEntry, Organisation, Upload, User, utcnow
from cspkit.web.jobs import run_build, run_upload
from cspkit.web.security import (
    PRESESSION_COOKIE,
    SESSION_COOKIE,
    UserError,
    WrongPassword,
    add_user,
    change_password,
    check_password,
    clear_failures,
    end_session,
    new_session,
    presession_csrf,
    record_failure,
    throttled,
)
from cspkit.web.settings import private_dir

Handler = Callable[..., Callable[[Callable[..., Any]], Callable[..., Any]]]


def _cookie(response: Response, state: WebState, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="strict",
        secure=state.settings.secure_cookies,
        path="/",
    )


def _hx(ctx: Ctx) -> bool:
    return bool(ctx.request.headers.get("HX-Request")) and not ctx.request.headers.get("HX-History-Restore-Request")


def register(handler: Handler, state: WebState) -> None:
    settings = state.settings
    ws = state.ws

    # ----------------------------------------------------------------------------------------- sign-in / out
    @handler("GET", "/healthz", None)
    def healthz(ctx: Ctx) -> PlainTextResponse:
        return PlainTextResponse("ok" if state.cache.ready() else "warming")

    @handler("GET", "/sign-in", None)
    def sign_in_page(ctx: Ctx, next: str = "/") -> Response:
        if ctx.user is not None:
            return RedirectResponse("/", status_code=303)
        nonce = secrets.token_urlsafe(24)
        response = ctx.render(
            "sign_in.html", sign_in_csrf=presession_csrf(settings.secret_key, nonce), next=_safe_next(next)
        )
        _cookie(response, state, PRESESSION_COOKIE, nonce, max_age=3600)
        return response

    @handler("POST", "/sign-in", None)
    def sign_in(ctx: Ctx) -> Response:
        assert ctx.form is not None
        email = str(ctx.form.get("email") or "").strip().lower()
        password = str(ctx.form.get("password") or "")
        nxt = _safe_next(str(ctx.form.get("next") or "/"))
        db = ctx.db

        def again(message: str, status: int) -> Response:
            nonce = secrets.token_urlsafe(24)
            response = ctx.render(
                "sign_in.html",
                status_code=status,
                error=message,
                email=email,
                next=nxt,
                sign_in_csrf=presession_csrf(settings.secret_key, nonce),
            )
            _cookie(response, state, PRESESSION_COOKIE, nonce, max_age=3600)
            return response

        if throttled(db, settings.secret_key, email, settings.throttle_failures, settings.throttle_minutes):
            ctx.audit("sign-in refused", "", "too many failed attempts")
            return again(
                f"Too many failed sign-ins for this e-mail address. Wait {settings.throttle_minutes} minutes and try "
                "again, or ask your administrator.",
                429,
            )
        user = db.execute(select(User).where(User.email == email)).scalar() if email else None
        ok = check_password(user.password_hash if user else None, password) and user is not None and user.active
        if not ok or user is None:
            record_failure(db, settings.secret_key, email)
            ctx.audit("sign-in failed", "", "wrong e-mail or password")
            return again("The e-mail address or password is not right.", 401)
        clear_failures(db, settings.secret_key, email)
        # A new session every time: whatever session cookie the browser brought is ended, never promoted.
        end_session(db, ctx.request.cookies.get(SESSION_COOKIE))
        token, _ = new_session(db, user, settings.session_hours)
        ctx.user = user
        ctx.audit(
            "sign-in", user.email, f"role {user.role}" + (", one-time password" if user.must_change_password else "")
        )
        if user.must_change_password:  # a one-time password opens one page only: the one that replaces it
            nxt = "/change-password" + ("?next=" + quote(nxt, safe="") if nxt != "/" else "")
        response = RedirectResponse(nxt, status_code=303)
        _cookie(response, state, SESSION_COOKIE, token, max_age=settings.session_hours * 3600)
        response.delete_cookie(PRESESSION_COOKIE, path="/")
        return response

    @handler("GET", "/change-password", EVERYONE)
    def change_password_page(ctx: Ctx, next: str = "/") -> Response:
        assert ctx.user is not None
        return ctx.render("change_password.html", forced=ctx.user.must_change_password, next=_safe_next(next))

    @handler("POST", "/change-password", EVERYONE)
    def change_password_post(ctx: Ctx) -> Response:
        assert ctx.form is not None and ctx.user is not None
        user = ctx.user
        forced = user.must_change_password
        nxt = _safe_next(str(ctx.form.get("next") or "/"))
        # A wrong current password counts as a failed sign-in: a session left open is no way to guess it.
        if throttled(ctx.db, settings.secret_key, user.email, settings.throttle_failures, settings.throttle_minutes):
            problem, status, field = (
                f"Too many wrong passwords for this account. Wait {settings.throttle_minutes} minutes and try again.",
                429,
                "current_password",
            )
        else:
            try:
                change_password(
                    ctx.db,
                    user,
                    str(ctx.form.get("current_password") or ""),
                    str(ctx.form.get("new_password") or ""),
                    str(ctx.form.get("confirm_password") or ""),
                    ctx.session,
                )
            except UserError as exc:
                ctx.db.rollback()
                problem, status = str(exc), 400
                field = "current_password" if isinstance(exc, WrongPassword) else "new_password"
                if isinstance(exc, WrongPassword):
                    record_failure(ctx.db, settings.secret_key, user.email)
            else:
                clear_failures(ctx.db, settings.secret_key, user.email)
                ctx.audit("password changed", user.email, "one-time password replaced" if forced else "")
                return RedirectResponse(nxt, status_code=303)
        ctx.audit("password change refused", user.email, problem)
        return ctx.render(
            "change_password.html", status_code=status, forced=forced, next=nxt, error=problem, error_field=field
        )

    @handler("POST", "/sign-out", EVERYONE)
    def sign_out(ctx: Ctx) -> Response:
        ctx.audit("sign-out")
        end_session(ctx.db, ctx.request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/sign-in", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # ------------------------------------------------------------------------------------------------ home
    @handler("GET", "/", EVERYONE)
    def home(ctx: Ctx) -> Response:
        analysis = state.cache.get() if ctx.role in READERS else None
        return ctx.render("home.html", analysis=analysis)

    # -------------------------------------------------------------------------------------------- findings
    @handler("GET", "/findings", READERS, view="findings")
    def findings(ctx: Ctx, topic: str = "", ward: str = "", q: str = "") -> Response:
        analysis = _analysis(state)
        items = analysis.fs.findings
        if topic:
            items = [f for f in items if f.topic == topic]
        items = [f for f in items if f.area == ward] if ward else [f for f in items if ".ward." not in f.id]
        if q:
            words = q.lower().split()
            items = [f for f in items if all(w in (f.id + " " + f.title).lower() for w in words)]
        prefixes = analysis.ward_prefixes(topic) if topic and not ward else []
        context: dict[str, Any] = {
            "analysis": analysis,
            "items": items,
            "topic": topic,
            "ward": ward,
            "q": q,
            "map_prefix": prefixes[0] if prefixes else None,
            "ward_name": dict(analysis.wards).get(ward, ""),
        }
        if _hx(ctx):
            return ctx.render("_findings_results.html", **context)
        return ctx.render("findings.html", **context)

    @handler("GET", "/findings/{finding_id}", READERS, view="finding {finding_id}")
    def finding(ctx: Ctx, finding_id: str) -> Response:
        analysis = _analysis(state)
        f = analysis.by_id.get(finding_id)
        if f is None:
            return ctx.render("error.html", 404, title="No such finding", message=f"There is no finding {finding_id}.")
        is_hotspot = bool(f.extra.get("lsoa_counts"))
        related = [g for g in analysis.fs.findings if g.id.startswith(finding_id.rsplit(".", 1)[0] + ".ward.")][:60]
        return ctx.render("finding.html", f=f, analysis=analysis, is_hotspot=is_hotspot, related=related)

    @handler("GET", "/findings/{finding_id}/chart.svg", READERS)
    def finding_chart(ctx: Ctx, finding_id: str) -> Response:
        analysis = _analysis(state)
        f = analysis.by_id.get(finding_id)
        if f is None or not f.series:
            return PlainTextResponse("No chart for this finding.", status_code=404)
        svg = state.cache.figure(analysis, f"chart:{finding_id}", lambda: finding_chart_svg(f))
        return Response(svg, media_type="image/svg+xml")

    @handler("GET", "/findings/{finding_id}/map.svg", READERS)
    def finding_map(ctx: Ctx, finding_id: str) -> Response:
        analysis = _analysis(state)
        f = analysis.by_id.get(finding_id)
        svg = state.cache.figure(analysis, f"map:{finding_id}", lambda: hotspot_map_svg(analysis, f) or "") if f else ""
        if not svg:
            return PlainTextResponse("No map for this finding.", status_code=404)
        return Response(svg, media_type="image/svg+xml")

    @handler("GET", "/maps/wards/{prefix}.svg", READERS)
    def ward_map(ctx: Ctx, prefix: str) -> Response:
        analysis = _analysis(state)
        svg = state.cache.figure(analysis, f"wards:{prefix}", lambda: ward_map_svg(analysis, prefix) or "")
        if not svg:
            return PlainTextResponse("No ward map for these findings.", status_code=404)
        return Response(svg, media_type="image/svg+xml")

    # -------------------------------------------------------------------------------------------- workshop
    @handler("GET", "/workshop", READERS, view="workshop")
    def workshop_page(ctx: Ctx) -> Response:
        analysis = _analysis(state)
        pr = analysis.priorities
        matrix = pr.matrix
        session = workshop.open_workshop(ctx.db, matrix)
        scores = workshop.current_scores(ctx.db, session)
        names = _names(ctx, scores)
        mine = scores.get(ctx.user.id, {}) if ctx.user else {}
        combined = workshop.combined_levels(matrix, scores, names)
        context: dict[str, Any] = {
            "analysis": analysis,
            "matrix": matrix,
            "workshop": session,
            "criteria": workshop.judgement_criteria(matrix),
            "rows": {r.candidate: r for r in pr.ranking.rows},
            "candidates": pr.candidates,
            "mine": mine,
            "scorers": len(scores),
            "combined": combined,
            "sensitivity": {r.candidate: r for r in pr.sensitivity.rows} if pr.sensitivity else {},
        }
        if ctx.role in (ANALYST, ADMIN):
            agreement = workshop.agreement(matrix, scores)
            context["agreement"] = agreement
            context["names"] = names
            context["scores"] = scores
            if combined:
                ranking, sens = workshop.preview(ws, matrix, pr.candidates, combined)
                context["preview"] = ranking
                context["preview_sensitivity"] = {r.candidate: r for r in sens.rows} if sens else {}
        return ctx.render("workshop.html", **context)

    @handler("POST", "/workshop/score", (BOARD,))
    def workshop_score(ctx: Ctx) -> Response:
        assert ctx.form is not None and ctx.user is not None
        analysis = _analysis(state)
        matrix = analysis.priorities.matrix
        session = workshop.open_workshop(ctx.db, matrix)
        candidate = str(ctx.form.get("candidate") or "")
        criterion = str(ctx.form.get("criterion") or "")
        value = str(ctx.form.get("value") or "")
        why = str(ctx.form.get("why") or "")
        try:
            s = workshop.save_score(
                ctx.db, session, matrix, analysis.priorities.candidates, ctx.user, candidate, criterion, value, why
            )
        except CspkitError as exc:
            return HTMLResponse(f'<span class="govuk-error-message">{_esc(str(exc))}</span>', status_code=400)
        ctx.audit("score", f"workshop {session.id}: {candidate} / {criterion}", f"value {value or '(cleared)'}")
        when = s.at.strftime("%H:%M:%S")
        return HTMLResponse(f'<span class="govuk-body-s">Saved at {when} UTC</span>')

    @handler("POST", "/workshop/close", (ANALYST,))
    def workshop_close(ctx: Ctx) -> Response:
        assert ctx.user is not None
        analysis = _analysis(state)
        matrix = analysis.priorities.matrix
        session = workshop.open_workshop(ctx.db, matrix)
        scores = workshop.current_scores(ctx.db, session)
        combined = workshop.combined_levels(matrix, scores, _names(ctx, scores))
        if not combined:
            raise BadRequest("No board member has scored yet: there is nothing to record.")
        with state.warehouse_lock:
            n = workshop.close(ctx.db, ws, session, matrix, combined, ctx.user)
        ctx.audit("workshop closed", f"workshop {session.id}", f"{n} judgements recorded from {len(scores)} scorers")
        return RedirectResponse("/workshop?closed=1", status_code=303)

    # --------------------------------------------------------------------------------------------- uploads
    def _uploads_visible(ctx: Ctx) -> Any:
        stmt = select(Upload).order_by(Upload.id.desc()).limit(50)
        if ctx.role == OWNER:
            stmt = stmt.where(Upload.organisation_id == (ctx.user.organisation_id if ctx.user else -1))
        return ctx.db.execute(stmt).scalars().all()

    def _uploads_page(ctx: Ctx, error: str = "", status: int = 200) -> Response:
        from cspkit.sources import source_names

        org = ctx.db.get(Organisation, ctx.user.organisation_id) if ctx.user and ctx.user.organisation_id else None
        return ctx.render(
            "uploads.html",
            status_code=status,
            uploads=_uploads_visible(ctx),
            sources=source_names(),
            organisation=org,
            limit_mb=settings.upload_limit_bytes / 1048576,
            error=error,
            can_upload=ctx.role in (ANALYST, OWNER),
        )

    @handler("GET", "/uploads", (ADMIN, ANALYST, OWNER))
    def uploads(ctx: Ctx) -> Response:
        return _uploads_page(ctx)

    @handler("POST", "/uploads", (ANALYST, OWNER))
    def upload(ctx: Ctx) -> Response:
        from cspkit.sources import source_names

        assert ctx.form is not None and ctx.user is not None
        file = ctx.form.get("file")
        source = str(ctx.form.get("source") or "") or None
        if not isinstance(file, UploadFile) or not file.filename:
            return _uploads_page(ctx, "Choose a CSV or Excel file to upload.", 400)
        name = file.filename
        problem = _check_upload(file, name, settings.upload_limit_bytes)
        if source is not None and source not in source_names():
            problem = f"Unknown source {source!r}: choose one from the list, or let the columns decide."
        if problem:
            ctx.audit("upload refused", _safe_name(name), problem)
            return _uploads_page(ctx, problem, 400)
        org = ctx.db.get(Organisation, ctx.user.organisation_id) if ctx.user.organisation_id else None
        with state.upload_lock:
            busy = ctx.db.execute(
                select(Upload).where(Upload.status.in_(("queued", "running")), Upload.source.is_(source))
                if source is None
                else select(Upload).where(Upload.status.in_(("queued", "running")), Upload.source == source)
            ).scalar()
            if busy is not None:
                message = (
                    f"A file for {source or 'this kind of source'} is already being loaded (upload {busy.id}). "
                    "Wait until it has finished, then upload again."
                )
                return _uploads_page(ctx, message, 409)
            folder = private_dir(ws) / "uploads" / secrets.token_hex(8)
            folder.mkdir(parents=True, mode=0o700)
            path = folder / name
            file.file.seek(0)
            with path.open("wb") as out:
                shutil.copyfileobj(file.file, out)
            row = Upload(
                user_id=ctx.user.id,
                organisation_id=org.id if org else None,
                filename=name,
                source=source,
                agency=org.agency if org else None,
                status="queued",
                step="Waiting to start",
                created_at=utcnow(),
            )
            ctx.db.add(row)
            ctx.db.commit()
        ctx.audit("upload", f"upload {row.id}: {name}", f"{path.stat().st_size:,} bytes, source {source or 'detected'}")
        state.executor.submit(run_upload, state, row.id, path)
        return RedirectResponse(f"/uploads/{row.id}", status_code=303)

    def _upload_for(ctx: Ctx, upload_id: int) -> Upload:
        row = ctx.db.get(Upload, upload_id)
        if row is None:
            raise BadRequest(f"There is no upload {upload_id}.")
        if ctx.role == OWNER and (ctx.user is None or row.organisation_id != ctx.user.organisation_id):
            raise Forbidden("This upload belongs to another organisation.")
        return row

    @handler("GET", "/uploads/{upload_id}", (ADMIN, ANALYST, OWNER), view="upload {upload_id}")
    def upload_result(ctx: Ctx, upload_id: int) -> Response:
        row = _upload_for(ctx, upload_id)
        return ctx.render("upload.html", u=row, rejects=json.loads(row.rejects or "{}"))

    @handler("GET", "/uploads/{upload_id}/status", (ADMIN, ANALYST, OWNER))
    def upload_status(ctx: Ctx, upload_id: int) -> Response:
        row = _upload_for(ctx, upload_id)
        return ctx.render("_upload_status.html", u=row, rejects=json.loads(row.rejects or "{}"))

    # ------------------------------------------------------------------------------------------ assessment
    def _editions(ctx: Ctx) -> list[str]:
        return ["restricted", "public"] if ctx.role in READERS else ["public"]

    def _files(edition: str) -> dict[str, Path]:
        folder = ws.outputs / "web" / edition
        return {fmt: folder / name for fmt, name in FORMATS.items() if (folder / name).is_file()}

    @handler("GET", "/assessment", EVERYONE)
    def assessment(ctx: Ctx) -> Response:
        latest = ctx.db.execute(select(AssessmentBuild).order_by(AssessmentBuild.id.desc()).limit(1)).scalar()
        editions = {e: _files(e) for e in _editions(ctx)}
        return ctx.render("assessment.html", editions=editions, build=latest, can_build=ctx.role == ANALYST)

    @handler("POST", "/assessment/build", (ANALYST,))
    def assessment_build(ctx: Ctx) -> Response:
        assert ctx.user is not None
        running = ctx.db.execute(
            select(AssessmentBuild).where(AssessmentBuild.status.in_(("queued", "running")))
        ).scalar()
        if running is None:
            running = AssessmentBuild(user_id=ctx.user.id, status="queued", step="Waiting to start")
            ctx.db.add(running)
            ctx.db.commit()
            ctx.audit("assessment build", f"build {running.id}", "restricted and public editions")
            state.executor.submit(run_build, state, running.id)
        return RedirectResponse("/assessment", status_code=303)

    @handler("GET", "/assessment/builds/{build_id}", EVERYONE)
    def assessment_build_status(ctx: Ctx, build_id: int) -> Response:
        row = ctx.db.get(AssessmentBuild, build_id)
        if row is None:
            raise BadRequest(f"There is no build {build_id}.")
        if row.status == "done" and ctx.request.headers.get("HX-Request"):
            return Response(status_code=200, headers={"HX-Redirect": "/assessment"})
        return ctx.render("_build_status.html", build=row)

    def _download(ctx: Ctx, edition: str, fmt: str) -> Response:
        path = _files(edition).get(fmt)
        if path is None:
            raise BadRequest(f"The {edition} edition has not been built as {fmt.upper()} yet.")
        ctx.audit("download", f"{edition} {fmt}", path.name)
        if fmt == "html" and ctx.request.query_params.get("view"):
            response: Response = HTMLResponse(path.read_text(encoding="utf-8"))
            response.headers["Content-Security-Policy"] = REPORT_CSP
            return response
        response = FileResponse(path, media_type=MEDIA[fmt], filename=f"{edition}-{path.name}")
        if fmt == "html":
            response.headers["Content-Security-Policy"] = REPORT_CSP
        return response

    @handler("GET", "/assessment/restricted/{fmt}", READERS)
    def download_restricted(ctx: Ctx, fmt: str) -> Response:
        return _download(ctx, "restricted", fmt)

    @handler("GET", "/assessment/public/{fmt}", EVERYONE)
    def download_public(ctx: Ctx, fmt: str) -> Response:
        return _download(ctx, "public", fmt)

    # ----------------------------------------------------------------------------------------------- audit
    @handler("GET", "/audit", (ADMIN,), view="audit")
    def audit_page(ctx: Ctx, action: str = "") -> Response:
        stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(300)
        if action:
            stmt = stmt.where(AuditEntry.action == action)
        entries = ctx.db.execute(stmt).scalars().all()
        report = audit.verify(ctx.db, settings.secret_key, settings.audit_witness)
        actions = sorted(set(ctx.db.execute(select(AuditEntry.action).distinct()).scalars()))
        return ctx.render("audit.html", entries=entries, report=report, actions=actions, action=action)

    @handler("GET", "/audit/export.csv", (ADMIN,))
    def audit_export(ctx: Ctx) -> Response:
        ctx.audit("audit export")
        entries = ctx.db.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars()
        return Response(
            audit.export_csv(entries),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
        )

    # ----------------------------------------------------------------------------------------------- users
    def _users_page(ctx: Ctx, error: str = "", status: int = 200, created: str = "") -> Response:
        users = ctx.db.execute(select(User).order_by(User.email)).scalars().all()
        orgs = {o.id: o for o in ctx.db.execute(select(Organisation)).scalars()}
        return ctx.render(
            "users.html", status_code=status, users=users, orgs=orgs, roles=ROLES, error=error, created=created
        )

    @handler("GET", "/users", (ADMIN,), view="users")
    def users(ctx: Ctx) -> Response:
        return _users_page(ctx)

    @handler("POST", "/users", (ADMIN,))
    def users_add(ctx: Ctx) -> Response:
        assert ctx.form is not None
        email = str(ctx.form.get("email") or "")
        role = str(ctx.form.get("role") or "")
        org = str(ctx.form.get("organisation") or "").strip() or None
        password = secrets.token_urlsafe(12)
        try:
            user = add_user(ctx.db, email, role, password, org, one_time=True)
        except UserError as exc:
            ctx.db.rollback()
            return _users_page(ctx, str(exc), 400)
        ctx.audit("user added", user.email, f"role {role}" + (f", organisation {org}" if org else ""))
        return _users_page(
            ctx, created=f"{user.email} can sign in once with the password {password}, then must choose their own"
        )

    @handler("POST", "/users/{user_id}/role", (ADMIN,))
    def users_role(ctx: Ctx, user_id: int) -> Response:
        assert ctx.form is not None
        target = ctx.db.get(User, user_id)
        role = str(ctx.form.get("role") or "")
        if target is None or role not in ROLES:
            return _users_page(ctx, "Choose a user and one of the roles.", 400)
        if target.role == role:
            return RedirectResponse("/users", status_code=303)
        old = target.role
        target.role = role
        ctx.db.commit()
        ctx.audit("role changed", target.email, f"{old} -> {role}")
        return RedirectResponse("/users", status_code=303)


def _analysis(state: WebState) -> Analysis:
    try:
        return state.cache.get()
    except CspkitError as exc:
        raise BadRequest(str(exc)) from None


def _names(ctx: Ctx, scores: dict[int, Any]) -> dict[int, str]:
    if not scores:
        return {}
    users = ctx.db.execute(select(User).where(User.id.in_(list(scores)))).scalars()
    return {u.id: u.email for u in users}


def _safe_next(target: str) -> str:
    """Only a local path: a sign-in link must not send anyone to another site."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _esc(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))


def _safe_name(name: str) -> str:
    return name.replace("\\", "/").rsplit("/", 1)[-1][:120]


def _check_upload(file: UploadFile, name: str, limit: int) -> str:
    """Why an upload is refused (the file name, its type, its size, its content), or '' if it may be loaded."""
    if any(sep in name for sep in ("/", "\\", "\x00")) or name in (".", "..") or name.startswith("."):
        return (
            f"The file name {_safe_name(name)!r} includes a folder path or starts with a dot. Upload the file "
            "itself, with a plain name such as asb_incidents.csv."
        )
    if len(name) > 120:
        return "The file name is longer than 120 characters; rename the file and upload it again."
    suffix = Path(name).suffix.lower()
    if suffix not in UPLOAD_TYPES:
        return (
            f"{name} is not a CSV (.csv) or Excel (.xlsx) file"
            + (f" (it ends in {suffix})" if suffix else "")
            + ". Save it as CSV or Excel and upload it again."
        )
    size = file.size if file.size is not None else 0
    if size > limit:
        return f"{name} is {size / 1048576:,.1f} MB; the limit is {limit / 1048576:,.0f} MB. Nothing was loaded."
    if size == 0:
        return f"{name} is empty."
    file.file.seek(0)
    head = file.file.read(8192)
    file.file.seek(0)
    if suffix == ".xlsx" and not head.startswith(b"PK\x03\x04"):
        return f"{name} is named .xlsx but its content is not an Excel workbook."
    binary = b"\x00" in head or head.startswith((b"PK\x03\x04", b"%PDF", b"\xd0\xcf\x11\xe0", b"MZ", b"\x7fELF"))
    if suffix == ".csv" and binary:
        return f"{name} is named .csv but its content is not text (it looks like a binary file)."
    return ""

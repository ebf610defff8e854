"""Background work started from the browser: loading an upload through the ingest gate, building the assessment.

Both hold the warehouse lock, so they never overlap each other or a findings computation, and both record their
progress in the app database for the page to poll.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from cspkit.web import audit
from cspkit.web.analysis import Analysis, state_key
from cspkit.web.db import AssessmentBuild, Upload, User, utcnow

if TYPE_CHECKING:
    from cspkit.web.app import WebState

__all__ = ["run_build", "run_upload"]


def _user(db: object, user_id: int) -> User | None:
    return db.get(User, user_id)  # type: ignore[attr-defined]


def run_upload(state: WebState, upload_id: int, path: Path) -> None:
    """Load one uploaded file with the same ingest code as ``cspkit ingest``, then delete it (unless kept)."""
    from cspkit.ingest import ingest_paths

    db = state.sessions()
    ws = state.ws
    folder = str(path.parent) + "/"
    try:
        row = db.get(Upload, upload_id)
        if row is None:
            return
        row.status, row.step = "running", "Waiting for the warehouse"
        db.commit()
        with state.warehouse_lock:
            row.step = "Checking, pseudonymising and loading the rows"
            db.commit()
            con = ws.connect()
            try:
                mismatch = ws.check_key(con)
                if mismatch:
                    report = None
                    message = mismatch + " Nothing was loaded."
                else:
                    report = ingest_paths(con, [path], key=ws.key(), source=row.source, agency=row.agency)
                    message = ""
            finally:
                con.close()
        if report is not None:
            for r in report.loaded:
                row.rows_read += r.rows_read
                row.rows_accepted += r.rows_accepted
                row.rows_rejected += r.rows_rejected
                row.source = row.source or r.source
                row.agency = r.agency
                row.rejects = json.dumps(r.rejects_by_reason)
                if r.status == "unchanged":
                    message = "This file was loaded before with the same content: nothing changed."
            errors = [e.message.replace(folder, "") for e in report.errors]
            if errors:
                message = " ".join(errors)
            elif not report.loaded:
                message = "No data file was found to load (CSV or XLSX)."
            row.status = "done" if report.loaded and not errors else "refused"
        else:
            row.status = "refused"
        row.message = message
        row.step = ""
        row.finished_at = utcnow()
        db.commit()
        user = _user(db, row.user_id)
        audit.append(
            db,
            state.settings.secret_key,
            witness=state.settings.audit_witness,
            actor=user.email if user else "unknown",
            role=user.role if user else "",
            action="upload " + row.status,
            target=f"upload {row.id}: {row.filename}",
            detail=f"{row.rows_read} read = {row.rows_accepted} accepted + {row.rows_rejected} rejected",
        )
    except Exception as exc:
        db.rollback()
        row = db.get(Upload, upload_id)
        if row is not None:
            row.status, row.step = "refused", ""
            row.message = f"The file could not be loaded ({type(exc).__name__}); nothing half-written was kept."
            row.finished_at = utcnow()
            db.commit()
    finally:
        db.close()
        if not state.settings.keep_uploads:
            shutil.rmtree(path.parent, ignore_errors=True)


def _cached_analysis(state: WebState) -> Analysis | None:
    """The pages' analysis (computed now if it is not yet), or None when it cannot be (the build then says why)."""
    from cspkit.errors import CspkitError

    try:
        return state.cache.get()
    except CspkitError:
        return None


def run_build(state: WebState, build_id: int) -> None:
    """Build both editions of the assessment with the report code (``cspkit assess``) into outputs/web/."""
    from cspkit.report.assess import assess

    db = state.sessions()
    try:
        row = db.get(AssessmentBuild, build_id)
        if row is None:
            return
        row.status, row.step = "running", "Waiting for the warehouse"
        db.commit()

        def step(edition: str) -> object:
            def on_step(text: str) -> None:
                row.step = f"{edition.capitalize()} edition: {text}"
                db.commit()

            return on_step

        analysis = _cached_analysis(state)
        with state.warehouse_lock:
            # The pages' findings are the assessment's: both editions take the cached set when the warehouse and
            # settings are still those it was computed from (judgements only change the scoring, re-run anyway).
            fs = analysis.fs if analysis is not None and analysis.key[:-1] == state_key(state.ws)[:-1] else None
            for edition in ("restricted", "public"):
                assess(
                    state.ws,
                    edition=edition,
                    formats=list(state.settings.build_formats),
                    out_dir=state.ws.outputs / "web" / edition,
                    on_step=step(edition),  # type: ignore[arg-type]
                    findings=fs,
                )
        row.status, row.step, row.finished_at = "done", "", utcnow()
        db.commit()
        user = _user(db, row.user_id)
        audit.append(
            db,
            state.settings.secret_key,
            witness=state.settings.audit_witness,
            actor=user.email if user else "unknown",
            role=user.role if user else "",
            action="assessment built",
            target=f"build {row.id}",
            detail="restricted and public editions: " + ", ".join(state.settings.build_formats),
        )
    except Exception as exc:
        db.rollback()
        row = db.get(AssessmentBuild, build_id)
        if row is not None:
            from cspkit.errors import CspkitError

            row.status, row.step = "failed", ""
            row.message = str(exc) if isinstance(exc, CspkitError) else f"The build failed ({type(exc).__name__})."
            row.finished_at = utcnow()
            db.commit()
    finally:
        db.close()

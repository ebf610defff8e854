"""Settings of the web application, from the environment (production) with safe defaults for one machine.

=========================  =====================================================================================
``CSPKIT_DATABASE_URL``    App database (users, sessions, uploads, scores, audit). Default: SQLite in the
                           workspace's private folder, ``<workspace>/.cspkit/web.sqlite3``. Production:
                           ``postgresql+psycopg://user:password@host/dbname``.
``CSPKIT_SECRET_KEY``      Keys the audit chain and the sign-in form's CSRF token. Default: a random key created
                           once in ``<workspace>/.cspkit/web-secret`` (owner-only).
``CSPKIT_ALLOWED_HOSTS``   Comma-separated host names the app answers to (default ``127.0.0.1,localhost``).
``CSPKIT_SECURE_COOKIES``  ``1`` (default) marks cookies Secure (sent over HTTPS only); ``0`` for plain HTTP on
                           the loopback interface, which ``cspkit serve`` sets itself for 127.0.0.1/localhost.
``CSPKIT_UPLOAD_LIMIT_MB`` Largest upload accepted, in MB (default 100).
``CSPKIT_BUILD_FORMATS``  Formats the Assessment page builds (default ``html,pdf,docx,xlsx``).
``CSPKIT_KEEP_UPLOADS``    ``1`` keeps uploaded files (in ``<workspace>/.cspkit/uploads``) after ingest; default
                           ``0`` deletes each once it is loaded or refused.
=========================  =====================================================================================
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cspkit.workspace import Workspace

__all__ = ["Settings", "settings_from_env"]


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: bytes
    allowed_hosts: list[str] = field(default_factory=lambda: ["127.0.0.1", "localhost"])
    secure_cookies: bool = True
    upload_limit_bytes: int = 100 * 1024 * 1024
    keep_uploads: bool = False
    build_formats: tuple[str, ...] = ("html", "pdf", "docx", "xlsx")
    session_hours: int = 8
    #: Failed sign-ins allowed for one e-mail in ``throttle_minutes`` before it is refused for a while.
    throttle_failures: int = 5
    throttle_minutes: int = 15
    #: The audit log's head file (cspkit.web.audit): the newest entry, witnessed outside the database.
    audit_witness: Path | None = None


def private_dir(ws: Workspace) -> Path:
    folder = ws.key_path.parent
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def default_database_url(ws: Workspace) -> str:
    return f"sqlite:///{private_dir(ws) / 'web.sqlite3'}"


def workspace_secret(ws: Workspace) -> bytes:
    """The workspace's web secret, created once (owner-only) beside the pseudonymisation key."""
    path = private_dir(ws) / "web-secret"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
    return bytes.fromhex(path.read_text().strip())


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def settings_from_env(ws: Workspace, *, secure_cookies_default: bool = True) -> Settings:
    """Settings for a workspace, from the ``CSPKIT_*`` environment variables (see the module docstring)."""
    secret = os.environ.get("CSPKIT_SECRET_KEY")
    hosts = os.environ.get("CSPKIT_ALLOWED_HOSTS", "127.0.0.1,localhost")
    return Settings(
        database_url=os.environ.get("CSPKIT_DATABASE_URL") or default_database_url(ws),
        secret_key=secret.encode("utf-8") if secret else workspace_secret(ws),
        allowed_hosts=[h.strip() for h in hosts.split(",") if h.strip()],
        secure_cookies=_flag("CSPKIT_SECURE_COOKIES", secure_cookies_default),
        upload_limit_bytes=int(float(os.environ.get("CSPKIT_UPLOAD_LIMIT_MB", "100")) * 1024 * 1024),
        keep_uploads=_flag("CSPKIT_KEEP_UPLOADS", False),
        build_formats=tuple(
            f.strip() for f in os.environ.get("CSPKIT_BUILD_FORMATS", "html,pdf,docx,xlsx").split(",") if f.strip()
        ),
        audit_witness=private_dir(ws) / "audit-head",
    )

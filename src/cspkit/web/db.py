"""The web application's own state: organisations, users, sessions, uploads, workshop scores, builds and audit.

This is not the analytical store (the DuckDB warehouse stays that): it is SQLAlchemy 2 over SQLite (the embedded
default, one file in the workspace's private folder) or PostgreSQL (``CSPKIT_DATABASE_URL``), and its schema is
created and upgraded only by the Alembic migrations in ``cspkit/web/migrations``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    create_engine,
    event,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

__all__ = [
    "ROLES",
    "AssessmentBuild",
    "AuditEntry",
    "Base",
    "LoginFailure",
    "Organisation",
    "Score",
    "Upload",
    "User",
    "UserSession",
    "Workshop",
    "make_engine",
    "migrate",
    "utcnow",
]

#: The roles of the partnership workspace, most powerful first.
ROLES = ("administrator", "analyst", "data-owner", "board", "public")


def utcnow() -> dt.datetime:
    """Naive UTC now (SQLite keeps no time zone, so every time in the app database is UTC)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class Organisation(Base):
    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    #: The agency name its uploads are loaded under (police, council, probation ...).
    agency: Mapped[str] = mapped_column(String(100))


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    #: Set for a one-time password (``cspkit user add`` without ``--password-stdin``, the Users page): every page
    #: sends the user to /change-password until they have chosen their own.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    password_changed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class UserSession(Base):
    """A signed-in session. The cookie holds a random token; only its SHA-256 is stored."""

    __tablename__ = "sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)


class LoginFailure(Base):
    """A failed sign-in, for throttling. The e-mail is kept only as a keyed digest."""

    __tablename__ = "login_failures"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email_digest: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Upload(Base):
    __tablename__ = "uploads"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"), nullable=True)
    filename: Mapped[str] = mapped_column(String(255))
    source: Mapped[str | None] = mapped_column(String(100), nullable=True)
    agency: Mapped[str | None] = mapped_column(String(100), nullable=True)
    #: queued, running, done, refused
    status: Mapped[str] = mapped_column(String(20), default="queued")
    step: Mapped[str] = mapped_column(String(200), default="")
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_accepted: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)
    #: JSON object: reject reason -> count (reasons and counts only, never values).
    rejects: Mapped[str] = mapped_column(Text, default="{}")
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class Workshop(Base):
    """A priorities workshop: open while the board scores, closed into a recorded judgement set."""

    __tablename__ = "workshops"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    matrix: Mapped[str] = mapped_column(String(50))
    opened_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class Score(Base):
    """One score as entered. Every change is a new row, so who scored what, when, is kept."""

    __tablename__ = "scores"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workshop_id: Mapped[int] = mapped_column(ForeignKey("workshops.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    candidate: Mapped[str] = mapped_column(String(100))
    criterion: Mapped[str] = mapped_column(String(100))
    value: Mapped[str] = mapped_column(String(50))
    why: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class AssessmentBuild(Base):
    __tablename__ = "assessment_builds"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(20), default="queued")
    step: Mapped[str] = mapped_column(String(200), default="")
    message: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class AuditEntry(Base):
    """One audit entry, chained to the one before by a keyed hash (see :mod:`cspkit.web.audit`)."""

    __tablename__ = "audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(50))
    target: Mapped[str] = mapped_column(String(500))
    detail: Mapped[str] = mapped_column(Text, default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


def make_engine(url: str) -> Engine:
    """An engine for the app database; SQLite gets foreign keys, WAL and a busy timeout for threads."""
    if url.startswith("sqlite"):
        # As many connections as request threads (SQLite connections are cheap), so none waits for the pool.
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=20, max_overflow=60
        )

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_con, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_con.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    """Bring the app database to the newest schema with the Alembic migrations."""
    from alembic import command
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")


def session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)

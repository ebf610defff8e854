"""Passwords, sessions, CSRF tokens and sign-in throttling.

- Passwords are hashed with Argon2id (argon2-cffi's defaults).
- A session is a random token in an HttpOnly, SameSite=Strict (and, in production, Secure) cookie; the database
  keeps only its SHA-256, so a copy of the database cannot be replayed as a cookie. Signing in always starts a new
  session and ends the one the browser came with (no session fixation).
- Every form carries a CSRF token: the session's own token once signed in; before that, a keyed hash of a random
  pre-session cookie (the sign-in form). HTMX requests send it in the ``X-CSRF-Token`` header.
- Failed sign-ins are counted per e-mail (kept as a keyed digest, not in clear); too many in a window are refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from cspkit.web.db import ROLES, LoginFailure, Organisation, User, UserSession, utcnow

__all__ = [
    "SESSION_COOKIE",
    "add_user",
    "check_password",
    "end_session",
    "hash_password",
    "new_session",
    "session_user",
]

SESSION_COOKIE = "cspkit_session"
PRESESSION_COOKIE = "cspkit_pre"
_HASHER = PasswordHasher()
# Verifying against this keeps the time of a sign-in with an unknown e-mail like that of a known one.
_DUMMY_HASH = _HASHER.hash("not a password of anyone")


class UserError(ValueError):
    """A user-management request that cannot be done (message says why)."""


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def check_password(hashed: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(hashed or _DUMMY_HASH, password) and hashed is not None
    except (VerificationError, InvalidHashError):
        return False


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_session(db: Session, user: User, hours: int) -> tuple[str, UserSession]:
    """Start a session for a user; returns the cookie token (never stored) and the row."""
    token = secrets.token_urlsafe(32)
    row = UserSession(
        token_hash=token_hash(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=utcnow(),
        expires_at=utcnow() + dt.timedelta(hours=hours),
    )
    db.add(row)
    db.commit()
    return token, row


def session_user(db: Session, token: str | None) -> tuple[UserSession, User] | None:
    """The live session and its active user for a cookie token, or None."""
    if not token or len(token) > 200:
        return None
    row = db.execute(select(UserSession).where(UserSession.token_hash == token_hash(token))).scalar()
    if row is None or row.expires_at < utcnow():
        return None
    user = db.get(User, row.user_id)
    if user is None or not user.active:
        return None
    return row, user


def end_session(db: Session, token: str | None) -> None:
    if token:
        db.execute(delete(UserSession).where(UserSession.token_hash == token_hash(token)))
        db.commit()


def presession_csrf(secret: bytes, nonce: str) -> str:
    return hmac.new(secret, b"sign-in:" + nonce.encode("utf-8"), hashlib.sha256).hexdigest()


def email_digest(secret: bytes, email: str) -> str:
    return hmac.new(secret, b"email:" + email.strip().lower().encode("utf-8"), hashlib.sha256).hexdigest()


def throttled(db: Session, secret: bytes, email: str, limit: int, minutes: int) -> bool:
    since = utcnow() - dt.timedelta(minutes=minutes)
    n = db.execute(
        select(func.count())
        .select_from(LoginFailure)
        .where(LoginFailure.email_digest == email_digest(secret, email), LoginFailure.at >= since)
    ).scalar_one()
    return int(n) >= limit


def record_failure(db: Session, secret: bytes, email: str) -> None:
    db.add(LoginFailure(email_digest=email_digest(secret, email), at=utcnow()))
    db.commit()


def clear_failures(db: Session, secret: bytes, email: str) -> None:
    db.execute(delete(LoginFailure).where(LoginFailure.email_digest == email_digest(secret, email)))
    db.commit()


def normalise_email(email: str) -> str:
    email = email.strip().lower()
    if "@" not in email or len(email) > 320 or any(c.isspace() for c in email):
        raise UserError(f"{email!r} is not an e-mail address.")
    return email


_AGENCIES = ("police", "council", "probation", "health", "nhs", "housing", "marac", "fire")


def agency_of(organisation: str) -> str:
    """The agency an organisation's uploads load under: a known agency word in its name, else its name."""
    words = re.findall(r"[a-z0-9]+", organisation.lower())
    for agency in _AGENCIES:
        if agency in words:
            return "health" if agency == "nhs" else agency
    return "-".join(words) or "partner"


def add_user(
    db: Session, email: str, role: str, password: str, organisation: str | None = None, agency: str | None = None
) -> User:
    """Create a user (and their organisation when it is new).

    Raises:
        UserError: Unknown role, a data owner without an organisation, a short password, or the e-mail exists.
    """
    email = normalise_email(email)
    if role not in ROLES:
        raise UserError(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.")
    if role == "data-owner" and not organisation:
        raise UserError("A data owner belongs to an organisation: give --organisation.")
    if len(password) < 12:
        raise UserError("The password must be at least 12 characters long.")
    if db.execute(select(User).where(User.email == email)).scalar() is not None:
        raise UserError(f"A user {email} already exists.")
    org_id = None
    if organisation:
        org = db.execute(select(Organisation).where(Organisation.name == organisation)).scalar()
        if org is None:
            slug = agency or agency_of(organisation)
            org = Organisation(name=organisation.strip(), agency=slug)
            db.add(org)
            db.flush()
        org_id = org.id
    user = User(email=email, password_hash=hash_password(password), role=role, organisation_id=org_id, active=True)
    db.add(user)
    db.commit()
    return user

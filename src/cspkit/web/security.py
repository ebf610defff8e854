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
    "change_password",
    "check_new_password",
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


class WrongPassword(UserError):
    """The current password given to change a password is not the user's."""


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
    db: Session,
    email: str,
    role: str,
    password: str,
    organisation: str | None = None,
    agency: str | None = None,
    *,
    one_time: bool = False,
) -> User:
    """Create a user (and their organisation when it is new).

    ``one_time`` marks a password that was made for the user and shown to someone else (the command line, the
    Users page): they must choose their own before any page opens.

    Raises:
        UserError: Unknown role, a data owner without an organisation, a short password, or the e-mail exists.
    """
    email = normalise_email(email)
    if role not in ROLES:
        raise UserError(f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.")
    if role == "data-owner" and not organisation:
        raise UserError("A data owner belongs to an organisation: give --organisation.")
    check_new_password(password)
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
    user = User(
        email=email,
        password_hash=hash_password(password),
        role=role,
        organisation_id=org_id,
        active=True,
        must_change_password=one_time,
    )
    db.add(user)
    db.commit()
    return user


def check_new_password(password: str) -> None:
    """Raises UserError when a password is too short or too long to accept."""
    if len(password) < 12:
        raise UserError("The password must be at least 12 characters long.")
    if len(password) > 1000:
        raise UserError("The password must be at most 1,000 characters long.")


def change_password(db: Session, user: User, current: str, new: str, confirm: str, keep: UserSession | None) -> None:
    """Replace a user's password after checking the current one; every other session of theirs is ended.

    Raises:
        UserError: The current password is wrong, the new one is too short, differs from its confirmation or is
            the same as the current one.
    """
    if not check_password(user.password_hash, current):
        raise WrongPassword("The current password is not right.")
    check_new_password(new)
    if new != confirm:
        raise UserError("The new password and its confirmation are not the same.")
    if new == current:
        raise UserError("Choose a new password, different from the current one.")
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.password_changed_at = utcnow()
    # Anyone else signed in as this user (with the old password) is signed out.
    stmt = delete(UserSession).where(UserSession.user_id == user.id)
    if keep is not None:
        stmt = stmt.where(UserSession.id != keep.id)
    db.execute(stmt)
    db.commit()

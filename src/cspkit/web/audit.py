"""The append-only audit log: every sign-in, upload, view of a restricted page, download, score and role change.

Each entry carries the keyed hash (HMAC-SHA256 with the app's secret) of its own fields and the previous entry's
hash, so deleting, editing or reordering an entry breaks the chain from that point on, and the chain cannot be
rebuilt without the secret. The database also refuses UPDATE and DELETE on the table (a trigger).
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from cspkit.web.db import AuditEntry, utcnow

__all__ = ["GENESIS", "ChainReport", "append", "export_csv", "verify"]

GENESIS = "0" * 64
_LOCK = threading.Lock()  # appends in this process are serialised; PostgreSQL also takes an advisory lock
_PG_LOCK_KEY = 0x637370  # "csp"


def _digest(
    secret: bytes, prev_hash: str, at: str, actor: str, role: str, action: str, target: str, detail: str
) -> str:
    message = "\x1f".join((prev_hash, at, actor, role, action, target, detail)).encode("utf-8")
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def append(
    db: Session, secret: bytes, *, actor: str, role: str, action: str, target: str = "", detail: str = ""
) -> AuditEntry:
    """Append one entry and commit it (in its own transaction, so an audit entry is never lost with a rollback)."""
    with _LOCK:
        if db.get_bind().dialect.name == "postgresql":
            db.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK_KEY})
        last = db.execute(select(AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)).scalar()
        prev = last or GENESIS
        at = utcnow().isoformat(timespec="microseconds") + "Z"
        entry = AuditEntry(
            at=at,
            actor=actor,
            role=role,
            action=action,
            target=target[:500],
            detail=detail,
            prev_hash=prev,
            hash=_digest(secret, prev, at, actor, role, action, target[:500], detail),
        )
        db.add(entry)
        db.commit()
    return entry


@dataclass(frozen=True)
class ChainReport:
    entries: int
    ok: bool
    first_broken: int | None = None
    reason: str = ""


def verify(db: Session, secret: bytes) -> ChainReport:
    """Check every entry's hash and link; report the first entry where the chain breaks."""
    prev = GENESIS
    n = 0
    for entry in db.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars():
        n += 1
        if entry.prev_hash != prev:
            return ChainReport(n, False, entry.id, "it does not follow the entry before it (one was deleted or moved)")
        expected = _digest(
            secret, entry.prev_hash, entry.at, entry.actor, entry.role, entry.action, entry.target, entry.detail
        )
        if not hmac.compare_digest(expected, entry.hash):
            return ChainReport(n, False, entry.id, "its content does not match its hash (it was edited)")
        prev = entry.hash
    return ChainReport(n, True)


def export_csv(entries: Iterable[AuditEntry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "at", "actor", "role", "action", "target", "detail", "prev_hash", "hash"])
    for e in entries:
        writer.writerow([e.id, e.at, e.actor, e.role, e.action, e.target, e.detail, e.prev_hash, e.hash])
    return out.getvalue()

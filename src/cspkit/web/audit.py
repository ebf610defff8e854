"""The append-only audit log: every sign-in, upload, view of a restricted page, download, score and role change.

Each entry carries the keyed hash (HMAC-SHA256 with the app's secret) of its own fields and the previous entry's
hash, so deleting, editing or reordering an entry breaks the chain from that point on, and the chain cannot be
rebuilt without the secret. The database also refuses UPDATE and DELETE on the table (a trigger).

A chain cut short at its end is still a valid chain, so the newest entry is also witnessed outside the database:
after each append its id and hash go, keyed with the secret, into a head file in the workspace's private folder
(``<workspace>/.cspkit/audit-head``). Someone who can delete rows in the database but not write that folder
cannot remove the newest entries unseen. The head only moves forward (several processes append), and may trail
the database by the entries of a process that stopped between its commit and its write: those are accepted.
"""

from __future__ import annotations

import csv
import fcntl
import hashlib
import hmac
import io
import json
import logging
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from cspkit.web.db import AuditEntry, utcnow

__all__ = ["GENESIS", "ChainReport", "append", "export_csv", "read_head", "verify"]

GENESIS = "0" * 64
_LOCK = threading.Lock()  # appends in this process are serialised; PostgreSQL also takes an advisory lock
_PG_LOCK_KEY = 0x637370  # "csp"
_LOG = logging.getLogger(__name__)


def _digest(
    secret: bytes, prev_hash: str, at: str, actor: str, role: str, action: str, target: str, detail: str
) -> str:
    message = "\x1f".join((prev_hash, at, actor, role, action, target, detail)).encode("utf-8")
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def _head_mac(secret: bytes, entry_id: int, entry_hash: str) -> str:
    return hmac.new(secret, f"audit head\x1f{entry_id}\x1f{entry_hash}".encode(), hashlib.sha256).hexdigest()


def _write_head(witness: Path, secret: bytes, entry_id: int, entry_hash: str) -> None:
    """Record the newest entry in the head file, unless it already records a newer one (owner-only, atomic)."""
    with open(witness.with_name(witness.name + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # processes append at once: the head must only move forward
        try:
            current = read_head(witness, secret)
        except ValueError:
            # an altered head file is evidence: keep it for `verify` to report, and go on recording (an audit
            # entry must never fail the request that made it)
            _LOG.warning("The audit head file %s is unreadable or altered: left for `cspkit audit verify`.", witness)
            return
        if current is not None and current[0] >= entry_id:
            return
        temporary = witness.with_name(witness.name + ".tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump({"id": entry_id, "hash": entry_hash, "mac": _head_mac(secret, entry_id, entry_hash)}, f)
        os.replace(temporary, witness)


def read_head(witness: Path, secret: bytes) -> tuple[int, str] | None:
    """The (id, hash) the head file records; None when there is no head file.

    Raises:
        ValueError: The head file was altered (its keyed hash does not match).
    """
    try:
        head = json.loads(witness.read_text())
        entry_id, entry_hash = int(head["id"]), str(head["hash"])
    except FileNotFoundError:
        return None
    except (ValueError, KeyError, TypeError):  # not JSON, or not the head's fields
        raise ValueError(f"the audit head file {witness} is not readable") from None
    if not hmac.compare_digest(_head_mac(secret, entry_id, entry_hash), str(head.get("mac", ""))):
        raise ValueError(f"the audit head file {witness} was altered")
    return entry_id, entry_hash


def append(
    db: Session,
    secret: bytes,
    *,
    actor: str,
    role: str,
    action: str,
    target: str = "",
    detail: str = "",
    witness: Path | None = None,
) -> AuditEntry:
    """Append one entry and commit it (in its own transaction, so an audit entry is never lost with a rollback);
    then record it as the newest in the ``witness`` head file, when given."""
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
        if witness is not None:
            _write_head(witness, secret, entry.id, entry.hash)
    return entry


@dataclass(frozen=True)
class ChainReport:
    entries: int
    ok: bool
    first_broken: int | None = None
    reason: str = ""


def verify(db: Session, secret: bytes, witness: Path | None = None) -> ChainReport:
    """Check every entry's hash and link, and that the newest entry the ``witness`` head file records is still
    there; report the first entry where the chain breaks."""
    prev = GENESIS
    n = 0
    try:
        head = read_head(witness, secret) if witness is not None else None
    except ValueError as exc:
        return ChainReport(0, False, None, str(exc))
    head_seen = head is None
    for entry in db.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars():
        n += 1
        if head is not None and entry.id == head[0]:
            if entry.hash != head[1]:
                return ChainReport(n, False, entry.id, "it is not the entry the head file recorded (it was replaced)")
            head_seen = True
        if entry.prev_hash != prev:
            return ChainReport(n, False, entry.id, "it does not follow the entry before it (one was deleted or moved)")
        expected = _digest(
            secret, entry.prev_hash, entry.at, entry.actor, entry.role, entry.action, entry.target, entry.detail
        )
        if not hmac.compare_digest(expected, entry.hash):
            return ChainReport(n, False, entry.id, "its content does not match its hash (it was edited)")
        prev = entry.hash
    if not head_seen and head is not None:
        return ChainReport(
            n,
            False,
            head[0],
            f"the head file records entries up to {head[0]} and this one is gone, so the newest were deleted",
        )
    return ChainReport(n, True)


def export_csv(entries: Iterable[AuditEntry]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["id", "at", "actor", "role", "action", "target", "detail", "prev_hash", "hash"])
    for e in entries:
        writer.writerow([e.id, e.at, e.actor, e.role, e.action, e.target, e.detail, e.prev_hash, e.hash])
    return out.getvalue()

"""The workspace's secret pseudonymisation key.

The key is 32 random bytes stored hex-encoded in one file readable by its owner only. Every pseudonym in the
warehouse is a keyed hash made with it, so whoever holds the key can test a guessed identifier against the
pseudonyms: keep the key file out of shared folders and backups that others can read. Losing it means new
pseudonyms no longer link to the old ones; :func:`key_fingerprint` lets the warehouse notice that.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from datetime import UTC, datetime
from pathlib import Path

from cspkit.errors import WorkspaceError

__all__ = [
    "KEY_BYTES",
    "check_key_fingerprint",
    "create_key",
    "derive_key",
    "install_key",
    "key_fingerprint",
    "key_permissions_ok",
    "load_key",
]

KEY_BYTES = 32
_FINGERPRINT_MESSAGE = b"cspkit-key-fingerprint"
_FINGERPRINT_HEX_CHARS = 16


def create_key(path: Path) -> None:
    """Write a new random key to ``path``, readable and writable by its owner only.

    Raises:
        WorkspaceError: the file already exists (a key is never overwritten, since that would break the link
            with every pseudonym already made), or it cannot be written.
    """
    path = Path(path)
    key_hex = secrets.token_bytes(KEY_BYTES).hex() + "\n"
    try:
        # O_EXCL makes "refuse to overwrite" atomic; mode 0o600 applies from the first byte written.
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        raise WorkspaceError(
            f"The key file {path} already exists; cspkit never overwrites a key, because pseudonyms made "
            "with a new key would not link to the old ones."
        ) from None
    except OSError as error:
        raise WorkspaceError(f"Cannot create the key file {path}: {error.strerror}.") from None
    with os.fdopen(fd, "w", encoding="ascii") as key_file:
        key_file.write(key_hex)
        key_file.flush()
        os.fsync(key_file.fileno())


def install_key(path: Path, key: bytes) -> Path | None:
    """Put ``key`` (restored from a backup) at ``path``, owner-only, replacing the file atomically.

    A different key already there is kept beside it as ``key.replaced-<UTC time>`` (never deleted: it may be the one
    some other copy of the data needs).

    Returns:
        Where the replaced key was kept, or None when there was none.
    """
    if len(key) != KEY_BYTES:
        raise ValueError(f"a key has {KEY_BYTES} bytes")
    path = Path(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    kept: Path | None = None
    if path.exists():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        kept = path.with_name(f"{path.name}.replaced-{stamp}")
        os.replace(path, kept)
    staging = path.with_name(path.name + ".new")
    staging.unlink(missing_ok=True)
    fd = os.open(staging, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as key_file:
        key_file.write(key.hex() + "\n")
        key_file.flush()
        os.fsync(key_file.fileno())
    os.replace(staging, path)
    return kept


def load_key(path: Path) -> bytes:
    """Read the key written by :func:`create_key`.

    A key file that others can read is still loaded; call :func:`key_permissions_ok` to warn about it.

    Raises:
        WorkspaceError: the file is missing, unreadable or not a 64-character hex key.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        raise WorkspaceError(
            f"The key file {path} is missing; without it cspkit cannot make pseudonyms that link to the "
            "ones already in the warehouse. Restore it from a safe copy."
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "it is not a text file"
        raise WorkspaceError(f"Cannot read the key file {path}: {reason}.") from None
    key_hex = text.strip()
    try:
        key = bytes.fromhex(key_hex)
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise WorkspaceError(f"The key file {path} is damaged: it should hold {KEY_BYTES * 2} hexadecimal characters.")
    return key


def key_permissions_ok(path: Path) -> bool:
    """Return False when the key file can be read or written by group or others (always True on Windows)."""
    if os.name == "nt":
        return True
    mode = Path(path).stat().st_mode
    return not mode & (stat.S_IRWXG | stat.S_IRWXO)


def key_fingerprint(key: bytes) -> str:
    """A short fingerprint of the key, safe to store beside the pseudonyms: it does not reveal the key."""
    return hmac.new(key, _FINGERPRINT_MESSAGE, hashlib.sha256).hexdigest()[:_FINGERPRINT_HEX_CHARS]


def derive_key(key: bytes, purpose: str) -> bytes:
    """A 32-byte key for one ``purpose`` (e.g. encrypting the warehouse), derived from the workspace key.

    HMAC-SHA256 of a labelled message: the workspace key is never used as is outside pseudonyms, and a derived key
    reveals neither the workspace key nor any other derived key.
    """
    if not purpose:
        raise ValueError("a purpose label is needed")
    return hmac.new(key, b"cspkit-derived-key\x1f" + purpose.encode("utf-8"), hashlib.sha256).digest()


def check_key_fingerprint(key: bytes, expected: str) -> None:
    """Check that ``key`` is the key whose fingerprint the warehouse recorded.

    Raises:
        WorkspaceError: the key differs from the one the existing pseudonyms were made with.
    """
    if not hmac.compare_digest(key_fingerprint(key), expected):
        raise WorkspaceError(
            "The key file is not the one these pseudonyms were made with: new pseudonyms will not link to "
            "old ones. Restore the original key file, or start a new warehouse."
        )

"""Key custody: a passphrase-protected backup of the workspace key, and reading it back.

Losing the key ends the workspace: the warehouse is encrypted with a key derived from it, and new pseudonyms would not
link to old ones. :func:`export_key` writes a backup file that is safe to keep apart from the workspace (a different
disk, a safe, an escrow with the data protection officer): without the passphrase it reveals nothing but the key's
fingerprint, which says which workspace it belongs to.

File format (UTF-8 JSON, one object)::

    {"format": "cspkit-key-backup", "version": 1,
     "kdf": {"name": "scrypt", "n": 131072, "r": 8, "p": 1, "salt": "<base64, 16 bytes>"},
     "cipher": "AES-256-GCM", "nonce": "<base64, 12 bytes>",
     "fingerprint": "<key fingerprint>", "ciphertext": "<base64: the 32-byte key and its 16-byte tag>"}

The key-encryption key is scrypt(passphrase, salt) (RFC 7914; n = 2^17, r = 8, p = 1, about 128 MB and half a second,
so each guess at a passphrase costs an attacker the same); the key is sealed with AES-256-GCM, whose tag also covers
every other field, so a wrong passphrase or any edit to the file is detected and refused.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import secrets
from pathlib import Path
from typing import Any

from cspkit.errors import WorkspaceError
from cspkit.privacy.keys import KEY_BYTES, key_fingerprint

__all__ = ["MIN_PASSPHRASE_CHARS", "export_key", "import_key", "read_backup_fingerprint"]

MIN_PASSPHRASE_CHARS = 12
_FORMAT = "cspkit-key-backup"
_VERSION = 1
_SCRYPT = {"n": 2**17, "r": 8, "p": 1}
_SALT_BYTES = 16
_NONCE_BYTES = 12


def _kek(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


def _associated_data(document: dict[str, Any]) -> bytes:
    """Every field but the ciphertext, canonically encoded: the GCM tag authenticates them."""
    header = {name: value for name, value in document.items() if name != "ciphertext"}
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")


def export_key(key: bytes, path: Path, passphrase: str) -> str:
    """Write ``key`` to ``path`` sealed with ``passphrase``; refuse to overwrite an existing file.

    Returns:
        The key's fingerprint, to note beside the backup.

    Raises:
        WorkspaceError: the passphrase is too short, the file exists or cannot be written.
    """
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if len(passphrase) < MIN_PASSPHRASE_CHARS:
        raise WorkspaceError(
            f"The passphrase is too short: use at least {MIN_PASSPHRASE_CHARS} characters (a few unrelated words "
            "are easy to remember and hard to guess)."
        )
    salt = secrets.token_bytes(_SALT_BYTES)
    nonce = secrets.token_bytes(_NONCE_BYTES)
    fingerprint = key_fingerprint(key)
    document: dict[str, Any] = {
        "format": _FORMAT,
        "version": _VERSION,
        "kdf": {"name": "scrypt", **_SCRYPT, "salt": base64.b64encode(salt).decode("ascii")},
        "cipher": "AES-256-GCM",
        "nonce": base64.b64encode(nonce).decode("ascii"),
        "fingerprint": fingerprint,
    }
    sealed = AESGCM(_kek(passphrase, salt, **_SCRYPT)).encrypt(nonce, key, _associated_data(document))
    document["ciphertext"] = base64.b64encode(sealed).decode("ascii")
    path = Path(path)
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    except FileExistsError:
        raise WorkspaceError(f"{path} already exists; choose a new file name for the key backup.") from None
    except OSError as error:
        raise WorkspaceError(f"Cannot write the key backup {path}: {error.strerror}.") from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(document, indent=2) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return fingerprint


def _read_document(path: Path) -> dict[str, Any]:
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WorkspaceError(f"The key backup {path} does not exist.") from None
    except (OSError, UnicodeDecodeError, ValueError):
        raise WorkspaceError(
            f"{path} is not a cspkit key backup (it is not the JSON that `cspkit key export` writes)."
        ) from None
    if not isinstance(document, dict) or document.get("format") != _FORMAT:
        raise WorkspaceError(f'{path} is not a cspkit key backup (no "format": "{_FORMAT}").')
    if document.get("version") != _VERSION:
        raise WorkspaceError(
            f"{path} is a key backup of version {document.get('version')!r}; this cspkit reads version {_VERSION}."
        )
    return document


def read_backup_fingerprint(path: Path) -> str:
    """The fingerprint recorded in a backup (readable without the passphrase)."""
    return str(_read_document(path).get("fingerprint", ""))


def import_key(path: Path, passphrase: str) -> bytes:
    """Open the backup at ``path`` with ``passphrase`` and return the key.

    Raises:
        WorkspaceError: the file is not a key backup, is damaged or edited, or the passphrase is wrong.
    """
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    document = _read_document(path)
    try:
        kdf = document["kdf"]
        if kdf["name"] != "scrypt" or document["cipher"] != "AES-256-GCM":
            raise ValueError("unsupported algorithm")
        salt = base64.b64decode(kdf["salt"], validate=True)
        nonce = base64.b64decode(document["nonce"], validate=True)
        sealed = base64.b64decode(document["ciphertext"], validate=True)
        n, r, p = int(kdf["n"]), int(kdf["r"]), int(kdf["p"])
        if not (2**14 <= n <= 2**20 and 1 <= r <= 16 and 1 <= p <= 4) or len(nonce) != _NONCE_BYTES:
            raise ValueError("parameters out of range")
    except (KeyError, TypeError, ValueError, binascii.Error):
        raise WorkspaceError(f"The key backup {path} is damaged: a field is missing or malformed.") from None
    try:
        key = AESGCM(_kek(passphrase, salt, n, r, p)).decrypt(nonce, sealed, _associated_data(document))
    except InvalidTag:
        raise WorkspaceError(
            f"The passphrase does not open the key backup {path} (or the file was altered). Nothing was changed; "
            "try again with the passphrase used for `cspkit key export`."
        ) from None
    if len(key) != KEY_BYTES or key_fingerprint(key) != document.get("fingerprint"):
        raise WorkspaceError(f"The key backup {path} is damaged: the key inside does not match its fingerprint.")
    return key

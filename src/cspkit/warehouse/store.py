"""Opening the workspace's DuckDB warehouse and small helpers over it.

The warehouse is personal data (pseudonymised, but still about people), so it is encrypted at rest with DuckDB's
database encryption (AES-256-GCM over every block, the write-ahead log and DuckDB's own spill files). Every place
that opens it goes through :func:`connect`: an in-memory DuckDB session that ATTACHes the file with the encryption
key and makes it the default catalog, so queries name tables as before.

The encryption key is derived from the workspace key with a label (:func:`cspkit.privacy.keys.derive_key`), so the
pseudonymisation key itself is never handed to DuckDB.

DuckDB writes encrypted files through OpenSSL when its ``httpfs`` extension is installed; without it (this project
installs no DuckDB extension, and none can be downloaded offline) DuckDB's bundled mbedTLS does the AES, which
DuckDB calls "unsafe" because its nonces come from a non-cryptographic random generator. ``docs/privacy.md`` sets
out what that means here. ``httpfs`` is loaded when it is present, so a site that installs it gets OpenSSL.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

import duckdb

from cspkit.errors import WorkspaceError
from cspkit.privacy.keys import derive_key
from cspkit.sql import quote_ident, sql_str
from cspkit.warehouse.schema import SCHEMA_VERSION, all_ddl

__all__ = [
    "WAREHOUSE_ALIAS",
    "connect",
    "encrypt_plain_warehouse",
    "get_meta",
    "is_encrypted",
    "query",
    "set_meta",
]

#: The catalog name of the attached warehouse inside a session (``USE``d, so tables need no prefix).
WAREHOUSE_ALIAS = "warehouse"
_ENCRYPTION_PURPOSE = "warehouse-encryption-v1"
_DUCKDB_MAGIC = b"DUCK"
_MAGIC_OFFSET = 8
#: Byte offset of the main header's flags word; bit 0 marks an encrypted database (DuckDB 1.4+ storage format).
_FLAGS_OFFSET = 20
_ENCRYPTED_FLAG = 1


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _session() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB session able to write encrypted databases."""
    con = duckdb.connect()
    try:
        con.execute("LOAD httpfs")  # OpenSSL-backed encryption when the extension is installed locally
    except duckdb.Error:
        # Offline, no extension: DuckDB's bundled mbedTLS encrypts; see the module docstring and docs/privacy.md.
        con.execute("SET force_mbedtls_unsafe = true")
    return con


def is_encrypted(path: Path) -> bool | None:
    """Whether the DuckDB file at ``path`` is encrypted; None when it is missing or not a DuckDB file."""
    try:
        with open(path, "rb") as handle:
            header = handle.read(_FLAGS_OFFSET + 8)
    except OSError:
        return None
    if header[_MAGIC_OFFSET : _MAGIC_OFFSET + 4] != _DUCKDB_MAGIC or len(header) < _FLAGS_OFFSET + 8:
        return None
    return bool(int.from_bytes(header[_FLAGS_OFFSET : _FLAGS_OFFSET + 8], "little") & _ENCRYPTED_FLAG)


def _private(path: Path) -> None:
    """Make a warehouse file readable by its owner only (no-op on Windows, where modes mean little)."""
    if os.name != "nt" and path.exists():
        with contextlib.suppress(PermissionError):
            os.chmod(path, 0o600)


def encrypt_plain_warehouse(path: Path, key: bytes) -> None:
    """Rewrite an unencrypted warehouse (made before cspkit encrypted them) as an encrypted one, in place.

    The copy is written beside the original and renamed over it, so a crash leaves the original untouched. The old
    clear-text file is unlinked; on SSDs and journalled file systems its blocks may survive until overwritten,
    which docs/privacy.md says.

    Raises:
        WorkspaceError: the file is in use by another process, or the copy fails.
    """
    target = path.with_name(path.name + ".encrypting")
    target.unlink(missing_ok=True)
    target.with_name(target.name + ".wal").unlink(missing_ok=True)
    con = _session()
    try:
        con.execute(f"ATTACH {sql_str(str(path))} AS plain")  # read-write: takes the lock, replays its WAL
        con.execute("CHECKPOINT plain")
        secret = derive_key(key, _ENCRYPTION_PURPOSE).hex()
        con.execute(f"ATTACH {sql_str(str(target))} AS encrypted (ENCRYPTION_KEY {sql_str(secret)})")
        _private(target)
        con.execute("COPY FROM DATABASE plain TO encrypted")
        # COPY FROM DATABASE recreates sequences at their start; carry the file id sequence on.
        rows = con.execute(
            "SELECT sequence_name, last_value FROM duckdb_sequences() WHERE database_name = 'plain'"
        ).fetchall()
        for name, last_value in rows:
            if last_value is not None:
                quoted = quote_ident(str(name))
                con.execute(f"DROP SEQUENCE encrypted.{quoted}")
                con.execute(f"CREATE SEQUENCE encrypted.{quoted} START {int(last_value) + 1}")
        con.execute("DETACH encrypted")
        con.execute("DETACH plain")
    except duckdb.Error as exc:
        con.close()
        target.unlink(missing_ok=True)
        raise WorkspaceError(
            f"Cannot encrypt the warehouse {path}: {_first_line(exc)}. Close any other cspkit or DuckDB session "
            "using it and run `cspkit key encrypt-warehouse`."
        ) from None
    con.close()
    os.replace(target, path)
    path.with_name(path.name + ".wal").unlink(missing_ok=True)


def connect(path: Path, key: bytes | None = None, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (and on first use create) the encrypted warehouse at ``path``, with its schema in place.

    A warehouse written before encryption is encrypted on its first read-write open; a read-only open of one is
    refused with the command that encrypts it.

    Args:
        path: the warehouse file, or ``:memory:`` for a throwaway in-memory warehouse (tests), which needs no key.
        key: the workspace key; the database key is derived from it, never the key itself.
        read_only: attach read-only (several readers may share the file).

    Raises:
        WorkspaceError: the file is not a DuckDB database, is locked by another process, or cannot be decrypted
            with this key.
    """
    path = Path(path)
    if str(path) == ":memory:":
        con = duckdb.connect()
        _create_schema(con)
        return con
    if key is None:
        raise WorkspaceError(f"The warehouse {path} is encrypted: opening it needs the workspace key.")
    if is_encrypted(path) is False:
        if read_only:
            raise WorkspaceError(
                f"The warehouse {path} is not encrypted (it was made by an older cspkit). Encrypt it with "
                "`cspkit key encrypt-warehouse` (any command that writes, such as `cspkit ingest`, also does it)."
            )
        encrypt_plain_warehouse(path, key)
    secret = derive_key(key, _ENCRYPTION_PURPOSE).hex()
    options = f"ENCRYPTION_KEY {sql_str(secret)}" + (", READ_ONLY" if read_only else "")
    con = _session()
    try:
        con.execute(f"ATTACH {sql_str(str(path))} AS {WAREHOUSE_ALIAS} ({options})")
    except duckdb.Error as exc:
        con.close()
        message = _first_line(exc)
        if "wrong encryption key" in message.lower():
            raise WorkspaceError(
                f"The warehouse {path} cannot be decrypted with this workspace's key file: it was encrypted with "
                "another key. Restore the original key (`cspkit key import FILE` from its backup)."
            ) from None
        raise WorkspaceError(f"Cannot open the warehouse {path}: {message}") from None
    con.execute(f"USE {WAREHOUSE_ALIAS}")
    # Spill files stay beside the warehouse, as when it was opened directly (DuckDB encrypts them too).
    con.execute(f"SET temp_directory = {sql_str(str(path) + '.tmp')}")
    if not read_only:
        _private(path)
        _create_schema(con)
        version = get_meta(con, "schema_version")
        if version in ("1", "2"):
            from cspkit.warehouse.features import migrate_identity_features, migrate_to_features

            con.execute("BEGIN TRANSACTION")
            if version == "1":
                migrate_to_features(con, key)
            migrate_identity_features(con, key)
            set_meta(con, "schema_version", SCHEMA_VERSION)
            con.execute("COMMIT")
    return con


def _create_schema(con: duckdb.DuckDBPyConnection) -> None:
    for ddl in all_ddl():
        con.execute(ddl)
    con.execute("INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT (key) DO NOTHING", [SCHEMA_VERSION])


def query(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
    """Run a query and return rows as dicts (results fully fetched, so the connection is free again)."""
    cur = con.execute(sql, params or [])
    names = [d[0] for d in cur.description or []]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def get_meta(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    rows = con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchall()
    return rows[0][0] if rows else None


def set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    con.execute("INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [key, value])

"""The warehouse is encrypted at rest, owner-only, and opened through one function."""

from __future__ import annotations

import os
import stat
import zlib
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from cspkit.cli import app
from cspkit.errors import WorkspaceError
from cspkit.privacy.keys import derive_key
from cspkit.warehouse.export import export_parquet
from cspkit.warehouse.schema import all_ddl
from cspkit.warehouse.store import connect, get_meta, is_encrypted, query, set_meta
from cspkit.workspace import Workspace, find_workspace

CANARY = "Zqxw-Canary-Category-7731"
# DuckDB's main header (4 KiB) and its two database headers (4 KiB each) are not encrypted: the magic, version and
# encryption flag live there. Everything after is blocks.
HEADERS = 3 * 4096


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _planted(ws: Workspace) -> None:
    con = ws.connect()
    try:
        set_meta(con, "canary", CANARY)
        con.execute("CREATE TABLE planted AS SELECT ? AS asb_type FROM range(5000)", [CANARY])
        con.execute("CHECKPOINT")
    finally:
        con.close()


def test_the_raw_warehouse_bytes_hold_no_plaintext(workspace: Workspace) -> None:
    """A planted category string, table names and the bundled ward names never appear in the file's bytes."""
    _planted(workspace)
    con = workspace.connect(read_only=True)
    try:
        ward = query(con, "SELECT ward_name FROM geography WHERE ward_name LIKE 'Leighton%' LIMIT 1")[0]["ward_name"]
        assert query(con, "SELECT count(*) AS n FROM planted")[0]["n"] == 5000  # the data is there, decrypted
    finally:
        con.close()
    files = [p for p in workspace.root.iterdir() if p.name.startswith("warehouse.duckdb")]
    raw = b"".join(p.read_bytes() for p in files)
    for plain in (CANARY, ward, "asb_incidents", "ingest_log", "key_fingerprint", "CREATE TABLE"):
        assert plain.encode() not in raw, plain
    assert is_encrypted(workspace.warehouse_path) is True
    blocks = workspace.warehouse_path.read_bytes()[HEADERS:]
    # Ciphertext does not compress; the same data in a plain DuckDB file compresses to a few per cent.
    assert len(zlib.compress(blocks)) / len(blocks) > 0.99


def test_a_plain_duckdb_file_is_recognised_as_such(tmp_path: Path) -> None:
    plain = tmp_path / "plain.duckdb"
    duckdb.connect(str(plain)).close()
    assert is_encrypted(plain) is False
    assert is_encrypted(tmp_path / "missing.duckdb") is None
    (tmp_path / "text.duckdb").write_text("not a database", encoding="utf-8")
    assert is_encrypted(tmp_path / "text.duckdb") is None


def test_a_wrong_key_cannot_open_it(workspace: Workspace) -> None:
    _planted(workspace)
    with pytest.raises(WorkspaceError, match=r"cannot be decrypted with this workspace's key.*cspkit key import"):
        connect(workspace.warehouse_path, bytes(32), read_only=True)
    # Nor can DuckDB itself, with the workspace key as is (the encryption key is derived, not the key), or none.
    for attach in (f"(ENCRYPTION_KEY '{workspace.key().hex()}', READ_ONLY)", "(READ_ONLY)"):
        con = duckdb.connect()
        with pytest.raises(duckdb.Error):
            con.execute(f"ATTACH '{workspace.warehouse_path}' AS w {attach}")
        con.close()


def test_the_cli_says_so_without_a_traceback(workspace: Workspace) -> None:
    workspace.key_path.write_text("cd" * 32 + "\n", encoding="ascii")
    result = CliRunner().invoke(app, ["status", "--workspace", str(workspace.root)])
    assert result.exit_code == 1
    assert "cannot be decrypted with this workspace's key" in result.output
    assert "Traceback" not in result.output


def test_the_encryption_key_is_derived_not_the_key() -> None:
    key = bytes(range(32))
    derived = derive_key(key, "warehouse-encryption-v1")
    assert len(derived) == 32 and derived != key
    assert derived != derive_key(key, "something-else")
    assert derived == derive_key(key, "warehouse-encryption-v1")


def _plain_warehouse(path: Path) -> None:
    """A warehouse as cspkit wrote them before encryption: plain DuckDB, schema, one loaded file."""
    con = duckdb.connect(str(path))
    for ddl in all_ddl():
        con.execute(ddl)
    for _ in range(3):
        con.execute("SELECT nextval('file_id_seq')").fetchall()
    con.execute("INSERT INTO meta VALUES ('canary', ?)", [CANARY])
    con.close()


def test_an_old_plain_warehouse_is_encrypted_on_first_write_open(workspace: Workspace) -> None:
    workspace.warehouse_path.unlink()
    _plain_warehouse(workspace.warehouse_path)
    with pytest.raises(WorkspaceError, match=r"is not encrypted.*cspkit key encrypt-warehouse"):
        workspace.connect(read_only=True)
    result = CliRunner().invoke(app, ["key", "encrypt-warehouse", "--workspace", str(workspace.root)])
    assert result.exit_code == 0, result.output
    assert "Encrypted the warehouse" in result.output
    assert is_encrypted(workspace.warehouse_path) is True
    assert CANARY.encode() not in workspace.warehouse_path.read_bytes()
    assert not list(workspace.root.glob("*.encrypting*"))
    con = workspace.connect()
    try:
        assert get_meta(con, "canary") == CANARY
        # The file id sequence carries on, so new files never reuse an old id.
        assert con.execute("SELECT nextval('file_id_seq')").fetchall()[0][0] == 4
    finally:
        con.close()
    again = CliRunner().invoke(app, ["key", "encrypt-warehouse", "--workspace", str(workspace.root)])
    assert again.exit_code == 0 and "Already encrypted" in again.output


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
def test_the_workspace_is_owner_only(workspace: Workspace) -> None:
    _planted(workspace)
    assert _mode(workspace.root) == 0o700
    for folder in (".cspkit", "outputs", "narrative"):
        assert _mode(workspace.root / folder) == 0o700, folder
    assert _mode(workspace.key_path) == 0o600
    assert _mode(workspace.warehouse_path) == 0o600
    # A workspace loosened by hand (or made by an older cspkit) is tightened when it is next opened.
    os.chmod(workspace.root, 0o755)
    os.chmod(workspace.root / "outputs", 0o755)
    os.chmod(workspace.warehouse_path, 0o644)
    find_workspace(workspace.root)
    assert _mode(workspace.root) == 0o700
    assert _mode(workspace.root / "outputs") == 0o700
    assert _mode(workspace.warehouse_path) == 0o600
    # A Parquet export is pseudonymised but unencrypted: its folder is owner-only too.
    con = workspace.connect(read_only=True)
    try:
        export_parquet(con, workspace.root.parent / "export")
    finally:
        con.close()
    assert _mode(workspace.root.parent / "export") == 0o700


def test_an_in_memory_warehouse_needs_no_key() -> None:
    con = connect(Path(":memory:"))
    try:
        assert get_meta(con, "schema_version") is not None
    finally:
        con.close()

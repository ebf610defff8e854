"""Opening the workspace's DuckDB warehouse and small helpers over it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from cspkit.errors import WorkspaceError
from cspkit.warehouse.schema import SCHEMA_VERSION, all_ddl

__all__ = ["connect", "get_meta", "query", "set_meta"]


def connect(path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (and on first use create) the warehouse at ``path``, with its schema in place.

    Raises:
        WorkspaceError: The file is not a DuckDB database or is locked by another process.
    """
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as exc:
        first = str(exc).splitlines()[0]
        raise WorkspaceError(f"Cannot open the warehouse {path}: {first}") from None
    if not read_only:
        for ddl in all_ddl():
            con.execute(ddl)
        con.execute("INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT (key) DO NOTHING", [SCHEMA_VERSION])
    return con


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

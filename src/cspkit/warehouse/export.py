"""Export the warehouse as Parquet partitioned by source and month, readable by any engine."""

from __future__ import annotations

from pathlib import Path

import duckdb

from cspkit.sources.contracts import CONTRACTS
from cspkit.sql import sql_str

__all__ = ["export_parquet"]


def export_parquet(con: duckdb.DuckDBPyConnection, out_dir: Path) -> dict[str, int]:
    """Write every source table to ``out_dir/source=<name>/month=<YYYY-MM>/*.parquet`` (Hive layout), and the
    ingest log and rejects to ``out_dir/_ingest_log.parquet`` and ``out_dir/_rejects.parquet``.

    Returns:
        Rows written per table.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    written: dict[str, int] = {}
    for name in CONTRACTS:
        n = con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0]
        written[name] = int(n)
        if not n:
            continue
        target = out_dir / f"source={name}"
        con.execute(
            f"COPY (SELECT *, coalesce(_month, 'none') AS month FROM {name}) TO {sql_str(str(target))} "
            "(FORMAT PARQUET, PARTITION_BY (month), OVERWRITE_OR_IGNORE)"
        )
    for table in ("ingest_log", "rejects"):
        n = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
        written[table] = int(n)
        con.execute(f"COPY {table} TO {sql_str(str(out_dir / f'_{table}.parquet'))} (FORMAT PARQUET)")
    return written

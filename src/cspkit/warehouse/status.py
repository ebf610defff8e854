"""What is loaded: per source and agency, files, rows, months covered and gaps, rejects, last load.

Everything describes the warehouse now: the rows held, and the rejects of the active files that still count (a
newer file of the same source and agency covering a month removes the older files' rejects of that month, see
:mod:`cspkit.ingest.loader`). ``rows_read`` is therefore rows held + rejects counted, not the sum of what each file
had when it was loaded (that stays in the ingest log).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import duckdb

from cspkit.sources.contracts import CONTRACTS
from cspkit.warehouse.store import query

__all__ = ["SourceStatus", "month_gaps", "rejects", "status"]


@dataclass
class SourceStatus:
    source: str
    agency: str
    files: int
    rows: int
    rows_read: int
    rows_rejected: int
    first_month: str | None
    last_month: str | None
    months: int
    gaps: list[str] = field(default_factory=list)
    rejects_by_reason: dict[str, int] = field(default_factory=dict)
    last_loaded: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _month_index(month: str) -> int:
    year, mon = month.split("-")
    return int(year) * 12 + int(mon) - 1


def _month_name(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_gaps(months: list[str]) -> list[str]:
    """Months missing between the first and last month given."""
    if not months:
        return []
    have = {_month_index(m) for m in months}
    return [_month_name(i) for i in range(min(have), max(have) + 1) if i not in have]


def status(con: duckdb.DuckDBPyConnection) -> list[SourceStatus]:
    """One entry per source and agency that has active files."""
    out: list[SourceStatus] = []
    groups = query(
        con,
        "SELECT source, agency, count(*) AS files, max(loaded_at) AS last_loaded "
        "FROM ingest_log WHERE active GROUP BY ALL ORDER BY source, agency",
    )
    # two queries per table, not two per agency: every command that reports findings reads this
    per_agency: dict[tuple[str, str], tuple[int, list[str]]] = {}
    for table in sorted({g["source"] for g in groups if g["source"] in CONTRACTS}):
        for agency, rows, months in con.execute(
            f"SELECT _agency, count(*), list_sort(list(DISTINCT _month) FILTER (WHERE _month IS NOT NULL)) "
            f"FROM {table} GROUP BY _agency"
        ).fetchall():
            per_agency[(table, agency)] = (int(rows), list(months or []))
    all_reasons: dict[tuple[str, str], dict[str, int]] = {}
    for table, agency, reason, n in con.execute(
        "SELECT l.source, l.agency, r.reason, count(*) FROM rejects r JOIN ingest_log l USING (file_id) "
        "WHERE l.active GROUP BY ALL ORDER BY 1, 2, 3"
    ).fetchall():
        all_reasons.setdefault((table, agency), {})[reason] = int(n)
    for g in groups:
        table = g["source"]
        if table not in CONTRACTS:
            continue
        rows, months = per_agency.get((table, g["agency"]), (0, []))
        reasons = all_reasons.get((table, g["agency"]), {})
        rejected = sum(reasons.values())
        out.append(
            SourceStatus(
                source=table,
                agency=g["agency"],
                files=int(g["files"]),
                rows=int(rows),
                rows_read=int(rows) + rejected,
                rows_rejected=rejected,
                first_month=months[0] if months else None,
                last_month=months[-1] if months else None,
                months=len(months),
                gaps=month_gaps(months),
                rejects_by_reason=reasons,
                last_loaded=str(g["last_loaded"])[:19] if g["last_loaded"] else None,
            )
        )
    return out


def rejects(
    con: duckdb.DuckDBPyConnection, source: str | None = None, limit: int | None = None
) -> list[dict[str, Any]]:
    """Rejected rows of active files: file, line, column, reason, message (values masked at ingest)."""
    sql = (
        "SELECT r.source, r.agency, r.file_name AS file, r.line, r.column_name AS column, r.reason, r.message "
        "FROM rejects r JOIN ingest_log l USING (file_id) WHERE l.active"
    )
    params: list[Any] = []
    if source:
        sql += " AND r.source = ?"
        params.append(source)
    sql += " ORDER BY r.file_name, r.line"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return query(con, sql, params)

"""What the findings were computed from: per source and agency, rows read, accepted and rejected, and months covered.

The findings stage records this beside the findings (:attr:`cspkit.findings.engine.FindingSet.data_sources`) so that
the report's data-quality appendix, the web app and anything else downstream read it from the findings run, as they
read every number, and never open the warehouse themselves.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import duckdb

from cspkit.warehouse.status import status

__all__ = ["SourceRecord", "source_records"]


@dataclass(frozen=True)
class SourceRecord:
    """One source from one agency as loaded when the findings were computed.

    Attributes:
        source: Source (contract) name, e.g. ``asb_incidents``.
        agency: The agency that supplied it.
        files: Active files.
        rows_read: Rows read = rows accepted + rows rejected (of the active files).
        rows_accepted: Rows held in the warehouse.
        rows_rejected: Rows rejected, with reasons in ``rejects_by_reason``.
        first_month: First month with data (None for sources without months).
        last_month: Last month with data.
        months: Months with data.
        gaps: Months missing between the first and the last.
        rejects_by_reason: Reject reason code -> rows.
    """

    source: str
    agency: str
    files: int
    rows_read: int
    rows_accepted: int
    rows_rejected: int
    first_month: str | None
    last_month: str | None
    months: int
    gaps: list[str] = field(default_factory=list)
    rejects_by_reason: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def source_records(con: duckdb.DuckDBPyConnection) -> list[SourceRecord]:
    """One record per source and agency with active files, in source then agency order."""
    return [
        SourceRecord(
            source=s.source,
            agency=s.agency,
            files=s.files,
            rows_read=s.rows_read,
            rows_accepted=s.rows,
            rows_rejected=s.rows_rejected,
            first_month=s.first_month,
            last_month=s.last_month,
            months=s.months,
            gaps=list(s.gaps),
            rejects_by_reason=dict(s.rejects_by_reason),
        )
        for s in status(con)
    ]

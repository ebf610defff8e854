"""What the findings were computed from: per source and agency, rows read, accepted and rejected, months covered,
and what ingest noticed beyond the rows (``ingest_notes``): area codes not in the lookup, labels not in a vocabulary
(stored as Other), columns outside the contract and columns named twice.

The findings stage records this beside the findings (:attr:`cspkit.findings.engine.FindingSet.data_sources`) so that
the report's data-quality appendix, the web app and anything else downstream read it from the findings run, as they
read every number, and never open the warehouse themselves.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import duckdb

from cspkit.warehouse.status import status

__all__ = ["SourceNote", "SourceRecord", "note_lines", "source_records"]


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
        notes: What ingest noticed in the active files, one :class:`SourceNote` per kind and column.
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
    notes: list[SourceNote] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


#: How each kind of ingest note reads in the data-quality appendix (``{rows}`` and ``{column}`` filled in).
NOTE_TEXT = {
    "unknown_code": "{column}: {rows} with an area code not in the lookup",
    "unmapped_label": "{column}: {rows} with a label not in the vocabulary, counted as Other",
    "ignored_column": "{columns} outside the contract, not loaded",
    "duplicated_column": "{columns} written twice (the first was read)",
}


def _count(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


@dataclass(frozen=True)
class SourceNote:
    """One kind of ingest note for one column of a source (summed over its active files).

    Attributes:
        note: ``unknown_code``, ``unmapped_label``, ``ignored_column`` or ``duplicated_column``.
        column: The column (for ignored and duplicated columns, the header name as written; a partner's header is
            not personal data, but the appendix prints only how many there were).
        rows: Rows concerned (0 for the column notes).
        examples: Up to three example codes (unknown codes only: labels a worker typed are never shown).
    """

    note: str
    column: str
    rows: int
    examples: list[str] = field(default_factory=list)


def note_lines(notes: list[SourceNote]) -> list[str]:
    """The notes as the appendix prints them: rows per column for codes and labels, a count of columns for the
    header notes (their names are in ``cspkit status``/``ingest`` output, not in a report that may be shared)."""
    lines = []
    for kind, text in NOTE_TEXT.items():
        these = [n for n in notes if n.note == kind]
        if kind in ("ignored_column", "duplicated_column"):
            word = "column" if kind == "ignored_column" else "column name"
            lines += [text.format(columns=_count(len(these), word))] if these else []
            continue
        for n in these:
            shown = f" (e.g. {', '.join(n.examples)})" if n.examples else ""
            lines.append(text.format(column=n.column, rows=_count(n.rows, "row")) + shown)
    return lines


def _notes(con: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], list[SourceNote]]:
    """Notes of the active files per (source, agency); none for a warehouse made before notes were kept."""
    exists = con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'ingest_notes'").fetchall()[0][0]
    if not exists:
        return {}
    rows = con.execute(
        "SELECT l.source, l.agency, n.note, n.column_name, sum(n.rows)::BIGINT, "
        "list_sort(list_distinct(flatten(list(n.examples))))[1:3] "
        "FROM ingest_notes n JOIN ingest_log l USING (file_id) WHERE l.active "
        "GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    out: dict[tuple[str, str], list[SourceNote]] = {}
    for source, agency, note, column, n, examples in rows:
        out.setdefault((source, agency), []).append(SourceNote(note, column, int(n), list(examples or [])))
    return out


def source_records(con: duckdb.DuckDBPyConnection) -> list[SourceRecord]:
    """One record per source and agency with active files, in source then agency order."""
    notes = _notes(con)
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
            notes=notes.get((s.source, s.agency), []),
        )
        for s in status(con)
    ]

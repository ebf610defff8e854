"""Messy mode: the same data written the way partner files really arrive.

Headers renamed to common aliases, UK dates (DD/MM/YYYY) in two files, one file in cp1252, one semicolon-delimited,
CRLF line endings everywhere, and a few planted bad rows that ingest must reject. Bad rows are extra rows (copies of
real rows with one value broken, under a new reference), so the ground truth of the valid rows is unchanged. Their
line numbers count the header as line 1.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["BAD_ROW_REASONS", "FileMess", "render"]

BAD_ROW_REASONS = ("bad_date", "future_date", "bad_category", "bad_lsoa", "bad_coordinates", "duplicate_ref")


@dataclass(frozen=True)
class FileMess:
    """How one file is made messy."""

    aliases: dict[str, str] = field(default_factory=dict)
    encoding: str = "utf-8"
    delimiter: str = ","
    uk_dates: bool = False
    ref_column: str = ""
    date_column: str = ""
    category_column: str = ""
    bad_rows: tuple[str, ...] = ()


_MESS: dict[str, FileMess] = {
    "asb_incidents_police.csv": FileMess(
        aliases={
            "incident_ref": "Incident Ref",
            "reported_at": "Date Reported",
            "category": "ASB Category",
            "victim_ref": "Victim ID",
            "lsoa_code": "LSOA",
        },
        ref_column="incident_ref",
        date_column="reported_at",
        category_column="category",
        bad_rows=BAD_ROW_REASONS,
    ),
    "asb_incidents_council.csv": FileMess(
        encoding="cp1252",
        uk_dates=True,
        ref_column="incident_ref",
        date_column="reported_at",
        bad_rows=("bad_date", "bad_lsoa", "duplicate_ref"),
    ),
    "domestic_abuse.csv": FileMess(
        delimiter=";",
        ref_column="incident_ref",
        date_column="reported_at",
        category_column="dash_risk",
        bad_rows=("future_date", "bad_category"),
    ),
    "marac_referrals.csv": FileMess(
        aliases={"referral_date": "Referral Date", "victim_ref": "Victim ID"},
        uk_dates=True,
        ref_column="referral_ref",
        date_column="referral_date",
        bad_rows=("bad_date", "future_date"),
    ),
    "offenders.csv": FileMess(aliases={"offender_ref": "Offender ID"}),
    "offences.csv": FileMess(
        aliases={"offender_ref": "Offender ID"}, date_column="offence_date", bad_rows=("bad_date",)
    ),
}

_DATE_COLUMNS = (
    "reported_at", "victim_dob", "referral_date", "entry_date", "exit_date", "offender_dob", "offence_date",
    "outcome_date",
)  # fmt: skip


def _uk(value: str) -> str:
    """ISO ``YYYY-MM-DD[ HH:MM]`` -> UK ``DD/MM/YYYY[ HH:MM]``; blanks stay blank."""
    if not value:
        return value
    day = f"{value[8:10]}/{value[5:7]}/{value[0:4]}"
    return day + value[10:]


def _broken(reason: str, row: dict[str, str], mess: FileMess, k: int) -> tuple[dict[str, str], str, str]:
    """A bad copy of a row: (row, column broken, value written)."""
    bad = dict(row)
    if mess.ref_column:
        bad[mess.ref_column] = f"{row[mess.ref_column]}-{k + 1}"
    with_time = len(row[mess.date_column]) > 10 if mess.date_column else False
    if reason == "bad_date":
        column = mess.date_column
        value = ("30/02/2022" if mess.uk_dates else "2022-02-30") + (" 10:15" if with_time else "")
    elif reason == "future_date":
        column = mess.date_column
        value = ("15/01/2099" if mess.uk_dates else "2099-01-15") + (" 10:15" if with_time else "")
    elif reason == "bad_category":
        column = mess.category_column
        value = "other" if column == "category" else "critical"
    elif reason == "bad_lsoa":
        column, value = "lsoa_code", "E0100001"
    elif reason == "bad_coordinates":
        column, value = "latitude", "10.0"
    else:
        raise ValueError(f"not a value-breaking reason: {reason}")
    bad[column] = value
    return bad, column, value


def render(
    tables: dict[str, list[dict[str, str]]], columns: dict[str, tuple[str, ...]], rng: np.random.Generator
) -> tuple[dict[str, bytes], dict[str, Any]]:
    """Encode every table the messy way.

    Returns:
        The bytes of each file, and the ``messy`` section of truth.json: per file its encoding, delimiter, line
        ending, date format, header aliases and bad rows (1-based line, reason code, reference, column, value).
    """
    payloads: dict[str, bytes] = {}
    files: dict[str, Any] = {}
    for name, rows in tables.items():
        mess = _MESS.get(name, FileMess())
        if mess.uk_dates:
            rows = [{c: _uk(v) if c in _DATE_COLUMNS else v for c, v in row.items()} for row in rows]
        # Distinct insertion points, away from the first rows so a duplicate always has an original before it.
        slots = sorted(int(i) for i in rng.choice(np.arange(5, len(rows)), size=len(mess.bad_rows), replace=False))
        inserts: dict[int, tuple[str, dict[str, str], str, str]] = {}
        for k, (reason, slot) in enumerate(zip(mess.bad_rows, slots, strict=True)):
            if reason == "duplicate_ref":
                original = rows[int(rng.integers(slot))]
                inserts[slot] = (reason, dict(original), mess.ref_column, original[mess.ref_column])
            else:
                source = rows[int(rng.integers(len(rows)))]
                bad, column, value = _broken(reason, source, mess, k)
                inserts[slot] = (reason, bad, column, value)
        written: list[dict[str, str]] = []
        bad_rows = []
        for i, row in enumerate(rows):
            if i in inserts:
                reason, bad, column, value = inserts[i]
                ref = bad[mess.ref_column] if mess.ref_column else bad.get("offender_ref", "")
                # line = header (1) + rows written so far + this one
                bad_rows.append(
                    {"line": len(written) + 2, "reason": reason, "ref": ref, "column": column, "value": value}
                )
                written.append(bad)
            written.append(row)

        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=mess.delimiter, lineterminator="\r\n")
        writer.writerow([mess.aliases.get(c, c) for c in columns[name]])
        writer.writerows([row[c] for c in columns[name]] for row in written)
        text = buffer.getvalue()
        payloads[name] = text.encode(mess.encoding)
        files[name] = {
            "encoding": mess.encoding,
            "delimiter": mess.delimiter,
            "line_ending": "CRLF",
            "date_format": "DD/MM/YYYY" if mess.uk_dates else "ISO",
            "header_aliases": dict(mess.aliases),
            "non_ascii_characters": sorted({ch for ch in text if ord(ch) > 127}),
            "bad_rows": bad_rows,
        }
    return payloads, {
        "note": (
            "Bad rows are extra copies of real rows with one value broken (new reference, except duplicate_ref, "
            "which repeats an earlier row exactly). Lines are 1-based and the header is line 1. All other "
            "figures in truth.json count the valid rows only, exactly as in clean mode."
        ),
        "reasons": list(BAD_ROW_REASONS),
        "files": files,
    }

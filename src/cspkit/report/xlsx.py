"""Excel flavour: the data annex, every table in full, built with XlsxWriter.

Layout: a "Contents" sheet (document details and a linked list of sheets and tables), then one sheet per
chapter that has tables, then any extra sheets (e.g. every finding). On a chapter sheet the tables are
stacked, each under a bold caption row, as Excel tables (filter buttons on every header); the first table's
header row is frozen. Columns get number formats by kind and widths from their contents.

Safety: cells that come from data are never formulas. ``strings_to_formulas``/``strings_to_urls`` are off, and
any text starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return gets a leading apostrophe so that
copying it into another program cannot turn it into a formula (CSV/formula injection). Numbers, including
negative numbers, stay numbers.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from cspkit.report.model import Column, ColumnKind, Document, Section, Table

__all__ = ["neutralise", "render_xlsx", "sheet_name"]

NUMBER_FORMATS: dict[ColumnKind, str] = {
    "int": "#,##0",
    "float": "0.00",
    "percent": "0.0%",
    "rate": "0.00",
    # the value stays a number (1.96e-19); it shows as "<0.001", or with three decimals (0.046, never "0.05")
    "pvalue": '[<0.001]"<0.001";0.000',
    "text": "@",
}
_RISKY_START = ("=", "+", "-", "@", "\t", "\r")
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
_RESERVED_SHEETS = {"history"}  # Excel refuses a sheet called "History"


def neutralise(text: str) -> str:
    """Make a text cell safe from formula injection: prefix ``'`` when it starts like a formula."""
    return "'" + text if text.startswith(_RISKY_START) else text


def sheet_name(wanted: str, taken: set[str]) -> str:
    """A valid, unique Excel sheet name (max 31 characters, none of ``[]:*?/\\``), added to ``taken``.

    ``taken`` holds lower-cased names already used, since Excel compares sheet names case-insensitively.
    """
    base = _BAD_SHEET_CHARS.sub(" ", wanted)
    base = re.sub(r"\s+", " ", base).strip().strip("'")
    if len(base) > 31:  # cut at a word, not inside one ("Violence and sexual", not "...sexual of")
        cut = base[:31]
        base = cut.rsplit(" ", 1)[0] if " " in cut[10:] else cut
    base = base.strip() or "Sheet"
    name, n = base, 1
    while name.lower() in taken or name.lower() in _RESERVED_SHEETS:
        n += 1
        suffix = f" ({n})"
        name = base[: 31 - len(suffix)].rstrip() + suffix
    taken.add(name.lower())
    return name


class _Formats:
    """The workbook's cell formats, created once."""

    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        base = {"font_name": "Arial", "font_size": 10}
        self.title = wb.add_format({**base, "bold": True, "font_size": 14, "font_color": "#1D3A5F"})
        self.caption = wb.add_format({**base, "bold": True, "font_size": 11})
        self.marking = wb.add_format({**base, "bold": True, "font_color": "#FFFFFF", "bg_color": "#222222"})
        self.small = wb.add_format({**base, "italic": True, "font_color": "#4A4A4A", "font_size": 9})
        self.link = wb.add_format({**base, "font_color": "#1A4F8B", "underline": 1})
        self.label = wb.add_format({**base, "bold": True})
        self.text = wb.add_format(base)
        self.kinds: dict[ColumnKind, Format] = {
            kind: wb.add_format({**base, "num_format": fmt}) for kind, fmt in NUMBER_FORMATS.items()
        }


def _write_cell(ws: Worksheet, row: int, col: int, value: Any, kind: ColumnKind, fmt: _Formats) -> None:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        ws.write_blank(row, col, None, fmt.kinds[kind])
    elif isinstance(value, bool):
        ws.write_string(row, col, "Yes" if value else "No", fmt.text)
    elif isinstance(value, int | float):
        ws.write_number(row, col, value, fmt.kinds[kind] if kind != "text" else fmt.text)
    else:
        ws.write_string(row, col, neutralise(str(value)), fmt.text)


def _unique_headers(columns: Sequence[Column]) -> list[str]:
    """Excel table headers must be unique (case-insensitive) and non-empty."""
    seen: set[str] = set()
    out = []
    for col in columns:
        label = (col.label or col.key).strip() or "Column"
        name, n = label, 1
        while name.lower() in seen:
            n += 1
            name = f"{label} ({n})"
        seen.add(name.lower())
        out.append(name)
    return out


class _SheetWriter:
    """Writes stacked tables down one sheet and tracks column widths."""

    def __init__(self, ws: Worksheet, fmt: _Formats, table_names: set[str]) -> None:
        self.ws = ws
        self.fmt = fmt
        self.row = 0
        self.widths: dict[int, float] = {}
        self.frozen = False
        self.table_names = table_names

    def _width(self, col: int, text: str) -> None:
        self.widths[col] = max(self.widths.get(col, 8.0), min(len(text) + 2, 60))

    def text_row(self, text: str, cell_format: Format) -> None:
        self.ws.write_string(self.row, 0, neutralise(text), cell_format)
        self.row += 1

    def table(
        self,
        columns: Sequence[Column],
        rows: Sequence[Mapping[str, Any]],
        caption: str,
        notes: Sequence[str] = (),
    ) -> int:
        """Write one captioned table; return the row of its caption."""
        ws, fmt = self.ws, self.fmt
        caption_row = self.row
        self.text_row(caption, fmt.caption)
        header_row = self.row
        first, last = header_row, header_row + max(len(rows), 1)
        headers = _unique_headers(columns)
        name = f"Table_{len(self.table_names) + 1}"
        self.table_names.add(name)
        ws.add_table(
            first,
            0,
            last,
            max(len(columns) - 1, 0),
            {
                "name": name,
                "style": "Table Style Light 9",
                "autofilter": True,
                "columns": [{"header": neutralise(h)} for h in headers],
            },
        )
        for c, (col, header) in enumerate(zip(columns, headers, strict=True)):
            self._width(c, header)
            for r, row in enumerate(rows, start=header_row + 1):
                value = row.get(col.key)
                _write_cell(ws, r, c, value, col.kind, fmt)
                self._width(c, str(value) if value is not None else "")
        if not self.frozen:
            ws.freeze_panes(header_row + 1, 0)
            self.frozen = True
        self.row = last + 1
        for note in notes:
            if note:
                self.text_row(note, fmt.small)
        self.row += 1
        return caption_row

    def finish(self) -> None:
        for col, width in self.widths.items():
            self.ws.set_column(col, col, width)


def _page_setup(ws: Worksheet, marking: str) -> None:
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    safe = marking.replace("&", "&&")
    ws.set_header(f"&C&B{safe}")
    ws.set_footer(f"&C&B{safe}&RPage &P of &N")


def _chapter_tables(section: Section) -> list[Table]:
    return list(section.tables())


def render_xlsx(
    doc: Document,
    path: str | Path,
    extra_sheets: Mapping[str, tuple[Sequence[Column], Sequence[Mapping[str, Any]]]] | None = None,
) -> Path:
    """Write the Excel data annex.

    Args:
        doc: The document; every table in it is written in full.
        path: Where to write the .xlsx.
        extra_sheets: More sheets, ``name -> (columns, rows)``, e.g. ``{"Findings": (cols, rows)}``.

    Returns:
        The path written.
    """
    doc.validate()
    path = Path(path)
    extra_sheets = extra_sheets or {}
    wb = xlsxwriter.Workbook(
        str(path), {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    )
    wb.set_properties({"title": f"{doc.title}: data annex", "author": doc.partnership, "keywords": doc.marking})
    fmt = _Formats(wb)
    taken: set[str] = set()
    table_names: set[str] = set()
    numbers = doc.numbers()

    contents = wb.add_worksheet(sheet_name("Contents", taken))
    _page_setup(contents, doc.marking)

    # Plan the sheets first so the contents can link to them.
    chapters = [(s, _chapter_tables(s)) for s in doc.sections]
    planned = [(sheet_name(s.xlsx_sheet or s.title, taken), s, tables) for s, tables in chapters if tables]
    extra_names = [(sheet_name(name, taken), name) for name in extra_sheets]

    links: list[tuple[str, str, int]] = []  # (sheet, text, row)
    for name, section, tables in planned:
        ws = wb.add_worksheet(name)
        _page_setup(ws, doc.marking)
        writer = _SheetWriter(ws, fmt, table_names)
        writer.text_row(doc.marking, fmt.marking)
        writer.text_row(section.title, fmt.title)
        writer.row += 1
        for table in tables:
            caption = f"Table {numbers[id(table)]}: {table.caption}"
            prov = table.provenance.text() if table.provenance else ""
            at = writer.table(table.columns, table.rows, caption, [table.note, prov])
            links.append((name, caption, at))
        writer.finish()
    for topic, series in doc.monthly.items():
        name = sheet_name(f"Monthly {topic}", taken)
        at = _monthly_sheet(wb, name, topic, series, doc.marking, fmt, table_names)
        links.append((name, f"Monthly series: {topic.lower()} (with chart)", at))
    for name, original in extra_names:
        columns, rows = extra_sheets[original]
        ws = wb.add_worksheet(name)
        _page_setup(ws, doc.marking)
        writer = _SheetWriter(ws, fmt, table_names)
        writer.text_row(doc.marking, fmt.marking)
        writer.row += 1
        at = writer.table(list(columns), list(rows), original)
        links.append((name, original, at))
        writer.finish()

    _contents(contents, doc, fmt, links)
    wb.close()
    return path


def _monthly_sheet(
    wb: xlsxwriter.Workbook,
    name: str,
    topic: str,
    series: Mapping[str, Sequence[tuple[str, float]]],
    marking: str,
    fmt: _Formats,
    table_names: set[str],
) -> int:
    """One topic's monthly series as a table (a month per row, a series per column) and a native line chart.

    The chart is an Excel chart drawn from the cells, so it stays editable and follows any correction to them.
    """
    ws = wb.add_worksheet(name)
    _page_setup(ws, marking)
    months = sorted({m for values in series.values() for m, _ in values})
    titles = list(series)
    columns = [Column("month", "Month")] + [Column(f"s{i}", title, "int") for i, title in enumerate(titles)]
    rows = []
    lookup = [dict(values) for values in series.values()]
    for month in months:
        row: dict[str, Any] = {"month": month}
        for i, values in enumerate(lookup):
            row[f"s{i}"] = values.get(month)
        rows.append(row)
    writer = _SheetWriter(ws, fmt, table_names)
    writer.text_row(marking, fmt.marking)
    writer.text_row(f"Monthly series: {topic}", fmt.title)
    writer.row += 1
    at = writer.table(columns, rows, f"{topic}: counts by month")
    header_row = at + 1
    first, last = header_row + 1, header_row + len(months)
    chart = wb.add_chart({"type": "line"})
    shown = titles if len(titles) <= 6 else titles[:1]  # a readable chart: the total, or up to six series
    for title in shown:
        col = titles.index(title) + 1
        chart.add_series(
            {
                "name": [name, header_row, col],
                "categories": [name, first, 0, last, 0],
                "values": [name, first, col, last, col],
                "marker": {"type": "none"},
            }
        )
    chart.set_title({"name": f"{topic}: monthly counts", "name_font": {"size": 11}})
    chart.set_x_axis({"name": "Month", "num_font": {"rotation": -45, "size": 8}})
    chart.set_y_axis({"name": "Count", "min": 0})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 720, "height": 340})
    ws.insert_chart(at, len(columns) + 1, chart)
    writer.finish()
    return at


def _contents(ws: Worksheet, doc: Document, fmt: _Formats, links: list[tuple[str, str, int]]) -> None:
    ws.write_string(0, 0, neutralise(doc.marking), fmt.marking)
    ws.write_string(1, 0, neutralise(f"{doc.title}: data annex"), fmt.title)
    details = [
        ("Partnership", doc.partnership),
        ("Period", doc.period_label),
        ("Protective marking", doc.marking),
        ("Edition", "Public" if doc.edition == "public" else "Restricted"),
        ("Published", doc.date),
    ]
    row = 3
    for label, value in details:
        ws.write_string(row, 0, label, fmt.label)
        ws.write_string(row, 1, neutralise(value), fmt.text)
        row += 1
    row += 1
    ws.write_string(row, 0, "Sheet", fmt.label)
    ws.write_string(row, 1, "Table", fmt.label)
    row += 1
    for sheet, text, at in links:
        quoted = sheet.replace("'", "''")
        ws.write_url(row, 0, f"internal:'{quoted}'!A{at + 1}", fmt.link, string=neutralise(sheet))
        ws.write_string(row, 1, neutralise(text), fmt.text)
        row += 1
    if doc.attribution:
        row += 1
        ws.write_string(row, 0, "Data sources and licences", fmt.label)
        for line in doc.attribution:
            row += 1
            ws.write_string(row, 0, neutralise(line), fmt.text)
    ws.set_column(0, 0, 28)
    ws.set_column(1, 1, 80)

"""The format-neutral report tree.

A :class:`Document` is a tree of :class:`Section` objects holding blocks (paragraphs, indicator tiles, tables,
figures, callouts). It knows nothing about HTML, PDF, Word or Excel: one renderer per format
(``html.py``, ``pdf.py``, ``docx.py``, ``xlsx.py``) walks the same tree, so the formats cannot drift apart.

Conventions every renderer relies on:

* Section nesting gives the heading level: top-level sections are chapters (HTML ``h2``, Word "Heading 1"),
  their subsections the next level down, and so on (at most three levels).
* Table cells hold plain Python values. Numbers stay numbers; a ``percent`` column holds a *fraction*
  (0.125 is shown as 12.5%); ``None`` means "no value" and is shown as a dash. A string in a numeric column
  (e.g. ``"<5"`` for a suppressed count) is shown as it is.
* A :class:`Figure` carries an SVG (used by HTML and PDF) and a PNG (used by Word). Charts from
  :mod:`cspkit.report.charts` provide both.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

__all__ = [
    "Block",
    "Callout",
    "Column",
    "ColumnKind",
    "Document",
    "Figure",
    "Paragraph",
    "Provenance",
    "Section",
    "Status",
    "Table",
    "Tile",
    "Tiles",
    "format_value",
]

Status = Literal["red", "amber", "green", "neutral"]
ColumnKind = Literal["text", "int", "float", "percent", "rate", "pvalue"]
CalloutKind = Literal["caution", "info", "key"]
Edition = Literal["public", "restricted"]


@dataclass
class Provenance:
    """Where the numbers in a block come from; shown as a small "Source:" line under it.

    Attributes:
        sources: Data sources in words, e.g. ``"Bedfordshire Police street-level crime (data.police.uk)"``.
        finding_ids: Ids of the findings the block shows, so a reader can trace every number.
        definition: How the numbers were computed, in one or two sentences.
    """

    sources: list[str] = field(default_factory=list)
    finding_ids: list[str] = field(default_factory=list)
    definition: str = ""

    def text(self) -> str:
        """The one-line "Source: ..." text shared by every format."""
        parts = []
        if self.sources:
            parts.append("Source: " + "; ".join(self.sources) + ".")
        if self.definition:
            parts.append(self.definition.rstrip(".") + ".")
        if self.finding_ids:
            parts.append("Findings: " + ", ".join(self.finding_ids) + ".")
        return " ".join(parts)


@dataclass
class Paragraph:
    """Narrative text in a small Markdown subset: **bold**, *italic*, bullet and numbered lists, links.

    Raw HTML in the text is shown as text, never interpreted; images are not supported. ``provenance`` names the
    findings the paragraph's numbers come from (printed small below it).
    """

    text: str
    provenance: Provenance | None = None


@dataclass
class Tile:
    """One indicator tile: a label, a headline value and a short detail line.

    ``status`` gives a red/amber/green rating; renderers always print its name as text too, so the rating
    never depends on colour alone.
    """

    label: str
    value: str
    detail: str = ""
    status: Status | None = None


@dataclass
class Tiles:
    """A row (or grid) of indicator tiles."""

    tiles: list[Tile]
    provenance: Provenance | None = None


@dataclass
class Column:
    """A table column: the row-dict key, the header label and how to format its values."""

    key: str
    label: str
    kind: ColumnKind = "text"

    @property
    def numeric(self) -> bool:
        """True for columns whose values are numbers (right-aligned, number formats)."""
        return self.kind != "text"


NO_VALUE = "–"


def format_value(value: Any, kind: ColumnKind = "text") -> str:
    """Format one table cell for the printed formats (HTML, PDF, Word).

    ``int`` as ``1,234``; ``float`` and ``rate`` with two decimals; ``percent`` (a fraction) as ``12.5%``;
    ``pvalue`` as ``<0.001`` or three decimals; ``None`` and NaN as an en dash; strings (e.g. ``"<5"``) as they are.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NO_VALUE
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, str) or not isinstance(value, int | float) or kind == "text":
        return str(value)
    if kind == "int":
        return f"{round(value):,}"
    if kind == "percent":
        return f"{value * 100:,.1f}%"
    if kind == "pvalue":  # never 0.00 for a tiny p, never 0.05 for 0.046
        return "<0.001" if value < 0.001 else f"{value:.3f}"
    return f"{value:,.2f}"


@dataclass
class Table:
    """A data table.

    Printed formats (PDF, Word) show at most ``print_max_rows`` rows with a note pointing to the Excel annex,
    which always holds every row.

    Attributes:
        columns: The columns, in order.
        rows: One dict per row, keyed by ``Column.key``.
        caption: Table title (required for accessibility; printed as "Table N: caption").
        note: Free-text note printed under the table.
        print_max_rows: Row limit for printed formats.
        id: Anchor id (derived from the caption when empty).
        provenance: Where the numbers come from.
    """

    columns: list[Column]
    rows: list[dict[str, Any]]
    caption: str = ""
    note: str = ""
    print_max_rows: int = 25
    id: str = ""
    provenance: Provenance | None = None

    @property
    def truncated(self) -> bool:
        """Whether printed formats cut this table."""
        return len(self.rows) > self.print_max_rows

    def print_rows(self) -> list[dict[str, Any]]:
        """The rows printed formats show."""
        return self.rows[: self.print_max_rows]

    def truncation_note(self) -> str:
        """The note printed formats add under a cut table ("" when nothing was cut)."""
        if not self.truncated:
            return ""
        return f"Top {self.print_max_rows} of {len(self.rows)} rows shown; full table in the Excel annex."


@dataclass
class Figure:
    """A chart or map.

    Attributes:
        svg: The SVG document (inlined in HTML and PDF).
        png: PNG bytes, needed by the Word renderer (python-docx cannot place SVG). Charts from
            :mod:`cspkit.report.charts` always provide it.
        alt: Alternative text describing what the figure shows (required).
        caption: Figure title, printed as "Figure N: caption".
        provenance: Where the numbers come from.
        id: Anchor id (optional).
    """

    svg: str
    png: bytes | None
    alt: str
    caption: str = ""
    provenance: Provenance | None = None
    id: str = ""
    #: Print (PDF) the PNG instead of the SVG: for maps, whose thousands of boundary points make the PDF slow.
    raster_in_print: bool = False
    #: For a map: what it shows of each area, as its legend says it (a class such as "5 – 9", or "not published").
    areas: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_chart(cls, chart: _ChartLike, caption: str = "", provenance: Provenance | None = None) -> Figure:
        """Wrap a chart image (anything with ``svg``, ``png`` and ``alt``) as a figure."""
        return cls(svg=chart.svg, png=chart.png, alt=chart.alt, caption=caption, provenance=provenance)


class _ChartLike(Protocol):
    @property
    def svg(self) -> str: ...
    @property
    def png(self) -> bytes | None: ...
    @property
    def alt(self) -> str: ...


@dataclass
class Callout:
    """A boxed note: ``caution`` (data caveats), ``info`` (context) or ``key`` (key finding)."""

    kind: CalloutKind
    title: str
    text: str


Block = Paragraph | Tiles | Table | Figure | Callout


@dataclass
class Section:
    """A chapter or sub-section. Its depth in the tree gives its heading level.

    Attributes:
        id: Anchor id, unique in the document (letters, digits, ``-`` and ``_``).
        title: Heading text.
        blocks: Content, in order.
        subsections: Child sections, after the blocks.
        xlsx_sheet: Name of this chapter's sheet in the Excel annex (top-level sections only; derived from the
            title when None).
    """

    id: str
    title: str
    blocks: list[Block] = field(default_factory=list)
    subsections: list[Section] = field(default_factory=list)
    xlsx_sheet: str | None = None

    def walk(self, depth: int = 1) -> Iterator[tuple[int, Section]]:
        """Yield ``(depth, section)`` for this section and all below it, in reading order."""
        yield depth, self
        for sub in self.subsections:
            yield from sub.walk(depth + 1)

    def tables(self) -> Iterator[Table]:
        """Every table in this section and its subsections, in reading order."""
        for _, section in self.walk():
            for block in section.blocks:
                if isinstance(block, Table):
                    yield block


@dataclass
class Document:
    """A whole report.

    Attributes:
        title: e.g. ``"Partnership Strategic Assessment 2023"``.
        partnership: e.g. ``"Safer Luton Partnership"``.
        period_label: e.g. ``"May 2022 to April 2023"``.
        marking: Protective marking printed at top and bottom of every page, e.g. ``"OFFICIAL"``.
        edition: ``"public"`` or ``"restricted"``.
        date: Publication date, ISO ``YYYY-MM-DD``.
        sections: The chapters.
        attribution: Licence and attribution lines (e.g. Open Government Licence statements).
        glossary: ``(term, meaning)`` pairs.
        monthly: Monthly series per topic (the Excel annex writes one sheet and a native chart per topic).
    """

    title: str
    partnership: str
    period_label: str
    marking: str
    edition: Edition
    date: str
    sections: list[Section] = field(default_factory=list)
    attribution: list[str] = field(default_factory=list)
    glossary: list[tuple[str, str]] = field(default_factory=list)
    #: Monthly series by topic for the data annex: topic -> series title -> [(YYYY-MM, value), ...].
    monthly: dict[str, dict[str, list[tuple[str, float]]]] = field(default_factory=dict)

    def walk(self) -> Iterator[tuple[int, Section]]:
        """Yield ``(depth, section)`` for every section in reading order (chapters have depth 1)."""
        for section in self.sections:
            yield from section.walk(1)

    def tables(self) -> Iterator[tuple[Section, Table]]:
        """Yield ``(chapter, table)`` for every table, in reading order (for the Excel annex)."""
        for chapter in self.sections:
            for table in chapter.tables():
                yield chapter, table

    def numbers(self) -> dict[int, int]:
        """Tables and figures numbered separately in reading order, keyed by ``id(block)``.

        Every renderer prints "Table N" / "Figure N" from this, so the numbers agree across formats.
        """
        numbers: dict[int, int] = {}
        counts = {Table: 0, Figure: 0}
        for _, section in self.walk():
            for block in section.blocks:
                if isinstance(block, Table | Figure):
                    counts[type(block)] += 1
                    numbers[id(block)] = counts[type(block)]
        return numbers

    def validate(self) -> None:
        """Check what renderers rely on: unique ids, nesting depth, required captions and alt text.

        Raises:
            ValueError: naming the first problem found.
        """
        # Ids the HTML renderer uses for its own elements.
        seen: set[str] = {"cover", "main", "contents-h", "glossary", "attribution"}
        for depth, section in self.walk():
            if depth > 3:
                raise ValueError(f"section {section.id!r} is nested {depth} deep; at most 3 levels")
            if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", section.id) or section.id in seen:
                raise ValueError(f"section id {section.id!r} is invalid, repeated or reserved")
            seen.add(section.id)
            for block in section.blocks:
                if isinstance(block, Figure) and not block.alt.strip():
                    raise ValueError(f"a figure in section {section.id!r} has no alt text")
                if isinstance(block, Table):
                    if not block.caption.strip():
                        raise ValueError(f"a table in section {section.id!r} has no caption")
                    if block.print_max_rows < 1:
                        raise ValueError(f"table {block.caption!r}: print_max_rows must be at least 1")

    def to_dict(self) -> dict[str, Any]:
        """The document as JSON-ready dicts; blocks carry a ``"type"`` key and PNGs are base64 text."""
        return {
            "title": self.title,
            "partnership": self.partnership,
            "period_label": self.period_label,
            "marking": self.marking,
            "edition": self.edition,
            "date": self.date,
            "sections": [_section_dict(s) for s in self.sections],
            "attribution": list(self.attribution),
            "glossary": [[term, meaning] for term, meaning in self.glossary],
        }


def _section_dict(section: Section) -> dict[str, Any]:
    return {
        "id": section.id,
        "title": section.title,
        "xlsx_sheet": section.xlsx_sheet,
        "blocks": [_block_dict(b) for b in section.blocks],
        "subsections": [_section_dict(s) for s in section.subsections],
    }


def _provenance_dict(p: Provenance | None) -> dict[str, Any] | None:
    if p is None:
        return None
    return {"sources": list(p.sources), "finding_ids": list(p.finding_ids), "definition": p.definition}


def _block_dict(block: Block) -> dict[str, Any]:
    if isinstance(block, Paragraph):
        return {"type": "paragraph", "text": block.text}
    if isinstance(block, Tiles):
        return {
            "type": "tiles",
            "tiles": [
                {"label": t.label, "value": t.value, "detail": t.detail, "status": t.status} for t in block.tiles
            ],
            "provenance": _provenance_dict(block.provenance),
        }
    if isinstance(block, Table):
        return {
            "type": "table",
            "id": block.id,
            "caption": block.caption,
            "note": block.note,
            "print_max_rows": block.print_max_rows,
            "columns": [{"key": c.key, "label": c.label, "kind": c.kind} for c in block.columns],
            "rows": [dict(r) for r in block.rows],
            "provenance": _provenance_dict(block.provenance),
        }
    if isinstance(block, Figure):
        return {
            "type": "figure",
            "id": block.id,
            "caption": block.caption,
            "alt": block.alt,
            "svg": block.svg,
            "png_base64": base64.b64encode(block.png).decode("ascii") if block.png is not None else None,
            "provenance": _provenance_dict(block.provenance),
        }
    return {"type": "callout", "kind": block.kind, "title": block.title, "text": block.text}

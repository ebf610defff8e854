"""Word flavour: an editable .docx built with python-docx.

Chapters use Word's own "Heading 1/2/3" styles, so the navigation pane works and the table-of-contents field
after the cover fills itself in: Word cannot be made to compute page numbers from Python, so the document asks
Word to update fields when it is opened (``w:updateFields``); LibreOffice updates it from Tools > Update.
The protective marking is in the header and footer, with "Page N of M" fields in the footer.

Figures are placed from their PNG bytes: python-docx cannot embed SVG, and no SVG rasteriser is installed, so
a :class:`~cspkit.report.model.Figure` without ``png`` is refused with a ``ValueError``. Charts from
:mod:`cspkit.report.charts` always carry a PNG.

The body font is Arial (present on council Windows and Mac machines; LibreOffice substitutes Liberation Sans),
unlike the PDF, which embeds DejaVu Sans.
"""

from __future__ import annotations

import io
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import docx
from docx.document import Document as DocxDocument
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Mm, Pt, RGBColor
from docx.table import _Cell
from docx.text.paragraph import Paragraph as DocxParagraph

from cspkit.report.html import markdown_to_html
from cspkit.report.model import (
    Block,
    Callout,
    Document,
    Figure,
    Paragraph,
    Provenance,
    Table,
    Tiles,
    format_value,
)

__all__ = ["render_docx"]

FONT = "Arial"
BRAND = RGBColor(0x1D, 0x3A, 0x5F)
MUTED = RGBColor(0x4A, 0x4A, 0x4A)
STATUS_FILL = {"red": "F6D5D1", "amber": "FBE7C2", "green": "D4EDDA", "neutral": "E6E6E6"}
STATUS_TEXT = {"red": "Red", "amber": "Amber", "green": "Green", "neutral": "No rating"}
CALLOUT_FILL = {"caution": "FBECEB", "info": "E8EEF5", "key": "E9F4EA"}
CALLOUT_NAME = {"caution": "Caution", "info": "Note", "key": "Key finding"}
# Elements that CT_Settings (ECMA-376) places after w:updateFields.
_AFTER_UPDATE_FIELDS = {
    "hdrShapeDefaults",
    "footnotePr",
    "endnotePr",
    "compat",
    "docVars",
    "rsids",
    "mathPr",
    "attachedSchema",
    "themeFontLang",
    "clrSchemeMapping",
    "doNotIncludeSubdocsInStats",
    "doNotAutoCompressPictures",
    "forceUpgrade",
    "captions",
    "readModeInkLockDown",
    "smartTagType",
    "schemaLibrary",
    "shapeDefaults",
    "doNotEmbedSmartTags",
    "decimalSymbol",
    "listSeparator",
}


def render_docx(doc: Document, path: str | Path) -> Path:
    """Render a document to a Word file.

    Args:
        doc: The document. Every figure must carry ``png`` bytes.
        path: Where to write the .docx.

    Returns:
        The path written.

    Raises:
        ValueError: if the document is invalid or a figure has no PNG.
    """
    doc.validate()
    missing = [f.caption or f.alt for _, s in doc.walk() for f in s.blocks if isinstance(f, Figure) and not f.png]
    if missing:
        raise ValueError(f"Word output needs PNG images; figures without one: {missing}")
    path = Path(path)
    out = docx.Document()
    _setup(out, doc)
    _cover(out, doc)
    _contents(out, doc)
    if doc.glossary:  # at the front, as in the model assessment: the reader meets the terms before the text
        out.add_heading("Glossary", level=1)
        for term, meaning in doc.glossary:
            p = out.add_paragraph()
            p.add_run(term + ": ").bold = True
            p.add_run(meaning)
    numbers = doc.numbers()
    first = True
    for depth, section in doc.walk():
        heading = out.add_heading(section.title, level=depth)
        if depth == 1 and not first:
            heading.paragraph_format.page_break_before = True
        first = False
        for block in section.blocks:
            _block(out, block, numbers)
    if doc.attribution:
        heading = out.add_heading("Data sources and licences", level=1)
        heading.paragraph_format.page_break_before = True
        for line in doc.attribution:
            out.add_paragraph(line, style="List Bullet")
    out.save(str(path))
    return path


# --- document set-up ---------------------------------------------------------------------------------------


def _setup(out: DocxDocument, doc: Document) -> None:
    props = out.core_properties
    props.title = doc.title
    props.author = doc.partnership
    props.subject = f"{doc.title}, {doc.period_label}"
    props.keywords = doc.marking
    props.category = doc.marking

    normal = out.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(10.5)
    _east_asian_font(normal.element, FONT)
    for level, size in ((1, 18), (2, 14), (3, 12)):
        style = out.styles[f"Heading {level}"]
        style.font.name = FONT
        style.font.size = Pt(size)
        style.font.color.rgb = BRAND
        _east_asian_font(style.element, FONT)
    for name in ("Title", "Caption", "TOC Heading"):
        out.styles[name].font.name = FONT
        _east_asian_font(out.styles[name].element, FONT)
    out.styles["Caption"].font.size = Pt(9.5)
    out.styles["Caption"].font.color.rgb = RGBColor(0x1B, 0x1B, 0x1B)

    section = out.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.left_margin = section.right_margin = Mm(18)
    section.top_margin, section.bottom_margin = Mm(22), Mm(20)

    header = section.header.paragraphs[0]
    _marking_run(header, doc.marking)
    footer = section.footer
    _marking_run(footer.paragraphs[0], doc.marking)
    pages = footer.add_paragraph()
    pages.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for part in ("Page ", "PAGE", " of ", "NUMPAGES"):
        if part.isupper():
            _field(pages, part, "1")
        else:
            run = pages.add_run(part)
            run.font.size = Pt(8)

    # Ask Word to refresh fields (the contents, page counts) when the file is opened. The schema fixes the
    # order of settings, so insert it before the first setting that must follow it.
    update = OxmlElement("w:updateFields")
    update.set(qn("w:val"), "true")
    settings = out.settings.element
    later = next((el for el in settings if el.tag.split("}")[-1] in _AFTER_UPDATE_FIELDS), None)
    if later is None:
        settings.append(update)
    else:
        later.addprevious(update)


def _east_asian_font(style_element: object, name: str) -> None:
    rpr = style_element.get_or_add_rPr()  # type: ignore[attr-defined]
    fonts = rpr.get_or_add_rFonts()
    for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attr), name)


def _marking_run(paragraph: DocxParagraph, marking: str) -> None:
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run(marking)
    run.bold = True
    run.font.size = Pt(9)


def _field(paragraph: DocxParagraph, instruction: str, placeholder: str) -> None:
    """Append a complex field (e.g. PAGE, NUMPAGES, TOC) with placeholder text Word replaces on update."""

    def fld_char(kind: str) -> Any:
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        if kind == "begin":
            el.set(qn("w:dirty"), "true")
        return el

    paragraph.add_run()._r.append(fld_char("begin"))
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    paragraph.add_run()._r.append(instr)
    paragraph.add_run()._r.append(fld_char("separate"))
    shown = paragraph.add_run(placeholder)
    shown.font.size = Pt(8) if instruction in ("PAGE", "NUMPAGES") else None
    paragraph.add_run()._r.append(fld_char("end"))


def _cover(out: DocxDocument, doc: Document) -> None:
    spacer = out.add_paragraph()
    spacer.paragraph_format.space_before = Cm(5)
    p = out.add_paragraph()
    run = p.add_run(doc.partnership)
    run.font.size, run.font.color.rgb = Pt(16), BRAND
    title = out.add_paragraph(doc.title, style="Title")
    title.paragraph_format.space_after = Pt(12)
    p = out.add_paragraph()
    run = p.add_run(doc.period_label)
    run.font.size = Pt(14)
    meta = out.add_paragraph()
    meta.paragraph_format.space_before = Cm(4)
    edition = "Public" if doc.edition == "public" else "Restricted"
    for label, value in (("Protective marking", doc.marking), ("Edition", edition), ("Published", doc.date)):
        meta.add_run(f"{label}: ").font.color.rgb = MUTED
        meta.add_run(value).bold = True
        meta.add_run().add_break()
    meta.runs[-1].add_break(WD_BREAK.PAGE)


def _contents(out: DocxDocument, doc: Document) -> None:
    """A real TOC field (Word refreshes it on open: updateFields is set) whose result already lists the headings,
    so the contents read correctly even before the field is updated (page numbers follow on update)."""
    out.add_paragraph("Contents", style="TOC Heading")
    entries = [("Glossary", 1)] if doc.glossary else []
    entries += [(section.title, depth) for depth, section in doc.walk() if depth <= 2]
    first = out.add_paragraph(style=_toc_style(out, 1))
    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    begin.set(qn("w:dirty"), "true")
    first.add_run()._r.append(begin)
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = ' TOC \\o "1-3" \\h \\z \\u '
    first.add_run()._r.append(instr)
    separate = OxmlElement("w:fldChar")
    separate.set(qn("w:fldCharType"), "separate")
    first.add_run()._r.append(separate)
    last = first
    for i, (title, depth) in enumerate(entries):
        paragraph = first if i == 0 else out.add_paragraph(style=_toc_style(out, depth))
        paragraph.add_run(title)
        last = paragraph
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    last.add_run()._r.append(end)
    last.add_run().add_break(WD_BREAK.PAGE)


def _toc_style(out: DocxDocument, depth: int) -> str | None:
    name = f"TOC {depth}"
    try:
        out.styles[name]
    except KeyError:
        return None
    return name


def _caption(out: DocxDocument, kind: str, number: int, text: str) -> DocxParagraph:
    """ "Table 3: ..." with the number as a SEQ field, so Word renumbers captions and can list them."""
    caption = out.add_paragraph(style="Caption")
    caption.add_run(f"{kind} ").bold = True
    _field(caption, f"SEQ {kind} \\* ARABIC", str(number))
    caption.runs[-2].bold = True  # the number shown before Word updates the field
    caption.add_run(": ").bold = True
    caption.add_run(text)
    return caption


# --- blocks ------------------------------------------------------------------------------------------------


def _block(out: DocxDocument, block: Block, numbers: dict[int, int]) -> None:
    if isinstance(block, Paragraph):
        _markdown(out, block.text)
        _provenance(out, block.provenance)
    elif isinstance(block, Tiles):
        _tiles(out, block)
    elif isinstance(block, Table):
        _table(out, block, numbers[id(block)])
    elif isinstance(block, Figure):
        _figure(out, block, numbers[id(block)])
    elif isinstance(block, Callout):
        _callout(out, block)


def _small(out: DocxDocument | _Cell, text: str, italic: bool = False) -> None:
    p = out.add_paragraph()
    run = p.add_run(text)
    run.font.size, run.font.color.rgb, run.italic = Pt(8.5), MUTED, italic


def _provenance(out: DocxDocument | _Cell, provenance: Provenance | None) -> None:
    if provenance is not None and provenance.text():
        _small(out, provenance.text())


def _shade(cell: _Cell, fill: str) -> None:
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shd)


def _tiles(out: DocxDocument, block: Tiles) -> None:
    per_row = 3
    n_rows = -(-len(block.tiles) // per_row)
    grid = out.add_table(rows=n_rows, cols=per_row)
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    for i, tile in enumerate(block.tiles):
        cell = grid.cell(i // per_row, i % per_row)
        if tile.status:
            _shade(cell, STATUS_FILL[tile.status])
        label = cell.paragraphs[0].add_run(tile.label)
        label.font.size, label.font.color.rgb = Pt(9), MUTED
        value = cell.add_paragraph().add_run(tile.value)
        value.bold, value.font.size, value.font.color.rgb = True, Pt(16), BRAND
        if tile.detail:
            cell.add_paragraph().add_run(tile.detail).font.size = Pt(9)
        if tile.status:
            status = cell.add_paragraph().add_run(f"Rating: {STATUS_TEXT[tile.status]}")
            status.bold, status.font.size = True, Pt(9)
    out.add_paragraph()
    _provenance(out, block.provenance)


def _repeat_header(row: object) -> None:
    trpr = row._tr.get_or_add_trPr()  # type: ignore[attr-defined]
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    trpr.append(header)


def _table(out: DocxDocument, block: Table, number: int) -> None:
    caption = _caption(out, "Table", number, block.caption)
    caption.paragraph_format.keep_with_next = True
    rows = block.print_rows()
    grid = out.add_table(rows=1 + len(rows), cols=len(block.columns))
    grid.style = "Table Grid"
    header = grid.rows[0]
    _repeat_header(header)
    for cell, col in zip(header.cells, block.columns, strict=True):
        _shade(cell, "1D3A5F")
        run = cell.paragraphs[0].add_run(col.label)
        run.bold, run.font.size, run.font.color.rgb = True, Pt(9), RGBColor(0xFF, 0xFF, 0xFF)
        if col.numeric:
            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for row_cells, row in zip(grid.rows[1:], rows, strict=True):
        for cell, col in zip(row_cells.cells, block.columns, strict=True):
            para = cell.paragraphs[0]
            para.add_run(format_value(row.get(col.key), col.kind)).font.size = Pt(9)
            if col.numeric:
                para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    if block.truncated:
        _small(out, block.truncation_note(), italic=True)
    if block.note:
        _small(out, block.note)
    _provenance(out, block.provenance)


def _figure(out: DocxDocument, block: Figure, number: int) -> None:
    assert block.png is not None  # checked in render_docx
    p = out.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.paragraph_format.keep_with_next = True
    shape = p.add_run().add_picture(io.BytesIO(block.png), width=Cm(17))
    # Alt text for screen readers lives on the drawing's docPr element.
    shape._inline.docPr.set("descr", block.alt)
    shape._inline.docPr.set("title", block.caption or f"Figure {number}")
    _caption(out, "Figure", number, block.caption)
    _provenance(out, block.provenance)


def _callout(out: DocxDocument, block: Callout) -> None:
    box = out.add_table(rows=1, cols=1)
    cell = box.cell(0, 0)
    _shade(cell, CALLOUT_FILL[block.kind])
    title = cell.paragraphs[0]
    title.add_run(f"{CALLOUT_NAME[block.kind]}: ").bold = True
    title.add_run(block.title).bold = True
    _markdown(cell, block.text)
    out.add_paragraph()


# --- Markdown subset -> runs -------------------------------------------------------------------------------


class _MarkdownToDocx(HTMLParser):
    """Turn the HTML of a paragraph's Markdown subset into Word paragraphs and runs.

    Handles ``p``, ``ul``/``ol``/``li``, ``strong``/``b``, ``em``/``i`` and ``a`` (link text followed by the
    address in brackets, so it survives printing).
    """

    def __init__(self, target: DocxDocument | _Cell) -> None:
        super().__init__(convert_charrefs=True)
        self.target = target
        self.para: DocxParagraph | None = None
        self.lists: list[str] = []
        self.bold = 0
        self.italic = 0
        self.href: str | None = None
        self.link_text = ""
        self.in_block = False

    def _new_paragraph(self, style: str | None = None) -> DocxParagraph:
        self.para = self.target.add_paragraph(style=style)
        return self.para

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("ul", "ol"):
            self.lists.append(tag)
        elif tag == "li":
            style = "List Bullet" if not self.lists or self.lists[-1] == "ul" else "List Number"
            self._new_paragraph(style)
            self.in_block = True
        elif tag == "p":
            self.in_block = True
            if self.lists and self.para is not None and self.para.text == "":
                return  # "loose" list items wrap their text in <p>; keep the list paragraph
            self._new_paragraph()
        elif tag in ("strong", "b"):
            self.bold += 1
        elif tag in ("em", "i"):
            self.italic += 1
        elif tag == "a":
            self.href = dict(attrs).get("href")
            self.link_text = ""
        elif tag == "br" and self.para is not None:
            self.para.add_run().add_break()

    def handle_endtag(self, tag: str) -> None:
        if tag in ("p", "li"):
            self.in_block = False
        elif tag in ("ul", "ol") and self.lists:
            self.lists.pop()
        elif tag in ("strong", "b"):
            self.bold -= 1
        elif tag in ("em", "i"):
            self.italic -= 1
        elif tag == "a":
            if self.href and self.href != self.link_text and not self.href.startswith("#"):
                self._run(f" ({self.href.removeprefix('mailto:')})")
            self.href = None

    def handle_data(self, data: str) -> None:
        if not self.in_block and not data.strip():
            return  # whitespace between block tags
        data = data.replace("\n", " ")  # soft line breaks inside a paragraph
        if self.href is not None:
            self.link_text += data
        self._run(data)

    def _run(self, text: str) -> None:
        if self.para is None:
            self._new_paragraph()
        assert self.para is not None
        run = self.para.add_run(text)
        run.bold = bool(self.bold) or None
        run.italic = bool(self.italic) or None
        if self.href is not None:
            run.underline = True
            run.font.color.rgb = RGBColor(0x1A, 0x4F, 0x8B)


def _markdown(out: DocxDocument | _Cell, text: str) -> None:
    parser = _MarkdownToDocx(out)
    parser.feed(str(markdown_to_html(text)))
    parser.close()

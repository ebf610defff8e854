"""Word flavour: real heading styles, TOC field, marking and page numbers, tables, images with alt text."""

from __future__ import annotations

import copy
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn
from docx.text.paragraph import Paragraph

from cspkit.report.docx import render_docx
from cspkit.report.model import Figure
from tests.report.report_sample import sample_document


@pytest.fixture(scope="module")
def word(tmp_path_factory: pytest.TempPathFactory) -> docx.document.Document:
    path = render_docx(sample_document(), tmp_path_factory.mktemp("docx") / "assessment.docx")
    return docx.Document(str(path))


def _style(paragraph: Paragraph) -> str:
    assert paragraph.style is not None
    return str(paragraph.style.name)


def _instructions(element: object) -> list[str]:
    return [el.text.strip() for el in element.iter(qn("w:instrText"))]  # type: ignore[attr-defined]


def test_headings_use_word_styles(word: docx.document.Document) -> None:
    headings = [(_style(p), p.text) for p in word.paragraphs if _style(p).startswith("Heading")]
    assert headings == [
        ("Heading 1", "Glossary"),
        ("Heading 1", "Executive summary"),
        ("Heading 1", "Introduction"),
        ("Heading 1", "Crime and disorder"),
        ("Heading 2", "Trend in recorded crime"),
        ("Heading 2", "Where crime happens"),
        ("Heading 1", "Anti-social behaviour"),
        ("Heading 1", "Appendix A: Last year's recommendations"),
        ("Heading 1", "Data sources and licences"),
    ]
    chapters = [p for p in word.paragraphs if _style(p) == "Heading 1"]
    assert all(p.paragraph_format.page_break_before for p in chapters[1:])


def test_cover_then_contents_field(word: docx.document.Document) -> None:
    texts = [p.text for p in word.paragraphs]
    assert texts[1] == "Safer Luton Partnership"
    assert _style(word.paragraphs[2]) == "Title" and texts[2] == "Partnership Strategic Assessment 2023"
    assert "Protective marking: OFFICIAL" in texts[4] and "Published: 2023-07-14" in texts[4]
    toc = next(p for p in word.paragraphs if _style(p) == "TOC Heading")
    assert toc.text == "Contents"
    body = word.element.body
    assert 'TOC \\o "1-3" \\h \\z \\u' in _instructions(body)
    assert word.settings.element.find(qn("w:updateFields")).get(qn("w:val")) == "true"
    assert word.core_properties.title == "Partnership Strategic Assessment 2023"


def test_marking_and_page_numbers_in_header_and_footer(word: docx.document.Document) -> None:
    for section in word.sections:
        assert section.header.paragraphs[0].text == "OFFICIAL"
        assert section.footer.paragraphs[0].text == "OFFICIAL"
        assert _instructions(section.footer._element) == ["PAGE", "NUMPAGES"]
        assert section.page_width is not None and section.page_height is not None
        assert round(section.page_width.mm) == 210 and round(section.page_height.mm) == 297


def test_tables_rows_header_repeat_and_values(word: docx.document.Document) -> None:
    data_tables = [
        t for t in word.tables if len(t.columns) > 1 and t.cell(0, 0).text in ("LSOA code", "Category", "Ref")
    ]
    assert [len(t.rows) for t in data_tables] == [1 + 25, 1 + 3, 1 + 3]
    lsoa = data_tables[0]
    assert [c.text for c in lsoa.rows[0].cells] == [
        "LSOA code",
        "LSOA name",
        "Ward",
        "Crimes",
        "Rate per 1,000",
        "Change",
        "Share of borough",
    ]
    assert [c.text for c in lsoa.rows[1].cells][:6] == ["E01015400", "Luton 001A", "Biscot", "420", "280.00", "-15.0%"]
    for table in data_tables:
        assert table.rows[0]._tr.find(qn("w:trPr")).find(qn("w:tblHeader")) is not None
    texts = [p.text for p in word.paragraphs]
    assert "Table 1: Recorded crime by LSOA, May 2022 to April 2023" in texts
    assert "Top 25 of 60 rows shown; full table in the Excel annex." in texts


def test_tiles_and_callouts(word: docx.document.Document) -> None:
    tiles = word.tables[0]
    first = tiles.cell(0, 0).text
    assert "All recorded crime" in first and "18,412" in first and "Rating: No rating" in first
    assert "Rating: Red" in tiles.cell(0, 1).text
    callout = word.tables[1].cell(0, 0).text
    assert callout.startswith("Key finding: Recommended priorities")


def test_figures_are_inline_pictures_with_alt_text(word: docx.document.Document) -> None:
    shapes = word.inline_shapes
    assert len(shapes) == 3
    descr = [s._inline.docPr.get("descr") for s in shapes]
    assert descr[0].startswith("Line chart: All recorded crime, Luton. Monthly values from May 2021")
    assert abs(shapes[0].width.cm - 17) < 0.01
    blip = shapes[0]._inline.graphic.graphicData.pic.blipFill.blip
    image = word.part.related_parts[blip.embed]
    assert image.blob.startswith(b"\x89PNG")
    assert "Figure 1: Monthly recorded crime with control limits and forecast" in [p.text for p in word.paragraphs]


def test_markdown_becomes_runs_and_lists(word: docx.document.Document) -> None:
    summary = next(p for p in word.paragraphs if p.text.startswith("Recorded crime in Luton"))
    bold = [r.text for r in summary.runs if r.bold]
    italic = [r.text for r in summary.runs if r.italic]
    assert bold == ["broadly stable"] and italic == ["not a significant change"]
    bullets = [p.text for p in word.paragraphs if _style(p) == "List Bullet"]
    assert bullets[:3] == [
        "violence against the person rose in the town centre in summer 2022;",
        "repeat victims of ASB fell from 212 to 174;",
        "high-risk MARAC referrals rose for the second year running.",
    ]
    assert any("<script>alert(1)</script>" in p.text for p in word.paragraphs)


def test_figure_without_png_is_refused(tmp_path: Path) -> None:
    doc = copy.deepcopy(sample_document())
    figure = doc.sections[2].subsections[0].blocks[1]
    assert isinstance(figure, Figure)
    figure.png = None
    with pytest.raises(ValueError, match="PNG"):
        render_docx(doc, tmp_path / "x.docx")
    assert not (tmp_path / "x.docx").exists()

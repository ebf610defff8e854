"""The format-neutral report model: validation, walking, numbering, JSON and value formatting."""

from __future__ import annotations

import base64
import json

import pytest

from cspkit.report.model import (
    Callout,
    Column,
    Document,
    Figure,
    Paragraph,
    Provenance,
    Section,
    Table,
    format_value,
)
from tests.report.report_sample import sample_document


def _doc(*sections: Section) -> Document:
    return Document("T", "P", "2023", "OFFICIAL", "public", "2023-07-14", sections=list(sections))


def test_walk_gives_depths_in_reading_order() -> None:
    doc = sample_document()
    walked = [(depth, s.id) for depth, s in doc.walk()]
    assert walked[:5] == [
        (1, "executive-summary"),
        (1, "introduction"),
        (1, "crime"),
        (2, "crime-trend"),
        (2, "crime-places"),
    ]


def test_tables_are_found_with_their_chapter() -> None:
    found = [(chapter.id, table.caption, len(table.rows)) for chapter, table in sample_document().tables()]
    assert found == [
        ("crime", "Recorded crime by LSOA, May 2022 to April 2023", 60),
        ("asb", "ASB incidents by category", 3),
        ("appendix-recommendations", "Status of last year's recommendations", 3),
    ]


def test_tables_and_figures_are_numbered_separately() -> None:
    doc = sample_document()
    numbers = doc.numbers()
    tables = [numbers[id(t)] for _, t in doc.tables()]
    figures = [numbers[id(b)] for _, s in doc.walk() for b in s.blocks if isinstance(b, Figure)]
    assert tables == [1, 2, 3]
    assert figures == [1, 2, 3]


def test_truncation_note_only_when_cut() -> None:
    table = Table([Column("a", "A", "int")], [{"a": i} for i in range(60)], caption="c", print_max_rows=25)
    assert table.truncated
    assert len(table.print_rows()) == 25
    assert table.truncation_note() == "Top 25 of 60 rows shown; full table in the Excel annex."
    short = Table([Column("a", "A")], [{"a": 1}], caption="c")
    assert not short.truncated and short.truncation_note() == ""


@pytest.mark.parametrize(
    ("value", "kind", "expected"),
    [
        (1234, "int", "1,234"),
        (1234.6, "int", "1,235"),
        (-3.14159, "float", "-3.14"),
        (0.125, "percent", "12.5%"),
        (-0.089, "percent", "-8.9%"),
        (12.3456, "rate", "12.35"),
        (None, "int", "–"),
        (float("nan"), "rate", "–"),
        ("<5", "int", "<5"),
        (2023, "text", "2023"),
        (True, "text", "Yes"),
    ],
)
def test_format_value(value: object, kind: str, expected: str) -> None:
    assert format_value(value, kind) == expected  # type: ignore[arg-type]


def test_to_dict_is_json_and_keeps_everything() -> None:
    doc = sample_document()
    data = json.loads(json.dumps(doc.to_dict()))
    assert data["marking"] == "OFFICIAL"
    assert [s["id"] for s in data["sections"]][:2] == ["executive-summary", "introduction"]
    crime = data["sections"][2]
    assert crime["xlsx_sheet"] == "Crime"
    table = crime["subsections"][1]["blocks"][1]
    assert table["type"] == "table" and len(table["rows"]) == 60
    assert table["columns"][3] == {"key": "count", "label": "Crimes", "kind": "int"}
    assert table["provenance"]["finding_ids"] == ["crime.all.count"]
    figure = crime["subsections"][0]["blocks"][1]
    assert figure["type"] == "figure"
    assert base64.b64decode(figure["png_base64"]).startswith(b"\x89PNG")
    tiles = data["sections"][0]["blocks"][1]
    assert tiles["tiles"][1] == {
        "label": "Violence against the person",
        "value": "7,412",
        "detail": "+8.2% on last year (significant)",
        "status": "red",
    }
    assert data["glossary"][0] == ["ASB", "Anti-social behaviour."]


def test_provenance_text() -> None:
    p = Provenance(sources=["Police", "Council"], finding_ids=["a.b"], definition="Counts by month.")
    assert p.text() == "Source: Police; Council. Counts by month. Findings: a.b."


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        (_doc(Section("a", "A"), Section("a", "B")), "repeated"),
        (_doc(Section("glossary", "G")), "reserved"),
        (_doc(Section("has space", "G")), "invalid"),
        (
            _doc(
                Section(
                    "a",
                    "A",
                    subsections=[Section("b", "B", subsections=[Section("c", "C", subsections=[Section("d", "D")])])],
                )
            ),
            "nested 4 deep",
        ),
        (_doc(Section("a", "A", blocks=[Figure("<svg/>", None, alt=" ")])), "alt text"),
        (_doc(Section("a", "A", blocks=[Table([Column("x", "X")], [])])), "no caption"),
    ],
)
def test_validate_rejects(doc: Document, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        doc.validate()


def test_validate_accepts_sample() -> None:
    sample_document().validate()
    _doc(Section("a", "A", blocks=[Paragraph("x"), Callout("info", "t", "x")])).validate()

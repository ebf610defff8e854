"""Excel flavour: sheets, frozen headers, number formats, and no formulas from data."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from cspkit.report.model import Column, Document, Section, Table
from cspkit.report.xlsx import neutralise, render_xlsx, sheet_name
from tests.report.report_sample import sample_document

PLANTED = ['=HYPERLINK("http://evil.example","click")', "+1", "@SUM(A1:A2)", "-cmd", "\tcmd", "\rcmd"]


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> openpyxl.Workbook:
    findings = (
        [Column("id", "Finding"), Column("value", "Value", "float"), Column("sentence", "Sentence")],
        [
            {"id": "crime.all.count", "value": 18412.0, "sentence": "Crime was broadly stable."},
            {"id": "asb.repeat.count", "value": -38.0, "sentence": "-38 repeat victims: fewer than last year."},
        ],
    )
    path = render_xlsx(
        sample_document(), tmp_path_factory.mktemp("xlsx") / "annex.xlsx", extra_sheets={"Findings": findings}
    )
    return openpyxl.load_workbook(path)


def test_sheets_in_order(book: openpyxl.Workbook) -> None:
    assert book.sheetnames == ["Contents", "Crime", "Anti-social behaviour", "Recommendations", "Findings"]


def test_contents_sheet_links_every_table(book: openpyxl.Workbook) -> None:
    ws = book["Contents"]
    assert ws["A1"].value == "OFFICIAL"
    assert ws["A2"].value == "Partnership Strategic Assessment 2023: data annex"
    details = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(4, 9)}
    assert details["Partnership"] == "Safer Luton Partnership" and details["Published"] == "2023-07-14"
    links = [(ws.cell(r, 1).value, ws.cell(r, 2).value, ws.cell(r, 1).hyperlink) for r in range(11, 15)]
    assert [(sheet, text) for sheet, text, _ in links] == [
        ("Crime", "Table 1: Recorded crime by LSOA, May 2022 to April 2023"),
        ("Anti-social behaviour", "Table 2: ASB incidents by category"),
        ("Recommendations", "Table 3: Status of last year's recommendations"),
        ("Findings", "Findings"),
    ]
    assert links[0][2].location == "'Crime'!A4"


def test_chapter_sheet_layout_and_formats(book: openpyxl.Workbook) -> None:
    ws = book["Crime"]
    assert ws["A1"].value == "OFFICIAL" and ws["A2"].value == "Crime and disorder"
    assert ws["A4"].value == "Table 1: Recorded crime by LSOA, May 2022 to April 2023"
    assert [c.value for c in ws[5]] == [
        "LSOA code",
        "LSOA name",
        "Ward",
        "Crimes",
        "Rate per 1,000",
        "Change",
        "Share of borough",
    ]
    assert ws.freeze_panes == "A6"
    assert list(ws.tables) == ["Table_1"] and ws.tables["Table_1"].ref == "A5:G65"
    assert ws.tables["Table_1"].autoFilter is not None
    # All 60 rows, numbers as numbers with formats by column kind.
    assert ws["A65"].value == "E01015459"
    assert ws["D6"].value == 420 and ws["D6"].number_format == "#,##0"
    assert ws["E6"].value == pytest.approx(280.0) and ws["E6"].number_format == "0.00"
    assert ws["F6"].value == pytest.approx(-0.15) and ws["F6"].number_format == "0.0%"
    assert ws["F11"].value is None  # missing value left blank
    assert ws["A66"].value == "Rates use mid-2024 population estimates."
    assert ws["A67"].value.startswith("Source: Bedfordshire Police street-level crime")
    assert ws.column_dimensions["G"].width >= len("Share of borough")
    assert ws.oddHeader.center.text == "&BOFFICIAL"  # bold marking, centred
    assert ws.page_setup.orientation == "landscape"


def test_suppressed_value_stays_text_and_second_sheet(book: openpyxl.Workbook) -> None:
    ws = book["Anti-social behaviour"]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=5, max_row=8)]
    assert rows[0] == ["Category", "2021-22", "2022-23", "Change"]
    assert rows[3][:3] == ["Environmental", 640, "<5"]
    assert rows[1][3] == pytest.approx(-0.089)


def test_extra_sheet(book: openpyxl.Workbook) -> None:
    ws = book["Findings"]
    assert ws["A3"].value == "Findings" and ws.freeze_panes == "A5"
    assert [c.value for c in ws[5]] == ["crime.all.count", 18412.0, "Crime was broadly stable."]
    assert ws["B6"].value == -38.0 and ws["B6"].data_type == "n"
    assert ws["C6"].value == "'-38 repeat victims: fewer than last year."


def test_formula_injection_is_neutralised(tmp_path: Path) -> None:
    rows = [{"text": t, "n": -5, "p": -0.25, "mixed": -7} for t in PLANTED]
    doc = Document(
        title="=cmd|' /C calc'!A0",
        partnership="@P",
        period_label="2023",
        marking="OFFICIAL",
        edition="restricted",
        date="2023-01-01",
        sections=[
            Section(
                "data",
                "Data: [quality]? *checks*",
                blocks=[
                    Table(
                        [
                            Column("text", "Text"),
                            Column("n", "N", "int"),
                            Column("p", "P", "percent"),
                            Column("mixed", "=Mixed"),
                        ],
                        rows,
                        caption="+caption",
                    )
                ],
            )
        ],
    )
    path = render_xlsx(doc, tmp_path / "planted.xlsx")
    wb = openpyxl.load_workbook(path)
    ws = wb[wb.sheetnames[1]]
    assert wb.sheetnames[1] == "Data quality checks"
    values = []
    for r in range(6, 6 + len(PLANTED)):
        cell = ws.cell(r, 1)
        assert cell.data_type == "s"
        assert not str(cell.value).startswith(("=", "+", "-", "@", "\t", "\r"))
        values.append(cell.value)
        assert ws.cell(r, 2).value == -5 and ws.cell(r, 2).data_type == "n"
        assert ws.cell(r, 3).value == -0.25 and ws.cell(r, 3).number_format == "0.0%"
        assert ws.cell(r, 4).value == -7 and ws.cell(r, 4).data_type == "n"
    # XlsxWriter stores a carriage return as the OOXML escape _x000D_, which Excel shows as the character.
    assert values == ["'" + t.replace("\r", "_x000D_") for t in PLANTED]
    assert ws["A4"].value == "Table 1: +caption"
    assert ws["D5"].value == "'=Mixed"
    assert wb["Contents"]["A2"].value.startswith("'=cmd")
    # Nothing in the workbook is a formula.
    for sheet in wb:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{sheet.title}!{cell.coordinate}"


def test_neutralise() -> None:
    assert neutralise("=1+1") == "'=1+1"
    assert neutralise("plain") == "plain"
    assert neutralise("") == ""


def test_sheet_names_are_valid_and_unique() -> None:
    taken: set[str] = set()
    assert sheet_name("Contents", taken) == "Contents"
    assert sheet_name("contents", taken) == "contents (2)"
    long = "Violence against the person: night-time economy [draft]"
    first = sheet_name(long, taken)
    second = sheet_name(long, taken)
    assert first == "Violence against the person"  # cut at a word, never mid-word
    assert second == "Violence against the person (2)" and len(second) <= 31
    assert sheet_name("History", taken) == "History (2)"
    assert sheet_name("'quoted'", taken) == "quoted"
    assert sheet_name("???", taken) == "Sheet"

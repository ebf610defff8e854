"""The demo assessment (real police data plus synthetic partner data), rendered once and opened for real.

PDF read back with pdftotext, Word with python-docx, Excel with openpyxl, HTML parsed; numbers checked against
the findings they come from. Also: analysts' narrative files replace a section's text and survive re-runs.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import docx
import openpyxl
import pytest

from cspkit.report.assess import AssessResult, assess
from cspkit.report.model import Callout, Document, Paragraph, Tiles
from cspkit.workspace import Workspace
from tests.report.demo_assessment import demo_assessment, demo_workspace

needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")


@pytest.fixture(scope="module")
def restricted(tmp_path_factory: pytest.TempPathFactory) -> AssessResult:
    return demo_assessment(tmp_path_factory, "restricted", ["html", "pdf", "docx", "xlsx"])


def _pdftotext(path: Path, *options: str) -> list[str]:
    out = subprocess.run(["pdftotext", *options, str(path), "-"], check=True, capture_output=True, text=True)
    return out.stdout.split("\f")[:-1]


@pytest.fixture(scope="module")
def pdf_pages(restricted: AssessResult) -> list[str]:
    """Page texts in layout order (table rows stay on one line)."""
    return _pdftotext(restricted.files["pdf"], "-layout")


@pytest.fixture(scope="module")
def pdf_reading(restricted: AssessResult) -> list[str]:
    """Page texts in reading order (tiles and wrapped labels stay together)."""
    return _pdftotext(restricted.files["pdf"])


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)


# ---------------------------------------------------------------------------------------------------------------
# The numbers the document is built from


def test_headline_numbers_are_the_findings(restricted: AssessResult) -> None:
    """The demo's headline: Central Bedfordshire, May 2022 to April 2023, all crime 15,680 against 14,123."""
    fs, doc = restricted.findings, restricted.document
    allc = fs.get("crime.all.count")
    assert allc is not None and allc.change is not None
    assert (fs.area.name, fs.period.label) == ("Central Bedfordshire", "May 2022 to April 2023")
    assert (allc.value, allc.baseline) == (15680, 14123)
    assert allc.change.significant and allc.change.direction == "up"
    tiles = {t.label: t for b in doc.sections[0].blocks if isinstance(b, Tiles) for t in b.tiles}
    assert tiles["All crime (police)"].value == "15,680"
    assert tiles["All crime (police)"].detail == "significant rise (worse); was 14,123"
    assert tiles["All crime (police)"].status == "red"
    asb = fs.get("asb.count")
    assert asb is not None and tiles["ASB (police, data.police.uk)"].value == f"{asb.value:,.0f}" == "4,015"
    # domestic abuse reporting is rated neutral by default: a significant rise is neither red nor "worse"
    da = tiles["Domestic abuse incidents (police)"]
    assert (da.status, da.detail) == ("neutral", "significant rise; was 5,031")
    # the reoffending tile is the IOM cohort's offences per member-year on equal windows before and after joining,
    # not the same-period rate (members' part-year on the programme against a full year before), and never "better"
    per_year = fs.require("reoffending.iom.offences_per_member_year")
    assert per_year.value is not None and per_year.baseline is not None
    iom = tiles["IOM cohort: offences per member-year (probation)"]
    assert (iom.value, iom.status) == (f"{per_year.value:.2f}", "neutral")
    assert iom.detail.startswith(f"{per_year.numerator:,.0f} offences in {per_year.denominator:,.1f} member-years")
    assert f"{per_year.baseline:.2f} before joining" in iom.detail and "better" not in iom.detail
    summary = " ".join(b.text for b in doc.sections[0].blocks if isinstance(b, Paragraph))
    for sub in doc.sections[0].subsections:
        summary += " ".join(b.text for b in sub.blocks if isinstance(b, Paragraph))
    assert f"{per_year.value:.2f} offences per member-year" in summary
    assert "reoffended in the period" not in summary  # the same-period binary rate is no longer the headline
    # the regression-to-the-mean caveat is stated once in the document: the reoffending chapter's caution
    blocks = [b for _, s in doc.walk() for b in s.blocks]
    said = " ".join(b.text for b in blocks if isinstance(b, (Paragraph, Callout))).lower()
    assert said.count("regression to the mean") == 1
    assert [b.title for b in blocks if isinstance(b, Callout) and "mean" in b.title] == ["Regression to the mean"]
    assert doc.marking == "OFFICIAL-SENSITIVE" and doc.edition == "restricted"
    # the executive summary's compact table of the largest significant changes starts with all crime
    changes = next(t for _, t in doc.tables() if t.id == "summary-changes-table")
    assert [c.label for c in changes.columns] == ["Indicator", "Current", "Comparison", "Change", "Verdict"]
    first = changes.rows[0]
    assert (first["indicator"], first["value"], first["baseline"]) == ("All crime", 15680, 14123)
    assert abs(first["change"] - (15680 / 14123 - 1)) < 0.001
    assert first["verdict"] == "significant rise (worse)"
    # every significant area count, up to 8 (the treatment presentations count too, rated neither way)
    significant = [
        f
        for f in fs.findings
        if ".ward." not in f.id and f.change is not None and f.change.significant and f.unit == "count"
    ]
    assert len(changes.rows) == min(8, len(significant)) >= 6


# ---------------------------------------------------------------------------------------------------------------
# PDF


@needs_poppler
def test_pdf_has_every_heading_number_and_marking(
    restricted: AssessResult, pdf_pages: list[str], pdf_reading: list[str]
) -> None:
    doc = restricted.document
    assert 25 <= len(pdf_pages) <= 70  # area profile and substance misuse chapters added
    whole = _squash("\n".join(pdf_pages))
    for section in doc.sections:
        assert section.title in whole, section.title
    for heading in ("Contents", "Glossary", "Data sources and licences"):
        assert heading in whole
    # every top-level chapter is listed in the contents page with its page number
    contents = _squash(pdf_pages[1] + pdf_pages[2])  # the contents run over two pages
    for section in doc.sections:
        assert re.search(re.escape(section.title) + r" ?\.{3,} ?\d+", contents), section.title
    # the headline numbers, in the sentence and the tiles
    assert "15,680 in May 2022 to April 2023 against 14,123 in May 2021 to April 2022" in whole
    tiles = [t for b in doc.sections[0].blocks if isinstance(b, Tiles) for t in b.tiles]
    summary = _squash(" ".join(p for p in pdf_reading[3:9]))  # after the two contents pages and the glossary
    for tile in tiles:
        assert tile.label in summary and tile.value in summary, tile
    # the marking on every page, top and bottom, and "Page N of M"
    for n, page in enumerate(pdf_pages, start=1):
        lines = [line.strip() for line in page.splitlines() if line.strip()]
        assert lines[0] == "OFFICIAL-SENSITIVE", n
        assert "OFFICIAL-SENSITIVE" in lines[-1] or "OFFICIAL-SENSITIVE" in lines[-2], n
        assert f"Page {n} of {len(pdf_pages)}" in page


@needs_poppler
def test_pdf_tables_print_the_finding_values(restricted: AssessResult, pdf_pages: list[str]) -> None:
    """Each row of the crime indicator table prints the finding's current and comparison counts."""
    fs, doc = restricted.findings, restricted.document
    table = next(t for _, t in doc.tables() if t.id == "crime-indicators")
    whole = "\n".join(pdf_pages)
    for row in table.print_rows():
        f = next(f for f in fs.findings if f.title == row["indicator"] and ".ward." not in f.id and f.unit == "count")
        assert f.value is not None and f.baseline is not None
        assert re.search(rf"{f.value:,.0f}\s+{round(f.baseline):,}\s", whole), f.id
    # wide tables fit: no header squeezed to a letter or two per line (e.g. "R\nA\nG")
    assert not re.search(r"^\s*(R|A|G)\s*$", whole, re.MULTILINE)


# ---------------------------------------------------------------------------------------------------------------
# Word


def test_docx_headings_and_tables(restricted: AssessResult) -> None:
    doc = restricted.document
    word = docx.Document(str(restricted.files["docx"]))
    headings: dict[str, list[str]] = {}
    for p in word.paragraphs:
        if p.style is not None and p.style.name.startswith("Heading"):
            headings.setdefault(p.style.name, []).append(p.text)
    # the glossary comes first, as in the model assessment; then the chapters in order
    assert headings["Heading 1"][: len(doc.sections) + 1] == ["Glossary"] + [s.title for s in doc.sections]
    subsections = [s.title for depth, s in doc.walk() if depth == 2]
    assert headings["Heading 2"] == subsections
    # every report table is a Word table whose header row is the table's column labels
    header_rows = [[c.text for c in t.rows[0].cells] for t in word.tables]
    for _, table in doc.tables():
        assert [c.label for c in table.columns] in header_rows, table.caption
    crime = next(
        t
        for t in word.tables
        if [c.text for c in t.rows[0].cells][:3] == ["Indicator", "Current", "Comparison"] and len(t.rows) > 10
    )
    assert [c.text for c in crime.rows[1].cells][:3] == ["All crime", "15,680", "14,123"]


# ---------------------------------------------------------------------------------------------------------------
# Excel


def test_xlsx_sheets_findings_and_no_formulas(restricted: AssessResult) -> None:
    doc, fs = restricted.document, restricted.findings
    wb = openpyxl.load_workbook(restricted.files["xlsx"])
    chapter_sheets = [s.xlsx_sheet or s.title for s in doc.sections if any(True for _ in s.tables())]
    assert set(chapter_sheets) <= set(wb.sheetnames)
    assert wb.sheetnames[0] == "Contents" and "Findings" in wb.sheetnames
    findings = wb["Findings"]
    header_row = next(r for r in range(1, 6) if findings.cell(r, 1).value == "Finding id")
    ids = {findings.cell(r, 1).value for r in range(header_row + 1, findings.max_row + 1)}
    assert ids == {f.id for f in fs.findings}
    assert findings.freeze_panes == f"A{header_row + 1}"
    for name in chapter_sheets:
        assert wb[name].freeze_panes is not None, name
    negatives = 0
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                value = cell.value
                if isinstance(value, str):
                    assert not value.startswith(("=", "+", "-", "@")), (ws.title, cell.coordinate, value)
                elif isinstance(value, int | float) and value < 0:
                    negatives += 1
    assert negatives > 0  # falls (negative changes) stay numbers
    # a value from the data: the all-crime row of the Crime indicators in the Performance sheet
    perf = wb["Performance"]
    row = next(r for r in perf.iter_rows(values_only=True) if r[0] == "All crime" and r[1] == 15680)
    assert row[2] == 14123 and isinstance(row[4], float) and abs(row[4] - 0.110) < 0.001


# ---------------------------------------------------------------------------------------------------------------
# HTML


class _Audit(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.h1 = 0
        self.fetches: list[str] = []
        self.th_without_scope = 0
        self.svgs: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "h1":
            self.h1 += 1
        if tag == "th" and not a.get("scope"):
            self.th_without_scope += 1
        if tag == "svg":
            self.svgs.append(a)
        for key in ("src", "srcset", "poster", "data"):
            if a.get(key):
                self.fetches.append(f"{tag} {key}={a[key]}")
        if tag == "link" or (tag == "script" and a.get("src")):
            self.fetches.append(f"{tag} {a}")
        href = a.get("href") or ""
        if tag in ("image", "use", "feImage") and href and not href.startswith("#"):
            self.fetches.append(f"{tag} href={href}")


def test_html_is_self_contained_and_accessible(restricted: AssessResult) -> None:
    text = restricted.files["html"].read_text(encoding="utf-8")
    audit = _Audit()
    audit.feed(text)
    assert audit.fetches == []
    assert not re.search(r"url\(\s*['\"]?(?!#)", text)  # no CSS url() except in-page references
    assert not re.search(r"@import", text)
    assert audit.h1 == 1
    assert audit.th_without_scope == 0
    figures = [b for _, s in restricted.document.walk() for b in s.blocks if type(b).__name__ == "Figure"]
    assert len(audit.svgs) == len(figures) >= 5
    for svg in audit.svgs:
        assert svg.get("role") == "img" and (svg.get("aria-label") or "").strip()


# ---------------------------------------------------------------------------------------------------------------
# Narrative overrides


def _paragraphs(doc: Document, section_id: str) -> list[str]:
    section = next(s for _, s in doc.walk() if s.id == section_id)
    return [b.text for b in section.blocks if isinstance(b, Paragraph)]


def test_narrative_file_replaces_generated_text_and_survives_rerun(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, restricted: AssessResult
) -> None:
    source = demo_workspace(tmp_path_factory)  # the workspace already built (cached), copied
    root = tmp_path / "ws"
    shutil.copytree(source.root, root, ignore=shutil.ignore_patterns("outputs"))
    ws = Workspace(root)
    generated = _paragraphs(restricted.document, "crime")
    assert generated[0].startswith("All police-recorded crime rose significantly: 15,680")
    ws.narrative_dir.mkdir(exist_ok=True)
    text = "Crime rose across **Central Bedfordshire**, driven by violence, vehicle crime and other theft."
    (ws.narrative_dir / "crime.md").write_text(text, encoding="utf-8")
    for _ in range(2):  # a second run keeps the analyst's file and uses it again
        result = assess(ws, formats=["html"], out_dir=tmp_path / "out")
        paragraphs = _paragraphs(result.document, "crime")
        assert paragraphs[0] == text and not any(p.startswith("All police-recorded crime") for p in paragraphs)
        assert (ws.narrative_dir / "crime.md").read_text(encoding="utf-8") == text
        html = result.files["html"].read_text(encoding="utf-8")
        assert "Crime rose across <strong>Central Bedfordshire</strong>" in html
    # other sections keep their generated text
    assert _paragraphs(result.document, "asb")[0].startswith("Police-recorded ASB fell significantly: 4,015")

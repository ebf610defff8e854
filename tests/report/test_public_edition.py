"""The public edition of the demo assessment: no count from 1 to 4 anywhere, none derivable from totals.

Walks the public Document (every table cell, tile and sentence), reads back the public PDF, and compares with
the restricted edition of the same data to show the checks are not vacuous (the restricted edition does hold
small counts: ward rows, LSOA map areas, the PPO cohort's sentences).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator

import openpyxl
import pytest

from cspkit.report.assess import AssessResult
from cspkit.report.model import Callout, Document, Figure, Paragraph, Section, Table, Tiles
from tests.report.demo_assessment import demo_assessment

needs_poppler = pytest.mark.skipif(not shutil.which("pdftotext"), reason="poppler-utils not installed")

THRESHOLD = 5
#: int columns that are not counts of events or people (a rank, a number of files, a deprivation decile, the
#: neighbourhoods and residents of a decile: public statistics).
NOT_COUNTS = {"rank", "base_rank", "files", "decile", "lsoas", "population"}
#: A small count quoted in a sentence: "3 of 40", "(2)", "4 victims", "1 offence". Decimals ("1.4 offences")
#: and the control-chart rule ("2 of 3 beyond 2 sigma") are not counts.
SMALL_COUNT = re.compile(
    r"(?<![\w.,\-–])[1-4]\s+of\s+(?!3 beyond)\d"
    r"|\([1-4]\)"
    r"|(?<![\w.,\-–])[1-4]\s+(?:offences?|offenders?|people|persons?|victims?|incidents?|referrals?|members?|crimes?|"
    r"children|perpetrators?|reoffenders?|cases?|households?)\b"
)


@pytest.fixture(scope="module")
def public(tmp_path_factory: pytest.TempPathFactory) -> AssessResult:
    return demo_assessment(tmp_path_factory, "public", ["html", "pdf", "xlsx"])


@pytest.fixture(scope="module")
def restricted_doc(tmp_path_factory: pytest.TempPathFactory) -> Document:
    # Built (not rendered) unless test_assess.py already rendered it in this process.
    return demo_assessment(tmp_path_factory, "restricted", ["json"]).document


def _blocks(doc: Document) -> Iterator[tuple[Section, object]]:
    for _, section in doc.walk():
        for block in section.blocks:
            yield section, block


def _count_cells(table: Table) -> list[str]:
    return [c.key for c in table.columns if c.kind == "int" and c.key not in NOT_COUNTS]


def _small(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 < round(value) < THRESHOLD


def _texts(doc: Document) -> Iterator[tuple[str, str]]:
    for section, block in _blocks(doc):
        if isinstance(block, Paragraph | Callout):
            yield section.id, block.text
        elif isinstance(block, Tiles):
            for tile in block.tiles:
                yield section.id, f"{tile.value} {tile.detail}"
        elif isinstance(block, Table):
            for row in block.rows:
                for col in block.columns:
                    if col.kind == "text" and isinstance(row.get(col.key), str):
                        yield f"{section.id}/{block.id}", row[col.key]


def test_public_marking_everywhere(public: AssessResult, restricted_doc: Document) -> None:
    assert public.document.marking == "OFFICIAL" and public.document.edition == "public"
    assert restricted_doc.marking == "OFFICIAL-SENSITIVE"
    wb = openpyxl.load_workbook(public.files["xlsx"])
    for ws in wb.worksheets:
        assert ws["A1"].value == "OFFICIAL", ws.title
    assert "Findings" not in wb.sheetnames  # the finding-level annex stays in the restricted edition
    assert set(public.files) == {"html", "pdf", "xlsx", "checklist"}  # no findings.json


@needs_poppler
def test_public_pdf_marking_and_suppression(public: AssessResult) -> None:
    out = subprocess.run(
        ["pdftotext", "-layout", str(public.files["pdf"]), "-"], check=True, capture_output=True, text=True
    )
    pages = out.stdout.split("\f")[:-1]
    assert len(pages) >= 20
    for n, page in enumerate(pages, start=1):
        lines = [line.strip() for line in page.splitlines() if line.strip()]
        assert lines[0] == "OFFICIAL", n
        assert "OFFICIAL-SENSITIVE" not in page, n
    whole = out.stdout
    # every printed row with a suppressed cell prints the marker, on the same line as its label
    for _, table in public.document.tables():
        for row in table.print_rows():
            label = str(row.get(table.columns[0].key))
            if any(row.get(k) == f"<{THRESHOLD}" for k in _count_cells(table)):
                assert re.search(re.escape(label[:20]) + r".*<5", whole), (table.caption, label)
    # no small count quoted anywhere in the text (reading order, so that table columns do not interleave)
    reading = subprocess.run(
        ["pdftotext", str(public.files["pdf"]), "-"], check=True, capture_output=True, text=True
    ).stdout
    body = re.sub(r"\s+", " ", re.sub(r"Page \d+ of \d+", "", reading))
    assert [m.group(0) for m in SMALL_COUNT.finditer(body)] == []


def test_no_small_count_in_any_table_cell(public: AssessResult, restricted_doc: Document) -> None:
    def small_cells(doc: Document) -> list[tuple[str, str, object]]:
        return [
            (table.caption, str(row.get(table.columns[0].key)), row[k])
            for _, table in doc.tables()
            for row in table.rows
            for k in _count_cells(table)
            if _small(row.get(k))
        ]

    assert small_cells(restricted_doc)  # e.g. burglary in Westoning, Flitton & Greenfield last year
    assert small_cells(public.document) == []
    markers = [
        row[k]
        for _, table in public.document.tables()
        for row in table.rows
        for k in _count_cells(table)
        if isinstance(row[k], str)
    ]
    assert "<5" in markers and "*" in markers


def test_suppressed_cells_cannot_be_derived_from_totals(public: AssessResult) -> None:
    """Every row and column of counts with a hidden cell has at least two hidden cells."""
    checked = 0
    for _, table in public.document.tables():
        keys = _count_cells(table)
        if not keys:
            continue
        hidden = [[isinstance(row.get(k), str) and row.get(k) in ("<5", "*") for k in keys] for row in table.rows]
        for i, line in enumerate(hidden):
            if any(line) and len(keys) > 1:
                assert sum(line) >= 2, (table.caption, i)
                checked += 1
            if any(line):
                # derived columns of a row with a hidden count are blanked (a rate or a change would give it away)
                row = table.rows[i]
                for col in table.columns:
                    if col.kind in ("float", "percent", "rate") or col.key == "ratio":
                        assert row.get(col.key) in (None, "–", ""), (table.caption, col.key, row.get(col.key))
        for j, key in enumerate(keys):
            column = [line[j] for line in hidden]
            if any(column) and len(column) > 1:
                assert sum(column) >= 2, (table.caption, key)
                checked += 1
    assert checked >= 2


def test_no_small_count_in_tiles_or_sentences(public: AssessResult, restricted_doc: Document) -> None:
    for _, block in _blocks(public.document):
        if isinstance(block, Tiles):
            for tile in block.tiles:
                digits = tile.value.replace(",", "").rstrip("%")
                assert not (digits.isdigit() and not tile.value.endswith("%") and 0 < int(digits) < THRESHOLD)
    restricted_hits = [(s, m.group(0)) for s, t in _texts(restricted_doc) for m in SMALL_COUNT.finditer(t)]
    assert restricted_hits  # the PPO cohort of 8 people is described in small numbers in the restricted edition
    public_hits = [(s, m.group(0), t) for s, t in _texts(public.document) for m in SMALL_COUNT.finditer(t)]
    assert public_hits == []
    assert any("small numbers" in t for _, t in _texts(public.document))


def test_no_person_level_tables(public: AssessResult) -> None:
    person = re.compile(r"victim_ref|offender_ref|perpetrator_ref|pseudonym|person|_name$|_dob$|postcode", re.I)
    for _, table in public.document.tables():
        for col in table.columns:
            assert not person.search(col.key) and not person.search(col.label), (table.caption, col.key)
    # tables are of areas, indicators and recommendations: none has a row per person
    assert all(len(t.rows) <= 100 for _, t in public.document.tables())


def test_maps_hatch_small_areas(public: AssessResult, restricted_doc: Document) -> None:
    fs = public.findings
    maps = [
        (s.id, b)
        for s, b in _blocks(public.document)
        if isinstance(b, Figure) and "by LSOA" in b.caption and b.provenance is not None
    ]
    assert maps
    restricted_maps = {b.caption: b for s, b in _blocks(restricted_doc) if isinstance(b, Figure)}
    hatched_somewhere = False
    for _, figure in maps:
        finding = fs.get(figure.provenance.finding_ids[0]) if figure.provenance else None
        assert finding is not None
        small = [c for c, v in (finding.extra.get("lsoa_counts") or {}).items() if 0 < v < THRESHOLD]
        if small:
            hatched_somewhere = True
            assert f"{len(small)} LSOA" in figure.alt and "fewer than 5" in figure.alt
            assert "<pattern" in figure.svg  # the hatch
            assert "<pattern" not in restricted_maps[figure.caption].svg
        else:
            assert "<pattern" not in figure.svg
    assert hatched_somewhere  # police-recorded ASB has LSOAs with 1-4 incidents

"""PDF flavour: rendered once, then read back as text, outline, structure and page images."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pypdf
import pytest
from PIL import Image

from cspkit.report.pdf import render_pdf
from tests.report.report_sample import sample_document

HEADINGS = [
    "Contents",
    "Glossary",
    "Executive summary",
    "Introduction",
    "Crime and disorder",
    "Trend in recorded crime",
    "Where crime happens",
    "Anti-social behaviour",
    "Appendix A: Last year's recommendations",
    "Data sources and licences",
]
needs_poppler = pytest.mark.skipif(
    not (shutil.which("pdftotext") and shutil.which("pdftoppm")), reason="poppler-utils not installed"
)


@pytest.fixture(scope="module")
def pdf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return render_pdf(sample_document(), tmp_path_factory.mktemp("pdf") / "assessment.pdf")


@pytest.fixture(scope="module")
def reader(pdf: Path) -> pypdf.PdfReader:
    return pypdf.PdfReader(pdf)


def _layout_pages(pdf: Path) -> list[list[str]]:
    """Each page's non-empty lines, in page layout order (pdftotext -layout)."""
    out = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True)
    pages = out.stdout.split("\f")[:-1]
    return [[line.strip() for line in page.splitlines() if line.strip()] for page in pages]


def test_every_heading_and_page_number(reader: pypdf.PdfReader) -> None:
    texts = [page.extract_text() for page in reader.pages]
    n = len(texts)
    assert 8 <= n <= 14
    whole = "\n".join(texts)
    for heading in HEADINGS:
        assert heading in whole
    for i, text in enumerate(texts, start=1):
        assert f"Page {i} of {n}" in text
        assert text.count("OFFICIAL") >= 2
    assert "Top 25 of 60 rows shown; full table in the Excel annex." in whole
    assert "E01015424" in whole and "E01015425" not in whole  # row 25 printed, row 26 not


def test_outline_metadata_and_tags(reader: pypdf.PdfReader) -> None:
    def titles(items: list[object], depth: int = 1) -> list[tuple[int, str]]:
        found: list[tuple[int, str]] = []
        for item in items:
            if isinstance(item, list):
                found += titles(item, depth + 1)
            else:
                found.append((depth, item.title))  # type: ignore[attr-defined]
        return found

    outline = titles(reader.outline)  # type: ignore[arg-type]
    assert [t for _, t in outline] == HEADINGS
    assert (2, "Trend in recorded crime") in outline
    meta = reader.metadata
    assert meta is not None and meta.title == "Partnership Strategic Assessment 2023 – Safer Luton Partnership"
    assert meta.author == "Safer Luton Partnership"
    root: Any = reader.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"])  # tagged PDF
    assert root["/Lang"] == "en-GB"
    assert "/StructTreeRoot" in root
    mediabox = reader.pages[0].mediabox
    assert round(float(mediabox.width) / 72 * 25.4) == 210 and round(float(mediabox.height) / 72 * 25.4) == 297


@needs_poppler
def test_marking_top_and_bottom_of_every_page(pdf: Path) -> None:
    pages = _layout_pages(pdf)
    for i, lines in enumerate(pages, start=1):
        assert lines[0] == "OFFICIAL", f"page {i} header"
        assert "OFFICIAL" in lines[-1] and lines[-1].endswith(f"Page {i} of {len(pages)}"), f"page {i} footer"


@needs_poppler
def test_contents_page_numbers_point_at_the_headings(pdf: Path) -> None:
    pages = _layout_pages(pdf)
    contents = pages[1]
    assert contents[1] == "Contents"
    for heading in ("Executive summary", "Crime and disorder", "Where crime happens", "Glossary"):
        entry = next(line for line in contents if line.startswith(heading))
        page_no = int(entry.rsplit(".", 1)[-1].strip())
        assert heading in pages[page_no - 1], f"{heading} not on page {page_no}"


@needs_poppler
def test_fonts_are_embedded_dejavu(pdf: Path) -> None:
    out = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True).stdout
    fonts = [line.split()[0] for line in out.splitlines()[2:]]
    assert fonts and all("DejaVu-Sans" in f for f in fonts)
    assert all(" yes " in line for line in out.splitlines()[2:])


@needs_poppler
def test_pages_render_as_expected(pdf: Path, tmp_path: Path) -> None:
    subprocess.run(["pdftoppm", "-png", "-r", "50", str(pdf), str(tmp_path / "p")], check=True)
    images = sorted(tmp_path.glob("p-*.png"))
    assert len(images) == len(_layout_pages(pdf))

    def share(path: Path, test: Callable[[Any, Any, Any], Any]) -> float:
        """Share of the page's pixels for which test(r, g, b) holds."""
        with Image.open(path) as im:
            rgb = np.asarray(im.convert("RGB")).astype(int)
        return float(test(rgb[..., 0], rgb[..., 1], rgb[..., 2]).mean())

    with Image.open(images[0]) as im:
        width, height = im.size
        assert abs(width - 413) <= 1 and abs(height - 585) <= 1  # A4 at 50 dpi
    # Cover: mostly the dark brand colour; contents: mostly white paper.
    assert share(images[0], lambda r, g, b: (b > r + 30) & (r + g + b < 300)) > 0.6
    assert share(images[1], lambda r, g, b: (r > 240) & (g > 240) & (b > 240)) > 0.9
    # The chart page (Figure 1) has the chart's blue line and orange forecast band.
    chart_page = next(
        i for i, lines in enumerate(_layout_pages(pdf)) if "Figure 1: Monthly recorded crime" in " ".join(lines)
    )
    assert share(images[chart_page], lambda r, g, b: (b > 150) & (r < 60)) > 0.001  # blue series line
    assert share(images[chart_page], lambda r, g, b: (r > 200) & (g > 150) & (g < 225) & (b < 200)) > 0.002

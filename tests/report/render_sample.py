"""Render the sample document to HTML, PDF, DOCX and XLSX (and PDF pages to PNG) for a visual check.

Usage, from the repository root::

    .venv/bin/python tests/report/render_sample.py [OUTPUT_DIR]   # default: build/report-sample

Needs ``pdftoppm`` (poppler-utils) for the page images; without it the PNG step is skipped.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root

from cspkit.report.docx import render_docx
from cspkit.report.html import render_html
from cspkit.report.pdf import render_pdf
from cspkit.report.xlsx import render_xlsx
from tests.report.report_sample import build_sample_document


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    doc = build_sample_document()
    (out / "sample.html").write_text(render_html(doc), encoding="utf-8")
    (out / "sample-print.html").write_text(render_html(doc, for_print=True), encoding="utf-8")
    render_pdf(doc, out / "sample.pdf")
    render_docx(doc, out / "sample.docx")
    render_xlsx(doc, out / "sample.xlsx")
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "60", str(out / "sample.pdf"), str(out / "page")], check=True)
    sys.stdout.write(f"wrote {sorted(p.name for p in out.iterdir())}\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("build/report-sample"))

"""PDF flavour: the print variant of the HTML rendered by WeasyPrint.

A4 pages with a cover, a contents page with page numbers, the protective marking centred at the top and bottom
of every page, "Page N of M", PDF bookmarks from the headings, and long tables cut to ``print_max_rows``
with a pointer to the Excel annex. The PDF is tagged (``pdf_tags=True``) so screen readers get its structure.
"""

from __future__ import annotations

from pathlib import Path

import weasyprint

from cspkit.report.html import render_html
from cspkit.report.model import Document

__all__ = ["render_pdf"]


def render_pdf(doc: Document, path: str | Path, *, pdf_variant: str | None = None) -> Path:
    """Render a document to a PDF file.

    Args:
        doc: The document.
        path: Where to write the PDF (parent folder must exist).
        pdf_variant: A WeasyPrint PDF variant to claim, e.g. ``"pdf/ua-1"`` (accessible) or ``"pdf/a-3u"``
            (archival). The default writes a tagged PDF without claiming a standard, since conformance has not
            been checked with a validator such as veraPDF.

    Returns:
        The path written.
    """
    path = Path(path)
    html = render_html(doc, for_print=True)
    # base_url is only needed by WeasyPrint's resolver; the HTML references no files or URLs.
    document = weasyprint.HTML(string=html, base_url=str(path.parent))
    document.write_pdf(path, pdf_tags=True, pdf_variant=pdf_variant)
    return path

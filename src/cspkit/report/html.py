"""HTML flavour: one self-contained, accessible HTML file (also the source of the PDF).

Everything is embedded: CSS in a ``<style>`` element, figures as inline SVG. The page fetches nothing; the
only URLs in it are links an author wrote in a paragraph. ``for_print=True`` produces the variant the PDF
renderer feeds to WeasyPrint: A4 page rules, running marking and page numbers, contents with page numbers, and
tables cut to ``print_max_rows``.
"""

from __future__ import annotations

import html as html_lib
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

import markdown
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from cspkit.report.model import Block, Document, Figure, Table, format_value

__all__ = ["inline_svg", "markdown_to_html", "render_html"]

_ALLOWED_LINK = re.compile(r"^(https?://|mailto:|#)", re.IGNORECASE)


class _SafeLinks(markdown.treeprocessors.Treeprocessor):
    """Drop link targets that are not http(s), mailto or in-page anchors (e.g. ``javascript:``)."""

    def run(self, root: ET.Element) -> None:
        for link in root.iter("a"):
            if not _ALLOWED_LINK.match(link.get("href", "")):
                link.attrib.pop("href", None)
            link.attrib.pop("title", None)


def _markdown() -> markdown.Markdown:
    md = markdown.Markdown(extensions=["sane_lists"], output_format="html")
    # No images (they would fetch), no raw HTML (we escape it before parsing anyway).
    for name in ("image_link", "image_reference", "short_image_ref", "html"):
        md.inlinePatterns.deregister(name, strict=False)
    md.preprocessors.deregister("html_block", strict=False)
    md.treeprocessors.register(_SafeLinks(md), "safe_links", 0)
    return md


def markdown_to_html(text: str, md: markdown.Markdown | None = None) -> Markup:
    """Render a paragraph's Markdown subset to safe HTML.

    Raw HTML in ``text`` is escaped first, so it shows as text; links keep only http(s), mailto and ``#``
    targets; images are not rendered.
    """
    md = md or _markdown()
    md.reset()
    escaped = html_lib.escape(text, quote=False)
    return Markup(md.convert(escaped))


_SVG_PROLOGUE = re.compile(r"<\?xml.*?\?>|<!DOCTYPE[^>]*>|<metadata>.*?</metadata>", re.DOTALL)
_SVG_XMLNS = re.compile(r'\s+xmlns(:\w+)?="[^"]*"')
_SVG_IDREF = re.compile(r'(\bid="|href="#|url\(#)([^")]+)')


def inline_svg(svg: str, alt: str, prefix: str) -> Markup:
    """Prepare an SVG document for inlining in HTML.

    Drops the XML prologue, doctype, RDF metadata and namespace declarations (HTML parsers supply the SVG
    namespace), prefixes every id so several charts can share a page, and labels the image for screen readers
    with ``role="img"``, ``aria-label`` and a ``<title>``.
    """
    body = _SVG_PROLOGUE.sub("", svg).strip()
    body = _SVG_XMLNS.sub("", body)
    body = _SVG_IDREF.sub(lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", body)
    label = html_lib.escape(alt, quote=True)
    body = re.sub(
        r"<svg\b([^>]*)>",
        lambda m: f'<svg{m.group(1)} role="img" aria-label="{label}"><title>{label}</title>',
        body,
        count=1,
    )
    return Markup(body)


def raster_img(png: bytes, alt: str) -> Markup:
    """A PNG as an inline data-URI image (no external fetch)."""
    import base64

    data = base64.b64encode(png).decode("ascii")
    label = html_lib.escape(alt, quote=True)
    return Markup(f'<img src="data:image/png;base64,{data}" alt="{label}" style="width: 100%; height: auto">')


def _css_string(text: str) -> str:
    """A CSS string literal: every character outside [A-Za-z0-9 -] hex-escaped, so nothing can break out."""
    out = [ch if ch.isascii() and (ch.isalnum() or ch in " -") else f"\\{ord(ch):x} " for ch in text]
    return '"' + "".join(out) + '"'


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "item"


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("cspkit.report", "templates"),
        autoescape=select_autoescape(["html", "j2", "css"], default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def _helpers(doc: Document, for_print: bool) -> dict[str, Callable[..., Any]]:
    md = _markdown()
    numbers = doc.numbers()

    def block_type(block: Block) -> str:
        return type(block).__name__.lower()

    def number(block: Block) -> int:
        return numbers[id(block)]

    def anchor(block: Table | Figure) -> str:
        kind = "table" if isinstance(block, Table) else "figure"
        return block.id or f"{kind}-{numbers[id(block)]}"

    def rows(table: Table) -> list[dict[str, Any]]:
        return table.print_rows() if for_print else table.rows

    return {
        "md": lambda text: markdown_to_html(text, md),
        "fmt": format_value,
        "svg": lambda fig: (
            raster_img(fig.png, fig.alt)
            if for_print and fig.raster_in_print and fig.png
            else inline_svg(fig.svg, fig.alt, anchor(fig))
        ),
        "block_type": block_type,
        "number": number,
        "anchor": anchor,
        "rows": rows,
    }


def render_html(doc: Document, *, for_print: bool = False) -> str:
    """Render a document to one self-contained HTML page.

    Args:
        doc: The document.
        for_print: Produce the print variant used for the PDF (A4 pages, running marking and page numbers,
            contents with page numbers, long tables cut to ``print_max_rows``).

    Returns:
        The HTML text.
    """
    doc.validate()
    env = _environment()
    css = env.get_template("report.css").render(
        for_print=for_print,
        marking=Markup(_css_string(doc.marking)),
        short_title=Markup(_css_string(f"PSA {doc.period_label}")),  # one line in the footer
    )
    template = env.get_template("report.html.j2")
    return template.render(doc=doc, css=Markup(css), for_print=for_print, slug=_slug, **_helpers(doc, for_print))

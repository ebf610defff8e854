"""HTML flavour: self-contained, well-formed, accessible; the print variant cuts long tables."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

import pytest

from cspkit.report.html import inline_svg, markdown_to_html, render_html
from cspkit.report.model import Document, Paragraph, Section
from tests.report.report_sample import sample_document

VOID = {"meta", "link", "br", "hr", "img", "input", "source", "wbr", "col", "area", "base"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    text: str = ""


@dataclass
class Page(HTMLParser):
    """Parses the page, checks every tag closes in order, and keeps each element with its direct text."""

    elements: list[Element] = field(default_factory=list)
    stack: list[Element] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        el = Element(tag, {k: v or "" for k, v in attrs})
        self.elements.append(el)
        if tag not in VOID:
            self.stack.append(el)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(Element(tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1].tag == tag, f"</{tag}> closes <{self.stack[-1].tag}>"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        for el in self.stack:
            el.text += data

    def all(self, tag: str) -> list[Element]:
        return [e for e in self.elements if e.tag == tag]


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    assert page.stack == [], f"unclosed: {[e.tag for e in page.stack]}"
    return page


@pytest.fixture(scope="module")
def html() -> str:
    return render_html(sample_document())


@pytest.fixture(scope="module")
def page(html: str) -> Page:
    return parse(html)


def test_no_external_resources(html: str) -> None:
    assert not re.search(r"""\b(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.IGNORECASE)
    assert not re.search(r"""url\(\s*["']?\s*(https?:)?//""", html, re.IGNORECASE)
    assert "@import" not in html and "<script" not in html.replace("&lt;script", "")
    assert "<link" not in html  # CSS is embedded


def test_cover_and_markings(page: Page) -> None:
    h1 = page.all("h1")
    assert len(h1) == 1 and h1[0].text == "Partnership Strategic Assessment 2023"
    markings = [p for p in page.all("p") if "marking" in p.attrs.get("class", "")]
    assert [m.text for m in markings] == ["OFFICIAL", "OFFICIAL"]
    assert page.elements.index(markings[0]) < page.elements.index(h1[0])  # banner above everything
    cover = next(e for e in page.all("header") if e.attrs.get("class") == "cover")
    for text in ("Safer Luton Partnership", "May 2022 to April 2023", "2023-07-14", "Public"):
        assert text in cover.text


def test_heading_order_never_skips_a_level(page: Page) -> None:
    levels = [int(e.tag[1]) for e in page.elements if re.fullmatch(r"h[1-6]", e.tag)]
    assert levels[0] == 1
    for before, after in itertools.pairwise(levels):
        assert after <= before + 1
    titles = [e.text for e in page.elements if e.tag in ("h2", "h3")]
    assert titles == [
        "Contents",
        "Glossary",  # at the front, as in the model assessment
        "Executive summary",
        "Introduction",
        "Crime and disorder",
        "Trend in recorded crime",
        "Where crime happens",
        "Anti-social behaviour",
        "Appendix A: Last year's recommendations",
        "Data sources and licences",
    ]


def test_contents_links_resolve(page: Page) -> None:
    ids = {e.attrs["id"] for e in page.elements if "id" in e.attrs}
    assert len(ids) == len([e for e in page.elements if "id" in e.attrs]), "duplicate ids"
    nav = page.all("nav")[0]
    links = [a.attrs["href"] for a in page.all("a") if page.elements.index(a) > page.elements.index(nav)][:9]
    assert links[:3] == ["#executive-summary", "#introduction", "#crime"]
    for href in links:
        assert href[1:] in ids


def test_tables_are_accessible_and_complete(page: Page) -> None:
    tables = page.all("table")
    assert len(tables) == 3
    captions = [c.text for c in page.all("caption")]
    assert captions[0] == "Table 1: Recorded crime by LSOA, May 2022 to April 2023"
    col_headers = [th for th in page.all("th") if th.attrs.get("scope") == "col"]
    assert [th.text for th in col_headers[:4]] == ["LSOA code", "LSOA name", "Ward", "Crimes"]
    assert all(th.attrs.get("scope") in ("col", "row") for th in page.all("th"))
    # The screen version shows every row and formats by column kind.
    assert len([tr for tr in page.all("tr")]) == (1 + 60) + (1 + 3) + (1 + 3)
    cells = [td.text for td in page.all("td")]
    assert "420" in cells and "280.00" in cells and "-15.0%" in cells and "<5" in cells
    assert "Top 25 of 60" not in "".join(e.text for e in page.all("p"))


def test_figures_have_text_alternatives(page: Page) -> None:
    svgs = page.all("svg")
    assert len(svgs) == 3
    for svg in svgs:
        assert svg.attrs["role"] == "img"
        assert svg.attrs["aria-label"].startswith(("Line chart", "Bar chart", "Heatmap"))
        assert "xmlns" not in svg.attrs
    assert len(page.all("title")) == 1 + 3  # the page title and one per chart
    assert page.all("figcaption")[0].text.startswith("Figure 1: Monthly recorded crime")


def test_chart_ids_are_prefixed_per_figure(html: str) -> None:
    ids = re.findall(r'\bid="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    for ref in re.findall(r'(?:href="#|url\(#)([^")]+)', html):
        assert ref in ids


def test_tiles_show_status_in_words(page: Page) -> None:
    badges = [e.text for e in page.all("span") if "badge" in e.attrs.get("class", "")]
    assert badges == ["No rating", "Red", "Green", "Amber", "Green"]
    values = [e.text for e in page.all("p") if e.attrs.get("class") == "tile-value"]
    assert values[:2] == ["18,412", "7,412"]


def test_callouts_and_provenance(page: Page) -> None:
    asides = page.all("aside")
    assert [a.attrs["class"] for a in asides] == ["callout callout-key", "callout callout-caution"]
    assert "Caution: Recording change" in asides[1].text
    sources = [p.text for p in page.all("p") if p.attrs.get("class") == "source"]
    assert "Source: Luton Council ASB team. Findings: asb.category.count." in sources


def test_raw_html_in_text_is_shown_not_run(html: str) -> None:
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>" not in html


def test_markdown_subset() -> None:
    out = markdown_to_html(
        "**Bold** and *it*\n\n- one\n- two\n\n[ok](https://example.org/a?b=1&c=2) "
        "[bad](javascript:alert(1)) ![img](https://x/y.png) <b>raw</b>"
    )
    assert "<strong>Bold</strong>" in out and "<em>it</em>" in out
    assert "<ul>\n<li>one</li>\n<li>two</li>\n</ul>" in out
    assert '<a href="https://example.org/a?b=1&amp;c=2">ok</a>' in out
    assert 'href="javascript' not in out
    assert "<img" not in out
    assert "&lt;b&gt;raw&lt;/b&gt;" in out


def test_author_links_are_the_only_urls() -> None:
    doc = Document(
        "T",
        "P",
        "2023",
        "OFFICIAL",
        "public",
        "2023-01-01",
        sections=[Section("s", "S", blocks=[Paragraph("See [the data](https://data.police.uk/).")])],
    )
    html = render_html(doc)
    assert re.findall(r"https?://[^\"'<>\s]+", html) == ["https://data.police.uk/"]
    assert '<a href="https://data.police.uk/">the data</a>' in html


def test_inline_svg_strips_prologue_and_labels() -> None:
    svg = (
        '<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://x/svg11.dtd">\n'
        '<svg xmlns="http://www.w3.org/2000/svg" width="10pt"><metadata><rdf:RDF/></metadata>'
        '<defs><path id="m1"/></defs><use xlink:href="#m1"/><g clip-path="url(#m1)"/></svg>'
    )
    out = inline_svg(svg, 'Alt "quoted" & <b>', "fig-2")
    assert out.startswith('<svg width="10pt" role="img" aria-label="Alt &quot;quoted&quot; &amp; &lt;b&gt;">')
    assert "<title>Alt &quot;quoted&quot; &amp; &lt;b&gt;</title>" in out
    assert 'id="fig-2-m1"' in out and 'href="#fig-2-m1"' in out and "url(#fig-2-m1)" in out
    assert "http" not in out and "metadata" not in out


def test_print_variant_cuts_long_tables_and_sets_pages() -> None:
    html = render_html(sample_document(), for_print=True)
    page = parse(html)
    assert len(page.all("tr")) == (1 + 25) + (1 + 3) + (1 + 3)
    notes = [p.text for p in page.all("p") if "truncation" in p.attrs.get("class", "")]
    assert notes == ["Top 25 of 60 rows shown; full table in the Excel annex."]
    assert "@page" in html and "counter(pages)" in html and "target-counter(attr(href), page)" in html
    assert '"DejaVu Sans"' in html and "system-ui" not in html


def test_marking_cannot_break_out_of_css() -> None:
    doc = Document("T", "P", "2023", 'OFFICIAL"; } body { display: none } </style>', "restricted", "2023-01-01")
    html = render_html(doc, for_print=True)
    style = html[html.index("<style>") : html.index("</style>")]
    assert "display: none }" not in style
    assert "OFFICIAL\\22 " in style

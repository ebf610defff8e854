"""Building the Partnership Strategic Assessment: the format-neutral document, from findings and priorities.

The structure mirrors the model document (Central Bedfordshire PSA 2012-13): executive summary, introduction,
performance and activities, one chapter per topic and per recommended priority, emerging issues, and appendices
(data sources with data quality, last year's recommendations, the scoring matrix with sensitivity, new
recommendations). Every number comes from a Finding (or from the ingest log for data quality); every table and figure
carries its provenance. Analysts add or replace the text of any section with ``narrative/<section id>.md`` in the
workspace. The public edition suppresses counts from 1 to 4 (with secondary suppression) and drops person-level
detail.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cspkit.bundled import bundled_path
from cspkit.findings.engine import FindingSet
from cspkit.findings.model import Finding
from cspkit.report.figures import finding_chart
from cspkit.report.linkage_chapter import linkage_chapter
from cspkit.report.model import (
    Callout,
    Column,
    Document,
    Figure,
    Paragraph,
    Provenance,
    Section,
    Table,
    Tile,
    Tiles,
)

__all__ = ["AssessmentInputs", "build_document", "glossary_for"]

OGL = "Contains public sector information licensed under the Open Government Licence v3.0."
OS_BOUNDARIES = (
    "Boundaries: Source: Office for National Statistics licensed under the Open Government Licence v.3.0. "
    "Contains OS data © Crown copyright and database right."
)


@dataclass
class AssessmentInputs:
    """Everything the document is built from (all computed before; the builder computes no statistic).

    Attributes:
        partnership: Partnership name.
        fs: The findings of the run.
        edition: ``public`` or ``restricted``.
        marking: Protective marking for this edition.
        suppress_below: Public editions suppress counts from 1 to this minus one.
        priorities: The scoring-matrix result, if it could run.
        data_sources: Rows of the data-sources appendix (from the ingest log).
        previous_recommendations: Last year's recommendations with status.
        new_recommendations: Drafted (or analyst-edited) recommendations.
        checklist: Statutory checklist rows.
        performance: Local indicator rows (quarterly pack), if computed.
        narrative: Section id -> analyst Markdown (replaces the generated text of that section).
        boundaries_lsoa: LSOA boundaries for maps, if available.
        boundaries_ward: Ward boundaries for maps, if available.
        date: Publication date.
    """

    partnership: str
    fs: FindingSet
    edition: str = "restricted"
    marking: str = "OFFICIAL-SENSITIVE"
    suppress_below: int = 5
    priorities: Any | None = None
    data_sources: list[dict[str, Any]] = field(default_factory=list)
    previous_recommendations: list[dict[str, Any]] = field(default_factory=list)
    new_recommendations: list[dict[str, Any]] = field(default_factory=list)
    checklist: list[dict[str, Any]] = field(default_factory=list)
    performance: list[dict[str, Any]] = field(default_factory=list)
    performance_label: str = ""
    narrative: dict[str, str] = field(default_factory=dict)
    boundaries_lsoa: Any | None = None
    boundaries_ward: Any | None = None
    date: str = field(default_factory=lambda: dt.date.today().isoformat())

    @property
    def public(self) -> bool:
        return self.edition == "public"


# ----------------------------------------------------------------------------------------------------------
# small helpers


def _prov(findings: list[Finding], definition: str = "") -> Provenance:
    sources: list[str] = []
    for f in findings:
        for s in f.sources:
            if s not in sources:
                sources.append(s)
    return Provenance(sources=sources, finding_ids=[f.id for f in findings], definition=definition)


def _compared(f: Finding) -> dict[str, Any]:
    """The value, comparison, rate and change cells of a finding's table row."""
    c = f.change
    return {
        "value": f.value,
        "baseline": round(f.baseline, 1) if f.baseline is not None else None,
        "rate": f.rate,
        # a percentage only for a significant change: a % of noise misleads
        "change": c.percent / 100 if c is not None and c.percent is not None and c.significant else None,
    }


def _verdict(f: Finding) -> str:
    c = f.change
    if c is None or c.p_value is None:
        return "not tested"
    if not c.significant:
        return "no significant change"
    worse = (c.direction == "up") == (f.good_direction == "down")
    return f"significant {'rise' if c.direction == 'up' else 'fall'} ({'worse' if worse else 'better'})"


def _p_text(p: float | None, omit: bool = False) -> str:
    """ "; p = 0.02" (or "; p < 0.001") after a verdict; nothing when there is no test or ``omit``."""
    if p is None or omit:
        return ""
    return "; p < 0.001" if p < 0.001 else f"; p = {p:.2g}"


def _status(f: Finding) -> str:
    c = f.change
    if c is None or not c.significant or f.good_direction == "none":
        return "neutral"
    worse = (c.direction == "up") == (f.good_direction == "down")
    return "red" if worse else "green"


def _small(f: Finding, threshold: int) -> bool:
    values = [v for v in (f.value, f.baseline) if v is not None]
    return f.unit == "count" and any(0 < v < threshold for v in values)


_COUNT_NOUNS = (
    "offences?|offenders?|people|persons?|victims?|incidents?|referrals?|members?|crimes?|children|perpetrators?|"
    "reoffenders?|cases?|households?|rows?"
)


def _quotes_small_count(text: str, threshold: int) -> bool:
    """Whether a sentence quotes a count from 1 to ``threshold - 1``: "3 of 40", "(2)", "4 victims".

    Decimals ("1.4 offences"), percentages and the control-chart rule "2 of 3 beyond 2 sigma" are not counts.
    """
    patterns = (
        r"(?<![\w.,\-–])(\d+)\s+of\s+(?!3 beyond)\d",  # "3 of 40" (not the control-chart rule "2 of 3 beyond")
        r"\((\d+)\)",  # "(2)"
        r"\([+\-−](\d+)\)",  # "(+3)": a ward's move between two periods
        rf"(?<![\w.,\-–])(\d+)\s+(?:{_COUNT_NOUNS})\b",  # "4 victims"
    )
    return any(0 < int(m.group(1)) < threshold for p in patterns for m in re.finditer(p, text))


def _scrub(text: str, threshold: int) -> str:
    """Public edition: drop the sentences of a free text that quote a small count."""
    sentences = re.split(r"(?<=[.;])\s+(?=[A-Z(])", text)
    kept = [s for s in sentences if not _quotes_small_count(s, threshold)]
    if len(kept) == len(sentences):
        return text
    return " ".join([*kept, f"(A figure below {threshold} is not published.)"]).strip()


class _Builder:
    def __init__(self, inp: AssessmentInputs) -> None:
        self.inp = inp
        self.fs = inp.fs
        self.used_ids: set[str] = set()

    # -- text ---------------------------------------------------------------------------------------------
    def sentence(self, f: Finding) -> str:
        self.used_ids.add(f.id)
        if self.inp.public and (
            _small(f, self.inp.suppress_below)
            or f.small_number
            or _quotes_small_count(f.sentence, self.inp.suppress_below)
        ):
            return f"{f.title}: the numbers are too small to publish (fewer than {self.inp.suppress_below})."
        return f.sentence

    def scrub(self, text: str) -> str:
        """Free text built from findings (evidence, reasons): small counts removed in the public edition."""
        return _scrub(text, self.inp.suppress_below) if self.inp.public else text

    def narrative(self, section_id: str, generated: list[str]) -> list[Any]:
        override = self.inp.narrative.get(section_id)
        if override is not None:
            return [Paragraph(override)]
        return [Paragraph(t) for t in generated if t]

    # -- tables ---------------------------------------------------------------------------------------------
    def indicator_table(
        self, findings: list[Finding], caption: str, id_: str, with_rate: bool = True, compact: bool = False
    ) -> Table:
        """Indicators with their test. ``compact`` keeps the counts, the change and the verdict only."""
        cols = [
            Column("indicator", "Indicator"),
            Column("value", "Current", "int"),
            Column("baseline", "Comparison", "int"),
            Column("change", "Change", "percent"),
            Column("ratio", "Rate ratio (95% CI)"),
            Column("verdict", "Verdict (adjusted p)"),
            Column("signal", "Control chart"),
        ]
        if compact:
            cols = [c for c in cols if c.key in ("indicator", "value", "baseline", "change")]
            cols.append(Column("verdict", "Verdict"))
        if with_rate:
            cols.insert(3, Column("rate", "Per 1,000", "rate"))
        rows = []
        for f in findings:
            self.used_ids.add(f.id)
            c = f.change
            rows.append(
                {
                    "indicator": f.title,
                    **_compared(f),
                    "ratio": (
                        f"{c.rate_ratio:.2f} ({c.ci_low:.2f}–{c.ci_high:.2f})"
                        if c is not None and c.rate_ratio is not None and c.ci_low is not None and c.ci_high is not None
                        else ""
                    ),
                    "verdict": _verdict(f) + _p_text(c.p_adjusted if c is not None else None, compact),
                    "signal": f"{f.spc.rule} ({f.spc.month})" if f.spc else "none",
                }
            )
        table = Table(cols, rows, caption=caption, id=id_, provenance=_prov(findings, self.fs.comparison.note))
        return self.protect(table)

    def protect(self, table: Table) -> Table:
        """Public edition: suppress counts 1..threshold-1 with secondary suppression; blank derived cells."""
        if not self.inp.public:
            return table
        import pandas as pd

        from cspkit.privacy.disclosure import suppress_table

        int_cols = [c.key for c in table.columns if c.kind == "int"]
        if not int_cols or not table.rows:
            return table

        def count(value: Any) -> int:
            return round(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0

        frame = pd.DataFrame([[count(r.get(k)) for k in int_cols] for r in table.rows], columns=int_cols)
        result = suppress_table(frame, threshold=self.inp.suppress_below, secondary=True)
        derived = [c.key for c in table.columns if c.kind in ("float", "percent", "rate")] + ["ratio"]
        rows = []
        for i, row in enumerate(table.rows):
            new = dict(row)
            hidden = False
            for j, k in enumerate(int_cols):
                if bool(result.suppressed.iloc[i, j]):
                    new[k] = str(result.display.iloc[i, j])
                    hidden = True
            if hidden:
                for k in derived:
                    if k in new:
                        new[k] = "–"
                if isinstance(new.get("verdict"), str):  # a p-value with the other count could give a count away
                    new["verdict"] = re.sub(r"; p [<=] \S+$", "", new["verdict"])
            rows.append(new)
        note = (table.note + " " if table.note else "") + (
            f"Counts from 1 to {self.inp.suppress_below - 1} are shown as <{self.inp.suppress_below}; cells marked * "
            "are hidden so that they cannot be worked out from totals."
            if result.n_primary or result.n_secondary
            else ""
        )
        return Table(table.columns, rows, table.caption, note.strip(), table.print_max_rows, table.id, table.provenance)

    def ward_table(self, prefix: str, suffix: str, caption: str, id_: str) -> Table | None:
        findings = [f for f in self.fs.findings if f.id.startswith(f"{prefix}.ward.") and f.id.endswith(suffix)]
        if not findings:
            return None
        findings.sort(key=lambda f: -(f.value or 0))
        rows = []
        for f in findings:
            self.used_ids.add(f.id)
            rows.append(
                {
                    "ward": f.area_name,
                    "code": f.area,
                    **_compared(f),
                    "verdict": _verdict(f),
                }
            )
        cols = [
            Column("ward", "Ward"),
            Column("code", "Code"),
            Column("value", "Current", "int"),
            Column("baseline", "Comparison", "int"),
            Column("rate", "Per 1,000", "rate"),
            Column("change", "Change", "percent"),
            Column("verdict", "Verdict (BH across wards)"),
        ]
        return self.protect(
            Table(cols, rows, caption=caption, id=id_, print_max_rows=15, provenance=_prov(findings[:1]))
        )

    # -- figures --------------------------------------------------------------------------------------------
    def chart(self, f: Finding | None, caption: str) -> Figure | None:
        if f is None or not f.series:
            return None
        if self.inp.public and any(0 < v < self.inp.suppress_below for _, v in f.series):
            return None  # a monthly chart of small numbers would publish them
        self.used_ids.add(f.id)
        image = finding_chart(f)
        definition = "Monthly counts with control limits"
        cc = f.extra.get("control_chart")
        if cc:
            definition = f"{cc['chart']} control chart: {cc['reason']}"
        fc = f.extra.get("forecast")
        if fc:
            mase = fc.get("backtest_mase")
            definition += f" Forecast: {fc['model']} ({fc['rule']})"
            if mase is not None:
                definition += f"; backtest MASE {mase:.2f} on the last {len(fc.get('backtest_months', []))} months"
            definition += "."
        return Figure.from_chart(image, caption=caption, provenance=_prov([f], definition))

    def hotspot_map(self, hotspot_id: str, title: str) -> Figure | None:
        f = self.fs.get(hotspot_id)
        if f is None or self.inp.boundaries_lsoa is None:
            return None
        counts = f.extra.get("lsoa_counts") or {}
        if not counts:
            return None
        from cspkit.report.maps import choropleth_png, choropleth_svg

        gi = f.extra.get("gi_star") or {}
        hot = [a["code"] for a in gi.get("areas", []) if a.get("classification") == "hot"] if gi else []
        if not hot:
            hot = [p["lsoa"] for p in f.extra.get("persistent", [])]
        suppressed = [c for c, v in counts.items() if 0 < v < self.inp.suppress_below] if self.inp.public else []
        label = "Incidents in the period"
        bounds = self.inp.boundaries_lsoa
        if "name" in bounds:  # "005C" rather than "Central Bedfordshire 005C" in the legend's hotspot list
            prefix = f"{self.fs.area.name} "
            bounds = bounds.assign(name=[str(n).removeprefix(prefix) for n in bounds["name"]])
        svg = choropleth_svg(counts, bounds, title, label, hotspots=hot, suppressed=suppressed)
        png = choropleth_png(counts, bounds, title, label, hotspots=hot, suppressed=suppressed)
        self.used_ids.add(f.id)
        alt = f"Map of {title[:1].lower() + title[1:]} in {self.fs.area.name}; {len(hot)} LSOAs outlined as hotspots."
        if suppressed:
            alt += (
                f" {len(suppressed)} LSOAs with fewer than {self.inp.suppress_below} incidents are hatched grey "
                "(suppressed)."
            )
        return Figure(
            svg=svg,
            png=png,
            alt=alt,
            caption=title,
            raster_in_print=True,
            provenance=_prov(
                [f], "Counts by LSOA; outlined: Gi* hot spots (or persistent top-10% LSOAs). " + OS_BOUNDARIES
            ),
        )

    def ward_map(self, prefix: str, suffix: str, title: str) -> Figure | None:
        """Rate per 1,000 residents by ward; wards with a significant rise (the wrong way) outlined."""
        bounds = self.inp.boundaries_ward
        if bounds is None:
            return None
        findings = [f for f in self.fs.findings if f.id.startswith(f"{prefix}.ward.") and f.id.endswith(suffix)]
        if not findings:
            return None
        from cspkit.report.maps import choropleth_png, choropleth_svg

        rates = {f.area: f.rate for f in findings if f.rate is not None}
        if not rates:
            return None
        rising = [
            f.area
            for f in findings
            if f.change is not None
            and f.change.significant
            and f.change.direction == "up"
            and f.good_direction == "down"
        ]
        small = [f.area for f in findings if f.value is not None and 0 < f.value < self.inp.suppress_below]
        suppressed = small if self.inp.public else []
        label = "Per 1,000 residents"
        svg = choropleth_svg(rates, bounds, title, label, hotspots=rising, suppressed=suppressed)
        png = choropleth_png(rates, bounds, title, label, hotspots=rising, suppressed=suppressed)
        self.used_ids.update(f.id for f in findings)
        alt = (
            f"Map of {title[:1].lower() + title[1:]} by ward in {self.fs.area.name}; {len(rising)} wards with a "
            "statistically significant rise are outlined."
        )
        return Figure(
            svg=svg,
            png=png,
            alt=alt,
            caption=title,
            raster_in_print=True,
            provenance=_prov(
                findings[:1],
                "Rate per 1,000 residents (mid-year population) by ward; outlined: wards whose count rose "
                "significantly (exact test, Benjamini-Hochberg across wards). " + OS_BOUNDARIES,
            ),
        )

    # -- sections -------------------------------------------------------------------------------------------
    def findings_of(self, prefix: str, exclude_wards: bool = True) -> list[Finding]:
        return [f for f in self.fs.findings if f.id.startswith(prefix) and (not exclude_wards or ".ward." not in f.id)]


def _tile(f: Finding | None, label: str, builder: _Builder, proportion: bool = False) -> Tile | None:
    if f is None or f.value is None:
        return None
    builder.used_ids.add(f.id)
    if builder.inp.public and _small(f, builder.inp.suppress_below):
        return Tile(label, f"<{builder.inp.suppress_below}", "too small to publish", "neutral")
    value = f"{f.value:.0%}" if proportion or f.unit == "proportion" else f"{f.value:,.0f}"
    detail = ""
    c = f.change
    if c is not None and f.baseline is not None:
        before = f"{f.baseline:.0%}" if proportion or f.unit == "proportion" else f"{f.baseline:,.0f}"
        detail = f"{_verdict(f)}; was {before}"
    return Tile(label, value, detail, _status(f))  # type: ignore[arg-type]


def _cautious(tile: Tile | None) -> Tile | None:
    """No red or green for the cohort's reoffending: members on the programme for part of the period have less
    time to offend than in the 12-month baseline, and people join at a peak (regression to the mean)."""
    if tile is None:
        return None
    return Tile(tile.label, tile.value, tile.detail + "; read with the cautions in the chapter", "neutral")


def glossary_for(text: str) -> list[tuple[str, str]]:
    """Glossary entries for the acronyms the text actually uses (from the bundled glossary file)."""
    path = bundled_path("report/glossary.csv")
    with path.open(encoding="utf-8") as fh:
        entries = [(r["term"], r["meaning"]) for r in csv.DictReader(fh)]
    return [(t, m) for t, m in entries if re.search(rf"\b{re.escape(t)}\b", text)]


def build_document(inp: AssessmentInputs) -> Document:
    """The whole assessment as a format-neutral document."""
    b = _Builder(inp)
    fs = inp.fs
    sections = [
        _executive_summary(b),
        _introduction(b),
        _performance(b),
        _crime_chapter(b),
        *[s for s in (_asb_chapter(b), _reoffending_chapter(b), _da_chapter(b), _sv_chapter(b)) if s is not None],
        *[s for s in (linkage_chapter(b),) if s is not None],  # report/linkage_chapter.py
        *_priority_chapters(b),
        _emerging(b),
        _appendix_sources(b),
        _appendix_previous(b),
        _appendix_matrix(b),
        _appendix_new(b),
    ]
    year = fs.period.last[:4]
    doc = Document(
        title=f"Partnership Strategic Assessment {fs.period.label}",
        partnership=inp.partnership,
        period_label=fs.period.label,
        marking=inp.marking,
        edition="public" if inp.public else "restricted",
        date=inp.date,
        sections=sections,
        attribution=[
            OGL,
            OS_BOUNDARIES,
            "Police data: data.police.uk street-level crime and ASB (locations anonymised to snap points).",
            "Partner data in the demonstration workspace is synthetic (generated by cspkit synth).",
            f"Produced with cspkit; findings for {fs.area.name}, {fs.period.label} ({year}).",
        ],
    )
    text = " ".join(_all_text(doc))
    doc.glossary = glossary_for(text)
    return doc


def _all_text(doc: Document) -> list[str]:
    out = []
    for _, section in doc.walk():
        out.append(section.title)
        for block in section.blocks:
            if isinstance(block, Paragraph):
                out.append(block.text)
            elif isinstance(block, Callout):
                out.append(block.title + " " + block.text)
            elif isinstance(block, Table):
                out.append(block.caption)
                out.extend(str(v) for r in block.rows for v in r.values())
    return out


def _executive_summary(b: _Builder) -> Section:
    fs = b.fs
    tiles = [
        _tile(fs.get("crime.all.count"), "All crime", b),
        _tile(fs.get("asb.count"), "ASB (police)", b),
        _tile(fs.get("da.incidents"), "Domestic abuse incidents", b),
        _tile(fs.get("da.marac.referrals"), "MARAC referrals", b),
        _tile(fs.get("asb.repeat_victims"), "Repeat ASB victims", b),
        _cautious(_tile(fs.get("reoffending.binary_rate"), "IOM cohort reoffending", b, proportion=True)),
    ]
    blocks: list[Any] = [
        *b.narrative(
            "summary",
            [
                f"This assessment covers {fs.area.name} for {fs.period.label}, compared with "
                f"{fs.comparison.baseline_label}. Changes are called significant only when an exact test, adjusted "
                "for the number of indicators compared, says they are unlikely to be chance (false discovery rate "
                f"{fs.definitions.get('definitions.significance_level', 0.05):.0%}); otherwise the report says there "
                "was no significant change, whatever the percentage."
            ],
        ),
        Tiles([t for t in tiles if t is not None], provenance=_prov([f for f in (fs.get("crime.all.count"),) if f])),
    ]
    sub: list[Section] = []
    pr = b.inp.priorities
    if pr is not None:
        rows = []
        sens = {r.candidate: r for r in pr.sensitivity.rows} if pr.sensitivity else {}
        for row in pr.ranking.rows:
            if not row.complete:
                continue
            s = sens.get(row.candidate)
            rows.append(
                {
                    "rank": row.rank,
                    "issue": row.label,
                    "score": row.total,
                    "band": row.band,
                    "robustness": f"{s.stability} ({s.share_top_n:.0%} of runs in top {pr.sensitivity.top_n})"
                    if s
                    else "",
                    "flags": "; ".join(row.overrides),
                }
            )
        recommended = [r for r in rows if r["band"] == (pr.matrix.bands[0].label if pr.matrix.bands else None)]
        text = (
            "The scoring matrix recommends these priorities: "
            + ", ".join(f"**{r['issue']}**" for r in recommended)
            + "."
            if recommended
            else "No candidate reached the top band of the scoring matrix."
        )
        sub.append(
            Section(
                "summary-priorities",
                "Recommended priorities",
                [
                    Paragraph(text),
                    Table(
                        [
                            Column("rank", "Rank", "int"),
                            Column("issue", "Issue"),
                            Column("score", "Score", "float"),
                            Column("band", "Band"),
                            Column("robustness", "Robustness (weights ±20%, harm index)"),
                            Column("flags", "Flags (not scored)"),
                        ],
                        rows[:6],  # the full ranking is in appendix C
                        caption="Top of the priority ranking",
                        id="summary-ranking",
                        provenance=Provenance(sources=["scoring matrix (appendix C)"], definition=pr.matrix.label),
                    ),
                ],
            )
        )
    significant = [
        f
        for f in fs.findings
        if ".ward." not in f.id and f.change is not None and f.change.significant and f.unit == "count"
    ]
    significant.sort(key=lambda f: abs(f.change.absolute) if f.change else 0, reverse=True)
    top = significant[:8]
    change_blocks: list[Any]
    if top:
        worse = sum(1 for f in top if _status(f) == "red")
        change_blocks = [
            *b.narrative(
                "summary-changes",
                [
                    f"{len(significant)} area indicators changed significantly; the {len(top)} largest changes "
                    f"are below ({worse} for the worse, {len(top) - worse} for the better). The chapters give "
                    "the detail, the rates per 1,000 and the confidence intervals."
                ],
            ),
            b.indicator_table(
                top,
                "The largest significant changes",
                "summary-changes-table",
                with_rate=False,
                compact=True,
            ),
        ]
    else:
        change_blocks = b.narrative(
            "summary-changes", ["No indicator changed significantly compared with the baseline."]
        )
    sub.append(Section("summary-changes", "The most important significant changes", change_blocks))
    prev = b.inp.previous_recommendations
    if prev:
        counts: dict[str, int] = {}
        for r in prev:
            counts[str(r.get("rag", r.get("status")))] = counts.get(str(r.get("rag", r.get("status"))), 0) + 1
        summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
        sub.append(
            Section(
                "summary-progress",
                "Progress on last year's recommendations",
                [Paragraph(f"Of {len(prev)} recommendations in last year's plan: {summary} (appendix B).")],
            )
        )
    return Section("summary", "Executive summary", blocks, sub, xlsx_sheet="Summary")


def _introduction(b: _Builder) -> Section:
    fs = b.fs
    area = fs.area
    pop = area.total_population()
    women = area.total_adult_women()
    profile = (
        f"{area.name} has {len(area.lsoa_ward)} LSOAs in {len(area.ward_names)} wards"
        + (f" and {pop:,.0f} residents ({area.population_source})" if pop else "")
        + (f", of whom {women:,.0f} are women aged 16 and over." if women else ".")
    )
    statutory = (
        "The Crime and Disorder Act 1998 (s.6) and the Crime and Disorder (Formulation and Implementation of "
        "Strategy) Regulations 2007 require the partnership to assess every year the levels and patterns of crime, "
        "disorder, anti-social behaviour, substance misuse and reoffending in its area, how they changed and why, "
        "what local people think should be prioritised, and how far last year's plan was implemented."
    )
    definitions = [
        {"setting": k.split(".", 1)[1].replace("_", " "), "value": str(v)}
        for k, v in fs.definitions.items()
        if k.startswith("definitions.")
    ]
    method = [
        f"Period: {fs.period.label}, compared with {fs.comparison.baseline_label}. {fs.comparison.note}",
        "Change tests: the exact test for two Poisson counts (conditional binomial, allowing for different "
        "exposure), with the rate ratio and its 95% confidence interval; verdicts after Benjamini-Hochberg "
        "adjustment across the indicators compared together (area indicators as one family, ward indicators as "
        "another). Harm-weighted totals are not counts and are not tested.",
        "Control charts: a c-chart for monthly counts, or an XmR chart when the series is over-dispersed (chi-square "
        "dispersion test at p < 0.01); signals: a point beyond 3 sigma, 2 of 3 beyond 2 sigma, 8 in a row on one "
        "side.",
        "Forecasts: exponential smoothing with seasonality when 24 or more months are loaded (Holt's trend with "
        "12-23 months, simple smoothing below), with 80% and 95% intervals and a backtest on the last 6 months.",
        "Hotspots: share of incidents in the top 10% of LSOAs; persistent hotspots (top 10% in every 12-month "
        "block loaded); emerging hotspots (exact test, Benjamini-Hochberg across LSOAs); local Getis-Ord Gi* on "
        "queen contiguity with 999 permutations (fixed seed) and false discovery rate control.",
    ]
    harm = fs.get("crime.harm.total")
    if harm is not None:
        method.append(f"Harm: {harm.definition}")
    method += fs.notes
    sub = [
        Section("intro-area", "The area", b.narrative("intro-area", [profile])),
        Section(
            "intro-method",
            "Method and definitions",
            [
                *b.narrative("intro-method", method),
                Table(
                    [Column("setting", "Definition"), Column("value", "Value")],
                    definitions,
                    caption="Definitions in force (cspkit.toml)",
                    id="definitions",
                ),
            ],
        ),
    ]
    if b.inp.checklist:
        sub.append(
            Section(
                "intro-checklist",
                "Statutory checklist",
                [
                    Table(
                        [
                            Column("id", "Ref"),
                            Column("requirement", "Requirement"),
                            Column("status", "Status"),
                            Column("evidence", "Evidence or action"),
                        ],
                        [{**r, "evidence": b.scrub(str(r.get("evidence") or ""))} for r in b.inp.checklist],
                        caption="Statutory content of the assessment (SI 2007/1830 reg. 5)",
                        id="checklist",
                    )
                ],
            )
        )
    return Section(
        "introduction", "Introduction", b.narrative("introduction", [statutory]), sub, xlsx_sheet="Introduction"
    )


def _performance(b: _Builder) -> Section:
    fs = b.fs
    blocks: list[Any] = []
    if b.inp.performance:
        blocks.append(
            b.protect(
                Table(
                    [
                        Column("indicator", "Indicator"),
                        Column("value", "Quarter", "int"),
                        Column("last_year", "Same quarter last year", "int"),
                        Column("ytd", "Year to date", "int"),
                        Column("ytd_last_year", "YTD last year", "int"),
                        Column("verdict", "Verdict"),
                        Column("rag", "RAG"),
                        Column("reason", "Why"),
                    ],
                    [_performance_row(r, b) for r in b.inp.performance],
                    caption=f"Local performance indicators, {b.inp.performance_label}",
                    id="performance",
                    note="RAG: red only for a significant move the wrong way or a target missed by more than its "
                    "tolerance; amber for a move the wrong way that is not significant, a control-chart signal the "
                    "wrong way, or a target missed within tolerance; green otherwise; grey when there is no data.",
                )
            )
        )
    area_counts = [
        f
        for f in fs.findings
        if f.unit == "count" and ".ward." not in f.id and f.change is not None and f.topic in ("crime", "asb")
    ]
    blocks.append(
        b.indicator_table(area_counts, f"Police-recorded crime and ASB, {fs.period.label}", "crime-indicators")
    )
    return Section(
        "performance",
        "Performance and activities",
        [*b.narrative("performance", []), *blocks],
        xlsx_sheet="Performance",
    )


_PERFORMANCE_VALUES = ("value", "last_year", "ytd", "ytd_last_year")


def _performance_row(row: dict[str, Any], b: _Builder) -> dict[str, Any]:
    """A performance row as printed: a rate indicator's values as percentages (the columns hold counts)."""
    out = dict(row)
    out.pop("unit", None)
    values = [row.get(k) for k in _PERFORMANCE_VALUES]
    proportion = (
        row["unit"] == "proportion"
        if "unit" in row
        else any(isinstance(v, float) and not v.is_integer() for v in values)
    )
    if proportion:
        for k in _PERFORMANCE_VALUES:
            v = row.get(k)
            out[k] = f"{v:.1%}" if isinstance(v, int | float) else v
    out["reason"] = b.scrub(str(row.get("reason") or ""))
    return out


def _crime_chapter(b: _Builder) -> Section:
    fs = b.fs
    allc = fs.get("crime.all.count")
    blocks: list[Any] = []
    if allc is not None:
        blocks += b.narrative("crime", [b.sentence(allc)])
        fig = b.chart(allc, "All police-recorded crime per month, with control limits and forecast")
        if fig:
            blocks.append(fig)
    harm = fs.get("crime.harm.total")
    if harm is not None:
        rows = [
            {"crime_type": r["crime_type"], "harm": r["harm"], "share": r["share"]}
            for r in harm.extra.get("by_crime_type", [])
        ]
        blocks.append(Paragraph(b.sentence(harm)))
        blocks.append(
            Table(
                [
                    Column("crime_type", "Crime type"),
                    Column("harm", "Harm (approx. days)", "int"),
                    Column("share", "Share", "percent"),
                ],
                rows,
                caption="Where the harm is: harm-weighted crime by type (approximate weights)",
                id="harm",
                provenance=_prov([harm], harm.definition),
            )
        )
    blocks += _where_blocks(b, "crime.all", ".count", "All crime", "crime-wards")
    cov = fs.get("quality.police.coverage")
    if cov is not None:
        blocks.append(Callout("caution", "Police data coverage", b.sentence(cov)))
    return Section("crime", "Crime", blocks, xlsx_sheet="Crime")


def _where_blocks(
    b: _Builder, prefix: str, suffix: str, what: str, table_id: str, *, lsoa_map: bool = True
) -> list[Any]:
    """Where it happens: the hotspot sentence, the LSOA hotspot map, the ward map and the ward table."""
    blocks: list[Any] = []
    hot = b.fs.get(f"{prefix}.hotspots")
    if hot is not None:
        blocks.append(Paragraph(b.sentence(hot)))
        if lsoa_map:
            blocks.append(b.hotspot_map(f"{prefix}.hotspots", f"{what} by LSOA"))
    blocks.append(b.ward_map(prefix, suffix, f"{what} per 1,000 residents by ward"))
    blocks.append(b.ward_table(prefix, suffix, f"{what} by ward", table_id))
    return [block for block in blocks if block is not None]


def _topic_blocks(b: _Builder, prefix: str, skip: set[str]) -> list[Any]:
    blocks: list[Any] = []
    for f in b.findings_of(prefix):
        if f.id in skip:
            continue
        blocks.append(Paragraph(b.sentence(f)))
    return blocks


def _asb_chapter(b: _Builder) -> Section | None:
    fs = b.fs
    police = fs.get("asb.count")
    partner = b.findings_of("asb.")
    if police is None and not partner:
        return None
    blocks: list[Any] = []
    if police is not None:
        blocks += b.narrative("asb", [b.sentence(police)])
        fig = b.chart(police, "Police-recorded ASB per month, with control limits and forecast")
        if fig:
            blocks.append(fig)
    counts = [f for f in partner if f.unit == "count" and f.change is not None and f.id != "asb.count"]
    if counts:
        blocks.append(b.indicator_table(counts, "ASB indicators (police and partners)", "asb-indicators"))
    sub = []
    repeat = [
        fs.get(i)
        for i in (
            "asb.repeat_victims",
            "asb.repeat_victim_rate",
            "asb.incidents_from_repeat_victims",
            "asb.community_trigger_eligible",
            "asb.vulnerable_victims",
            "asb.high_risk_cases",
        )
    ]
    repeat_f = [f for f in repeat if f is not None]
    if repeat_f:
        sub.append(
            Section(
                "asb-victims",
                "Repeat and vulnerable victims",
                b.narrative("asb-victims", [b.sentence(f) for f in repeat_f]),
            )
        )
    others = _topic_blocks(b, "asb.", {f.id for f in repeat_f} | {f.id for f in counts} | {"asb.count", "asb.hotspots"})
    places = _where_blocks(b, "asb", ".count", "Police-recorded ASB", "asb-wards")
    if places:
        sub.append(Section("asb-places", "Where ASB happens", places))
    if others:
        sub.append(Section("asb-more", "Patterns and data quality", others))
    return Section("asb", "Anti-social behaviour", blocks, sub, xlsx_sheet="ASB")


def _sentences(b: _Builder, findings: list[Finding]) -> list[str]:
    """The findings' sentences; in the public edition the too-small ones are named together in one sentence."""
    texts: list[tuple[Finding, str]] = []
    small: list[tuple[Finding, str]] = []
    for f in findings:
        text = b.sentence(f)
        (small if text.endswith("too small to publish (fewer than " + f"{b.inp.suppress_below}).") else texts).append(
            (f, text)
        )
    out: list[str] = []
    for _, t in texts:
        if t not in out:  # several findings can share one sentence (e.g. a follow-up not yet possible)
            out.append(t)
    if len(small) == 1:
        out.append(small[0][1])
    elif small:
        names = "; ".join(f.title for f, _ in small)
        out.append(f"Not published because the numbers are too small (fewer than {b.inp.suppress_below}): {names}.")
    return out


_COHORTS = {"iom": "IOM cohort", "ppo": "PPO cohort"}


def _reoffending_chapter(b: _Builder) -> Section | None:
    findings = b.findings_of("reoffending.")
    if not findings:
        return None
    caution = Callout(
        "caution",
        "Regression to the mean",
        "People join an offender-management programme when their offending is at a peak, so some fall in their "
        "offending would happen anyway. Read before/after falls as an upper bound of the programme's effect. "
        "Members who joined or left during the period were on the programme for only part of it, so they had less "
        "time to offend than in the 12-month baseline: a fall in the same-period measures partly reflects that.",
    )
    groups: dict[str, list[Finding]] = {"": []}
    for f in findings:
        cohort = f.id.split(".")[1]
        groups.setdefault(cohort if cohort in _COHORTS else "", []).append(f)
    main = groups.pop("")
    subsections = [
        Section(
            f"reoffending-{key}",
            f"The {_COHORTS[key]}",
            [
                *b.narrative(f"reoffending-{key}", _sentences(b, _key_reoffending(group))),
                _measures_table(b, group, f"Reoffending measures: the {_COHORTS[key]}", f"reoffending-{key}-table"),
            ],
        )
        for key, group in groups.items()
    ]
    return Section(
        "reoffending",
        "Reducing reoffending",
        [
            *b.narrative("reoffending", _sentences(b, _key_reoffending(main))),
            caution,
            _measures_table(b, main, "Reoffending measures: all cohorts", "reoffending-table"),
        ],
        subsections,
        xlsx_sheet="Reoffending",
    )


#: The reoffending measures told in words; the others are in the chapter's table.
_KEY_REOFFENDING = ("reoffences_per_reoffender", "binary_rate", "before_after_change", "followup.binary_rate")


def _key_reoffending(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if any(f.id.endswith("." + k) for k in _KEY_REOFFENDING)]


def _measures_table(b: _Builder, findings: list[Finding], caption: str, id_: str) -> Table:
    """One row per finding: its value and comparison as printed, and the verdict (a compact chapter table)."""

    def shown(f: Finding, value: float | None) -> str:
        if value is None:
            return ""
        if b.inp.public and (f.small_number or _small(f, b.inp.suppress_below)):
            return f"<{b.inp.suppress_below}" if f.unit == "count" else "not published"
        if f.unit == "proportion":
            return f"{value:.0%}"
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"

    rows = []
    for f in findings:
        b.used_ids.add(f.id)
        rows.append(
            {
                "measure": f.title,
                "value": shown(f, f.value),
                "baseline": shown(f, f.baseline),
                "verdict": _verdict(f) if f.change is not None else "",
            }
        )
    return Table(
        [
            Column("measure", "Measure"),
            Column("value", "Current"),
            Column("baseline", "Comparison"),
            Column("verdict", "Verdict"),
        ],
        rows,
        caption=caption,
        id=id_,
        provenance=_prov(findings),
    )


def _da_chapter(b: _Builder) -> Section | None:
    findings = b.findings_of("da.")
    if not findings:
        return None
    fs = b.fs
    blocks: list[Any] = []
    inc = fs.get("da.incidents")
    main = [f for f in findings if not f.id.startswith("da.marac")]
    blocks += b.narrative("domestic-abuse", [b.sentence(f) for f in main])
    fig = b.chart(inc, "Domestic abuse incidents per month, with control limits")
    if fig:
        blocks.append(fig)
    sub = []
    marac = [f for f in findings if f.id.startswith("da.marac")]
    if marac:
        sub.append(Section("da-marac", "MARAC", b.narrative("da-marac", [b.sentence(f) for f in marac])))
    ward = b.ward_table("da", ".incidents", "Domestic abuse incidents by ward", "da-wards")
    wmap = b.ward_map("da", ".incidents", "Domestic abuse incidents per 1,000 residents by ward")
    if ward:
        sub.append(Section("da-wards", "Where domestic abuse is reported", [x for x in (wmap, ward) if x is not None]))
    return Section("domestic-abuse", "Domestic abuse", blocks, sub, xlsx_sheet="Domestic abuse")


def _sv_chapter(b: _Builder) -> Section | None:
    findings = b.findings_of("sv.")
    police = b.fs.get("crime.violence_and_sexual_offences.count")
    if not findings and police is None:
        return None
    texts = [b.sentence(f) for f in findings]
    if police is not None:
        texts.append("Police context (violence and sexual offences together): " + b.sentence(police))
    return Section(
        "sexual-violence", "Sexual violence", b.narrative("sexual-violence", texts), xlsx_sheet="Sexual violence"
    )


_TOPIC_OF_CANDIDATE = {"asb": "asb", "domestic_abuse": "da", "reoffending": "reoffending", "sexual_violence": "sv"}


def _priority_chapters(b: _Builder) -> list[Section]:
    pr = b.inp.priorities
    if pr is None:
        return []
    out = []
    for key in pr.recommended():
        if key in _TOPIC_OF_CANDIDATE:
            continue  # has its own topic chapter
        f = b.fs.get(f"crime.{key}.count")
        if f is None:
            continue
        blocks: list[Any] = [*b.narrative(f"priority-{key}", [b.sentence(f)])]
        fig = b.chart(f, f"{f.title} per month, with control limits and forecast")
        if fig:
            blocks.append(fig)
        fc = f.extra.get("forecast")
        if fc and not b.inp.public:
            blocks.append(
                Paragraph(
                    f"Looking ahead: the forecast for the next 12 months is about {fc['next_12_months_total']:,.0f} "
                    f"({fc['model']}); treat it as a planning range, not a target."
                )
            )
        blocks += _where_blocks(b, f"crime.{key}", ".count", f.title, f"ward-{key}", lsoa_map=False)
        out.append(Section(f"priority-{key}", f"Priority: {f.title}", blocks, xlsx_sheet=f"Priority {f.title}"[:31]))
    return out


def _emerging(b: _Builder) -> Section:
    emerging = [f for f in b.fs.findings if f.emerging and ".ward." not in f.id]
    texts = [f"- **{f.title}**: {b.sentence(f)}" for f in emerging]
    return Section(
        "emerging",
        "Emerging issues",
        b.narrative(
            "emerging",
            [
                "Issues flagged as emerging have a significant rise, or a control-chart signal in the latest quarter.",
                "\n".join(texts) if texts else "No indicator is flagged as emerging.",
            ],
        ),
        xlsx_sheet="Emerging",
    )


def _appendix_sources(b: _Builder) -> Section:
    rows = b.inp.data_sources
    table = Table(
        [
            Column("source", "Source"),
            Column("agency", "Agency"),
            Column("files", "Files", "int"),
            Column("rows", "Rows loaded", "int"),
            Column("rejected", "Rows rejected", "int"),
            Column("months", "Months"),
            Column("gaps", "Gaps"),
            Column("reasons", "Reject reasons"),
        ],
        rows,
        caption="Data sources, coverage and data quality",
        id="data-sources",
        provenance=Provenance(sources=["cspkit ingest log"]),
    )
    quality = [f for f in b.fs.findings if f.topic == "quality"]
    blocks: list[Any] = [table]
    if quality:
        blocks.append(
            b.indicator_table([f for f in quality if f.change is not None], "Data quality", "dq")
            if any(f.change is not None for f in quality)
            else Paragraph("")
        )
        blocks += [Paragraph(b.sentence(f)) for f in quality]
    return Section("appendix-sources", "Appendix A: Data sources and data quality", blocks, xlsx_sheet="A Data sources")


def _appendix_previous(b: _Builder) -> Section:
    rows = b.inp.previous_recommendations
    if not rows:
        return Section(
            "appendix-previous",
            "Appendix B: Last year's recommendations",
            [Callout("caution", "Missing", "No previous recommendations are loaded (source `recommendations`).")],
        )
    cols = [
        Column("ref", "Ref"),
        Column("text", "Recommendation"),
        Column("owner", "Owner"),
        Column("status", "Status"),
        Column("rag", "RAG"),
        Column("evidence", "Evidence"),
    ]
    return Section(
        "appendix-previous",
        "Appendix B: Last year's recommendations",
        [
            Table(
                cols,
                [{**r, "evidence": b.scrub(str(r.get("evidence") or ""))} for r in rows],
                caption="Previous recommendations and their status",
                id="previous-recommendations",
            )
        ],
        xlsx_sheet="B Previous recs",
    )


def _appendix_matrix(b: _Builder) -> Section:
    pr = b.inp.priorities
    if pr is None:
        return Section(
            "appendix-matrix", "Appendix C: Scoring matrix", [Paragraph("The scoring matrix could not run.")]
        )
    criteria = pr.matrix.criteria
    cols = [Column("rank", "Rank", "int"), Column("issue", "Issue")]
    cols += [Column(c.key, c.label, "float") for c in criteria]
    cols += [Column("total", "Total", "float"), Column("band", "Band"), Column("flags", "Flags (not scored)")]
    rows = []
    evidence_rows = []
    for row in pr.ranking.rows:
        r: dict[str, Any] = {
            "rank": row.rank,
            "issue": row.label,
            "total": row.total,
            "band": row.band or "incomplete: " + ", ".join(row.missing),
            "flags": "; ".join(row.overrides),
        }
        cells = {c.criterion: c for c in row.criteria}
        for c in criteria:
            cell = cells.get(c.key)
            r[c.key] = cell.score if cell else None
            evidence_rows.append(
                {
                    "issue": row.label,
                    "criterion": c.label,
                    "score": cell.score if cell else None,
                    "evidence": b.scrub(_evidence_text(cell, c.key, pr)) if cell else "missing",
                }
            )
        rows.append(r)
    blocks: list[Any] = [
        Paragraph(
            f"Matrix: {pr.matrix.label}. Weights: "
            + ", ".join(f"{c.label} {c.weight:g}" for c in criteria)
            + ". Bands: "
            + "; ".join(f"{band.label} from {band.min:g}" for band in pr.matrix.bands)
            + ". Every evidence score cites its findings; every judgement carries who decided it and why."
        ),
        Table(cols, rows, caption="The scoring matrix: scores and totals", id="matrix", print_max_rows=30),
        Table(
            [
                Column("issue", "Issue"),
                Column("criterion", "Criterion"),
                Column("score", "Score", "float"),
                Column("evidence", "Evidence or justification"),
            ],
            evidence_rows,
            caption="The evidence behind every score",
            id="matrix-evidence",
            print_max_rows=30,
        ),
    ]
    if pr.sensitivity is not None:
        s = pr.sensitivity
        blocks.append(
            Paragraph(
                f"Sensitivity: {s.runs:,} Monte Carlo runs (seed {s.seed}) with every weight varied by up to "
                f"±{s.weight_jitter:.0%} and the harm index switched between {', '.join(s.evidence_sets)}. A priority "
                f"is robust when it stays in the top {s.top_n} in at least 80% of runs."
            )
        )
        blocks.append(
            Table(
                [
                    Column("label", "Issue"),
                    Column("base_rank", "Rank", "int"),
                    Column("share_top_n", f"Share of runs in top {s.top_n}", "percent"),
                    Column("range", "Rank range (5-95%)"),
                    Column("stability", "Robustness"),
                ],
                [{**r, "range": f"{r['rank_p5']}–{r['rank_p95']}"} for r in s.to_rows()],
                caption="How robust is the ranking?",
                id="sensitivity",
            )
        )
    return Section("appendix-matrix", "Appendix C: Scoring matrix", blocks, xlsx_sheet="C Scoring matrix")


def _evidence_text(cell: Any, criterion: str, pr: Any) -> str:
    """A matrix cell's explanation; public concern cites the public_views source it comes from."""
    text = cell.explanation or ""
    views = getattr(pr, "views", None)
    if criterion == "public_concern" and views is not None and getattr(views, "loaded", False):
        cite = f" Source: public_views, {views.source or 'residents survey'} ({views.year})."
        text = text.replace(" No finding ids were given.", "").rstrip() + cite
    if cell.who:
        text += f" (judged by {cell.who}, {cell.when})"
    return text


def _appendix_new(b: _Builder) -> Section:
    rows = b.inp.new_recommendations
    if not rows:
        return Section(
            "appendix-new", "Appendix D: New recommendations", [Paragraph("No priority reached the top band.")]
        )
    cols = [
        Column("ref", "Ref"),
        Column("priority", "Priority"),
        Column("action", "Recommendation"),
        Column("evidence", "Evidence"),
        Column("owner", "Suggested owner"),
    ]
    rows = [{**r, "evidence": b.scrub(str(r.get("evidence") or ""))} for r in rows]
    return Section(
        "appendix-new",
        "Appendix D: New recommendations",
        [
            Paragraph("Drafted from the evidence for each recommended priority; edit them in the workspace."),
            Table(cols, rows, caption="New recommendations", id="new-recommendations"),
        ],
        xlsx_sheet="D New recs",
    )


def narrative_files(folder: Path) -> dict[str, str]:
    """Analysts' Markdown by section id (``narrative/<section id>.md``)."""
    if not folder.is_dir():
        return {}
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.md"))}

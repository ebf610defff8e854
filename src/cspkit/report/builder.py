"""The chapter builder's toolkit: the inputs of an assessment and the helpers every chapter uses.

A chapter (``cspkit.report.chapters``) reads findings through a :class:`Builder` and returns sections of the
format-neutral document. The builder holds the edition's rules (the public edition suppresses counts from 1 to 4
with secondary suppression and drops person-level detail) so that no chapter has to remember them.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cspkit.findings.engine import FindingSet
from cspkit.findings.model import Finding
from cspkit.report.disclosure import disclosure_ledger, names_hidden
from cspkit.report.figures import finding_chart
from cspkit.report.model import (
    Column,
    Figure,
    Paragraph,
    Provenance,
    Table,
    Tile,
)

OGL = "Contains public sector information licensed under the Open Government Licence v3.0."
OS_BOUNDARIES = (
    "Boundaries: Source: Office for National Statistics licensed under the Open Government Licence v.3.0. "
    "Contains OS data © Crown copyright and database right."
)


#: What the public edition says for a finding it does not publish. No bound is given ("fewer than 5"): the
#: finding may be withheld because a count within it, or a figure it could be differenced against, is small.
NOT_PUBLISHED = "not published, because it rests on small numbers."

#: Where one sentence ends and the next begins (after . ; : ! ? before a capital, a digit or a bracket).
SENTENCE_SPLIT = re.compile(r"(?<=[.;:!?])\s+(?=[A-Z0-9(])")
#: A base printed with a percentage: "351 of 2,735", "Of 5,610", "against 14,123", "131 to 172".
_HAS_BASE = re.compile(
    r"[\d,]+ of [\d,]+|\bOf [\d,]+|(?:against|on|compared with|from) (?:about )?[\d,]+(?!%)|[\d,]+ to [\d,]+"
    r"|shares of [\d,]+"
)

#: Delivery status codes of last year's recommendations, in words.
STATUS_LABELS = {
    "complete": "Complete",
    "on_track": "On track",
    "delayed": "Delayed",
    "not_started": "Not started",
    "dropped": "Dropped",
}
#: RAG codes in words; a completed recommendation is green, and says it is complete.
RAG_LABELS = {"green": "Green", "amber": "Amber", "red": "Red", "grey": "Grey", "complete": "Green (complete)"}


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
        neutral_measures: Finding ids (or prefixes ending in ".") rated neither better nor worse.
        checklist_actions: What the analyst still has to do (never printed in the document).
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
    neutral_measures: list[str] = field(default_factory=list)
    checklist_actions: list[str] = field(default_factory=list)

    @property
    def public(self) -> bool:
        return self.edition == "public"


# ----------------------------------------------------------------------------------------------------------
# small helpers


def prov(findings: list[Finding], definition: str = "") -> Provenance:
    sources: list[str] = []
    for f in findings:
        for s in f.sources:
            if s not in sources:
                sources.append(s)
    return Provenance(sources=sources, finding_ids=[f.id for f in findings], definition=definition)


def compared(f: Finding) -> dict[str, Any]:
    """The value, comparison, rate and change cells of a finding's table row."""
    c = f.change
    return {
        "value": f.value,
        "baseline": round(f.baseline, 1) if f.baseline is not None else None,
        "rate": f.rate,
        # a percentage only for a significant change: a % of noise misleads
        "change": c.percent / 100 if c is not None and c.percent is not None and c.significant else None,
    }


def rating(f: Finding, neutral: tuple[str, ...] = ()) -> str:
    """``worse``, ``better`` or ``neutral`` for a significant change; ``none`` when there is none to rate.

    A finding is rated neutral when it has no good direction or when its id (or a prefix ending in ".") is listed
    in ``neutral`` (the ``report.neutral_measures`` setting: more domestic abuse reported is not a worse outcome).
    """
    c = f.change
    if c is None or not c.significant or c.direction == "none":
        return "none"
    if f.good_direction == "none" or any(f.id == n or (n.endswith(".") and f.id.startswith(n)) for n in neutral):
        return "neutral"
    return "worse" if (c.direction == "up") == (f.good_direction == "down") else "better"


def verdict(f: Finding, neutral: tuple[str, ...] = ()) -> str:
    c = f.change
    if c is None or c.p_value is None:
        return "not tested"
    if not c.significant:
        return "no significant change"
    word = "rise" if c.direction == "up" else "fall"
    rated = rating(f, neutral)
    return f"significant {word}" + (f" ({rated})" if rated in ("worse", "better") else "")


def p_text(p: float | None, omit: bool = False) -> str:
    """ "; p = 0.02" (or "; p < 0.001") after a verdict; nothing when there is no test or ``omit``."""
    if p is None or omit:
        return ""
    return "; p < 0.001" if p < 0.001 else f"; p = {p:.2g}"


def status(f: Finding, neutral: tuple[str, ...] = ()) -> str:
    rated = rating(f, neutral)
    return {"worse": "red", "better": "green"}.get(rated, "neutral")


def small(f: Finding, threshold: int) -> bool:
    values = [v for v in (f.value, f.baseline) if v is not None]
    return f.unit == "count" and any(0 < v < threshold for v in values)


COUNT_NOUNS = (
    "offences?|offenders?|people|persons?|victims?|incidents?|referrals?|members?|crimes?|children|perpetrators?|"
    "reoffenders?|cases?|households?|rows?"
)


def quotes_small_count(text: str, threshold: int) -> bool:
    """Whether a sentence quotes a count from 1 to ``threshold - 1``: "3 of 40", "(2)", "4 victims".

    Decimals ("1.4 offences"), percentages and the control-chart rule "2 of 3 beyond 2 sigma" are not counts.
    """
    patterns = (
        r"(?<![\w.,\-–])(\d+)\s+of\s+(?!3 beyond)\d",  # "3 of 40" (not the control-chart rule "2 of 3 beyond")
        r"\((\d+)\)",  # "(2)"
        r"\([+\-−](\d+)\)",  # "(+3)": a ward's move between two periods
        rf"(?<![\w.,\-–])(\d+)\s+(?:{COUNT_NOUNS})\b",  # "4 victims"
    )
    return any(0 < int(m.group(1)) < threshold for p in patterns for m in re.finditer(p, text))


def scrub_text(text: str, threshold: int) -> str:
    """Public edition: drop the sentences of a free text that quote a small count."""
    sentences = re.split(r"(?<=[.;])\s+(?=[A-Z(])", text)
    kept = [s for s in sentences if not quotes_small_count(s, threshold)]
    if len(kept) == len(sentences):
        return text
    return " ".join([*kept, f"(A figure below {threshold} is not published.)"]).strip()


class Builder:
    """What every chapter builds with: the inputs, the findings, and tables, figures and text that respect the
    edition."""

    def __init__(self, inp: AssessmentInputs) -> None:
        self.inp = inp
        self.fs = inp.fs
        self.used_ids: set[str] = set()
        #: Public edition: findings hidden by secondary suppression (a total or a follow-up count that would give
        #: a suppressed figure away by differencing), on top of those small in themselves.
        self.hidden: set[str] = set()
        #: Public edition: the disclosure ledger (``cspkit.report.disclosure``), decided once for every output.
        self.ledger = disclosure_ledger(inp.fs, inp.suppress_below, self.ward_crime_types()) if inp.public else None
        if self.ledger is not None:
            self.hidden |= set(self.ledger.hidden)
        self._places: list[tuple[str, float, float]] | None = None
        self.said: dict[str, int] = {}

    def ward_crime_types(self) -> list[str]:
        """Crime types whose ward tables the document prints: those of recommended priorities (see
        ``chapters/priorities.py``); all crime's are printed in the crime chapter."""
        pr = self.inp.priorities
        return [str(key) for key in pr.recommended()] if pr is not None else []

    @property
    def neutral(self) -> tuple[str, ...]:
        return tuple(self.inp.neutral_measures)

    def verdict(self, f: Finding) -> str:
        """The verdict of a finding's change, rated by the partnership's direction settings."""
        return verdict(f, self.neutral)

    def status(self, f: Finding) -> str:
        return status(f, self.neutral)

    def withheld(self, f: Finding | None) -> bool:
        """Public edition: whether a finding's numbers are withheld (small, or protecting a small one)."""
        return (
            f is not None
            and self.inp.public
            and (f.id in self.hidden or small(f, self.inp.suppress_below) or f.small_number)
        )

    def hidden_names(self) -> list[str]:
        """Names of withheld wards and crime types, as sentences name them ("Houghton Hall", "robbery")."""
        if not self.inp.public:
            return []
        names = []
        unprinted = self.ledger.unprinted if self.ledger is not None else set()
        for f in self.fs.findings:
            if (f.id in self.hidden or f.id in unprinted) and f.unit == "count":
                names.append(f.area_name if ".ward." in f.id else f.title)
        return [n for n in names if n]

    # -- text ---------------------------------------------------------------------------------------------
    def sentence(self, f: Finding) -> str:
        self.used_ids.add(f.id)
        if self.withheld(f) or (self.inp.public and quotes_small_count(f.sentence, self.inp.suppress_below)):
            return f"{f.title}: {NOT_PUBLISHED}"
        text = f.sentence
        if self.inp.public:
            text = self.without_hidden_movers(f, text)
        return self.once(self.with_base(f, text))

    def without_hidden_movers(self, f: Finding, text: str) -> str:
        """Public edition: "the wards that moved most" lists only wards (and crime types) whose counts are
        published; a move of a withheld one ("+7") would give its count away."""
        names = self.hidden_names()
        if not names_hidden(text, names):
            return text
        for key, lead, lower in (
            ("contributions_by_ward", " The wards that moved most: ", False),
            ("contributions_by_crime_type", " By type: ", True),
        ):
            start = text.find(lead)
            if start < 0:
                continue
            end = text.find(".", start + len(lead))
            unprinted = self.ledger.unprinted if self.ledger is not None else set()
            rows = [r for r in f.extra.get(key, []) if r.get("id") not in self.hidden | unprinted]
            up = f.change is not None and f.change.direction == "up"
            same_way = [r for r in rows if (r["difference"] > 0) == up][:3]
            movers = ", ".join(
                f"{r['name'].lower() if lower else r['name']} ({r['difference']:+,.0f})" for r in same_way
            )
            text = text[:start] + (f"{lead}{movers}." if movers else "") + text[end + 1 :]
        return text

    def with_base(self, f: Finding, text: str) -> str:
        """Each sentence with a percentage but no base gets the finding's base: "(15 of 45)" or "(of 5,378)"."""
        counts = f.extra.get("counts")
        mix_total = sum(v for v in counts.values() if isinstance(v, int | float)) if isinstance(counts, dict) else 0
        if f.unit == "proportion" and f.numerator is not None and f.denominator:
            base = f" ({f.numerator:,.0f} of {f.denominator:,.0f})"
        elif mix_total:  # a mix (referring agencies, risk levels): the shares are of its total
            base = f" (shares of {mix_total:,.0f})"
        elif f.unit == "count" and f.value:
            base = f" (shares of {f.value:,.0f})"
        else:
            return text
        parts = []
        for part in SENTENCE_SPLIT.split(text):
            if re.search(r"\d%", part) and not _HAS_BASE.search(part):
                end = part[-1] if part and part[-1] in ".;:" else ""
                part = part.rstrip(".;: ") + base + end
            parts.append(part)
        return " ".join(parts)

    def once(self, text: str) -> str:
        """Drop a stock sentence of eight words or more (a finding's standard caution) once it has been printed
        twice: the reader has it, and a board document that repeats itself is not read."""
        kept = []
        for part in SENTENCE_SPLIT.split(text):
            if len(part.split()) >= 8:
                n = self.said.get(part, 0)
                if n >= 2:
                    continue
                self.said[part] = n + 1
            kept.append(part)
        return " ".join(kept)

    def scrub(self, text: str) -> str:
        """Free text built from findings (evidence, reasons): small counts removed in the public edition."""
        return scrub_text(text, self.inp.suppress_below) if self.inp.public else text

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
                    **compared(f),
                    "ratio": (
                        f"{c.rate_ratio:.2f} ({c.ci_low:.2f}–{c.ci_high:.2f})"
                        if c is not None and c.rate_ratio is not None and c.ci_low is not None and c.ci_high is not None
                        else ""
                    ),
                    "verdict": self.verdict(f) + p_text(c.p_adjusted if c is not None else None, compact),
                    "signal": f"{f.spc.rule} ({f.spc.month})" if f.spc else "none",
                }
            )
        table = Table(cols, rows, caption=caption, id=id_, provenance=prov(findings, self.fs.comparison.note))
        return self.protect(table, findings)

    def protect(
        self,
        table: Table,
        row_findings: list[Finding] | None = None,
        known_total: float | None = None,
        counts: list[str] | None = None,
    ) -> Table:
        """Public edition: suppress counts 1..threshold-1 with secondary suppression; blank derived cells.

        Args:
            table: the table as the restricted edition prints it.
            row_findings: the finding of each row, when rows are findings: a row whose finding the disclosure
                ledger withholds is hidden here too, whatever its own counts.
            known_total: the total of a one-count-column table when it is printed elsewhere (a sentence): the
                table is then protected as if that total were its last row.
            counts: the columns that are counts of events or people (default: every whole-number column); naming
                them also says that a row's counts are not added up (crimes and ASB incidents of a decile).
        """
        if not self.inp.public:
            return table
        import numpy as np
        import pandas as pd

        from cspkit.privacy.disclosure import suppress_table

        int_cols = counts if counts is not None else [c.key for c in table.columns if c.kind == "int"]
        if not int_cols or not table.rows:
            return table

        def count(value: Any) -> int:
            return round(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0

        frame = pd.DataFrame([[count(r.get(k)) for k in int_cols] for r in table.rows], columns=int_cols)
        forced = np.zeros(frame.shape, dtype=bool)
        if row_findings is not None:
            forced[[i for i, f in enumerate(row_findings) if f.id in self.hidden], :] = True
        total_row = None
        if known_total is not None and len(int_cols) == 1:
            total_row = len(frame)
            frame.loc[total_row] = [count(known_total)]
            forced = np.vstack([forced, np.zeros((1, 1), dtype=bool)])
        # rows of findings hold different measures (this year, last year): nobody knows their sum
        result = suppress_table(
            frame,
            threshold=self.inp.suppress_below,
            secondary=True,
            total_row=total_row,
            hidden=forced,
            rows_add_up=row_findings is None and counts is None,
        )
        derived = [c.key for c in table.columns if c.kind in ("float", "percent", "rate")] + ["ratio"]
        rate_cols = [c.key for c in table.columns if c.kind == "rate"]
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
                for k in ("verdict", "signal"):  # a verdict or p-value with the other count could give it away
                    if isinstance(new.get(k), str):
                        new[k] = "–"
            for k in rate_cols:  # as printed (0.00): no more digits in the Excel cell than on the page
                if isinstance(new.get(k), float):
                    new[k] = round(new[k], 2)
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
                    **compared(f),
                    "verdict": self.verdict(f),
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
            Table(cols, rows, caption=caption, id=id_, print_max_rows=15, provenance=prov(findings[:1])), findings
        )

    # -- figures --------------------------------------------------------------------------------------------
    def chart(self, f: Finding | None, caption: str) -> Figure | None:
        if f is None or not f.series:
            return None
        if self.ledger is not None and f.id in self.ledger.series_hidden:
            return None  # a monthly chart of small numbers (or of a series protecting one) would publish them
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
        return Figure.from_chart(image, caption=caption, provenance=prov([f], definition))

    def place_labels(self) -> list[tuple[str, float, float]]:
        """Town names (a name shared by two or more wards) at a point inside their wards, in British National Grid
        metres, for the maps; computed once."""
        if self._places is not None:
            return self._places
        bounds = self.inp.boundaries_ward
        places: list[tuple[str, float, float]] = []
        if bounds is not None and "name" in bounds:
            from cspkit.report.chapters.area_profile import town_of
            from cspkit.report.maps import BRITISH_NATIONAL_GRID

            grid = bounds.to_crs(BRITISH_NATIONAL_GRID) if bounds.crs is not None else bounds
            grid = grid.assign(town=[town_of(str(n)) for n in grid["name"]])
            sizes = grid.groupby("town").size()
            for town, part in grid[grid["town"].map(sizes) >= 2].groupby("town"):
                point = part.geometry.union_all().representative_point()
                places.append((str(town), float(point.x), float(point.y)))
        self._places = places
        return places

    def hotspot_map(self, hotspot_id: str, title: str) -> Figure | None:
        f = self.fs.get(hotspot_id)
        if f is None or self.inp.boundaries_lsoa is None:
            return None
        if self.withheld(self.fs.get(hotspot_id.removesuffix(".hotspots") + ".count")):
            return None  # no map of a count the public edition withholds
        counts = f.extra.get("lsoa_counts") or {}
        if not counts:
            return None
        from cspkit.report.maps import SUPPRESSED_LABEL, choropleth_png, choropleth_svg, classes_by_area

        gi = f.extra.get("gi_star") or {}
        hot = [a["code"] for a in gi.get("areas", []) if a.get("classification") == "hot"] if gi else []
        # the outline draws one thing, and the legend says which
        outline = "Hot spot cluster (Gi*, false discovery rate controlled)"
        if not hot:
            hot = [p["lsoa"] for p in f.extra.get("persistent", [])]
            outline = "In the busiest 10% of LSOAs in every year"
        suppressed = sorted(self.hatched_lsoas(hotspot_id.removesuffix(".hotspots"), counts)) if self.inp.public else []
        label = "Incidents in the period, by LSOA"
        # outlined LSOAs named by their ward ("Dunstable-Icknield (2)"), not by code suffixes
        wards: dict[str, int] = {}
        for code in hot:
            name = self.fs.area.ward_names.get(self.fs.area.lsoa_ward.get(code, ""), code)
            wards[name] = wards.get(name, 0) + 1
        names = [f"{w} ({n})" if n > 1 else w for w, n in sorted(wards.items(), key=lambda kv: (-kv[1], kv[0]))]
        kwargs: dict[str, Any] = {
            "hotspots": hot,
            "suppressed": suppressed,
            "outline_label": outline + ", by ward",
            "outline_names": names,
            "places": self.place_labels(),
        }
        bounds = self.inp.boundaries_lsoa
        svg = choropleth_svg(counts, bounds, title, label, **kwargs)
        png = choropleth_png(counts, bounds, title, label, **kwargs)
        self.used_ids.add(f.id)
        alt = (
            f"Map of {title[:1].lower() + title[1:]} in {self.fs.area.name}, darker for more incidents; "
            f"{len(hot)} LSOAs outlined ({outline.lower()})"
            + (f", in {', '.join(list(wards)[:3])}" if wards else "")
            + "."
        )
        if suppressed:
            alt += (
                f" {len(suppressed)} LSOAs are hatched grey, not published: fewer than {self.inp.suppress_below} "
                "incidents, or hatched so that the small counts of their ward cannot be worked out."
            )
        hatched = set(suppressed)
        shown = classes_by_area({c: float(v) for c, v in counts.items() if c not in hatched})
        return Figure(
            svg=svg,
            png=png,
            alt=alt,
            caption=title,
            raster_in_print=True,
            provenance=prov([f], f"Counts by LSOA; outlined: {outline.lower()}. " + OS_BOUNDARIES),
            areas={c: shown[c].label if c in shown else SUPPRESSED_LABEL for c in counts},
        )

    def hatched_lsoas(self, prefix: str, counts: Mapping[str, float]) -> set[str]:
        """Public edition: the LSOAs an LSOA map of ``prefix`` counts hatches: the small counts, and enough others
        that no small one follows from the legend classes of its ward's other LSOAs and the ward and area totals
        the document prints (:func:`cspkit.privacy.disclosure.protect_classed_areas`)."""
        from cspkit.privacy.disclosure import GroupTotal, protect_classed_areas
        from cspkit.report.maps import classes_by_area

        area = self.fs.area
        threshold = self.inp.suppress_below

        def known(f: Finding | None) -> GroupTotal:
            """A total as the document gives it: the count, or the range its marker gives when withheld."""
            if f is None or f.value is None:
                return None
            if not self.withheld(f) or f.value == 0:  # a zero hidden as "*" is taken as known: the safe side
                return float(f.value)
            return (1.0, threshold - 1.0) if 0 < f.value < threshold else (float(threshold), math.inf)

        groups: list[tuple[list[str], GroupTotal]] = [
            ([c for c, w in area.lsoa_ward.items() if w == ward], known(self.fs.get(f"{prefix}.ward.{ward}.count")))
            for ward in sorted(area.ward_names)
        ]
        groups.append((list(counts), known(self.fs.get(f"{prefix}.count"))))

        def classify(shown: Mapping[str, float]) -> dict[str, tuple[float, float]]:
            return {c: (k.low, k.high) for c, k in classes_by_area(shown).items()}

        return protect_classed_areas(counts, groups, classify, threshold)

    def ward_map(self, prefix: str, suffix: str, title: str, printed: Table | None = None) -> Figure | None:
        """Rate per 1,000 residents by ward; wards with a significant rise (the wrong way) outlined.

        ``printed`` is the ward table the document prints beside the map (built here when not given): in the
        public edition, every ward it does not print is hatched.
        """
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
        # every ward the ward table does not print is hatched, not only the small ones: a coloured protected ward
        # and the legend's class limits would give its rate, and the rate times its population the count
        suppressed: list[str] = []
        if self.inp.public:
            printed = printed or self.ward_table(prefix, suffix, "", "")
            suppressed = [
                str(r["code"])
                for r in (printed.rows if printed is not None else [])
                if not isinstance(r.get("value"), int | float)
            ]
        label = "Per 1,000 residents, by ward"
        kwargs: dict[str, Any] = {
            "hotspots": rising,
            "suppressed": suppressed,
            "outline_label": "Significant rise",
            "places": self.place_labels(),
        }
        svg = choropleth_svg(rates, bounds, title, label, **kwargs)
        png = choropleth_png(rates, bounds, title, label, **kwargs)
        self.used_ids.update(f.id for f in findings)
        alt = f"Map of {title[:1].lower() + title[1:]} in {self.fs.area.name}, darker for higher rates; " + (
            f"{len(rising)} wards with a statistically significant rise are outlined."
            if rising
            else "no ward had a statistically significant rise."
        )
        return Figure(
            svg=svg,
            png=png,
            alt=alt,
            caption=title,
            raster_in_print=True,
            provenance=prov(
                findings[:1],
                "Rate per 1,000 residents (mid-year population) by ward; outlined: wards whose count rose "
                "significantly (exact test, Benjamini-Hochberg across wards). " + OS_BOUNDARIES,
            ),
        )

    # -- sections -------------------------------------------------------------------------------------------
    def findings_of(self, prefix: str, exclude_wards: bool = True) -> list[Finding]:
        return [f for f in self.fs.findings if f.id.startswith(prefix) and (not exclude_wards or ".ward." not in f.id)]


def three_figures(value: float) -> float:
    """An approximate index to three significant figures (1,173,529 -> 1,170,000)."""
    import math

    return float(round(value, 2 - math.floor(math.log10(abs(value))))) if value else value


def percent_with_base(
    f: Finding, value: float | None = None, numerator: float | None = None, denominator: float | None = None
) -> str:
    """A proportion as "33% (15 of 45)": a percentage is never printed without its base."""
    value = f.value if value is None else value
    numerator = f.numerator if numerator is None else numerator
    denominator = f.denominator if denominator is None else denominator
    if value is None:
        return ""
    text = f"{value:.0%}"
    if numerator is not None and denominator:
        text += f" ({numerator:,.0f} of {denominator:,.0f})"
    return text


def tile(f: Finding | None, label: str, builder: Builder, proportion: bool = False) -> Tile | None:
    if f is None or f.value is None:
        return None
    builder.used_ids.add(f.id)
    threshold = builder.inp.suppress_below
    is_share = proportion or f.unit == "proportion"
    if builder.withheld(f):
        # "<5" only where it is true; a share of a small group is simply not published
        true_bound = f.unit == "count" and 0 < f.value < threshold
        shown = f"<{threshold}" if true_bound else "not published"
        return Tile(label, shown, "too small to publish", "neutral")
    value = f"{f.value:.0%}" if is_share else f"{f.value:,.0f}"
    # a share's base goes first in the detail line: "29 of 83; significant fall (better); was 69%"
    base = (
        f"{f.numerator:,.0f} of {f.denominator:,.0f}" if is_share and f.numerator is not None and f.denominator else ""
    )
    detail = base
    c = f.change
    if c is not None and f.baseline is not None:
        if builder.inp.public and f.unit == "count" and 0 < f.baseline < threshold:
            detail = "; ".join(p for p in (base, "comparison too small to publish") if p)
        else:
            before = f"{f.baseline:.0%}" if is_share else f"{f.baseline:,.0f}"
            detail = "; ".join(p for p in (base, f"{builder.verdict(f)}; was {before}") if p)
    return Tile(label, value, detail, builder.status(f))  # type: ignore[arg-type]


def cautious(tile: Tile | None) -> Tile | None:
    """No red or green for the cohort's reoffending: members on the programme for part of the period have less
    time to offend than in the 12-month baseline, and people join at a peak (regression to the mean)."""
    if tile is None:
        return None
    return Tile(tile.label, tile.value, tile.detail + "; read with the cautions in the chapter", "neutral")


def where_blocks(b: Builder, prefix: str, suffix: str, what: str, table_id: str, *, lsoa_map: bool = True) -> list[Any]:
    """Where it happens: the hotspot sentence, the LSOA hotspot map, the ward map and the ward table."""
    blocks: list[Any] = []
    hot = b.fs.get(f"{prefix}.hotspots")
    if hot is not None:
        blocks.append(Paragraph(b.sentence(hot)))
        if lsoa_map:
            blocks.append(b.hotspot_map(f"{prefix}.hotspots", f"{what} by LSOA"))
    table = b.ward_table(prefix, suffix, f"{what} by ward", table_id)
    if b.inp.public and table is not None and not any(isinstance(r.get("value"), int | float) for r in table.rows):
        # a map hatched all over and a table of markers tell the reader nothing: say so once
        blocks.append(
            Paragraph(f"{what} by ward is not published for this period: the counts are too small to publish.")
        )
    else:
        blocks.append(b.ward_map(prefix, suffix, f"{what} per 1,000 residents by ward", table))
        blocks.append(table)
    return [block for block in blocks if block is not None]


def topic_blocks(b: Builder, prefix: str, skip: set[str]) -> list[Any]:
    blocks: list[Any] = []
    for f in b.findings_of(prefix):
        if f.id in skip:
            continue
        blocks.append(Paragraph(b.sentence(f)))
    return blocks


def sentences(b: Builder, findings: list[Finding]) -> list[str]:
    """The findings' sentences; in the public edition the too-small ones are named together in one sentence."""
    texts: list[tuple[Finding, str]] = []
    small: list[tuple[Finding, str]] = []
    for f in findings:
        text = b.sentence(f)
        (small if text.endswith(NOT_PUBLISHED) else texts).append((f, text))
    out: list[str] = []
    for _, t in texts:
        if t not in out:  # several findings can share one sentence (e.g. a follow-up not yet possible)
            out.append(t)
    if len(small) == 1:
        out.append(small[0][1])
    elif small:
        names = "; ".join(f.title for f, _ in small)
        out.append(f"Not published, because they rest on small numbers: {names}.")
    return out


def emerging_findings(b: Builder, recommended: set[str]) -> list[Finding]:
    """Emerging issues: flagged emerging, rated (not neutral), not a place summary, not the all-crime total, and
    not already a recommended priority (those have their own chapter)."""
    out = []
    for f in b.fs.findings:
        if not f.emerging or ".ward." in f.id or f.id.endswith(".hotspots") or f.id.startswith("crime.all."):
            continue
        if any(f.id == n or (n.endswith(".") and f.id.startswith(n)) for n in b.neutral) or f.good_direction == "none":
            continue
        key = (
            f.id.split(".")[1]
            if f.id.startswith("crime.")
            else {"da": "domestic_abuse", "asb": "asb"}.get(f.id.split(".")[0], "")
        )
        if key in recommended:
            continue
        out.append(f)
    return out


def why_emerging(f: Finding) -> str:
    """One short line: the change or the control-chart signal that makes a finding emerging (no chapter text)."""
    parts = []
    c = f.change
    if c is not None and c.significant and f.baseline is not None and f.value is not None:
        if f.unit == "proportion":
            parts.append(f"{f.baseline:.0%} to {percent_with_base(f)}")
        else:
            pct = f" ({c.percent:+.0f}%)" if c.percent is not None else ""
            parts.append(
                f"{f.baseline:,.0f} to {f.value:,.0f}{pct}, a significant {'rise' if c.direction == 'up' else 'fall'}"
            )
    if f.spc is not None:
        from cspkit.findings.periods import month_label

        parts.append(f"control-chart signal in {month_label(f.spc.month)} ({f.spc.rule})")
    return "; ".join(parts) or "flagged by its control chart"

"""The executive summary: what a board member reads in five minutes.

Prose written from the findings (levels and patterns, what changed and why it matters, people at risk, what is
coming), the headline tiles, three to five priorities each with its reasons in words, the state of last year's
recommendations and what the board is asked to decide. Every paragraph carries the ids of the findings its
numbers come from. The wording follows the evidence (a significant rise, a fall, no significant change, a measure
rated neutral), so no sentence is a template filled in the same way twice. An analyst's
``narrative/<section id>.md`` replaces the generated text of that section, as everywhere.
"""

from __future__ import annotations

import re
from typing import Any

from cspkit.findings.model import Finding
from cspkit.report.builder import (
    RAG_LABELS,
    Builder,
    cautious,
    emerging_findings,
    percent_with_base,
    prov,
    three_figures,
    tile,
)
from cspkit.report.model import Column, Paragraph, Provenance, Section, Table, Tile, Tiles

#: Most priorities the summary puts to the board; the others of the top band are named and left to appendix C.
MAX_PRIORITIES = 5

#: Priorities whose evidence overlaps (one incident can count in both), said in words when both are recommended.
_OVERLAPS = (
    ("domestic_abuse", "violence_and_sexual_offences", "many domestic abuse crimes are recorded as violence"),
    ("sexual_violence", "violence_and_sexual_offences", "sexual offences are part of the police violence series"),
    ("domestic_abuse", "sexual_violence", "the partner sexual-offence series is drawn from domestic abuse records"),
)


def _n(value: float | None) -> str:
    return "" if value is None else f"{value:,.0f}"


def _change_words(b: Builder, f: Finding, noun: str) -> str:
    """ "15,680 crimes, a significant rise of 11% on 14,123" in words that follow the verdict and the rating."""
    if b.withheld(f):
        return f"a number of {noun} that is not published, because it rests on small numbers"
    c = f.change
    base = f"{_n(f.value)} {noun}"
    if c is None or f.baseline is None:
        return base
    if not c.significant or c.percent is None:
        return f"{base}, no significant change on {_n(f.baseline)} the year before"
    word = "rise" if c.direction == "up" else "fall"
    rated = b.status(f)
    tail = {"red": "", "green": "", "neutral": " (rated neither better nor worse)"}[rated]
    return f"{base}, a significant {word} of {abs(c.percent):.0f}% on {_n(f.baseline)}{tail}"


def _para(text: str, findings: list[Finding | None]) -> Paragraph:
    used = [f for f in findings if f is not None]
    return Paragraph(text, provenance=prov(used) if used else None)


def _crime_paragraph(b: Builder) -> Paragraph | None:
    fs = b.fs
    allc = fs.get("crime.all.count")
    if allc is None or allc.value is None:
        return None
    b.used_ids.add(allc.id)
    rate = f" ({allc.rate:.0f} per 1,000 residents)" if allc.rate is not None else ""
    text = f"Police recorded {_change_words(b, allc, 'crimes')}{rate}."
    used: list[Finding | None] = [allc]
    movers = allc.extra.get("contributions_by_crime_type") or []
    if allc.change is not None and allc.change.significant and movers:
        top = [m for m in movers if m.get("difference") and m.get("id") not in b.hidden][:2]
        if top:
            parts = [f"{m['name'].lower()} ({m['difference']:+,.0f})" for m in top]
            text += " Most of the change came from " + " and ".join(parts) + "."
            used += [fs.get(m["id"]) for m in top]
    wards = [w for w in allc.extra.get("contributions_by_ward") or [] if w.get("id") not in b.hidden]
    if allc.change is not None and allc.change.significant and len(wards) >= 2:
        text += f" The wards that moved most were {wards[0]['name']} and {wards[1]['name']}."
    harm = fs.get("crime.harm.total")
    by_type = harm.extra.get("by_crime_type", []) if harm is not None else []
    if by_type and harm is not None and harm.value and not b.withheld(harm):
        first = by_type[0]
        text += (
            f" Weighted by harm, {first['crime_type'].lower()} accounts for {first['share']:.0%} of the harm of all "
            f"recorded crime (about {three_figures(first['harm']):,.0f} of {three_figures(harm.value):,.0f} harm "
            "days), so counts alone understate it."
        )
        used.append(harm)
    return _para(text, used)


def _asb_paragraph(b: Builder) -> Paragraph | None:
    fs = b.fs
    police = fs.get("asb.count")
    partner = fs.get("asb.partner.police.count")
    if police is None and partner is None:
        return None
    parts: list[str] = []
    if police is not None:
        parts.append(f"The police published {_change_words(b, police, 'ASB incidents')} on data.police.uk.")
    if police is not None and partner is not None and partner.value is not None and not b.withheld(partner):
        parts.append(
            f"The police's own incident export counts {_n(partner.value)} for the same months: data.police.uk leaves "
            "out incidents it cannot place on the map and those recorded after publication, so the two do not "
            "agree, and the report uses data.police.uk for places and trends and the export for victims."
        )
    repeat = fs.get("asb.repeat_victims")
    if repeat is not None and repeat.value is not None and not b.withheld(repeat):
        parts.append(f"{_n(repeat.value)} victims reported ASB three or more times within a year.")
    return _para(" ".join(parts), [police, partner, repeat])


def _people_paragraph(b: Builder) -> Paragraph | None:
    fs = b.fs
    da = fs.get("da.incidents")
    marac = fs.get("da.marac.per_10k_adult_women")
    parts: list[str] = []
    if da is not None:
        rated = b.status(da)
        text = f"Domestic abuse: {_change_words(b, da, 'incidents reported to the police')}."
        if rated == "neutral" and da.change is not None and da.change.significant and da.change.direction == "up":
            text += " The partnership reads more reporting as more victims coming forward, not as a worse outcome."
        parts.append(text)
    if marac is not None and marac.value is not None and not b.withheld(marac):
        recommended = marac.extra.get("recommended_per_10k")
        if recommended:
            side = "above" if marac.value >= recommended else "below"
            parts.append(
                f"MARAC heard {marac.value:.1f} cases per 10,000 women aged 16 and over, {side} the SafeLives "
                f"recommended {recommended:g}."
            )
    return _para(" ".join(parts), [da, marac]) if parts else None


def _reoffending_paragraph(b: Builder) -> Paragraph | None:
    fs = b.fs
    iom = _reoffending_measure(b)
    treatment = fs.get("substance.in_treatment")
    completion = fs.get("substance.completion_rate")
    alcohol = fs.get("substance.alcohol.new_presentations")
    parts: list[str] = []
    if iom is not None and iom.value is not None and not b.withheld(iom):
        who = "the IOM cohort" if ".iom." in iom.id else "the offender-management cohorts"
        if iom.id.endswith("offences_per_member_year"):
            years = float(iom.denominator or 0)
            parts.append(
                f"Members of {who} committed {iom.value:.2f} offences per member-year on the programme "
                f"({iom.numerator:,.0f} in {years:,.1f} member-years), against {iom.baseline:.2f} in the same length "
                f"of time before they joined: {_plain_verdict(iom)}. People join at a peak of offending (see the "
                "caution in the reoffending chapter)."
            )
        else:
            parts.append(
                f"Of {who}, {percent_with_base(iom)} reoffended in the period"
                + (f", against {iom.baseline:.0%} the year before" if iom.baseline is not None else "")
                + " (see the caution in the reoffending chapter)."
            )
    if treatment is not None and treatment.value is not None and not b.withheld(treatment):
        text = f"{_n(treatment.value)} adults were in drug or alcohol treatment"
        if completion is not None and completion.value is not None and not b.withheld(completion):
            text += f", and {percent_with_base(completion)} completed it successfully"
            if completion.change is not None and completion.change.significant:
                text += f" ({'down' if completion.change.direction == 'down' else 'up'} significantly)"
        text += "."
        alcohol_change = alcohol.change if alcohol is not None and not b.withheld(alcohol) else None
        if alcohol is not None and alcohol_change is not None and alcohol_change.significant:
            word = "rose" if alcohol_change.direction == "up" else "fell"
            text += (
                f" New presentations for alcohol {word} significantly ({_n(alcohol.baseline)} to "
                f"{_n(alcohol.value)}), which matters for violence and the night-time economy."
            )
        parts.append(text)
    return _para(" ".join(parts), [iom, treatment, completion, alcohol]) if parts else None


def _reoffending_measure(b: Builder) -> Finding | None:
    """The cohort measure the summary reads: offences per member-year on equal windows before and after entry
    (not biased by part-year membership), the IOM cohort's first; the same-period binary rate only without it."""
    fs = b.fs
    for fid in (
        "reoffending.iom.offences_per_member_year",
        "reoffending.offences_per_member_year",
        "reoffending.iom.binary_rate",
        "reoffending.binary_rate",
    ):
        f = fs.get(fid)
        if f is not None and f.value is not None:
            return f
    return None


def _plain_verdict(f: Finding) -> str:
    """The verdict without "better"/"worse": a fall after joining is partly regression to the mean."""
    c = f.change
    if c is None or c.p_value is None:
        return "not tested"
    if not c.significant:
        return "not a statistically significant change"
    return f"a statistically significant {'fall' if c.direction == 'down' else 'rise'}"


def _member_year_tile(f: Finding, label: str, b: Builder) -> Tile:
    """The tile of offences per member-year: two decimals (the shared tile rounds to whole numbers)."""
    b.used_ids.add(f.id)
    if b.withheld(f) or (b.inp.public and (f.numerator or 0) < b.inp.suppress_below):
        return Tile(label, "not published", "too small to publish", "neutral")
    detail = f"{f.numerator:,.0f} offences in {float(f.denominator or 0):,.1f} member-years"
    if f.baseline is not None:
        detail += f"; {_plain_verdict(f)}; {f.baseline:.2f} before joining"
    return Tile(label, f"{f.value:.2f}", detail + "; read with the cautions in the chapter", "neutral")


def _outlook_paragraph(b: Builder, recommended: set[str]) -> Paragraph | None:
    fs = b.fs
    allc = fs.get("crime.all.count")
    parts: list[str] = []
    used: list[Finding | None] = []
    fc = allc.extra.get("forecast") if allc is not None and not b.withheld(allc) else None
    if fc and fc.get("next_12_months_total"):
        low, high = sum(fc.get("lower_80", [])), sum(fc.get("upper_80", []))
        parts.append(
            f"If recent patterns hold, the police will record about {fc['next_12_months_total']:,.0f} crimes in the "
            "next 12 months"
            + (f" (80% of likely outcomes between {low:,.0f} and {high:,.0f})" if low and high else "")
            + "; a planning range, not a target."
        )
        used.append(allc)
    emerging = emerging_findings(b, recommended)
    if emerging:
        names = [f.title.lower() for f in emerging[:4]]
        parts.append(
            f"{len(emerging)} other {'issue is' if len(emerging) == 1 else 'issues are'} emerging and should be "
            "watched: " + ", ".join(names) + (" and others" if len(emerging) > 4 else "") + "."
        )
        used += emerging[:4]
    return _para(" ".join(parts), used) if parts else None


def _reasons(row: Any, pr: Any) -> str:
    """The two criteria that scored highest, in words, from the matrix's own explanations."""
    scored = [c for c in row.criteria if c.score is not None and c.weight]
    scored.sort(key=lambda c: (-(c.score or 0), c.label))
    words = []
    for c in scored[:2]:
        level = re.sub(r"\s*\([^)]*\)", "", c.level_label or "").lower()  # no "(or z >= 2 ...)" asides
        words.append(f"{c.label.lower()} {level}".strip() if level else f"{c.label.lower()} scored {c.score:g}")
    return " and ".join(words)


def _priorities(b: Builder) -> Section | None:
    pr = b.inp.priorities
    if pr is None:
        return None
    top_band = pr.matrix.bands[0].label if pr.matrix.bands else None
    complete = [row for row in pr.ranking.rows if row.complete]
    provisional = getattr(pr, "provisional", None) if not complete else None
    rows_in_band = [row for row in pr.ranking.rows if row.complete and row.band == top_band]
    chosen = rows_in_band[:MAX_PRIORITIES]
    blocks: list[Any] = []
    if chosen:
        items = []
        for row in chosen:
            reasons = _reasons(row, pr)
            flags = f" Not scored, but noted: {'; '.join(row.overrides)}." if row.overrides else ""
            items.append(f"- **{row.label}** (rank {row.rank}, score {row.total:.2f}): {reasons}.{flags}")
        lead = (
            f"The scoring matrix ({pr.matrix.label}) puts {len(rows_in_band)} issues in its top band"
            + (
                f"; the board is asked to choose among the first {len(chosen)}"
                if len(rows_in_band) > len(chosen)
                else ""
            )
            + ". The reasons, from the evidence behind each score (appendix C):"
        )
        blocks.append(Paragraph(lead + "\n\n" + "\n".join(items)))
        keys = {row.candidate for row in chosen}
        overlaps = [
            f"{a.replace('_', ' ')} and {c.replace('_', ' ')} overlap ({why})"
            for a, c, why in _OVERLAPS
            if a in keys and c in keys
        ]
        if overlaps:
            blocks.append(
                Paragraph(
                    "Some of these overlap: " + "; ".join(overlaps) + ". The board may take them as one priority "
                    "with several emphases."
                )
            )
        if len(rows_in_band) > len(chosen):
            rest = ", ".join(row.label for row in rows_in_band[len(chosen) :])
            blocks.append(Paragraph(f"Also in the top band, ranked lower: {rest}."))
    elif provisional is not None:
        blocks.append(provisional_block(provisional, "summary-provisional"))
    else:
        blocks.append(Paragraph("No candidate reached the top band of the scoring matrix."))
    reoffending = next((row for row in pr.ranking.rows if row.candidate == "reoffending"), None)
    if reoffending is not None and reoffending not in chosen:
        where = (
            f"ranks {reoffending.rank} with {reoffending.total:.2f} ({(reoffending.band or '').lower()})"
            if reoffending.complete and reoffending.rank is not None
            else "could not be scored on every criterion"
        )
        blocks.append(
            Paragraph(
                f"Reducing reoffending {where}, but it is a statutory duty of the partnership (Crime and Disorder "
                "Act 1998, s.6, as amended by the Policing and Crime Act 2009) and stays in the plan whatever its "
                "score, delivered through Integrated Offender Management."
            )
        )
    sens = {r.candidate: r for r in pr.sensitivity.rows} if pr.sensitivity else {}
    table_rows = []
    for row in pr.ranking.rows:
        if not row.complete:
            continue
        s = sens.get(row.candidate)
        table_rows.append(
            {
                "rank": row.rank,
                "issue": row.label,
                "score": row.total,
                "band": row.band,
                "robustness": f"{s.stability} ({s.share_top_n:.0%} of runs in top {pr.sensitivity.top_n})" if s else "",
            }
        )
    if table_rows:
        blocks.append(
            Table(
                [
                    Column("rank", "Rank", "int"),
                    Column("issue", "Issue"),
                    Column("score", "Score", "float"),
                    Column("band", "Band"),
                    Column("robustness", "Robustness (weights ±20%, harm index)"),
                ],
                table_rows[:6],  # the full ranking is in appendix C
                caption="Top of the priority ranking",
                id="summary-ranking",
                provenance=Provenance(sources=["scoring matrix (appendix C)"], definition=pr.matrix.label),
            )
        )
    return Section("summary-priorities", "Recommended priorities", blocks)


def provisional_block(provisional: Any, id_: str) -> Table:
    """The provisional ranking, marked as such, naming the criteria it could not use."""
    rows = [
        {"rank": row.rank, "issue": row.label, "score": row.total, "band": f"{row.band} (provisional)"}
        for row in provisional.ranking.rows
        if row.complete
    ]
    return Table(
        [
            Column("rank", "Provisional rank", "int"),
            Column("issue", "Issue"),
            Column("score", "Provisional score", "float"),
            Column("band", "Band"),
        ],
        rows,
        caption="Provisional ranking, before the workshop",
        id=id_,
        note=(
            "PROVISIONAL: no issue can be scored on every criterion yet. Scored on "
            + ", ".join(provisional.used)
            + " only, with their weights scaled up to the full weight; missing: "
            + ", ".join(provisional.missing)
            + ". The final ranking needs every criterion (residents' survey, workshop judgements)."
        ),
        print_max_rows=10,
    )


def _progress(b: Builder) -> Section | None:
    prev = b.inp.previous_recommendations
    if not prev:
        return None
    counts: dict[str, int] = {}
    for r in prev:
        label = RAG_LABELS.get(str(r.get("rag")), str(r.get("rag") or "not rated")).lower()
        counts[label] = counts.get(label, 0) + 1
    order = ["green (complete)", "green", "amber", "red", "grey"]
    parts = [f"{counts[k]} {k}" for k in order if k in counts] + [
        f"{n} {k}" for k, n in counts.items() if k not in order
    ]
    late = [r for r in prev if r.get("rag") == "red"]
    text = f"Of the {len(prev)} recommendations in last year's plan, " + ", ".join(parts) + "."
    if late:
        refs = ", ".join(f"{r['ref']} ({str(r.get('text', ''))[:60].rstrip()})" for r in late[:3])
        text += (
            f" Not started: {refs}; the board should decide whether to carry {'it' if len(late) == 1 else 'them'} over."
        )
    return Section("summary-progress", "Progress on last year's recommendations", [Paragraph(text + " (Appendix B.)")])


def _changes(b: Builder) -> Section:
    fs = b.fs
    significant = [
        f
        for f in fs.findings
        if ".ward." not in f.id and f.change is not None and f.change.significant and f.unit == "count"
    ]
    significant.sort(key=lambda f: abs(f.change.absolute) if f.change else 0, reverse=True)
    top = significant[:8]
    if not top:
        return Section(
            "summary-changes",
            "The largest significant changes",
            b.narrative("summary-changes", ["No indicator changed significantly compared with the baseline."]),
        )
    worse = sum(1 for f in top if b.status(f) == "red")
    better = sum(1 for f in top if b.status(f) == "green")
    neutral = len(top) - worse - better
    counts = f"{worse} for the worse, {better} for the better" + (f" and {neutral} rated neither" if neutral else "")
    return Section(
        "summary-changes",
        "The largest significant changes",
        [
            *b.narrative(
                "summary-changes",
                [
                    f"Of {len(significant)} indicators that changed significantly, the {len(top)} largest are below "
                    f"({counts}); the chapters give rates and confidence intervals."
                ],
            ),
            b.indicator_table(
                top, "The largest significant changes", "summary-changes-table", with_rate=False, compact=True
            ),
        ],
    )


def _decisions(b: Builder) -> Section:
    asks = []
    pr = b.inp.priorities
    if pr is not None:
        asks.append("agree the partnership's priorities for the coming year from the recommended list")
        asks.append("confirm that reducing reoffending stays in the plan as a statutory duty")
    if b.inp.new_recommendations:
        asks.append(
            f"approve the {len(b.inp.new_recommendations)} new recommendations in appendix D, with their owners"
        )
    if any(r.get("rag") == "red" for r in b.inp.previous_recommendations):
        asks.append("decide what happens to last year's recommendations that have not started")
    asks.append("note the emerging issues and ask for them to be reported at the next quarterly review")
    text = "The board is asked to:\n\n" + "\n".join(f"{i}. {a[:1].upper() + a[1:]}." for i, a in enumerate(asks, 1))
    return Section("summary-decisions", "What the board is asked to decide", b.narrative("summary-decisions", [text]))


def _executive_summary(b: Builder) -> Section:
    fs = b.fs
    pr = b.inp.priorities
    recommended = set(pr.recommended()) if pr is not None else set()
    reoffending = _reoffending_measure(b)
    tiles_used = [
        (fs.get("crime.all.count"), "All crime (police)"),
        (fs.get("asb.count"), "ASB (police, data.police.uk)"),
        (fs.get("da.incidents"), "Domestic abuse incidents (police)"),
        (fs.get("da.marac.referrals"), "MARAC referrals"),
        (fs.get("asb.repeat_victims"), "Repeat ASB victims (police and council)"),
    ]
    tiles = [tile(f, label, b) for f, label in tiles_used]
    who = "IOM cohort" if reoffending is not None and ".iom." in reoffending.id else "All offender cohorts"
    if reoffending is not None and reoffending.id.endswith("offences_per_member_year"):
        tiles.append(_member_year_tile(reoffending, f"{who}: offences per member-year (probation)", b))
    else:
        tiles.append(cautious(tile(reoffending, f"{who} reoffending (probation)", b, proportion=True)))
    tile_findings = [f for f, _ in tiles_used if f is not None] + ([reoffending] if reoffending else [])
    generated = [
        _crime_paragraph(b),
        _asb_paragraph(b),
        _people_paragraph(b),
        _reoffending_paragraph(b),
        _outlook_paragraph(b, recommended),
    ]
    override = b.inp.narrative.get("summary")
    prose: list[Any] = (
        [Paragraph(override)] if override is not None else [p for p in generated if p is not None and p.text]
    )
    method = Paragraph(
        f"This assessment covers {fs.area.name} for {fs.period.label}, compared with {fs.comparison.baseline_label}. "
        "A change is called significant only when an exact test, adjusted for the number of indicators compared, "
        "says it is unlikely to be chance; otherwise the report says there was no significant change."
    )
    blocks: list[Any] = [
        *prose,
        Tiles([t for t in tiles if t is not None], provenance=prov(tile_findings)),
        method,
    ]
    sub = [s for s in (_priorities(b), _changes(b), _progress(b)) if s is not None]
    sub.append(_decisions(b))
    return Section("summary", "Executive summary", blocks, sub, xlsx_sheet="Summary")


def build(b: Builder) -> list[Section]:
    """This chapter's sections (none when there is nothing to report)."""
    section = _executive_summary(b)
    return [] if section is None else [section]

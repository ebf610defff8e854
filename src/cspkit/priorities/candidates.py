"""Candidate issues for the scoring matrix, assembled from findings (nothing here recomputes a statistic).

By default the candidates are every police.uk crime type, ASB, domestic abuse, reducing reoffending and sexual
violence, each with the findings behind its volume, trend, harm and vulnerability; public concern comes from the
loaded ``public_views`` (latest year), matched to candidates by theme words. Extra candidates can be declared in
cspkit.toml as ``[[candidates]]`` tables with ``key``, ``label`` and ``finding`` (the id of a count finding).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from cspkit.findings.engine import FindingSet
from cspkit.findings.harm import HarmIndex
from cspkit.findings.indicators import slug
from cspkit.findings.model import Finding
from cspkit.priorities.evidence import CandidateEvidence
from cspkit.warehouse.store import query

__all__ = ["THEME_WORDS", "PublicViews", "assemble_candidates", "load_public_views"]

#: Words in a public-views theme that point to a candidate key.
THEME_WORDS: dict[str, tuple[str, ...]] = {
    "asb": ("anti-social", "antisocial", "asb", "nuisance"),
    "domestic_abuse": ("domestic",),
    "reoffending": ("reoffend", "re-offend", "offender"),
    "sexual_violence": ("sexual", "rape"),
    "burglary": ("burglary", "break-in"),
    "drugs": ("drug",),
    "violence_and_sexual_offences": ("violence", "violent", "assault", "knife"),
    "shoplifting": ("shoplifting", "retail"),
    "vehicle_crime": ("vehicle", "car crime"),
    "criminal_damage_and_arson": ("criminal damage", "vandal", "graffiti", "arson"),
    "robbery": ("robbery", "mugging"),
    "bicycle_theft": ("bicycle", "bike"),
    "theft_from_the_person": ("pickpocket", "theft from the person"),
    "possession_of_weapons": ("weapon", "knife"),
    "public_order": ("public order", "disorder"),
}

#: Approximate harm for candidates that are not a single police.uk category, stated in every explanation.
_TOPIC_HARM = {
    "asb": ("Anti-social behaviour", 1.0, "ASB has no crime-harm weight; a floor of 1 per incident is used"),
    "domestic_abuse": (
        "Violence and sexual offences",
        None,
        "domestic abuse crimes weighted as violence and sexual offences",
    ),
    "sexual_violence": (
        "Violence and sexual offences",
        None,
        "sexual offences weighted as violence and sexual offences (a low estimate: rape weighs far more)",
    ),
    "reoffending": ("Other crime", None, "cohort offences weighted as 'Other crime'"),
}


@dataclass(frozen=True)
class PublicViews:
    """Share of residents concerned, by candidate key, from the latest year of public_views."""

    year: str | None
    shares: dict[str, float]
    themes: dict[str, str]
    source: str

    @property
    def loaded(self) -> bool:
        return self.year is not None


def load_public_views(con: duckdb.DuckDBPyConnection) -> PublicViews:
    rows = query(
        con,
        "SELECT year, theme, respondents, share_concerned, source FROM public_views "
        "WHERE year = (SELECT max(year) FROM public_views)",
    )
    if not rows:
        return PublicViews(None, {}, {}, "")
    shares: dict[str, float] = {}
    themes: dict[str, str] = {}
    for r in rows:
        theme = str(r["theme"]).lower()
        for key, words in THEME_WORDS.items():
            if any(w in theme for w in words):
                weight = float(r["respondents"] or 0)
                # several rows for one candidate (areas, surveys): the respondent-weighted share
                prev_share, prev_n = shares.get(key, 0.0), float(themes.get(key + "#n", 0) or 0)
                total = prev_n + weight
                shares[key] = (prev_share * prev_n + float(r["share_concerned"]) * weight) / total if total else 0.0
                themes[key + "#n"] = str(total)
                themes[key] = r["theme"]
    sources = sorted({str(r["source"]) for r in rows if r["source"]})
    return PublicViews(
        str(rows[0]["year"]),
        shares,
        {k: v for k, v in themes.items() if not k.endswith("#n")},
        "; ".join(sources),
    )


def _high_risk_share(risk: Finding | None, fs: FindingSet) -> tuple[float | None, float | None]:
    """Share of cases assessed high risk and the cases it is of: DASH mix for domestic abuse, high-risk ASB victims
    among victims."""
    if risk is None:
        return None, None
    if risk.unit == "proportion":
        return risk.value, risk.denominator
    shares = risk.extra.get("shares")
    if isinstance(shares, dict) and "high" in shares:
        counts = risk.extra.get("counts")
        total = sum(v for v in counts.values() if isinstance(v, int | float)) if isinstance(counts, dict) else None
        return float(shares["high"]), (float(total) if total else risk.value)
    victims = fs.get("asb.repeat_victim_rate")
    if risk.id == "asb.high_risk_cases" and victims is not None and victims.denominator and risk.value is not None:
        return risk.value / victims.denominator, victims.denominator
    return None, None


def _ids(*findings: Finding | None) -> list[str]:
    return [f.id for f in findings if f is not None]


def assemble_candidates(
    fs: FindingSet,
    harm: HarmIndex,
    views: PublicViews,
    extra_candidates: list[dict[str, Any]] | None = None,
    deduplicate: bool = True,
) -> list[CandidateEvidence]:
    """One CandidateEvidence per candidate issue that has a volume finding in this run.

    With ``deduplicate`` (the default), a candidate nested in another (see :data:`OVERLAPS`) is taken out of the
    wider one's volume and harm, so no crime is scored twice; otherwise the overlap is only named.
    """
    population = fs.area.total_population()
    out: list[CandidateEvidence] = []

    # public concern is evidence from the residents' survey, not a finding: cite the source itself
    views_cited = [f"public_views {views.year} ({views.source})"] if views.loaded else []

    def concern(key: str) -> float | None:
        if not views.loaded:
            return None
        return views.shares.get(key, 0.0)

    def per_1000(value: float | None) -> float | None:
        return value / population * 1000 if (value is not None and population) else None

    def per_resident(f: Finding) -> float | None:
        """The volume criterion compares rates per 1,000 residents: a rate in another unit (burglary per 1,000
        households, MARAC per 10,000 women) is recomputed per resident, never read as if it were one."""
        if f.rate is not None and f.rate_unit == "per 1,000 residents":
            return f.rate
        return per_1000(f.value)

    crime_types = [
        f for f in fs.findings if f.id.startswith("crime.") and f.id.count(".") == 2 and f.id.endswith(".count")
    ]
    for f in crime_types:
        crime_type = f.title
        if f.id == "crime.all.count":
            continue
        key = slug(crime_type)
        weight = harm.weight(crime_type)
        out.append(
            CandidateEvidence(
                key=key,
                label=crime_type,
                count=f.value,
                rate=per_resident(f),
                change=f.change,
                harm_rate=per_1000(f.value * weight) if (f.value is not None and weight is not None) else None,
                public_concern_share=concern(key),
                finding_ids={
                    "count": [f.id],
                    "rate": [f.id],
                    "change": [f.id],
                    "harm_rate": [f.id, "crime.harm.total"],
                    "public_concern_share": views_cited,
                },
            )
        )

    def topic(key: str, label: str, volume_id: str, repeat_id: str | None, risk_id: str | None) -> None:
        volume = fs.get(volume_id)
        if volume is None or volume.value is None:
            return
        repeat = fs.get(repeat_id) if repeat_id else None
        risk = fs.get(risk_id) if risk_id else None
        high_risk_share, high_risk_base = _high_risk_share(risk, fs)
        harm_type, floor, note = _TOPIC_HARM[key]
        weight = floor if floor is not None else harm.weight(harm_type)
        count = volume.value
        if key == "domestic_abuse":
            crimes = fs.get("da.crimes")
            count_for_harm = crimes.value if crimes is not None and crimes.value is not None else count
        else:
            count_for_harm = count
        rate = per_resident(volume)
        out.append(
            CandidateEvidence(
                key=key,
                label=label,
                count=count,
                rate=rate,
                change=volume.change,
                harm_rate=per_1000(count_for_harm * weight) if weight is not None else None,
                repeat_share=repeat.value if repeat is not None else None,
                high_risk_share=high_risk_share,
                repeat_base=repeat.denominator if repeat is not None else None,
                high_risk_base=high_risk_base,
                public_concern_share=concern(key),
                finding_ids={
                    "count": _ids(volume),
                    "rate": _ids(volume),
                    "change": _ids(volume),
                    "harm_rate": [*_ids(volume), f"harm: {note}"],
                    "repeat_share": _ids(repeat),
                    "high_risk_share": _ids(risk),
                    "public_concern_share": views_cited,
                },
            )
        )

    topic("asb", "Anti-social behaviour", "asb.count", "asb.repeat_victim_rate", "asb.high_risk_cases")
    topic("domestic_abuse", "Domestic abuse", "da.incidents", "da.repeat_victim_rate", "da.dash_mix")
    topic("reoffending", "Reducing reoffending", "reoffending.offences", None, None)
    topic("sexual_violence", "Sexual violence", "sv.partner.count", None, None)
    for spec in extra_candidates or []:
        found = fs.get(str(spec.get("finding", "")))
        if found is None or found.value is None:
            continue
        key = str(spec["key"])
        out.append(
            CandidateEvidence(
                key=key,
                label=str(spec.get("label", key)),
                count=found.value,
                rate=per_resident(found),
                change=found.change,
                public_concern_share=concern(key),
                finding_ids={
                    "count": [found.id],
                    "rate": [found.id],
                    "change": [found.id],
                    "public_concern_share": views_cited,
                },
            )
        )
    return _with_overlaps(out, fs, deduplicate)


#: Candidates whose events are also counted in a wider candidate: nested key -> (wider key, the finding that counts
#: the nested events inside the wider one). Domestic-abuse crimes are police-recorded crimes, most of them violence;
#: the sexual-violence series counts domestic-abuse incidents with a sexual offence.
OVERLAPS = {
    "domestic_abuse": ("violence_and_sexual_offences", "da.crimes"),
    "sexual_violence": ("domestic_abuse", "sv.partner.count"),
}


def _with_overlaps(candidates: list[CandidateEvidence], fs: FindingSet, deduplicate: bool) -> list[CandidateEvidence]:
    """Score nested candidates once: the wider candidate's volume and harm are net of the events of the candidates
    nested in it (violence and sexual offences without the domestic-abuse crimes; domestic abuse without the
    sexual offences scored as sexual violence), so no crime adds to two totals. Its trend is still that of the
    whole series (stated). With ``deduplicate`` off, the overlap is only named beside both scores."""
    from dataclasses import replace

    keys = {c.key: c for c in candidates}
    out = []
    for c in candidates:
        notes: list[str] = []
        changes: dict[str, Any] = {}
        if c.key in OVERLAPS and OVERLAPS[c.key][0] in keys:
            wider, finding_id = OVERLAPS[c.key]
            part = fs.get(finding_id)
            amount = f" ({part.value:,.0f} in the period)" if part is not None and part.value is not None else ""
            notes.append(
                f"nested in {keys[wider].label}: its events{amount} are taken out of that score, so each is scored once"
                if deduplicate
                else f"overlaps {keys[wider].label}: its events{amount} are also counted there, so the two scores "
                "share harm and should not be added"
            )
        nested = [(keys[k].label, fs.get(OVERLAPS[k][1])) for k in keys if k in OVERLAPS and OVERLAPS[k][0] == c.key]
        if nested:
            taken = sum(f.value for _, f in nested if f is not None and f.value is not None)
            names = ", ".join(label for label, _ in nested)
            if deduplicate and taken and c.count:
                volume = max(0.0, c.count - taken) / c.count
                # domestic abuse's harm is counted on its crimes, not its incidents
                harm_count = c.count
                if c.key == "domestic_abuse":
                    crimes = fs.get("da.crimes")
                    harm_count = crimes.value if crimes is not None and crimes.value else c.count
                harm = max(0.0, harm_count - taken) / harm_count
                changes = {
                    "count": c.count * volume,
                    "rate": c.rate * volume if c.rate is not None else None,
                    "harm_rate": c.harm_rate * harm if c.harm_rate is not None else None,
                }
                notes.append(
                    f"scored net of {names}: {taken:,.0f} of its {c.count:,.0f} events are taken out of its volume and "
                    "harm (they are scored there), so no crime counts twice; its trend is that of the whole series"
                )
            else:
                notes.append(f"contains much of {names}: the scores share harm and should not be added")
        if notes or changes:
            c = replace(c, overrides=[*c.overrides, *notes], **changes)
        out.append(c)
    return out

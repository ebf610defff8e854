"""Last year's recommendations with their delivery status, and new recommendations drafted from the priorities.

Last year's come from the ``recommendations`` contract (latest year loaded). Their status maps to a RAG:

============  =========
status        RAG
============  =========
complete      complete
on_track      green
delayed       amber
not_started   red
dropped       grey
============  =========

New recommendations are drafted for each recommended priority (the matrix's top band): what the evidence says
(the sentences of the candidate's findings), a cautiously worded action, a suggested owner by topic and the scores
behind it. The analyst edits them in ``<workspace>/narrative/new_recommendations.toml``: :func:`load_or_draft`
writes the drafts there once, and afterwards keeps every entry the analyst has (matched by ``priority``), appends
drafts for newly recommended priorities and flags entries whose priority is no longer recommended. It never
rewrites the analyst's text: new drafts are appended to the end of the file.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import duckdb

from cspkit.errors import ConfigError
from cspkit.findings.engine import FindingSet
from cspkit.priorities.run import PriorityResult
from cspkit.warehouse.store import query

__all__ = [
    "OWNERS",
    "STATUS_RAG",
    "NewRecommendation",
    "draft_recommendations",
    "load_or_draft",
    "previous_recommendations",
    "rag_summary",
    "suggested_owner",
]

#: Delivery status of a previous recommendation -> RAG.
STATUS_RAG = {
    "complete": "complete",
    "on_track": "green",
    "delayed": "amber",
    "not_started": "red",
    "dropped": "grey",
}

#: Suggested lead owner by candidate key; anything else is a crime type led by the police.
OWNERS = {
    "domestic_abuse": "Domestic Abuse Partnership Board, with the police and the IDVA service",
    "asb": "Council ASB team, with the police",
    "reoffending": "Probation Service (IOM), with the police",
    "sexual_violence": "Police, with the Sexual Assault Referral Centre and the ISVA service",
    "drugs": "Police, with the drug and alcohol treatment service",
    "shoplifting": "Police, with the business crime reduction partnership and local retailers",
    "violence_and_sexual_offences": "Police, with the council's licensing team and public health",
    "robbery": "Police, with the Serious Violence Duty partners (youth justice, education)",
    "possession_of_weapons": "Police, with the Serious Violence Duty partners (youth justice, education)",
    "criminal_damage_and_arson": "Police, with the fire and rescue service and the council",
    "public_order": "Police, with the council's licensing team",
}
_POLICE_DEFAULT = "Police, with the council's community safety team"

#: Topic-specific focus for the drafted action.
_FOCUS = {
    "domestic_abuse": "support for repeat and high-risk victims (MARAC) and work with perpetrators",
    "asb": "early identification of repeat and vulnerable victims",
    "reoffending": "the IOM cohort's needs, accommodation first",
    "sexual_violence": "referral pathways to specialist services",
}

_HEADER = """\
# New recommendations for the partnership plan, drafted by cspkit from the recommended priorities.
# Edit action, owner and evidence freely: cspkit keeps every entry here (matched by `priority`) on later runs,
# appends drafts for newly recommended priorities, and flags entries whose priority is no longer recommended.
# Delete an entry to have it drafted again.
"""


@dataclass(frozen=True)
class NewRecommendation:
    """A new recommendation for the partnership plan.

    Attributes:
        ref: Reference, ``N01``, ``N02``...
        priority: Candidate key of the priority it serves (matches the scoring matrix).
        label: The priority's label.
        evidence: What the evidence says (finding sentences, or the analyst's text).
        action: What the partnership is asked to do.
        owner: Suggested lead partner.
        scores: The scores behind it (total, band, rank, criteria, robustness); empty when no longer recommended.
        finding_ids: The findings cited.
        recommended: False when the priority is no longer recommended (the entry is kept and flagged).
        edited: True when the analyst's text differs from the current draft.
        target: A measurable target with its baseline from the findings.
        review: When the board reviews progress (ISO date).
    """

    ref: str
    priority: str
    label: str
    evidence: list[str]
    action: str
    owner: str
    scores: dict[str, Any] = field(default_factory=dict)
    finding_ids: list[str] = field(default_factory=list)
    recommended: bool = True
    edited: bool = False
    target: str = ""
    review: str = ""

    @property
    def flag(self) -> str:
        """Words for the report when the priority is no longer recommended."""
        return "" if self.recommended else "Priority no longer recommended by the scoring matrix: review or remove."

    def to_dict(self) -> dict[str, Any]:
        """The recommendation as plain JSON-able data."""
        return {
            "ref": self.ref,
            "priority": self.priority,
            "label": self.label,
            "evidence": list(self.evidence),
            "action": self.action,
            "owner": self.owner,
            "scores": self.scores,
            "finding_ids": list(self.finding_ids),
            "recommended": self.recommended,
            "edited": self.edited,
            "target": self.target,
            "review": self.review,
            "flag": self.flag,
        }


def previous_recommendations(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """Last year's recommendations (the latest year loaded), each with its RAG, in ref order.

    Returns:
        Dicts with ``ref``, ``year``, ``text``, ``priority``, ``status``, ``rag``, ``owner``, ``due`` (ISO date
        or ""), ``evidence``; empty when none are loaded.
    """
    rows = query(
        con,
        "SELECT ref, year, text, status, priority, owner, due, evidence FROM recommendations "
        "WHERE year = (SELECT max(year) FROM recommendations) ORDER BY ref",
    )
    return [
        {
            "ref": r["ref"],
            "year": r["year"],
            "text": r["text"],
            "priority": r["priority"] or "",
            "status": r["status"],
            "rag": STATUS_RAG.get(str(r["status"]), "grey"),
            "owner": r["owner"] or "",
            "due": r["due"].isoformat() if r["due"] is not None else "",
            "evidence": r["evidence"] or "",
        }
        for r in rows
    ]


def rag_summary(previous: list[dict[str, Any]]) -> dict[str, int]:
    """Count previous recommendations by RAG (every RAG present, zero when none)."""
    counts = {rag: 0 for rag in ("complete", "green", "amber", "red", "grey")}
    for row in previous:
        counts[row["rag"]] += 1
    return counts


def suggested_owner(priority: str) -> str:
    """The suggested lead owner for a candidate key (see :data:`OWNERS`)."""
    return OWNERS.get(priority, _POLICE_DEFAULT)


def _review_date(period_last: str, months: int = 6) -> str:
    """The last day of the month ``months`` after the period's last month (the half-year review)."""
    year, month = (int(x) for x in period_last.split("-"))
    index = year * 12 + month - 1 + months + 1  # the month after the review month
    first_after = date(index // 12, index % 12 + 1, 1)
    return (first_after - timedelta(days=1)).isoformat()


def _target(fs: FindingSet, key: str, ids: list[str]) -> tuple[str, bool]:
    """A measurable target with its baseline, and whether the main measure rose significantly."""
    volume = fs.get(ids[0]) if ids else None
    share = next((f for fid in ids[1:] if (f := fs.get(fid)) is not None and f.unit == "proportion"), None)
    if key == "domestic_abuse" and share is not None and share.value is not None:
        # more reporting is not the target: fewer victims harmed again is
        goal = max(share.value - 0.03, 0.0)
        base = f" ({share.numerator:,.0f} of {share.denominator:,.0f})" if share.denominator else ""
        return (
            f"Repeat victims down from {share.value:.0%}{base} to {goal:.0%} or less ({share.id}); reporting "
            "itself is not targeted.",
            False,
        )
    if volume is None or volume.value is None:
        return "A local performance indicator, to be agreed by the board with its baseline.", False
    c = volume.change
    rising = c is not None and c.significant and c.direction == "up"
    if rising and volume.baseline is not None:
        return (
            f"{volume.title}: back from {volume.value:,.0f} to the level before the rise, {volume.baseline:,.0f} or "
            f"fewer in 12 months ({volume.id}).",
            True,
        )
    goal = volume.value * 0.95
    return (
        f"{volume.title}: 5% fewer, from {volume.value:,.0f} to {goal:,.0f} or fewer in 12 months ({volume.id}).",
        False,
    )


def _why_anyway(row: Any) -> str:
    """Why a priority without a significant rise matters: the criteria it scores highest on."""
    cells = sorted((c for c in row.criteria if c.score is not None and c.weight), key=lambda c: -(c.score or 0))
    named = [c.label.lower() for c in cells[:2]]
    return " and ".join(named) if named else "its score"


def _action(label: str, key: str, rising: bool, row: Any) -> str:
    subject = label[:1].lower() + label[1:]
    focus = f" Focus on {_FOCUS[key]}." if key in _FOCUS else ""
    if key == "domestic_abuse":  # more reporting is welcome; fewer victims harmed again is the aim
        return f"Cut repeat victimisation from domestic abuse while keeping reporting up.{focus}"
    if rising:
        return f"Reverse the significant rise in {subject}: find what drove it, and act where it rose most.{focus}"
    return (
        f"Reduce the harm of {subject}: it shows no significant change, but it matters because of its "
        f"{_why_anyway(row)}.{focus}"
    )


def draft_recommendations(priorities: PriorityResult, fs: FindingSet) -> list[NewRecommendation]:
    """One drafted recommendation per recommended priority, in rank order (refs ``N01``, ``N02``...)."""
    by_key = {c.key: c for c in priorities.candidates}
    out: list[NewRecommendation] = []
    for i, key in enumerate(priorities.recommended(), start=1):
        row = priorities.ranking.row(key)
        candidate = by_key.get(key)
        ids: list[str] = []
        if candidate is not None:
            wanted = candidate.ids_for("count", "change", "repeat_share", "high_risk_share")
            ids = [fid for fid in wanted if fs.get(fid) is not None]
        evidence = [s for s in dict.fromkeys(f.sentence for f in (fs.require(fid) for fid in ids)) if s]
        target, rising = _target(fs, key, ids)
        if not ids and candidate is not None:
            change = candidate.change
            rising = change is not None and change.significant and change.direction == "up"
        scores: dict[str, Any] = {
            "matrix": priorities.matrix.name,
            "total": row.total,
            "band": row.band,
            "rank": row.rank,
            "criteria": {
                c.criterion: {"level": c.level_label, "score": c.score, "weight": c.weight} for c in row.criteria
            },
            "overrides": list(row.overrides),
        }
        if priorities.sensitivity is not None:
            try:
                sens = priorities.sensitivity.row(key)
                scores["share_top_n"] = sens.share_top_n
                scores["stability"] = sens.stability
            except KeyError:
                pass
        out.append(
            NewRecommendation(
                ref=f"N{i:02d}",
                priority=key,
                label=row.label,
                evidence=evidence,
                action=_action(row.label, key, rising, row),
                owner=suggested_owner(key),
                scores=scores,
                finding_ids=ids,
                target=target,
                review=_review_date(fs.period.last),
            )
        )
    return out


def _toml_str(text: str) -> str:
    # JSON string escapes (\" \\ \n \t \uXXXX) are valid in TOML basic strings
    return json.dumps(text, ensure_ascii=False)


def _entry_toml(rec: NewRecommendation) -> str:
    evidence = "".join(f"    {_toml_str(s)},\n" for s in rec.evidence)
    return (
        "\n[[recommendation]]\n"
        f"ref = {_toml_str(rec.ref)}\n"
        f"priority = {_toml_str(rec.priority)}\n"
        f"label = {_toml_str(rec.label)}\n"
        f"action = {_toml_str(rec.action)}\n"
        f"owner = {_toml_str(rec.owner)}\n"
        f"target = {_toml_str(rec.target)}\n"
        f"review = {_toml_str(rec.review)}\n"
        f"evidence = [\n{evidence}]\n"
    )


def _read(path: Path) -> list[dict[str, Any]]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"Cannot read {path}: {exc.strerror}.") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}. Fix it, or delete it to have it drafted again.") from None
    entries = data.get("recommendation", [])
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: recommendations must be [[recommendation]] tables.")
    for i, entry in enumerate(entries, start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("priority"), str) or not entry["priority"]:
            raise ConfigError(f"{path}: recommendation {i} has no priority (the candidate key it serves).")
        if not isinstance(entry.get("evidence", []), list):
            raise ConfigError(f"{path}: recommendation {entry['priority']!r}: evidence must be a list of texts.")
    return entries


def _next_ref(refs: list[str]) -> int:
    numbers = [int(m.group(1)) for r in refs if (m := re.fullmatch(r"N(\d+)", r))]
    return max(numbers, default=0) + 1


def load_or_draft(path: Path, drafts: list[NewRecommendation]) -> list[NewRecommendation]:
    """The new recommendations, as the analyst has edited them.

    When ``path`` is absent the drafts are written there and returned. When it exists, every entry in it is kept
    as the analyst wrote it (matched to the drafts by ``priority``; the current scores are attached), drafts for
    priorities not yet in the file are appended to it (new refs after the highest ``Nxx``), and entries whose
    priority is no longer recommended are returned with ``recommended=False``. The analyst's text is never
    rewritten.

    Args:
        path: Usually ``<workspace>/narrative/new_recommendations.toml``.
        drafts: From :func:`draft_recommendations`.

    Raises:
        ConfigError: The file is not valid TOML or an entry has no priority.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_HEADER + "".join(_entry_toml(d) for d in drafts), encoding="utf-8")
        return list(drafts)
    entries = _read(path)
    by_priority = {d.priority: d for d in drafts}
    out: list[NewRecommendation] = []
    seen: set[str] = set()
    for entry in entries:
        key = entry["priority"]
        seen.add(key)
        draft = by_priority.get(key)
        rec = NewRecommendation(
            ref=str(entry.get("ref", "")),
            priority=key,
            label=str(entry.get("label", draft.label if draft else key)),
            evidence=[str(s) for s in entry.get("evidence", [])],
            action=str(entry.get("action", "")),
            owner=str(entry.get("owner", "")),
            scores=draft.scores if draft else {},
            finding_ids=draft.finding_ids if draft else [],
            recommended=draft is not None,
            target=str(entry.get("target", draft.target if draft else "")),
            review=str(entry.get("review", draft.review if draft else "")),
        )
        if draft is not None:
            rec = replace(
                rec, edited=(rec.action, rec.owner, rec.evidence) != (draft.action, draft.owner, draft.evidence)
            )
        out.append(rec)
    number = _next_ref([r.ref for r in out])
    added: list[NewRecommendation] = []
    for draft in drafts:
        if draft.priority not in seen:
            added.append(replace(draft, ref=f"N{number:02d}"))
            number += 1
    if added:
        with path.open("a", encoding="utf-8") as fh:
            fh.write("".join(_entry_toml(d) for d in added))
    return out + added

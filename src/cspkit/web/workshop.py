"""The priorities workshop: board members score the judgement criteria, the analyst closes it into judgements.

Every score as entered is a row (who, what, when); the latest per scorer counts. Closing a workshop records, for
each candidate and criterion scored, the median level of the scorers (the lower middle level when their number is
even, so the combined level is always a level of the scale) with a justification quoting every scorer's level
and reason, in the workspace's ``judgements.toml`` through :class:`~cspkit.priorities.JudgementStore`: the same
record that ``cspkit priorities`` and ``cspkit assess`` read.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from cspkit.errors import AnalysisError
from cspkit.priorities import (
    CandidateEvidence,
    Criterion,
    JudgementStore,
    Matrix,
    Ranking,
    Sensitivity,
    build_inputs,
    score,
    sensitivity,
)
from cspkit.web.db import Score, User, Workshop, utcnow
from cspkit.workspace import Workspace

__all__ = ["Agreement", "agreement", "close", "combined_levels", "current_scores", "open_workshop", "save_score"]


def judgement_criteria(matrix: Matrix) -> list[Criterion]:
    return [c for c in matrix.criteria if c.kind == "judgement"]


def open_workshop(db: Session, matrix: Matrix) -> Workshop:
    """The open workshop for this matrix (one is opened when none is)."""
    found = db.execute(
        select(Workshop).where(Workshop.closed_at.is_(None), Workshop.matrix == matrix.name).order_by(Workshop.id)
    ).scalar()
    if found is None:
        found = Workshop(matrix=matrix.name, opened_at=utcnow())
        db.add(found)
        db.commit()
    return found


def _level_index(criterion: Criterion, value: str) -> int | None:
    for i, level in enumerate(criterion.scale):
        if str(level.value) == value:
            return i
    return None


def save_score(
    db: Session,
    workshop: Workshop,
    matrix: Matrix,
    candidates: list[CandidateEvidence],
    user: User,
    candidate: str,
    criterion: str,
    value: str,
    why: str,
) -> Score:
    """Record one score (a new row each time, so the history is kept).

    Raises:
        AnalysisError: Unknown candidate or criterion, or a value not on the criterion's scale.
    """
    if candidate not in {c.key for c in candidates}:
        raise AnalysisError(f"There is no candidate issue {candidate!r} in this workshop.")
    crit = next((c for c in judgement_criteria(matrix) if c.key == criterion), None)
    if crit is None:
        raise AnalysisError(f"{criterion!r} is not a judgement criterion of {matrix.label}.")
    if value != "" and _level_index(crit, value) is None:
        allowed = ", ".join(str(level.value) for level in crit.scale)
        raise AnalysisError(f"{value!r} is not on the scale of {crit.label} (allowed: {allowed}).")
    row = Score(
        workshop_id=workshop.id,
        user_id=user.id,
        candidate=candidate,
        criterion=criterion,
        value=value,
        why=why.strip()[:2000],
        at=utcnow(),
    )
    db.add(row)
    db.commit()
    return row


def current_scores(db: Session, workshop: Workshop) -> dict[int, dict[tuple[str, str], Score]]:
    """Scorer id -> (candidate, criterion) -> their latest score (a cleared score is left out)."""
    latest: dict[int, dict[tuple[str, str], Score]] = {}
    rows = db.execute(select(Score).where(Score.workshop_id == workshop.id).order_by(Score.id)).scalars()
    for s in rows:
        latest.setdefault(s.user_id, {})[(s.candidate, s.criterion)] = s
    return {u: {k: s for k, s in by.items() if s.value != ""} for u, by in latest.items()}


@dataclass(frozen=True)
class Agreement:
    """How far the scorers agree on one candidate and criterion."""

    candidate: str
    criterion: str
    values: list[str]
    spread: int  # highest minus lowest level index

    @property
    def exact(self) -> bool:
        return self.spread == 0


def agreement(matrix: Matrix, scores: dict[int, dict[tuple[str, str], Score]]) -> list[Agreement]:
    """Per candidate and criterion scored by two or more board members: their levels and the spread."""
    out = []
    for crit in judgement_criteria(matrix):
        keys = sorted({k for by in scores.values() for k in by if k[1] == crit.key})
        for key in keys:
            values = [by[key].value for by in scores.values() if key in by]
            if len(values) < 2:
                continue
            idx = [i for i in (_level_index(crit, v) for v in values) if i is not None]
            out.append(Agreement(key[0], key[1], values, max(idx) - min(idx)))
    return out


def combined_levels(
    matrix: Matrix, scores: dict[int, dict[tuple[str, str], Score]], names: dict[int, str]
) -> dict[tuple[str, str], tuple[str, str, int]]:
    """(candidate, criterion) -> (median level value, justification, number of scorers)."""
    out: dict[tuple[str, str], tuple[str, str, int]] = {}
    for crit in judgement_criteria(matrix):
        keys = sorted({k for by in scores.values() for k in by if k[1] == crit.key})
        for key in keys:
            entries = [(u, by[key]) for u, by in sorted(scores.items()) if key in by]
            idx = sorted(_level_index(crit, s.value) or 0 for _, s in entries)
            median = idx[(len(idx) - 1) // 2]
            value = str(crit.scale[median].value)
            reasons = "; ".join(
                f"{names.get(u, 'board member')}: {s.value}" + (f" ({s.why})" if s.why else "") for u, s in entries
            )
            out[key] = (value, f"Median of {len(entries)} board scores. {reasons}", len(entries))
    return out


def _store_with(
    path: Path, matrix: Matrix, combined: dict[tuple[str, str], tuple[str, str, int]], who: str
) -> JudgementStore:
    store = JudgementStore(path, matrix)
    for (candidate, criterion), (value, why, _) in combined.items():
        level: int | str = int(value) if value.lstrip("-").isdigit() else value
        store.set(candidate, criterion, level, why, who)
    return store


def preview(
    ws: Workspace,
    matrix: Matrix,
    candidates: list[CandidateEvidence],
    combined: dict[tuple[str, str], tuple[str, str, int]],
    *,
    runs: int = 500,
) -> tuple[Ranking, Sensitivity | None]:
    """The ranking (and its sensitivity) the workshop's combined scores would give, without recording them.

    The recorded judgements are copied to a scratch file and the combined scores applied to the copy; the scoring
    is the priorities engine's own (:func:`build_inputs`, :func:`score`, :func:`sensitivity`).
    """
    with tempfile.TemporaryDirectory(prefix="cspkit-workshop-") as tmp:
        path = Path(tmp) / "judgements.toml"
        if ws.judgements_path.exists():
            shutil.copyfile(ws.judgements_path, path)
        store = _store_with(path, matrix, combined, "workshop preview")
        inputs = build_inputs(matrix, candidates, store)
    ranking = score(matrix, inputs)
    sens = sensitivity(matrix, inputs, runs=runs, seed=1) if any(r.complete for r in ranking.rows) else None
    return ranking, sens


def close(
    db: Session,
    ws: Workspace,
    workshop: Workshop,
    matrix: Matrix,
    combined: dict[tuple[str, str], tuple[str, str, int]],
    user: User,
) -> int:
    """Record the combined scores as the workspace's judgements and close the workshop; returns how many."""
    scorers = max((n for _, _, n in combined.values()), default=0)
    who = f"CSP board workshop {workshop.id} ({scorers} scorers, closed by the analyst)"
    _store_with(ws.judgements_path, matrix, combined, who)
    workshop.closed_at = utcnow()
    workshop.closed_by = user.id
    db.commit()
    return len(combined)

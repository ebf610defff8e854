"""A provisional ranking before the workshop: scores on the criteria that have evidence for every candidate.

A partnership with no residents' survey loaded and no judgements recorded yet has no complete candidate, so the
matrix ranks nothing. This ranks the candidates on the criteria every one of them has, with those criteria's weights
re-normalised to the matrix's total weight (so the bands still apply), and names the criteria left out. It is
marked provisional wherever it is shown; the final ranking still needs every criterion.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from cspkit.priorities.matrix import CandidateInputs, Matrix, Ranking, score

__all__ = ["Provisional", "provisional_ranking"]


@dataclass(frozen=True)
class Provisional:
    """A ranking on the criteria with evidence, and the criteria it leaves out (their labels)."""

    ranking: Ranking
    missing: list[str]
    used: list[str]


def _given(candidate: CandidateInputs, key: str) -> bool:
    return key in candidate.evidence or key in candidate.judgements


def provisional_ranking(matrix: Matrix, candidates: Sequence[CandidateInputs], ranking: Ranking) -> Provisional | None:
    """The provisional ranking, or None when the final ranking has a complete candidate (or nothing can be scored).

    Weights of the criteria used are scaled so that they add up to the matrix's total weight of scored criteria.
    """
    if not candidates or any(row.complete for row in ranking.rows):
        return None
    scored = [c for c in matrix.criteria if c.scored]
    used = [c for c in scored if all(_given(cand, c.key) for cand in candidates)]
    if not used or len(used) == len(scored):
        return None
    scale = sum(c.weight for c in scored) / sum(c.weight for c in used)
    kept = {c.key for c in used}
    criteria = tuple(replace(c, weight=c.weight * scale) for c in matrix.criteria if c.key in kept or not c.scored)
    sub = replace(matrix, criteria=criteria, label=f"{matrix.label} (provisional)")
    inputs = [
        replace(
            cand,
            evidence={k: v for k, v in cand.evidence.items() if k in kept},
            judgements={k: v for k, v in cand.judgements.items() if k in kept},
        )
        for cand in candidates
    ]
    try:
        provisional = score(sub, inputs)
    except Exception:
        return None
    missing = [c.label for c in scored if c.key not in kept]
    return Provisional(provisional, missing, [c.label for c in used])

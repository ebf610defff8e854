"""How robust is the ranking? Monte Carlo over the weights and over alternative evidence sets.

Each run multiplies every weight the combination uses by an independent uniform(1 - j, 1 + j) factor and
rescales them to the original sum (for a weighted sum this keeps totals on the 1-5 scale; for MoRiLE only the
harm-element weights vary), and picks one of the evidence sets at random (e.g. candidates scored with the
Cambridge Crime Harm Index and with the ONS Crime Severity Score). It then ranks the candidates as
:func:`~cspkit.priorities.matrix.score` does (equal totals share a rank).

The evidence itself is uncertain too: with ``evidence_draws`` each run also takes one random redraw of the
evidence of its evidence set (see :func:`cspkit.priorities.evidence.resample_evidence`: volumes and harm rates
within their count uncertainty and over-dispersion, trend verdicts as a replicate of their test would come out).
Each candidate then gets two stabilities: to the weights alone (``stability_weights_only``) and to weights and
evidence together (``stability``); a priority is robust to both when both are ``robust``.

For each candidate: the share of runs in which it ranks in the top N, its mean rank and its 5th-95th
percentile rank range (5th rounded down, 95th rounded up). Its stability is ``robust`` when the share is 0.8
or more, ``fragile`` from 0.2 to under 0.8, and ``outside`` under 0.2. Candidates with a missing input in any
evidence set cannot be ranked and are listed in ``excluded``. Runs are reproducible for a seed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np

from cspkit.errors import AnalysisError, ConfigError
from cspkit.priorities.matrix import CandidateInputs, Matrix, combine_scores, score

__all__ = ["CandidateSensitivity", "Sensitivity", "sensitivity"]

Stability = Literal["robust", "fragile", "outside"]

ROBUST_SHARE = 0.8
OUTSIDE_SHARE = 0.2


@dataclass(frozen=True)
class CandidateSensitivity:
    """How one candidate fared across the runs."""

    candidate: str
    label: str
    base_rank: int
    share_top_n: float
    mean_rank: float
    rank_p5: int
    rank_p95: int
    stability: Stability
    #: Share of runs in the top N and stability when only the weights (and harm index) vary, evidence as measured.
    share_top_n_weights_only: float | None = None
    stability_weights_only: Stability | None = None

    @property
    def robust_to_both(self) -> bool:
        """Robust to the weights and to the uncertainty in the evidence."""
        return self.stability == "robust" and self.stability_weights_only in (None, "robust")


@dataclass(frozen=True)
class Sensitivity:
    """The result of :func:`sensitivity`, candidates in base-rank order."""

    matrix: str
    runs: int
    seed: int
    weight_jitter: float
    top_n: int
    evidence_sets: list[str]
    rows: list[CandidateSensitivity]
    excluded: list[str] = field(default_factory=list)
    #: Redraws of the evidence per evidence set (0: evidence taken as measured).
    evidence_draws: int = 0

    def row(self, candidate: str) -> CandidateSensitivity:
        """Return the row for a candidate key."""
        for row in self.rows:
            if row.candidate == candidate:
                return row
        raise KeyError(candidate)

    def to_rows(self) -> list[dict[str, Any]]:
        """Return one flat dict per candidate for tables."""
        return [{**asdict(row), "robust_to_both": row.robust_to_both} for row in self.rows]

    def to_dict(self) -> dict[str, Any]:
        """Return the settings and results as plain JSON-able data."""
        data = asdict(self)
        data["rows"] = self.to_rows()
        return data


def _stability(share: float) -> Stability:
    if share >= ROBUST_SHARE:
        return "robust"
    if share >= OUTSIDE_SHARE:
        return "fragile"
    return "outside"


def sensitivity(
    matrix: Matrix,
    candidates: Sequence[CandidateInputs],
    *,
    runs: int = 1000,
    weight_jitter: float = 0.20,
    top_n: int = 5,
    seed: int = 1,
    alternative_inputs: Mapping[str, Sequence[CandidateInputs]] | None = None,
    evidence_draws: Mapping[str, Sequence[Sequence[CandidateInputs]]] | None = None,
) -> Sensitivity:
    """Test how far the ranking depends on the weights and on the choice of evidence.

    Args:
        matrix: The matrix.
        candidates: The candidates as scored in the assessment (the ``base`` evidence set).
        runs: Number of Monte Carlo runs.
        weight_jitter: Each weight is multiplied by uniform(1 - jitter, 1 + jitter); 0 keeps the weights.
        top_n: The number of places that count as "in the top".
        seed: Seed of the random generator; the same seed gives the same result.
        alternative_inputs: Other evidence sets by name, each with the same candidates scored differently
            (e.g. ``{"css": candidates_scored_with_crime_severity_score}``).
        evidence_draws: For each evidence set (``base`` or an alternative's name), redraws of its candidates'
            inputs within the uncertainty of the evidence; sets without draws keep their evidence as measured.

    Raises:
        ConfigError: runs, weight_jitter or top_n out of range.
        AnalysisError: An alternative set does not hold the same candidates, or no candidate is complete.
    """
    if runs < 1:
        raise ConfigError(f"sensitivity: runs must be 1 or more, got {runs}")
    if not 0.0 <= weight_jitter < 1.0:
        raise ConfigError(f"sensitivity: weight_jitter must be from 0 up to (not including) 1, got {weight_jitter}")
    if top_n < 1:
        raise ConfigError(f"sensitivity: top_n must be 1 or more, got {top_n}")

    if alternative_inputs and "base" in alternative_inputs:
        raise ConfigError("sensitivity: 'base' names the candidates as given; call the alternative set otherwise")
    sets: dict[str, Sequence[CandidateInputs]] = {"base": candidates, **(alternative_inputs or {})}
    base_keys = [c.key for c in candidates]
    rankings = {}
    for name, inputs in sets.items():
        if sorted(c.key for c in inputs) != sorted(base_keys):
            raise AnalysisError(f"sensitivity: evidence set '{name}' does not hold the same candidates as the base")
        rankings[name] = score(matrix, inputs)

    excluded = [k for k in base_keys if any(not r.row(k).complete for r in rankings.values())]
    base = rankings["base"]
    keys = [row.candidate for row in base.rows if row.candidate not in excluded]
    if not keys:
        raise AnalysisError("sensitivity: no candidate has every input, so there is nothing to rank")

    scored_keys = [c.key for c in matrix.scored_criteria]
    # scores[set, candidate, criterion]
    scores = np.array(
        [[[ranking.row(k).cell(c).score for c in scored_keys] for k in keys] for ranking in rankings.values()],
        dtype=float,
    )

    rng = np.random.default_rng(seed)
    chosen_set = rng.integers(0, len(sets), size=runs)
    factors = rng.uniform(1.0 - weight_jitter, 1.0 + weight_jitter, size=(runs, len(scored_keys)))

    base_weights = matrix.base_weights()
    varied = np.array([matrix.combine != "morile" or c.role == "harm" for c in matrix.scored_criteria], dtype=bool)
    weights = np.tile(base_weights, (runs, 1))
    jittered = base_weights[varied] * factors[:, varied]
    sums = jittered.sum(axis=1, keepdims=True)
    # Rescale to the original sum; where every varied weight is zero, leave them at zero.
    weights[:, varied] = np.where(sums > 0, jittered * base_weights[varied].sum() / np.where(sums > 0, sums, 1), 0)

    def ranks_of(run_scores: np.ndarray) -> np.ndarray:
        totals, _ = combine_scores(matrix, run_scores, weights[:, None, :])  # (runs, candidates)
        # Rank = 1 + number of candidates with a strictly higher total, as in score().
        return 1 + (totals[:, None, :] > totals[:, :, None]).sum(axis=2)

    weights_only_ranks = ranks_of(scores[chosen_set])
    n_draws = 0
    ranks = weights_only_ranks
    if evidence_draws:
        names = list(sets)
        per_set = [list(evidence_draws.get(name, [])) for name in names]
        n_draws = min((len(d) for d in per_set if d), default=0)
        if n_draws:

            def cells(ranking: Any) -> list[list[float]]:
                return [[ranking.row(k).cell(c).score for c in scored_keys] for k in keys]

            drawn = np.array(
                [
                    [cells(score(matrix, draw)) for draw in (d[:n_draws] if d else [sets[name]] * n_draws)]
                    for name, d in zip(names, per_set, strict=True)
                ],
                dtype=float,
            )  # (sets, draws, candidates, criteria)
            chosen_draw = rng.integers(0, n_draws, size=runs)
            ranks = ranks_of(drawn[chosen_set, chosen_draw])
    share_weights = (weights_only_ranks <= top_n).mean(axis=0)

    share = (ranks <= top_n).mean(axis=0)
    mean_rank = ranks.mean(axis=0)
    p5 = np.percentile(ranks, 5, axis=0, method="lower")
    p95 = np.percentile(ranks, 95, axis=0, method="higher")

    rows = [
        CandidateSensitivity(
            candidate=key,
            label=base.row(key).label,
            base_rank=int(base.row(key).rank or 0),
            share_top_n=round(float(share[i]), 4),
            mean_rank=round(float(mean_rank[i]), 2),
            rank_p5=int(p5[i]),
            rank_p95=int(p95[i]),
            stability=_stability(float(share[i])),
            share_top_n_weights_only=round(float(share_weights[i]), 4) if n_draws else None,
            stability_weights_only=_stability(float(share_weights[i])) if n_draws else None,
        )
        for i, key in enumerate(keys)
    ]
    return Sensitivity(
        matrix=matrix.name,
        runs=runs,
        seed=seed,
        weight_jitter=weight_jitter,
        top_n=top_n,
        evidence_sets=list(sets),
        rows=rows,
        excluded=excluded,
        evidence_draws=n_draws,
    )

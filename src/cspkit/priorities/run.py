"""Running the scoring matrix for a workspace: candidates from findings, judgements, ranking and sensitivity.

The matrix is the preset named in cspkit.toml (``[matrix] preset = "vthpc"``), a full matrix definition in the
``[matrix]`` table, or the one named on the command line. Judgement inputs live in the workspace's
``judgements.toml`` with who, when and why. Overrides (statutory duty, last year's priority still red) are shown
beside the score, never added to it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import duckdb
import numpy as np

from cspkit.findings.engine import FindingSet
from cspkit.findings.harm import HARM_INDICES, get_harm_index
from cspkit.priorities.candidates import PublicViews, assemble_candidates, load_public_views
from cspkit.priorities.evidence import CandidateEvidence, build_inputs, resample_evidence
from cspkit.priorities.judgements import JudgementStore
from cspkit.priorities.matrix import Matrix, Ranking, score
from cspkit.priorities.presets import PRESETS, matrix_for
from cspkit.priorities.provisional import Provisional, provisional_ranking
from cspkit.priorities.sensitivity import Sensitivity, sensitivity
from cspkit.warehouse.store import query
from cspkit.workspace import Workspace

__all__ = ["PriorityResult", "matrix_for", "prioritise"]

#: Candidates the Crime and Disorder Act names explicitly (s.5/s.6 as amended): shown as an override flag.
STATUTORY = {
    "reoffending": "statutory duty: reducing reoffending (Crime and Disorder Act 1998 s.6, from 2010)",
    "drugs": "statutory duty: substance misuse (Crime and Disorder Act 1998 s.6)",
    "asb": "statutory duty: anti-social behaviour (Crime and Disorder Act 1998 s.6)",
}


#: Redraws of the evidence per evidence set in the sensitivity analysis.
EVIDENCE_DRAWS = 40


@dataclass
class PriorityResult:
    matrix: Matrix
    ranking: Ranking
    sensitivity: Sensitivity | None
    candidates: list[CandidateEvidence]
    views: PublicViews
    harm_index: str
    #: Before the workshop: a ranking on the criteria with evidence (None once a candidate is complete).
    provisional: Provisional | None = None

    def recommended(self) -> list[str]:
        """Candidate keys in the top band (the matrix's first band), in rank order."""
        top = self.matrix.bands[0].label if self.matrix.bands else None
        return [r.candidate for r in self.ranking.rows if r.complete and r.band == top]

    def to_dict(self) -> dict[str, Any]:
        return {
            "matrix": self.matrix.name,
            "harm_index": self.harm_index,
            "public_views_year": self.views.year,
            "ranking": self.ranking.to_dict(),
            "sensitivity": self.sensitivity.to_dict() if self.sensitivity else None,
            "recommended": self.recommended(),
            "provisional": None
            if self.provisional is None
            else {
                "ranking": self.provisional.ranking.to_dict(),
                "missing_criteria": self.provisional.missing,
                "criteria_used": self.provisional.used,
            },
        }


def _still_red(con: duckdb.DuckDBPyConnection, candidates: list[CandidateEvidence]) -> dict[str, str]:
    """Candidates named in last year's recommendations that are delayed or not started."""
    rows = query(
        con,
        "SELECT ref, priority, text, status FROM recommendations WHERE status IN ('delayed', 'not_started') "
        "AND year = (SELECT max(year) FROM recommendations)",
    )
    flags: dict[str, str] = {}
    for c in candidates:
        words = c.label.lower()
        for r in rows:
            text = f"{r['priority'] or ''} {r['text'] or ''}".lower()
            if words in text or c.key.replace("_", " ") in text:
                flags[c.key] = f"last year's recommendation {r['ref']} is {r['status'].replace('_', ' ')}"
    return flags


def prioritise(
    con: duckdb.DuckDBPyConnection,
    ws: Workspace,
    fs: FindingSet,
    *,
    matrix_name: str | None = None,
    runs: int = 1000,
    seed: int = 1,
    top_n: int = 5,
) -> PriorityResult:
    """Score every candidate issue and test the ranking's robustness."""
    config = ws.config()
    matrix = matrix_for(config, matrix_name)
    harm_name = str(config.get("definitions.harm_index"))
    harm = get_harm_index(harm_name)
    views = load_public_views(con)
    extra = config.extra.get("candidates")
    extra_list = [c for c in extra if isinstance(c, dict)] if isinstance(extra, list) else []
    dedup = bool(config.get("definitions.deduplicate_nested_candidates"))
    candidates = assemble_candidates(fs, harm, views, extra_list, dedup)
    red = _still_red(con, candidates)
    candidates = [
        replace(
            c,
            overrides=[
                *c.overrides,
                *([STATUTORY[c.key]] if c.key in STATUTORY else []),
                *([red[c.key]] if c.key in red else []),
            ],
        )
        for c in candidates
    ]
    judgements = JudgementStore(ws.judgements_path, matrix)
    inputs = build_inputs(matrix, candidates, judgements)
    ranking = score(matrix, inputs)
    alternatives = {harm_name: inputs}
    for other in HARM_INDICES:
        if other != harm_name:
            alt = assemble_candidates(fs, get_harm_index(other), views, extra_list, dedup)
            alt = [replace(a, overrides=c.overrides) for a, c in zip(alt, candidates, strict=True)]
            alternatives[other] = build_inputs(matrix, alt, judgements)
    # the evidence varies within its uncertainty as well as the weights (see resample_evidence)
    rng = np.random.default_rng(seed)
    draws: dict[str, list[Any]] = {}
    for name in alternatives:
        base_candidates = (
            candidates
            if name == harm_name
            else [
                replace(a, overrides=c.overrides)
                for a, c in zip(
                    assemble_candidates(fs, get_harm_index(name), views, extra_list, dedup), candidates, strict=True
                )
            ]
        )
        draws[name] = [
            build_inputs(matrix, resample_evidence(base_candidates, rng), judgements) for _ in range(EVIDENCE_DRAWS)
        ]
    sens = None
    if any(r.complete for r in ranking.rows):
        sens = sensitivity(
            matrix,
            inputs,
            runs=runs,
            seed=seed,
            top_n=top_n,
            alternative_inputs={k: v for k, v in alternatives.items() if k != "base"},
            evidence_draws={**draws, "base": draws[harm_name]},
        )
    provisional = provisional_ranking(matrix, inputs, ranking)
    return PriorityResult(matrix, ranking, sens, candidates, views, harm_name, provisional)


def preset_names() -> list[str]:
    return list(PRESETS)

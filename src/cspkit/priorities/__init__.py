"""Priorities: scoring candidate issues on a partnership's stated criteria, transparently and reproducibly.

- :mod:`~cspkit.priorities.matrix`: matrix configuration, validation and the scoring engine.
- :mod:`~cspkit.priorities.presets`: ``vthpc`` (default), ``morile`` and ``grid4x4``.
- :mod:`~cspkit.priorities.evidence`: rules that turn findings into criterion inputs.
- :mod:`~cspkit.priorities.judgements`: the panel's judgements, with why, who and when, in a TOML file.
- :mod:`~cspkit.priorities.sensitivity`: how robust the ranking is to weights and evidence choices.

Typical use::

    matrix = load_preset("vthpc")
    store = JudgementStore(workspace / "judgements.toml", matrix)
    inputs = build_inputs(matrix, candidate_evidence, store)
    ranking = score(matrix, inputs)
    note = describe_missing(ranking)
    robustness = sensitivity(matrix, inputs, alternative_inputs={"css": inputs_with_css_harm})
"""

from cspkit.priorities.evidence import CandidateEvidence, build_inputs
from cspkit.priorities.judgements import JudgementStore
from cspkit.priorities.matrix import (
    CandidateInputs,
    Criterion,
    EvidenceValue,
    Judgement,
    Matrix,
    Ranking,
    RankingRow,
    describe_missing,
    load_matrix,
    score,
)
from cspkit.priorities.presets import DEFAULT_PRESET, PRESETS, load_preset, preset_config
from cspkit.priorities.sensitivity import CandidateSensitivity, Sensitivity, sensitivity

__all__ = [
    "DEFAULT_PRESET",
    "PRESETS",
    "CandidateEvidence",
    "CandidateInputs",
    "CandidateSensitivity",
    "Criterion",
    "EvidenceValue",
    "Judgement",
    "JudgementStore",
    "Matrix",
    "Ranking",
    "RankingRow",
    "Sensitivity",
    "build_inputs",
    "describe_missing",
    "load_matrix",
    "load_preset",
    "preset_config",
    "score",
    "sensitivity",
]

"""Pin the public surface of cspkit.priorities."""

from __future__ import annotations

import cspkit.priorities as priorities


def test_public_api() -> None:
    assert set(priorities.__all__) == {
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
    }
    assert len(priorities.__all__) == len(set(priorities.__all__))
    for name in priorities.__all__:
        assert hasattr(priorities, name)

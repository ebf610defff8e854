"""Helpers for the priorities tests: candidates built from the domain notes' worked examples."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from cspkit.priorities import CandidateInputs, EvidenceValue, Judgement, Matrix, load_preset

MakeCandidate = Callable[..., CandidateInputs]


def _judgement(value: int | float | str) -> Judgement:
    return Judgement(value=value, why="agreed at the strategic board workshop", who="CSP board", when="2024-05-14")


def _evidence(value: int | float | str) -> EvidenceValue:
    return EvidenceValue(value=None, score_input=value, finding_ids=["test.finding"], explanation="hand-made input")


def make_inputs(
    matrix: Matrix,
    key: str,
    levels: dict[str, int | float | str],
    label: str | None = None,
    overrides: list[str] | None = None,
) -> CandidateInputs:
    """Build inputs giving each criterion its level, as evidence or judgement according to the criterion."""
    evidence = {k: _evidence(v) for k, v in levels.items() if matrix.criterion(k).kind == "evidence"}
    judgements = {k: _judgement(v) for k, v in levels.items() if matrix.criterion(k).kind == "judgement"}
    return CandidateInputs(key, label or key, evidence, judgements, list(overrides or []))


@pytest.fixture
def inputs_for() -> Callable[..., CandidateInputs]:
    """The :func:`make_inputs` helper, for any matrix."""
    return make_inputs


@pytest.fixture
def vthpc() -> Matrix:
    return load_preset("vthpc")


@pytest.fixture
def vthpc_candidate(vthpc: Matrix) -> MakeCandidate:
    """Candidate from the five V, T, H, P, C levels of the domain notes' table."""

    def make(
        key: str,
        v: int,
        t: int,
        h: int,
        p: int,
        c: int,
        label: str | None = None,
        overrides: list[str] | None = None,
    ) -> CandidateInputs:
        levels: dict[str, int | float | str] = {
            "volume": v,
            "trend": t,
            "harm": h,
            "public_concern": p,
            "partnership_value": c,
        }
        return make_inputs(vthpc, key, levels, label, overrides)

    return make


@pytest.fixture
def worked_examples(vthpc_candidate: MakeCandidate) -> list[CandidateInputs]:
    """The five issues of the domain notes' VTHPC worked example."""
    return [
        vthpc_candidate("asb", 5, 3, 2, 5, 5, label="ASB (repeat/vulnerable victims)"),
        vthpc_candidate("domestic_abuse", 4, 4, 5, 3, 5, label="Domestic abuse"),
        vthpc_candidate("reoffending", 3, 3, 4, 3, 5, label="Re-offending (IOM)"),
        vthpc_candidate("sexual_abuse", 2, 4, 5, 2, 4, label="Sexual abuse"),
        vthpc_candidate("shoplifting", 3, 3, 1, 1, 2, label="Shoplifting"),
    ]

"""The provisional ranking before the workshop: no residents' survey and no judgements yet."""

from __future__ import annotations

import pytest

from cspkit.priorities import Matrix, score
from cspkit.priorities.provisional import provisional_ranking
from tests.priorities.conftest import make_inputs


def _before_workshop(matrix: Matrix, key: str, v: int, t: int, h: int):  # type: ignore[no-untyped-def]
    return make_inputs(matrix, key, {"volume": v, "trend": t, "harm": h}, label=key.title())


def test_ranks_on_the_criteria_with_evidence_and_names_the_rest(vthpc: Matrix) -> None:
    inputs = [
        _before_workshop(vthpc, "a", 5, 3, 4),
        _before_workshop(vthpc, "b", 2, 5, 4),
        _before_workshop(vthpc, "c", 1, 1, 1),
    ]
    final = score(vthpc, inputs)
    assert not any(row.complete for row in final.rows)  # the final ranking has nothing to rank
    provisional = provisional_ranking(vthpc, inputs, final)
    assert provisional is not None
    assert provisional.missing == ["Public concern", "Partnership value"]
    assert provisional.used == ["Volume", "Trend", "Harm"]
    # weights V 0.20, T 0.15, H 0.30 re-normalised over 0.65: a = (1.0 + 0.45 + 1.2) / 0.65
    totals = {row.candidate: row.total for row in provisional.ranking.rows}
    assert totals["a"] == pytest.approx(2.65 / 0.65)
    assert totals["b"] == pytest.approx((0.4 + 0.75 + 1.2) / 0.65)
    assert totals["c"] == pytest.approx(1.0)
    assert [row.candidate for row in provisional.ranking.rows] == ["a", "b", "c"]
    assert [row.rank for row in provisional.ranking.rows] == [1, 2, 3]
    assert "(provisional)" in provisional.ranking.matrix.label


def test_no_provisional_ranking_once_a_candidate_is_complete(vthpc: Matrix) -> None:
    complete = make_inputs(
        vthpc, "d", {"volume": 3, "trend": 3, "harm": 3, "public_concern": 3, "partnership_value": 3}
    )
    inputs = [complete, _before_workshop(vthpc, "a", 5, 3, 4)]
    assert provisional_ranking(vthpc, inputs, score(vthpc, inputs)) is None

"""Evidence rules on hand-made CandidateEvidence give the documented levels, with explanations."""

from __future__ import annotations

from pathlib import Path

import pytest

from cspkit.errors import AnalysisError
from cspkit.findings.model import Change
from cspkit.priorities import (
    CandidateEvidence,
    JudgementStore,
    Matrix,
    build_inputs,
    describe_missing,
    load_matrix,
    load_preset,
    preset_config,
    score,
)
from cspkit.priorities.evidence import RULES, percentile_rank
from cspkit.priorities.matrix import EVIDENCE_RULES


def _change(significant: bool, direction: str = "none", rate_ratio: float = 1.0) -> Change:
    return Change(
        absolute=0.0,
        percent=None,
        rate_ratio=rate_ratio,
        ci_low=None,
        ci_high=None,
        p_value=0.01 if significant else 0.4,
        p_adjusted=0.02 if significant else 0.6,
        significant=significant,
        direction=direction,  # type: ignore[arg-type]
    )


def _levels(matrix: Matrix, criterion: str, evidence: list[CandidateEvidence]) -> dict[str, object]:
    crit = matrix.criterion(criterion)
    rule = RULES[crit.rule or ""]
    out: dict[str, object] = {}
    for c in evidence:
        value = rule(crit, c, evidence)
        out[c.key] = None if value is None else value.score_input
    return out


def test_every_named_rule_is_implemented() -> None:
    assert set(RULES) == set(EVIDENCE_RULES)


def test_percentile_rank_is_mid_rank() -> None:
    assert [percentile_rank(v, [1, 2, 3, 4, 5]) for v in (1, 2, 3, 4, 5)] == [10, 30, 50, 70, 90]
    assert percentile_rank(2, [1, 2, 2, 3]) == 50  # (1 below + half of 2 equal) / 4


def test_volume_percentile_bands(vthpc: Matrix) -> None:
    evidence = [
        CandidateEvidence("a", "A", rate=1.0, finding_ids={"rate": ["crime.a.rate"]}),
        CandidateEvidence("b", "B", rate=2.0),
        CandidateEvidence("c", "C", rate=3.0),
        CandidateEvidence("d", "D", rate=4.0),
        CandidateEvidence("e", "E", rate=5.0),
        CandidateEvidence("none", "No data"),
    ]
    # Percentiles 10, 30, 50, 70, 90 among the five with a rate.
    assert _levels(vthpc, "volume", evidence) == {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "none": None}

    first = RULES["volume_percentile"](vthpc.criterion("volume"), evidence[0], evidence)
    assert first is not None
    assert first.value == 10.0
    assert first.finding_ids == ["crime.a.rate"]
    assert "A rate of 1.00 per 1,000 residents is at the 10th percentile of 5 candidate issues" in first.explanation
    assert "crime.a.rate" in first.explanation


def test_percentile_band_lower_bound_is_inclusive(vthpc: Matrix) -> None:
    # Rates 1, 2, 2, 3, 3: the 2s sit at percentile (1 + 1)/5 = 40 -> band 40-60 -> level 3.
    evidence = [CandidateEvidence(k, k, harm_rate=r) for k, r in zip("abcde", (1, 2, 2, 3, 3), strict=True)]
    assert _levels(vthpc, "harm", evidence) == {"a": 1, "b": 3, "c": 3, "d": 5, "e": 5}


def test_likelihood_from_volume_uses_quartiles_on_a_four_level_scale() -> None:
    grid = load_preset("grid4x4")
    evidence = [CandidateEvidence(k, k, count=n) for k, n in zip("abcd", (10, 200, 50, 900), strict=True)]
    # Percentiles 12.5, 62.5, 37.5, 87.5 -> quartiles 1, 3, 2, 4
    assert _levels(grid, "likelihood", evidence) == {"a": 1, "b": 3, "c": 2, "d": 4}


@pytest.mark.parametrize(
    ("change", "z", "level"),
    [
        (_change(True, "up", 1.4), 2.5, 5),  # significant rise
        (_change(True, "up", 1.4), 0.5, 5),  # significance decides, whatever z says
        (_change(False), 2.5, 4),  # not significant after adjustment: capped at 4
        (_change(False), 1.0, 4),
        (_change(False), 0.99, 3),
        (_change(False), -1.0, 2),
        (_change(False), -3.0, 2),
        (_change(True, "down", 0.7), -3.0, 1),  # significant fall
        (_change(False), None, 3),  # tested, no z: no significant change
        (None, 2.0, 5),  # z only: the domain z bands
        (None, 1.99, 4),
        (None, -0.5, 3),
        (None, -1.0, 2),
        (None, -2.0, 1),
        (None, None, None),  # nothing to go on: missing
    ],
)
def test_trend_significance(vthpc: Matrix, change: Change | None, z: float | None, level: int | None) -> None:
    candidate = CandidateEvidence("x", "X", change=change, poisson_z=z, finding_ids=["crime.x.count"])
    value = RULES["trend_significance"](vthpc.criterion("trend"), candidate, [candidate])
    assert (None if value is None else value.score_input) == level
    if value is not None:
        assert "crime.x.count" in value.explanation


@pytest.mark.parametrize(
    ("share", "level"),
    [(0.0, 1), (0.03, 2), (0.05, 3), (0.1499, 3), (0.15, 4), (0.2999, 4), (0.30, 5), (0.62, 5), (None, None)],
)
def test_public_concern_share(vthpc: Matrix, share: float | None, level: int | None) -> None:
    candidate = CandidateEvidence("x", "Drug dealing", public_concern_share=share)
    value = RULES["public_concern_share"](vthpc.criterion("public_concern"), candidate, [candidate])
    assert (None if value is None else value.score_input) == level


def test_public_concern_words_and_refusal(vthpc: Matrix) -> None:
    criterion = vthpc.criterion("public_concern")
    quiet = CandidateEvidence("x", "Shoplifting", public_concern_share=0.0, finding_ids=["views.2024.shoplifting"])
    value = RULES["public_concern_share"](criterion, quiet, [quiet])
    assert value is not None
    assert value.explanation.startswith("Shoplifting was not mentioned by residents, so Public concern is 1")
    percent = CandidateEvidence("y", "ASB", public_concern_share=25.0)
    with pytest.raises(AnalysisError, match="public_concern_share must be a proportion between 0 and 1"):
        RULES["public_concern_share"](criterion, percent, [percent])


def _vulnerability_matrix(levels: int) -> Matrix:
    scale = (
        [{"value": v, "label": v, "score": s} for v, s in (("none", 1.0), ("some", 1.25), ("high", 1.5))]
        if levels == 3
        else [{"value": v, "label": str(v)} for v in range(1, 6)]
    )
    return load_matrix(
        {
            "name": "local",
            "combine": "weighted_sum",
            "criteria": [
                {
                    "key": "vulnerability",
                    "weight": 1.0,
                    "kind": "evidence",
                    "rule": "vulnerability",
                    "scale": scale,
                }
            ],
        }
    )


@pytest.mark.parametrize(
    ("repeat", "high_risk", "five", "three"),
    [
        (0.05, None, 1, "none"),
        (0.10, 0.02, 2, "some"),
        (0.25, 0.35, 4, "high"),  # the higher share (high risk, 35%) decides
        (None, 0.40, 5, "high"),
        (None, None, None, None),
    ],
)
def test_vulnerability(repeat: float | None, high_risk: float | None, five: int | None, three: str | None) -> None:
    candidate = CandidateEvidence("asb", "ASB", repeat_share=repeat, high_risk_share=high_risk)
    for levels, expected in ((5, five), (3, three)):
        matrix = _vulnerability_matrix(levels)
        value = RULES["vulnerability"](matrix.criterion("vulnerability"), candidate, [candidate])
        assert (None if value is None else value.score_input) == expected


def test_rule_scale_sizes_are_validated() -> None:
    config = preset_config("vthpc")
    config["criteria"][1]["scale"] = config["criteria"][1]["scale"][:4]  # trend needs five levels
    with pytest.raises(Exception, match=r"criteria\[1\]\.scale has 4 levels but rule 'trend_significance' fills 5"):
        load_matrix(config)


def test_build_inputs_end_to_end(tmp_path: Path, vthpc: Matrix) -> None:
    store = JudgementStore(tmp_path / "judgements.toml", vthpc)
    store.set("da", "partnership_value", 5, why="MARAC and IDVA capacity", who="board", when="2024-05-14")
    evidence = [
        CandidateEvidence(
            "da",
            "Domestic abuse",
            count=4000,
            rate=14.0,
            change=_change(True, "up", 1.2),
            harm_rate=900.0,
            public_concern_share=0.12,
            finding_ids={"rate": ["da.count"], "change": ["da.count"], "harm_rate": ["da.harm"]},
            overrides=["statutory duty"],
        ),
        CandidateEvidence(
            "shop",
            "Shoplifting",
            count=1500,
            rate=5.0,
            poisson_z=0.3,
            harm_rate=5.0,
            public_concern_share=0.0,
        ),
    ]
    inputs = build_inputs(vthpc, evidence, store)
    ranking = score(vthpc, inputs)

    da = ranking.row("da")
    # volume: percentile 75 -> 4; trend: significant rise -> 5; harm: percentile 75 -> 4;
    # public concern 12% -> 3; partnership value 5 (judged).
    # 0.2*4 + 0.15*5 + 0.3*4 + 0.2*3 + 0.15*5 = 0.8 + 0.75 + 1.2 + 0.6 + 0.75 = 4.10
    assert [c.level for c in da.criteria] == [4, 5, 4, 3, 5]
    assert da.total == 4.1
    assert da.overrides == ["statutory duty"]
    assert da.cell("volume").value == 75.0
    assert da.cell("harm").finding_ids == ["da.harm"]

    shop = ranking.row("shop")
    assert not shop.complete and shop.missing == ["partnership_value"]
    assert "Shoplifting (shop): no judgement for Partnership value" in describe_missing(ranking)


def test_build_inputs_refuses_judgements_for_another_matrix(tmp_path: Path, vthpc: Matrix) -> None:
    store = JudgementStore(tmp_path / "judgements.toml", load_preset("grid4x4"))
    with pytest.raises(AnalysisError, match="judgements are for matrix 'grid4x4', not 'vthpc'"):
        build_inputs(vthpc, [CandidateEvidence("x", "X")], store)

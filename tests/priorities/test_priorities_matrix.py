"""The scoring engine on the domain notes' worked examples, missing inputs, overrides and validation."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from typing import Any

import pytest
import tomli_w

from cspkit.errors import AnalysisError, ConfigError
from cspkit.priorities import (
    CandidateInputs,
    EvidenceValue,
    Judgement,
    Matrix,
    describe_missing,
    load_matrix,
    load_preset,
    preset_config,
    score,
)

# ------------------------------------------------------------------------------------ VTHPC worked example


def test_vthpc_worked_example_totals_bands_and_ranks(vthpc: Matrix, worked_examples: list[CandidateInputs]) -> None:
    ranking = score(vthpc, worked_examples)

    expected = {
        "domestic_abuse": (4.25, "Recommended priority", 1),
        "asb": (3.80, "Recommended priority", 2),
        "reoffending": (3.60, "Recommended priority", 3),
        "sexual_abuse": (3.50, "Recommended priority", 4),  # exactly on the boundary: still a priority
        "shoplifting": (1.85, "Business as usual", 5),
    }
    assert [row.candidate for row in ranking.rows] == list(expected)
    for key, (total, band, rank) in expected.items():
        row = ranking.row(key)
        assert row.total == total
        assert row.band == band
        assert row.rank == rank
        assert row.complete and row.missing == []


def test_vthpc_row_shows_every_criterion_input_score_weight_and_weighted_score(
    vthpc: Matrix, worked_examples: list[CandidateInputs]
) -> None:
    row = score(vthpc, worked_examples).row("asb")
    # 0.2*5 + 0.15*3 + 0.3*2 + 0.2*5 + 0.15*5 = 1.0 + 0.45 + 0.6 + 1.0 + 0.75
    cells = {c.criterion: (c.level, c.score, c.weight, c.weighted_score) for c in row.criteria}
    assert cells == {
        "volume": (5, 5.0, 0.20, 1.0),
        "trend": (3, 3.0, 0.15, 0.45),
        "harm": (2, 2.0, 0.30, 0.6),
        "public_concern": (5, 5.0, 0.20, 1.0),
        "partnership_value": (5, 5.0, 0.15, 0.75),
    }
    judged = row.cell("partnership_value")
    assert judged.kind == "judgement" and judged.explanation and judged.who == "CSP board"
    assert row.cell("volume").finding_ids == ["test.finding"]


def test_watching_brief_band(vthpc_candidate: Callable[..., CandidateInputs], vthpc: Matrix) -> None:
    # 0.2*3 + 0.15*3 + 0.3*3 + 0.2*3 + 0.15*3 = 3.0
    row = score(vthpc, [vthpc_candidate("x", 3, 3, 3, 3, 3)]).rows[0]
    assert row.total == 3.0
    assert row.band == "Watching brief / emerging issue"


def test_equal_totals_share_a_rank(vthpc_candidate: Callable[..., CandidateInputs], vthpc: Matrix) -> None:
    ranking = score(
        vthpc,
        [
            vthpc_candidate("a", 1, 1, 1, 1, 1),
            vthpc_candidate("b", 3, 3, 3, 3, 3),
            vthpc_candidate("c", 3, 3, 3, 3, 3),
        ],
    )
    assert [(r.candidate, r.rank) for r in ranking.rows] == [("b", 1), ("c", 1), ("a", 3)]


# ------------------------------------------------------------------------------------ MoRiLE and 4x4


def test_morile_worked_example_domestic_abuse(inputs_for: Callable[..., CandidateInputs]) -> None:
    matrix = load_preset("morile")
    levels = {
        "physical": 3,
        "psychological": 4,
        "financial": 1,
        "community_environment": 2,
        "geographic_scope": 2,
        "vulnerability": "high",
        "likelihood": 5,
        "capacity": 2,
        "capability": 2,
        "confidence": "M",
    }
    row = score(matrix, [inputs_for(matrix, "domestic_abuse", levels)]).rows[0]

    # (3 + 4 + 0.5*1 + 2 + 2) = 11.5; x 1.5 = 17.25; x 5 = 86.25; x (1 + 0.25*(2 - 1)) = 107.8125
    assert row.stages == {"harm_elements": 11.5, "total_harm": 17.25, "risk": 86.25, "position_factor": 1.25}
    assert row.total == 107.8125
    assert round(row.total, 1) == 107.8
    assert row.band == "Recommended priority"
    assert row.cell("financial").weighted_score == 0.5
    confidence = row.cell("confidence")
    assert confidence.value == "M" and confidence.score is None and confidence.weight is None


@pytest.mark.parametrize(
    ("impact", "likelihood", "total", "band"),
    [
        (4, 4, 16, "Priority (red)"),
        (1, 4, 4, "Medium (yellow)"),
        (3, 3, 9, "High (amber)"),
        (1, 3, 3, "Low (green)"),
    ],
)
def test_grid4x4(
    inputs_for: Callable[..., CandidateInputs], impact: int, likelihood: int, total: float, band: str
) -> None:
    matrix = load_preset("grid4x4")
    row = score(matrix, [inputs_for(matrix, "x", {"impact": impact, "likelihood": likelihood})]).rows[0]
    assert row.total == total
    assert row.band == band


# ------------------------------------------------------------------------------------ missing inputs


def test_missing_judgement_is_listed_unranked_and_named(vthpc: Matrix, worked_examples: list[CandidateInputs]) -> None:
    del worked_examples[0].judgements["partnership_value"]  # ASB
    ranking = score(vthpc, worked_examples)

    asb = ranking.rows[-1]
    assert asb.candidate == "asb"
    assert not asb.complete
    assert asb.total is None and asb.rank is None and asb.band is None
    assert asb.missing == ["partnership_value"]
    assert asb.cell("partnership_value").score is None
    assert asb.cell("volume").score == 5.0  # what is known is still shown
    # The others are ranked among themselves only.
    assert [(r.candidate, r.rank) for r in ranking.rows[:-1]] == [
        ("domestic_abuse", 1),
        ("reoffending", 2),
        ("sexual_abuse", 3),
        ("shoplifting", 4),
    ]
    assert ranking.missing == [("asb", "partnership_value")]
    message = describe_missing(ranking)
    assert "ASB (repeat/vulnerable victims) (asb)" in message
    assert "no judgement for Partnership value (partnership_value)" in message
    assert "never counted as zero" in message


def test_missing_evidence_is_named(vthpc: Matrix, worked_examples: list[CandidateInputs]) -> None:
    del worked_examples[4].evidence["public_concern"]
    message = describe_missing(score(vthpc, worked_examples))
    assert "Shoplifting (shoplifting): no evidence for Public concern (public_concern)" in message


def test_describe_missing_is_empty_when_complete(vthpc: Matrix, worked_examples: list[CandidateInputs]) -> None:
    assert describe_missing(score(vthpc, worked_examples)) == ""


# ------------------------------------------------------------------------------------ refusals


def test_judgement_without_why_is_refused(vthpc: Matrix, worked_examples: list[CandidateInputs]) -> None:
    worked_examples[1].judgements["partnership_value"] = Judgement(5, why="  ", who="board", when="2024-05-14")
    with pytest.raises(AnalysisError, match=r"partnership_value.*'why'"):
        score(vthpc, worked_examples)


def test_evidence_without_explanation_is_refused(vthpc: Matrix, worked_examples: list[CandidateInputs]) -> None:
    worked_examples[1].evidence["harm"] = EvidenceValue(value=90.0, score_input=5, finding_ids=["x"])
    with pytest.raises(AnalysisError, match=r"harm.*no explanation"):
        score(vthpc, worked_examples)


def test_level_off_the_scale_is_refused(vthpc: Matrix, worked_examples: list[CandidateInputs]) -> None:
    worked_examples[0].judgements["partnership_value"] = Judgement(6, why="w", who="b", when="2024-05-14")
    with pytest.raises(AnalysisError, match="6 is not on the scale of criterion 'partnership_value'"):
        score(vthpc, worked_examples)


def test_input_of_the_wrong_kind_or_unknown_criterion_is_refused(
    vthpc: Matrix, worked_examples: list[CandidateInputs]
) -> None:
    worked_examples[0].judgements["volume"] = Judgement(5, why="w", who="b", when="2024-05-14")
    with pytest.raises(AnalysisError, match="'volume' is a evidence criterion but was given as judgement"):
        score(vthpc, worked_examples)
    del worked_examples[0].judgements["volume"]
    worked_examples[0].judgements["colour"] = Judgement(5, why="w", who="b", when="2024-05-14")
    with pytest.raises(AnalysisError, match="no criterion 'colour'"):
        score(vthpc, worked_examples)


def test_duplicate_candidate_is_refused(vthpc: Matrix, worked_examples: list[CandidateInputs]) -> None:
    with pytest.raises(AnalysisError, match="'asb' is listed twice"):
        score(vthpc, [*worked_examples, worked_examples[0]])


# ------------------------------------------------------------------------------------ overrides and output


def test_overrides_are_shown_and_never_added(vthpc: Matrix, vthpc_candidate: Callable[..., CandidateInputs]) -> None:
    flagged = vthpc_candidate("shoplifting", 3, 3, 1, 1, 2, overrides=["statutory duty", "domestic homicide review"])
    row = score(vthpc, [flagged]).rows[0]
    assert row.total == 1.85
    assert row.band == "Business as usual"
    assert row.overrides == ["statutory duty", "domestic homicide review"]


def test_to_rows_and_to_dict(vthpc: Matrix, worked_examples: list[CandidateInputs]) -> None:
    ranking = score(vthpc, worked_examples)
    table = ranking.to_rows()
    first = table[0]
    assert first["candidate"] == "domestic_abuse" and first["rank"] == 1 and first["total"] == 4.25
    assert (first["harm_input"], first["harm_score"], first["harm_weight"], first["harm_weighted"]) == (
        None,  # hand-made evidence gives only the level
        5.0,
        0.3,
        1.5,
    )
    assert first["band"] == "Recommended priority" and first["complete"] is True

    data = json.loads(json.dumps(ranking.to_dict()))
    assert data["matrix"]["name"] == "vthpc"
    assert data["rows"][0]["criteria"][2]["weighted_score"] == 1.5


# ------------------------------------------------------------------------------------ validation


def _with(config: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    target: Any = config
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return config


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (["criteria", 2, "weight"], -0.3, r"criteria\[2\]\.weight must be zero or more"),
        (["criteria", 0, "weight"], "high", r"criteria\[0\]\.weight must be a number"),
        (["criteria", 0, "rule"], "volume_guess", r"criteria\[0\]\.rule must name an evidence rule"),
        (["criteria", 4, "kind"], "opinion", r"criteria\[4\]\.kind must be 'evidence' or 'judgement'"),
        (["bands", 1, "min"], 4.0, r"bands\[1\]\.min \(4\.0\) must be below bands\[0\]\.min"),
        (["combine"], "average", r"combine must be one of"),
        (["criteria", 1, "scale"], [{"value": 1, "label": "a"}], r"criteria\[1\]\.scale has 1 levels"),
        (["criteria", 3, "wieght"], 0.2, r"unknown setting criteria\[3\]\.wieght"),
    ],
)
def test_validation_names_the_setting(path: list[Any], value: Any, message: str) -> None:
    config = _with(preset_config("vthpc"), path, value)
    with pytest.raises(ConfigError, match=rf"matrix 'vthpc': {message}"):
        load_matrix(config)


def test_validation_of_weighted_sum_and_morile_specifics() -> None:
    config = preset_config("vthpc")
    del config["criteria"][0]["weight"]
    with pytest.raises(ConfigError, match=r"criteria\[0\]\.weight is required in a weighted sum"):
        load_matrix(config)

    config = preset_config("morile")
    config["criteria"][6]["weight"] = 2.0  # likelihood
    with pytest.raises(ConfigError, match=r"criteria\[6\]\.weight must be 1\.0"):
        load_matrix(config)

    config = preset_config("morile")
    config["criteria"][5]["scale"][0].pop("score")  # "none" has no score
    with pytest.raises(ConfigError, match=r"criteria\[5\]\.scale\[0\]\.score is required"):
        load_matrix(config)

    config = preset_config("grid4x4")
    config["criteria"][0]["role"] = "harm"
    with pytest.raises(ConfigError, match=r"criteria\[0\]\.role must be one of score, reported"):
        load_matrix(config)


def test_unknown_preset() -> None:
    with pytest.raises(ConfigError, match="unknown preset 'fife'"):
        load_preset("fife")


@pytest.mark.parametrize("name", ["vthpc", "morile", "grid4x4"])
def test_presets_round_trip_through_toml(name: str) -> None:
    matrix = load_preset(name)
    assert load_matrix(tomllib.loads(tomli_w.dumps(matrix.to_dict()))) == matrix


def test_presets_say_what_is_a_local_choice() -> None:
    for name in ("vthpc", "morile", "grid4x4"):
        assert "[illustrative local choice]" in load_preset(name).provenance
    assert load_preset().name == "vthpc"

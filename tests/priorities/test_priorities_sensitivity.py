"""Sensitivity: reproducible for a seed, robust for a dominant candidate, alternative evidence sets, speed."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from cspkit.errors import AnalysisError, ConfigError
from cspkit.priorities import CandidateInputs, Matrix, load_preset, sensitivity


def test_reproducible_for_a_seed(vthpc: Matrix, worked_examples: list[CandidateInputs]) -> None:
    first = sensitivity(vthpc, worked_examples, runs=300, top_n=2, seed=7)
    again = sensitivity(vthpc, worked_examples, runs=300, top_n=2, seed=7)
    other = sensitivity(vthpc, worked_examples, runs=300, top_n=2, seed=8)
    assert first == again
    assert first.to_dict() == again.to_dict()
    assert first.to_rows() != other.to_rows()


def test_dominant_candidate_is_robust_and_weak_one_outside(
    vthpc: Matrix, vthpc_candidate: Callable[..., CandidateInputs]
) -> None:
    candidates = [
        vthpc_candidate("dominant", 5, 5, 5, 5, 5),
        vthpc_candidate("middle_a", 3, 4, 2, 3, 3),
        vthpc_candidate("middle_b", 3, 2, 4, 3, 3),
        vthpc_candidate("weak", 1, 1, 1, 1, 1),
    ]
    result = sensitivity(vthpc, candidates, runs=1000, top_n=1, seed=1)
    dominant = result.row("dominant")
    assert dominant.share_top_n == 1.0 and dominant.stability == "robust"
    assert (dominant.base_rank, dominant.mean_rank, dominant.rank_p5, dominant.rank_p95) == (1, 1.0, 1, 1)
    weak = result.row("weak")
    assert weak.share_top_n == 0.0 and weak.stability == "outside" and weak.rank_p5 == 4
    # The two middle issues swap places as the trend and harm weights move.
    swapped = sensitivity(vthpc, candidates, runs=1000, top_n=2, seed=1)
    assert (
        swapped.row("middle_a").stability == "outside"
    )  # 2.85 against 3.15: overtakes only when the harm weight falls a lot
    assert 0 < swapped.row("middle_a").mean_rank - 2 <= 1


def test_no_jitter_reproduces_the_ranking(vthpc: Matrix, worked_examples: list[CandidateInputs]) -> None:
    result = sensitivity(vthpc, worked_examples, runs=50, weight_jitter=0.0, top_n=3)
    assert [(r.candidate, r.rank_p5, r.rank_p95, r.share_top_n) for r in result.rows] == [
        ("domestic_abuse", 1, 1, 1.0),
        ("asb", 2, 2, 1.0),
        ("reoffending", 3, 3, 1.0),
        ("sexual_abuse", 4, 4, 0.0),
        ("shoplifting", 5, 5, 0.0),
    ]


def test_alternative_evidence_sets(vthpc: Matrix, vthpc_candidate: Callable[..., CandidateInputs]) -> None:
    # A is first under the base harm index and B under the alternative; no weight jitter, only the set varies.
    base = [vthpc_candidate("a", 3, 3, 5, 3, 3), vthpc_candidate("b", 3, 3, 3, 3, 3)]
    css = [vthpc_candidate("a", 3, 3, 1, 3, 3), vthpc_candidate("b", 3, 3, 3, 3, 3)]
    result = sensitivity(vthpc, base, runs=2000, weight_jitter=0.0, top_n=1, alternative_inputs={"css": css})
    assert result.evidence_sets == ["base", "css"]
    share_a = result.row("a").share_top_n
    assert 0.45 < share_a < 0.55  # each set is drawn about half the time
    assert result.row("a").stability == "fragile"
    assert result.row("b").rank_p5 == 1 and result.row("b").rank_p95 == 2


def test_incomplete_candidates_are_excluded(vthpc: Matrix, worked_examples: list[CandidateInputs]) -> None:
    del worked_examples[4].judgements["partnership_value"]
    result = sensitivity(vthpc, worked_examples, runs=20)
    assert result.excluded == ["shoplifting"]
    assert "shoplifting" not in [r.candidate for r in result.rows]


def test_morile_and_grid_run(inputs_for: Callable[..., CandidateInputs]) -> None:
    grid = load_preset("grid4x4")
    candidates = [
        inputs_for(grid, "da", {"impact": 4, "likelihood": 4}),
        inputs_for(grid, "cycle", {"impact": 1, "likelihood": 4}),
    ]
    result = sensitivity(grid, candidates, runs=200, top_n=1)
    assert result.row("da").stability == "robust"

    morile = load_preset("morile")
    levels: dict[str, int | float | str] = {
        "physical": 3, "psychological": 4, "financial": 1, "community_environment": 2, "geographic_scope": 2,
        "vulnerability": "high", "likelihood": 5, "capacity": 2, "capability": 2, "confidence": "M",
    }  # fmt: skip
    low = {**levels, "physical": 0, "psychological": 1, "vulnerability": "none", "likelihood": 1}
    result = sensitivity(morile, [inputs_for(morile, "da", levels), inputs_for(morile, "x", low)], runs=200, top_n=1)
    assert result.row("da").share_top_n == 1.0


def test_settings_and_sets_are_checked(vthpc: Matrix, worked_examples: list[CandidateInputs]) -> None:
    with pytest.raises(ConfigError, match="weight_jitter"):
        sensitivity(vthpc, worked_examples, weight_jitter=1.5)
    with pytest.raises(ConfigError, match="runs"):
        sensitivity(vthpc, worked_examples, runs=0)
    with pytest.raises(AnalysisError, match="evidence set 'css' does not hold the same candidates"):
        sensitivity(vthpc, worked_examples, alternative_inputs={"css": worked_examples[:2]})


def test_fast_enough(vthpc: Matrix, vthpc_candidate: Callable[..., CandidateInputs]) -> None:
    candidates = [
        vthpc_candidate(f"c{i}", 1 + i % 5, 1 + (i * 3) % 5, 1 + (i * 7) % 5, 1 + (i * 2) % 5, 1 + (i * 4) % 5)
        for i in range(20)
    ]
    alternative = [vthpc_candidate(c.key, 3, 3, 3, 3, 3) for c in candidates]
    start = time.perf_counter()
    sensitivity(vthpc, candidates, runs=1000, alternative_inputs={"alt": alternative})
    assert time.perf_counter() - start < 0.5


def test_evidence_draws_separate_robust_to_weights_from_robust_to_both(
    vthpc: Matrix, vthpc_candidate: Callable[..., CandidateInputs]
) -> None:
    """A leads on measured evidence; in half of the evidence redraws B leads. A is robust to the weights alone
    (no jitter here) but not to both; with draws that agree, A is robust to both."""
    base = [vthpc_candidate("a", 4, 3, 5, 3, 3), vthpc_candidate("b", 3, 3, 3, 3, 3)]
    flipped = [vthpc_candidate("a", 2, 3, 2, 3, 3), vthpc_candidate("b", 4, 3, 4, 3, 3)]
    result = sensitivity(vthpc, base, runs=2000, weight_jitter=0.0, top_n=1, evidence_draws={"base": [base, flipped]})
    a = result.row("a")
    assert result.evidence_draws == 2
    assert a.share_top_n_weights_only == 1.0 and a.stability_weights_only == "robust"
    assert 0.45 < a.share_top_n < 0.55 and a.stability == "fragile" and not a.robust_to_both
    steady = sensitivity(vthpc, base, runs=500, weight_jitter=0.0, top_n=1, evidence_draws={"base": [base, base]})
    assert steady.row("a").robust_to_both
    assert steady.to_rows()[0]["robust_to_both"] is True


def test_resample_evidence_keeps_means_and_redraws_borderline_verdicts() -> None:
    """Rates vary by about sqrt(phi/count); a change with adjusted p near 0.05 flips in a good share of redraws,
    a very strong one never does."""
    import numpy as np

    from cspkit.findings.model import Change
    from cspkit.priorities.evidence import CandidateEvidence, resample_evidence

    def change(rr: float, low: float, high: float) -> Change:
        return Change(
            absolute=1, percent=None, rate_ratio=rr, ci_low=low, ci_high=high, p_value=0.01, p_adjusted=0.04,
            significant=True, direction="up", ci_adjusted_level=0.95, dispersion=4.0,
        )  # fmt: skip

    borderline = CandidateEvidence("x", "X", count=400, rate=2.0, change=change(1.15, 1.01, 1.31))
    strong = CandidateEvidence("y", "Y", count=400, rate=2.0, change=change(2.0, 1.8, 2.22))
    rng = np.random.default_rng(3)
    draws = [resample_evidence([borderline, strong], rng) for _ in range(2000)]
    rates = np.array([d[0].rate for d in draws])
    assert rates.mean() == pytest.approx(2.0, rel=0.01)
    assert rates.std() / 2.0 == pytest.approx((4.0 / 400) ** 0.5, rel=0.1)
    flagged = np.mean([d[0].change is not None and d[0].change.significant for d in draws])
    assert 0.35 < flagged < 0.65  # a just-significant result replicates about half the time
    assert all(d[1].change is not None and d[1].change.significant for d in draws)


def test_resample_evidence_redraws_shares_within_their_base() -> None:
    """A repeat-victim share of 10 of 35 victims (29%), next to the 30% vulnerability threshold, is at or over it in
    about 45% of redraws (Jeffreys Beta(10.5, 25.5)); the same share of 3,500 victims almost never. A share
    without a known base is kept as measured."""
    import numpy as np
    from scipy import stats

    from cspkit.priorities.evidence import CandidateEvidence, resample_evidence

    small = CandidateEvidence("s", "Small", repeat_share=10 / 35, repeat_base=35, high_risk_share=0.08)
    large = CandidateEvidence("l", "Large", repeat_share=1000 / 3500, repeat_base=3500)
    rng = np.random.default_rng(11)
    draws = [resample_evidence([small, large], rng) for _ in range(4000)]
    shares = np.array([d[0].repeat_share for d in draws])
    assert shares.mean() == pytest.approx(10.5 / 36, abs=0.005)
    assert shares.std() == pytest.approx(stats.beta(10.5, 25.5).std(), rel=0.05)
    over = float(np.mean(shares >= 0.30))
    assert over == pytest.approx(float(stats.beta(10.5, 25.5).sf(0.30)), abs=0.03) and 0.35 < over < 0.55
    assert np.mean([d[1].repeat_share >= 0.30 for d in draws]) < 0.05
    assert all(d[0].high_risk_share == 0.08 for d in draws)  # no base: as measured

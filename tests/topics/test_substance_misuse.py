"""Substance misuse findings from an NDTMS-style treatment extract: hand-made counts and the planted truth."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb
import pytest

from cspkit.findings.engine import FindingSet, compute_findings
from cspkit.topics import TOPIC_BUILDERS
from cspkit.workspace import Workspace
from tests.topics.conftest import LoadFiles


def _extract() -> str:
    """2023 and 2024: alcohol 10 in treatment a month, opiate 20; new starts, completions and returns by year."""
    lines = ["month,substance,in_treatment,new_presentations,successful_completions,representations"]
    for year in (2023, 2024):
        for month in range(1, 13):
            m = f"{year}-{month:02d}"
            alcohol_new = 2 if year == 2023 else 4  # 24 against 48 new presentations
            alcohol_done = 1  # 12 completions a year
            lines.append(f"{m},alcohol,10,{alcohol_new},{alcohol_done},{1 if month == 6 else 0}")
            lines.append(f"{m},opiate,20,1,{1 if month % 4 == 0 else 0},0")  # 3 completions a year
    return "\n".join(lines) + "\n"


def test_hand_counts(
    hand_con: duckdb.DuckDBPyConnection, load_files: LoadFiles, run: Callable[..., FindingSet]
) -> None:
    load_files({"treatment.csv": ("substance_misuse", "treatment", _extract())})
    fs = run(hand_con, ["substance"])
    # in treatment = January's caseload (10 + 20) + new presentations (48 + 12 in 2024; 24 + 12 in 2023)
    in_treatment = fs.require("substance.in_treatment")
    assert (in_treatment.value, in_treatment.baseline) == (90, 66)
    alcohol = fs.require("substance.alcohol.new_presentations")
    assert (alcohol.value, alcohol.baseline) == (48, 24)
    assert alcohol.change is not None and alcohol.change.significant and alcohol.change.direction == "up"
    assert alcohol.good_direction == "none"  # more people coming forward is not rated worse
    completion = fs.require("substance.completion_rate")
    assert (completion.numerator, completion.denominator) == (15, 90)
    assert completion.value == pytest.approx(15 / 90)
    assert completion.baseline == pytest.approx(15 / 66)
    assert "15 of 90" in completion.sentence  # the base is printed with the percentage
    opiate = fs.require("substance.opiate.completion_rate")
    assert (opiate.numerator, opiate.denominator) == (3, 32)
    returns = fs.require("substance.representation_rate")
    assert (returns.numerator, returns.denominator) == (1, 15)
    assert {f.topic for f in fs.findings} == {"substance"}


def test_no_treatment_data_no_findings(hand_con: duckdb.DuckDBPyConnection, run: Callable[..., FindingSet]) -> None:
    assert run(hand_con, ["substance"]).findings == []


def test_planted_alcohol_rise(synth: tuple[Workspace, dict[str, Any]]) -> None:
    ws, truth = synth
    con = ws.connect(read_only=True)
    try:
        fs = compute_findings(
            con, ws.config(), topics=["substance"], forecast=False, hotspot_maps=False, builders=TOPIC_BUILDERS
        )
    finally:
        con.close()
    planted = truth["substance_misuse"]["periods"]
    now, before = planted["assessment"]["alcohol"], planted["previous"]["alcohol"]
    alcohol = fs.require("substance.alcohol.new_presentations")
    assert (alcohol.value, alcohol.baseline) == (now["new_presentations"], before["new_presentations"])
    assert alcohol.change is not None and alcohol.change.significant and alcohol.change.direction == "up"
    rate = fs.require("substance.alcohol.completion_rate")
    assert (rate.numerator, rate.denominator) == (now["successful_completions"], now["in_treatment"])
    total = sum(planted["assessment"][g]["in_treatment"] for g in planted["assessment"])
    assert fs.require("substance.in_treatment").value == total

"""Sexual violence findings from the partner domestic abuse data."""

from __future__ import annotations

import csv
from collections.abc import Callable
from typing import Any

import duckdb

from cspkit.findings.engine import FindingSet
from cspkit.workspace import Workspace
from tests.topics.conftest import LoadFiles, lsoas
from tests.topics.test_domestic_abuse import _da


def test_partner_sexual_offences(
    hand_con: duckdb.DuckDBPyConnection, load_files: LoadFiles, run: Callable[..., FindingSet]
) -> None:
    (x, _), (y, _) = lsoas(hand_con, 2)
    load_files({"da.csv": ("domestic_abuse", "police", _da(x, y))})
    fs = run(hand_con, ["sv"])
    count = fs.require("sv.partner.count")
    assert (count.value, count.baseline) == (2, 0)  # Rape (I3) and Sexual assault (I5) in 2024
    emerging = fs.require("sv.emerging")
    assert emerging.value == 0.0  # 2 against 0 is not a significant rise
    assert emerging.extra["police_context_finding"] == "crime.violence_and_sexual_offences.count"
    assert {f.topic for f in fs.findings} == {"sv"}


def test_no_partner_data_no_findings(hand_con: duckdb.DuckDBPyConnection, run: Callable[..., FindingSet]) -> None:
    assert run(hand_con, ["sv"]).findings == []


def test_synthetic_sexual_offences(synth: tuple[Workspace, dict[str, Any]], synth_findings: FindingSet) -> None:
    ws, truth = synth
    assessment = truth["periods"]["assessment"]
    data = ws.root.parent / "data" / "domestic_abuse.csv"
    with data.open(encoding="utf-8") as handle:
        expected = sum(
            1
            for row in csv.DictReader(handle)
            if "sexual" in row["crime_type"].lower()
            and assessment["start"] <= row["reported_at"][:10] <= assessment["end"]
        )
    assert synth_findings.require("sv.partner.count").value == expected
    assert synth_findings.require("sv.emerging").value in (0.0, 1.0)

"""Fixtures for the topic tests: one synthetic workspace per session, and small hand-made partner files."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from cspkit.findings.engine import FindingSet, compute_findings
from cspkit.ingest import ingest_paths
from cspkit.synth import generate
from cspkit.topics import TOPIC_BUILDERS
from cspkit.workspace import Workspace, init_workspace


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, dict[str, Any]]:
    """A Central Bedfordshire workspace with the synthetic partner data (seed 1) loaded, and its truth.json."""
    base = tmp_path_factory.mktemp("synth")
    ws = init_workspace(base / "ws", name="Central Bedfordshire CSP", area_codes=["E06000056"])
    summary = generate(base / "data", seed=1)
    con = ws.connect()
    try:
        report = ingest_paths(con, [base / "data"], key=ws.key())
        assert report.ok, report.errors
    finally:
        con.close()
    return ws, json.loads(summary.truth_path.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def synth_findings(synth: tuple[Workspace, dict[str, Any]]) -> FindingSet:
    """Partner-topic findings of the synthetic workspace for its assessment period (the last 12 months)."""
    ws, _ = synth
    con = ws.connect(read_only=True)
    try:
        return compute_findings(
            con,
            ws.config(),
            topics=["asb", "da", "sv", "quality"],
            forecast=False,
            hotspot_maps=False,
            builders=TOPIC_BUILDERS,
        )
    finally:
        con.close()


LoadFiles = Callable[[dict[str, tuple[str, str, str]]], None]


@pytest.fixture
def hand_con(workspace: Workspace, tmp_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to a fresh workspace (bundled geography and population only).

    One offence a month in 2023 and 2024 (an unrelated source) marks every month as loaded, so the comparison
    of 2024 with 2023 uses whole years however sparse the hand-made files are.
    """
    con = workspace.connect()
    filler = tmp_path / "filler_offences.csv"
    months = [f"{year}-{month:02d}" for year in (2023, 2024) for month in range(1, 13)]
    filler.write_text(
        "offender_ref,offence_date,offence_group\n" + "".join(f"O1,{m}-15,Theft\n" for m in months), encoding="utf-8"
    )
    report = ingest_paths(con, [filler], key=workspace.key(), source="offences", agency="probation")
    assert report.ok, report.errors
    yield con
    con.close()


@pytest.fixture
def load_files(workspace: Workspace, hand_con: duckdb.DuckDBPyConnection, tmp_path: Path) -> LoadFiles:
    """Write hand-made CSVs ({file name: (source, agency, text)}) and ingest them into the fresh workspace."""

    def load(files: dict[str, tuple[str, str, str]]) -> None:
        for name, (source, agency, text) in files.items():
            path = tmp_path / name
            path.write_text(text, encoding="utf-8")
            report = ingest_paths(hand_con, [path], key=workspace.key(), source=source, agency=agency)
            assert report.ok, report.errors

    return load


@pytest.fixture
def run(workspace: Workspace) -> Callable[..., FindingSet]:
    """compute_findings on the hand-made workspace for a period (default 2024, compared with 2023)."""

    def go(con: duckdb.DuckDBPyConnection, topics: list[str], period: str = "2024-01..2024-12") -> FindingSet:
        return compute_findings(
            con,
            workspace.config(),
            period=period,
            topics=topics,
            forecast=False,
            hotspot_maps=False,
            builders=TOPIC_BUILDERS,
        )

    return go


def lsoas(con: duckdb.DuckDBPyConnection, n: int = 2) -> list[tuple[str, str]]:
    """The first n (LSOA, ward) pairs of Central Bedfordshire in the bundled geography, in different wards."""
    rows = con.execute(
        "SELECT lsoa_code, ward_code FROM geography WHERE lad_code = 'E06000056' ORDER BY ward_code, lsoa_code"
    ).fetchall()
    out: list[tuple[str, str]] = []
    for lsoa, ward in rows:
        if ward not in {w for _, w in out}:
            out.append((lsoa, ward))
        if len(out) == n:
            break
    return out

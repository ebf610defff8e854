"""`make bench`'s ingest benchmark runs end to end on a small file and judges the median of its pairs (issue 11).

The harness itself is exercised here (children, the generated street file, the accounting check, the pairs), on
20,000 rows so that it takes seconds; the figures it prints are not asserted, only how they are put together.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from tests.benchmarks.conftest import load_benchmark


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return load_benchmark("run")


def test_the_ingest_benchmark_judges_the_median_of_its_pairs(
    bench: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bench, "OUT", tmp_path)
    result = bench.bench_ingest(bench.Options(rows=20_000))
    ratios = result.details["ratios_to_create_table"]
    cspkit = result.measurements["cspkit ingest"]
    baseline = result.measurements["duckdb CREATE TABLE (text, on disk)"]
    # three pairs, sorted; the one shown is the middle one, and the verdict is its ratio
    assert len(ratios) == bench.INGEST_PAIRS == 3 and ratios == sorted(ratios)
    assert cspkit["ratio_to_create_table"] == round(ratios[1], 2) == round(cspkit["seconds"] / baseline["seconds"], 2)
    # every row of the generated file is read and accounted for (it holds the real rows' one odd quoted name)
    assert result.details["accounting_ok"] and cspkit["rows"] == 20_000
    assert cspkit["rows_accepted"] + cspkit["rows_rejected"] == 20_000
    verdicts = {check.name: check for check in result.checks}
    assert verdicts["cspkit / duckdb CREATE TABLE (median pair)"].value == cspkit["ratio_to_create_table"]
    assert verdicts["rows read = file rows = accepted + rejected"].passed
    # where the time goes names the loader's statements
    steps = {step["step"] for step in cspkit["steps"]}
    assert any(step.startswith("SQL INSERT INTO police_street") for step in steps) and "Python scan_file" in steps

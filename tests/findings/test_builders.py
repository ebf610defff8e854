"""The shared finding-builder shapes (cspkit.findings.builders), on hand-made inputs with hand-computed values."""

from __future__ import annotations

from cspkit.findings.area import AreaContext
from cspkit.findings.builders import data_missing_finding, level_finding, monthly_counts, ward_count_series
from cspkit.findings.indicators import FindingContext, build_count_findings
from cspkit.findings.periods import month_range, parse_period, plan_comparison

MONTHS = month_range("2022-04", "2024-03")
AREA = AreaContext(
    codes=["E06000056"],
    name="Central Bedfordshire",
    lsoa_ward={"E01000001": "E05000002", "E01000002": "E05000002", "E01000003": "E05000001"},
    ward_names={"E05000002": "Beta", "E05000001": "Alpha"},
    lsoa_names={},
    population={"E01000001": 1500.0, "E01000002": 500.0, "E01000003": 1000.0},
)


def _ctx() -> FindingContext:
    comparison = plan_comparison(parse_period("2023-24"), MONTHS, "previous")
    return FindingContext(comparison=comparison, area_code="E06000056", area_name="Central Bedfordshire")


def test_monthly_counts_fill_every_month_and_add_repeated_months() -> None:
    got = monthly_counts([("2023-05", 2), ("2023-07", 1.0), ("2023-05", 3)], ["2023-05", "2023-06", "2023-07"])
    assert got == {"2023-05": 5.0, "2023-06": 0.0, "2023-07": 1.0}
    assert list(got) == ["2023-05", "2023-06", "2023-07"]


def test_ward_count_series_one_per_ward_in_code_order_with_ward_populations() -> None:
    rows = [("E05000002", "2023-04", 4), ("E05000001", "2023-05", 1), ("E05000002", "2023-04", 2)]
    family = ward_count_series(
        AREA,
        rows,
        MONTHS,
        id="x.ward.{ward}.count",
        topic="x",
        title="Things: {name}",
        subject="things in {name}",
        definition="Things {not a template} counted by month.",
        sources=["s"],
    )
    assert [s.id for s in family] == ["x.ward.E05000001.count", "x.ward.E05000002.count"]
    assert [(s.title, s.subject, s.area_name) for s in family] == [
        ("Things: Alpha", "things in Alpha", "Alpha"),
        ("Things: Beta", "things in Beta", "Beta"),
    ]
    assert [s.denominator for s in family] == [1000.0, 2000.0]
    assert family[1].monthly["2023-04"] == 6.0 and sum(family[1].monthly.values()) == 6.0
    assert family[0].monthly["2023-05"] == 1.0 and len(family[0].monthly) == 24
    assert all(not s.control_chart and s.definition == "Things {not a template} counted by month." for s in family)
    findings = build_count_findings(family, _ctx())
    beta = next(f for f in findings if f.area == "E05000002")
    assert (beta.value, beta.baseline) == (6.0, 0.0) and beta.rate == 3.0  # 6 per 2,000 residents = 3 per 1,000


def test_level_and_data_missing_findings_share_the_runs_period_and_coverage() -> None:
    ctx = _ctx()
    level = level_finding(
        ctx, id="x.level", topic="x", title="T", value=3.0, unit="count", definition="d", sentence="s.", sources=["a"]
    )
    assert level.period == ("2023-04", "2024-03") and level.comparison_period is None and level.baseline is None
    assert level.coverage.months == month_range("2023-04", "2024-03") and level.coverage.complete
    compared = level_finding(
        ctx, id="x.c", topic="x", title="T", value=3.0, unit="count", definition="d", sentence="s.", sources=[],
        baseline=2.0,
    )  # fmt: skip
    assert compared.comparison_period == ("2022-04", "2023-03")
    missing = data_missing_finding(ctx, id="quality.x.missing", title="X not loaded", definition="d", sentence="s.")
    assert (missing.topic, missing.value, missing.unit, missing.sources) == ("quality", None, "count", [])

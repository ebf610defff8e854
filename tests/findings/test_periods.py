"""Periods: parsing every accepted form, earlier periods, coverage and comparison plans."""

from __future__ import annotations

import pytest

from cspkit.errors import PeriodError
from cspkit.findings.periods import (
    financial_year_of,
    latest_complete_12,
    month_add,
    month_label,
    month_range,
    parse_period,
    plan_comparison,
    quarter_of,
)


def test_month_arithmetic_crosses_years() -> None:
    assert month_add("2023-11", 3) == "2024-02"
    assert month_add("2024-02", -14) == "2022-12"
    assert month_range("2023-11", "2024-02") == ["2023-11", "2023-12", "2024-01", "2024-02"]
    assert month_label("2023-05") == "May 2023"


def test_month_range_backwards_is_refused() -> None:
    with pytest.raises(PeriodError, match="ends before it starts"):
        month_range("2024-02", "2023-11")


@pytest.mark.parametrize(
    ("month", "fy_start", "fy", "quarter"),
    [
        ("2024-02", 4, "2023-24", "2023-24Q4"),
        ("2023-04", 4, "2023-24", "2023-24Q1"),
        ("2023-08", 4, "2023-24", "2023-24Q2"),
        ("2023-03", 4, "2022-23", "2022-23Q4"),
        ("2023-08", 1, "2023", "2023Q3"),
        ("2023-08", 7, "2023-24", "2023-24Q1"),
    ],
)
def test_financial_year_and_quarter_of(month: str, fy_start: int, fy: str, quarter: str) -> None:
    assert financial_year_of(month, fy_start) == fy
    assert quarter_of(month, fy_start) == quarter


@pytest.mark.parametrize(
    ("text", "first", "last", "kind", "label"),
    [
        ("2023-24", "2023-04", "2024-03", "financial_year", "2023-24"),
        ("2023/24", "2023-04", "2024-03", "financial_year", "2023-24"),
        ("2023/2024", "2023-04", "2024-03", "financial_year", "2023-24"),
        ("2010/11", "2010-04", "2011-03", "financial_year", "2010-11"),
        ("2023-24Q2", "2023-07", "2023-09", "quarter", "2023-24 Q2"),
        ("2023-24 q4", "2024-01", "2024-03", "quarter", "2023-24 Q4"),
        ("2023-05..2024-04", "2023-05", "2024-04", "range", "May 2023 to April 2024"),
        ("2023-05", "2023-05", "2023-05", "month", "May 2023"),
        ("May 2023", "2023-05", "2023-05", "month", "May 2023"),
        ("2023", "2023-01", "2023-12", "calendar_year", "2023"),
    ],
)
def test_parse_period_accepted_forms(text: str, first: str, last: str, kind: str, label: str) -> None:
    period = parse_period(text)
    assert (period.first, period.last, period.kind, period.label) == (first, last, kind, label)
    assert parse_period(period.code) == period  # the code reads back to the same period


def test_parse_period_with_another_financial_year_start() -> None:
    period = parse_period("2023-24Q1", fy_start_month=7)
    assert (period.first, period.last) == ("2023-07", "2023-09")


@pytest.mark.parametrize("text", ["", "last year", "2023-25", "2023-13", "2023-24Q5", "2023Q1", "2024-01..x"])
def test_parse_period_refuses_bad_text(text: str) -> None:
    with pytest.raises(PeriodError):
        parse_period(text)


def test_parse_period_error_names_the_accepted_forms() -> None:
    with pytest.raises(PeriodError, match=r"'2023-24'.*'2023-24Q2'.*'2023-05\.\.2024-04'"):
        parse_period("last year")


def test_ambiguous_year_or_month_is_refused_with_a_hint() -> None:
    with pytest.raises(PeriodError, match=r"ambiguous.*2010/11.*November 2010"):
        parse_period("2010-11")


def test_months_and_length() -> None:
    quarter = parse_period("2023-24Q4")
    assert quarter.months() == ["2024-01", "2024-02", "2024-03"]
    assert quarter.n_months == 3
    assert parse_period("2023-24").n_months == 12


def test_previous_periods_keep_their_kind() -> None:
    assert parse_period("2023-24").previous().label == "2022-23"
    assert parse_period("2023-24Q1").previous().label == "2022-23 Q4"
    assert parse_period("2023-01").previous(2).first == "2022-11"
    rolling = parse_period("2022-05..2023-04").previous()
    assert (rolling.first, rolling.last, rolling.kind) == ("2021-05", "2022-04", "range")
    earlier = parse_period("2023-24").previous_periods(3)
    assert [p.label for p in earlier] == ["2022-23", "2021-22", "2020-21"]


def test_coverage_and_missing_months() -> None:
    period = parse_period("2023-24Q2")
    assert period.covered_by(["2023-06", "2023-07", "2023-08", "2023-09"])
    assert not period.covered_by(["2023-07", "2023-09"])
    assert period.missing_months(["2023-07", "2023-09"]) == ["2023-08"]


def test_latest_complete_12_ends_at_last_loaded_month() -> None:
    period = latest_complete_12(month_range("2021-05", "2023-04"))
    assert (period.first, period.last, period.n_months) == ("2022-05", "2023-04", 12)
    assert period.label == "May 2022 to April 2023"


def test_latest_complete_12_skips_back_over_a_gap() -> None:
    loaded = [m for m in month_range("2021-01", "2023-04") if m != "2022-10"]
    period = latest_complete_12(loaded)
    assert (period.first, period.last) == ("2021-10", "2022-09")


def test_latest_complete_12_needs_a_year() -> None:
    with pytest.raises(PeriodError, match="No 12 consecutive months"):
        latest_complete_12(month_range("2023-01", "2023-11"))


def test_plan_previous_full_years() -> None:
    plan = plan_comparison(parse_period("2022-23"), month_range("2021-04", "2023-03"))
    assert plan.current_months == month_range("2022-04", "2023-03")
    assert [p.label for p in plan.baselines] == ["2021-22"]
    assert plan.baseline_months == [month_range("2021-04", "2022-03")]
    assert not plan.restricted and plan.complete
    assert (plan.exposure_current, plan.exposure_baseline) == (12.0, 12.0)
    assert plan.baseline_span == ("2021-04", "2022-03")
    assert plan.note == "2022-23 compared with the previous period (2021-22)."


def test_plan_mean_of_three_years() -> None:
    plan = plan_comparison(parse_period("2023-24"), month_range("2020-04", "2024-03"), mode="mean_of_3")
    assert [p.label for p in plan.baselines] == ["2022-23", "2021-22", "2020-21"]
    assert (plan.exposure_current, plan.exposure_baseline) == (12.0, 36.0)
    assert plan.baseline_span == ("2020-04", "2023-03")
    assert plan.baseline_label == "the average of 2020-21, 2021-22 and 2022-23"


def test_plan_year_to_date_is_restricted_to_the_same_months() -> None:
    loaded = month_range("2022-04", "2024-01")  # 2023-24 has 10 of 12 months
    plan = plan_comparison(parse_period("2023-24"), loaded)
    assert plan.restricted and not plan.complete
    assert plan.current_months == month_range("2023-04", "2024-01")
    assert plan.baseline_months == [month_range("2022-04", "2023-01")]
    assert (plan.exposure_current, plan.exposure_baseline) == (10.0, 10.0)
    assert "10 of 12 months" in plan.note and "April 2023 to January 2024" in plan.note


def test_plan_refuses_partial_when_not_allowed() -> None:
    loaded = month_range("2022-04", "2024-01")
    with pytest.raises(PeriodError, match=r"months are missing.*February 2024 to March 2024"):
        plan_comparison(parse_period("2023-24"), loaded, allow_partial=False)


def test_plan_refuses_a_baseline_without_data() -> None:
    with pytest.raises(PeriodError, match="comparison period 2020-21 has no data"):
        plan_comparison(parse_period("2023-24"), month_range("2021-04", "2024-03"), mode="mean_of_3")

"""Sentences: never call noise a change, always give both numbers, no percentages of small numbers."""

from __future__ import annotations

from cspkit.findings.model import Change, SpcSignal
from cspkit.findings.spc import BEYOND_3_SIGMA, EIGHT_IN_A_ROW
from cspkit.findings.stats import adjust_changes, compare_counts, compare_proportions
from cspkit.findings.wording import describe_change, describe_level, describe_spc, format_number

CHANGE_WORDS = ("increase", "rise", "rose", "fall", "fell", "decrease", "%")


def judged(current: int, baseline: int) -> Change | None:
    (change,) = adjust_changes([compare_counts(current, baseline)])
    return change


def test_format_number() -> None:
    assert format_number(1204) == "1,204"
    assert format_number(1204.0) == "1,204"
    assert format_number(398.33) == "398.3"
    assert format_number(0.4213) == "0.42"


def test_small_non_significant_change() -> None:
    sentence = describe_change("robbery", 4, 6, judged(4, 6), "2023-24", "2022-23")
    assert (
        sentence == "There was no statistically significant change in robbery: 4 in 2023-24 compared with 6 in 2022-23."
    )
    assert not any(word in sentence.lower() for word in CHANGE_WORDS)


def test_large_non_significant_change_gives_no_direction_or_percent() -> None:
    sentence = describe_change(
        "burglary", 412, 398, judged(412, 398), "May 2022 to April 2023", "the previous 12 months"
    )
    assert sentence == (
        "There was no statistically significant change in burglary: 412 in May 2022 to April 2023 compared with "
        "398 in the previous 12 months."
    )


def test_significant_rise_gives_both_counts_percent_and_interval() -> None:
    change = judged(1204, 1010)
    assert change is not None and change.significant
    sentence = describe_change("burglary", 1204, 1010, change, "2023-24", "2022-23")
    assert sentence == (
        "Burglary rose significantly: 1,204 in 2023-24 against 1,010 in 2022-23 "
        "(+19%, rate ratio 1.19, 95% CI 1.10–1.30)."
    )


def test_significant_fall() -> None:
    sentence = describe_change("ASB incidents", 800, 1000, judged(800, 1000), "2023-24", "2022-23")
    assert sentence.startswith("ASB incidents fell significantly: 800 in 2023-24 against 1,000 in 2022-23 (-20%,")


def test_significant_change_with_a_small_count_has_no_percent() -> None:
    change = judged(2, 30)
    assert change is not None and change.significant
    sentence = describe_change("arson", 2, 30, change, "2023-24", "2022-23")
    assert sentence.startswith("Arson fell significantly: 2 in 2023-24 against 30 in 2022-23 (rate ratio 0.07")
    assert "%" not in sentence.replace("95% CI", "")


def test_proportion_change_in_percentage_points() -> None:
    (change,) = adjust_changes([compare_proportions(300, 1000, 400, 1000)])
    assert change is not None
    sentence = describe_change("the repeat-victim rate", 0.40, 0.30, change, "2023-24", "2022-23", unit="proportion")
    assert sentence.startswith(
        "The repeat-victim rate rose significantly: 40% in 2023-24 against 30% in 2022-23 (+10.0 percentage points"
    )


def test_untested_change_says_so() -> None:
    sentence = describe_change("shoplifting", 50, 40, None, "2023-24", "2022-23")
    assert (
        sentence
        == "Shoplifting: 50 in 2023-24 compared with 40 in 2022-23; the change was not tested for significance."
    )


def test_describe_level() -> None:
    assert describe_level("burglary", 1204, "2023-24", rate=5.26, rate_per=1000) == (
        "Burglary: 1,204 in 2023-24 (5.3 per 1,000 residents)."
    )
    small = describe_level("arson", 3, "2023-24")
    assert small.startswith("Arson: 3 in 2023-24.") and "small number" in small


def test_describe_spc() -> None:
    signal = SpcSignal(rule=BEYOND_3_SIGMA, month="2023-05", chart="c-chart", side="above")
    assert describe_spc(signal, "burglary") == (
        "The control chart of burglary (c-chart) shows a signal in May 2023: the figure was above the upper "
        "control limit. This is unlikely to be chance alone and is worth looking into."
    )
    shift = SpcSignal(rule=EIGHT_IN_A_ROW, month="2023-06", chart="XmR", side="below")
    assert "eight months in a row were below the average" in describe_spc(shift)
    assert describe_spc(None, "burglary").startswith("The control chart of burglary shows no signal")

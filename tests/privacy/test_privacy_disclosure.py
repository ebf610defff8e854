import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cspkit.privacy.disclosure import (
    SECONDARY_MARKER,
    exposed_cells,
    primary_marker,
    protect_classed_areas,
    round_to,
    suppress_table,
    suppress_value,
)


def table(rows: list[list[int]], index: list[str] | None = None, columns: list[str] | None = None) -> pd.DataFrame:
    index = index or [f"r{i}" for i in range(len(rows))]
    columns = columns or [f"c{j}" for j in range(len(rows[0]))]
    return pd.DataFrame(rows, index=index, columns=columns)


def shown(result_display: pd.DataFrame) -> list[list[str]]:
    return result_display.to_numpy().tolist()


def test_primary_and_secondary_on_a_small_table() -> None:
    result = suppress_table(table([[3, 12, 40], [10, 2, 50], [20, 30, 60]]))
    assert shown(result.display) == [["<5", "*", "40"], ["*", "<5", "50"], ["20", "30", "60"]]
    assert result.n_primary == 2
    assert result.n_secondary == 2
    assert result.primary.to_numpy().tolist() == [[True, False, False], [False, True, False], [False] * 3]
    assert list(result.display.index) == ["r0", "r1", "r2"]
    assert list(result.display.columns) == ["c0", "c1", "c2"]


def test_nothing_to_hide() -> None:
    result = suppress_table(table([[0, 12], [10, 7]]))
    assert shown(result.display) == [["0", "12"], ["10", "7"]]
    assert result.n_primary == result.n_secondary == 0


def test_secondary_picks_the_smallest_non_zero_cell() -> None:
    result = suppress_table(table([[1, 0, 9, 30], [50, 60, 70, 80], [40, 0, 6, 5]]))
    # Row 0 hides 9 (not the zero), column 0 then hides 40 (not 50), and row 2 hides 6, which also completes
    # column 2, rather than the smaller 5, which would start a new lone cell in column 3.
    assert shown(result.display) == [
        ["<5", "0", "*", "30"],
        ["50", "60", "70", "80"],
        ["*", "0", "*", "5"],
    ]
    assert (result.n_primary, result.n_secondary) == (1, 3)


def test_secondary_prefers_the_cell_that_also_fixes_its_crossing_line() -> None:
    # Row 0 has a 1; its candidates 9 (column 1) and 9 (column 2) tie on size, but only column 2 already has
    # a hidden cell (the 2 in row 1), so hiding that one fixes two lines at once.
    result = suppress_table(table([[1, 9, 9], [20, 30, 2], [40, 50, 60]]))
    assert shown(result.display) == [["<5", "9", "*"], ["*", "30", "<5"], ["40", "50", "60"]]
    assert result.n_secondary == 2


def test_zeros_are_hidden_only_when_nothing_else_protects() -> None:
    result = suppress_table(table([[3, 0], [0, 7]]))
    assert shown(result.display) == [["<5", "*"], ["*", "*"]]
    assert (result.n_primary, result.n_secondary) == (1, 3)


def test_suppress_zero() -> None:
    result = suppress_table(table([[0, 12, 11], [10, 20, 30]]), suppress_zero=True)
    assert shown(result.display) == [["<5", "12", "*"], ["*", "20", "*"]]
    assert result.n_primary == 1


def test_primary_only() -> None:
    result = suppress_table(table([[3, 12], [10, 2]]), secondary=False)
    assert shown(result.display) == [["<5", "12"], ["10", "<5"]]
    assert result.n_secondary == 0


def test_threshold_ten() -> None:
    result = suppress_table(table([[9, 10], [12, 30]]), threshold=10)
    assert shown(result.display) == [["<10", "*"], ["*", "*"]]


def test_single_column_protects_through_the_column_total() -> None:
    result = suppress_table(table([[3], [10], [20]]))
    assert shown(result.display) == [["<5"], ["*"], ["20"]]


def test_single_cell() -> None:
    assert shown(suppress_table(table([[3]])).display) == [["<5"]]


def test_shown_totals_take_part_and_interior_cells_are_preferred() -> None:
    df = table(
        [[3, 10, 13], [20, 30, 50], [23, 40, 63]],
        index=["ward a", "ward b", "total"],
        columns=["2023", "2024", "total"],
    )
    result = suppress_table(df, total_row="total", total_col="total")
    assert shown(result.display) == [["<5", "*", "13"], ["*", "*", "50"], ["23", "40", "63"]]


def test_a_small_total_is_suppressed_and_protected() -> None:
    df = table([[1, 2, 3], [20, 30, 50], [21, 32, 53]], columns=["x", "y", "total"])
    result = suppress_table(df, total_col="total")
    display = shown(result.display)
    assert display[0] == ["<5", "<5", "<5"]
    suppressed = result.suppressed.to_numpy()
    assert all(col.sum() != 1 for col in suppressed.T)
    assert suppressed[1, 2] or suppressed[2, 2]


@pytest.mark.parametrize(
    "bad",
    [
        pd.DataFrame({"a": [1, -1]}),
        pd.DataFrame({"a": [1.5, 2.0]}),
        pd.DataFrame({"a": [1.0, np.nan]}),
        pd.DataFrame({"a": ["1", "x"]}),
    ],
)
def test_only_counts_are_accepted(bad: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="counts"):
        suppress_table(bad)


def test_whole_floats_and_nullable_integers_are_counts() -> None:
    result = suppress_table(pd.DataFrame({"a": [3.0, 7.0], "b": pd.array([8, 9], dtype="Int64")}))
    # A 2 x 2 table with one small cell has to be hidden whole.
    assert shown(result.display) == [["<5", "*"], ["*", "*"]]


def test_bad_arguments() -> None:
    df = table([[1, 2]])
    with pytest.raises(ValueError, match="threshold"):
        suppress_table(df, threshold=0)
    with pytest.raises(ValueError, match="not in the table"):
        suppress_table(df, total_row="total")
    with pytest.raises(ValueError, match="more than once"):
        suppress_table(table([[1, 2], [3, 4]], index=["a", "a"]), total_row="a")


def test_suppress_value() -> None:
    assert suppress_value(0) == 0
    assert suppress_value(3) == "<5"
    assert suppress_value(5) == 5
    assert suppress_value(9, threshold=10) == "<10"
    assert suppress_value(0, suppress_zero=True) == "<5"
    with pytest.raises(ValueError):
        suppress_value(-1)


def test_markers() -> None:
    assert primary_marker(5) == "<5"
    assert SECONDARY_MARKER == "*"


@pytest.mark.parametrize(
    ("value", "base", "expected"), [(7, 5, 5), (8, 5, 10), (7.5, 5, 10), (2, 5, 0), (0, 5, 0), (123, 10, 120)]
)
def test_round_to(value: float, base: int, expected: int) -> None:
    assert round_to(value, base) == expected


def test_round_to_needs_a_positive_base() -> None:
    with pytest.raises(ValueError):
        round_to(3, 0)


@st.composite
def count_tables(draw: st.DrawFn) -> tuple[pd.DataFrame, str | None, str | None, int]:
    n_rows = draw(st.integers(1, 6))
    n_cols = draw(st.integers(1, 6))
    counts = np.array(
        draw(st.lists(st.lists(st.integers(0, 25), min_size=n_cols, max_size=n_cols), min_size=n_rows, max_size=n_rows))
    )
    df = table(counts.tolist())
    total_row = total_col = None
    if draw(st.booleans()):
        df.loc["total"] = df.sum(axis=0)
        total_row = "total"
    if draw(st.booleans()):
        df["total"] = df.sum(axis=1)
        total_col = "total"
    return df, total_row, total_col, draw(st.sampled_from([3, 5, 10]))


@settings(max_examples=200, deadline=None)
@given(count_tables())
def test_no_line_keeps_a_lone_hidden_cell(case: tuple[pd.DataFrame, str | None, str | None, int]) -> None:
    df, total_row, total_col, threshold = case
    result = suppress_table(df, threshold=threshold, total_row=total_row, total_col=total_col)
    counts = df.to_numpy()
    suppressed = result.suppressed.to_numpy()
    small = (counts >= 1) & (counts < threshold)
    assert (result.primary.to_numpy() == small).all()
    assert suppressed[small].all()
    if counts.shape[1] >= 2:
        assert all(row.sum() != 1 for row in suppressed)
    if counts.shape[0] >= 2:
        assert all(col.sum() != 1 for col in suppressed.T)
    display = result.display.to_numpy()
    assert (display[small] == f"<{threshold}").all()
    assert (display[suppressed & ~small] == "*").all()
    assert (display[~suppressed] == counts[~suppressed].astype(str)).all()
    # and the attack by linear programming on the markers and totals pins no hidden cell, unless both its lines
    # are hidden whole (then the line's total is small itself, and hidden wherever it is printed)
    rows, cols = list(df.index), list(df.columns)
    row_total = rows.index(total_row) if total_row is not None else None
    col_total = cols.index(total_col) if total_col is not None else None
    for r, c in exposed_cells(counts, suppressed, small, threshold, row_total, col_total):
        assert suppressed[r, :].all() and suppressed[:, c].all()


def _column_with_total(values: list[int]) -> pd.DataFrame:
    return pd.DataFrame({"n": [*values, sum(values)]}, index=[*(f"ward{i}" for i in range(len(values))), "area"])


def test_markers_and_a_total_can_pin_two_hidden_cells() -> None:
    """ "<5" + "*" = 6 can only be 1 + 5: the row-and-column rule hides two cells, the audit hides a third."""
    df = _column_with_total([1, 5, 40, 60])
    rule_only = suppress_table(df, total_row="area", audit=False)
    assert rule_only.display["n"].tolist() == ["<5", "*", "40", "60", "106"]
    counts, primary = df.to_numpy(), rule_only.primary.to_numpy()
    assert exposed_cells(counts, rule_only.suppressed.to_numpy(), primary, 5, row_total=4) == [(0, 0), (1, 0)]
    audited = suppress_table(df, total_row="area")
    assert audited.display["n"].tolist() == ["<5", "*", "*", "60", "106"]
    assert exposed_cells(counts, audited.suppressed.to_numpy(), primary, 5, row_total=4) == []


def test_small_cells_that_add_up_to_their_count_are_pinned() -> None:
    """Two wards with one crime each: "<5" + "<5" = 2 gives 1 and 1, so a larger cell is hidden with them."""
    df = _column_with_total([1, 1, 40, 60])
    assert suppress_table(df, total_row="area", audit=False).display["n"].tolist() == ["<5", "<5", "40", "60", "102"]
    assert suppress_table(df, total_row="area").display["n"].tolist() == ["<5", "<5", "*", "60", "102"]
    # 3 + 4 = 7 leaves each from 3 to 4: not pinned, nothing more hidden
    assert suppress_table(_column_with_total([3, 4, 40, 60]), total_row="area").n_secondary == 0


def test_cells_hidden_for_another_table_are_protected_too() -> None:
    df = _column_with_total([30, 40, 50, 60])
    forced = np.array([[True], [False], [False], [False], [False]])
    result = suppress_table(df, total_row="area", hidden=forced)
    assert result.display["n"].tolist() == ["*", "*", "50", "60", "180"]
    assert result.n_primary == 0 and result.n_secondary == 2


# -- classed maps: a legend class is a range, and ward totals are printed beside the map ---------------------


def exact_classes(shown: dict[str, float]) -> dict[str, tuple[float, float]]:
    """The worst legend: a class of one value for every area (as the class "0" is when many areas have none)."""
    return {code: (value, value) for code, value in shown.items()}


def test_a_hatched_area_pinned_by_its_neighbours_classes_gets_company() -> None:
    """Ward of 9 printed; its LSOAs 4 (hatched), 0 and 5 in classes of one value: 9 - 0 - 5 = 4. Hatching the 5
    (the smallest count that is not zero) leaves 4 + x = 9 - 0, which any split satisfies."""
    counts = {"a": 4.0, "b": 0.0, "c": 5.0, "d": 30.0}
    assert protect_classed_areas(counts, [(["a", "b", "c"], 9.0)], exact_classes) == {"a", "c"}


def test_wide_classes_or_an_unprinted_total_need_no_more_hatching() -> None:
    counts = {"a": 4.0, "b": 0.0, "c": 5.0, "d": 30.0}

    def wide(shown: dict[str, float]) -> dict[str, tuple[float, float]]:
        return {code: (0.0, 40.0) for code in shown}

    assert protect_classed_areas(counts, [(["a", "b", "c"], 9.0)], wide) == {"a"}
    assert protect_classed_areas(counts, [(["a", "b", "c"], None)], exact_classes) == {"a"}
    # a withheld ward's "<5" bounds the hatched area by 1..4 only: nothing pinned
    assert protect_classed_areas({"a": 3.0, "b": 0.0}, [(["a", "b"], (1.0, 4.0))], exact_classes) == {"a"}


def test_the_area_total_protects_a_lone_hatched_area_too() -> None:
    """No ward totals, but the area's: one hatched LSOA among exactly classed others is the total minus them."""
    counts = {"a": 2.0, "b": 7.0, "c": 9.0}
    hidden = protect_classed_areas(counts, [(["a", "b", "c"], 18.0)], exact_classes)
    assert hidden == {"a", "b"}


def test_classes_are_redrawn_from_what_is_shown() -> None:
    """Each round classes the values still shown: a class that held the newly hatched area changes."""
    seen: list[set[str]] = []

    def recording(shown: dict[str, float]) -> dict[str, tuple[float, float]]:
        seen.append(set(shown))
        return exact_classes(shown)

    protect_classed_areas({"a": 4.0, "b": 0.0, "c": 5.0, "d": 30.0}, [(["a", "b", "c"], 9.0)], recording)
    assert seen == [{"b", "c", "d"}, {"b", "d"}]

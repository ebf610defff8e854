"""Statistical disclosure control for tables and figures that leave the partnership.

Small counts can identify people (a ward with two domestic-abuse victims), so public outputs suppress them:

- **primary suppression**: a count of 1 to ``threshold - 1`` is shown as ``"<5"`` (for threshold 5). Zero is
  safe and shown, unless ``suppress_zero`` is set (then it is shown as ``"<5"`` too);
- **secondary suppression**: a hidden cell could be worked out from its row or column total (printed in the
  table or known from elsewhere) and the other cells of that row or column. So every row and every column with
  a hidden cell gets at least two: another non-zero count is hidden as well, shown as ``"*"``, and this repeats
  until no row or column has exactly one hidden cell. The cell chosen is, in order of preference: not zero
  (a zero is taken only when nothing else is left), not a total, one whose crossing row or column also needs a
  second hidden cell (one cell then fixes both, which avoids cascades), and the smallest count.

Total rows and columns, when the table shows them, are treated like any other line: a total counts as a cell
of its column (or row), so a hidden total needs a second hidden cell too.

Two hidden cells in a line are not always enough: a ``"<5"`` and a ``"*"`` whose line total leaves 6 between
them can only be 1 and 5, because the markers tell the reader that one is from 1 to 4 and the other is not.
So the pattern is then **audited as an attacker would attack it**: for every hidden cell, the smallest and
largest values consistent with every row and column total and with what the markers say are found by linear
programming; a cell whose range is one value is exposed, and another cell of its line is hidden, until none is.
When every cell of a line is hidden and its known total still pins them (a total of 1), nothing in the table can
help: such a total is small itself, and is hidden wherever it is printed.

Maps give ranges, not values: an area's colour puts its count in a legend class ("8 – 15"). Those ranges and the
group totals printed elsewhere (a ward's count) can still pin a hatched area's count, so
:func:`protect_classed_areas` audits a classed map the same way, with the classes as bounds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Hashable, Mapping, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

__all__ = [
    "SECONDARY_MARKER",
    "GroupTotal",
    "SuppressedTable",
    "exposed_cells",
    "primary_marker",
    "protect_classed_areas",
    "round_to",
    "suppress_table",
    "suppress_value",
]

SECONDARY_MARKER = "*"


def primary_marker(threshold: int) -> str:
    """The text shown for a count under the threshold: ``"<5"`` for threshold 5."""
    return f"<{threshold}"


@dataclass(frozen=True)
class SuppressedTable:
    """A count table made safe to publish.

    Attributes:
        display: the table to show, as strings: the count, ``"<5"`` (primary) or ``"*"`` (secondary).
        suppressed: True for every hidden cell, primary or secondary.
        primary: True for cells hidden because their own count is small.
        threshold: counts below this (and above zero, unless zeros are suppressed) were hidden.
    """

    display: pd.DataFrame
    suppressed: pd.DataFrame
    primary: pd.DataFrame
    threshold: int

    @property
    def n_primary(self) -> int:
        """How many cells were hidden for being small."""
        return int(self.primary.to_numpy().sum())

    @property
    def n_secondary(self) -> int:
        """How many more cells were hidden so that the small ones cannot be worked out."""
        return int(self.suppressed.to_numpy().sum()) - self.n_primary


def _check_threshold(threshold: int) -> None:
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1:
        raise ValueError(f"the suppression threshold must be a whole number of at least 1, not {threshold!r}")


def _is_primary(count: int | np.ndarray, threshold: int, suppress_zero: bool) -> np.ndarray:
    lowest = 0 if suppress_zero else 1
    return np.asarray((count >= lowest) & (count < threshold))


def suppress_value(count: int, threshold: int = 5, suppress_zero: bool = False) -> str | int:
    """One count for a tile or sentence: the count itself, or ``"<5"`` when it is too small to publish."""
    _check_threshold(threshold)
    if count < 0:
        raise ValueError(f"a count cannot be negative: {count}")
    return primary_marker(threshold) if bool(_is_primary(count, threshold, suppress_zero)) else count


def round_to(value: float, base: int) -> int:
    """Round to the nearest multiple of ``base``, halves upwards: 7 -> 5 and 8 -> 10 for base 5."""
    if base < 1:
        raise ValueError(f"the rounding base must be at least 1, not {base}")
    return math.floor(value / base + 0.5) * base


def _counts(df: pd.DataFrame) -> np.ndarray:
    try:
        values = df.to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError):
        raise ValueError("a table to suppress must hold counts (whole numbers) only") from None
    if not np.all(np.isfinite(values)) or np.any(values < 0) or np.any(values != np.round(values)):
        raise ValueError("a table to suppress must hold counts: whole numbers of zero or more, none missing")
    return values.astype(np.int64)


def _position(labels: pd.Index, label: Hashable | None, what: str) -> int | None:
    if label is None:
        return None
    if label not in labels:
        raise ValueError(f"the {what} {label!r} is not in the table")
    position = labels.get_loc(label)
    if not isinstance(position, int):
        raise ValueError(f"the {what} {label!r} appears more than once in the table")
    return position


def _preference(
    counts: np.ndarray,
    is_total: np.ndarray,
    crossing_line_is_lonely: np.ndarray,
    cell: tuple[int, int],
) -> tuple[bool, int, bool, int, int, int]:
    """Sort key for the cell to hide next: non-zero, not a total (the grand total last of all), completing its
    crossing line, smallest."""
    row, col = cell
    count = int(counts[cell])
    return (count == 0, int(is_total[cell]), not crossing_line_is_lonely[cell], count, row, col)


def _add_secondary(counts: np.ndarray, suppressed: np.ndarray, is_total: np.ndarray) -> None:
    """Hide more cells, in place, until no row or column has exactly one hidden cell.

    Only rows and columns of two cells or more count: a line of one cell is its own total.
    """
    n_rows, n_cols = counts.shape
    while True:
        lonely_rows = (suppressed.sum(axis=1) == 1) & (n_cols >= 2)
        lonely_cols = (suppressed.sum(axis=0) == 1) & (n_rows >= 2)
        # For each cell, whether the line crossing the one being fixed also lacks a second hidden cell.
        if lonely_rows.any():
            row = int(np.argmax(lonely_rows))
            line = [(row, col) for col in range(n_cols)]
            crossing_line_is_lonely = np.broadcast_to(lonely_cols[np.newaxis, :], counts.shape)
        elif lonely_cols.any():
            col = int(np.argmax(lonely_cols))
            line = [(row, col) for row in range(n_rows)]
            crossing_line_is_lonely = np.broadcast_to(lonely_rows[:, np.newaxis], counts.shape)
        else:
            return

        # A line of two or more cells with exactly one hidden always has a candidate.
        candidates = [cell for cell in line if not suppressed[cell]]
        preference = partial(_preference, counts, is_total, crossing_line_is_lonely)
        suppressed[min(candidates, key=preference)] = True


def suppress_table(
    df: pd.DataFrame,
    threshold: int = 5,
    secondary: bool = True,
    total_row: Hashable | None = None,
    total_col: Hashable | None = None,
    suppress_zero: bool = False,
    hidden: pd.DataFrame | np.ndarray | None = None,
    audit: bool = True,
    rows_add_up: bool = True,
) -> SuppressedTable:
    """Hide small counts in a table, and enough others that they cannot be recovered from totals.

    Args:
        df: non-negative whole-number counts; row labels in the index, column labels as columns.
        threshold: counts from 1 to ``threshold - 1`` are hidden (5 by default; 10 for sensitive topics at
            small areas).
        secondary: also hide cells that would let a hidden one be worked out from row or column totals.
        total_row: label of the row holding column totals, if the table shows one.
        total_col: label of the column holding row totals, if the table shows one.
        suppress_zero: hide zeros too (where even "none" would disclose something).
        hidden: cells already hidden for a reason outside this table (True = hidden), such as a figure
            suppressed in a linked table; they are shown as ``"*"`` and protected like the others.
        audit: attack the pattern (``exposed_cells``) and hide more until no hidden cell is pinned; off only to
            show what the row-and-column rule alone lets through.
        rows_add_up: whether a reader knows each row's total (see ``exposed_cells``); the columns' are always
            taken as known.

    Raises:
        ValueError: the table holds anything but counts, the threshold is below 1, or a total label is absent.
    """
    _check_threshold(threshold)
    counts = _counts(df)
    primary = _is_primary(counts, threshold, suppress_zero)
    # how many totals a cell is: 1 for a cell of the total row or column, 2 for the grand total (taken last)
    is_total = np.zeros(counts.shape, dtype=np.int64)
    row_position = _position(df.index, total_row, "total row")
    col_position = _position(df.columns, total_col, "total column")
    if row_position is not None:
        is_total[row_position, :] += 1
    if col_position is not None:
        is_total[:, col_position] += 1
    suppressed = primary.copy()
    if hidden is not None:
        suppressed |= np.asarray(hidden, dtype=bool)
    if secondary and counts.size:
        _add_secondary(counts, suppressed, is_total)
        if audit:
            _close_exposures(counts, suppressed, primary, is_total, threshold, row_position, col_position, rows_add_up)

    marker = primary_marker(threshold)
    display = np.where(primary, marker, np.where(suppressed, SECONDARY_MARKER, counts.astype(str)))
    return SuppressedTable(
        display=pd.DataFrame(display, index=df.index, columns=df.columns, dtype=object),
        suppressed=pd.DataFrame(suppressed, index=df.index, columns=df.columns),
        primary=pd.DataFrame(primary, index=df.index, columns=df.columns),
        threshold=threshold,
    )


def _attacker_bounds(
    counts: np.ndarray, primary: np.ndarray, threshold: int, suppress_zero: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """What the markers tell a reader about each hidden cell: "<5" is 1 to 4; "*" is 5 or more (or 0).

    A "*" that hides a zero is given the range 0 and up; every other one the range from the threshold up, which
    is what a reader who assumes the markers are used as the note says would take.
    """
    low = np.where(primary, 0 if suppress_zero else 1, np.where(counts >= threshold, threshold, 0)).astype(float)
    high = np.where(primary, threshold - 1, np.inf).astype(float)
    return low, high


def exposed_cells(
    counts: np.ndarray,
    suppressed: np.ndarray,
    primary: np.ndarray,
    threshold: int,
    row_total: int | None = None,
    col_total: int | None = None,
    suppress_zero: bool = False,
    rows_add_up: bool = True,
) -> list[tuple[int, int]]:
    """Hidden cells whose value a reader can work out exactly from the published cells and the line totals.

    The attack: every row and every column adds up to its total (the total cell when the table has one,
    otherwise a total known from elsewhere), published cells are known, and the markers bound the hidden ones
    (see ``_attacker_bounds``). The smallest and largest value of each hidden cell under those constraints come
    from two linear programmes; a cell whose whole-number range is a single value is exposed.

    Args:
        counts: the true counts.
        suppressed: True for hidden cells.
        primary: True for cells hidden for being small (shown as ``"<5"``).
        threshold: the suppression threshold.
        row_total: position of the total row, if the table has one.
        col_total: position of the total column, if the table has one.
        suppress_zero: zeros are hidden as ``"<5"`` too.
        rows_add_up: whether each row has a total a reader knows (False for a row of different measures, such as
            this year and last year, that nobody adds).

    Returns:
        The exposed cells as (row, column) positions.
    """
    from scipy.optimize import linprog

    cells = [(int(r), int(c)) for r, c in np.argwhere(suppressed)]
    if not cells:
        return []
    index = {cell: k for k, cell in enumerate(cells)}
    low, high = _attacker_bounds(counts, primary, threshold, suppress_zero)
    equations: list[np.ndarray] = []
    constants: list[float] = []
    n_rows, n_cols = counts.shape
    lines: list[list[tuple[int, int]]] = []
    totals: list[tuple[int, int] | None] = []
    if n_cols >= 2 and (rows_add_up or col_total is not None):  # a line of one cell is its own total
        lines += [[(r, c) for c in range(n_cols)] for r in range(n_rows)]
        totals += [(r, col_total) if col_total is not None else None for r in range(n_rows)]
    if n_rows >= 2:
        lines += [[(r, c) for r in range(n_rows)] for c in range(n_cols)]
        totals += [(row_total, c) if row_total is not None else None for c in range(n_cols)]
    for line, total in zip(lines, totals, strict=True):
        if not any(cell in index for cell in line):
            continue
        # parts minus total is known (0 when the table adds up), and so is every published cell: what is left
        # for the hidden cells of the line is known too
        sign = {cell: (-1.0 if cell == total else 1.0) for cell in line}
        row = np.zeros(len(cells))
        for cell in line:
            if cell in index:
                row[index[cell]] = sign[cell]
        equations.append(row)
        constants.append(float(sum(sign[cell] * counts[cell] for cell in line if cell in index)))
    if not equations:
        return []
    a_eq = np.vstack(equations)
    b_eq = np.asarray(constants)
    truth = np.asarray([counts[cell] for cell in cells], dtype=float)
    bounds = [(low[cell], None if not np.isfinite(high[cell]) else high[cell]) for cell in cells]

    # Screening: a cell that takes another value at some solution is not pinned. A few LPs with random
    # objectives over a capped box (a smaller set, so whatever moves there moves in the whole one) clear most
    # cells, and only the rest need their own two LPs.
    cap = float(counts.sum()) + threshold
    capped = [(lo, cap if hi is None else hi) for lo, hi in bounds]
    undecided = np.ones(len(cells), dtype=bool)
    rng = np.random.default_rng(0)
    for _ in range(8):
        if not undecided.any():
            break
        objective = np.where(undecided, rng.choice([-1.0, 1.0], len(cells)), 0.0)
        solution = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=capped, method="highs")
        if solution.status != 0:
            break
        moved = np.abs(solution.x - truth) > 0.5
        if not (moved & undecided).any():
            break
        undecided &= ~moved

    exposed = []
    for k in np.flatnonzero(undecided):
        objective = np.zeros(len(cells))
        objective[k] = 1.0
        lowest = linprog(objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        highest = linprog(-objective, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method="highs")
        if lowest.status != 0 or highest.status != 0:  # unbounded above (or no solution): not pinned
            continue
        if math.ceil(lowest.fun - 1e-7) >= math.floor(-highest.fun + 1e-7):
            exposed.append(cells[k])
    return exposed


def _close_exposures(
    counts: np.ndarray,
    suppressed: np.ndarray,
    primary: np.ndarray,
    is_total: np.ndarray,
    threshold: int,
    row_total: int | None,
    col_total: int | None,
    rows_add_up: bool = True,
) -> None:
    """Hide more cells, in place, until the attack of ``exposed_cells`` pins none (and no line is left with one
    hidden cell by the cells added)."""
    while True:
        _add_secondary(counts, suppressed, is_total)
        exposed = exposed_cells(counts, suppressed, primary, threshold, row_total, col_total, rows_add_up=rows_add_up)
        if not exposed:
            return
        added = False
        helped: set[tuple[str, int]] = set()  # lines given a new hidden cell this round
        for row, col in exposed:
            if ("row", row) in helped or ("col", col) in helped:
                continue
            for kind, line in (
                ("row", [(row, c) for c in range(counts.shape[1])]),
                ("col", [(r, col) for r in range(counts.shape[0])]),
            ):
                candidates = [cell for cell in line if not suppressed[cell]]
                if candidates:
                    no_crossing = np.zeros(counts.shape, dtype=bool)
                    chosen = min(candidates, key=partial(_preference, counts, is_total, no_crossing))
                    suppressed[chosen] = True
                    helped.update({("row", chosen[0]), ("col", chosen[1]), (kind, row if kind == "row" else col)})
                    added = True
                    break
        if not added:
            return  # every cell of the exposed cells' lines is hidden already: nothing more can be done here


#: A group's total as a reader knows it: exactly, within a range (a "<5" is 1 to 4), or not at all.
GroupTotal = float | tuple[float, float] | None


def _pinned_areas(
    counts: Mapping[str, float],
    hidden: set[str],
    small: set[str],
    ranges: Mapping[str, tuple[float, float]],
    groups: Sequence[tuple[Collection[str], GroupTotal]],
    threshold: int,
) -> list[str]:
    """Hidden small areas whose count the classes of the others and the known group totals pin to one value."""
    from scipy.optimize import linprog

    known = [(list(members), total) for members, total in groups if total is not None]
    codes = sorted({c for members, _ in known for c in members if c in counts})
    targets = [c for c in codes if c in small]
    if not targets:
        return []
    index = {c: i for i, c in enumerate(codes)}
    a_ub: list[np.ndarray] = []  # every total as low <= sum <= high (low == high when printed exactly)
    b_ub: list[float] = []
    for members, total in known:
        low, high = total if isinstance(total, tuple) else (total, total)
        row = np.zeros(len(codes))
        row[[index[c] for c in members if c in index]] = 1.0
        a_ub.append(-row)
        b_ub.append(-float(low))
        if math.isfinite(high):
            a_ub.append(row)
            b_ub.append(float(high))
    cap = float(sum(counts.values())) + threshold
    # one hatch for a small count and for one hatched to protect it (as ONS marks both "[c]"): a reader cannot
    # tell them apart, so a hatched area is anything from 0 up
    bounds = [(0.0, cap) if c in hidden else ranges[c] for c in codes]
    pinned = []
    for c in targets:
        objective = np.zeros(len(codes))
        objective[index[c]] = 1.0
        found = [
            linprog(sign * objective, A_ub=np.vstack(a_ub), b_ub=b_ub, bounds=bounds, method="highs")
            for sign in (1.0, -1.0)
        ]
        if all(r.status == 0 for r in found) and math.ceil(found[0].fun - 1e-7) >= math.floor(-found[1].fun + 1e-7):
            pinned.append(c)
    return pinned


def protect_classed_areas(
    counts: Mapping[str, float],
    groups: Sequence[tuple[Collection[str], GroupTotal]],
    classify: Callable[[Mapping[str, float]], Mapping[str, tuple[float, float]]],
    threshold: int = 5,
) -> set[str]:
    """The areas a classed map must hatch so that no small count can be worked out from what else is printed.

    A choropleth hatches the small counts (1 to ``threshold - 1``) and colours every other area by its class, a
    range of values the legend states; the document prints group totals elsewhere (each ward's count, the
    area's). With a ward of 9 printed and its other two LSOAs in the classes "0" and "5" (classes of one value
    are common: many LSOAs have none), the hatched LSOA holds 4. The attack is the linear programme of
    :func:`exposed_cells`, with the classes as the shown areas' bounds, and every hatched area from 0 up: the
    map has one hatch for a small count and for a count hatched to protect one, so a reader cannot tell them
    apart (ONS marks both "[c]" for the same reason). While the attack pins a small count, the smallest other
    shown count of its ward (else of the area) is hatched too and the shown areas are classed again (the classes
    are of the values shown).

    Args:
        counts: The count of every area on the map.
        groups: Areas whose counts add up to a total printed somewhere, with that total as a reader knows it:
            exactly, as a range (a ``"<5"`` is 1 to 4, a ``"*"`` 5 and up), or None when it is not printed.
        classify: The class bounds the map's legend gives each shown area, from the values shown.
        threshold: Counts from 1 to ``threshold - 1`` are hatched.

    Returns:
        The areas to hatch: the small ones and those hatched to protect them.
    """
    _check_threshold(threshold)
    small = {c for c, v in counts.items() if 0 < v < threshold}
    hidden = set(small)
    while True:
        ranges = classify({c: v for c, v in counts.items() if c not in hidden})
        pinned = _pinned_areas(counts, hidden, small, ranges, groups, threshold)
        if not pinned:
            return hidden
        added = False
        helped: set[int] = set()  # groups given a new hatched area this round
        for code in pinned:
            # the smallest shown count (a zero last: hatching it hides little) of the smallest group that holds
            # the pinned area and has a printed total: its ward, else the whole area
            for g, (members, total) in sorted(enumerate(groups), key=lambda item: len(item[1][0])):
                shown = [c for c in members if c not in hidden and c in counts]
                if total is None or code not in members or not shown:
                    continue
                if g not in helped:
                    hidden.add(min(shown, key=lambda c: (counts[c] == 0, counts[c], c)))
                    helped.add(g)
                    added = True
                break
        if not added:
            return hidden  # every area of the groups is hatched: only withholding a total could help

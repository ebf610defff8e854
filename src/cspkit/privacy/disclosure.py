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
of its column (or row), so a hidden total needs a second hidden cell too. This is the usual row-and-column
rule of thumb; it does not rule out every bound an attacker could derive by linear programming.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

__all__ = [
    "SECONDARY_MARKER",
    "SuppressedTable",
    "primary_marker",
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
) -> tuple[bool, bool, bool, int, int, int]:
    """Sort key for the cell to hide next: non-zero, not a total, completing its crossing line, smallest."""
    row, col = cell
    count = int(counts[cell])
    return (count == 0, bool(is_total[cell]), not crossing_line_is_lonely[cell], count, row, col)


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

    Raises:
        ValueError: the table holds anything but counts, the threshold is below 1, or a total label is absent.
    """
    _check_threshold(threshold)
    counts = _counts(df)
    primary = _is_primary(counts, threshold, suppress_zero)
    is_total = np.zeros(counts.shape, dtype=bool)
    row_position = _position(df.index, total_row, "total row")
    col_position = _position(df.columns, total_col, "total column")
    if row_position is not None:
        is_total[row_position, :] = True
    if col_position is not None:
        is_total[:, col_position] = True
    suppressed = primary.copy()
    if secondary and counts.size:
        _add_secondary(counts, suppressed, is_total)

    marker = primary_marker(threshold)
    display = np.where(primary, marker, np.where(suppressed, SECONDARY_MARKER, counts.astype(str)))
    return SuppressedTable(
        display=pd.DataFrame(display, index=df.index, columns=df.columns, dtype=object),
        suppressed=pd.DataFrame(suppressed, index=df.index, columns=df.columns),
        primary=pd.DataFrame(primary, index=df.index, columns=df.columns),
        threshold=threshold,
    )

"""An attacker of the public edition: recovers hidden counts from what the outputs print, by integer programming.

The attacker reads published cells (a number, ``"<5"``, ``"*"``, ``"not published"`` or nothing at all), knows
which figures add up (wards to the area, crime types to all crime, cohorts to all cohorts, a table to the total a
sentence prints) and what the markers mean (``"<5"`` is 1 to 4; ``"*"`` is 0 or 5 and more), and may know a
weighted sum within a range (harm days to three figures). For each unknown cell, the smallest and largest whole
value consistent with all of that is found by mixed-integer programming (scipy's HiGHS). A cell whose range is a
single value is recovered. This is a stronger attacker than differencing by hand: it also uses the bounds of
the markers and combinations of many tables at once.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

THRESHOLD = 5
BIG = 10_000_000

#: What the attacker sees in a cell.
Seen = float | str | None


def reading(value: object) -> Seen:
    """A printed cell as the attacker reads it: a number, a marker, or None (not printed, "not published")."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        text = value.strip()
        if text in ("<5", "*"):
            return text
        if re.fullmatch(r"[\d,]+(\.0+)?", text):
            return float(text.replace(",", ""))
    return None


@dataclass
class Problem:
    """Cells, what is seen of each, and the sums the attacker knows."""

    seen: dict[Hashable, Seen] = field(default_factory=dict)
    #: (coefficients by cell, low, high): low <= sum(coefficient x cell) <= high.
    relations: list[tuple[dict[Hashable, float], float, float]] = field(default_factory=list)

    def cell(self, key: Hashable, value: Seen) -> None:
        old = self.seen.get(key)
        if key not in self.seen or old is None or (isinstance(old, str) and isinstance(value, float)):
            self.seen[key] = value  # the most informative reading of a cell printed in two places wins

    def adds_up(self, parts: list[Hashable], total: Hashable, offset: float = 0.0) -> None:
        """sum(parts) - total == offset (0 when the figures add up exactly)."""
        coefficients: dict[Hashable, float] = {}
        for p in parts:
            coefficients[p] = coefficients.get(p, 0.0) + 1.0
        coefficients[total] = coefficients.get(total, 0.0) - 1.0
        self.relations.append((coefficients, offset, offset))

    def recovered(self) -> dict[Hashable, int]:
        """Every unknown cell whose value the attacker can pin down, with that value."""
        unknown = [k for k, v in self.seen.items() if not isinstance(v, float)]
        if not unknown:
            return {}
        index = {k: i for i, k in enumerate(unknown)}
        n = len(unknown)
        stars = [k for k in unknown if self.seen[k] == "*"]
        star_index = {k: n + j for j, k in enumerate(stars)}  # a binary per "*": 0 or at least the threshold
        size = n + len(stars)
        big = float(BIG)
        low = np.zeros(size)
        high = np.full(size, float(big))
        for k in unknown:
            if self.seen[k] == "<5":
                low[index[k]], high[index[k]] = 1, THRESHOLD - 1
        for k in stars:
            high[star_index[k]] = 1
        rows, lo, hi = [], [], []
        for coefficients, r_lo, r_hi in self.relations:
            row = np.zeros(size)
            constant = 0.0
            for k, c in coefficients.items():
                value = self.seen.get(k)
                if isinstance(value, float):
                    constant += c * value
                elif k in index:
                    row[index[k]] += c
            if not row.any():
                continue
            rows.append(row)
            lo.append(r_lo - constant)
            hi.append(r_hi - constant)
        for k in stars:  # x >= threshold * z and x <= BIG * z
            a = np.zeros(size)
            a[index[k]], a[star_index[k]] = 1, -THRESHOLD
            rows.append(a)
            lo.append(0.0)
            hi.append(np.inf)
            b = np.zeros(size)
            b[index[k]], b[star_index[k]] = 1, -big
            rows.append(b)
            lo.append(-np.inf)
            hi.append(0.0)
        if not rows:
            return {}
        constraint = LinearConstraint(np.vstack(rows), lo, hi)
        bounds = Bounds(low, high)
        integrality = np.ones(size)

        def solve(objective: np.ndarray) -> np.ndarray | None:
            result = milp(objective, constraints=constraint, bounds=bounds, integrality=integrality)
            return result.x if result.status == 0 else None

        # A cell is free when a second solution gives it another value. One solve pushes every cell away from the
        # first solution at once; then each cell still undecided is pushed on its own, one way and then the other,
        # and every cell that moves with it is cleared too. A cell that cannot move either way is recovered.
        first = solve(np.zeros(size))
        if first is None:
            raise AssertionError("the attacker's model has no solution: the relations do not hold on the data")
        undecided = np.ones(n, dtype=bool)
        away = np.where(first[:n] > low[:n] + 0.5, 1.0, -1.0)
        objective = np.zeros(size)
        objective[:n] = away
        other = solve(objective)
        if other is not None:
            undecided &= ~(np.abs(other[:n] - first[:n]) > 0.5)
        out: dict[Hashable, int] = {}
        for i in range(n):
            if not undecided[i]:
                continue
            # push this cell away from the first solution; any cell that moves with it is free too
            objective = np.zeros(size)
            objective[i] = away[i]
            other = solve(objective)
            if other is not None and abs(other[i] - first[i]) > 0.5:
                undecided &= ~(np.abs(other[:n] - first[:n]) > 0.5)
                continue
            objective[i] = -away[i]  # it could not go that way: try the other
            other = solve(objective)
            if other is not None and abs(other[i] - first[i]) > 0.5:
                undecided &= ~(np.abs(other[:n] - first[:n]) > 0.5)
                continue
            out[unknown[i]] = round(first[i])
        return out

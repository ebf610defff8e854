"""Reporting periods over months, and the plan for comparing one period with earlier ones.

Months are strings ``YYYY-MM``; they sort in time order as text. A :class:`Period` is a run of consecutive
months with a human label. :func:`parse_period` reads the forms an analyst types:

==================  =========================================================================
``2023-24``         financial year (April 2023 to March 2024 with the default start month);
                    ``2023/24`` and ``2023/2024`` also work
``2023-24Q2``       quarter 2 of that financial year (July to September 2023 by default)
``2023-05..2024-04`` any run of months
``2023-05``         one month (also ``May 2023``)
``2023``            calendar year (January to December 2023)
==================  =========================================================================

``2010-11`` could be a financial year or November 2010; such text is refused with a hint rather than guessed.

:func:`plan_comparison` decides which months of the current period are compared with which months of the
baseline period(s), restricting both to the months loaded for all of them, and says so in words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from cspkit.errors import PeriodError

__all__ = [
    "Comparison",
    "Period",
    "financial_year_of",
    "latest_complete_12",
    "make_period",
    "month_add",
    "month_label",
    "month_range",
    "parse_period",
    "plan_comparison",
    "quarter_of",
]

PeriodKind = Literal["financial_year", "quarter", "month", "range", "calendar_year"]
ComparisonMode = Literal["previous", "mean_of_3", "previous_year"]

MONTH_NAMES = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]

ACCEPTED_FORMS = (
    "a financial year '2023-24' or '2023/24', a quarter of a financial year '2023-24Q2', "
    "a run of months '2023-05..2024-04', one month '2023-05' or 'May 2023', or a calendar year '2023'"
)

_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")
_FY_RE = re.compile(r"^(\d{4})\s*[-/]\s*(\d{2}|\d{4})$")
_QUARTER_RE = re.compile(r"^(\d{4})(?:\s*[-/]\s*(\d{2}|\d{4}))?\s*Q([1-4])$", re.IGNORECASE)
_RANGE_RE = re.compile(r"^(\S+)\s*\.\.\s*(\S+)$")
_YEAR_RE = re.compile(r"^(\d{4})$")
_NAMED_MONTH_RE = re.compile(r"^([A-Za-z]+)\s+(\d{4})$")


# --- months -------------------------------------------------------------------------------------------------


def _split(month: str) -> tuple[int, int]:
    match = _MONTH_RE.match(month) if isinstance(month, str) else None
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise PeriodError(f"{month!r} is not a month: months are written YYYY-MM, e.g. 2023-05.")
    return int(match.group(1)), int(match.group(2))


def _join(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def month_add(month: str, n: int) -> str:
    """Return the month ``n`` months after ``month`` (before it when ``n`` is negative)."""
    year, mon = _split(month)
    index = year * 12 + (mon - 1) + n
    return _join(index // 12, index % 12 + 1)


def _months_between(first: str, last: str) -> int:
    """Number of months from ``first`` to ``last`` (0 when equal, negative when ``last`` is earlier)."""
    y1, m1 = _split(first)
    y2, m2 = _split(last)
    return (y2 * 12 + m2) - (y1 * 12 + m1)


def month_range(first: str, last: str) -> list[str]:
    """Return every month from ``first`` to ``last`` inclusive.

    Raises:
        PeriodError: If a month is malformed or ``last`` is before ``first``.
    """
    span = _months_between(first, last)
    if span < 0:
        raise PeriodError(f"The period {first}..{last} ends before it starts.")
    return [month_add(first, i) for i in range(span + 1)]


def month_label(month: str) -> str:
    """Return a month as words, e.g. ``"2023-05"`` -> ``"May 2023"``."""
    year, mon = _split(month)
    return f"{MONTH_NAMES[mon - 1]} {year}"


def _check_fy_start(fy_start_month: int) -> None:
    if not 1 <= fy_start_month <= 12:
        raise PeriodError(f"The financial year start month must be 1 to 12, not {fy_start_month}.")


def _fy_start_year(month: str, fy_start_month: int) -> int:
    year, mon = _split(month)
    return year if mon >= fy_start_month else year - 1


def _fy_code(start_year: int, fy_start_month: int) -> str:
    # A year starting in January is a calendar year: "2023", not "2023-24".
    if fy_start_month == 1:
        return f"{start_year}"
    return f"{start_year}-{(start_year + 1) % 100:02d}"


def financial_year_of(month: str, fy_start_month: int = 4) -> str:
    """Return the financial year a month falls in, e.g. ``"2024-02"`` -> ``"2023-24"``."""
    _check_fy_start(fy_start_month)
    return _fy_code(_fy_start_year(month, fy_start_month), fy_start_month)


def quarter_of(month: str, fy_start_month: int = 4) -> str:
    """Return the financial-year quarter a month falls in, e.g. ``"2023-08"`` -> ``"2023-24Q2"``."""
    _check_fy_start(fy_start_month)
    start_year = _fy_start_year(month, fy_start_month)
    offset = _months_between(_join(start_year, fy_start_month), month)
    return f"{_fy_code(start_year, fy_start_month)}Q{offset // 3 + 1}"


# --- periods ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A run of consecutive months.

    Attributes:
        first: First month, ``YYYY-MM``.
        last: Last month, ``YYYY-MM``.
        label: Words for reports, e.g. ``2023-24``, ``2023-24 Q2``, ``May 2023``, ``May 2022 to April 2023``.
        kind: ``financial_year``, ``quarter``, ``month``, ``range`` or ``calendar_year``.
        fy_start_month: First month of the financial year (4 = April), used to name earlier periods.
    """

    first: str
    last: str
    label: str
    kind: PeriodKind
    fy_start_month: int = 4

    def months(self) -> list[str]:
        """Every month in the period, in order."""
        return month_range(self.first, self.last)

    @property
    def n_months(self) -> int:
        """Number of months in the period."""
        return _months_between(self.first, self.last) + 1

    @property
    def code(self) -> str:
        """The period as text :func:`parse_period` reads back, e.g. ``2023-24Q2`` or ``2023-05..2024-04``."""
        if self.kind == "financial_year":
            code = financial_year_of(self.first, self.fy_start_month)
            # "2010-11" would read as November 2010, so such years are written "2010/11".
            is_month_too = _MONTH_RE.match(code) is not None and 1 <= int(code[5:]) <= 12
            return code.replace("-", "/") if is_month_too else code
        if self.kind == "quarter":
            return quarter_of(self.first, self.fy_start_month)
        if self.kind == "month":
            return self.first
        if self.kind == "calendar_year":
            return self.first[:4]
        return f"{self.first}..{self.last}"

    def previous(self, n: int = 1) -> Period:
        """The equal-length period ``n`` periods back; ``previous(1)`` ends the month before this starts."""
        if n < 1:
            raise ValueError("n must be at least 1")
        shift = -n * self.n_months
        return make_period(month_add(self.first, shift), month_add(self.last, shift), self.fy_start_month)

    def previous_periods(self, k: int = 3) -> list[Period]:
        """The ``k`` equal-length periods before this one, most recent first."""
        return [self.previous(i) for i in range(1, k + 1)]

    def covered_by(self, loaded_months: Iterable[str]) -> bool:
        """True when every month of the period is loaded."""
        return not self.missing_months(loaded_months)

    def missing_months(self, loaded_months: Iterable[str]) -> list[str]:
        """Months of the period that are not loaded, in order."""
        loaded = set(loaded_months)
        return [m for m in self.months() if m not in loaded]


def _range_label(first: str, last: str) -> str:
    if first == last:
        return month_label(first)
    return f"{month_label(first)} to {month_label(last)}"


def make_period(first: str, last: str, fy_start_month: int = 4) -> Period:
    """Build the period ``first..last``, naming it as a year, quarter or month when it is one."""
    _check_fy_start(fy_start_month)
    n = len(month_range(first, last))
    _, first_mon = _split(first)
    if n == 1:
        return Period(first, last, month_label(first), "month", fy_start_month)
    if n == 12 and first_mon == fy_start_month:
        code = financial_year_of(first, fy_start_month)
        return Period(first, last, code, "financial_year", fy_start_month)
    if n == 12 and first_mon == 1:
        return Period(first, last, first[:4], "calendar_year", fy_start_month)
    if n == 3 and (first_mon - fy_start_month) % 3 == 0:
        code = quarter_of(first, fy_start_month)
        return Period(first, last, code.replace("Q", " Q"), "quarter", fy_start_month)
    return Period(first, last, _range_label(first, last), "range", fy_start_month)


def _fy_from_text(year_text: str, end_text: str | None, original: str, fy_start_month: int) -> int:
    """Check the second year of ``2023-24`` / ``2023/2024`` follows the first; return the first year."""
    start_year = int(year_text)
    if end_text is not None:
        end_year = int(end_text)
        expected = start_year + 1 if len(end_text) == 4 else (start_year + 1) % 100
        if end_year != expected:
            raise PeriodError(
                f"{original!r}: a financial year runs over two consecutive years, e.g. "
                f"'{start_year}-{(start_year + 1) % 100:02d}'."
            )
        if fy_start_month == 1:
            raise PeriodError(
                f"{original!r}: financial years start in January here, so they are calendar years; "
                f"write '{start_year}'."
            )
    elif fy_start_month != 1:
        raise PeriodError(
            f"{original!r}: name the financial year in full, e.g. '{start_year}-{(start_year + 1) % 100:02d}Q1'."
        )
    return start_year


def _parse_month(text: str) -> str | None:
    """Read ``2023-05`` or ``May 2023``; None when the text is neither form."""
    if _MONTH_RE.match(text):
        _split(text)
        return text
    named = _NAMED_MONTH_RE.match(text)
    if named:
        word = named.group(1).lower()
        for number, name in enumerate(MONTH_NAMES, start=1):
            if len(word) >= 3 and name.lower().startswith(word):
                return _join(int(named.group(2)), number)
    return None


def parse_period(text: str, fy_start_month: int = 4) -> Period:
    """Read a period from text; the accepted forms are listed in the module docstring.

    Args:
        text: e.g. ``2023-24``, ``2023/24``, ``2023-24Q2``, ``2023-05..2024-04``, ``2023-05``, ``2023``.
        fy_start_month: First month of the financial year (4 = April, the English norm).

    Raises:
        PeriodError: If the text is not one of the accepted forms, naming them.
    """
    _check_fy_start(fy_start_month)
    original = text
    text = text.strip() if isinstance(text, str) else ""

    fy = _FY_RE.match(text)
    if fy:
        start_year, second = int(fy.group(1)), fy.group(2)
        is_month_too = len(second) == 2 and 1 <= int(second) <= 12 and "/" not in text
        is_fy = (len(second) == 2 and int(second) == (start_year + 1) % 100) or (
            len(second) == 4 and int(second) == start_year + 1
        )
        if is_month_too and is_fy:
            raise PeriodError(
                f"{original!r} is ambiguous: write '{start_year}/{second}' for the financial year or "
                f"'{month_label(_join(start_year, int(second)))}' for the month."
            )
        if not is_month_too:
            start_year = _fy_from_text(fy.group(1), second, original, fy_start_month)
            first = _join(start_year, fy_start_month)
            return make_period(first, month_add(first, 11), fy_start_month)

    quarter = _QUARTER_RE.match(text)
    if quarter:
        start_year = _fy_from_text(quarter.group(1), quarter.group(2), original, fy_start_month)
        first = month_add(_join(start_year, fy_start_month), 3 * (int(quarter.group(3)) - 1))
        return make_period(first, month_add(first, 2), fy_start_month)

    span = _RANGE_RE.match(text)
    if span:
        first_month, last_month = _parse_month(span.group(1)), _parse_month(span.group(2))
        if first_month is None or last_month is None:
            raise PeriodError(f"{original!r}: both ends of a run of months must be months like 2023-05.")
        return make_period(first_month, last_month, fy_start_month)

    month = _parse_month(text)
    if month is not None:
        return make_period(month, month, fy_start_month)

    if _YEAR_RE.match(text):
        return make_period(f"{text}-01", f"{text}-12", fy_start_month)

    raise PeriodError(f"Cannot read the period {original!r}. Use {ACCEPTED_FORMS}.")


def latest_complete_12(loaded_months: Iterable[str], fy_start_month: int = 4) -> Period:
    """The latest 12 consecutive months that are all loaded.

    Normally these end at the last loaded month; when a month is missing among them, the latest earlier run of
    12 loaded months is used instead.

    Raises:
        PeriodError: If no 12 consecutive months are loaded.
    """
    loaded = sorted(set(loaded_months))
    for m in loaded:
        _split(m)
    loaded_set = set(loaded)
    for last in reversed(loaded):
        first = month_add(last, -11)
        if all(m in loaded_set for m in month_range(first, last)):
            return make_period(first, last, fy_start_month)
    raise PeriodError("No 12 consecutive months are loaded; load at least a year of data.")


# --- comparison plans ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """Which months of the current period are compared with which months of the baseline period(s).

    Months are matched by position: the i-th month of the current period with the i-th month of each baseline
    period (for whole years, the same calendar month). Only positions loaded for all periods are used.

    Attributes:
        current: The period reported on.
        current_months: Months of the current period used.
        baselines: Baseline periods, most recent first (one for ``previous``, three for ``mean_of_3``).
        baseline_months: For each baseline period, the months used.
        mode: ``previous`` or ``mean_of_3``.
        restricted: True when months were left out so that both sides cover the same months.
        complete: True when every month of every period is loaded.
        note: The plan in words, for method notes.
        exposure_current: Months used in the current period (pass to ``compare_counts``).
        exposure_baseline: Months used in all baseline periods together (pass to ``compare_counts``).
    """

    current: Period
    current_months: list[str]
    baselines: list[Period]
    baseline_months: list[list[str]]
    mode: ComparisonMode
    restricted: bool
    complete: bool
    note: str
    exposure_current: float = 0.0
    exposure_baseline: float = 0.0

    @property
    def baseline_span(self) -> tuple[str, str]:
        """(first, last) month over all baseline periods, for ``Finding.comparison_period``."""
        return (min(p.first for p in self.baselines), max(p.last for p in self.baselines))

    @property
    def baseline_label(self) -> str:
        """Words for the baseline, e.g. ``2022-23`` or ``the average of 2020-21, 2021-22 and 2022-23``."""
        labels = [p.label for p in reversed(self.baselines)]
        if len(labels) == 1:
            return labels[0]
        return "the average of " + ", ".join(labels[:-1]) + " and " + labels[-1]


def plan_comparison(
    current: Period,
    loaded_months: Iterable[str],
    mode: ComparisonMode = "previous",
    allow_partial: bool = True,
) -> Comparison:
    """Plan the comparison of ``current`` with the previous period or the mean of the previous three.

    When a period is only partly loaded (e.g. the year to date), both sides are restricted to the months
    loaded for all periods, so that like is compared with like (same calendar months, same seasonality).

    Args:
        current: The period reported on.
        loaded_months: Months with data loaded.
        mode: ``previous`` (the equal-length period just before) or ``mean_of_3`` (the three before).
        allow_partial: When False, refuse any comparison in which a period is not fully loaded.

    Raises:
        PeriodError: If the current or a baseline period has no month loaded, if no month is loaded for all of
            them, or if a period is incomplete and ``allow_partial`` is False.
    """
    if mode not in ("previous", "mean_of_3", "previous_year"):
        raise PeriodError(f"Unknown comparison {mode!r}: use 'previous', 'mean_of_3' or 'previous_year'.")
    loaded = set(loaded_months)
    if mode == "previous_year":
        # the same months a year earlier (a quarter or year to date against the same period last year)
        baselines = [make_period(month_add(current.first, -12), month_add(current.last, -12), current.fy_start_month)]
    else:
        baselines = current.previous_periods(1 if mode == "previous" else 3)
    periods = [current, *baselines]

    for period in periods:
        if len(period.missing_months(loaded)) == period.n_months:
            what = "The period" if period is current else "The comparison period"
            name = period.label if period.label == period.code else f"{period.label} ({period.code})"
            raise PeriodError(f"{what} {name} has no data loaded.")

    incomplete = [p for p in periods if not p.covered_by(loaded)]
    if incomplete and not allow_partial:
        missing = "; ".join(f"{p.label}: {_month_list(p.missing_months(loaded))}" for p in incomplete)
        raise PeriodError(
            f"Cannot compare {current.label} with {_baseline_words(baselines)}: months are missing "
            f"({missing}). Load them, or allow a comparison restricted to the months both have."
        )

    months_of = [p.months() for p in periods]
    positions = [i for i in range(current.n_months) if all(months[i] in loaded for months in months_of)]
    if not positions:
        raise PeriodError(
            f"{current.label} and {_baseline_words(baselines)} have no month loaded in common, so they "
            "cannot be compared."
        )

    current_months = [months_of[0][i] for i in positions]
    baseline_months = [[months[i] for i in positions] for months in months_of[1:]]
    restricted = len(positions) < current.n_months
    note = f"{current.label} compared with {_baseline_words(baselines)}."
    if restricted:
        note = (
            f"{current.label} compared with {_baseline_words(baselines)}, using only the {len(positions)} of "
            f"{current.n_months} months loaded for all of them ({_month_list(current_months)} and the same "
            "months of each earlier period)."
        )
    return Comparison(
        current=current,
        current_months=current_months,
        baselines=baselines,
        baseline_months=baseline_months,
        mode=mode,
        restricted=restricted,
        complete=not incomplete,
        note=note,
        exposure_current=float(len(positions)),
        exposure_baseline=float(len(positions) * len(baselines)),
    )


def _baseline_words(baselines: list[Period]) -> str:
    if len(baselines) == 1:
        return f"the previous period ({baselines[0].label})"
    labels = [p.label for p in reversed(baselines)]
    return "the average of " + ", ".join(labels[:-1]) + " and " + labels[-1]


def _month_list(months: list[str]) -> str:
    """Runs of consecutive months in words, e.g. ``April 2023 to January 2024, March 2024``."""
    runs: list[list[str]] = []
    for m in months:
        if runs and month_add(runs[-1][-1], 1) == m:
            runs[-1].append(m)
        else:
            runs.append([m])
    return ", ".join(_range_label(run[0], run[-1]) for run in runs)

"""Local performance indicators and the quarterly performance pack.

National indicators were abolished in 2010, so a partnership monitors its own. Each indicator follows one finding
and is declared in cspkit.toml::

    [[indicators]]
    name = "Domestic burglary"
    finding = "crime.burglary.count"      # a finding id (see `cspkit findings`)
    good_direction = "down"               # "down" or "up"
    baseline = "2021-22 outturn 780"      # optional note printed beside the indicator
    target = 750                          # optional: the value for the whole year ...
    # target_change = -0.05               # ... or a change against the same months last year (-5%)
    tolerance = 0.05                      # optional: how far a target may be missed for amber (default 5%)

With no ``[[indicators]]`` the :data:`DEFAULT_INDICATORS` are used, each only when its finding exists.

The pack compares the quarter with the same quarter a year earlier and the year to date (the financial year's
first month to the quarter's last) with the same months a year earlier. The numbers, tests and control-chart
signals are the findings engine's: nothing here recomputes a statistic.

RAG rule (:data:`RAG_RULE`), judged on the quarter for movement and on the year to date for targets:

* **grey**: the finding has no value for the quarter (no data);
* **red**: a significant move the wrong way against the same quarter last year (after multiple-comparison
  adjustment), or a target missed by more than its tolerance;
* **amber**: a control-chart signal the wrong way in one of the quarter's months, or a target missed within its
  tolerance (a move that is not significant is not rated: it is noise until a test or a chart says otherwise);
* **green**: otherwise.

A yearly target for a count is pro-rated to the months of the year to date (``target x months / 12``); for a
rate or proportion it applies as it is. A ``target_change`` gives the target ``last year's year to date x (1 +
target_change)``. A target is missed by ``|value - target| / target`` when the value is on the wrong side.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import duckdb

from cspkit.config import Config
from cspkit.errors import ConfigError, PeriodError
from cspkit.findings.engine import FindingSet, compute_findings
from cspkit.findings.model import Change, Finding, SpcSignal
from cspkit.findings.periods import Period, make_period, month_add, parse_period
from cspkit.findings.wording import format_number
from cspkit.topics import TOPIC_BUILDERS

__all__ = [
    "DEFAULT_INDICATORS",
    "RAG_RULE",
    "Indicator",
    "IndicatorRow",
    "PerformancePack",
    "load_indicators",
    "parse_indicators",
    "performance_pack",
    "rag_status",
]

Rag = Literal["red", "amber", "green", "grey"]
GoodWay = Literal["down", "up"]

RAG_RULE = (
    "Red: a significant move the wrong way against the same quarter last year, or a target missed by more than "
    "its tolerance. Amber: a control-chart signal the wrong way in the quarter, or a target missed within its "
    "tolerance. Green: otherwise (a move that is not significant is not rated). Grey: no data for the quarter. "
    "Targets are judged on the year to date."
)

_FIELDS = {"name", "finding", "good_direction", "baseline", "target", "target_change", "tolerance"}
_DEFAULT_TOLERANCE = 0.05


@dataclass(frozen=True)
class Indicator:
    """One local performance indicator.

    Attributes:
        name: Name printed in the pack.
        finding: Id of the finding it follows, e.g. ``crime.burglary.count``.
        good_direction: ``down`` or ``up``: which way is better.
        baseline_note: Optional note on the baseline, printed beside the indicator.
        target: Optional value for the whole year.
        target_change: Optional target as a change against the same months last year (``-0.05`` = 5% fewer).
        tolerance: How far (a share of the target) a target may be missed for amber rather than red.
    """

    name: str
    finding: str
    good_direction: GoodWay
    baseline_note: str = ""
    target: float | None = None
    target_change: float | None = None
    tolerance: float = _DEFAULT_TOLERANCE


#: Used when cspkit.toml declares no ``[[indicators]]``; each only when its finding exists in the run.
DEFAULT_INDICATORS: tuple[Indicator, ...] = (
    Indicator("All police-recorded crime", "crime.all.count", "down"),
    Indicator("Anti-social behaviour (police-recorded)", "asb.count", "down"),
    Indicator("Burglary", "crime.burglary.count", "down"),
    Indicator("Violence and sexual offences", "crime.violence_and_sexual_offences.count", "down"),
    Indicator(
        "Domestic abuse incidents",
        "da.incidents",
        "down",
        "A rise can also mean more victims are confident to report.",
    ),
    Indicator(
        "MARAC repeat referral rate",
        "da.marac.repeat_rate",
        "down",
        "SafeLives expects 28-40%; a rate well below that can mean repeats are not being identified.",
    ),
)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def parse_indicators(tables: Any, where: str = "cspkit.toml") -> list[Indicator]:
    """Validate ``[[indicators]]`` tables and return the indicators.

    Args:
        tables: The value of ``indicators`` in cspkit.toml (a list of tables).
        where: File name for messages.

    Raises:
        ConfigError: Naming the indicator and the field at fault.
    """
    if not isinstance(tables, list):
        raise ConfigError(f"{where}: indicators must be a list of [[indicators]] tables.")
    out: list[Indicator] = []
    names: set[str] = set()
    for i, table in enumerate(tables, start=1):
        if not isinstance(table, dict):
            raise ConfigError(f"{where}: indicator {i} must be a table ([[indicators]]).")
        name = table.get("name")
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f'{where}: indicator {i} has no name; give it name = "...".')
        label = f"{where}: indicator {name!r}"
        unknown = sorted(set(table) - _FIELDS)
        if unknown:
            raise ConfigError(f"{label}: unknown field {unknown[0]!r}; known fields: {', '.join(sorted(_FIELDS))}.")
        if name in names:
            raise ConfigError(f"{label} is declared twice.")
        names.add(name)
        finding = table.get("finding")
        if not isinstance(finding, str) or "." not in finding:
            raise ConfigError(f"{label}: finding must be a finding id such as 'crime.burglary.count', not {finding!r}.")
        good = table.get("good_direction")
        if good not in ("down", "up"):
            raise ConfigError(f"{label}: good_direction must be 'down' or 'up', not {good!r}.")
        baseline = table.get("baseline", "")
        if not isinstance(baseline, str):
            raise ConfigError(f"{label}: baseline is a note in words, not {baseline!r}.")
        target, change = table.get("target"), table.get("target_change")
        if target is not None and change is not None:
            raise ConfigError(f"{label}: give target or target_change, not both.")
        if target is not None and (not _number(target) or target < 0):
            raise ConfigError(f"{label}: target must be a number of at least 0 for the year, not {target!r}.")
        if change is not None and (not _number(change) or change <= -1):
            raise ConfigError(
                f"{label}: target_change must be a change as a fraction above -1 (e.g. -0.05 for 5% fewer), "
                f"not {change!r}."
            )
        tolerance = table.get("tolerance", _DEFAULT_TOLERANCE)
        if not _number(tolerance) or tolerance < 0:
            raise ConfigError(f"{label}: tolerance must be a fraction of at least 0 (0.05 = 5%), not {tolerance!r}.")
        out.append(
            Indicator(
                name=name.strip(),
                finding=finding,
                good_direction=good,
                baseline_note=baseline,
                target=float(target) if target is not None else None,
                target_change=float(change) if change is not None else None,
                tolerance=float(tolerance),
            )
        )
    return out


def load_indicators(config: Config) -> tuple[list[Indicator], bool]:
    """The workspace's indicators and whether they are the default set.

    Raises:
        ConfigError: An ``[[indicators]]`` table is invalid.
    """
    tables = config.extra.get("indicators")
    if tables is None:
        return list(DEFAULT_INDICATORS), True
    where = str(config.path) if config.path else "cspkit.toml"
    return parse_indicators(tables, where), False


@dataclass(frozen=True)
class IndicatorRow:
    """One indicator in the pack.

    Attributes:
        indicator: The indicator.
        title: The finding's title ("" when there is no finding).
        unit: The finding's unit.
        quarter_value: The quarter's value.
        quarter_last_year: The same quarter a year earlier.
        quarter_change: The change and its test (BH-adjusted).
        ytd_value: Year to date.
        ytd_last_year: The same months a year earlier.
        ytd_change: The year-to-date change and its test.
        ytd_months: Months in the year to date used (after restricting both sides to months loaded).
        significance: The quarter's significance verdict in words.
        spc: The control-chart signal within the quarter's months, if any.
        target_ytd: The target for the year to date, if any.
        target_missed_by: Share of the target by which it is missed (0 when met), if there is a target.
        rag: ``red``, ``amber``, ``green`` or ``grey``.
        reason: Why, in words, by :data:`RAG_RULE`.
        finding_ids: The findings behind the row.
    """

    indicator: Indicator
    title: str
    unit: str
    quarter_value: float | None
    quarter_last_year: float | None
    quarter_change: Change | None
    ytd_value: float | None
    ytd_last_year: float | None
    ytd_change: Change | None
    ytd_months: int
    significance: str
    spc: SpcSignal | None
    target_ytd: float | None
    target_missed_by: float | None
    rag: Rag
    reason: str
    finding_ids: list[str] = field(default_factory=list)

    def to_row(self) -> dict[str, Any]:
        """A flat dict for tables."""
        ind = self.indicator
        return {
            "indicator": ind.name,
            "finding": ind.finding,
            "good_direction": ind.good_direction,
            "unit": self.unit,
            "quarter": self.quarter_value,
            "quarter_last_year": self.quarter_last_year,
            "quarter_change_percent": self.quarter_change.percent if self.quarter_change else None,
            "quarter_p_adjusted": self.quarter_change.p_adjusted if self.quarter_change else None,
            "ytd": self.ytd_value,
            "ytd_last_year": self.ytd_last_year,
            "ytd_change_percent": self.ytd_change.percent if self.ytd_change else None,
            "ytd_p_adjusted": self.ytd_change.p_adjusted if self.ytd_change else None,
            "significance": self.significance,
            "spc_signal": f"{self.spc.rule} ({self.spc.side}, {self.spc.month})" if self.spc else "",
            "target_ytd": self.target_ytd,
            "target_missed_by": self.target_missed_by,
            "rag": self.rag,
            "reason": self.reason,
            "baseline_note": ind.baseline_note,
        }


@dataclass(frozen=True)
class PerformancePack:
    """The quarterly performance pack.

    Attributes:
        quarter: The quarter reported on.
        ytd: The year to date (financial year start to the quarter's end).
        quarter_note: The quarter's comparison in words.
        ytd_note: The year-to-date comparison in words (says when months were left out).
        rows: One row per indicator.
        default_set: True when the default indicators were used (no ``[[indicators]]`` in cspkit.toml).
        notes: Anything the reader should know (indicators left out, restricted comparisons).
        rule: The RAG rule in words.
    """

    quarter: Period
    ytd: Period
    quarter_note: str
    ytd_note: str
    rows: list[IndicatorRow]
    default_set: bool
    notes: list[str] = field(default_factory=list)
    rule: str = RAG_RULE

    def row(self, name: str) -> IndicatorRow:
        """The row of the indicator called ``name``."""
        for row in self.rows:
            if row.indicator.name == name:
                return row
        raise KeyError(name)

    def rag_counts(self) -> dict[str, int]:
        """Indicators by RAG status."""
        counts = {"red": 0, "amber": 0, "green": 0, "grey": 0}
        for row in self.rows:
            counts[row.rag] += 1
        return counts

    def to_rows(self) -> list[dict[str, Any]]:
        """One flat dict per indicator, for tables."""
        return [row.to_row() for row in self.rows]

    def to_dict(self) -> dict[str, Any]:
        """The pack as plain JSON-able data."""
        return {
            "quarter": {"code": self.quarter.code, "label": self.quarter.label, "months": self.quarter.months()},
            "ytd": {"first": self.ytd.first, "last": self.ytd.last, "label": self.ytd.label},
            "quarter_comparison": self.quarter_note,
            "ytd_comparison": self.ytd_note,
            "default_set": self.default_set,
            "rule": self.rule,
            "rag_counts": self.rag_counts(),
            "notes": list(self.notes),
            "indicators": [{**row.to_row(), "indicator_definition": asdict(row.indicator)} for row in self.rows],
        }


def _wrong_way(good: GoodWay, delta: float) -> bool:
    return delta > 0 if good == "down" else delta < 0


def _significance(change: Change | None) -> str:
    if change is None or change.p_value is None:
        return "not tested"
    p = change.p_adjusted if change.p_adjusted is not None else change.p_value
    if change.significant:
        word = "rise" if change.direction == "up" else "fall"
        return f"significant {word} (adjusted p = {p:.3g})"
    return f"no significant change (adjusted p = {p:.2g})"


def _target_for_ytd(ind: Indicator, unit: str, baseline: float | None, months: int) -> float | None:
    if ind.target is not None:
        return ind.target * months / 12 if unit == "count" else ind.target
    if ind.target_change is not None and baseline is not None:
        return baseline * (1 + ind.target_change)
    return None


def _missed_by(good: GoodWay, value: float, target: float) -> float:
    if not _wrong_way(good, value - target):
        return 0.0
    if target == 0:
        return math.inf
    return abs(value - target) / target


def rag_status(
    indicator: Indicator,
    quarter: Finding | None,
    quarter_months: list[str],
    target_ytd: float | None,
    ytd_value: float | None,
) -> tuple[Rag, str, float | None]:
    """Apply :data:`RAG_RULE` to one indicator.

    Args:
        indicator: The indicator (its good direction and tolerance).
        quarter: The quarter's finding (compared with the same quarter last year), or None.
        quarter_months: The quarter's months (a control-chart signal counts only in one of them).
        target_ytd: The target for the year to date, or None.
        ytd_value: The year-to-date value, or None.

    Returns:
        The status, the reason in words, and the share by which the target is missed (None without a target).
    """
    if quarter is None or quarter.value is None:
        return "grey", "Grey: no data for this quarter.", None
    good = indicator.good_direction
    wrong = "rise" if good == "down" else "fall"
    red: list[str] = []
    amber: list[str] = []
    green: list[str] = []
    change = quarter.change
    if change is not None and change.significant and change.direction in ("up", "down"):
        delta = 1.0 if change.direction == "up" else -1.0
        if _wrong_way(good, delta):
            red.append(f"a significant {wrong} on the same quarter last year, the wrong way")
        else:
            green.append(f"a significant {'fall' if wrong == 'rise' else 'rise'} on the same quarter last year")
    elif change is not None:  # noise is never rated: a move that is not significant is no change
        green.append("no significant change on the same quarter last year")
    else:
        green.append("no comparison with the same quarter last year")
    spc = quarter.spc if quarter.spc is not None and quarter.spc.month in quarter_months else None
    if spc is not None:
        side_wrong = spc.side == ("above" if good == "down" else "below")
        words = f"a control-chart signal ({spc.rule}, {spc.side} the limits, {spc.month})"
        (amber if side_wrong else green).append(words + (", the wrong way" if side_wrong else ", the right way"))
    missed: float | None = None
    if target_ytd is not None and ytd_value is not None:
        missed = _missed_by(good, ytd_value, target_ytd)
        target_words = f"year to date {format_number(round(ytd_value, 2))} against a target of " + format_number(
            round(target_ytd, 2)
        )
        if missed > indicator.tolerance:
            red.append(f"{target_words}: missed by {missed:.1%}, more than the {indicator.tolerance:.0%} tolerance")
        elif missed > 0:
            amber.append(f"{target_words}: missed by {missed:.1%}, within the {indicator.tolerance:.0%} tolerance")
        else:
            green.append(f"{target_words}: met")
    if red:
        also = f" Also {'; '.join(amber)}." if amber else ""
        return "red", "Red: " + "; ".join(red) + "." + also, missed
    if amber:
        return "amber", "Amber: " + "; ".join(amber) + ".", missed
    return "green", "Green: " + "; ".join(green) + ".", missed


def _ytd_period(quarter: Period) -> Period:
    first_month = int(quarter.first[5:])
    offset = (first_month - quarter.fy_start_month) % 12
    return make_period(month_add(quarter.first, -offset), quarter.last, quarter.fy_start_month)


def _known_topics() -> set[str]:
    return {"crime", "asb", "quality", *TOPIC_BUILDERS}


def _check_ids(indicators: list[Indicator], fs: FindingSet, where: str) -> None:
    """An id whose topic produced findings in this run, but not this id, is a typo: refuse it."""
    ids = [f.id for f in fs.findings]
    topics_present = {f.id.split(".", 1)[0] for f in fs.findings}
    for ind in indicators:
        prefix = ind.finding.split(".", 1)[0]
        if fs.get(ind.finding) is None and prefix in topics_present:
            close = difflib.get_close_matches(ind.finding, ids, n=3, cutoff=0.6)
            hint = f" Did you mean {', '.join(close)}?" if close else " See `cspkit findings` for the ids."
            raise ConfigError(
                f"{where}: indicator {ind.name!r}: finding {ind.finding!r} is not a finding cspkit produces "
                f"(the {prefix!r} topic has data but no such finding).{hint}"
            )


def performance_pack(con: duckdb.DuckDBPyConnection, config: Config, quarter: str) -> PerformancePack:
    """Build the quarterly performance pack.

    Args:
        con: Warehouse connection.
        config: Workspace settings (``[[indicators]]``, financial year).
        quarter: A financial-year quarter such as ``2022-23Q3``.

    Raises:
        ConfigError: An indicator is invalid or names a finding that does not exist.
        PeriodError: The text is not a quarter, or the quarter (or the same quarter a year earlier) has no data.
    """
    period = parse_period(quarter, config.fy_start_month)
    if period.kind != "quarter":
        raise PeriodError(f"{quarter!r} is not a quarter: write a financial-year quarter such as '2022-23Q3'.")
    indicators, default_set = load_indicators(config)
    where = str(config.path) if config.path else "cspkit.toml"
    known = _known_topics()
    for ind in indicators:
        prefix = ind.finding.split(".", 1)[0]
        if prefix not in known:
            raise ConfigError(
                f"{where}: indicator {ind.name!r}: finding {ind.finding!r} is not a finding id; ids start with "
                f"a topic: {', '.join(sorted(known))}."
            )
    topics = sorted({ind.finding.split(".", 1)[0] for ind in indicators})
    ytd = _ytd_period(period)

    def run(text: str) -> FindingSet:
        try:
            return compute_findings(
                con,
                config,
                period=text,
                compare="previous_year",
                topics=topics,
                forecast=False,
                hotspot_maps=False,
                builders=TOPIC_BUILDERS,
            )
        except PeriodError as exc:
            raise PeriodError(f"The pack compares {text} with the same months a year earlier: {exc}") from None

    fs_q = run(period.code)
    notes: list[str] = []
    if default_set:
        absent = [i for i in indicators if fs_q.get(i.finding) is None]
        indicators = [i for i in indicators if fs_q.get(i.finding) is not None]
        if absent:
            notes.append("Default indicators left out for want of data: " + ", ".join(i.name for i in absent) + ".")
    else:
        _check_ids(indicators, fs_q, where)
    fs_y = fs_q if ytd.first == period.first else run(f"{ytd.first}..{ytd.last}")
    if fs_y.comparison.restricted:
        notes.append("Year to date: " + fs_y.comparison.note)
    ytd_months = len(fs_y.comparison.current_months)
    quarter_months = period.months()
    rows: list[IndicatorRow] = []
    for ind in indicators:
        fq, fy = fs_q.get(ind.finding), fs_y.get(ind.finding)
        unit = fq.unit if fq else (fy.unit if fy else "")
        target = _target_for_ytd(ind, unit, fy.baseline if fy else None, ytd_months)
        ytd_value = fy.value if fy else None
        rag, reason, missed = rag_status(ind, fq, quarter_months, target, ytd_value)
        if fq is None:
            reason = f"Grey: no data for this quarter (no {ind.finding.split('.', 1)[0]!r} data loaded)."
        spc = fq.spc if fq is not None and fq.spc is not None and fq.spc.month in quarter_months else None
        rows.append(
            IndicatorRow(
                indicator=ind,
                title=fq.title if fq else "",
                unit=unit,
                quarter_value=fq.value if fq else None,
                quarter_last_year=fq.baseline if fq else None,
                quarter_change=fq.change if fq else None,
                ytd_value=ytd_value,
                ytd_last_year=fy.baseline if fy else None,
                ytd_change=fy.change if fy else None,
                ytd_months=ytd_months,
                significance=_significance(fq.change if fq else None),
                spc=spc,
                target_ytd=target,
                target_missed_by=missed,
                rag=rag,
                reason=reason,
                finding_ids=[ind.finding] if fq else [],
            )
        )
    return PerformancePack(
        quarter=period,
        ytd=ytd,
        quarter_note=fs_q.comparison.note,
        ytd_note=fs_y.comparison.note,
        rows=rows,
        default_set=default_set,
        notes=notes,
    )

"""The shared pieces of the reoffending measures: settings, the cohort and offences SQL, helpers, the group.

See the package docstring for the finding ids and the rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import duckdb

from cspkit.findings.distributions import binom_two_sided_p
from cspkit.findings.engine import TopicInput
from cspkit.findings.model import Change, Coverage, Finding, GoodDirection
from cspkit.findings.periods import Period, month_add, month_label, month_range
from cspkit.findings.stats import (
    TestedChange,
    adjust_changes,
    change_between,
    paired_counts_test,
)
from cspkit.findings.wording import format_number

TOPIC = "reoffending"

#: Needs broken down in ``reoffending.by_need.<need>`` when members with and without them are present.
BY_NEED = ("accommodation", "drugs", "alcohol")

#: The regression-to-the-mean caveat, in the definitions of the measures it applies to. Sentences do not repeat it:
#: the report states it once, in the reoffending chapter's caution.
_REGRESSION_CAUTION = (
    "People usually join a programme at a peak of their offending, so some fall is expected anyway "
    "(regression to the mean); a fall is not by itself evidence that the programme works."
)
_RESERVED = {"followup", "by_need", "needs", "quality", "offences", "cohort_size"}


# --- small helpers ------------------------------------------------------------------------------------------


def _first_day(month: str) -> date:
    return date(int(month[:4]), int(month[5:7]), 1)


def _last_day(month: str) -> date:
    return _first_day(month_add(month, 1)) - timedelta(days=1)


def _month_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def _offences_each(value: float | None) -> str:
    """``1 offence each``, ``1.5 offences each``: the noun agrees with the number."""
    return f"{_num(value)} offence{'' if value == 1 else 's'} each"


def _num(value: float | None) -> str:
    return "n/a" if value is None else format_number(round(value, 2))


def _n(count: int, noun: str, plural: str | None = None) -> str:
    """``1 offence``, ``3 offences``."""
    return f"{count:,} {noun if count == 1 else (plural or noun + 's')}"


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def _verdict(change: Change | None, fall: str, rise: str) -> str:
    """``a statistically significant fall`` or ``not a statistically significant change``."""
    if change is None or change.p_value is None:
        return "not tested for significance"
    if not change.significant:
        return "not a statistically significant change"
    return f"a statistically significant {fall if change.absolute < 0 else rise}"


def _untested(value: float | None, baseline: float | None, why: str) -> Change | None:
    if value is None or baseline is None:
        return None
    return change_between(value, baseline, None, why)


def _mcnemar(only_before: int, only_after: int, value: float, baseline: float) -> Change:
    """Exact McNemar test for a binary outcome of the same people in two periods."""
    discordant = only_before + only_after
    p_value = binom_two_sided_p(only_after, discordant, 0.5) if discordant else 1.0
    return change_between(
        value,
        baseline,
        p_value,
        f"exact McNemar test on the same members ({only_after} reoffended only in the period, "
        f"{only_before} only in the baseline)",
    )


def _paired_change(before: list[int], after: list[int]) -> tuple[Change | None, str]:
    """Wilcoxon signed-rank change of per-member counts (None when there are no members)."""
    if not before:
        return None, ""
    test = paired_counts_test(before, after)
    total_before, total_after = sum(before), sum(after)
    change = change_between(float(total_after), float(total_before), test.p_value, test.test)
    return change, test.note


# --- settings and data window -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Setup:
    """What every query of one run shares."""

    period: Period
    baseline: Period
    followup_months: int
    waiting_months: int
    horizon_months: int
    not_proven_outcomes: tuple[str, ...]
    min_cohort: int
    data_first: date | None
    data_last: date | None
    use_outcome_dates: bool
    sources: list[str]
    area: str
    area_name: str

    @property
    def p_start(self) -> date:
        return _first_day(self.period.first)

    @property
    def p_end(self) -> date:
        return _last_day(self.period.last)

    @property
    def data_window_words(self) -> str:
        if self.data_first is None or self.data_last is None:
            return "no offences are loaded"
        return f"the loaded offences run from {month_label(_month_of(self.data_first))} to " + month_label(
            _month_of(self.data_last)
        )


def _setup(inp: TopicInput) -> _Setup:
    con = inp.con
    first, last, with_outcome = con.execute(
        "SELECT min(offence_date), max(offence_date), count(outcome_date) FROM offences"
    ).fetchall()[0]
    agencies = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT _agency FROM (SELECT _agency FROM offenders UNION ALL SELECT _agency FROM offences) "
            "WHERE _agency IS NOT NULL ORDER BY 1"
        ).fetchall()
    ]
    period = inp.ctx.comparison.current
    return _Setup(
        period=period,
        baseline=period.previous(),
        followup_months=int(inp.config.get("definitions.reoffending_followup_months")),
        waiting_months=int(inp.config.get("definitions.reoffending_waiting_months")),
        horizon_months=int(inp.config.get("definitions.ogrs_horizon_months")),
        not_proven_outcomes=tuple(str(v) for v in inp.config.get("definitions.reoffending_not_proven_outcomes")),
        min_cohort=int(inp.config.get("disclosure.min_cohort_for_rates")),
        data_first=_first_day(_month_of(first)) if first else None,
        data_last=_last_day(_month_of(last)) if last else None,
        use_outcome_dates=bool(with_outcome),
        sources=[f"Offender cohort membership and offences ({', '.join(agencies) or 'no agency'})"],
        area=inp.ctx.area_code,
        area_name=inp.ctx.area_name,
    )


# --- SQL ------------------------------------------------------------------------------------------------------

_BASE = """
spells AS (
    SELECT offender_key, entry_date, exit_date, needs, ogrs_score FROM offenders
    WHERE offender_key IS NOT NULL AND entry_date IS NOT NULL AND list_contains($cohorts, cohort)
),
offs AS (
    SELECT row_number() OVER () AS oid, offender_key, offence_date, outcome_date,
        lower(trim(coalesce(outcome, ''))) AS outcome FROM offences
    WHERE offender_key IS NOT NULL AND offence_date IS NOT NULL
)"""

_ENTRANTS = f"""
WITH {_BASE},
entrants AS (
    SELECT offender_key, min(entry_date) AS entry FROM spells
    WHERE entry_date BETWEEN $e_start AND $e_end GROUP BY offender_key
),
windows AS (
    SELECT offender_key, entry,
        CAST(entry - to_months($months) AS DATE) AS before_start,
        CAST(entry + to_months($months) AS DATE) AS after_end,
        CAST(entry + to_months($months + $waiting) AS DATE) AS proven_by
    FROM entrants
)"""


def _cohort_counts(con: duckdb.DuckDBPyConnection, s: _Setup, cohorts: list[str]) -> dict[str, Any]:
    """Members in the baseline period, entries and exits in P, active at the end of P, monthly active members."""
    row = con.execute(
        f"WITH {_BASE} SELECT "
        "count(DISTINCT offender_key) FILTER (WHERE entry_date <= $b_end AND (exit_date IS NULL OR exit_date >= "
        "$b_start)), count(*) FILTER (WHERE entry_date BETWEEN $p_start AND $p_end), "
        "count(*) FILTER (WHERE exit_date BETWEEN $p_start AND $p_end), "
        "count(DISTINCT offender_key) FILTER (WHERE entry_date <= $p_end AND (exit_date IS NULL OR exit_date >= "
        "$p_end)), min(entry_date) FROM spells",
        {
            "cohorts": cohorts,
            "p_start": s.p_start,
            "p_end": s.p_end,
            "b_start": _first_day(s.baseline.first),
            "b_end": _last_day(s.baseline.last),
        },
    ).fetchall()[0]
    first_entry: date | None = row[4]
    series: list[tuple[str, float]] = []
    if first_entry is not None:
        start = min(_month_of(first_entry), _month_of(s.data_first) if s.data_first else s.period.first)
        start = min(start, s.period.first)
        months = month_range(start, s.period.last)
        monthly = con.execute(
            f"WITH {_BASE}, months AS (SELECT unnest($months) AS month) "
            "SELECT m.month, count(DISTINCT s.offender_key) FROM months m LEFT JOIN spells s "
            "ON s.entry_date <= last_day(CAST(m.month || '-01' AS DATE)) "
            "AND (s.exit_date IS NULL OR s.exit_date >= CAST(m.month || '-01' AS DATE)) GROUP BY m.month ORDER BY 1",
            {"cohorts": cohorts, "months": months},
        ).fetchall()
        series = [(str(m), float(n)) for m, n in monthly]
    return {
        "baseline_members": int(row[0]),
        "entries": int(row[1]),
        "exits": int(row[2]),
        "active_at_end": int(row[3]),
        "series": series,
    }


@dataclass
class _Draft:
    """A finding waiting for its change to be judged with the rest of its family."""

    kwargs: dict[str, Any]
    change: Change | TestedChange | None
    sentence: Any  # Callable[[Change | None], str]
    extra: dict[str, Any] = field(default_factory=dict)


class _Group:
    """The findings of one cohort group (all cohorts together, or one cohort)."""

    def __init__(self, con: duckdb.DuckDBPyConnection, s: _Setup, prefix: str, cohorts: list[str], label: str):
        self.con, self.s, self.prefix, self.cohorts, self.label = con, s, prefix, cohorts, label
        self.drafts: list[_Draft] = []

    # -- shared pieces

    def _small(self, n: int) -> tuple[bool, str]:
        if n < self.s.min_cohort:
            return True, (
                f" Only {_n(n, 'member')} (fewer than {self.s.min_cohort}): rates for a group this small swing "
                "widely by chance and are not for publication."
            )
        return False, ""

    def _add(
        self,
        key: str,
        title: str,
        value: float | None,
        unit: str,
        definition: str,
        sentence: Any,
        *,
        change: Change | TestedChange | None = None,
        baseline: float | None = None,
        comparison: Period | None = None,
        period: Period | None = None,
        good_direction: GoodDirection = "down",
        numerator: float | None = None,
        denominator: float | None = None,
        rate_per: int | None = None,
        small_number: bool = False,
        series: list[tuple[str, float]] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        p = period or self.s.period
        kwargs: dict[str, Any] = {
            "id": f"{self.prefix}.{key}",
            "topic": TOPIC,
            "title": f"{title} ({self.label})",
            "area": self.s.area,
            "area_name": self.s.area_name,
            "period": (p.first, p.last),
            "value": value,
            "unit": unit,
            "definition": definition,
            "comparison_period": (comparison.first, comparison.last) if comparison else None,
            "baseline": baseline,
            "good_direction": good_direction,
            "coverage": Coverage(months=p.months(), note=self.s.data_window_words),
            "numerator": numerator,
            "denominator": denominator,
            "rate": value if rate_per else None,
            "rate_per": rate_per,
            "small_number": small_number,
            "series": series or [],
            "sources": list(self.s.sources),
        }
        self.drafts.append(_Draft(kwargs, change, sentence, {"cohorts": self.cohorts, **(extra or {})}))

    def findings(self) -> list[Finding]:
        """Judge the family's changes together (Benjamini-Hochberg), then write the sentences."""
        judged = adjust_changes([d.change for d in self.drafts])
        out = []
        for draft, change in zip(self.drafts, judged, strict=True):
            out.append(Finding(**draft.kwargs, change=change, sentence=draft.sentence(change), extra=draft.extra))
        return out


def add_cohort_size(g: _Group, same: dict[str, Any]) -> None:
    s, n = g.s, same["members"]
    counts = _cohort_counts(g.con, s, g.cohorts)
    sentence = (
        f"{_n(n, 'person', 'people')} were in the {g.label} at some time in {s.period.label} "
        f"({counts['baseline_members']:,} in {s.baseline.label}): {counts['entries']:,} joined and "
        f"{counts['exits']:,} left during the period, and {counts['active_at_end']:,} were in it at the end."
    )
    g._add(
        "cohort_size",
        "Cohort size",
        float(n),
        "count",
        "Members (distinct offenders) with a spell on the programme (entry_date <= period end and no exit_date "
        "or exit_date >= period start) at any time in the period; entries and exits are spells starting or "
        "ending in the period; the series is the members on the programme in each month.",
        lambda _c, text=sentence: text,
        baseline=float(counts["baseline_members"]),
        comparison=s.baseline,
        good_direction="none",
        series=counts["series"],
        extra={k: v for k, v in counts.items() if k != "series"},
    )

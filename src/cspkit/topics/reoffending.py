"""Reducing reoffending: offender cohorts (IOM, PPO ...) and the offences of their members.

Finding ids (a contract read by the report and scoring). The unsuffixed ids ``reoffending.*`` always describe
**all members of every cohort together** (the whole managed cohort, as the model document reports IOM). When the
``offenders`` table holds more than one cohort, each cohort also gets the same findings under
``reoffending.<cohort>.*`` (``reoffending.iom.binary_rate``, ``reoffending.ppo.binary_rate``).

==================================================  ==============================================================
``reoffending.offences``                            offences by cohort members by offence date (count, tested)
``reoffending.cohort_size``                         members on the programme at any time in P; entries, exits,
                                                    monthly active members as the series
``reoffending.needs``                               share of members with an accommodation need; all needs in extra
``reoffending.binary_rate``                         same people, same period: members with an offence in P while
                                                    on the programme / members
``reoffending.reoffences_per_offender``             those offences / members
``reoffending.reoffences_per_reoffender``           those offences / members with at least one; baseline: the same
                                                    members' offences in the equal period before P / those with one
``reoffending.followup.binary_rate``                MoJ-style follow-up of members who joined in P
``reoffending.followup.frequency``                  offences per 100 members followed up
``reoffending.followup.reoffences_per_reoffender``  offences / reoffenders in the follow-up
``reoffending.followup.incomplete``                 members who joined in P whose window is not yet in the data
``reoffending.before_after_change``                 offences in the 12 months before vs after joining (paired)
``reoffending.by_need.<need>``                      binary rate with vs without the need (accommodation, drugs,
                                                    alcohol when present)
``quality.reoffending.no_offenders``                no offenders loaded (the only finding then)
``quality.reoffending.no_offences``                 offenders loaded but no offences
``quality.reoffending.outcome_dates``               share of offences without an outcome date
==================================================  ==============================================================

Rules, in the words the definitions print:

* Offences are counted by ``offence_date``. An offence **on the entry date counts as after entry** (on the
  programme); one on the exit date still counts as on the programme; offences after exit do not.
* The loaded offences data cover the whole months from the month of the first offence to the month of the last.
* Follow-up (MoJ proven reoffending, adapted): offences with ``entry <= offence_date < entry + F months``; when the
  offences file has outcome dates, an offence counts only with an ``outcome_date`` before ``entry + F + W months``
  (an offence without an outcome date has no outcome yet and is not counted, but is reported); when no offence
  has an outcome date, offences count by offence date alone. A member is followed up only when the window (with
  the waiting period when outcome dates are used) ends inside the loaded data; the others are counted as
  incomplete.
* Before/after: the members who joined in the latest period of P's length, ending no later than P, whose 12 months
  after joining are inside the loaded data (P itself when it is old enough; otherwise the equal period(s) before
  it). Members whose 12 months before joining start before the loaded data are excluded and counted.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import duckdb
from scipy import stats as scipy_stats

from cspkit.findings.engine import TopicInput
from cspkit.findings.indicators import CountSeries, build_count_findings, slug
from cspkit.findings.model import Change, Coverage, Finding, GoodDirection
from cspkit.findings.periods import Period, month_add, month_label, month_range
from cspkit.findings.stats import (
    adjust_changes,
    change_between,
    compare_counts,
    compare_proportions,
    paired_counts_test,
)
from cspkit.findings.wording import describe_change, format_number

__all__ = ["BY_NEED", "build"]

TOPIC = "reoffending"

#: Needs broken down in ``reoffending.by_need.<need>`` when members with and without them are present.
BY_NEED = ("accommodation", "drugs", "alcohol")

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
    p_value = float(scipy_stats.binomtest(only_after, discordant, 0.5).pvalue) if discordant else 1.0
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
    SELECT offender_key, entry_date, exit_date, needs FROM offenders
    WHERE offender_key IS NOT NULL AND entry_date IS NOT NULL AND list_contains($cohorts, cohort)
),
offs AS (
    SELECT row_number() OVER () AS oid, offender_key, offence_date, outcome_date FROM offences
    WHERE offender_key IS NOT NULL AND offence_date IS NOT NULL
)"""

# Members on the programme at any time in [p_start, p_end]; their offences in the period while on the programme
# (entry_date <= offence_date <= exit_date) and all their offences in [b_start, b_end].
_SAME_PERIOD = f"""
WITH {_BASE},
members AS (
    SELECT offender_key,
        list_distinct(flatten(list(needs) FILTER (WHERE needs IS NOT NULL))) AS needs,
        count(needs) > 0 AS needs_recorded
    FROM spells WHERE entry_date <= $p_end AND (exit_date IS NULL OR exit_date >= $p_start)
    GROUP BY offender_key
),
on_programme AS (
    SELECT DISTINCT o.oid, o.offender_key FROM offs o JOIN spells s
        ON s.offender_key = o.offender_key AND o.offence_date >= s.entry_date
        AND (s.exit_date IS NULL OR o.offence_date <= s.exit_date)
    WHERE o.offence_date BETWEEN $p_start AND $p_end
),
cur AS (SELECT offender_key, count(*) AS n FROM on_programme GROUP BY offender_key),
base AS (
    SELECT offender_key, count(*) AS n FROM offs WHERE offence_date BETWEEN $b_start AND $b_end GROUP BY offender_key
),
per_member AS (
    SELECT m.offender_key, m.needs, m.needs_recorded, coalesce(cur.n, 0) AS current, coalesce(base.n, 0) AS baseline
    FROM members m LEFT JOIN cur USING (offender_key) LEFT JOIN base USING (offender_key)
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


def _same_period(con: duckdb.DuckDBPyConnection, s: _Setup, cohorts: list[str]) -> dict[str, Any]:
    """Aggregates of the same-period, same-people measure (one row of SQL aggregates)."""
    params = {
        "cohorts": cohorts,
        "p_start": s.p_start,
        "p_end": s.p_end,
        "b_start": _first_day(s.baseline.first),
        "b_end": _last_day(s.baseline.last),
    }
    row = con.execute(
        _SAME_PERIOD
        + """
        SELECT count(*), count(*) FILTER (WHERE current > 0), coalesce(sum(current), 0),
            count(*) FILTER (WHERE baseline > 0), coalesce(sum(baseline), 0),
            count(*) FILTER (WHERE current > 0 AND baseline = 0), count(*) FILTER (WHERE current = 0 AND baseline > 0),
            list(baseline ORDER BY offender_key), list(current ORDER BY offender_key),
            count(*) FILTER (WHERE needs_recorded)
        FROM per_member""",
        params,
    ).fetchall()[0]
    by_need = con.execute(
        _SAME_PERIOD
        + """
        SELECT n.need, list_contains(m.needs, n.need) AS has_need, count(*), count(*) FILTER (WHERE m.current > 0),
            coalesce(sum(m.current), 0)
        FROM per_member m CROSS JOIN (SELECT unnest($needs_wanted) AS need) n
        WHERE m.needs_recorded GROUP BY ALL ORDER BY ALL""",
        {**params, "needs_wanted": list(BY_NEED)},
    ).fetchall()
    profile = con.execute(
        _SAME_PERIOD
        + """
        SELECT need, count(DISTINCT offender_key) FROM (
            SELECT offender_key, unnest(needs) AS need FROM per_member WHERE needs_recorded
        ) GROUP BY need ORDER BY 2 DESC, 1""",
        params,
    ).fetchall()
    return {
        "members": int(row[0]),
        "reoffenders": int(row[1]),
        "offences": int(row[2]),
        "baseline_offenders": int(row[3]),
        "baseline_offences": int(row[4]),
        "only_current": int(row[5]),
        "only_baseline": int(row[6]),
        "baseline_counts": [int(v) for v in row[7] or []],
        "current_counts": [int(v) for v in row[8] or []],
        "needs_recorded": int(row[9]),
        "by_need": {(need, bool(has)): (int(n), int(r), int(o)) for need, has, n, r, o in by_need},
        "profile": [(str(need), int(n)) for need, n in profile],
    }


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


def _followup(con: duckdb.DuckDBPyConnection, s: _Setup, cohorts: list[str], period: Period) -> dict[str, Any]:
    """MoJ-style follow-up of the members whose first entry in ``period`` falls in it."""
    assert s.data_last is not None
    row = con.execute(
        _ENTRANTS
        + """,
        per_member AS (
            SELECT w.offender_key,
                (CASE WHEN $use_outcomes THEN w.proven_by ELSE w.after_end END) <= $data_end_next AS complete,
                count(o.oid) FILTER (WHERE o.offence_date >= w.entry AND o.offence_date < w.after_end
                    AND (NOT $use_outcomes OR o.outcome_date < w.proven_by)) AS proven,
                count(o.oid) FILTER (WHERE o.offence_date >= w.entry AND o.offence_date < w.after_end
                    AND $use_outcomes AND o.outcome_date IS NULL) AS without_outcome
            FROM windows w LEFT JOIN offs o USING (offender_key) GROUP BY ALL
        )
        SELECT count(*), count(*) FILTER (WHERE complete), count(*) FILTER (WHERE complete AND proven > 0),
            coalesce(sum(proven) FILTER (WHERE complete), 0), coalesce(sum(without_outcome) FILTER (WHERE complete), 0)
        FROM per_member""",
        {
            "cohorts": cohorts,
            "e_start": _first_day(period.first),
            "e_end": _last_day(period.last),
            "months": s.followup_months,
            "waiting": s.waiting_months,
            "use_outcomes": s.use_outcome_dates,
            "data_end_next": s.data_last + timedelta(days=1),
        },
    ).fetchall()[0]
    entrants, complete, reoffenders, offences, without_outcome = (int(v) for v in row)
    return {
        "entrants": entrants,
        "members": complete,
        "incomplete": entrants - complete,
        "reoffenders": reoffenders,
        "offences": offences,
        "offences_without_outcome_date": without_outcome,
    }


def _entry_period(s: _Setup) -> Period:
    """The latest period of P's length, ending no later than P, whose entrants can be followed for F months."""
    assert s.data_last is not None
    limit = month_add(_month_of(s.data_last), -s.followup_months)
    period, n = s.period, 0
    while period.last > limit and n < 100:
        n += 1
        period = s.period.previous(n)
    return period


def _before_after(con: duckdb.DuckDBPyConnection, s: _Setup, cohorts: list[str], period: Period) -> dict[str, Any]:
    """Offences in the F months before and after joining, for members who joined in ``period``."""
    assert s.data_first is not None and s.data_last is not None
    row = con.execute(
        _ENTRANTS
        + """,
        per_member AS (
            SELECT w.offender_key, w.before_start >= $data_start AS before_complete,
                w.after_end <= $data_end_next AS after_complete,
                count(o.oid) FILTER (WHERE o.offence_date >= w.before_start AND o.offence_date < w.entry) AS before,
                count(o.oid) FILTER (WHERE o.offence_date >= w.entry AND o.offence_date < w.after_end) AS after
            FROM windows w LEFT JOIN offs o USING (offender_key) GROUP BY ALL
        ),
        complete AS (SELECT * FROM per_member WHERE before_complete AND after_complete)
        SELECT (SELECT count(*) FROM per_member),
            (SELECT count(*) FROM per_member WHERE NOT before_complete),
            (SELECT count(*) FROM per_member WHERE before_complete AND NOT after_complete),
            list(before ORDER BY offender_key), list(after ORDER BY offender_key)
        FROM complete""",
        {
            "cohorts": cohorts,
            "e_start": _first_day(period.first),
            "e_end": _last_day(period.last),
            "months": s.followup_months,
            "waiting": 0,
            "data_start": s.data_first,
            "data_end_next": s.data_last + timedelta(days=1),
        },
    ).fetchall()[0]
    return {
        "entrants": int(row[0]),
        "excluded_before_window_incomplete": int(row[1]),
        "excluded_after_window_incomplete": int(row[2]),
        "before": [int(v) for v in row[3] or []],
        "after": [int(v) for v in row[4] or []],
    }


# --- findings -------------------------------------------------------------------------------------------------


@dataclass
class _Draft:
    """A finding waiting for its change to be judged with the rest of its family."""

    kwargs: dict[str, Any]
    change: Change | None
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
        change: Change | None = None,
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

    # -- the measures

    def build(self) -> None:
        same = _same_period(self.con, self.s, self.cohorts)
        self._cohort(same)
        self._needs(same)
        if self.s.data_last is None:
            return
        self._same_period(same)
        self._by_need(same)
        self._followup()
        self._before_after()

    def _cohort(self, same: dict[str, Any]) -> None:
        s, n = self.s, same["members"]
        counts = _cohort_counts(self.con, s, self.cohorts)
        sentence = (
            f"{_n(n, 'person', 'people')} were in the {self.label} at some time in {s.period.label} "
            f"({counts['baseline_members']:,} in {s.baseline.label}): {counts['entries']:,} joined and "
            f"{counts['exits']:,} left during the period, and {counts['active_at_end']:,} were in it at the end."
        )
        self._add(
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

    def _needs(self, same: dict[str, Any]) -> None:
        s, recorded = self.s, same["needs_recorded"]
        profile = [{"need": need, "members": k, "share": _ratio(k, recorded)} for need, k in same["profile"]]
        shares = {p["need"]: p for p in profile}
        accommodation = shares.get("accommodation", {"members": 0, "share": _ratio(0, recorded)})
        small, caution = self._small(recorded)
        counts = dict(same["profile"])
        if recorded:
            listed = ", ".join(
                f"{need} {_pct(_ratio(counts.get(need, 0), recorded))} ({counts.get(need, 0)})" for need in BY_NEED
            )
            sentence = f"Of the {recorded:,} members in {s.period.label} with needs recorded: {listed}." + caution
        else:
            sentence = f"No needs are recorded for the members in {s.period.label}."
        self._add(
            "needs",
            "Needs of cohort members",
            accommodation["share"],
            "proportion",
            "Share of members on the programme in the period (with needs recorded on any of their spells) who have "
            "an accommodation need; every need's share is in extra.",
            lambda _c, text=sentence: text,
            good_direction="none",
            numerator=float(accommodation["members"]),
            denominator=float(recorded),
            small_number=small,
            extra={
                "profile": profile,
                "members": same["members"],
                "members_without_needs_recorded": same["members"] - recorded,
            },
        )

    def _same_period(self, same: dict[str, Any]) -> None:
        s = self.s
        n, r, o = same["members"], same["reoffenders"], same["offences"]
        rb, ob = same["baseline_offenders"], same["baseline_offences"]
        binary, binary_base = _ratio(r, n), _ratio(rb, n)
        per_offender, per_offender_base = _ratio(o, n), _ratio(ob, n)
        per_reoffender, per_reoffender_base = _ratio(o, r), _ratio(ob, rb)
        small, caution = self._small(n)
        counts = {
            "members": n,
            "reoffenders": r,
            "offences": o,
            "baseline_offenders": rb,
            "baseline_offences": ob,
            "binary_rate": binary,
            "baseline_binary_rate": binary_base,
            "reoffences_per_offender": per_offender,
            "baseline_reoffences_per_offender": per_offender_base,
            "reoffences_per_reoffender": per_reoffender,
            "baseline_reoffences_per_reoffender": per_reoffender_base,
        }
        where = f"{_n(n, 'person', 'people')} in the {self.label} at some time in {s.period.label}"
        definition = (
            f"Same people, same period: the members on the programme at any time in {s.period.label}; offences "
            "they committed in the period while on the programme (entry_date <= offence_date <= exit_date; an "
            "offence on the entry date counts) against all offences of the same members in the equal period before "
            f"({s.baseline.label}). "
        )
        if n == 0:
            return
        mcnemar = _mcnemar(same["only_baseline"], same["only_current"], binary or 0.0, binary_base or 0.0)
        self._add(
            "binary_rate",
            "Members who reoffended while on the programme",
            binary,
            "proportion",
            definition + "Binary rate = members with at least one such offence / members.",
            lambda c: (
                f"Of the {where}, {_pct(binary)} offended while on the programme ({r:,} of {n:,}) against "
                f"{_pct(binary_base)} of the same people in {s.baseline.label} ({rb:,}, any offence): "
                + _verdict(c, "fall", "rise")
                + ". "
                + _REGRESSION_CAUTION
                + caution
            ),
            change=mcnemar,
            baseline=binary_base,
            comparison=s.baseline,
            numerator=float(r),
            denominator=float(n),
            small_number=small,
            extra=counts,
        )
        paired, note = _paired_change(same["baseline_counts"], same["current_counts"])
        if paired is not None:
            paired = replace(
                paired,
                absolute=(per_offender or 0.0) - (per_offender_base or 0.0),
                percent=(o / ob - 1) * 100 if ob else None,
            )
        self._add(
            "reoffences_per_offender",
            "Offences per cohort member",
            per_offender,
            "offences per member",
            definition + "Offences / members; tested with the Wilcoxon signed-rank test of each member's counts.",
            lambda c: (
                f"The {where} committed {_num(per_offender)} offences each on average while on the programme "
                f"({_n(o, 'offence')}) against {_num(per_offender_base)} ({ob:,}) in {s.baseline.label}: "
                + _verdict(c, "fall", "rise")
                + f". {note}"
                + caution
            ),
            change=paired,
            baseline=per_offender_base,
            comparison=s.baseline,
            numerator=float(o),
            denominator=float(n),
            small_number=small,
            extra=counts,
        )
        self._add(
            "reoffences_per_reoffender",
            "Reoffences per reoffender",
            per_reoffender,
            "offences per reoffender",
            definition + "Reoffences per reoffender = those offences / members with at least one; baseline = the "
            "same members' offences in the period before / those of them with at least one. Always read with the "
            "binary rate and the counts: it can fall while the number of reoffenders rises. " + _REGRESSION_CAUTION,
            lambda _c: (
                f"Members of the {self.label} who reoffended committed {_num(per_reoffender)} offences each while "
                f"on the programme in {s.period.label} ({_n(o, 'offence')} by {r:,} of the {n:,} members, a binary "
                f"rate of {_pct(binary)}), against {_num(per_reoffender_base)} in {s.baseline.label} "
                f"({_n(ob, 'offence')} by "
                f"{rb:,} of the same {n:,}, {_pct(binary_base)}). This figure is not tested for significance. "
                + _REGRESSION_CAUTION
                + caution
            ),
            change=_untested(
                per_reoffender,
                per_reoffender_base,
                "not tested: a ratio of two counts whose denominators change; see the binary rate and offences per "
                "member",
            ),
            baseline=per_reoffender_base,
            comparison=s.baseline,
            numerator=float(o),
            denominator=float(r),
            small_number=small,
            extra=counts,
        )

    def _by_need(self, same: dict[str, Any]) -> None:
        s = self.s
        for need in BY_NEED:
            n1, r1, o1 = same["by_need"].get((need, True), (0, 0, 0))
            n0, r0, o0 = same["by_need"].get((need, False), (0, 0, 0))
            if n1 == 0 or n0 == 0:
                continue
            rate1, rate0 = r1 / n1, r0 / n0
            change = compare_proportions(r0, n0, r1, n1)
            small, caution = self._small(min(n0, n1))
            extra = {
                "with_need": {
                    "members": n1,
                    "reoffenders": r1,
                    "offences": o1,
                    "binary_rate": rate1,
                    "reoffences_per_reoffender": _ratio(o1, r1),
                },
                "without_need": {
                    "members": n0,
                    "reoffenders": r0,
                    "offences": o0,
                    "binary_rate": rate0,
                    "reoffences_per_reoffender": _ratio(o0, r0),
                },
                "compared": "members with the need against members without it (same period), not two periods",
            }

            def sentence(c: Change | None, need: str = need, e: dict[str, Any] = extra, caution: str = caution) -> str:
                w, wo = e["with_need"], e["without_need"]
                verdict = _verdict(c, "lower rate with the need", "higher rate with the need")
                return (
                    f"In {s.period.label}, {_pct(w['binary_rate'])} of {self.label} members with "
                    f"{_article(need)} {need} need "
                    f"offended while on the programme ({w['reoffenders']:,} of {w['members']:,}; "
                    f"{_num(w['reoffences_per_reoffender'])} offences per reoffender) against "
                    f"{_pct(wo['binary_rate'])} of those without ({wo['reoffenders']:,} of {wo['members']:,}; "
                    f"{_num(wo['reoffences_per_reoffender'])}); {verdict}." + caution
                )

            self._add(
                f"by_need.{need}",
                f"Reoffending by {need} need",
                rate1,
                "proportion",
                f"Binary rate (same period, on the programme) of members with a {need} need against members without "
                "it, among members with needs recorded; the change is the difference with minus without, tested "
                "with compare_proportions (z-test or Fisher's exact test).",
                sentence,
                change=change,
                numerator=float(r1),
                denominator=float(n1),
                small_number=small,
                extra=extra,
            )

    def _followup(self) -> None:
        s = self.s
        cur = _followup(self.con, s, self.cohorts, s.period)
        base = _followup(self.con, s, self.cohorts, s.baseline)
        f, w = s.followup_months, s.waiting_months
        proven = (
            f"an outcome_date before entry + {f + w} months ({f}-month follow-up plus {w}-month waiting period); "
            "offences without an outcome date have no outcome yet and are not counted"
            if s.use_outcome_dates
            else "no outcome dates are loaded, so offences count by offence date alone (not proven reoffences)"
        )
        definition = (
            f"MoJ-style follow-up of members who joined in the period (their first entry in it): offences with "
            f"entry_date <= offence_date < entry_date + {f} months (an offence on the entry date counts) and {proven}. "
            f"Members whose window is not fully inside the loaded data ({s.data_window_words}) are excluded and "
            "counted in reoffending.followup.incomplete. Offences count whether or not the member is still on the "
            "programme. Baseline: members who joined in the equal period before."
        )
        n, r, o = cur["members"], cur["reoffenders"], cur["offences"]
        nb, rb, ob = base["members"], base["reoffenders"], base["offences"]
        small, caution = self._small(n)
        extra = {
            "current": cur,
            "baseline": base,
            "followup_months": f,
            "waiting_months": w,
            "outcome_dates_used": s.use_outcome_dates,
        }
        who = f"the {n:,} members who joined the {self.label} in {s.period.label} and could be followed up"
        none_yet = (
            f"None of the {cur['entrants']:,} members who joined the {self.label} in {s.period.label} can yet be "
            f"followed for {f} months"
            + (f" plus the {w}-month waiting period" if s.use_outcome_dates else "")
            + f" inside the loaded data ({s.data_window_words})."
        )
        binary, binary_base = _ratio(r, n), _ratio(rb, nb)
        self._add(
            "followup.binary_rate",
            "Proven reoffending rate (follow-up)",
            binary,
            "proportion",
            definition + " Binary rate = members with at least one such offence / members followed up.",
            lambda c: (
                none_yet
                if n == 0
                else (
                    describe_change(
                        f"the share of {who} who reoffended",
                        binary or 0.0,
                        binary_base or 0.0,
                        c,
                        s.period.label,
                        s.baseline.label,
                        unit="proportion",
                    )
                    if nb
                    else f"{_pct(binary)} of {who} reoffended within {f} months."
                )
                + f" ({r:,} of {n:,}.)"
                + caution
            ),
            change=compare_proportions(rb, nb, r, n) if n and nb else None,
            baseline=binary_base,
            comparison=s.baseline,
            numerator=float(r),
            denominator=float(n),
            small_number=small,
            extra=extra,
        )
        frequency, frequency_base = _ratio(o * 100, n), _ratio(ob * 100, nb)
        self._add(
            "followup.frequency",
            "Reoffences per 100 offenders (follow-up)",
            frequency,
            "offences per 100 offenders",
            definition + " Frequency = offences / members followed up x 100; tested with the exact Poisson test "
            "with members as exposure.",
            lambda c: (
                none_yet
                if n == 0
                else (
                    f"{who[0].upper()}{who[1:]} committed {_num(frequency)} offences per 100 members within {f} months "
                    f"({_n(o, 'offence')})"
                    + (
                        f", against {_num(frequency_base)} ({ob:,} by {nb:,}) for those who joined in "
                        f"{s.baseline.label}: " + _verdict(c, "fall", "rise") + "."
                        if nb
                        else "."
                    )
                    + caution
                )
            ),
            change=compare_counts(o, ob, n, nb) if n and nb else None,
            baseline=frequency_base,
            comparison=s.baseline,
            numerator=float(o),
            denominator=float(n),
            rate_per=100,
            small_number=small,
            extra=extra,
        )
        per_reoffender, per_reoffender_base = _ratio(o, r), _ratio(ob, rb)
        self._add(
            "followup.reoffences_per_reoffender",
            "Reoffences per reoffender (follow-up)",
            per_reoffender,
            "offences per reoffender",
            definition + " Reoffences per reoffender = offences / members with at least one.",
            lambda _c: (
                none_yet
                if n == 0
                else (
                    f"The {r:,} of {who} who reoffended committed {_num(per_reoffender)} offences each within "
                    f"{f} months "
                    f"({_n(o, 'offence')}; binary rate {_pct(binary)})"
                    + (
                        f", against {_num(per_reoffender_base)} for those who joined in {s.baseline.label}"
                        if rb
                        else ""
                    )
                    + ". Not tested for significance."
                    + caution
                )
            ),
            change=_untested(per_reoffender, per_reoffender_base, "not tested: a ratio of two counts"),
            baseline=per_reoffender_base,
            comparison=s.baseline,
            numerator=float(o),
            denominator=float(r),
            small_number=small,
            extra=extra,
        )
        entrants, incomplete = cur["entrants"], cur["incomplete"]
        self._add(
            "followup.incomplete",
            "Members not yet followed up",
            float(incomplete),
            "count",
            definition,
            lambda _c: (
                f"{incomplete:,} of the {entrants:,} members who joined the {self.label} in {s.period.label} are "
                f"left out of the follow-up because their {f}-month window"
                + (f" and {w}-month waiting period" if s.use_outcome_dates else "")
                + f" is not yet inside the loaded data ({s.data_window_words})."
            ),
            good_direction="none",
            numerator=float(incomplete),
            denominator=float(entrants),
            extra=extra,
        )

    def _before_after(self) -> None:
        s = self.s
        period = _entry_period(s)
        data = _before_after(self.con, s, self.cohorts, period)
        before, after = data["before"], data["after"]
        n = len(before)
        f = s.followup_months
        change, note = _paired_change(before, after)
        total_before, total_after = sum(before), sum(after)
        offenders_before, offenders_after = sum(1 for v in before if v), sum(1 for v in after if v)
        small, caution = self._small(n)
        extra = {
            "entrants": data["entrants"],
            "excluded_before_window_incomplete": data["excluded_before_window_incomplete"],
            "excluded_after_window_incomplete": data["excluded_after_window_incomplete"],
            "entry_period": [period.first, period.last],
            "entry_period_label": period.label,
            "members": n,
            "offences_before": total_before,
            "offences_after": total_after,
            "mean_before": _ratio(total_before, n),
            "mean_after": _ratio(total_after, n),
            "offenders_before": offenders_before,
            "offenders_after": offenders_after,
            "reoffences_per_reoffender_before": _ratio(total_before, offenders_before),
            "reoffences_per_reoffender_after": _ratio(total_after, offenders_after),
            "members_without_offences_after": sum(1 for v in after if not v),
            "test_note": note,
        }
        shifted = (
            ""
            if period == s.period
            else f" (members who joined in {s.period.label} cannot yet be followed for {f} months, so the latest "
            f"earlier entrants are used)"
        )
        excluded = data["excluded_before_window_incomplete"] + data["excluded_after_window_incomplete"]

        def sentence(c: Change | None) -> str:
            if n == 0:
                return (
                    f"No member who joined the {self.label} in {period.label}{shifted} has both {f}-month windows "
                    f"inside the loaded data ({s.data_window_words})."
                )
            verdict = _verdict(c, "fall", "rise")
            return (
                f"The {_n(n, 'member')} who joined the {self.label} in {period.label}{shifted} committed "
                f"{_n(total_after, 'offence')} in the {f} months after joining against {total_before:,} in the {f} "
                f"months before ({_num(extra['mean_after'])} against {_num(extra['mean_before'])} per member; "
                f"{offenders_after:,} against {offenders_before:,} offended): {verdict}."
                + (f" {_n(excluded, 'member')} left out: a window is not inside the loaded data." if excluded else "")
                + " "
                + _REGRESSION_CAUTION
                + caution
            )

        self._add(
            "before_after_change",
            "Offences before and after joining",
            float(total_after),
            "count",
            f"For each member who joined in the entry period (first entry in it): offences with offence_date in "
            f"[entry - {f} months, entry) against [entry, entry + {f} months), whether or not still on the programme; "
            "an offence on the entry date counts as after. The entry period is the latest period of the assessment "
            f"period's length, ending no later than it, whose entrants' {f} months after joining are inside the "
            f"loaded data ({s.data_window_words}); members whose window before joining starts before the loaded data "
            "are excluded and counted. Paired test: Wilcoxon signed-rank on each member's counts. "
            + _REGRESSION_CAUTION,
            sentence,
            change=change,
            baseline=float(total_before),
            period=period,
            numerator=float(total_after),
            denominator=float(n),
            small_number=small,
            extra=extra,
        )

    def findings(self) -> list[Finding]:
        """Judge the family's changes together (Benjamini-Hochberg), then write the sentences."""
        judged = adjust_changes([d.change for d in self.drafts])
        out = []
        for draft, change in zip(self.drafts, judged, strict=True):
            out.append(Finding(**draft.kwargs, change=change, sentence=draft.sentence(change), extra=draft.extra))
        return out


def _offences_finding(inp: TopicInput, s: _Setup) -> list[Finding]:
    rows = inp.con.execute("SELECT _month, count(*) FROM offences GROUP BY ALL ORDER BY 1").fetchall()
    monthly = {str(m): float(n) for m, n in rows if m is not None}
    if not monthly:
        return []
    first = min(*monthly, inp.ctx.comparison.baseline_span[0])
    last = max(*monthly, s.period.last)
    monthly = {m: monthly.get(m, 0.0) for m in month_range(first, last)}
    series = CountSeries(
        id=f"{TOPIC}.offences",
        topic=TOPIC,
        title="Offences by cohort members",
        subject="offences by offender cohort members",
        monthly=monthly,
        definition="Offences in the offences file by offence_date (members of every cohort, on the programme or "
        "not); not a measure of the programme's effect, since the cohort changes.",
        sources=s.sources,
        control_chart=True,
    )
    return build_count_findings([series], inp.ctx)


def _quality(s: _Setup, key: str, title: str, value: float | None, sentence: str, **more: Any) -> Finding:
    return Finding(
        id=f"quality.reoffending.{key}",
        topic="quality",
        title=title,
        area=s.area,
        area_name=s.area_name,
        period=(s.period.first, s.period.last),
        value=value,
        unit=more.pop("unit", "count"),
        definition=more.pop("definition", sentence),
        sentence=sentence,
        sources=list(s.sources),
        **more,
    )


def _quality_findings(inp: TopicInput, s: _Setup) -> list[Finding]:
    out: list[Finding] = []
    if s.data_last is None:
        out.append(
            _quality(
                s,
                "no_offences",
                "No offences loaded",
                0.0,
                "Offender cohorts are loaded but no offences: reoffending rates cannot be measured, only the cohort "
                "and its needs.",
            )
        )
        return out
    rows = inp.con.execute(
        "SELECT _agency, count(*), count(*) FILTER (WHERE outcome_date IS NULL) FROM offences GROUP BY ALL ORDER BY 1"
    ).fetchall()
    total, missing = sum(int(r[1]) for r in rows), sum(int(r[2]) for r in rows)
    share = missing / total if total else None
    out.append(
        _quality(
            s,
            "outcome_dates",
            "Offences without an outcome date",
            share,
            f"{missing:,} of {total:,} offences loaded ({_pct(share)}) have no outcome date"
            + (
                "; in the follow-up they count as having no outcome yet."
                if s.use_outcome_dates
                else "; as none has one, follow-up offences count by offence date alone."
            ),
            unit="proportion",
            definition="Share of loaded offences with no outcome_date, by agency in extra.",
            numerator=float(missing),
            denominator=float(total),
            extra={
                "by_agency": [{"agency": a, "offences": int(n), "without_outcome_date": int(m)} for a, n, m in rows]
            },
        )
    )
    return out


def build(inp: TopicInput) -> list[Finding]:
    """Every reoffending finding for the run's period (see the module docstring for the ids and rules)."""
    con = inp.con
    cohorts = [
        str(r[0])
        for r in con.execute(
            "SELECT DISTINCT cohort FROM offenders WHERE cohort IS NOT NULL AND offender_key IS NOT NULL "
            "AND entry_date IS NOT NULL ORDER BY 1"
        ).fetchall()
    ]
    s = _setup(inp)
    if not cohorts:
        return [
            _quality(
                s,
                "no_offenders",
                "No offender cohort loaded",
                None,
                "No offenders (IOM or other cohort membership) are loaded, so the reducing reoffending chapter has no "
                "findings; load an offenders file and its offences (`cspkit ingest`).",
            )
        ]
    groups = [(TOPIC, cohorts, "managed offender cohort" if len(cohorts) > 1 else f"{cohorts[0]} cohort")]
    if len(cohorts) > 1:
        for cohort in cohorts:
            key = slug(cohort) or "cohort"
            key = f"cohort_{key}" if key in _RESERVED else key
            groups.append((f"{TOPIC}.{key}", [cohort], f"{cohort} cohort"))
    findings = _offences_finding(inp, s) if s.data_last is not None else []
    for prefix, selected, label in groups:
        group = _Group(con, s, prefix, selected, label)
        group.build()
        findings += group.findings()
    findings += _quality_findings(inp, s)
    return findings

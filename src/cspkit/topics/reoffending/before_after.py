"""Offences in the 12 months before against after joining, for the same people (paired)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import duckdb

from cspkit.findings.model import Change
from cspkit.findings.periods import Period, month_add
from cspkit.topics.reoffending.cohort import (
    _ENTRANTS,
    _REGRESSION_CAUTION,
    _first_day,
    _Group,
    _last_day,
    _month_of,
    _n,
    _num,
    _paired_change,
    _ratio,
    _Setup,
    _verdict,
)


def _entry_period(s: _Setup) -> Period:
    """The latest period of P's length, ending no later than P, whose entrants can be followed for F months."""
    assert s.data_last is not None
    limit = month_add(_month_of(s.data_last), -s.followup_months)
    period, n = s.period, 0
    while period.last > limit and n < 100:
        n += 1
        period = s.period.previous(n)
    return period


def before_after_data(con: duckdb.DuckDBPyConnection, s: _Setup, cohorts: list[str], period: Period) -> dict[str, Any]:
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


def add_before_after(g: _Group) -> None:
    s = g.s
    period = _entry_period(s)
    data = before_after_data(g.con, s, g.cohorts, period)
    before, after = data["before"], data["after"]
    n = len(before)
    f = s.followup_months
    change, note = _paired_change(before, after)
    total_before, total_after = sum(before), sum(after)
    offenders_before, offenders_after = sum(1 for v in before if v), sum(1 for v in after if v)
    small, caution = g._small(n)
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
                f"No member who joined the {g.label} in {period.label}{shifted} has both {f}-month windows "
                f"inside the loaded data ({s.data_window_words})."
            )
        verdict = _verdict(c, "fall", "rise")
        return (
            f"The {_n(n, 'member')} who joined the {g.label} in {period.label}{shifted} committed "
            f"{_n(total_after, 'offence')} in the {f} months after joining against {total_before:,} in the {f} "
            f"months before ({_num(extra['mean_after'])} against {_num(extra['mean_before'])} per member; "
            f"{offenders_after:,} against {offenders_before:,} offended): {verdict}."
            + (f" {_n(excluded, 'member')} left out: a window is not inside the loaded data." if excluded else "")
            + caution
        )

    g._add(
        "before_after_change",
        "Offences before and after joining",
        float(total_after),
        "count",
        f"For each member who joined in the entry period (first entry in it): offences with offence_date in "
        f"[entry - {f} months, entry) against [entry, entry + {f} months), whether or not still on the programme; "
        "an offence on the entry date counts as after. The entry period is the latest period of the assessment "
        f"period's length, ending no later than it, whose entrants' {f} months after joining are inside the "
        f"loaded data ({s.data_window_words}); members whose window before joining starts before the loaded data "
        "are excluded and counted. Paired test: Wilcoxon signed-rank on each member's counts. " + _REGRESSION_CAUTION,
        sentence,
        change=change,
        baseline=float(total_before),
        period=period,
        numerator=float(total_after),
        denominator=float(n),
        small_number=small,
        extra=extra,
    )

"""Cohort flow: members who joined, left and were on the programme, quarter by quarter, and time on programme."""

from __future__ import annotations

from typing import Any

from cspkit.findings.periods import Period, make_period, month_add
from cspkit.findings.stats import compare_counts
from cspkit.topics.reoffending.cohort import (
    _BASE,
    _first_day,
    _Group,
    _last_day,
    _n,
    _verdict,
)


def _quarters(period: Period) -> list[Period]:
    """Consecutive three-month blocks from the period's first month (the last may be shorter)."""
    blocks, start = [], period.first
    while start <= period.last:
        end = min(month_add(start, 2), period.last)
        blocks.append(make_period(start, end, period.fy_start_month))
        start = month_add(end, 1)
    return blocks


def flow_rows(g: _Group, period: Period) -> list[dict[str, Any]]:
    """Per quarter of ``period``: spells started and ended, members on the programme at its end, and the median
    length in days of the spells that ended in it."""
    rows = []
    for q in _quarters(period):
        start, end = _first_day(q.first), _last_day(q.last)
        entered, exited, active, median_days = g.con.execute(
            f"WITH {_BASE} SELECT count(*) FILTER (WHERE entry_date BETWEEN $s AND $e), "
            "count(*) FILTER (WHERE exit_date BETWEEN $s AND $e), "
            "count(DISTINCT offender_key) FILTER (WHERE entry_date <= $e AND (exit_date IS NULL OR exit_date >= $e)), "
            "median(date_diff('day', entry_date, exit_date) + 1) FILTER (WHERE exit_date BETWEEN $s AND $e) "
            "FROM spells",
            {"cohorts": g.cohorts, "s": start, "e": end},
        ).fetchall()[0]
        rows.append(
            {
                "quarter": [q.first, q.last],
                "label": q.label,
                "entered": int(entered),
                "exited": int(exited),
                "active_at_end": int(active),
                "median_days_on_programme_of_leavers": None if median_days is None else float(median_days),
            }
        )
    return rows


def add_cohort_flow(g: _Group) -> None:
    """``<prefix>.cohort_flow``: spells started in the period (tested against the period before), with the
    quarterly table of entries, exits and members on the programme in ``extra``."""
    s = g.s
    current, baseline = flow_rows(g, s.period), flow_rows(g, s.baseline)
    entered, entered_before = sum(r["entered"] for r in current), sum(r["entered"] for r in baseline)
    exited, exited_before = sum(r["exited"] for r in current), sum(r["exited"] for r in baseline)
    if not (entered or entered_before or exited or exited_before or any(r["active_at_end"] for r in current)):
        return
    change = compare_counts(entered, entered_before, 1, 1) if entered + entered_before else None
    lengths = g.con.execute(
        f"WITH {_BASE} SELECT median(date_diff('day', entry_date, exit_date) + 1), count(*) FROM spells "
        "WHERE exit_date BETWEEN $s AND $e",
        {"cohorts": g.cohorts, "s": s.p_start, "e": s.p_end},
    ).fetchall()[0]
    median_days = None if lengths[0] is None else float(lengths[0])

    def sentence(c: Any) -> str:
        by_quarter = "; ".join(
            f"{r['label']}: {r['entered']:,} in, {r['exited']:,} out, {r['active_at_end']:,} at the end"
            for r in current
        )
        stay = (
            f" The {_n(int(lengths[1]), 'spell')} that ended in the period lasted a median of "
            f"{median_days / 30.44:.1f} months."
            if median_days is not None
            else ""
        )
        return (
            f"{_n(entered, 'member')} joined the {g.label} in {s.period.label} against {entered_before:,} in "
            f"{s.baseline.label} ({_verdict(c, 'fall', 'rise')}), and {exited:,} left (against {exited_before:,}). "
            f"By quarter: {by_quarter}." + stay
        )

    g._add(
        "cohort_flow",
        "Cohort flow: members joining",
        float(entered),
        "count",
        "Spells on the programme that started (entry_date) and ended (exit_date) in each three-month block of the "
        "period from its first month, members on the programme at each block's end (entry_date <= end and no "
        "exit_date or exit_date >= end), and the median length of the spells that ended (exit - entry + 1 days). "
        "The value is the spells that started in the period, tested against the period before with the exact "
        "Poisson test (mid-p); a change in intake is a change in referrals or capacity, not in offending.",
        sentence,
        change=change,
        baseline=float(entered_before),
        comparison=s.baseline,
        good_direction="none",
        numerator=float(entered),
        series=[(r["quarter"][1], float(r["active_at_end"])) for r in current],
        extra={
            "quarters": current,
            "baseline_quarters": baseline,
            "exited": exited,
            "exited_baseline": exited_before,
            "median_days_on_programme_of_leavers": median_days,
            "leavers": int(lengths[1]),
        },
    )

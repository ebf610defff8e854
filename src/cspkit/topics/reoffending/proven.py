"""MoJ-style proven reoffending: follow-up of the latest whole cohort of entrants whose follow-up is complete.

As the MoJ publishes proven reoffending only for cohorts whose 12-month follow-up and 6-month waiting period have
passed, the measure reads the members who joined in the latest period of the assessment period's length, ending no
later than it, whose every entrant's window ends inside the loaded data; the baseline is the equal period before
that. Inside either cohort a member is followed up only when the whole window is inside the loaded offences (an
entry before the first loaded month is not); the others are excluded and counted.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import duckdb

from cspkit.findings.periods import Period, month_add
from cspkit.findings.stats import (
    compare_counts,
    compare_proportions,
)
from cspkit.findings.wording import describe_change
from cspkit.topics.reoffending.cohort import (
    _ENTRANTS,
    _first_day,
    _Group,
    _last_day,
    _month_of,
    _n,
    _num,
    _offences_each,
    _pct,
    _ratio,
    _Setup,
    _untested,
    _verdict,
)


def window_months(s: _Setup) -> int:
    """Months from entry to the end of the window that must be inside the data: follow-up, plus the waiting
    period when outcome dates are loaded."""
    return s.followup_months + (s.waiting_months if s.use_outcome_dates else 0)


def cohort_period(s: _Setup) -> Period:
    """The latest period of P's length, ending no later than P, whose every entrant's window ends in the data.

    An entrant on the last day of month L has a window ending in month L + window months (month arithmetic clamps
    to the month's end), so the period qualifies when its last month plus the window is no later than the last
    loaded month.
    """
    assert s.data_last is not None
    limit = month_add(_month_of(s.data_last), -window_months(s))
    period, n = s.period, 0
    while period.last > limit and n < 100:
        n += 1
        period = s.period.previous(n)
    return period


def followup_data(con: duckdb.DuckDBPyConnection, s: _Setup, cohorts: list[str], period: Period) -> dict[str, Any]:
    """MoJ-style follow-up of the members whose first entry in ``period`` falls in it.

    A member is followed up (``complete``) only when the window from entry to entry + F (+ W) months lies inside
    the loaded offences: it ends by the last loaded day and the entry is not before the first loaded day.
    """
    assert s.data_first is not None and s.data_last is not None
    row = con.execute(
        _ENTRANTS
        + """,
        per_member AS (
            SELECT w.offender_key,
                w.entry >= $data_start
                    AND (CASE WHEN $use_outcomes THEN w.proven_by ELSE w.after_end END) <= $data_end_next AS complete,
                w.entry < $data_start AS starts_before_data,
                count(o.oid) FILTER (WHERE o.offence_date >= w.entry AND o.offence_date < w.after_end
                    AND (NOT $use_outcomes OR (o.outcome_date < w.proven_by
                        AND NOT list_contains($not_proven, o.outcome)))) AS proven,
                count(o.oid) FILTER (WHERE o.offence_date >= w.entry AND o.offence_date < w.after_end
                    AND $use_outcomes AND o.outcome_date < w.proven_by
                    AND list_contains($not_proven, o.outcome)) AS not_proven,
                count(o.oid) FILTER (WHERE o.offence_date >= w.entry AND o.offence_date < w.after_end
                    AND $use_outcomes AND o.outcome_date IS NULL) AS without_outcome
            FROM windows w LEFT JOIN offs o USING (offender_key) GROUP BY ALL
        )
        SELECT count(*), count(*) FILTER (WHERE complete), count(*) FILTER (WHERE complete AND proven > 0),
            coalesce(sum(proven) FILTER (WHERE complete), 0), coalesce(sum(without_outcome) FILTER (WHERE complete), 0),
            count(*) FILTER (WHERE starts_before_data), coalesce(sum(not_proven) FILTER (WHERE complete), 0)
        FROM per_member""",
        {
            "cohorts": cohorts,
            "e_start": _first_day(period.first),
            "e_end": _last_day(period.last),
            "months": s.followup_months,
            "waiting": s.waiting_months,
            "use_outcomes": s.use_outcome_dates,
            "not_proven": [v.strip().lower() for v in s.not_proven_outcomes],
            "data_start": s.data_first,
            "data_end_next": s.data_last + timedelta(days=1),
        },
    ).fetchall()[0]
    entrants, complete, reoffenders, offences, without_outcome, before_data, not_proven = (int(v) for v in row)
    return {
        "period": [period.first, period.last],
        "period_label": period.label,
        "entrants": entrants,
        "excluded_entry_before_data": before_data,
        "members": complete,
        "incomplete": entrants - complete,
        "reoffenders": reoffenders,
        "offences": offences,
        "offences_without_outcome_date": without_outcome,
        "offences_not_proven": not_proven,
    }


def add_followup(g: _Group) -> None:
    s = g.s
    period = cohort_period(s)
    before = period.previous()
    cur = followup_data(g.con, s, g.cohorts, period)
    base = followup_data(g.con, s, g.cohorts, before)
    pending = cur if period == s.period else followup_data(g.con, s, g.cohorts, s.period)
    f, w = s.followup_months, s.waiting_months
    proven = (
        f"an outcome_date before entry + {f + w} months ({f}-month follow-up plus {w}-month waiting period) and "
        f"an outcome that proves an offence (not one of: {', '.join(s.not_proven_outcomes) or 'none listed'}); "
        "offences without an outcome date have no outcome yet and are not counted"
        if s.use_outcome_dates
        else "no outcome dates are loaded, so offences count by offence date alone (not proven reoffences)"
    )
    window = f"{f}-month window" + (f" and {w}-month waiting period" if s.use_outcome_dates else "")
    definition = (
        f"MoJ-style follow-up of a whole cohort whose follow-up is complete: the members who joined (first entry) "
        f"in the latest period of the assessment period's length, ending no later than it, in which every "
        f"entrant's {window} ends inside the loaded data ({s.data_window_words}). Offences with "
        f"entry_date <= offence_date < entry_date + {f} months (an offence on the entry date counts) and {proven}. "
        "A member whose window is not wholly inside the loaded offences (an entry before the first loaded month) "
        "is excluded and counted. Offences count whether or not the member is still on the programme. Baseline: "
        "members who joined in the equal period before, by the same rules. Members who joined in the assessment "
        "period and cannot yet be followed up are counted in reoffending.followup.incomplete."
    )
    n, r, o = cur["members"], cur["reoffenders"], cur["offences"]
    nb, rb, ob = base["members"], base["reoffenders"], base["offences"]
    small, caution = g._small(n)
    extra = {
        "current": cur,
        "baseline": base,
        "assessment_period_entrants": pending,
        "cohort_period": [period.first, period.last],
        "cohort_period_label": period.label,
        "followup_months": f,
        "waiting_months": w,
        "outcome_dates_used": s.use_outcome_dates,
    }
    shifted = (
        ""
        if period == s.period
        else f" (those who joined in {s.period.label} cannot yet be followed for the full {window}, so the latest "
        "whole cohort whose follow-up is complete is used)"
    )
    who = f"the {n:,} members who joined the {g.label} in {period.label}"
    excluded = cur["incomplete"] + base["incomplete"]
    left_out = (
        f" {_n(excluded, 'member')} left out: "
        + " and ".join(
            f"{d['incomplete']:,} of the {d['entrants']:,} who joined in {d['period_label']}"
            for d in (cur, base)
            if d["incomplete"]
        )
        + f", whose {window} is not wholly inside the loaded data."
        if excluded
        else ""
    )
    none_yet = (
        f"None of the {cur['entrants']:,} members who joined the {g.label} in {period.label}{shifted} can be "
        f"followed for the full {window} inside the loaded data ({s.data_window_words})."
    )
    binary, binary_base = _ratio(r, n), _ratio(rb, nb)
    common: dict[str, Any] = {
        "comparison": before,
        "period": period,
        "small_number": small,
        "extra": extra,
    }
    g._add(
        "followup.binary_rate",
        "Proven reoffending rate (follow-up)",
        binary,
        "proportion",
        definition + " Binary rate = members with at least one such offence / members followed up; tested with "
        "the two-sample test of proportions.",
        lambda c: (
            none_yet
            if n == 0
            else (
                describe_change(
                    f"the share of {who}{shifted} who reoffended within {f} months",
                    binary or 0.0,
                    binary_base or 0.0,
                    c,
                    period.label,
                    before.label,
                    unit="proportion",
                ).rstrip(".")
                if nb
                else f"{_pct(binary)} of {who}{shifted} reoffended within {f} months"
            )
            + f" ({r:,} of {n:,}"
            + (f"; {rb:,} of {nb:,} who joined in {before.label}" if nb else "")
            + ")."
            + left_out
            + caution
        ),
        change=compare_proportions(rb, nb, r, n) if n and nb else None,
        baseline=binary_base,
        numerator=float(r),
        denominator=float(n),
        **common,
    )
    frequency, frequency_base = _ratio(o * 100, n), _ratio(ob * 100, nb)
    g._add(
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
                    f"{before.label}: " + _verdict(c, "fall", "rise") + "."
                    if nb
                    else "."
                )
                + left_out
                + caution
            )
        ),
        change=compare_counts(o, ob, n, nb) if n and nb else None,
        baseline=frequency_base,
        numerator=float(o),
        denominator=float(n),
        rate_per=100,
        **common,
    )
    per_reoffender, per_reoffender_base = _ratio(o, r), _ratio(ob, rb)
    g._add(
        "followup.reoffences_per_reoffender",
        "Reoffences per reoffender (follow-up)",
        per_reoffender,
        "offences per reoffender",
        definition + " Reoffences per reoffender = offences / members with at least one.",
        lambda _c: (
            none_yet
            if n == 0
            else (
                f"None of {who} reoffended within {f} months." + caution
                if r == 0
                else f"Of {who}, the {r:,} who reoffended committed {_offences_each(per_reoffender)} within "
                f"{f} months ({_n(o, 'offence')}; binary rate {_pct(binary)}, {r:,} of {n:,})"
                + (f", against {_num(per_reoffender_base)} for those who joined in {before.label}" if rb else "")
                + ". Not tested for significance."
                + caution
            )
        ),
        change=_untested(per_reoffender, per_reoffender_base, "not tested: a ratio of two counts"),
        baseline=per_reoffender_base,
        numerator=float(o),
        denominator=float(r),
        **common,
    )
    entrants, incomplete = pending["entrants"], pending["incomplete"]
    g._add(
        "followup.incomplete",
        "Members not yet followed up",
        float(incomplete),
        "count",
        definition,
        lambda _c: (
            f"{incomplete:,} of the {entrants:,} members who joined the {g.label} in {s.period.label} are "
            f"left out of the follow-up because their {window} is not wholly inside the loaded data "
            f"({s.data_window_words})."
        ),
        good_direction="none",
        numerator=float(incomplete),
        denominator=float(entrants),
        extra=extra,
    )

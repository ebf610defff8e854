"""MoJ-style proven reoffending: follow-up of the members who joined in the period."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import duckdb

from cspkit.findings.periods import Period
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
    _n,
    _num,
    _offences_each,
    _pct,
    _ratio,
    _Setup,
    _untested,
    _verdict,
)


def followup_data(con: duckdb.DuckDBPyConnection, s: _Setup, cohorts: list[str], period: Period) -> dict[str, Any]:
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


def add_followup(g: _Group) -> None:
    s = g.s
    cur = followup_data(g.con, s, g.cohorts, s.period)
    base = followup_data(g.con, s, g.cohorts, s.baseline)
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
    small, caution = g._small(n)
    extra = {
        "current": cur,
        "baseline": base,
        "followup_months": f,
        "waiting_months": w,
        "outcome_dates_used": s.use_outcome_dates,
    }
    who = f"the {n:,} members who joined the {g.label} in {s.period.label} and could be followed up"
    none_yet = (
        f"None of the {cur['entrants']:,} members who joined the {g.label} in {s.period.label} can yet be "
        f"followed for {f} months"
        + (f" plus the {w}-month waiting period" if s.use_outcome_dates else "")
        + f" inside the loaded data ({s.data_window_words})."
    )
    binary, binary_base = _ratio(r, n), _ratio(rb, nb)
    g._add(
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
                f"The {r:,} of {who} who reoffended committed {_offences_each(per_reoffender)} within "
                f"{f} months "
                f"({_n(o, 'offence')}; binary rate {_pct(binary)})"
                + (f", against {_num(per_reoffender_base)} for those who joined in {s.baseline.label}" if rb else "")
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
    g._add(
        "followup.incomplete",
        "Members not yet followed up",
        float(incomplete),
        "count",
        definition,
        lambda _c: (
            f"{incomplete:,} of the {entrants:,} members who joined the {g.label} in {s.period.label} are "
            f"left out of the follow-up because their {f}-month window"
            + (f" and {w}-month waiting period" if s.use_outcome_dates else "")
            + f" is not yet inside the loaded data ({s.data_window_words})."
        ),
        good_direction="none",
        numerator=float(incomplete),
        denominator=float(entrants),
        extra=extra,
    )

"""Same people, same period: the binary rate, offences per offender and per reoffender."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import duckdb

from cspkit.topics.reoffending.cohort import (
    _BASE,
    _REGRESSION_CAUTION,
    BY_NEED,
    _first_day,
    _Group,
    _last_day,
    _mcnemar,
    _n,
    _num,
    _offences_each,
    _paired_change,
    _pct,
    _ratio,
    _Setup,
    _untested,
    _verdict,
)

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


def same_period_data(con: duckdb.DuckDBPyConnection, s: _Setup, cohorts: list[str]) -> dict[str, Any]:
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


def add_same_period(g: _Group, same: dict[str, Any]) -> None:
    s = g.s
    n, r, o = same["members"], same["reoffenders"], same["offences"]
    rb, ob = same["baseline_offenders"], same["baseline_offences"]
    binary, binary_base = _ratio(r, n), _ratio(rb, n)
    per_offender, per_offender_base = _ratio(o, n), _ratio(ob, n)
    per_reoffender, per_reoffender_base = _ratio(o, r), _ratio(ob, rb)
    small, caution = g._small(n)
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
    where = f"{_n(n, 'person', 'people')} in the {g.label} at some time in {s.period.label}"
    definition = (
        f"Same people, same period: the members on the programme at any time in {s.period.label}; offences "
        "they committed in the period while on the programme (entry_date <= offence_date <= exit_date; an "
        "offence on the entry date counts) against all offences of the same members in the equal period before "
        f"({s.baseline.label}). "
    )
    if n == 0:
        return
    mcnemar = _mcnemar(same["only_baseline"], same["only_current"], binary or 0.0, binary_base or 0.0)
    g._add(
        "binary_rate",
        "Members who reoffended while on the programme",
        binary,
        "proportion",
        definition + "Binary rate = members with at least one such offence / members.",
        lambda c: (
            f"Of the {where}, {_pct(binary)} offended while on the programme ({r:,} of {n:,}) against "
            f"{_pct(binary_base)} of the same people in {s.baseline.label} ({rb:,}, any offence): "
            + _verdict(c, "fall", "rise")
            + "."
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
    g._add(
        "reoffences_per_offender",
        "Offences per cohort member",
        per_offender,
        "offences per member",
        definition + "Offences / members; tested with the Wilcoxon signed-rank test of each member's counts.",
        lambda c: (
            f"The {where} committed {_offences_each(per_offender)} on average while on the programme "
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
    g._add(
        "reoffences_per_reoffender",
        "Reoffences per reoffender",
        per_reoffender,
        "offences per reoffender",
        definition + "Reoffences per reoffender = those offences / members with at least one; baseline = the "
        "same members' offences in the period before / those of them with at least one. Always read with the "
        "binary rate and the counts: it can fall while the number of reoffenders rises. " + _REGRESSION_CAUTION,
        lambda _c: (
            f"Members of the {g.label} who reoffended committed {_offences_each(per_reoffender)} while "
            f"on the programme in {s.period.label} ({_n(o, 'offence')} by {r:,} of the {n:,} members, a binary "
            f"rate of {_pct(binary)}), against {_num(per_reoffender_base)} in {s.baseline.label} "
            f"({_n(ob, 'offence')} by "
            f"{rb:,} of the same {n:,}, {_pct(binary_base)}). This figure is not tested for significance." + caution
        ),
        change=_untested(
            per_reoffender,
            per_reoffender_base,
            "not tested: a ratio of two counts whose denominators change; see the binary rate and offences per member",
        ),
        baseline=per_reoffender_base,
        comparison=s.baseline,
        numerator=float(o),
        denominator=float(r),
        small_number=small,
        extra=counts,
    )

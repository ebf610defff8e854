"""Exposure-adjusted: offences per member-year at risk on the programme against the same time before entry."""

from __future__ import annotations

from typing import Any

import duckdb

from cspkit.findings.stats import compare_counts
from cspkit.topics.reoffending.cohort import (
    _BASE,
    _Group,
    _n,
    _num,
    _Setup,
    _verdict,
)


def _equal_windows(con: duckdb.DuckDBPyConnection, s: _Setup, cohorts: list[str]) -> dict[str, Any]:
    """Per member on the programme in P (first spell overlapping P): days at risk on the programme from entry to the
    earliest of exit, entry + 365 days and the end of the data, and offences in that window and in the equal window
    just before entry."""
    data_end = s.data_last or s.p_end
    row = con.execute(
        f"""WITH {_BASE},
        first_spell AS (
            SELECT offender_key, min(entry_date) AS entry_date,
                arg_min(exit_date, entry_date) AS exit_date
            FROM spells WHERE entry_date <= $p_end AND (exit_date IS NULL OR exit_date >= $p_start)
            GROUP BY offender_key
        ),
        windows AS (
            SELECT offender_key, entry_date,
                least(coalesce(exit_date, $data_end), entry_date + INTERVAL 365 DAY, $data_end)::DATE AS after_end
            FROM first_spell
        ),
        sized AS (
            SELECT *, date_diff('day', entry_date, after_end) + 1 AS days FROM windows WHERE after_end >= entry_date
        ),
        counted AS (
            SELECT w.offender_key, w.days,
                count(o.oid) FILTER (WHERE o.offence_date BETWEEN w.entry_date AND w.after_end) AS after_n,
                count(o.oid) FILTER (WHERE o.offence_date >= w.entry_date - to_days(w.days::INTEGER)
                    AND o.offence_date < w.entry_date) AS before_n
            FROM sized w LEFT JOIN offs o ON o.offender_key = w.offender_key
            GROUP BY w.offender_key, w.days
        )
        SELECT count(*), coalesce(sum(days), 0), coalesce(sum(after_n), 0), coalesce(sum(before_n), 0) FROM counted""",
        {"cohorts": cohorts, "p_start": s.p_start, "p_end": s.p_end, "data_end": data_end},
    ).fetchall()[0]
    return {"members": int(row[0]), "years": float(row[1]) / 365.25, "after": int(row[2]), "before": int(row[3])}


def add_exposure_adjusted(g: _Group) -> None:
    """Offences per member-year at risk on the programme against the same length of time just before entry."""
    s = g.s
    data = _equal_windows(g.con, s, g.cohorts)
    n, years = data["members"], data["years"]
    if not n or years <= 0:
        return
    after, before = data["after"], data["before"]
    rate_after, rate_before = after / years, before / years
    change = compare_counts(after, before, years, years) if after + before else None
    small, caution = g._small(n)
    definition = (
        f"Exposure-adjusted, equal windows: for each of the {n:,} members on the programme at some time in "
        f"{s.period.label}, the time at risk on the programme from entry to the earliest of exit, 12 months after "
        f"entry and the end of the data, and an equal window just before entry; offences per member-year in "
        "each. Unlike the same-period measure this does not set members' part-year on the programme against a "
        "full year that is mostly the offending that got them selected. Exact mid-p test of the two totals over "
        "equal exposure. People are often selected at a peak of offending, so some fall is expected anyway "
        "(regression to the mean)."
    )
    g._add(
        "offences_per_member_year",
        "Offences per member-year at risk, after against before entry",
        rate_after,
        "offences per member-year",
        definition,
        lambda c: (
            f"Exposure-adjusted, the {_n(n, 'member')} committed {_num(rate_after)} offences per member-year on "
            f"the programme ({after:,} in {years:,.1f} member-years) against {_num(rate_before)} in the same "
            f"length of time before entry ({before:,}): " + _verdict(c, "fall", "rise") + "." + caution
        ),
        change=change,
        baseline=rate_before,
        numerator=after,
        denominator=years,
        small_number=small,
        extra={"offences_after": after, "offences_before": before, "member_years": years, "members": n},
    )

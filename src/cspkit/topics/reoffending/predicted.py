"""Proven reoffending against OGRS: how many members reoffended, against how many their OGRS scores predicted.

The fair comparison for a managed cohort (the "local adult reoffending measure"): OGRS3 gives each person's
probability of a proven reoffence within 12 or 24 months from static factors (age, sex, offence, criminal
history), so a cohort selected at its peak is compared with what people like them usually do, not with its own
peak. Members are followed exactly as in the MoJ-style follow-up, for the score's horizon.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import duckdb

from cspkit.findings.periods import make_period
from cspkit.findings.predicted import actual_against_predicted
from cspkit.topics.reoffending.cohort import (
    _ENTRANTS,
    _Group,
    _month_of,
    _n,
    _pct,
    _Setup,
)


def predicted_data(con: duckdb.DuckDBPyConnection, s: _Setup, cohorts: list[str], months: int) -> dict[str, Any]:
    """Every member whose first entry is inside the loaded offences: followed or not, score, proven or not."""
    assert s.data_first is not None and s.data_last is not None
    rows = con.execute(
        _ENTRANTS
        + """,
        scored AS (
            SELECT offender_key, arg_min(ogrs_score, entry_date) AS ogrs FROM spells
            WHERE entry_date BETWEEN $e_start AND $e_end GROUP BY offender_key
        ),
        per_member AS (
            SELECT w.offender_key, w.entry, any_value(s.ogrs) AS ogrs,
                (CASE WHEN $use_outcomes THEN w.proven_by ELSE w.after_end END) <= $data_end_next AS complete,
                count(o.oid) FILTER (WHERE o.offence_date >= w.entry AND o.offence_date < w.after_end
                    AND (NOT $use_outcomes OR (o.outcome_date < w.proven_by
                        AND NOT list_contains($not_proven, o.outcome)))) AS proven
            FROM windows w JOIN scored s USING (offender_key) LEFT JOIN offs o USING (offender_key)
            GROUP BY w.offender_key, w.entry, w.proven_by, w.after_end
        )
        SELECT entry, complete, ogrs, proven > 0 FROM per_member ORDER BY offender_key""",
        {
            "cohorts": cohorts,
            "e_start": s.data_first,
            "e_end": s.data_last,
            "months": months,
            "waiting": s.waiting_months,
            "use_outcomes": s.use_outcome_dates,
            "not_proven": [v.strip().lower() for v in s.not_proven_outcomes],
            "data_end_next": s.data_last + timedelta(days=1),
        },
    ).fetchall()
    followed = [(entry, score, bool(reoffended)) for entry, complete, score, reoffended in rows if complete]
    scored = [(entry, float(score), r) for entry, score, r in followed if score is not None and score > 0]
    return {
        "entrants": len(rows),
        "not_yet_followed": sum(1 for r in rows if not r[1]),
        "followed": len(followed),
        "without_score": len(followed) - len(scored),
        "members": scored,
    }


def add_actual_against_predicted(g: _Group) -> None:
    """``<prefix>.followup.actual_vs_ogrs``: members with a proven reoffence against the sum of their OGRS scores."""
    s = g.s
    months = s.horizon_months
    data = predicted_data(g.con, s, g.cohorts, months)
    members = data["members"]
    if not data["followed"] and not data["entrants"]:
        return
    has_scores = bool(
        g.con.execute(
            "SELECT count(ogrs_score) FROM offenders WHERE list_contains($c, cohort)", {"c": g.cohorts}
        ).fetchone()[0]  # type: ignore[index]
    )
    if not has_scores:
        return
    w = s.waiting_months if s.use_outcome_dates else 0
    window = f"{months}-month window" + (f" and {w}-month waiting period" if w else "")
    definition = (
        f"Actual against predicted proven reoffending: every member whose first entry is inside the loaded offences "
        f"({s.data_window_words}) and whose {window} has passed, with an ogrs_score (read as the percentage "
        f"probability of a proven reoffence within {months} months; definitions.ogrs_horizon_months). Actual: "
        f"members with at least one offence in [entry, entry + {months} months) proven as in the MoJ-style "
        "follow-up. Predicted: the mean of their OGRS probabilities. Test: exact Poisson-binomial test (mid-p) of "
        "the number who reoffended against the members' own probabilities; the interval is for actual / predicted "
        "and comes from inverting the same test, so it excludes 1 exactly when the test is significant. OGRS "
        "uses static factors only and was calibrated on national cohorts, so a difference can also mean the local "
        "cohort differs from them (or that outcomes are recorded differently), not only that the programme works."
    )
    n = len(members)
    if n == 0:
        g._add(
            "followup.actual_vs_ogrs",
            "Proven reoffending against OGRS-predicted",
            None,
            "proportion",
            definition,
            lambda _c: (
                f"No member with an OGRS score can yet be followed for the full {window} inside the loaded data "
                f"({data['not_yet_followed']:,} joined too recently; {data['without_score']:,} followed up have no "
                "score)."
            ),
        )
        return
    observed = sum(1 for _, _, r in members if r)
    result = actual_against_predicted(observed, [score / 100 for _, score, _ in members])
    first, last = min(e for e, _, _ in members), max(e for e, _, _ in members)
    period = make_period(_month_of(first), _month_of(last), s.period.fy_start_month)
    small, caution = g._small(n)
    left_out = data["not_yet_followed"] + data["without_score"]
    extra = {
        "members": n,
        "reoffenders": observed,
        "expected_reoffenders": result.expected,
        "observed_ci": [result.observed_low, result.observed_high],
        "predicted_range": [result.predicted_low, result.predicted_high],
        "horizon_months": months,
        "waiting_months": w,
        "entrants": data["entrants"],
        "not_yet_followed": data["not_yet_followed"],
        "followed_without_score": data["without_score"],
    }

    def sentence(c: Any) -> str:
        ratio = (
            f"actual / predicted {c.rate_ratio:.2f}"
            + (
                f" (95% CI {c.ci_low:.2f}–{c.ci_high:.2f})"
                if c is not None and c.ci_low is not None and c.ci_high is not None
                else ""
            )
            if c is not None and c.rate_ratio is not None
            else ""
        )
        if c is None or c.p_value is None:
            verdict = "not tested"
        elif not c.significant:
            verdict = "not significantly different from the prediction"
        else:
            verdict = "significantly " + ("below" if c.direction == "down" else "above") + " the prediction"
        return (
            f"Of the {_n(n, 'member')} of the {g.label} who joined in {period.label} and could be followed for "
            f"{months} months, {observed:,} ({_pct(result.observed_rate)}, 95% CI {_pct(result.observed_low)}–"
            f"{_pct(result.observed_high)}) had a proven reoffence, against {_pct(result.predicted_rate)} predicted "
            f"by their OGRS scores ({result.expected:.1f} people; {_pct(result.predicted_low)}–"
            f"{_pct(result.predicted_high)} would be within chance): {ratio}, {verdict}."
            + (f" {_n(left_out, 'member')} left out: not yet followed up or no score." if left_out else "")
            + caution
        )

    g._add(
        "followup.actual_vs_ogrs",
        "Proven reoffending against OGRS-predicted",
        result.observed_rate,
        "proportion",
        definition,
        sentence,
        change=result.tested,
        baseline=result.predicted_rate,
        period=period,
        numerator=float(observed),
        denominator=float(n),
        small_number=small,
        extra=extra,
    )

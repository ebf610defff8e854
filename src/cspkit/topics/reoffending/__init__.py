"""Reducing reoffending: offender cohorts (IOM, PPO ...) and the offences of their members.

Finding ids (a contract read by the report and scoring). The unsuffixed ids ``reoffending.*`` always describe
**all members of every cohort together** (the whole managed cohort, as the model document reports IOM). When the
``offenders`` table holds more than one cohort, each cohort also gets the same findings under
``reoffending.<cohort>.*`` (``reoffending.iom.binary_rate``, ``reoffending.ppo.binary_rate``).

==================================================  ==============================================================
``reoffending.offences``                            offences by cohort members by offence date (count, tested)
``reoffending.cohort_size``                         members on the programme at any time in P; entries, exits,
                                                    monthly active members as the series
``reoffending.cohort_flow``                         spells started in P (tested against the baseline); entries,
                                                    exits and members on the programme per quarter, time on programme
``reoffending.needs``                               share of members with an accommodation need; all needs in extra
``reoffending.binary_rate``                         same people, same period: members with an offence in P while
                                                    on the programme / members
``reoffending.reoffences_per_offender``             those offences / members
``reoffending.reoffences_per_reoffender``           those offences / members with at least one; baseline: the same
                                                    members' offences in the equal period before P / those with one
``reoffending.followup.binary_rate``                MoJ-style follow-up of the latest whole cohort
``reoffending.followup.frequency``                  offences per 100 members followed up
``reoffending.followup.reoffences_per_reoffender``  offences / reoffenders in the follow-up
``reoffending.followup.incomplete``                 members who joined in P whose window is not yet in the data
``reoffending.followup.actual_vs_ogrs``             members with a proven reoffence within the OGRS horizon against
                                                    the mean OGRS-predicted probability (exact Poisson-binomial)
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
  and an outcome that proves it (not one of ``definitions.reoffending_not_proven_outcomes``, e.g. no further
  action); an offence without an outcome date has no outcome yet and is not counted, but is reported. When no
  offence has an outcome date, offences count by offence date alone. The cohort is whole: the members who joined in
  the latest period of P's length, ending no later than P, in which every entrant's window (with the waiting period
  when outcome dates are used) ends inside the loaded data; the baseline is the equal period before it. Inside
  either cohort a member whose window is not wholly inside the loaded offences is excluded and counted; P's
  entrants not yet followed up are counted in ``followup.incomplete``.
* Before/after: the members who joined in the latest period of P's length, ending no later than P, whose 12 months
  after joining are inside the loaded data (P itself when it is old enough; otherwise the equal period(s) before
  it). Members whose 12 months before joining start before the loaded data are excluded and counted.

The measures live one family to a module: ``cohort`` (settings, data window, shared SQL and helpers, the group that
collects a cohort's findings, cohort size), ``same_period``, ``needs`` (needs profile and binary rate by need),
``proven`` (MoJ-style follow-up), ``before_after``, ``exposure`` (offences per member-year) and ``quality``.
"""

from __future__ import annotations

from cspkit.findings.engine import TopicInput
from cspkit.findings.indicators import CountSeries, build_count_findings, slug
from cspkit.findings.model import Finding
from cspkit.findings.periods import month_range
from cspkit.topics.reoffending.before_after import add_before_after
from cspkit.topics.reoffending.cohort import (
    _RESERVED,
    BY_NEED,
    TOPIC,
    _Group,
    _Setup,
    _setup,
    add_cohort_size,
)
from cspkit.topics.reoffending.exposure import add_exposure_adjusted
from cspkit.topics.reoffending.flow import add_cohort_flow
from cspkit.topics.reoffending.needs import add_by_need, add_needs
from cspkit.topics.reoffending.predicted import add_actual_against_predicted
from cspkit.topics.reoffending.proven import add_followup
from cspkit.topics.reoffending.quality import _quality, _quality_findings
from cspkit.topics.reoffending.same_period import add_same_period, same_period_data

__all__ = ["BY_NEED", "build"]


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


def _build_group(group: _Group) -> None:
    """Every measure of one cohort group, in the order the findings are reported."""
    same = same_period_data(group.con, group.s, group.cohorts)
    add_cohort_size(group, same)
    add_cohort_flow(group)
    add_needs(group, same)
    if group.s.data_last is None:
        return
    add_same_period(group, same)
    add_by_need(group, same)
    add_followup(group)
    add_actual_against_predicted(group)
    add_before_after(group)
    add_exposure_adjusted(group)


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
        _build_group(group)
        findings += group.findings()
    findings += _quality_findings(inp, s)
    return findings

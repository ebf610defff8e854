"""Sexual violence: what the partner data allows, and whether it is an emerging issue.

Partner data: domestic abuse incidents whose ``crime_type`` mentions sexual offences or rape (``sv.partner.count``).
Police "Violence and sexual offences" from data.police.uk is already ``crime.violence_and_sexual_offences.count``
(built by :mod:`cspkit.findings.crime`); it is not recomputed here, and topic builders do not see other findings,
so ``sv.emerging`` judges the partner series and names the police finding for the report to set beside it.
"""

from __future__ import annotations

from typing import Any

from cspkit.findings.builders import level_finding, monthly_counts
from cspkit.findings.engine import TopicInput
from cspkit.findings.indicators import CountSeries, build_count_findings
from cspkit.findings.model import Finding
from cspkit.findings.wording import describe_spc
from cspkit.topics._partner import drop_uncovered_comparisons, source_months, table_rows

__all__ = ["POLICE_CONTEXT_FINDING", "SEXUAL_OFFENCE_PATTERN", "build"]

#: Case-insensitive regular expression on ``crime_type`` that marks a sexual offence.
SEXUAL_OFFENCE_PATTERN = r"(?i)sexual|rape"

#: The police context series the report shows beside the partner one.
POLICE_CONTEXT_FINDING = "crime.violence_and_sexual_offences.count"


def build(inp: TopicInput) -> list[Finding]:
    """``sv.partner.count`` and ``sv.emerging`` from the partner domestic abuse data, when loaded."""
    con, ctx = inp.con, inp.ctx
    if not table_rows(con, "domestic_abuse"):
        return []
    months = source_months(con, "domestic_abuse")
    rows = con.execute(
        "SELECT _month, count(*) FROM domestic_abuse WHERE regexp_matches(coalesce(crime_type, ''), $p) GROUP BY ALL",
        {"p": SEXUAL_OFFENCE_PATTERN},
    ).fetchall()
    series = CountSeries(
        id="sv.partner.count",
        topic="sv",
        title="Sexual offences in domestic abuse (partner data)",
        subject="domestic abuse crimes recorded as sexual offences",
        monthly=monthly_counts(rows, months),
        definition="Domestic abuse incidents whose crime type mentions a sexual offence or rape, counted by month "
        "reported. Sexual violence outside domestic settings is not in this source; see the police series "
        f"({POLICE_CONTEXT_FINDING}).",
        sources=["police domestic abuse incidents (domestic_abuse)"],
        denominator=inp.area.total_population(),
    )
    partner = drop_uncovered_comparisons(build_count_findings([series], ctx), months, ctx)[0]
    change = partner.change
    rise = change is not None and change.significant and change.direction == "up"
    signal = partner.spc is not None and partner.spc.side == "above" and partner.emerging
    reasons: list[str] = []
    if rise:
        reasons.append("a statistically significant rise against the comparison period")
    if signal:
        reasons.append("a control-chart signal in the latest quarter")
    if reasons:
        sentence = (
            "Sexual offences in the partner domestic abuse data are an emerging issue: " + " and ".join(reasons) + "."
        )
        if signal:
            sentence += " " + describe_spc(partner.spc, "monthly sexual offences in domestic abuse")
    else:
        sentence = (
            "Sexual offences in the partner domestic abuse data show neither a significant rise nor a recent "
            "control-chart signal."
        )
    sentence += " Read this beside the police 'Violence and sexual offences' trend."
    extra: dict[str, Any] = {
        "partner_finding": partner.id,
        "partner_rise": rise,
        "partner_control_chart_signal": signal,
        "police_context_finding": POLICE_CONTEXT_FINDING,
        "police_context_read": False,
    }
    emerging = level_finding(
        ctx,
        id="sv.emerging",
        topic="sv",
        title="Is sexual violence an emerging issue?",
        value=1.0 if reasons else 0.0,
        unit="flag",
        definition="1 when the partner sexual-offence series (sv.partner.count) shows a significant rise "
        "(Benjamini-Hochberg adjusted) or an upward control-chart signal in the latest quarter, else 0. The "
        f"police series {POLICE_CONTEXT_FINDING} is judged in the crime findings and is not re-read here.",
        sentence=sentence,
        sources=list(partner.sources),
        good_direction="down",
        emerging=bool(reasons),
        extra=extra,
    )
    return [partner, emerging]

"""Data-quality findings for the reoffending data."""

from __future__ import annotations

from typing import Any

from cspkit.findings.engine import TopicInput
from cspkit.findings.model import Finding
from cspkit.topics.reoffending.cohort import (
    _pct,
    _Setup,
)


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

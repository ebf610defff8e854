"""The needs of cohort members and the binary rate with against without each need."""

from __future__ import annotations

from typing import Any

from cspkit.findings.model import Change
from cspkit.findings.stats import compare_proportions
from cspkit.topics.reoffending.cohort import (
    BY_NEED,
    _article,
    _Group,
    _num,
    _pct,
    _ratio,
    _verdict,
)


def add_needs(g: _Group, same: dict[str, Any]) -> None:
    s, recorded = g.s, same["needs_recorded"]
    profile = [{"need": need, "members": k, "share": _ratio(k, recorded)} for need, k in same["profile"]]
    shares = {p["need"]: p for p in profile}
    accommodation = shares.get("accommodation", {"members": 0, "share": _ratio(0, recorded)})
    small, caution = g._small(recorded)
    counts = dict(same["profile"])
    if recorded:
        listed = ", ".join(
            f"{need} {_pct(_ratio(counts.get(need, 0), recorded))} ({counts.get(need, 0)})" for need in BY_NEED
        )
        sentence = f"Of the {recorded:,} members in {s.period.label} with needs recorded: {listed}." + caution
    else:
        sentence = f"No needs are recorded for the members in {s.period.label}."
    g._add(
        "needs",
        "Needs of cohort members",
        accommodation["share"],
        "proportion",
        "Share of members on the programme in the period (with needs recorded on any of their spells) who have "
        "an accommodation need; every need's share is in extra.",
        lambda _c, text=sentence: text,
        good_direction="none",
        numerator=float(accommodation["members"]),
        denominator=float(recorded),
        small_number=small,
        extra={
            "profile": profile,
            "members": same["members"],
            "members_without_needs_recorded": same["members"] - recorded,
        },
    )


def add_by_need(g: _Group, same: dict[str, Any]) -> None:
    s = g.s
    for need in BY_NEED:
        n1, r1, o1 = same["by_need"].get((need, True), (0, 0, 0))
        n0, r0, o0 = same["by_need"].get((need, False), (0, 0, 0))
        if n1 == 0 or n0 == 0:
            continue
        rate1, rate0 = r1 / n1, r0 / n0
        change = compare_proportions(r0, n0, r1, n1)
        small, caution = g._small(min(n0, n1))
        extra = {
            "with_need": {
                "members": n1,
                "reoffenders": r1,
                "offences": o1,
                "binary_rate": rate1,
                "reoffences_per_reoffender": _ratio(o1, r1),
            },
            "without_need": {
                "members": n0,
                "reoffenders": r0,
                "offences": o0,
                "binary_rate": rate0,
                "reoffences_per_reoffender": _ratio(o0, r0),
            },
            "compared": "members with the need against members without it (same period), not two periods",
        }

        def sentence(c: Change | None, need: str = need, e: dict[str, Any] = extra, caution: str = caution) -> str:
            w, wo = e["with_need"], e["without_need"]
            verdict = _verdict(c, "lower rate with the need", "higher rate with the need")
            return (
                f"In {s.period.label}, {_pct(w['binary_rate'])} of {g.label} members with "
                f"{_article(need)} {need} need "
                f"offended while on the programme ({w['reoffenders']:,} of {w['members']:,}; "
                f"{_num(w['reoffences_per_reoffender'])} offences per reoffender) against "
                f"{_pct(wo['binary_rate'])} of those without ({wo['reoffenders']:,} of {wo['members']:,}; "
                f"{_num(wo['reoffences_per_reoffender'])}); {verdict}." + caution
            )

        g._add(
            f"by_need.{need}",
            f"Reoffending by {need} need",
            rate1,
            "proportion",
            f"Binary rate (same period, on the programme) of members with a {need} need against members without "
            "it, among members with needs recorded; the change is the difference with minus without, tested "
            "with compare_proportions (z-test or Fisher's exact test).",
            sentence,
            change=change,
            numerator=float(r1),
            denominator=float(n1),
            small_number=small,
            extra=extra,
        )

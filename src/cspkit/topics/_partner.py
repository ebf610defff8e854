"""Helpers shared by the partner-data topics (ASB, domestic abuse, sexual violence).

Partner tables (``asb_incidents``, ``domestic_abuse``, ``marac_referrals``) are queried in DuckDB with the period's
months as a list parameter; Python only sees aggregates. This module turns those aggregates into Finding records:
proportions compared with the comparison period (two-proportion test, Benjamini-Hochberg across a family), plain
levels, mixes and per-agency data-quality shares.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import duckdb

from cspkit.findings.builders import level_finding
from cspkit.findings.distributions import chi2_contingency
from cspkit.findings.indicators import FindingContext, slug
from cspkit.findings.model import Finding, GoodDirection
from cspkit.findings.periods import month_range
from cspkit.findings.stats import adjust_changes, compare_proportions
from cspkit.findings.wording import describe_change, describe_level, format_number

__all__ = [
    "Proportion",
    "QualityCheck",
    "baseline_months",
    "build_proportion_findings",
    "count_finding",
    "drop_uncovered_comparisons",
    "mix_extra",
    "quality_findings",
    "source_months",
    "table_rows",
]


def table_rows(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """Rows loaded in a warehouse table (0 when it is empty)."""
    return int(con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])


def source_months(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """Every month from the first to the last month of a table's rows (gaps included, so they count as zero)."""
    first, last = con.execute(f"SELECT min(_month), max(_month) FROM {table}").fetchall()[0]
    return month_range(first, last) if first else []


def baseline_months(ctx: FindingContext) -> list[str]:
    """Months of the most recent comparison period: victim-based measures compare one period with one period."""
    return list(ctx.comparison.baseline_months[0]) if ctx.comparison.baseline_months else []


def count_finding(
    ctx: FindingContext,
    *,
    id: str,
    topic: str,
    title: str,
    subject: str,
    value: int,
    baseline: int | None,
    definition: str,
    sources: list[str],
    note: str = "",
    extra: dict[str, Any] | None = None,
    good_direction: GoodDirection = "down",
) -> Finding:
    """A count of people (not events) with its comparison value, not tested: a count of people is not Poisson."""
    if baseline is None:
        sentence = describe_level(subject, value, ctx.period_label, small_number_threshold=ctx.small_number_threshold)
    else:
        sentence = describe_change(subject, value, baseline, None, ctx.period_label, ctx.comparison_label)
    return level_finding(
        ctx,
        id=id,
        topic=topic,
        title=title,
        value=float(value),
        unit="count",
        definition=definition,
        sentence=" ".join(part for part in (sentence, note.strip()) if part),
        sources=sources,
        baseline=float(baseline) if baseline is not None else None,
        good_direction=good_direction,
        numerator=float(value),
        small_number=0 < value < ctx.suppress_below,
        extra=extra,
    )


@dataclass
class Proportion:
    """A proportion to report: numerator over denominator, with the comparison period's if known.

    ``missing`` is what the sentence says when the denominator is zero (e.g. no victim references supplied).
    """

    id: str
    topic: str
    title: str
    subject: str
    numerator: int
    denominator: int
    definition: str
    sources: list[str]
    baseline_numerator: int | None = None
    baseline_denominator: int | None = None
    good_direction: GoodDirection = "down"
    missing: str = ""
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def build_proportion_findings(family: list[Proportion], ctx: FindingContext) -> list[Finding]:
    """Findings for proportions compared together: two-proportion tests, one Benjamini-Hochberg adjustment."""
    raw = [
        compare_proportions(p.baseline_numerator, p.baseline_denominator, p.numerator, p.denominator)
        if p.denominator and p.baseline_denominator and p.baseline_numerator is not None
        else None
        for p in family
    ]
    adjusted = adjust_changes(raw, alpha=ctx.alpha)
    out: list[Finding] = []
    for p, change in zip(family, adjusted, strict=True):
        value = p.numerator / p.denominator if p.denominator else None
        baseline = (
            p.baseline_numerator / p.baseline_denominator
            if p.baseline_denominator and p.baseline_numerator is not None
            else None
        )
        if value is None:
            sentence = p.missing or f"No records to measure {p.subject} in {ctx.period_label}."
        elif change is None or baseline is None:
            sentence = describe_level(p.subject, value, ctx.period_label, unit="proportion")
            sentence = sentence[:-1] + f" ({format_number(p.numerator)} of {format_number(p.denominator)})."
        else:
            sentence = describe_change(
                p.subject, value, baseline, change, ctx.period_label, ctx.comparison_label, unit="proportion"
            )
            sentence = (
                sentence[:-1] + f" ({format_number(p.numerator)} of {format_number(p.denominator)}, against "
                f"{format_number(p.baseline_numerator or 0)} of {format_number(p.baseline_denominator or 0)})."
            )
        if p.note:
            sentence += " " + p.note
        bad = (
            change is not None
            and change.significant
            and change.direction == ("up" if p.good_direction == "down" else "down")
        )
        out.append(
            level_finding(
                ctx,
                id=p.id,
                topic=p.topic,
                title=p.title,
                value=value,
                unit="proportion",
                definition=p.definition,
                sentence=sentence,
                sources=p.sources,
                baseline=baseline,
                change=change,
                good_direction=p.good_direction,
                numerator=float(p.numerator),
                denominator=float(p.denominator),
                small_number=0 < p.numerator < ctx.suppress_below,
                emerging=bad and p.good_direction != "none",
                extra=p.extra,
            )
        )
    return out


def mix_extra(current: dict[str, int], baseline: dict[str, int]) -> dict[str, Any]:
    """Counts and shares of a mix in both periods, with a chi-square test of whether the mix changed."""
    total, base_total = sum(current.values()), sum(baseline.values())
    keys = sorted(set(current) | set(baseline), key=lambda k: (-current.get(k, 0), k))
    extra: dict[str, Any] = {
        "counts": {k: current.get(k, 0) for k in keys},
        "shares": {k: (current.get(k, 0) / total if total else None) for k in keys},
        "baseline_counts": {k: baseline.get(k, 0) for k in keys},
        "baseline_shares": {k: (baseline.get(k, 0) / base_total if base_total else None) for k in keys},
        "mix_change_test": None,
    }
    used = [k for k in keys if current.get(k, 0) + baseline.get(k, 0) > 0]
    if total and base_total and len(used) >= 2:
        table = [[current.get(k, 0) for k in used], [baseline.get(k, 0) for k in used]]
        chi2, p_value, dof = chi2_contingency(table)
        extra["mix_change_test"] = {
            "test": "chi-square test of homogeneity (current vs comparison period)",
            "chi2": float(chi2),
            "dof": int(dof),
            "p_value": float(p_value),
        }
    return extra


def drop_uncovered_comparisons(findings: list[Finding], covered: list[str], ctx: FindingContext) -> list[Finding]:
    """Remove the comparison from count findings when the source does not cover the comparison months.

    A partner file that starts this year would otherwise look like a rise from zero.
    """
    wanted = [m for months in ctx.comparison.baseline_months for m in months]
    if all(m in set(covered) for m in wanted):
        return findings
    note = " The source does not cover the comparison period, so no change is reported."
    out = []
    for f in findings:
        sentence = describe_level(
            f.title if f.area == ctx.area_code else f.title.lower(),
            f.value or 0,
            ctx.period_label,
            rate=f.rate,
            rate_per=f.rate_per,
            small_number_threshold=ctx.small_number_threshold,
        )
        out.append(
            replace(f, baseline=None, change=None, comparison_period=None, emerging=False, sentence=sentence + note)
        )
    return out


@dataclass(frozen=True)
class QualityCheck:
    """One data-quality share: rows meeting ``problem`` among rows meeting ``among`` (SQL over the table)."""

    name: str
    words: str
    problem: str
    among: str = "TRUE"
    among_words: str = ""


def quality_findings(
    con: duckdb.DuckDBPyConnection,
    ctx: FindingContext,
    *,
    table: str,
    prefix: str,
    what: str,
    checks: list[QualityCheck],
    per_agency: bool,
    sources: list[str],
) -> list[Finding]:
    """Shares of records with a data-quality problem in the period, per agency or for the source as a whole.

    Ids are ``quality.<prefix>.<agency>.<check>`` (per agency) or ``quality.<prefix>.<check>`` (with the
    per-agency split in ``extra``).
    """
    cols = ", ".join(
        f"count(*) FILTER (WHERE ({c.among}) AND ({c.problem})), count(*) FILTER (WHERE {c.among})" for c in checks
    )
    rows = con.execute(
        f"SELECT _agency, {cols} FROM {table} WHERE list_contains($months, _month) GROUP BY ALL ORDER BY 1",
        {"months": ctx.comparison.current_months},
    ).fetchall()
    counts = {r[0]: [(int(r[1 + 2 * i]), int(r[2 + 2 * i])) for i in range(len(checks))] for r in rows}
    groups: list[tuple[str | None, dict[str, list[tuple[int, int]]]]] = (
        [(agency, {agency: c}) for agency, c in counts.items()] if per_agency else [(None, counts)]
    )
    out: list[Finding] = []
    for agency, part in groups:
        for i, check in enumerate(checks):
            bad = sum(c[i][0] for c in part.values())
            among = sum(c[i][1] for c in part.values())
            who = f"{agency} " if agency else ""
            group = f"{who}{what} {check.among_words}".strip()
            share = bad / among if among else None
            if share is None:
                sentence = f"No {group} in {ctx.period_label}, so the share that {check.words} is not measured."
            else:
                sentence = (
                    f"{share:.1%} of {group} in {ctx.period_label} ({format_number(bad)} of "
                    f"{format_number(among)}) {check.words}."
                )
            middle = f"{slug(agency)}." if agency else ""
            out.append(
                level_finding(
                    ctx,
                    id=f"quality.{prefix}.{middle}{check.name}",
                    topic="quality",
                    title=f"{what.capitalize()}{' (' + agency + ')' if agency else ''}: {check.name.replace('_', ' ')}",
                    value=share,
                    unit="proportion",
                    definition=f"Share of {(what + ' ' + check.among_words).strip()} in the period that {check.words} "
                    f"({table}; rows counted by their month).",
                    sentence=sentence,
                    sources=sources,
                    good_direction="down",
                    numerator=float(bad),
                    denominator=float(among),
                    extra={"by_agency": {a: {"problem": c[i][0], "records": c[i][1]} for a, c in part.items()}},
                )
            )
    return out

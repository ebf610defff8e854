"""Domestic abuse: police incidents and crimes, DASH risk, repeat victims, wards, MARAC and serial perpetrators.

Sources: ``domestic_abuse`` (police-flagged incidents, one row per incident) and ``marac_referrals``. Victims and
perpetrators are the supplying agency's own references (pseudonyms per agency), so figures are per agency and added
up; a person known to police and MARAC is not linked across the two.
"""

from __future__ import annotations

from typing import Any

import duckdb

from cspkit.findings.area import area_lsoas_sql
from cspkit.findings.builders import data_missing_finding, level_finding, monthly_counts, ward_count_series
from cspkit.findings.engine import TopicInput
from cspkit.findings.indicators import CountSeries, FindingContext, build_count_findings
from cspkit.findings.model import Finding
from cspkit.findings.wording import format_number
from cspkit.topics._partner import (
    Proportion,
    QualityCheck,
    baseline_months,
    build_proportion_findings,
    count_finding,
    drop_uncovered_comparisons,
    mix_extra,
    quality_findings,
    source_months,
    table_rows,
)

__all__ = ["build", "marac_repeats", "repeat_victims"]

_DA_SOURCE = "police domestic abuse incidents (domestic_abuse)"
_MARAC_SOURCE = "MARAC referrals (marac_referrals)"


def _base_sql(area_codes: list[str]) -> str:
    return (
        f"WITH area AS ({area_lsoas_sql(area_codes)}), "
        "da AS (SELECT d.*, CAST(d.reported_at AS DATE) AS day, g.ward_code AS ward "
        "FROM domestic_abuse d LEFT JOIN area g ON d.lsoa_code = g.lsoa_code) "
    )


def repeat_victims(con: duckdb.DuckDBPyConnection, months: list[str], window_days: int) -> tuple[int, int]:
    """(victims with an incident in ``months`` that came within ``window_days`` of their previous incident,
    victims with an incident in ``months``).

    The previous incident may be before the months (any loaded incident of the same agency's victim reference);
    two incidents on the same day count as a repeat.
    """
    victims, repeats = con.execute(
        "WITH ev AS (SELECT _agency || '|' || victim_key AS victim, _month AS month, "
        "CAST(reported_at AS DATE) - lag(CAST(reported_at AS DATE)) OVER "
        "(PARTITION BY _agency, victim_key ORDER BY reported_at) AS gap FROM domestic_abuse "
        "WHERE victim_key IS NOT NULL) "
        "SELECT count(DISTINCT victim), count(DISTINCT victim) FILTER (WHERE gap <= $window) FROM ev "
        "WHERE list_contains($months, month)",
        {"months": months, "window": window_days},
    ).fetchall()[0]
    return int(repeats), int(victims)


def marac_repeats(con: duckdb.DuckDBPyConnection, months: list[str], window_days: int) -> tuple[int, int]:
    """(referrals in ``months`` within ``window_days`` after the same victim's previous referral, all referrals
    in ``months``); the previous referral may be before the months."""
    repeats, referrals = con.execute(
        "WITH r AS (SELECT _month AS month, referral_date - lag(referral_date) OVER "
        "(PARTITION BY _agency, victim_key ORDER BY referral_date, referral_key) AS gap FROM marac_referrals) "
        "SELECT count(*) FILTER (WHERE gap <= $window), count(*) FROM r WHERE list_contains($months, month)",
        {"months": months, "window": window_days},
    ).fetchall()[0]
    return int(repeats), int(referrals)


def build(inp: TopicInput) -> list[Finding]:
    """Domestic abuse and MARAC findings; a quality finding when neither source is loaded."""
    has_da = table_rows(inp.con, "domestic_abuse") > 0
    has_marac = table_rows(inp.con, "marac_referrals") > 0
    findings: list[Finding] = []
    if has_da:
        findings += _incidents(inp)
    if has_marac:
        findings += _marac(inp)
    if has_da or has_marac:
        findings.append(_serial_perpetrators(inp, has_da, has_marac))
    missing = [name for name, loaded in (("domestic_abuse", has_da), ("marac_referrals", has_marac)) if not loaded]
    if missing:
        findings.append(
            data_missing_finding(
                inp.ctx,
                id="quality.da.data_missing",
                title="Domestic abuse data not loaded",
                definition="Partner domestic abuse sources in the warehouse.",
                sentence=f"No records are loaded for {' and '.join(missing)}, so the domestic abuse chapter is "
                "incomplete.",
                extra={"missing_sources": missing},
            )
        )
    return findings


def _incidents(inp: TopicInput) -> list[Finding]:
    con, area, ctx, get = inp.con, inp.area, inp.ctx, inp.config.get
    base = _base_sql(area.codes)
    months = source_months(con, "domestic_abuse")
    monthly = con.execute(base + "SELECT _month, count(*), count(*) FILTER (WHERE is_crime) FROM da GROUP BY ALL")
    rows = monthly.fetchall()
    ward_rows = con.execute(base + "SELECT ward, _month, count(*) FROM da WHERE ward IS NOT NULL GROUP BY ALL")
    by_ward = ward_rows.fetchall()
    outside, no_location = con.execute(
        base + "SELECT count(*) FILTER (WHERE lsoa_code IS NOT NULL AND ward IS NULL), "
        "count(*) FILTER (WHERE lsoa_code IS NULL) FROM da WHERE list_contains($m, _month)",
        {"m": ctx.comparison.current_months},
    ).fetchall()[0]
    population = area.total_population()
    family = [
        CountSeries(
            id="da.incidents",
            topic="da",
            title="Domestic abuse incidents",
            subject="domestic abuse incidents",
            monthly=monthly_counts([(m, n) for m, n, _ in rows], months),
            definition="Police-recorded incidents flagged as domestic abuse, counted by month reported.",
            sources=[_DA_SOURCE],
            denominator=population,
            rows_outside_area=int(outside),
            rows_without_location=int(no_location),
        ),
        CountSeries(
            id="da.crimes",
            topic="da",
            title="Domestic abuse crimes",
            subject="domestic abuse crimes",
            monthly=monthly_counts([(m, c) for m, _, c in rows], months),
            definition="Domestic abuse incidents recorded as a notifiable crime (is_crime), counted by month reported.",
            sources=[_DA_SOURCE],
            denominator=population,
        ),
    ]
    findings = drop_uncovered_comparisons(build_count_findings(family, ctx), months, ctx)
    ward_family = ward_count_series(
        area,
        by_ward,
        months,
        id="da.ward.{ward}.incidents",
        topic="da",
        title="Domestic abuse incidents: {name}",
        subject="domestic abuse incidents in {name}",
        definition="Domestic abuse incidents placed in the ward by their LSOA; changes tested with the exact "
        "Poisson test, Benjamini-Hochberg adjusted across all wards.",
        sources=[_DA_SOURCE],
    )
    findings += drop_uncovered_comparisons(build_count_findings(ward_family, ctx), months, ctx)

    before = baseline_months(ctx)
    dash = con.execute(
        "SELECT coalesce(dash_risk, 'not recorded'), count(*) FILTER (WHERE list_contains($cur, _month)), "
        "count(*) FILTER (WHERE list_contains($base, _month)) FROM domestic_abuse GROUP BY ALL",
        {"cur": ctx.comparison.current_months, "base": before},
    ).fetchall()
    extra = mix_extra({r[0]: int(r[1]) for r in dash if r[1]}, {r[0]: int(r[2]) for r in dash if r[2]})
    total = sum(extra["counts"].values())
    shares = ", ".join(
        f"{extra['shares'][level]:.0%} {level}"
        for level in ("high", "medium", "standard", "not recorded")
        if extra["shares"].get(level) is not None
    )
    findings.append(
        level_finding(
            ctx,
            id="da.dash_mix",
            topic="da",
            title="Domestic abuse incidents by DASH risk level",
            value=float(total),
            unit="count",
            definition="Domestic abuse incidents in the period by DASH risk level (standard, medium, high); chi-square "
            "test of the mix against the comparison period.",
            sentence=f"Of {format_number(total)} domestic abuse incidents in {ctx.period_label}: {shares}."
            if total
            else f"No domestic abuse incidents in {ctx.period_label}.",
            sources=[_DA_SOURCE],
            extra=extra,
        )
    )

    window = int(get("definitions.da_repeat_window_days"))
    repeats, victims = repeat_victims(con, ctx.comparison.current_months, window)
    base_repeats, base_victims = repeat_victims(con, before, window) if before else (0, 0)
    first_month = months[0] if months else ""
    findings += build_proportion_findings(
        [
            Proportion(
                id="da.repeat_victim_rate",
                topic="da",
                title="Repeat victims of domestic abuse",
                subject="the domestic abuse repeat victim rate",
                numerator=repeats,
                denominator=victims,
                baseline_numerator=base_repeats if before else None,
                baseline_denominator=base_victims if before else None,
                definition=f"Victims with an incident in the period that came within {window} days of their previous "
                f"incident (definitions.da_repeat_window_days; the previous one may be before the period), over "
                f"victims with an incident in the period. A victim is the police victim reference. Incidents before "
                f"the first month loaded ({first_month}) are unknown, so early periods may undercount repeats.",
                sources=[_DA_SOURCE],
                missing=f"No domestic abuse victims are recorded in {ctx.period_label}.",
            )
        ],
        ctx,
    )
    findings += quality_findings(
        con,
        ctx,
        table="domestic_abuse",
        prefix="da",
        what="domestic abuse incidents",
        checks=[
            QualityCheck("missing_location", "had no LSOA", "lsoa_code IS NULL"),
            QualityCheck("missing_risk", "had no DASH risk level", "dash_risk IS NULL"),
            QualityCheck("missing_perpetrator_ref", "had no perpetrator reference", "perpetrator_key IS NULL"),
            QualityCheck("missing_crime_flag", "did not say whether a crime was recorded", "is_crime IS NULL"),
        ],
        per_agency=False,
        sources=[_DA_SOURCE],
    )
    return findings


def _band_words(rate: float, low: float, high: float) -> str:
    band = f"the expected {low:.0%}-{high:.0%} band"
    if rate < low:
        return f"This is below {band}, which can mean repeat referrals are not being identified."
    if rate > high:
        return f"This is above {band}."
    return f"This is within {band}."


def _marac(inp: TopicInput) -> list[Finding]:
    con, area, ctx, get = inp.con, inp.area, inp.ctx, inp.config.get
    current, before = ctx.comparison.current_months, baseline_months(ctx)
    months = source_months(con, "marac_referrals")
    recommended = float(get("definitions.marac_recommended_per_10k"))
    low, high = (
        float(get("definitions.marac_repeat_expected_low")),
        float(get("definitions.marac_repeat_expected_high")),
    )
    window = int(get("definitions.marac_repeat_window_days"))
    monthly = con.execute(
        "SELECT _month, count(*), count(*) FILTER (WHERE dash_score >= 14) FROM marac_referrals GROUP BY ALL"
    ).fetchall()
    counts = monthly_counts([(m, n) for m, n, _ in monthly], months)
    dash14 = int(sum(d for m, _, d in monthly if m in set(current)))
    referrals = int(sum(counts.get(m, 0) for m in current))
    family = [
        CountSeries(
            id="da.marac.referrals",
            topic="da",
            title="MARAC referrals",
            subject="MARAC referrals",
            monthly=counts,
            definition="Referrals to the Multi-Agency Risk Assessment Conference, counted by referral date.",
            sources=[_MARAC_SOURCE],
            good_direction="none",
            extra={
                "dash_14_or_more": dash14,
                "dash_14_or_more_share": dash14 / referrals if referrals else None,
            },
        )
    ]
    findings = drop_uncovered_comparisons(build_count_findings(family, ctx), months, ctx)
    findings.append(_marac_volume(ctx, referrals, counts, area.total_adult_women(), recommended))

    repeats, total = marac_repeats(con, current, window)
    base_repeats, base_total = marac_repeats(con, before, window) if before else (0, 0)
    if total and repeats == 0:
        note = (
            "No referral was a repeat: check that repeat referrals are identified (the same victim reference kept "
            f"across referrals); the expected band is {low:.0%}-{high:.0%}."
        )
    else:
        note = _band_words(repeats / total, low, high) if total else ""
    findings += build_proportion_findings(
        [
            Proportion(
                id="da.marac.repeat_rate",
                topic="da",
                title="MARAC repeat referral rate",
                subject="the MARAC repeat referral rate",
                numerator=repeats,
                denominator=total,
                baseline_numerator=base_repeats if before else None,
                baseline_denominator=base_total if before else None,
                definition=f"Referrals in the period made within {window} days after the same victim's previous "
                f"referral (definitions.marac_repeat_window_days; the previous one may be before the period), over "
                f"all referrals in the period. Expected band {low:.0%}-{high:.0%} "
                "(definitions.marac_repeat_expected_low/high; a CAADA-era figure to verify).",
                sources=[_MARAC_SOURCE],
                good_direction="none",
                missing=f"No MARAC referrals in {ctx.period_label}.",
                note=note,
                extra={"expected_low": low, "expected_high": high, "repeat_referrals": repeats},
            )
        ],
        ctx,
    )

    agencies = con.execute(
        "SELECT coalesce(lower(trim(referring_agency)), 'not recorded'), "
        "count(*) FILTER (WHERE list_contains($cur, _month)), count(*) FILTER (WHERE list_contains($base, _month)) "
        "FROM marac_referrals GROUP BY ALL",
        {"cur": current, "base": before},
    ).fetchall()
    extra = mix_extra({r[0]: int(r[1]) for r in agencies if r[1]}, {r[0]: int(r[2]) for r in agencies if r[2]})
    known = {k: n for k, n in extra["counts"].items() if k != "not recorded" and n}
    police_only = bool(known) and set(known) == {"police"}
    non_police = sum(n for k, n in known.items() if k != "police")
    extra["police_only"] = police_only
    extra["non_police_share"] = non_police / sum(known.values()) if known else None
    if not known:
        sentence = f"No MARAC referral in {ctx.period_label} records the referring agency."
    elif police_only:
        sentence = (
            f"Every one of the {format_number(sum(known.values()))} MARAC referrals with a referring agency in "
            f"{ctx.period_label} came from the police: no other agency referred, which suggests partners are not "
            "identifying high-risk victims."
        )
    else:
        top = ", ".join(f"{k} {n / sum(known.values()):.0%}" for k, n in list(known.items())[:4])
        sentence = (
            f"MARAC referrals in {ctx.period_label} by referring agency: {top}; "
            f"{extra['non_police_share']:.0%} came from agencies other than the police."
        )
    findings.append(
        level_finding(
            ctx,
            id="da.marac.referring_agencies",
            topic="da",
            title="MARAC referrals by referring agency",
            value=extra["non_police_share"],
            unit="proportion",
            definition="Share of MARAC referrals in the period (with a referring agency recorded) made by agencies "
            "other than the police; the full mix is in extra.",
            sentence=sentence,
            sources=[_MARAC_SOURCE],
            good_direction="up",
            emerging=police_only,
            extra=extra,
        )
    )

    children, with_children, unknown = con.execute(
        "SELECT coalesce(sum(children_in_household), 0), count(*) FILTER (WHERE children_in_household > 0), "
        "count(*) FILTER (WHERE children_in_household IS NULL) FROM marac_referrals WHERE list_contains($cur, _month)",
        {"cur": current},
    ).fetchall()[0]
    sentence = (
        f"{format_number(int(children))} children lived in the households of the {format_number(referrals)} MARAC "
        f"referrals in {ctx.period_label} ({format_number(int(with_children))} referrals had children in the "
        "household)."
    )
    if unknown:
        sentence += f" {format_number(int(unknown))} referrals did not record the number of children."
    findings.append(
        level_finding(
            ctx,
            id="da.marac.children",
            topic="da",
            title="Children in MARAC-referred households",
            value=float(children),
            unit="count",
            definition="Sum of children_in_household over MARAC referrals in the period (a child in two referred "
            "households, or referred twice, counts twice).",
            sentence=sentence,
            sources=[_MARAC_SOURCE],
            numerator=float(children),
            extra={"referrals_with_children": int(with_children), "referrals_not_recorded": int(unknown)},
        )
    )
    findings += quality_findings(
        con,
        ctx,
        table="marac_referrals",
        prefix="marac",
        what="MARAC referrals",
        checks=[
            QualityCheck("missing_referring_agency", "had no referring agency", "referring_agency IS NULL"),
            QualityCheck("missing_dash_score", "had no DASH score", "dash_score IS NULL"),
            QualityCheck("missing_perpetrator_ref", "had no perpetrator reference", "perpetrator_key IS NULL"),
        ],
        per_agency=False,
        sources=[_MARAC_SOURCE],
    )
    return findings


def _marac_volume(
    ctx: FindingContext, referrals: int, counts: dict[str, float], women: float | None, recommended: float
) -> Finding:
    comp = ctx.comparison
    n_months = len(comp.current_months)
    definition = (
        f"MARAC referrals in the period per 10,000 women aged 16 and over, annualised (x 12 / {n_months} months), "
        f"against the SafeLives recommended {format_number(recommended)} a year "
        "(definitions.marac_recommended_per_10k)."
    )
    if not women or not n_months:
        return level_finding(
            ctx,
            id="da.marac.per_10k_adult_women",
            topic="da",
            title="MARAC referrals per 10,000 women",
            value=None,
            unit="per 10,000 women aged 16+",
            definition=definition,
            sentence="The number of women aged 16 and over is not loaded (population adult_female_population), so "
            "MARAC volume cannot be compared with the recommended level.",
            sources=[_MARAC_SOURCE],
            numerator=float(referrals),
        )
    factor = 12 / n_months
    value = referrals / women * 10_000 * factor
    base_values = [
        sum(counts.get(m, 0.0) for m in ms) / women * 10_000 * 12 / len(ms) for ms in comp.baseline_months if ms
    ]
    baseline = sum(base_values) / len(base_values) if base_values else None
    expected = women / 10_000 * recommended / factor
    ratio = value / recommended if recommended else None
    sentence = (
        f"There were {format_number(round(value, 1))} MARAC referrals per 10,000 women aged 16+ "
        f"{'(annualised) ' if n_months != 12 else ''}in {ctx.period_label} ({format_number(referrals)} referrals, "
        f"against about {format_number(round(expected))} at the recommended {format_number(recommended)})"
    )
    if baseline is not None:
        sentence += f", compared with {format_number(round(baseline, 1))} in {ctx.comparison_label}"
    sentence += "."
    return level_finding(
        ctx,
        id="da.marac.per_10k_adult_women",
        topic="da",
        title="MARAC referrals per 10,000 women",
        value=value,
        unit="per 10,000 women aged 16+",
        definition=definition,
        sentence=sentence,
        sources=[_MARAC_SOURCE],
        baseline=baseline,
        good_direction="none",
        numerator=float(referrals),
        denominator=women,
        rate=value,
        rate_per=10_000,
        extra={
            "recommended_per_10k": recommended,
            "expected_referrals": expected,
            "volume_ratio": ratio,
            "annualisation_factor": factor,
            "adult_women": women,
        },
    )


def _serial_perpetrators(inp: TopicInput, has_da: bool, has_marac: bool) -> Finding:
    con, ctx = inp.con, inp.ctx

    def serial(table: str, months: list[str]) -> tuple[int, int, int]:
        row = con.execute(
            "WITH p AS (SELECT _agency, perpetrator_key, count(DISTINCT victim_key) AS victims, count(*) AS n "
            f"FROM {table} WHERE perpetrator_key IS NOT NULL AND list_contains($m, _month) GROUP BY ALL) "
            "SELECT count(*) FILTER (WHERE victims >= 2), count(*), coalesce(sum(n) FILTER (WHERE victims >= 2), 0) "
            "FROM p",
            {"m": months},
        ).fetchall()[0]
        return int(row[0]), int(row[1]), int(row[2])

    current, before = ctx.comparison.current_months, baseline_months(ctx)
    table = "domestic_abuse" if has_da else "marac_referrals"
    value, perpetrators, records = serial(table, current)
    baseline = serial(table, before)[0] if before else None
    extra: dict[str, Any] = {
        "source": table,
        "perpetrators_with_ref": perpetrators,
        "records_involving_serial": records,
    }
    if has_da and has_marac:
        m_value, m_perps, m_records = serial("marac_referrals", current)
        extra["marac"] = {"serial_perpetrators": m_value, "perpetrators_with_ref": m_perps, "referrals": m_records}
    note = (
        f"They were linked to {format_number(records)} {'incidents' if has_da else 'referrals'}."
        if value
        else ("No perpetrator reference is recorded." if not perpetrators else "")
    )
    return count_finding(
        ctx,
        id="da.serial_perpetrators",
        topic="da",
        title="Serial perpetrators of domestic abuse",
        subject="perpetrators linked to two or more victims",
        value=value,
        baseline=baseline,
        definition=f"Perpetrators (the agency's perpetrator reference, {table}) linked to at least two different "
        "victims in the period. Perpetrators are not linked across agencies.",
        sources=[_DA_SOURCE if has_da else _MARAC_SOURCE],
        note=note,
        extra=extra,
    )

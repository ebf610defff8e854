"""The introduction: the statutory basis, the area, the method and definitions, the statutory checklist."""

from __future__ import annotations

from cspkit.config import SETTINGS
from cspkit.report.builder import Builder
from cspkit.report.model import Column, Section, Table

#: Each definition in words (the setting's own description), so the document never prints a configuration key.
_DEFINITION_LABELS = {s.key: s.help for s in SETTINGS if s.section == "definitions"}


def _shown(value: object) -> str:
    if isinstance(value, float) and 0 < value < 1:
        return f"{value:.0%}"
    if value == "cchi_approx":
        return "Cambridge Crime Harm Index (approximate)"
    return f"{value:,}" if isinstance(value, int) and not isinstance(value, bool) else str(value)


def _introduction(b: Builder) -> Section:
    fs = b.fs
    area = fs.area
    pop = area.total_population()
    women = area.total_adult_women()
    profile = (
        f"{area.name} has {len(area.lsoa_ward)} LSOAs in {len(area.ward_names)} wards"
        + (f" and {pop:,.0f} residents ({area.population_source})" if pop else "")
        + (f", of whom {women:,.0f} are women aged 16 and over." if women else ".")
    )
    statutory = (
        "The Crime and Disorder Act 1998 (s.6) and the Crime and Disorder (Formulation and Implementation of "
        "Strategy) Regulations 2007 require the partnership to assess every year the levels and patterns of crime, "
        "disorder, anti-social behaviour, substance misuse and reoffending in its area, how they changed and why, "
        "what local people think should be prioritised, and how far last year's plan was implemented."
    )
    definitions = [
        {"setting": _DEFINITION_LABELS.get(k, k.split(".", 1)[1].replace("_", " ").capitalize()), "value": _shown(v)}
        for k, v in fs.definitions.items()
        if k.startswith("definitions.")
    ]
    method = [
        f"Period: {fs.period.label}, compared with {fs.comparison.baseline_label}. {fs.comparison.note}",
        "Change tests: the exact test for two Poisson counts (conditional binomial, allowing for different "
        "exposure), with the rate ratio and its 95% confidence interval; verdicts after Benjamini-Hochberg "
        "adjustment across the indicators compared together (area indicators as one family, ward indicators as "
        "another). Harm-weighted totals are not counts and are not tested.",
        "Control charts: a c-chart for monthly counts, or an XmR chart when the series is over-dispersed (chi-square "
        "dispersion test at p < 0.01); signals: a point beyond 3 sigma, 2 of 3 beyond 2 sigma, 8 in a row on one "
        "side.",
        "Forecasts: exponential smoothing with seasonality when 24 or more months are loaded (Holt's trend with "
        "12-23 months, simple smoothing below), with 80% and 95% intervals and a backtest on the last 6 months.",
        "Hotspots: share of incidents in the top 10% of LSOAs; persistent hotspots (top 10% in every 12-month "
        "block loaded); emerging hotspots (exact test, Benjamini-Hochberg across LSOAs); local Getis-Ord Gi* on "
        "queen contiguity with 999 permutations (fixed seed) and false discovery rate control.",
    ]
    harm = fs.get("crime.harm.total")
    if harm is not None:
        method.append(f"Harm: {harm.definition}")
    method += fs.notes
    sub = [
        Section("intro-area", "The area", b.narrative("intro-area", [profile])),
        Section(
            "intro-method",
            "Method and definitions",
            [
                *b.narrative("intro-method", method),
                Table(
                    [Column("setting", "Definition"), Column("value", "Value")],
                    definitions,
                    caption="Definitions in force (set by the partnership)",
                    id="definitions",
                ),
            ],
        ),
    ]
    if b.inp.checklist:
        sub.append(
            Section(
                "intro-checklist",
                "Statutory checklist",
                [
                    Table(
                        [
                            Column("id", "Ref"),
                            Column("requirement", "Requirement"),
                            Column("status", "Status"),
                            Column("evidence", "Where the assessment covers it"),
                        ],
                        [{**r, "evidence": b.scrub(str(r.get("evidence") or ""))} for r in b.inp.checklist],
                        caption="Statutory content of the assessment (SI 2007/1830 reg. 5)",
                        id="checklist",
                    )
                ],
            )
        )
    return Section(
        "introduction", "Introduction", b.narrative("introduction", [statutory]), sub, xlsx_sheet="Introduction"
    )


def build(b: Builder) -> list[Section]:
    """This chapter's sections (none when there is nothing to report)."""
    section = _introduction(b)
    return [] if section is None else [section]

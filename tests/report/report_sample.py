"""A realistic sample Strategic Assessment for the report renderer tests and the sample-render script.

Numbers are synthetic but shaped like a real English CSP assessment (cover, executive summary with tiles, a
crime chapter with a chart and a 60-row table, an ASB chapter with a caution, appendices).
"""

from __future__ import annotations

import functools
import math

from cspkit.report.charts import Forecast, bar_chart, heatmap, series_chart
from cspkit.report.model import (
    Callout,
    Column,
    Document,
    Figure,
    Paragraph,
    Provenance,
    Section,
    Table,
    Tile,
    Tiles,
)

MONTHS = [f"{2021 + (4 + i) // 12}-{(4 + i) % 12 + 1:02d}" for i in range(24)]  # 2021-05 .. 2023-04
POLICE = Provenance(
    sources=["Bedfordshire Police street-level crime, data.police.uk, May 2021 to April 2023"],
    finding_ids=["crime.all.count"],
    definition="Recorded crimes by month of report; ASB excluded",
)


def monthly_values() -> list[float]:
    """A seasonal crime series with a rise in summer 2022."""
    return [round(1480 + 120 * math.sin((i - 1) / 12 * 2 * math.pi) + (90 if 13 <= i <= 16 else 0)) for i in range(24)]


def lsoa_rows(n: int = 60) -> list[dict[str, object]]:
    """n LSOA rows sorted by count, with a negative change or two and one suppressed value."""
    rows: list[dict[str, object]] = []
    for i in range(n):
        count = 420 - 6 * i
        population = 1500 + (i * 37) % 400
        rows.append(
            {
                "code": f"E01{15400 + i:06d}",
                "name": f"Luton {i // 4 + 1:03d}{'ABCD'[i % 4]}",
                "ward": ["Biscot", "Dallow", "High Town", "Farley", "South", "Saints"][i % 6],
                "count": count,
                "rate": count / population * 1000,
                "change": ((i % 7) - 3) / 20,
                "share": count / 18000,
            }
        )
    rows[5]["change"] = None
    return rows


def build_sample_document() -> Document:
    """The sample document used across the renderer tests."""
    values = monthly_values()
    mean = sum(values) / len(values)
    forecast = Forecast(
        months=["2023-05", "2023-06", "2023-07", "2023-08", "2023-09", "2023-10"],
        mean=[1560, 1590, 1600, 1590, 1560, 1530],
        lo80=[1460, 1480, 1485, 1470, 1435, 1400],
        hi80=[1660, 1700, 1715, 1710, 1685, 1660],
        lo95=[1405, 1420, 1420, 1405, 1370, 1330],
        hi95=[1715, 1760, 1780, 1775, 1750, 1730],
    )
    trend = series_chart(
        MONTHS,
        values,
        centre=mean,
        ucl=mean + 3 * math.sqrt(mean),
        lcl=mean - 3 * math.sqrt(mean),
        signals=["2022-07"],
        forecast=forecast,
        title="All recorded crime, Luton",
        y_label="Crimes per month",
    )
    mix = bar_chart(
        [
            "Violence and sexual offences",
            "Anti-social behaviour",
            "Public order",
            "Shoplifting",
            "Criminal damage",
        ],
        [7412, 5120, 2630, 1894, 1702],
        title="Crime mix, May 2022 to April 2023",
        x_label="Crimes",
    )
    by_hour = heatmap(
        [
            [round(5 + 20 * max(0.0, math.sin((h - 8) / 24 * 2 * math.pi)) * (1.4 if d >= 4 else 1)) for h in range(24)]
            for d in range(7)
        ],
        title="ASB incidents by day and hour",
        value_label="Incidents",
    )

    summary = Section(
        id="executive-summary",
        title="Executive summary",
        blocks=[
            Paragraph(
                "Recorded crime in Luton was **broadly stable** over the year to April 2023: 18,412 crimes "
                "against 18,120 the year before (+1.6%, *not a significant change*). "
                "Three things stand out:\n\n"
                "- violence against the person rose in the town centre in summer 2022;\n"
                "- repeat victims of ASB fell from 212 to 174;\n"
                "- high-risk MARAC referrals rose for the second year running."
            ),
            Tiles(
                [
                    Tile("All recorded crime", "18,412", "+1.6% on last year (not significant)", "neutral"),
                    Tile("Violence against the person", "7,412", "+8.2% on last year (significant)", "red"),
                    Tile("Repeat ASB victims", "174", "down from 212", "green"),
                    Tile("MARAC referrals", "391", "high-risk cases up 11%", "amber"),
                    Tile("Proven reoffending (IOM)", "1.03", "reoffences per reoffender, was 1.96", "green"),
                    Tile("Public concern about ASB", "41%", "residents' survey, 1,204 respondents", None),
                ],
                provenance=Provenance(sources=["Bedfordshire Police", "Luton Council ASB team", "MARAC coordinator"]),
            ),
            Callout(
                "key",
                "Recommended priorities",
                "Violence in the town centre night-time economy; domestic abuse; repeat and vulnerable victims of ASB.",
            ),
        ],
    )
    intro = Section(
        id="introduction",
        title="Introduction",
        blocks=[
            Paragraph(
                "This assessment meets the duty in the Crime and Disorder Act 1998 for the partnership to "
                "assess crime, disorder, substance misuse and reoffending every year. "
                "It covers **May 2022 to April 2023** and compares it with the year before.\n\n"
                "Raw HTML such as <script>alert(1)</script> is shown as text, never run."
            )
        ],
    )
    crime = Section(
        id="crime",
        title="Crime and disorder",
        xlsx_sheet="Crime",
        blocks=[Paragraph("This chapter looks at recorded crime across the borough, then at where it happens.")],
        subsections=[
            Section(
                id="crime-trend",
                title="Trend in recorded crime",
                blocks=[
                    Paragraph(
                        "Monthly crime stayed within its control limits except **July 2022**, "
                        "which was above the upper limit. "
                        "The forecast for the next six months is close to this year's level."
                    ),
                    Figure.from_chart(
                        trend,
                        caption="Monthly recorded crime with control limits and forecast",
                        provenance=POLICE,
                    ),
                    Figure.from_chart(mix, caption="Crime mix", provenance=POLICE),
                ],
            ),
            Section(
                id="crime-places",
                title="Where crime happens",
                blocks=[
                    Paragraph("The table ranks neighbourhoods (LSOAs) by the number of crimes recorded."),
                    Table(
                        columns=[
                            Column("code", "LSOA code"),
                            Column("name", "LSOA name"),
                            Column("ward", "Ward"),
                            Column("count", "Crimes", "int"),
                            Column("rate", "Rate per 1,000", "rate"),
                            Column("change", "Change", "percent"),
                            Column("share", "Share of borough", "percent"),
                        ],
                        rows=lsoa_rows(60),
                        caption="Recorded crime by LSOA, May 2022 to April 2023",
                        note="Rates use mid-2024 population estimates.",
                        id="crime-by-lsoa",
                        provenance=POLICE,
                    ),
                ],
            ),
        ],
    )
    asb = Section(
        id="asb",
        title="Anti-social behaviour",
        blocks=[
            Paragraph("ASB incidents peak on Friday and Saturday evenings."),
            Callout(
                "caution",
                "Recording change",
                "The council changed its ASB case system in *October 2022*; "
                "counts before and after are not directly comparable.",
            ),
            Figure.from_chart(
                by_hour,
                caption="ASB incidents by day of week and hour",
                provenance=Provenance(sources=["Luton Council ASB team"]),
            ),
            Table(
                columns=[
                    Column("category", "Category"),
                    Column("last", "2021-22", "int"),
                    Column("this", "2022-23", "int"),
                    Column("change", "Change", "percent"),
                ],
                rows=[
                    {"category": "Personal", "last": 1210, "this": 1102, "change": -0.089},
                    {"category": "Nuisance", "last": 3340, "this": 3415, "change": 0.022},
                    {"category": "Environmental", "last": 640, "this": "<5", "change": None},
                ],
                caption="ASB incidents by category",
                provenance=Provenance(sources=["Luton Council ASB team"], finding_ids=["asb.category.count"]),
            ),
        ],
    )
    appendix = Section(
        id="appendix-recommendations",
        title="Appendix A: Last year's recommendations",
        xlsx_sheet="Recommendations",
        blocks=[
            Table(
                columns=[Column("ref", "Ref"), Column("text", "Recommendation"), Column("status", "Status")],
                rows=[
                    {
                        "ref": "R1",
                        "text": "Commission a perpetrator programme for domestic abuse.",
                        "status": "Done",
                    },
                    {
                        "ref": "R2",
                        "text": "Share ASB repeat-victim lists weekly between police and council.",
                        "status": "In progress",
                    },
                    {"ref": "R3", "text": "Review IOM cohort housing needs.", "status": "Not started"},
                ],
                caption="Status of last year's recommendations",
            )
        ],
    )
    return Document(
        title="Partnership Strategic Assessment 2023",
        partnership="Safer Luton Partnership",
        period_label="May 2022 to April 2023",
        marking="OFFICIAL",
        edition="public",
        date="2023-07-14",
        sections=[summary, intro, crime, asb, appendix],
        attribution=[
            "Contains public sector information licensed under the Open Government Licence v3.0.",
            "Contains National Statistics data © Crown copyright and database right 2023.",
        ],
        glossary=[
            ("ASB", "Anti-social behaviour."),
            ("LSOA", "Lower-layer Super Output Area, a small area of about 1,500 residents."),
            ("MARAC", "Multi-Agency Risk Assessment Conference, for high-risk domestic abuse victims."),
        ],
    )


@functools.cache
def sample_document() -> Document:
    """The sample document, built once per test session (charts take about a second). Do not mutate it."""
    return build_sample_document()

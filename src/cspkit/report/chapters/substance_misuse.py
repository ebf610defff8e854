"""The substance misuse chapter: drug and alcohol treatment (NDTMS-style extract) beside police drug offences."""

from __future__ import annotations

from typing import Any

from cspkit.report.builder import Builder, percent_with_base, prov
from cspkit.report.model import Column, Paragraph, Section, Table

_GROUPS = ("opiate", "non_opiate", "alcohol", "non_opiate_and_alcohol")
_LABELS = {
    "opiate": "Opiates",
    "non_opiate": "Non-opiates",
    "alcohol": "Alcohol only",
    "non_opiate_and_alcohol": "Non-opiates and alcohol",
}


def build(b: Builder) -> list[Section]:
    """The chapter, when treatment findings exist."""
    fs = b.fs
    treatment = fs.get("substance.in_treatment")
    if treatment is None:
        return []
    key = [
        fs.get(i)
        for i in (
            "substance.in_treatment",
            "substance.new_presentations",
            "substance.completion_rate",
            "substance.representation_rate",
        )
    ]
    texts = [b.sentence(f) for f in key if f is not None]
    alcohol = fs.get("substance.alcohol.new_presentations")
    if alcohol is not None and alcohol.change is not None and alcohol.change.significant:
        texts.append(b.sentence(alcohol))
    drugs = fs.get("crime.drugs.count")
    if drugs is not None:
        texts.append("Police context: " + b.sentence(drugs))
    rows: list[dict[str, Any]] = []
    used = [f for f in key if f is not None]
    for group in _GROUPS:
        new = fs.get(f"substance.{group}.new_presentations")
        rate = fs.get(f"substance.{group}.completion_rate")
        if new is None and rate is None:
            continue
        used += [f for f in (new, rate) if f is not None]
        rows.append(
            {
                "group": _LABELS[group],
                "in_treatment": rate.denominator if rate is not None else None,
                "new": new.value if new is not None else None,
                "new_before": new.baseline if new is not None else None,
                "new_verdict": b.verdict(new) if new is not None else "",
                "completion": percent_with_base(rate) if rate is not None else "",
                "completion_verdict": b.verdict(rate) if rate is not None else "",
            }
        )
    blocks: list[Any] = [*b.narrative("substance-misuse", texts)]
    if rows:
        blocks.append(
            b.protect(
                Table(
                    [
                        Column("group", "Substance"),
                        Column("in_treatment", "In treatment", "int"),
                        Column("new", "New presentations", "int"),
                        Column("new_before", "Year before", "int"),
                        Column("new_verdict", "Change"),
                        Column("completion", "Completed successfully"),
                        Column("completion_verdict", "Change in completion"),
                    ],
                    rows,
                    caption="Drug and alcohol treatment by substance",
                    id="substance",
                    provenance=prov(used, treatment.definition),
                )
            )
        )
    blocks.append(
        Paragraph(
            "New presentations are rated neither better nor worse: more people coming forward for treatment is not "
            "in itself a worse outcome. Successful completions are better when higher; re-presentations within six "
            "months are better when lower."
        )
    )
    return [Section("substance-misuse", "Substance misuse", blocks, xlsx_sheet="Substance misuse")]

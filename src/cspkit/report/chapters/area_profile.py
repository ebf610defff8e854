"""The area profile: the people (population and age structure), deprivation (IMD 2025 by LSOA, mapped), crime and
ASB rates by deprivation decile, and the area's towns and wards by name."""

from __future__ import annotations

import re
from typing import Any

from cspkit.findings.model import Finding
from cspkit.report.builder import OS_BOUNDARIES, Builder, prov
from cspkit.report.model import Column, Figure, Paragraph, Section, Table

_AGE_LABELS = {"0-15": "Under 16", "16-29": "16 to 29", "30-44": "30 to 44", "45-64": "45 to 64", "65+": "65 and over"}
#: Ward-name endings that make a ward a part of a town ("Leighton-Linslade North", "Dunstable Central").
_PART = re.compile(r"\s+(?:North|South|East|West|Central|Town|Rural)(?:\s+and\s+\w+)?$")


def town_of(ward_name: str) -> str:
    """The town a ward belongs to, from its name: the name without a compass or district ending."""
    return _PART.sub("", ward_name).strip() or ward_name


def towns(ward_names: dict[str, str]) -> dict[str, list[str]]:
    """Towns (a name shared by two or more wards) -> their wards; other wards are listed on their own."""
    groups: dict[str, list[str]] = {}
    for name in sorted(ward_names.values()):
        groups.setdefault(town_of(name), []).append(name)
    return groups


def _age_table(f: Finding) -> Table | None:
    ages = f.extra.get("age_sex") or {}
    if not ages:
        return None
    total = sum(sum(v.values()) for v in ages.values())
    rows = []
    for band, label in _AGE_LABELS.items():
        women, men = ages["F"].get(band, 0), ages["M"].get(band, 0)
        rows.append({"age": label, "women": women, "men": men, "share": (women + men) / total if total else None})
    rows.append({"age": "All ages", "women": sum(ages["F"].values()), "men": sum(ages["M"].values()), "share": 1.0})
    return Table(
        [
            Column("age", "Age"),
            Column("women", "Women", "int"),
            Column("men", "Men", "int"),
            Column("share", "Share of residents", "percent"),
        ],
        rows,
        caption="Residents by age and sex (ONS mid-2024 estimates)",
        id="profile-ages",
        provenance=prov([f], f.definition),
    )


def _deprivation_map(b: Builder, f: Finding) -> Figure | None:
    scores = f.extra.get("lsoa_scores") or {}
    if not scores or b.inp.boundaries_lsoa is None:
        return None
    from cspkit.report.maps import choropleth_png, choropleth_svg

    most = [code for code, d in (f.extra.get("lsoa_deciles") or {}).items() if d <= 2]
    title = "Deprivation by neighbourhood (IMD 2025 score)"
    label = "IMD 2025 score (higher is more deprived)"
    outline = "Most deprived fifth of England (deciles 1-2)"
    area = b.fs.area
    wards = sorted({area.ward_names.get(area.lsoa_ward.get(code, ""), code) for code in most})
    kwargs: dict[str, Any] = {
        "hotspots": most,
        "outline_label": outline + ", in",
        "outline_names": wards,
        "places": b.place_labels(),
    }
    svg = choropleth_svg(scores, b.inp.boundaries_lsoa, title, label, **kwargs)
    png = choropleth_png(scores, b.inp.boundaries_lsoa, title, label, **kwargs)
    b.used_ids.add(f.id)
    return Figure(
        svg=svg,
        png=png,
        alt=(
            f"Map of {b.fs.area.name}'s {len(scores)} neighbourhoods shaded by deprivation score, darker for more "
            f"deprived; the {len(most)} in the most deprived fifth of England are outlined, with towns named."
        ),
        caption=title,
        raster_in_print=True,
        provenance=prov([f], "IMD 2025 score by LSOA; outlined: national deciles 1-2. " + OS_BOUNDARIES),
    )


def _gradient_table(crime: Finding | None, asb: Finding | None) -> Table | None:
    base = crime or asb
    if base is None:
        return None
    rows: dict[int, dict[str, Any]] = {}
    for key, f in (("crime", crime), ("asb", asb)):
        for r in (f.extra.get("by_decile") or []) if f is not None else []:
            row = rows.setdefault(
                r["decile"], {"decile": r["decile"], "lsoas": r["lsoas"], "population": r["population"]}
            )
            row[key] = r["count"]
            row[f"{key}_rate"] = r["rate"]
    columns = [
        Column("decile", "IMD decile (1 = most deprived)", "int"),
        Column("lsoas", "Neighbourhoods", "int"),
        Column("population", "Residents", "int"),
    ]
    if crime is not None:
        columns += [Column("crime", "Crimes", "int"), Column("crime_rate", "Crimes per 1,000", "rate")]
    if asb is not None:
        columns += [Column("asb", "ASB incidents", "int"), Column("asb_rate", "ASB per 1,000", "rate")]
    return Table(
        columns,
        [rows[d] for d in sorted(rows)],
        caption="Crime and ASB by deprivation decile",
        id="profile-deprivation",
        provenance=prov([f for f in (crime, asb) if f is not None], base.definition),
    )


def _places(b: Builder) -> Table:
    area = b.fs.area
    population = area.population
    by_ward: dict[str, float] = {}
    for lsoa, ward in area.lsoa_ward.items():
        by_ward[ward] = by_ward.get(ward, 0.0) + population.get(lsoa, 0.0)
    name_to_code = {name: code for code, name in area.ward_names.items()}
    rows = []
    for town, wards in sorted(towns(area.ward_names).items(), key=lambda kv: (-len(kv[1]), kv[0])):
        residents = sum(by_ward.get(name_to_code[w], 0.0) for w in wards)
        rows.append(
            {
                "place": town if len(wards) > 1 else wards[0],
                "kind": "Town" if len(wards) > 1 else "Ward",
                "wards": ", ".join(wards),
                "residents": residents,
            }
        )
    return Table(
        [
            Column("place", "Town or ward"),
            Column("kind", "Kind"),
            Column("wards", "Wards"),
            Column("residents", "Residents", "int"),
        ],
        rows,
        caption="Towns and wards",
        id="profile-places",
        note="A town is a name shared by two or more wards (e.g. North and South wards of one town).",
        print_max_rows=40,
    )


def build(b: Builder) -> list[Section]:
    """The area profile chapter (left out when there is no profile finding)."""
    fs = b.fs
    people = fs.get("profile.population")
    deprivation = fs.get("profile.deprivation")
    crime = fs.get("profile.crime_by_deprivation")
    asb = fs.get("profile.asb_by_deprivation")
    if people is None and deprivation is None:
        return []
    sub: list[Section] = []
    if people is not None:
        blocks: list[Any] = [*b.narrative("profile-people", [b.sentence(people)])]
        ages = _age_table(people)
        if ages is not None:
            blocks.append(ages)
        blocks.append(_places(b))
        sub.append(Section("profile-people", "People and places", blocks))
    if deprivation is not None:
        texts = [b.sentence(deprivation)] + [b.sentence(f) for f in (crime, asb) if f is not None]
        blocks = [*b.narrative("profile-deprivation", texts)]
        figure = _deprivation_map(b, deprivation)
        if figure is not None:
            blocks.append(figure)
        table = _gradient_table(crime, asb)
        if table is not None:
            blocks.append(b.protect(table, counts=[c.key for c in table.columns if c.key in ("crime", "asb")]))
        sub.append(Section("profile-deprivation", "Deprivation", blocks))
    intro = Paragraph(
        "Who lives in the area, where its most deprived neighbourhoods are, and how crime and anti-social behaviour "
        "follow deprivation: the context for every chapter that follows."
    )
    return [Section("area-profile", "Area profile", [intro], sub, xlsx_sheet="Area profile")]

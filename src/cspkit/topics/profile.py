"""The area profile: who lives in the area, how deprived its neighbourhoods are, and where crime and ASB fall.

Findings (no significance test on a level; the gradient carries a rate ratio with its exact test):

- ``profile.population``: residents (the population loaded), with the age and sex structure from the bundled ONS
  mid-2024 LSOA estimates summed over the area's LSOAs.
- ``profile.deprivation``: the share of the area's LSOAs in the most deprived fifth of England (IMD 2025 deciles
  1-2), with every LSOA's national decile and the wards holding the most deprived LSOAs.
- ``profile.crime_by_deprivation`` and ``profile.asb_by_deprivation``: police-recorded crime and ASB per 1,000
  residents by IMD decile in the period, and the rate ratio of the most deprived fifth of LSOAs against the least
  deprived fifth (exact Poisson test, 95% interval).

The bundled IMD file covers the Bedfordshire authorities; elsewhere the deprivation findings are left out and say
so in the run's notes.
"""

from __future__ import annotations

import csv
import gzip
import io
from typing import Any

from cspkit.bundled import bundled_path
from cspkit.findings.engine import TopicInput
from cspkit.findings.model import Finding
from cspkit.findings.stats import poisson_exact_test, rate_ratio_ci
from cspkit.topics._partner import level_finding

__all__ = ["build", "imd_deciles"]

IMD_FILE = "deprivation/imd2025_lsoa21_bedfordshire.csv"
AGE_FILE = "population/mid2024_population_sex_broadage_lsoa21_ew.csv.gz"
AGE_BANDS = ("0-15", "16-29", "30-44", "45-64", "65+")
_IMD_SOURCE = "English Indices of Deprivation 2025 (MHCLG), LSOA 2021 deciles"
_AGE_SOURCE = "ONS mid-2024 population estimates by LSOA, sex and broad age"


def _bundled(relative: str) -> bytes:
    return bundled_path(relative).read_bytes()


def imd_deciles(lsoas: set[str]) -> dict[str, int]:
    """National IMD 2025 decile (1 = most deprived tenth of England) of each of these LSOAs in the bundle."""
    return {code: decile for code, (decile, _) in _imd(lsoas).items()}


def _imd(lsoas: set[str]) -> dict[str, tuple[int, float]]:
    """LSOA -> (national decile, IMD score: higher is more deprived) for these LSOAs in the bundle."""
    reader = csv.DictReader(io.StringIO(_bundled(IMD_FILE).decode("utf-8")))
    return {
        r["lsoa21_code"]: (int(r["IMD_decile"]), float(r["IMD_score"])) for r in reader if r["lsoa21_code"] in lsoas
    }


def _age_structure(lsoas: set[str]) -> dict[str, dict[str, int]]:
    reader = csv.reader(io.StringIO(gzip.decompress(_bundled(AGE_FILE)).decode("utf-8")))
    header = next(reader)
    code = header.index("LSOA21CD")
    columns = {(sex, band): header.index(f"{sex}{band}") for sex in ("F", "M") for band in AGE_BANDS}
    out = {"F": dict.fromkeys(AGE_BANDS, 0), "M": dict.fromkeys(AGE_BANDS, 0)}
    for row in reader:  # the country's LSOAs: plain rows, as a dict per row took a tenth of a second
        if row[code] in lsoas:
            for (sex, band), i in columns.items():
                out[sex][band] += int(row[i])
    return out


def _police_by_lsoa(inp: TopicInput, asb: bool) -> dict[str, int]:
    months = list(inp.ctx.comparison.current_months)
    if not months:
        return {}
    condition = "=" if asb else "<>"
    rows = inp.con.execute(
        "SELECT lsoa_code, count(*) FROM police_street WHERE month IN (SELECT unnest($m)) "
        f"AND crime_type {condition} 'Anti-social behaviour' AND lsoa_code IS NOT NULL GROUP BY ALL",
        {"m": months},
    ).fetchall()
    return {str(lsoa): int(n) for lsoa, n in rows}


def _gradient(
    inp: TopicInput, counts: dict[str, int], deciles: dict[str, int], what: str, id_: str, title: str
) -> Finding | None:
    population = inp.area.population
    by_decile: dict[int, dict[str, float]] = {}
    for lsoa, decile in deciles.items():
        d = by_decile.setdefault(decile, {"count": 0.0, "population": 0.0, "lsoas": 0.0})
        d["count"] += counts.get(lsoa, 0)
        d["population"] += population.get(lsoa, 0.0)
        d["lsoas"] += 1
    rows = [
        {
            "decile": decile,
            "lsoas": int(d["lsoas"]),
            "count": int(d["count"]),
            "population": int(d["population"]),
            "rate": d["count"] / d["population"] * 1000 if d["population"] else None,
        }
        for decile, d in sorted(by_decile.items())
    ]

    def fifth(deciles_in: tuple[int, ...]) -> tuple[float, float]:
        chosen = [by_decile[d] for d in deciles_in if d in by_decile]
        return sum(c["count"] for c in chosen), sum(c["population"] for c in chosen)

    most_x, most_pop = fifth((1, 2))
    least_x, least_pop = fifth((9, 10))
    if not rows or most_pop == 0 or least_pop == 0:
        return None
    ratio = rate_ratio_ci(least_x, least_pop, most_x, most_pop)
    if ratio.ratio is None or ratio.low is None or ratio.high is None:
        return None
    p = poisson_exact_test(least_x, least_pop, most_x, most_pop)
    most_rate, least_rate = most_x / most_pop * 1000, least_x / least_pop * 1000
    sentence = (
        f"{what[:1].upper() + what[1:]} was {most_rate:.1f} per 1,000 residents in the most deprived fifth of the "
        f"area's neighbourhoods (IMD deciles 1-2: {most_x:,.0f} in {most_pop:,.0f} residents) against "
        f"{least_rate:.1f} in the least deprived fifth (deciles 9-10: {least_x:,.0f} in {least_pop:,.0f}), a rate "
        f"ratio of {ratio.ratio:.1f} (95% CI {ratio.low:.1f}–{ratio.high:.1f}"
        + ("; p < 0.001)." if p < 0.001 else f"; p = {p:.2g}).")
    )
    return level_finding(
        inp.ctx,
        id=id_,
        topic="profile",
        title=title,
        value=ratio.ratio,
        unit="rate ratio",
        definition=f"{what[:1].upper() + what[1:]} (police, data.police.uk) per 1,000 residents by the national "
        "IMD 2025 decile of the LSOA; rate ratio of deciles 1-2 against deciles 9-10 with the exact conditional "
        "binomial test.",
        sentence=sentence,
        sources=["data.police.uk street-level crime and ASB", _IMD_SOURCE],
        extra={
            "by_decile": rows,
            "most_deprived_rate": most_rate,
            "least_deprived_rate": least_rate,
            "ci_low": ratio.low,
            "ci_high": ratio.high,
            "p_value": p,
        },
    )


def build(inp: TopicInput) -> list[Finding]:
    """The profile findings; deprivation only where the bundled IMD covers the area."""
    area, ctx = inp.area, inp.ctx
    lsoas = set(area.lsoa_ward)
    out: list[Finding] = []
    total = area.total_population()
    if total:
        ages = _age_structure(lsoas)
        structure_total = sum(sum(v.values()) for v in ages.values())
        shares: dict[str, Any] = {}
        if structure_total:
            shares = {band: (ages["F"][band] + ages["M"][band]) / structure_total for band in AGE_BANDS}
        text = (
            f"{area.name} has {total:,.0f} residents in {len(lsoas)} neighbourhoods (LSOAs) and "
            f"{len(area.ward_names)} wards."
        )
        if shares:
            by_band = {band: ages["F"][band] + ages["M"][band] for band in AGE_BANDS}
            text += (
                f" Of {structure_total:,} residents in the mid-2024 estimates, {by_band['0-15']:,} "
                f"({shares['0-15']:.0%}) are children under 16 and {by_band['65+']:,} ({shares['65+']:.0%}) are 65 "
                f"or over; {by_band['16-29']:,} ({shares['16-29']:.0%}) are aged 16 to 29, the ages at which people "
                "are most often victims and offenders."
            )
        out.append(
            level_finding(
                ctx,
                id="profile.population",
                topic="profile",
                title="Residents",
                value=float(total),
                unit="count",
                definition="Residents of the area's LSOAs (the population loaded); the age and sex structure is the "
                "ONS mid-2024 estimate summed over the same LSOAs.",
                sentence=text,
                sources=[area.population_source or "population", _AGE_SOURCE],
                extra={"age_sex": ages, "age_shares": shares, "wards": len(area.ward_names), "lsoas": len(lsoas)},
            )
        )
    imd = _imd(lsoas)
    deciles = {code: decile for code, (decile, _) in imd.items()}
    if not deciles:
        return out
    most = [lsoa for lsoa, d in deciles.items() if d <= 2]
    wards: dict[str, int] = {}
    for lsoa in most:
        name = area.ward_names.get(area.lsoa_ward.get(lsoa, ""), "")
        wards[name] = wards.get(name, 0) + 1
    top_wards = sorted(wards, key=lambda w: (-wards[w], w))[:4]
    share = len(most) / len(deciles)
    counts = {d: sum(1 for v in deciles.values() if v == d) for d in range(1, 11)}
    sentence = (
        f"{len(most)} of {len(deciles)} neighbourhoods in the area ({share:.0%}) are among the most deprived fifth "
        "in England (IMD 2025 deciles 1-2)"
        + (f", in {', '.join(top_wards[:-1])} and {top_wards[-1]}" if len(top_wards) > 1 else "")
        + (f", in {top_wards[0]}" if len(top_wards) == 1 else "")
        + f"; {counts[9] + counts[10]} are in the least deprived fifth."
    )
    out.append(
        level_finding(
            ctx,
            id="profile.deprivation",
            topic="profile",
            title="Deprivation (IMD 2025)",
            value=share,
            unit="proportion",
            definition="Share of the area's LSOAs in national IMD 2025 deciles 1-2 (decile 1 = the most deprived "
            "tenth of LSOAs in England).",
            sentence=sentence,
            sources=[_IMD_SOURCE],
            numerator=float(len(most)),
            denominator=float(len(deciles)),
            extra={
                "lsoa_deciles": deciles,
                "lsoa_scores": {code: score for code, (_, score) in imd.items()},
                "lsoas_by_decile": {str(d): n for d, n in counts.items()},  # JSON keys are strings
                "wards_most_deprived": top_wards,
            },
        )
    )
    for asb, id_, title, what in (
        (False, "profile.crime_by_deprivation", "Crime by deprivation", "recorded crime"),
        (True, "profile.asb_by_deprivation", "ASB by deprivation", "police-recorded ASB"),
    ):
        finding = _gradient(inp, _police_by_lsoa(inp, asb), deciles, what, id_, title)
        if finding is not None:
            out.append(finding)
    return out

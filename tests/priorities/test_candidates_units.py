"""The volume criterion compares like with like: every candidate's rate is per 1,000 residents."""

from __future__ import annotations

import pytest

from cspkit.findings.area import AreaContext
from cspkit.findings.engine import FindingSet
from cspkit.findings.harm import get_harm_index
from cspkit.findings.model import Finding
from cspkit.findings.periods import month_range, parse_period, plan_comparison
from cspkit.priorities.candidates import PublicViews, assemble_candidates


def _finding(ident: str, title: str, value: float, rate: float, unit: str) -> Finding:
    return Finding(
        id=ident,
        topic="crime",
        title=title,
        area="E0",
        area_name="Area",
        period=("2023-04", "2024-03"),
        value=value,
        unit="count",
        definition="hand",
        sentence="hand",
        rate=rate,
        rate_per=1000,
        rate_unit=unit,
    )


def test_burglary_per_household_is_scored_per_resident() -> None:
    """835 burglaries: 6.34 per 1,000 households, but 2.64 per 1,000 of 315,877 residents for the matrix."""
    area = AreaContext(["E0"], "Area", {"L1": "W1"}, {"W1": "Ward"}, {"L1": "L"}, population={"L1": 315_877.0})
    comparison = plan_comparison(parse_period("2023-24"), month_range("2022-04", "2024-03"))
    findings = [
        _finding("crime.burglary.count", "Burglary", 835, 835 / 131_617 * 1000, "per 1,000 households"),
        _finding("crime.robbery.count", "Robbery", 126, 126 / 315_877 * 1000, "per 1,000 residents"),
    ]
    fs = FindingSet(findings, comparison.current, comparison, area, {})
    views = PublicViews(None, {}, {}, "")
    by_key = {c.key: c for c in assemble_candidates(fs, get_harm_index("unweighted"), views)}
    assert by_key["burglary"].rate == pytest.approx(835 / 315_877 * 1000)
    assert round(by_key["burglary"].rate or 0, 2) == 2.64
    assert by_key["robbery"].rate == pytest.approx(126 / 315_877 * 1000)


def _nested_set() -> FindingSet:
    """The demo's figures: 5,957 police violence and sexual offences; 5,378 domestic-abuse incidents of which 2,033
    are crimes; 61 of those incidents are sexual offences (the sexual-violence series)."""
    area = AreaContext(["E0"], "Area", {"L1": "W1"}, {"W1": "Ward"}, {"L1": "L"}, population={"L1": 315_877.0})
    comparison = plan_comparison(parse_period("2023-24"), month_range("2022-04", "2024-03"))
    per = 1000 / 315_877
    vso = _finding("crime.violence_and_sexual_offences.count", "Violence and sexual offences", 5957, 5957 * per, "")
    da = Finding(**{**_finding("da.incidents", "DA", 5378, 5378 * per, "per 1,000 residents").__dict__, "topic": "da"})
    da_crimes = _finding("da.crimes", "DA crimes", 2033, 2033 * per, "per 1,000 residents")
    sv = _finding("sv.partner.count", "Sexual offences (DA records)", 61, 61 * per, "per 1,000 residents")
    return FindingSet([vso, da, da_crimes, sv], comparison.current, comparison, area, {})


def test_nested_candidates_are_scored_once() -> None:
    """Violence and sexual offences is scored on 5,957 - 2,033 = 3,924 crimes, domestic abuse's harm on 2,033 - 61 =
    1,972 crimes (its volume on 5,378 - 61 incidents), sexual violence on its 61: the harm of the three adds up to
    the harm of the 5,957 police crimes, once each."""
    harm = get_harm_index("cchi_approx")
    fs = _nested_set()
    by_key = {c.key: c for c in assemble_candidates(fs, harm, PublicViews(None, {}, {}, ""))}
    weight = harm.weight("Violence and sexual offences")
    assert weight is not None
    vso, da, sv = by_key["violence_and_sexual_offences"], by_key["domestic_abuse"], by_key["sexual_violence"]
    assert vso.count == pytest.approx(3924)
    assert vso.rate == pytest.approx(3924 / 315_877 * 1000)
    assert vso.harm_rate == pytest.approx(3924 * weight / 315_877 * 1000)
    assert da.count == pytest.approx(5378 - 61)
    assert da.harm_rate == pytest.approx(1972 * weight / 315_877 * 1000)
    assert sv.harm_rate == pytest.approx(61 * weight / 315_877 * 1000)
    total = sum(c.harm_rate or 0 for c in (vso, da, sv))
    assert total == pytest.approx(5957 * weight / 315_877 * 1000)  # every crime's harm once
    assert any("scored net of Domestic abuse: 2,033 of its 5,957" in o for o in vso.overrides)
    assert any("nested in Violence and sexual offences" in o and "2,033" in o for o in da.overrides)
    assert any("nested in Domestic abuse" in o for o in sv.overrides)


def test_nested_candidates_without_deduplication_only_show_their_overlap() -> None:
    fs = _nested_set()
    views = PublicViews(None, {}, {}, "")
    by_key = {c.key: c for c in assemble_candidates(fs, get_harm_index("unweighted"), views, deduplicate=False)}
    assert by_key["violence_and_sexual_offences"].count == 5957
    assert any(
        "overlaps Violence and sexual offences" in o and "2,033" in o for o in by_key["domestic_abuse"].overrides
    )
    assert any("contains much of Domestic abuse" in o for o in by_key["violence_and_sexual_offences"].overrides)

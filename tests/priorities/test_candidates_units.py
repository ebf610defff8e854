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


def test_nested_candidates_show_their_overlap() -> None:
    """Domestic abuse sits largely inside violence and sexual offences: both carry a note, neither adds the other."""
    area = AreaContext(["E0"], "Area", {"L1": "W1"}, {"W1": "Ward"}, {"L1": "L"}, population={"L1": 315_877.0})
    comparison = plan_comparison(parse_period("2023-24"), month_range("2022-04", "2024-03"))
    vso = _finding("crime.violence_and_sexual_offences.count", "Violence and sexual offences", 5957, 18.9, "")
    da = Finding(**{**_finding("da.incidents", "DA", 5378, 17.0, "per 1,000 residents").__dict__, "topic": "da"})
    da_crimes = Finding(**{**_finding("da.crimes", "DA crimes", 2033, 6.4, "per 1,000 residents").__dict__})
    fs = FindingSet([vso, da, da_crimes], comparison.current, comparison, area, {})
    by_key = {c.key: c for c in assemble_candidates(fs, get_harm_index("unweighted"), PublicViews(None, {}, {}, ""))}
    assert any(
        "overlaps Violence and sexual offences" in o and "2,033" in o for o in by_key["domestic_abuse"].overrides
    )
    assert any("contains much of Domestic abuse" in o for o in by_key["violence_and_sexual_offences"].overrides)

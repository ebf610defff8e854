"""Domestic abuse and MARAC findings: hand-computed values on small files, and the synthetic planted truth."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb
import pytest

from cspkit.findings.engine import FindingSet
from cspkit.workspace import Workspace
from tests.topics.conftest import LoadFiles, lsoas

DA_HEADER = "incident_ref,reported_at,victim_ref,perpetrator_ref,is_crime,crime_type,dash_risk,lsoa_code\n"
MARAC_HEADER = "referral_ref,referral_date,victim_ref,referring_agency,dash_score,children_in_household\n"


def _da(x: str, y: str) -> str:
    """D1: 2023-03-01 then 2024-02-29 (365 days: a repeat); D2: 2023-03-01 then 2024-03-01 (366 days: not);
    D3 and D4 share perpetrator P3 (a serial perpetrator); D4 twice in June 2024 (a repeat)."""
    return DA_HEADER + (
        f"I1,2023-01-10,D1,P1,no,,standard,{x}\n"
        f"I2,2023-03-01,D1,P1,yes,Assault with injury,medium,{x}\n"
        f"I3,2024-02-29,D1,P1,yes,Rape,high,{x}\n"
        f"I4,2023-03-01,D2,P2,no,,standard,{x}\n"
        f"I5,2024-03-01,D2,P2,yes,Sexual assault,medium,{x}\n"
        f"I6,2024-05-01,D3,P3,no,,,{y}\n"
        f"I7,2024-06-01,D4,P3,yes,Stalking and harassment,high,{y}\n"
        "I8,2024-06-10,D4,P3,no,,standard,\n"
        f"I9,2024-12-20,D5,,no,,standard,{y}\n"
    )


MARAC_WITH_REPEATS = MARAC_HEADER + (
    "R1,2023-06-01,M1,police,16,2\n"
    "R2,2024-05-31,M1,idva,18,2\n"  # 365 days after R1: a repeat
    "R3,2023-06-01,M2,police,10,0\n"
    "R4,2024-06-01,M2,health,15,1\n"  # 366 days after R3: not a repeat
    "R5,2024-07-01,M3,police,20,\n"
    "R6,2024-07-15,M3,police,14,3\n"  # 14 days after R5: a repeat
    "R7,2023-01-05,M9,police,12,0\n"
    "R8,2024-12-01,M8,housing,,0\n"
)

MARAC_NO_REPEATS = MARAC_HEADER + (
    "S1,2023-01-10,N3,police,15,1\nS2,2024-02-01,N1,police,15,0\nS3,2024-03-01,N2,police,16,2\nS4,2024-12-10,N4,police,20,0\n"
)


@pytest.fixture
def handmade(
    hand_con: duckdb.DuckDBPyConnection, load_files: LoadFiles, run: Callable[..., FindingSet]
) -> tuple[FindingSet, list[tuple[str, str]], float]:
    places = lsoas(hand_con, 2)
    (x, _), (y, _) = places
    load_files(
        {
            "da.csv": ("domestic_abuse", "police", _da(x, y)),
            "marac.csv": ("marac_referrals", "marac", MARAC_WITH_REPEATS),
        }
    )
    fs = run(hand_con, ["da", "quality"])
    women = fs.area.total_adult_women()
    assert women
    return fs, places, women


def test_incidents_crimes_and_wards(handmade: tuple[FindingSet, list[tuple[str, str]], float]) -> None:
    fs, ((_, ward_x), (_, ward_y)), _ = handmade
    incidents = fs.require("da.incidents")
    assert (incidents.value, incidents.baseline) == (6, 3)
    population = fs.area.total_population()
    assert population and incidents.rate == pytest.approx(6 / population * 1000)
    assert (fs.require("da.crimes").value, fs.require("da.crimes").baseline) == (3, 1)
    x = fs.require(f"da.ward.{ward_x}.incidents")
    assert (x.value, x.baseline, x.small_number) == (2, 3, True)
    assert fs.require(f"da.ward.{ward_y}.incidents").value == 3
    mix = fs.require("da.dash_mix")
    assert mix.extra["counts"] == {"high": 2, "standard": 2, "medium": 1, "not recorded": 1}


def test_repeat_victims_window_boundary(handmade: tuple[FindingSet, list[tuple[str, str]], float]) -> None:
    fs, _, _ = handmade
    rate = fs.require("da.repeat_victim_rate")
    assert (rate.numerator, rate.denominator) == (2, 5)  # D1 (365 days) and D4; not D2 (366 days)
    assert rate.baseline == pytest.approx(1 / 2)  # 2023: D1 (I2 50 days after I1) of D1, D2


def test_serial_perpetrators_and_quality(handmade: tuple[FindingSet, list[tuple[str, str]], float]) -> None:
    fs, _, _ = handmade
    serial = fs.require("da.serial_perpetrators")
    assert serial.value == 1  # P3: victims D3 and D4
    assert serial.extra["records_involving_serial"] == 3
    assert fs.require("quality.da.missing_location").value == pytest.approx(1 / 6)
    assert fs.require("quality.da.missing_risk").value == pytest.approx(1 / 6)
    assert fs.require("quality.da.missing_perpetrator_ref").value == pytest.approx(1 / 6)


def test_marac(handmade: tuple[FindingSet, list[tuple[str, str]], float]) -> None:
    fs, _, women = handmade
    referrals = fs.require("da.marac.referrals")
    assert (referrals.value, referrals.baseline) == (5, 3)
    assert referrals.extra["dash_14_or_more"] == 4
    volume = fs.require("da.marac.per_10k_adult_women")
    assert volume.value == pytest.approx(5 / women * 10_000)
    assert volume.extra["expected_referrals"] == pytest.approx(women / 10_000 * 40)
    repeat = fs.require("da.marac.repeat_rate")
    assert (repeat.numerator, repeat.denominator) == (2, 5)  # R2 (365 days) and R6; not R4 (366 days)
    assert (repeat.baseline, repeat.extra["expected_low"], repeat.extra["expected_high"]) == (0.0, 0.28, 0.40)
    assert "within the expected 28%-40% band" in repeat.sentence
    agencies = fs.require("da.marac.referring_agencies")
    assert agencies.value == pytest.approx(3 / 5)
    assert not agencies.extra["police_only"]
    children = fs.require("da.marac.children")
    assert children.value == 6
    assert children.extra == {"referrals_with_children": 3, "referrals_not_recorded": 1}
    assert fs.require("quality.marac.missing_dash_score").value == pytest.approx(1 / 5)


def test_marac_annualised_for_part_year(
    load_files: LoadFiles, hand_con: duckdb.DuckDBPyConnection, run: Callable[..., FindingSet]
) -> None:
    load_files({"marac.csv": ("marac_referrals", "marac", MARAC_WITH_REPEATS)})
    fs = run(hand_con, ["da"], period="2024-01..2024-06")
    volume = fs.require("da.marac.per_10k_adult_women")
    women = fs.area.total_adult_women()
    assert women
    assert volume.value == pytest.approx(2 / women * 10_000 * 2)  # R2, R4 in six months, x 12/6
    assert "annualised" in volume.sentence


def test_marac_without_repeats_and_police_only(
    load_files: LoadFiles, hand_con: duckdb.DuckDBPyConnection, run: Callable[..., FindingSet]
) -> None:
    load_files({"marac.csv": ("marac_referrals", "marac", MARAC_NO_REPEATS)})
    fs = run(hand_con, ["da", "quality"])
    repeat = fs.require("da.marac.repeat_rate")
    assert (repeat.value, repeat.numerator, repeat.denominator) == (0.0, 0, 3)
    assert "No referral was a repeat" in repeat.sentence
    agencies = fs.require("da.marac.referring_agencies")
    assert agencies.extra["police_only"] and agencies.emerging
    assert "came from the police" in agencies.sentence
    ids = {f.id for f in fs.findings}
    assert "quality.da.data_missing" in ids and "da.incidents" not in ids


# --- the synthetic workspace ---------------------------------------------------------------------------------


def test_synthetic_incidents(synth: tuple[Workspace, dict[str, Any]], synth_findings: FindingSet) -> None:
    _, truth = synth
    da = truth["domestic_abuse"]
    fs = synth_findings
    assert fs.require("da.incidents").value == da["incidents"]["assessment"]
    assert fs.require("da.incidents").baseline == da["incidents"]["previous"]
    assert fs.require("da.crimes").value == da["crimes"]["assessment"]
    assert fs.require("da.dash_mix").extra["counts"] == {k: v for k, v in da["dash_risk"]["assessment"].items() if v}
    assert fs.require("da.repeat_victim_rate").denominator == da["victims"]["assessment"]
    for ward, counts in da["by_ward"].items():
        f = fs.require(f"da.ward.{ward}.incidents")
        assert (f.value, f.baseline) == (counts["assessment"], counts["previous"]), ward


def test_synthetic_rising_wards_are_significant(
    synth: tuple[Workspace, dict[str, Any]], synth_findings: FindingSet
) -> None:
    _, truth = synth
    planted = {w["ward_code"] for w in truth["planted"]["da_rising_wards"]["wards"]}
    rising = {
        f.area
        for f in synth_findings.findings
        if f.id.startswith("da.ward.") and f.change is not None and f.change.significant and f.change.direction == "up"
    }
    assert rising == planted
    for ward in planted:
        change = synth_findings.require(f"da.ward.{ward}.incidents").change
        assert change is not None and change.p_adjusted is not None and change.p_adjusted < 0.05


def test_synthetic_marac(synth: tuple[Workspace, dict[str, Any]], synth_findings: FindingSet) -> None:
    _, truth = synth
    marac = truth["marac"]
    fs = synth_findings
    assert fs.require("da.marac.referrals").value == marac["referrals"]["assessment"]
    assert fs.require("da.marac.referrals").extra["dash_14_or_more"] == marac["dash_14_or_more"]["assessment"]
    repeat = fs.require("da.marac.repeat_rate")
    assert repeat.numerator == marac["repeat_referrals"]["assessment"]
    assert repeat.value == pytest.approx(marac["repeat_rate"]["assessment"], abs=1e-6)
    assert repeat.baseline == pytest.approx(marac["repeat_rate"]["previous"], abs=1e-6)
    volume = fs.require("da.marac.per_10k_adult_women")
    assert volume.denominator == marac["adult_female_population"]
    assert volume.value == pytest.approx(marac["per_10k_adult_females"]["assessment"], abs=1e-5)
    assert volume.baseline == pytest.approx(marac["per_10k_adult_females"]["previous"], abs=1e-5)

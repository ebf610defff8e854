"""Partner ASB findings: hand-computed values on small files, and the synthetic generator's planted truth."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

from cspkit.config import load_config
from cspkit.errors import ConfigError
from cspkit.findings.engine import FindingSet, compute_findings
from cspkit.privacy.pseudonymise import pseudonym, ref_namespace
from cspkit.topics import TOPIC_BUILDERS
from cspkit.topics.asb import night_time_windows
from cspkit.workspace import Workspace
from tests.topics.conftest import LoadFiles, lsoas

HEADER = "incident_ref,reported_at,category,asb_type,victim_ref,risk_score,risk_level,vulnerable,lsoa_code\n"


def _police(x: str) -> str:
    """Police ASB records for 2023 and 2024 (x is an LSOA of the area).

    2024, with victims (dates only):
      V1: 01-01, 06-01, 12-30 -> third incident 364 days after the first (day 365): a repeat victim.
      V2: 01-01, 06-01, 12-31 -> 365 days (day 366): not a repeat victim.
      V3: 03-01, 04-01, 08-31 -> 183 days: repeat, but not the Community Trigger (3 in 183 days = within 182).
      V4: 03-01, 04-01, 08-30 -> 182 days: repeat and Community Trigger; first incident risk level high.
      V5: one incident, risk score 25 (high risk).  V6: one incident, vulnerable flag, risk standard.
    2024 without victims and without location: Fri 2024-01-05 21:00 (night-time) and Sun 2024-01-07 04:00 (not).
    2023: victims V7 and V8, one incident each, and one incident without a victim.
    """
    rows = [
        ("A1", "2024-01-01", "V1", "", "", ""),
        ("A2", "2024-06-01", "V1", "", "", ""),
        ("A3", "2024-12-30", "V1", "", "", ""),
        ("B1", "2024-01-01", "V2", "", "", ""),
        ("B2", "2024-06-01", "V2", "", "", ""),
        ("B3", "2024-12-31", "V2", "", "", ""),
        ("C1", "2024-03-01", "V3", "", "", ""),
        ("C2", "2024-04-01", "V3", "", "", ""),
        ("C3", "2024-08-31", "V3", "", "", ""),
        ("D1", "2024-03-01", "V4", "", "high", ""),
        ("D2", "2024-04-01", "V4", "", "", ""),
        ("D3", "2024-08-30", "V4", "", "", ""),
        ("E1", "2024-05-05", "V5", "25", "", ""),
        ("F1", "2024-05-06", "V6", "3", "standard", "yes"),
        ("G1", "2023-01-15", "V7", "", "", ""),
        ("G2", "2023-03-01", "V8", "", "", ""),
    ]
    text = HEADER + "".join(f"{r},{d},personal,Noise,{v},{s},{lvl},{vul},{x}\n" for r, d, v, s, lvl, vul in rows)
    text += "N1,2024-01-05 21:00,environmental,Fly-tipping,,,,,\n"
    text += "N2,2024-01-07 04:00,nuisance,Street drinking,,,,,\n"
    text += f"N3,2023-05-01 12:00,nuisance,Street drinking,,,,,{x}\n"
    return text


def _council(y: str) -> str:
    """Council records without victim references: A1 is the police incident A1 (reported a day later)."""
    return (
        HEADER
        + f"A1,2024-01-02 09:00,personal,Noise,,,,,{y}\n"
        + f"K1,2024-01-06 03:30,nuisance,Noise,,,,,{y}\n"
        + f"K2,2024-01-07 03:59,nuisance,Noise,,,,,{y}\n"
        + f"K3,2023-07-01 10:00,nuisance,Noise,,,,,{y}\n"
    )


@pytest.fixture
def handmade(
    hand_con: duckdb.DuckDBPyConnection, load_files: LoadFiles, run: Callable[..., FindingSet]
) -> tuple[FindingSet, list[tuple[str, str]]]:
    places = lsoas(hand_con, 2)
    (x, _), (y, _) = places
    load_files(
        {
            "police.csv": ("asb_incidents", "police", _police(x)),
            "council.csv": ("asb_incidents", "council", _council(y)),
        }
    )
    return run(hand_con, ["asb", "quality"]), places


def test_counts_combined_without_double_counting(handmade: tuple[FindingSet, list[tuple[str, str]]]) -> None:
    fs, _ = handmade
    assert fs.require("asb.partner.police.count").value == 16
    assert fs.require("asb.partner.police.count").baseline == 3
    assert fs.require("asb.partner.council.count").value == 3
    combined = fs.require("asb.partner.count")
    assert combined.value == 18  # 16 + 3, with the shared incident A1 once
    assert combined.baseline == 4
    assert combined.extra["shared_incidents"] == 1
    population = fs.area.total_population()
    assert population and combined.rate == pytest.approx(18 / population * 1000)


def test_repeat_victims_window_boundary(handmade: tuple[FindingSet, list[tuple[str, str]]]) -> None:
    fs, _ = handmade
    repeat = fs.require("asb.repeat_victims")
    assert repeat.value == 3  # V1 (day 365), V3, V4; not V2 (day 366)
    assert repeat.baseline == 0
    assert repeat.extra["by_agency"]["police"]["repeat_victims"] == 3
    rate = fs.require("asb.repeat_victim_rate")
    assert (rate.numerator, rate.denominator, rate.value) == (3, 6, 0.5)
    assert rate.baseline == 0.0
    share = fs.require("asb.incidents_from_repeat_victims")
    assert (share.numerator, share.denominator) == (9, 14)
    assert fs.require("asb.community_trigger_eligible").value == 1  # V4 only (182 days; V3 is 183)


def test_agency_without_victim_refs_is_said_not_zero(handmade: tuple[FindingSet, list[tuple[str, str]]]) -> None:
    fs, _ = handmade
    rate = fs.require("asb.repeat_victim_rate")
    assert rate.extra["agencies_without_victim_refs"] == ["council"]
    assert "council supplied no victim references" in rate.sentence
    assert rate.extra["by_agency"]["council"]["value"] is None


def test_only_agency_without_victim_refs(
    hand_con: duckdb.DuckDBPyConnection, load_files: LoadFiles, run: Callable[..., FindingSet]
) -> None:
    ((y, _),) = lsoas(hand_con, 1)
    load_files({"council.csv": ("asb_incidents", "council", _council(y))})
    fs = run(hand_con, ["asb"])
    rate = fs.require("asb.repeat_victim_rate")
    assert rate.value is None
    assert "not a rate of 0%" in rate.sentence
    assert "not a rate of 0%" in fs.require("asb.repeat_victims").sentence


def test_vulnerable_and_high_risk(handmade: tuple[FindingSet, list[tuple[str, str]]]) -> None:
    fs, _ = handmade
    assert fs.require("asb.vulnerable_victims").value == 3  # V4 (level high), V5 (score 25), V6 (flag)
    high = fs.require("asb.high_risk_cases")
    assert high.value == 2  # V4, V5
    assert high.extra["high_risk_incidents"] == 2
    both = fs.require("asb.high_risk_repeat_share")
    assert (both.numerator, both.denominator) == (1, 2)  # V4 is also a repeat victim


def test_night_time_share_and_profile(handmade: tuple[FindingSet, list[tuple[str, str]]]) -> None:
    fs, _ = handmade
    night = fs.require("asb.night_time_share")
    # timed incidents: N1 Fri 21:00 (in), N2 Sun 04:00 (out), K1 Sat 03:30 (in), K2 Sun 03:59 (in)
    assert (night.numerator, night.denominator) == (3, 4)
    profile = fs.require("asb.time_profile")
    assert profile.value == 4
    assert profile.extra["matrix"][4][21] == 1  # Friday 21:00
    assert profile.extra["matrix"][6][4] == 1  # Sunday 04:00
    assert profile.extra["without_time"] == 14


def test_night_time_windows_parse() -> None:
    assert night_time_windows("Fri 20:00-04:00; Sat 20:00-04:00") == [
        (4 * 1440 + 1200, 5 * 1440 + 240),
        (5 * 1440 + 1200, 6 * 1440 + 240),
    ]
    assert night_time_windows("Sunday 22:00-02:00") == [(6 * 1440 + 1320, 7 * 1440 + 120)]
    with pytest.raises(ConfigError):
        night_time_windows("Fri 8pm to 4am")


def test_mix_wards_and_quality(handmade: tuple[FindingSet, list[tuple[str, str]]]) -> None:
    fs, places = handmade
    (_, ward_x), (_, ward_y) = places
    mix = fs.require("asb.mix.category")
    assert mix.extra["counts"] == {"personal": 14, "nuisance": 3, "environmental": 1}
    assert mix.extra["by_agency"]["council"] == {"nuisance": 2, "personal": 1}
    ward = fs.require(f"asb.partner.ward.{ward_x}.count")
    assert ward.value == 14 and not ward.small_number
    small = fs.require(f"asb.partner.ward.{ward_y}.count")
    assert small.value == 2 and small.small_number  # K1, K2 (A1 is placed with the police record)
    assert fs.require("quality.asb.police.missing_victim_ref").value == pytest.approx(2 / 16)
    assert fs.require("quality.asb.police.missing_location").value == pytest.approx(2 / 16)
    assert fs.require("quality.asb.council.missing_victim_ref").value == 1.0
    # risk recorded only on D1, E1 and F1 of the 14 police incidents with a victim
    assert fs.require("quality.asb.police.missing_risk").value == pytest.approx(11 / 14)
    places_finding = fs.require("asb.partner.repeat_locations")
    assert places_finding.extra["top_wards"][0] == {
        "ward": ward_x,
        "ward_name": places_finding.extra["top_wards"][0]["ward_name"],
        "count": 14,
    }


def test_no_partner_asb_data(
    hand_con: duckdb.DuckDBPyConnection, load_files: LoadFiles, run: Callable[..., FindingSet]
) -> None:
    ((x, _),) = lsoas(hand_con, 1)
    text = f"incident_ref,reported_at,victim_ref,lsoa_code\nI1,2024-02-01,P1,{x}\nI0,2023-02-01,P1,{x}\n"
    load_files({"da.csv": ("domestic_abuse", "police", text)})
    fs = run(hand_con, ["asb", "quality"])
    assert [f.id for f in fs.findings if f.id != "quality.population"] == ["quality.asb.partner_data_missing"]


# --- the synthetic workspace ---------------------------------------------------------------------------------


def test_synthetic_counts(synth: tuple[Workspace, dict[str, Any]], synth_findings: FindingSet) -> None:
    _, truth = synth
    asb = truth["asb"]
    fs = synth_findings
    assert fs.period.first == truth["periods"]["assessment"]["start"][:7]
    for agency in ("police", "council"):
        f = fs.require(f"asb.partner.{agency}.count")
        assert f.value == asb[agency]["incidents"]["assessment"]
        assert f.baseline == asb[agency]["incidents"]["previous"]
    combined = fs.require("asb.partner.count")
    assert combined.value == asb["combined_by_person"]["incidents_deduplicated"]["assessment"]
    assert combined.baseline == asb["combined_by_person"]["incidents_deduplicated"]["previous"]
    assert combined.extra["shared_incidents"] == asb["shared_incident_refs_by_period"]["assessment"]
    mix = fs.require("asb.mix.category").extra["by_agency"]
    for agency in ("police", "council"):
        assert mix[agency] == {k: v for k, v in asb[agency]["by_category"]["assessment"].items() if v}


def test_synthetic_victims_per_agency(synth: tuple[Workspace, dict[str, Any]], synth_findings: FindingSet) -> None:
    _, truth = synth
    asb = truth["asb"]
    fs = synth_findings
    names = {
        "asb.repeat_victims": "repeat_victims",
        "asb.high_risk_cases": "high_risk_victims",
        "asb.vulnerable_victims": "vulnerable_victims",
    }
    for finding_id, key in names.items():
        f = fs.require(finding_id)
        assert f.value == sum(asb[a][key]["assessment"] for a in ("police", "council")), finding_id
        assert f.baseline == sum(asb[a][key]["previous"] for a in ("police", "council")), finding_id
        for agency in ("police", "council"):
            assert f.extra["by_agency"][agency][key] == asb[agency][key]["assessment"]
    rate = fs.require("asb.repeat_victim_rate")
    assert rate.denominator == sum(asb[a]["identifiable_victims"]["assessment"] for a in ("police", "council"))
    share = fs.require("asb.incidents_from_repeat_victims")
    assert share.denominator == sum(asb[a]["incidents_with_victim"]["assessment"] for a in ("police", "council"))


def test_planted_repeat_vulnerable_victims_counted_exactly(
    synth: tuple[Workspace, dict[str, Any]], tmp_path: Path
) -> None:
    """Keep only the planted victims' records: every one is a repeat, high-risk and vulnerable victim."""
    ws, truth = synth
    planted = truth["planted"]["repeat_vulnerable_asb_victims"]
    copy = Workspace(tmp_path / "ws")
    shutil.copytree(ws.root, copy.root)
    key = copy.key()
    keys = [pseudonym(key, ref_namespace(r["agency"], "victim_ref"), r["victim_ref"]) for r in planted["refs"]]
    con = copy.connect()
    try:
        con.execute("DELETE FROM asb_incidents WHERE victim_key IS NULL OR NOT list_contains(?, victim_key)", [keys])
        fs = compute_findings(
            con,
            load_config(copy.config_path),
            topics=["asb"],
            forecast=False,
            hotspot_maps=False,
            builders=TOPIC_BUILDERS,
        )
    finally:
        con.close()
    expected = planted["victims"]
    assert (
        fs.require("asb.repeat_victims").value == expected == truth["asb"]["planted_group_repeat_victims"]["assessment"]
    )
    assert fs.require("asb.vulnerable_victims").value == expected
    assert fs.require("asb.high_risk_cases").value == expected
    assert fs.require("asb.high_risk_repeat_share").value == 1.0


def test_synthetic_hotspot(synth: tuple[Workspace, dict[str, Any]], synth_findings: FindingSet) -> None:
    _, truth = synth
    hotspot = truth["planted"]["asb_hotspot"]
    places = synth_findings.require("asb.partner.repeat_locations")
    assert (
        places.extra["lsoa_counts"][hotspot["lsoa_code"]] == hotspot["incidents"]["combined_deduplicated"]["assessment"]
    )
    assert hotspot["lsoa_code"] in [e["area"] for e in places.extra["emerging"]]


def test_compute_findings_asb_only(synth: tuple[Workspace, dict[str, Any]]) -> None:
    ws, _ = synth
    con = ws.connect(read_only=True)
    try:
        fs = compute_findings(
            con, ws.config(), topics=["asb"], forecast=False, hotspot_maps=False, builders=TOPIC_BUILDERS
        )
    finally:
        con.close()
    assert {f.topic for f in fs.findings} == {"asb"}
    ids = {f.id for f in fs.findings}
    assert {"asb.partner.count", "asb.repeat_victims", "asb.night_time_share", "asb.mix.asb_type"} <= ids
    for f in fs.findings:
        f.to_dict()  # JSON-able

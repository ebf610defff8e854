"""The quarterly performance pack on the real Bedfordshire police data, and the RAG rule on hand-made findings."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections import Counter
from dataclasses import replace
from typing import Any

import pytest

from cspkit.config import Config
from cspkit.errors import ConfigError, PeriodError
from cspkit.findings.model import Change, Finding, SpcSignal
from cspkit.priorities.performance import (
    DEFAULT_INDICATORS,
    Indicator,
    PerformancePack,
    load_indicators,
    parse_indicators,
    performance_pack,
    rag_status,
)
from cspkit.workspace import Workspace
from tests.conftest import POLICE_ZIP

BURGLARY = "crime.burglary.count"

#: Hand-made indicators. Burglary's year to date (May to December 2022: April 2021 is not loaded, so both sides
#: are restricted to 8 months) is 540 against 525; pro-rated targets are target x 8 / 12.
INDICATORS: list[dict[str, Any]] = [
    {"name": "All crime", "finding": "crime.all.count", "good_direction": "down"},
    {"name": "Burglary within tolerance", "finding": BURGLARY, "good_direction": "down", "target": 780},
    {"name": "Burglary missed", "finding": BURGLARY, "good_direction": "down", "target": 750},
    {"name": "Burglary met", "finding": BURGLARY, "good_direction": "down", "target": 900},
    {"name": "Burglary wide tolerance", "finding": BURGLARY, "good_direction": "down", "target": 750, "tolerance": 0.1},
    {"name": "Burglary 5% fewer", "finding": BURGLARY, "good_direction": "down", "target_change": -0.05},
    {"name": "Domestic abuse", "finding": "da.incidents", "good_direction": "down"},
]


def _with_indicators(config: Config, tables: list[dict[str, Any]]) -> Config:
    return replace(config, extra={**config.extra, "indicators": tables})


@pytest.fixture(scope="module")
def pack(police_workspace: Workspace) -> PerformancePack:
    con = police_workspace.connect(read_only=True)
    try:
        return performance_pack(con, _with_indicators(police_workspace.config(), INDICATORS), "2022-23Q3")
    finally:
        con.close()


def _independent_counts(lsoas: set[str]) -> Counter[str]:
    """Crimes (not ASB) per month in the area, read straight from the bundled archive's street files."""
    counts: Counter[str] = Counter()
    with zipfile.ZipFile(POLICE_ZIP) as archive:
        for name in archive.namelist():
            if not name.endswith("-street.csv"):
                continue
            with archive.open(name) as raw:
                for row in csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8-sig")):
                    if row["LSOA code"] in lsoas and row["Crime type"] != "Anti-social behaviour":
                        counts[row["Month"]] += 1
    return counts


def test_all_crime_quarter_equals_independent_monthly_sum(pack: PerformancePack, police_workspace: Workspace) -> None:
    con = police_workspace.connect(read_only=True)
    try:
        rows = con.execute("SELECT lsoa_code FROM geography WHERE lad_code = 'E06000056'").fetchall()
    finally:
        con.close()
    monthly = _independent_counts({r[0] for r in rows})
    row = pack.row("All crime")
    assert row.quarter_value == sum(monthly[m] for m in ("2022-10", "2022-11", "2022-12")) == 3843
    assert row.quarter_last_year == sum(monthly[m] for m in ("2021-10", "2021-11", "2021-12")) == 3359
    # year to date: April 2021 is not loaded, so May-December of each year
    ytd_months = [f"2022-{m:02d}" for m in range(5, 13)]
    assert row.ytd_value == sum(monthly[m] for m in ytd_months) == 10714
    assert row.ytd_last_year == sum(monthly[m.replace("2022", "2021")] for m in ytd_months) == 9227
    assert row.ytd_months == 8
    assert any("8 of 9 months" in n for n in pack.notes)
    # a significant rise of all crime is the wrong way: red, whatever else
    assert row.quarter_change is not None and row.quarter_change.significant
    assert row.significance.startswith("significant rise")
    assert row.rag == "red"
    assert row.reason.startswith("Red: a significant rise on the same quarter last year")


def test_planted_targets(pack: PerformancePack) -> None:
    # 780 x 8/12 = 520; (540 - 520) / 520 = 3.85% <= 5%: amber (the quarter itself fell significantly: green)
    row = pack.row("Burglary within tolerance")
    assert row.target_ytd == pytest.approx(520.0)
    assert row.target_missed_by == pytest.approx(20 / 520)
    assert row.rag == "amber"
    assert "missed by 3.8%, within the 5% tolerance" in row.reason
    # 750 x 8/12 = 500; 40 / 500 = 8% > 5%: red
    row = pack.row("Burglary missed")
    assert row.target_ytd == pytest.approx(500.0)
    assert row.target_missed_by == pytest.approx(0.08)
    assert row.rag == "red"
    assert "more than the 5% tolerance" in row.reason
    # 8% <= 10%: amber
    assert pack.row("Burglary wide tolerance").rag == "amber"
    # 900 x 8/12 = 600 > 540: met, and the quarter fell significantly: green
    row = pack.row("Burglary met")
    assert (row.target_ytd, row.target_missed_by, row.rag) == (pytest.approx(600.0), 0.0, "green")
    assert row.significance.startswith("significant fall")
    # 525 x 0.95 = 498.75; (540 - 498.75) / 498.75 = 8.27%: red
    row = pack.row("Burglary 5% fewer")
    assert row.target_ytd == pytest.approx(498.75)
    assert row.target_missed_by == pytest.approx(41.25 / 498.75)
    assert row.rag == "red"


def test_no_data_is_grey_and_rows_export(pack: PerformancePack) -> None:
    row = pack.row("Domestic abuse")
    assert row.rag == "grey"
    assert row.quarter_value is None
    assert "no 'da' data loaded" in row.reason
    assert pack.rag_counts() == {"red": 3, "amber": 2, "green": 1, "grey": 1}
    table = pack.to_rows()
    assert [r["indicator"] for r in table] == [t["name"] for t in INDICATORS]
    assert table[0]["quarter"] == 3843
    data = json.loads(json.dumps(pack.to_dict()))
    assert data["quarter"]["months"] == ["2022-10", "2022-11", "2022-12"]
    assert data["ytd"]["first"] == "2022-04"
    assert data["rule"].startswith("Red: a significant move the wrong way")


def test_unknown_finding_id_is_a_clear_config_error(police_workspace: Workspace) -> None:
    con = police_workspace.connect(read_only=True)
    try:
        typo = [{"name": "Burglary", "finding": "crime.burglery.count", "good_direction": "down"}]
        with pytest.raises(ConfigError, match=r"indicator 'Burglary': finding 'crime.burglery.count'.*crime.burglary"):
            performance_pack(con, _with_indicators(police_workspace.config(), typo), "2022-23Q3")
        no_topic = [{"name": "Thefts", "finding": "thefts.count", "good_direction": "down"}]
        with pytest.raises(ConfigError, match=r"indicator 'Thefts'.*ids start with a topic"):
            performance_pack(con, _with_indicators(police_workspace.config(), no_topic), "2022-23Q3")
        with pytest.raises(PeriodError, match="not a quarter"):
            performance_pack(con, police_workspace.config(), "2022-23")
    finally:
        con.close()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"finding": "asb.count", "good_direction": "down"}, "indicator 1 has no name"),
        ({"name": "ASB", "good_direction": "down"}, "indicator 'ASB': finding must be a finding id"),
        ({"name": "ASB", "finding": "asb.count", "good_direction": "lower"}, "'ASB': good_direction must be"),
        ({"name": "ASB", "finding": "asb.count", "good_direction": "down", "target": "100"}, "'ASB': target must"),
        (
            {"name": "ASB", "finding": "asb.count", "good_direction": "down", "target": 1, "target_change": -0.1},
            "'ASB': give target or target_change, not both",
        ),
        ({"name": "ASB", "finding": "asb.count", "good_direction": "down", "target_change": -1.5}, "target_change"),
        ({"name": "ASB", "finding": "asb.count", "good_direction": "down", "tolerance": -0.1}, "'ASB': tolerance"),
        ({"name": "ASB", "finding": "asb.count", "good_direction": "down", "owner": "x"}, "unknown field 'owner'"),
    ],
)
def test_invalid_indicators_name_indicator_and_field(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_indicators([table])


def test_default_set_when_none_declared(police_workspace: Workspace) -> None:
    indicators, default = load_indicators(police_workspace.config())
    assert default is True
    assert indicators == list(DEFAULT_INDICATORS)
    assert [i.finding for i in indicators] == [
        "crime.all.count",
        "asb.count",
        "crime.burglary.count",
        "crime.violence_and_sexual_offences.count",
        "da.incidents",
        "da.marac.repeat_rate",
    ]
    parsed = parse_indicators([{"name": "ASB", "finding": "asb.count", "good_direction": "up", "target_change": -0.05}])
    assert parsed == [Indicator("ASB", "asb.count", "up", target_change=-0.05)]


def _finding(value: float | None, change: Change | None, spc: SpcSignal | None = None) -> Finding:
    return Finding(
        id="x.count",
        topic="x",
        title="X",
        area="E06000056",
        area_name="Central Bedfordshire",
        period=("2022-10", "2022-12"),
        value=value,
        unit="count",
        definition="",
        sentence="",
        change=change,
        spc=spc,
    )


def _change(absolute: float, significant: bool) -> Change:
    direction = ("up" if absolute > 0 else "down") if significant else "none"
    return Change(absolute, None, None, None, None, 0.01, 0.01 if significant else 0.2, significant, direction)


QUARTER = ["2022-10", "2022-11", "2022-12"]


def test_rag_rule_on_hand_made_findings() -> None:
    down = Indicator("Down", "x.count", "down")
    up = Indicator("Up", "x.count", "up")
    assert rag_status(down, None, QUARTER, None, None)[0] == "grey"
    assert rag_status(down, _finding(None, None), QUARTER, None, None)[0] == "grey"
    # significant rise: red when down is good, green when up is good
    assert rag_status(down, _finding(120, _change(20, True)), QUARTER, None, None)[0] == "red"
    assert rag_status(up, _finding(120, _change(20, True)), QUARTER, None, None)[0] == "green"
    # a fall that is not significant is not rated: noise is green, whichever way is good
    status, reason, _ = rag_status(up, _finding(90, _change(-10, False)), QUARTER, None, None)
    assert status == "green" and "no significant change" in reason
    # a control-chart signal above the limits in the quarter is amber; outside the quarter it is ignored
    above_dec = SpcSignal("beyond 3 sigma", "2022-12", "c-chart", "above")
    above_mar = SpcSignal("beyond 3 sigma", "2022-03", "c-chart", "above")
    status, reason, _ = rag_status(down, _finding(90, _change(-10, False), above_dec), QUARTER, None, None)
    assert status == "amber" and "control-chart signal (beyond 3 sigma, above the limits, 2022-12)" in reason
    assert rag_status(down, _finding(90, _change(-10, False), above_mar), QUARTER, None, None)[0] == "green"
    # targets on the year to date: up-good target 100, value 96 -> missed by 4% (amber), 90 -> 10% (red)
    assert rag_status(up, _finding(90, _change(0, False)), QUARTER, 100, 96)[:3:2] == ("amber", pytest.approx(0.04))
    assert rag_status(up, _finding(90, _change(0, False)), QUARTER, 100, 90)[:3:2] == ("red", pytest.approx(0.1))

"""compute_findings on the real Bedfordshire files: the Finding record's shape, ids, JSON, periods and errors.

One full run (forecasts and Gi* included) is computed per module and shared by the read-only checks.
"""

from __future__ import annotations

import json
import math
import re

import pytest

from cspkit.errors import AnalysisError, PeriodError
from cspkit.findings.engine import FindingSet, TopicInput, compute_findings
from cspkit.findings.model import Finding
from cspkit.findings.periods import parse_period, plan_comparison
from cspkit.findings.wording import format_number
from cspkit.topics import TOPIC_BUILDERS
from cspkit.workspace import Workspace

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
WARD = r"E05\d{6}"
COUNT_ID = re.compile(rf"^(crime\.[a-z_]+|asb)(\.ward\.{WARD})?\.count$")
POLICE_CRIME_TYPES = {  # data.police.uk categories since 2013, as slugs
    "bicycle_theft", "burglary", "criminal_damage_and_arson", "drugs", "other_crime", "other_theft",
    "possession_of_weapons", "public_order", "robbery", "shoplifting", "theft_from_the_person", "vehicle_crime",
    "violence_and_sexual_offences",
}  # fmt: skip


@pytest.fixture(scope="module")
def full(police_workspace: Workspace) -> FindingSet:
    con = police_workspace.connect(read_only=True)
    try:
        return compute_findings(con, police_workspace.config(), builders=TOPIC_BUILDERS)
    finally:
        con.close()


def _police(fs: FindingSet) -> list[Finding]:
    return [f for f in fs.findings if f.topic in ("crime", "asb") and COUNT_ID.match(f.id)]


def test_every_finding_has_the_record_fields(full: FindingSet) -> None:
    """id, topic, title, area, period, value, unit, definition and sentence are filled in for every finding."""
    assert len(full.findings) > 400
    ids = [f.id for f in full.findings]
    assert len(ids) == len(set(ids)), "finding ids must be unique in a run"
    for f in full.findings:
        assert re.fullmatch(r"[a-z0-9_]+(\.[A-Za-z0-9_]+)+", f.id), f.id
        assert f.topic and f.title and f.area and f.area_name and f.unit, f.id
        assert len(f.period) == 2 and all(MONTH.match(m) for m in f.period), f.id
        assert f.definition.strip() and f.sentence.strip().endswith("."), f.id
        assert f.value is None or math.isfinite(f.value), f.id
    for f in _police(full):
        assert f.period == ("2022-05", "2023-04") and f.comparison_period == ("2021-05", "2022-04")
        assert f.unit == "count" and f.value is not None and f.baseline is not None
        assert f.change is not None and f.change.p_value is not None and f.change.p_adjusted is not None
        assert f.change.direction in ("up", "down", "none")
        assert (f.change.direction != "none") == f.change.significant
        assert f.good_direction == "down"


def test_ids_follow_the_contract(full: FindingSet) -> None:
    """crime.<type>.count for each police crime type, crime.all.count, asb.count, and .ward.<code>. for wards."""
    area_ids = {f.id for f in _police(full) if ".ward." not in f.id}
    assert area_ids == {"crime.all.count", "asb.count"} | {f"crime.{t}.count" for t in POLICE_CRIME_TYPES}
    wards = set(full.area.ward_names)
    assert len(wards) == 31
    ward_ids = {f.id for f in _police(full) if ".ward." in f.id}
    prefixes = {"crime.all", "asb"} | {f"crime.{t}" for t in POLICE_CRIME_TYPES}
    assert ward_ids == {f"{p}.ward.{w}.count" for p in prefixes for w in wards}
    for fid in ("crime.harm.total", "crime.all.hotspots", "asb.hotspots", "quality.police.coverage"):
        assert full.get(fid) is not None, fid
    assert {f.topic for f in full.findings if f.id.startswith("asb.")} == {"asb"}


def test_compared_sentences_give_both_base_numbers_with_thousands_separators(full: FindingSet) -> None:
    """Whenever a finding is compared, its sentence contains the current and the baseline figure as formatted."""
    checked = 0
    for f in full.findings:
        if f.change is None or f.value is None or f.baseline is None or f.unit == "proportion":
            continue
        # an approximate harm index is printed to the 3 significant figures it has
        shown = (lambda v: float(f"{v:.3g}")) if f.id == "crime.harm.total" else (lambda v: v)
        assert format_number(shown(f.value)) in f.sentence, f.id
        assert format_number(shown(f.baseline)) in f.sentence, f.id
        checked += 1
    assert checked >= 15 * 32 + 1  # 15 indicators for the area and each of 31 wards, and the harm total
    sentence = full.require("crime.all.count").sentence
    assert "15,680" in sentence and "14,123" in sentence
    assert "rose significantly" in sentence and "+11%" in sentence


def test_non_significant_changes_are_never_called_rises_or_falls(full: FindingSet) -> None:
    """No sentence of a non-significant count change uses rose/fell; every one says 'no statistically significant'."""
    for f in _police(full):
        assert f.change is not None
        if not f.change.significant:
            assert "no statistically significant change" in f.sentence, f.id
            assert " rose " not in f.sentence and " fell " not in f.sentence, f.id


def test_to_dict_is_strict_json_and_round_trips(full: FindingSet) -> None:
    """Every finding (forecasts, control charts, Gi* tables included) survives strict JSON and from_dict."""
    for f in full.findings:
        text = json.dumps(f.to_dict(), allow_nan=False)
        assert Finding.from_dict(json.loads(text)) == f, f.id
    data = json.loads(json.dumps(full.to_dict(), allow_nan=False))
    assert data["period"] == {"first": "2022-05", "last": "2023-04", "label": "May 2022 to April 2023"}
    assert data["comparison"]["baseline"] == ["2021-05", "2022-04"]
    assert len(data["findings"]) == len(full.findings)


def test_area_series_carry_control_chart_and_forecast(full: FindingSet) -> None:
    """asb.count: XmR chart; every month from May 2022 is below the baseline centre, so the shift is confirmed in
    December 2022 and the chart re-baselined from May 2022 (police SPC practice); a 12-month forecast."""
    asb = full.require("asb.count")
    chart = asb.extra["control_chart"]
    assert chart["chart"] == "XmR"
    baseline, shifted = chart["phases"]
    assert shifted["why"] == "8 in a row below from 2022-05, confirmed 2022-12"
    assert all(v < baseline["centre"] for _, v in asb.series[-12:])
    assert shifted["centre"] < baseline["centre"]
    assert chart["centre_by_month"] == [baseline["centre"]] * 12 + [shifted["centre"]] * 12
    assert "re-baselined after a sustained shift" in chart["limits"]
    # the shift is the signal; after it the months are read against the new level
    assert {"month": "2022-12", "rule": "8 in a row on one side", "side": "below"} in chart["signals"]
    assert asb.spc is not None and asb.spc.side == "below" and asb.spc.month >= "2022-12"
    forecast = asb.extra["forecast"]
    assert forecast["months"][0] == "2023-05" and len(forecast["mean"]) == 12
    assert all(
        lo <= m <= hi for lo, m, hi in zip(forecast["lower_95"], forecast["mean"], forecast["upper_95"], strict=True)
    )
    # 24 months cannot backtest a seasonal model at 6 origins: the seasonal-naive range is published, and says so
    assert forecast["published"] == "seasonal naive" and "could not be backtested" in forecast["verdict"]
    assert "forecast" not in full.require("asb.ward.E05014422.count").extra  # wards are not forecast


def test_gi_star_runs_on_the_bundled_boundaries(full: FindingSet) -> None:
    """Gi* is attached to all-crime and ASB hotspots, for all 175 LSOAs, with its settings stated."""
    for fid in ("crime.all.hotspots", "asb.hotspots"):
        gi = full.require(fid).extra["gi_star"]
        assert len(gi["areas"]) == 175
        assert gi["settings"]
        assert set(gi["hot"]) <= {a["code"] for a in gi["areas"]}


def test_require_names_a_missing_id_clearly(full: FindingSet) -> None:
    """An unknown id raises AnalysisError that names it; get returns None."""
    assert full.get("crime.nonsense.count") is None
    with pytest.raises(AnalysisError, match=r"No finding 'crime.nonsense.count'"):
        full.require("crime.nonsense.count")


def test_topic_filter_keeps_only_that_topic(police_workspace: Workspace) -> None:
    """--topic asb gives police ASB (count, wards, hotspots) and nothing from crime."""
    con = police_workspace.connect(read_only=True)
    try:
        fs = compute_findings(
            con, police_workspace.config(), topics=["asb"], forecast=False, hotspot_maps=False, builders=TOPIC_BUILDERS
        )
    finally:
        con.close()
    assert {f.topic for f in fs.findings} == {"asb"}
    assert fs.require("asb.count").value == 4_015
    assert fs.get("crime.all.count") is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"compare": "mean_of_3"}, r"comparison period May 2020 to April 2021 .* has no data loaded"),
        ({"compare": "median"}, r"Unknown comparison 'median'"),
        ({"period": "2030-31"}, r"The period 2030-31 has no data loaded"),
        ({"period": "2099-24"}, r"financial year runs over two consecutive years"),
        ({"period": "last year"}, r"Cannot read the period 'last year'"),
    ],
)
def test_impossible_periods_and_comparisons_raise_a_clear_period_error(
    police_workspace: Workspace, kwargs: dict[str, str], message: str
) -> None:
    """Only two years are loaded, so the mean of the three years before is impossible, and says why."""
    con = police_workspace.connect(read_only=True)
    try:
        with pytest.raises(PeriodError, match=message):
            compute_findings(
                con, police_workspace.config(), forecast=False, hotspot_maps=False, **kwargs, builders=TOPIC_BUILDERS
            )  # type: ignore[arg-type]
    finally:
        con.close()


def test_incomplete_period_is_refused_when_partial_comparisons_are_not_allowed(full: FindingSet) -> None:
    """2022-23 against 2021-22 lacks April 2021: refused with allow_partial=False, restricted otherwise."""
    loaded = [m for m, _ in full.require("crime.all.count").series]
    assert loaded[0] == "2021-05" and loaded[-1] == "2023-04" and len(loaded) == 24
    with pytest.raises(PeriodError, match=r"months are missing \(2021-22: April 2021\)"):
        plan_comparison(parse_period("2022-23"), loaded, "previous", allow_partial=False)
    allowed = plan_comparison(parse_period("2022-23"), loaded, "previous")
    assert allowed.restricted and len(allowed.current_months) == 11
    complete = plan_comparison(parse_period("2022-05..2023-04"), loaded, "previous", allow_partial=False)
    assert complete.complete and len(complete.current_months) == 12


def test_the_engine_runs_exactly_the_topic_builders_it_is_given(police_workspace: Workspace) -> None:
    """Topics come in as an explicit list: a planted builder runs once with the shared inputs, and a topic name that
    is not in the list is refused by name (the engine knows no topics of its own beyond police crime and ASB)."""
    seen: list[TopicInput] = []

    def planted(inp: TopicInput) -> list[Finding]:
        seen.append(inp)
        return []

    con = police_workspace.connect(read_only=True)
    try:
        fs = compute_findings(
            con, police_workspace.config(), forecast=False, hotspot_maps=False, builders={"planted": planted}
        )
        with pytest.raises(AnalysisError, match=r"Unknown topic\(s\) da; choose from asb, crime, planted, quality"):
            compute_findings(con, police_workspace.config(), topics=["da"], builders={"planted": planted})
    finally:
        con.close()
    assert len(seen) == 1
    assert seen[0].ctx.comparison.current_months[0] == "2022-05" and seen[0].area.codes == ["E06000056"]
    assert {f.topic for f in fs.findings} == {"crime", "asb", "quality"}


def test_the_run_records_what_it_read_per_source(full: FindingSet) -> None:
    """The data-quality record beside the findings: the 24 street files (120,588 rows, counted independently with
    csv in the ingest tests) and 4 outcomes files, rows read = accepted + rejected, months and gaps."""
    by_source = {(r.source, r.agency): r for r in full.data_sources}
    street = by_source[("police_street", "bedfordshire")]
    assert (street.files, street.rows_accepted, street.rows_rejected) == (24, 120_588, 0)
    assert (street.first_month, street.last_month, street.months, street.gaps) == ("2021-05", "2023-04", 24, [])
    for r in full.data_sources:
        assert r.rows_read == r.rows_accepted + r.rows_rejected == r.rows_accepted + sum(r.rejects_by_reason.values())
    assert "data_sources" not in full.to_dict()  # the findings JSON stays the findings and their context


def test_the_findings_json_orders_lsoa_maps_by_code(full: FindingSet) -> None:
    """The findings JSON is the same bytes on every run (what the before/after comparisons of a refactor rely on):
    maps keyed by LSOA follow the area's LSOA codes in order, not the order DuckDB's threads return rows."""
    assert list(full.area.lsoa_ward) == sorted(full.area.lsoa_ward)
    maps = [f.extra["lsoa_counts"] for f in full.findings if "lsoa_counts" in f.extra]
    assert len(maps) >= 10
    assert all(list(m) == sorted(m) and len(m) == len(full.area.lsoa_ward) for m in maps)

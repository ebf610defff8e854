"""Reducing reoffending: hand-computed values on a small hand-made cohort, and the synthetic generator's truth."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from cspkit.findings.area import load_area
from cspkit.findings.engine import FindingSet, TopicInput, compute_findings
from cspkit.findings.indicators import FindingContext
from cspkit.findings.model import Finding
from cspkit.findings.periods import month_range, parse_period, plan_comparison
from cspkit.ingest import ingest_paths
from cspkit.topics import TOPIC_BUILDERS, reoffending
from cspkit.workspace import Workspace

# --- hand-made cohort -------------------------------------------------------------------------------------------
# Period P = 2022-23 (April 2022 to March 2023); baseline = 2021-22. Offences run January 2021 to September 2024,
# so every entrant of P has had the 12-month follow-up and 6-month waiting period (P is a whole MoJ-style cohort).
#   A: joins 2022-05-01, offences in 2021-22 (3), one ON the entry date and one with no outcome date in P.
#   B: joins 2022-06-15, leaves 2022-12-31; offences after the exit (not "on the programme"), one with a late outcome.
#   C: on since 2021-01-10, leaves 2022-06-30: an offence ON the exit date counts.
#   D: joins 2022-07-01, no offences at all.
#   E: joins 2023-01-15, the last entrant of P (window to 2024-07-15); no needs recorded.
#   F: joins after P (not a member in P); G: left before P (not a member in P).
OFFENDERS = """offender_ref,cohort,entry_date,exit_date,needs
A,IOM,2022-05-01,,accommodation;drugs
B,IOM,2022-06-15,2022-12-31,accommodation
C,IOM,2021-01-10,2022-06-30,alcohol
D,IOM,2022-07-01,,drugs
E,IOM,2023-01-15,,
F,IOM,2023-06-01,,drugs
G,IOM,2020-01-01,2021-12-31,alcohol
"""

OFFENCES = """offender_ref,offence_date,offence_group,outcome,outcome_date
G,2021-01-05,Theft,Charged,2021-02-01
G,2022-05-05,Theft,Charged,2022-06-01
A,2021-06-10,Theft,Charged,2021-07-10
A,2021-09-01,Burglary,Charged,2021-10-01
A,2022-01-20,Theft,Caution,2022-02-20
A,2022-05-01,Theft,Charged,2022-05-31
A,2022-08-15,Theft,Under investigation,
B,2021-07-01,Theft,Charged,2021-08-01
B,2023-02-01,Robbery,Charged,2023-03-03
B,2023-03-01,Theft,Charged,2024-01-20
C,2021-05-05,Theft,Charged,2021-06-05
C,2022-06-30,Theft,Charged,2022-07-30
E,2023-02-01,Theft,Charged,2023-03-01
F,2023-07-01,Theft,Charged,2023-08-01
F,2024-03-10,Theft,Charged,2024-03-20
F,2024-09-10,Theft,Charged,2024-09-20
"""


def _load(ws: Workspace, tmp: Path, offenders: str, offences: str | None) -> None:
    files = [("offenders", offenders), ("offences", offences)]
    con = ws.connect()
    try:
        for source, text in files:
            if text is None:
                continue
            path = tmp / f"{source}.csv"
            path.write_text(text, encoding="utf-8")
            report = ingest_paths(con, [path], key=ws.key(), source=source)
            assert report.ok, report.errors
    finally:
        con.close()


def _build(ws: Workspace, period: str = "2022-23") -> dict[str, Finding]:
    """Run the builder directly (works on a workspace with no event data at all)."""
    config = ws.config()
    con = ws.connect()
    try:
        current = parse_period(period, config.fy_start_month)
        loaded = month_range(current.previous().first, current.last)
        ctx = FindingContext(plan_comparison(current, loaded), config.area_codes[0], "Central Bedfordshire")
        inp = TopicInput(con, config, load_area(con, config), ctx, loaded, None)
        return {f.id: f for f in reoffending.build(inp)}
    finally:
        con.close()


@pytest.fixture
def hand(workspace: Workspace, tmp_path: Path) -> dict[str, Finding]:
    _load(workspace, tmp_path, OFFENDERS, OFFENCES)
    return _build(workspace)


def test_registered() -> None:
    assert TOPIC_BUILDERS["reoffending"] is reoffending.build


def test_single_cohort_has_unsuffixed_ids_only(hand: dict[str, Finding]) -> None:
    assert not any(i.startswith("reoffending.iom.") for i in hand)
    for key in (
        "cohort_size",
        "needs",
        "binary_rate",
        "reoffences_per_offender",
        "reoffences_per_reoffender",
        "followup.binary_rate",
        "followup.frequency",
        "followup.reoffences_per_reoffender",
        "followup.incomplete",
        "before_after_change",
        "by_need.accommodation",
        "by_need.drugs",
        "by_need.alcohol",
        "offences",
    ):
        assert f"reoffending.{key}" in hand
        assert hand[f"reoffending.{key}"].topic == "reoffending"


def test_same_period_same_people(hand: dict[str, Finding]) -> None:
    # Members in P: A, B, C, D, E. On-programme offences in P: A 2 (one on the entry date), C 1 (on the exit
    # date), E 1; B's offences after exit do not count; G's offence does not (G left before P).
    per = hand["reoffending.reoffences_per_reoffender"]
    assert per.value == pytest.approx(4 / 3)
    # Baseline 2021-22: A 3, B 1, C 1 -> 5 offences by 3 of the same members.
    assert per.baseline == pytest.approx(5 / 3)
    assert per.extra["members"] == 5
    assert per.extra["reoffenders"] == 3
    assert per.extra["offences"] == 4
    assert per.extra["baseline_offences"] == 5
    assert per.extra["binary_rate"] == pytest.approx(0.6)
    assert per.change is not None and per.change.p_value is None and not per.change.significant
    # The figure is always read with the binary rate, the counts and the regression-to-the-mean caution.
    assert "4 offences by 3 of the 5 members" in per.sentence
    assert "binary rate of 60%" in per.sentence
    # the caveat is in the definition; the report states it once (the chapter's caution), not in every sentence
    assert "regression to the mean" not in per.sentence and "regression to the mean" in per.definition
    binary = hand["reoffending.binary_rate"]
    assert (binary.value, binary.baseline) == (pytest.approx(0.6), pytest.approx(0.6))
    assert (binary.numerator, binary.denominator) == (3, 5)
    assert "McNemar" in binary.change.test  # type: ignore[union-attr]
    assert "1 reoffended only in the period, 1 only in the baseline" in binary.change.test  # type: ignore[union-attr]
    assert hand["reoffending.reoffences_per_offender"].value == pytest.approx(0.8)
    assert hand["reoffending.reoffences_per_offender"].baseline == pytest.approx(1.0)


def test_small_cohort_is_flagged(hand: dict[str, Finding]) -> None:
    for key in ("binary_rate", "reoffences_per_reoffender", "followup.binary_rate", "before_after_change"):
        finding = hand[f"reoffending.{key}"]
        assert finding.small_number, key
        assert "fewer than 20" in finding.sentence and "not for publication" in finding.sentence


def test_cohort_and_needs(hand: dict[str, Finding]) -> None:
    size = hand["reoffending.cohort_size"]
    assert size.value == 5
    assert size.baseline == 2  # C and G were on the programme in 2021-22
    assert size.extra["entries"] == 4  # A, B, D, E
    assert size.extra["exits"] == 2  # B, C
    assert size.extra["active_at_end"] == 3  # A, D, E
    assert dict(size.series)["2022-06"] == 3  # A, B, C
    assert dict(size.series)["2023-03"] == 3
    needs = hand["reoffending.needs"]
    assert needs.value == pytest.approx(0.5)  # A and B of the 4 members with needs recorded
    assert needs.extra["members_without_needs_recorded"] == 1  # E
    shares = {p["need"]: p["members"] for p in needs.extra["profile"]}
    assert shares == {"accommodation": 2, "drugs": 2, "alcohol": 1}


def test_by_need(hand: dict[str, Finding]) -> None:
    accommodation = hand["reoffending.by_need.accommodation"]
    assert accommodation.extra["with_need"] == {
        "members": 2,
        "reoffenders": 1,
        "offences": 2,
        "binary_rate": 0.5,
        "reoffences_per_reoffender": 2.0,
    }
    assert accommodation.extra["without_need"]["members"] == 2  # C, D (E has no needs recorded)
    assert accommodation.extra["without_need"]["reoffenders"] == 1
    assert accommodation.change is not None and accommodation.change.absolute == pytest.approx(0.0)
    assert "an accommodation need" in accommodation.sentence


def test_followup(hand: dict[str, Finding]) -> None:
    # Joined in P: A, B, D, E; every window (entry + 12 + 6 months) ends by September 2024, so all are followed.
    incomplete = hand["reoffending.followup.incomplete"]
    assert (incomplete.value, incomplete.denominator) == (0, 4)
    # A: the entry-date offence counts; the one without an outcome date does not. B: the offence after exit counts;
    # the one whose outcome came after entry + 18 months does not. D: none. E: one, proven in time.
    binary = hand["reoffending.followup.binary_rate"]
    assert binary.period == ("2022-04", "2023-03")
    assert (binary.numerator, binary.denominator) == (3, 4)
    assert binary.value == pytest.approx(3 / 4)
    assert binary.baseline is None  # nobody joined in 2021-22
    assert binary.extra["current"]["offences_without_outcome_date"] == 1
    assert hand["reoffending.followup.frequency"].value == pytest.approx(75.0)
    assert hand["reoffending.followup.frequency"].unit == "offences per 100 offenders"
    assert hand["reoffending.followup.reoffences_per_reoffender"].value == pytest.approx(1.0)
    assert "outcome date" in binary.definition


def test_before_after(hand: dict[str, Finding]) -> None:
    # A 3 -> 2 (the entry-date offence is "after"), B 1 -> 2, D 0 -> 0, E 0 -> 1.
    change = hand["reoffending.before_after_change"]
    assert change.period == ("2022-04", "2023-03")
    assert (change.baseline, change.value) == (4, 5)
    assert change.extra["members"] == 4
    assert change.extra["mean_before"] == pytest.approx(1.0)
    assert change.extra["mean_after"] == pytest.approx(1.25)
    assert change.extra["offenders_before"] == 2 and change.extra["offenders_after"] == 3
    assert change.change is not None and change.change.test.startswith("Wilcoxon")
    assert not change.change.significant
    assert "regression to the mean" in change.definition and "regression to the mean" not in change.sentence


def test_followup_without_outcome_dates(workspace: Workspace, tmp_path: Path) -> None:
    lines = [",".join(line.split(",")[:3]) for line in OFFENCES.strip().splitlines()]
    _load(workspace, tmp_path, OFFENDERS, "\n".join(lines) + "\n")
    found = _build(workspace)
    binary = found["reoffending.followup.binary_rate"]
    # Without outcome dates only the 12-month window must be inside the data, so E is followed up too.
    assert found["reoffending.followup.incomplete"].value == 0
    # A: 2 (both in the window), B: 2, D: 0, E: 1 -> 3 reoffenders of 4, 5 offences.
    assert (binary.numerator, binary.denominator) == (3, 4)
    assert found["reoffending.followup.frequency"].value == pytest.approx(125.0)
    assert "offence date alone" in binary.definition


def test_no_offenders(workspace: Workspace) -> None:
    found = _build(workspace)
    assert list(found) == ["quality.reoffending.no_offenders"]
    assert "No offenders" in found["quality.reoffending.no_offenders"].sentence


def test_offenders_without_offences(workspace: Workspace, tmp_path: Path) -> None:
    _load(workspace, tmp_path, OFFENDERS, None)
    found = _build(workspace)
    assert "quality.reoffending.no_offences" in found
    assert found["reoffending.cohort_size"].value == 5
    assert "reoffending.binary_rate" not in found


# --- synthetic workspace ------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def synthetic(synth: tuple[Workspace, dict[str, Any]]) -> tuple[Workspace, dict[str, Any]]:
    """The session's synthetic workspace (seed 1) and its truth.json, from tests/topics/conftest.py."""
    return synth


def _run(ws: Workspace, period: str | None = None) -> FindingSet:
    con = ws.connect(read_only=True)
    try:
        return compute_findings(
            con,
            ws.config(),
            period=period,
            topics=["reoffending"],
            forecast=False,
            hotspot_maps=False,
            builders=TOPIC_BUILDERS,
        )
    finally:
        con.close()


def test_synthetic_same_period_matches_truth(synthetic: tuple[Workspace, dict[str, Any]]) -> None:
    ws, truth = synthetic
    fs = _run(ws)  # the latest 12 months = truth's assessment period
    assert fs.period.first == truth["periods"]["assessment"]["start"][:7]
    expected = truth["iom"]["active_cohort"]["assessment"]
    per = fs.require("reoffending.reoffences_per_reoffender")
    assert per.value == pytest.approx(expected["reoffences_per_reoffender"], abs=1e-6)
    assert per.baseline == pytest.approx(expected["baseline_reoffences_per_reoffender"], abs=1e-6)
    assert per.extra["members"] == expected["members"]
    assert per.extra["offences"] == expected["offences_on_programme"]
    assert per.extra["reoffenders"] == expected["reoffenders"]
    assert per.extra["baseline_offences"] == expected["baseline_offences"]
    assert fs.require("reoffending.cohort_size").extra["active_at_end"] == truth["iom"]["active_at_end"]
    # IOM and PPO are both present: the per-cohort ids add up to the whole cohort.
    iom = fs.require("reoffending.iom.reoffences_per_reoffender").extra
    ppo = fs.require("reoffending.ppo.reoffences_per_reoffender").extra
    assert iom["offences"] + ppo["offences"] == expected["offences_on_programme"]


def test_synthetic_planted_fall_after_entry(synthetic: tuple[Workspace, dict[str, Any]]) -> None:
    ws, truth = synthetic
    fs = _run(ws)
    change = fs.require("reoffending.before_after_change")
    # Entrants of the assessment year cannot be followed for 12 months yet: the previous year's entrants are used.
    previous = truth["periods"]["previous"]
    assert change.period == (previous["start"][:7], previous["end"][:7])
    expected = truth["iom"]["entrants"]["previous"]
    assert expected["follow_up_complete"]
    assert change.extra["members"] == expected["members"]
    assert change.baseline == expected["offences_12m_before_entry"]
    assert change.value == expected["offences_12m_after_entry"]
    assert change.extra["offenders_after"] == expected["offenders_after"]
    # The planted rates (2.0 a year before entry, 0.8 on the programme) give a significant fall of the right size.
    assert change.change is not None and change.change.significant and change.change.direction == "down"
    assert change.change.percent == pytest.approx(
        (expected["offences_12m_after_entry"] / expected["offences_12m_before_entry"] - 1) * 100
    )
    # Every entrant of the assessment year is excluded from the MoJ-style follow-up and counted.
    entrants = truth["iom"]["entrants"]["assessment"]["members"]
    assert fs.require("reoffending.followup.incomplete").value == entrants


def test_synthetic_previous_period(synthetic: tuple[Workspace, dict[str, Any]]) -> None:
    ws, truth = synthetic
    previous = truth["periods"]["previous"]
    fs = _run(ws, f"{previous['start'][:7]}..{previous['end'][:7]}")
    expected = truth["iom"]["active_cohort"]["previous"]
    per = fs.require("reoffending.reoffences_per_reoffender")
    assert per.value == pytest.approx(expected["reoffences_per_reoffender"], abs=1e-6)
    assert per.baseline == pytest.approx(expected["baseline_reoffences_per_reoffender"], abs=1e-6)
    # Half of that year's entrants are past their 12 + 6 months, but the follow-up reads whole cohorts only: the
    # year before (the first of the data), and none of the previous year's entrants is counted as followed up.
    followup = fs.require("reoffending.followup.binary_rate")
    assert followup.period == ("2020-05", "2021-04")
    incomplete = fs.require("reoffending.followup.incomplete")
    assert 0 < incomplete.value < truth["iom"]["entrants"]["previous"]["members"]


# The MoJ-style follow-up on a whole cohort. P = 2023-24; offences run January 2021 to March 2024, so the latest
# financial year whose entrants all have 12 + 6 months inside the data is 2021-22, and the baseline is 2020-21.
#   H joined in 2020-21 before the data start: excluded, counted. J (2020-21) reoffended (charged).
#   K (2021-22): one offence with no further action (not proven) and one charged. L: an offence after the window.
#   M: an offence with no further action only. N joined in P: cannot be followed yet.
WHOLE_COHORT_OFFENDERS = """offender_ref,cohort,entry_date,exit_date
H,IOM,2020-06-01,
J,IOM,2021-02-01,
K,IOM,2021-06-01,
L,IOM,2021-09-01,
M,IOM,2022-01-10,
N,IOM,2023-06-01,
"""
WHOLE_COHORT_OFFENCES = """offender_ref,offence_date,offence_group,outcome,outcome_date
H,2021-01-05,Theft,Charged,2021-02-01
J,2021-05-01,Theft,Charged,2021-06-01
K,2021-08-01,Theft,No further action,2021-09-01
K,2022-03-01,Burglary,Caution,2022-04-01
L,2022-10-01,Theft,Charged,2022-11-01
M,2022-02-01,Theft,no further action,2022-03-01
N,2024-03-15,Theft,Charged,2024-03-20
"""


def test_followup_reads_the_latest_whole_cohort_with_complete_follow_up(workspace: Workspace, tmp_path: Path) -> None:
    _load(workspace, tmp_path, WHOLE_COHORT_OFFENDERS, WHOLE_COHORT_OFFENCES)
    found = _build(workspace, "2023-24")
    binary = found["reoffending.followup.binary_rate"]
    assert binary.period == ("2021-04", "2022-03") and binary.comparison_period == ("2020-04", "2021-03")
    # K, L, M followed up; only K has a proven reoffence (its no-further-action offence, and M's, do not count).
    assert (binary.numerator, binary.denominator) == (1, 3)
    assert binary.extra["current"]["offences_not_proven"] == 2
    # Baseline: J followed up and reoffended; H is excluded (entry before the loaded offences) and counted.
    assert binary.baseline == pytest.approx(1.0)
    assert binary.extra["baseline"]["members"] == 1 and binary.extra["baseline"]["incomplete"] == 1
    assert "1 member left out: 1 of the 2 who joined in 2020-21" in binary.sentence
    assert "cannot yet be followed" in binary.sentence and "2021-22" in binary.sentence
    assert found["reoffending.followup.frequency"].value == pytest.approx(100 / 3)
    assert "No further action" in binary.definition
    incomplete = found["reoffending.followup.incomplete"]
    assert (incomplete.value, incomplete.denominator) == (1, 1)  # N


def test_synthetic_followup_matches_a_count_from_the_partner_files(
    synthetic: tuple[Workspace, dict[str, Any]],
) -> None:
    """The MoJ-style follow-up recounted from offenders.csv and offences.csv by plain Python."""
    import csv

    from dateutil.relativedelta import relativedelta

    ws, _ = synthetic
    data = ws.root.parent / "data"
    with (data / "offenders.csv").open(encoding="utf-8") as fh:
        offenders = list(csv.DictReader(fh))
    with (data / "offences.csv").open(encoding="utf-8") as fh:
        offences = list(csv.DictReader(fh))
    day = date.fromisoformat
    last = max(day(o["offence_date"]) for o in offences)
    data_end_next = date(last.year + last.month // 12, last.month % 12 + 1, 1)
    fs = _run(ws)
    binary = fs.require("reoffending.followup.binary_rate")
    start, end = day(binary.period[0] + "-01"), day(binary.period[1] + "-01") + relativedelta(months=1)
    entry: dict[str, date] = {}
    for row in offenders:
        d = day(row["entry_date"])
        if start <= d < end:
            entry[row["offender_ref"]] = min(d, entry.get(row["offender_ref"], d))
    not_proven = {"no further action", "under investigation", "awaiting court outcome", "community resolution"}
    proven: dict[str, int] = {ref: 0 for ref in entry}
    for o in offences:
        ref = o["offender_ref"]
        if ref not in entry or not o["outcome_date"] or o["outcome"].lower() in not_proven:
            continue
        if entry[ref] <= day(o["offence_date"]) < entry[ref] + relativedelta(months=12):
            proven[ref] += day(o["outcome_date"]) < entry[ref] + relativedelta(months=18)
    assert all(d + relativedelta(months=18) <= data_end_next for d in entry.values())  # a whole cohort
    assert binary.denominator == len(entry) > 20
    assert binary.numerator == sum(1 for v in proven.values() if v)
    assert fs.require("reoffending.followup.frequency").numerator == sum(proven.values())
    assert binary.value is not None and 0 < binary.value < 1


def test_offences_per_member_year_use_equal_windows_before_and_after_entry(
    hand_con: duckdb.DuckDBPyConnection, load_files: Any, run: Callable[..., FindingSet]
) -> None:
    """A joins 2024-03-01 and leaves 2024-06-29 (121 days at risk): 1 offence after, and 3 in the 121 days before
    entry (one more earlier, outside the window). B joins 2024-07-01 with no exit: at risk to the end of the data
    (2024-12-31, 184 days), 0 after and 2 before. Rates: 1 / (305/365.25) against 5 / (305/365.25)."""
    offenders = "offender_ref,cohort,entry_date,exit_date\nA,IOM,2024-03-01,2024-06-29\nB,IOM,2024-07-01,\n"
    offences = (
        "offender_ref,offence_date,offence_group\n"
        "A,2024-04-10,theft\nA,2024-02-20,theft\nA,2023-12-01,theft\nA,2023-11-03,theft\nA,2023-06-01,theft\n"
        "B,2024-06-01,theft\nB,2024-01-15,theft\n"
    )
    load_files({"off.csv": ("offenders", "probation", offenders), "o.csv": ("offences", "probation", offences)})
    fs = run(hand_con, ["reoffending"])
    f = fs.require("reoffending.offences_per_member_year")
    years = (121 + 184) / 365.25
    assert f.extra["member_years"] == pytest.approx(years)
    assert (f.extra["offences_after"], f.extra["offences_before"]) == (1, 5)
    assert f.value == pytest.approx(1 / years) and f.baseline == pytest.approx(5 / years)
    assert f.unit == "offences per member-year" and "regression to the mean" in f.definition
    assert f.change is not None and f.change.method == "exact conditional (mid-p)"


def test_offences_each_agrees_in_number() -> None:
    from cspkit.topics.reoffending.cohort import _offences_each

    assert _offences_each(1.0) == "1 offence each"
    assert _offences_each(1.5) == "1.5 offences each"
    assert _offences_each(2.0) == "2 offences each"


def test_actual_against_ogrs_predicted(workspace: Workspace, tmp_path: Path) -> None:
    """OGRS scores are 24-month probabilities (the default): with offences January 2021 to March 2024, members who
    joined from January 2021 to September 2021 have had 24 + 6 months. J (80%), K (50%) and L (40%) have a proven
    reoffence within 24 months (K's no-further-action offence does not count, its caution does; L's offence is 13
    months after entry); Q (90%) has none. H joined before the data; M and N are too recent.
    Predicted 2.6 of 4; observed 3. P(X = 4) = .8 x .5 x .4 x .9 = .144, P(X = 3) = .036 + .144 + .216 + .016 = .412,
    so the mid-p value is 2 x (.144 + .412 / 2) = 0.70."""
    offenders = (
        "offender_ref,cohort,entry_date,exit_date,ogrs_score\n"
        "H,IOM,2020-06-01,,70\nJ,IOM,2021-02-01,,80\nQ,IOM,2021-03-01,,90\nK,IOM,2021-06-01,,50\n"
        "L,IOM,2021-09-01,,40\nM,IOM,2022-01-10,,60\nN,IOM,2023-06-01,,\n"
    )
    _load(workspace, tmp_path, offenders, WHOLE_COHORT_OFFENCES)
    f = _build(workspace, "2023-24")["reoffending.followup.actual_vs_ogrs"]
    assert (f.numerator, f.denominator) == (3, 4)
    assert f.value == pytest.approx(0.75) and f.baseline == pytest.approx(0.65)
    assert f.extra["expected_reoffenders"] == pytest.approx(2.6)
    assert f.period == ("2021-02", "2021-09")
    assert f.change is not None and f.change.p_value == pytest.approx(0.70)
    assert f.change.rate_ratio == pytest.approx(3 / 2.6) and not f.change.significant
    assert f.extra["not_yet_followed"] == 2  # M and N; L's 30 months end on 2024-03-01, inside the data
    assert "3 of" not in f.sentence and "3 (75%" in f.sentence and "65% predicted" in f.sentence
    assert "Poisson-binomial" in f.definition and "24 months" in f.definition


def test_synthetic_actual_against_ogrs_matches_a_count_from_the_partner_files(
    synthetic: tuple[Workspace, dict[str, Any]],
) -> None:
    import csv

    from dateutil.relativedelta import relativedelta

    ws, _ = synthetic
    data = ws.root.parent / "data"
    with (data / "offenders.csv").open(encoding="utf-8") as fh:
        offenders = list(csv.DictReader(fh))
    with (data / "offences.csv").open(encoding="utf-8") as fh:
        offences = list(csv.DictReader(fh))
    day = date.fromisoformat
    first = min(day(o["offence_date"]) for o in offences).replace(day=1)
    last = max(day(o["offence_date"]) for o in offences)
    data_end_next = date(last.year + last.month // 12, last.month % 12 + 1, 1)
    entry: dict[str, tuple[date, float]] = {}
    for row in sorted(offenders, key=lambda r: r["entry_date"]):
        d = day(row["entry_date"])
        if d >= first and row["offender_ref"] not in entry:
            entry[row["offender_ref"]] = (d, float(row["ogrs_score"]))
    followed = {ref: v for ref, v in entry.items() if v[0] + relativedelta(months=30) <= data_end_next}
    not_proven = {"no further action", "under investigation", "awaiting court outcome", "community resolution"}
    reoffended = {
        o["offender_ref"]
        for o in offences
        if o["offender_ref"] in followed
        and o["outcome_date"]
        and o["outcome"].lower() not in not_proven
        and followed[o["offender_ref"]][0]
        <= day(o["offence_date"])
        < followed[o["offender_ref"]][0] + relativedelta(months=24)
        and day(o["outcome_date"]) < followed[o["offender_ref"]][0] + relativedelta(months=30)
    }
    f = _run(ws).require("reoffending.followup.actual_vs_ogrs")
    assert f.denominator == len(followed) > 10
    assert f.numerator == len(reoffended)
    assert f.extra["expected_reoffenders"] == pytest.approx(sum(s for _, s in followed.values()) / 100)
    assert f.change is not None and f.change.p_value is not None and f.change.ci_low is not None


def test_cohort_flow_by_quarter(hand: dict[str, Finding]) -> None:
    """2022-23 in quarters from April. Apr-Jun: A and B join, C leaves on 30 June (on the programme at the end: A, B,
    C). Jul-Sep: D joins (A, B, D). Oct-Dec: B leaves on 31 December (A, B, D). Jan-Mar: E joins (A, D, E).
    C's spell lasted 537 days (10 January 2021 to 30 June 2022), B's 200: median 368.5."""
    flow = hand["reoffending.cohort_flow"]
    rows = [(r["entered"], r["exited"], r["active_at_end"]) for r in flow.extra["quarters"]]
    assert rows == [(2, 1, 3), (1, 0, 3), (0, 1, 3), (1, 0, 3)]
    assert flow.extra["quarters"][0]["quarter"] == ["2022-04", "2022-06"]
    assert flow.extra["quarters"][0]["median_days_on_programme_of_leavers"] == 537
    assert flow.extra["median_days_on_programme_of_leavers"] == pytest.approx(368.5)
    assert (flow.value, flow.baseline) == (4, 0)  # nobody joined in 2021-22
    assert (flow.extra["exited"], flow.extra["exited_baseline"]) == (2, 1)  # G left on 31 December 2021
    # 4 against 0 over equal time: exact mid-p = 2 x (1/16) / 2 = 0.0625
    assert flow.change is not None and flow.change.p_value == pytest.approx(0.0625)
    assert flow.series == [("2022-06", 3.0), ("2022-09", 3.0), ("2022-12", 3.0), ("2023-03", 3.0)]
    assert "2 in, 1 out, 3 at the end" in flow.sentence

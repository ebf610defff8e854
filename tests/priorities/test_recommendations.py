"""Previous recommendations with RAG, drafted new recommendations, and analysts' edits surviving a re-run."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from cspkit.errors import ConfigError
from cspkit.findings.area import AreaContext
from cspkit.findings.engine import FindingSet
from cspkit.findings.model import Change, Finding
from cspkit.findings.periods import month_range, parse_period, plan_comparison
from cspkit.ingest import ingest_paths
from cspkit.priorities import CandidateEvidence, CandidateInputs, Matrix, score
from cspkit.priorities.candidates import PublicViews
from cspkit.priorities.recommendations import (
    draft_recommendations,
    load_or_draft,
    previous_recommendations,
    rag_summary,
)
from cspkit.priorities.run import PriorityResult
from cspkit.workspace import Workspace

RECOMMENDATIONS_CSV = """\
ref,year,text,status,priority,owner,due,evidence
R01,2021-22,Old plan item.,complete,ASB,Council,2021-12-01,Done.
R01,2022-23,Introduce shared ASB case management.,on_track,ASB,Head of Community Safety,2023-03-31,Milestones met.
R02,2022-23,Commission a perpetrator programme.,complete,Domestic abuse,Public Health,2022-12-01,Delivered.
R03,2022-23,Extend IOM to DA perpetrators.,not_started,Reducing reoffending,Probation Service,2023-01-31,
R04,2022-23,Map sexual violence services.,delayed,Sexual violence,CSP,2023-04-14,Funding agreed late.
R05,2022-23,Run a residents' survey.,dropped,Public confidence,Council,2022-11-17,Superseded.
R06,2022-23,Raise non-police MARAC referrals.,on_track,Domestic abuse,MARAC Chair,2022-10-23,On track.
"""


def test_previous_recommendations_latest_year_with_rag(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "recommendations.csv"
    path.write_text(RECOMMENDATIONS_CSV, encoding="utf-8")
    con = workspace.connect()
    try:
        report = ingest_paths(con, [path], key=workspace.key(), source="recommendations", agency="csp")
        assert report.ok, report.errors
        previous = previous_recommendations(con)
    finally:
        con.close()
    assert [(r["ref"], r["status"], r["rag"]) for r in previous] == [
        ("R01", "on_track", "green"),
        ("R02", "complete", "complete"),
        ("R03", "not_started", "red"),
        ("R04", "delayed", "amber"),
        ("R05", "dropped", "grey"),
        ("R06", "on_track", "green"),
    ]
    assert {r["year"] for r in previous} == {"2022-23"}
    assert previous[0]["owner"] == "Head of Community Safety"
    assert previous[0]["due"] == "2023-03-31"
    assert previous[2]["evidence"] == ""
    assert rag_summary(previous) == {"complete": 1, "green": 2, "amber": 1, "red": 1, "grey": 1}


def test_no_previous_recommendations(workspace: Workspace) -> None:
    con = workspace.connect()
    try:
        assert previous_recommendations(con) == []
    finally:
        con.close()


# --- drafting -----------------------------------------------------------------------------------------------

DA_SENTENCE = "Domestic abuse incidents rose significantly: 1,380 against 1,228."
DA_REPEAT_SENTENCE = "26% of domestic abuse victims were repeat victims."
ASB_SENTENCE = "There was no statistically significant change in ASB: 847 against 927."


def _finding(fid: str, topic: str, value: float, unit: str, sentence: str, change: Change | None) -> Finding:
    return Finding(
        id=fid,
        topic=topic,
        title=fid,
        area="E06000056",
        area_name="Central Bedfordshire",
        period=("2023-04", "2024-03"),
        value=value,
        unit=unit,
        definition="hand-made",
        sentence=sentence,
        change=change,
    )


RISE = Change(152, 12.4, 1.12, 1.04, 1.21, 0.003, 0.006, True, "up", "exact Poisson")
FLAT = Change(-80, -8.6, 0.91, 0.83, 1.0, 0.06, 0.1, False, "none", "exact Poisson")


@pytest.fixture
def fs() -> FindingSet:
    period = parse_period("2023-24")
    comparison = plan_comparison(period, month_range("2022-04", "2024-03"), "previous")
    area = AreaContext(["E06000056"], "Central Bedfordshire", {}, {}, {})
    findings = [
        _finding("da.incidents", "da", 1380, "count", DA_SENTENCE, RISE),
        _finding("da.repeat_victim_rate", "da", 0.26, "proportion", DA_REPEAT_SENTENCE, None),
        _finding("asb.count", "asb", 847, "count", ASB_SENTENCE, FLAT),
    ]
    return FindingSet(findings, period, comparison, area, {})


CANDIDATES = [
    CandidateEvidence(
        "domestic_abuse",
        "Domestic abuse",
        change=RISE,
        finding_ids={
            "count": ["da.incidents"],
            "change": ["da.incidents"],
            "harm_rate": ["da.incidents", "harm: weighted as violence"],
            "repeat_share": ["da.repeat_victim_rate"],
        },
    ),
    CandidateEvidence("asb", "ASB (repeat/vulnerable victims)", change=FLAT, finding_ids=["asb.count"]),
]


def _result(matrix: Matrix, inputs: list[CandidateInputs]) -> PriorityResult:
    views = PublicViews(None, {}, {}, "")
    return PriorityResult(matrix, score(matrix, inputs), None, CANDIDATES, views, "cchi_approx")


def test_draft_one_per_recommended_priority(
    vthpc: Matrix, worked_examples: list[CandidateInputs], fs: FindingSet
) -> None:
    drafts = draft_recommendations(_result(vthpc, worked_examples), fs)
    # the worked example: four in the top band (4.25, 3.80, 3.60, 3.50), shoplifting (1.85) business as usual
    assert [(d.ref, d.priority) for d in drafts] == [
        ("N01", "domestic_abuse"),
        ("N02", "asb"),
        ("N03", "reoffending"),
        ("N04", "sexual_abuse"),
    ]
    da = drafts[0]
    assert da.evidence == [DA_SENTENCE, DA_REPEAT_SENTENCE]
    assert da.finding_ids == ["da.incidents", "da.repeat_victim_rate"]
    assert da.owner == "Domestic Abuse Partnership Board, with the police and the IDVA service"
    # domestic abuse: more reporting is welcome, the target is repeat victimisation (with its base)
    assert da.action.startswith("Cut repeat victimisation from domestic abuse") and "perpetrators" in da.action
    assert "da.repeat_victim_rate" in da.target and "reporting itself is not targeted" in da.target
    assert da.review  # an ISO date, six months after the period
    assert da.scores["total"] == 4.25
    assert da.scores["band"] == "Recommended priority"
    assert da.scores["rank"] == 1
    harm = da.scores["criteria"]["harm"]
    assert (harm["score"], harm["weight"]) == (5.0, 0.3)
    asb = drafts[1]
    assert asb.evidence == [ASB_SENTENCE]
    assert asb.owner == "Council ASB team, with the police"
    # no significant rise: the action says why it matters anyway, from the criteria that scored highest
    assert "no significant change, but it matters because of its" in asb.action
    assert asb.target.startswith("5% fewer") or "5% fewer" in asb.target or asb.target.startswith("A local")
    assert drafts[2].owner == "Probation Service (IOM), with the police"
    assert drafts[2].evidence == []  # no candidate evidence given for it
    assert drafts[3].owner == "Police, with the council's community safety team"


def test_edits_survive_a_rerun(
    vthpc: Matrix,
    worked_examples: list[CandidateInputs],
    vthpc_candidate: Callable[..., CandidateInputs],
    fs: FindingSet,
    tmp_path: Path,
) -> None:
    path = tmp_path / "narrative" / "new_recommendations.toml"
    first = draft_recommendations(_result(vthpc, worked_examples), fs)
    assert load_or_draft(path, first) == first
    written = tomllib.loads(path.read_text(encoding="utf-8"))["recommendation"]
    assert [e["priority"] for e in written] == ["domestic_abuse", "asb", "reoffending", "sexual_abuse"]
    assert written[0]["evidence"] == [DA_SENTENCE, DA_REPEAT_SENTENCE]

    # the analyst rewrites the domestic abuse action and owner, and adds a comment
    text = path.read_text(encoding="utf-8")
    text = text.replace(first[0].action, "Fund a second IDVA post and a perpetrator programme.")
    text = text.replace(first[0].owner, "DA Board (chair: Public Health)")
    path.write_text(text + "# checked by the analyst\n", encoding="utf-8")
    edited_text = path.read_text(encoding="utf-8")

    # next run: sexual abuse drops out of the top band, burglary comes in
    inputs = [c for c in worked_examples if c.key != "sexual_abuse"] + [
        vthpc_candidate("sexual_abuse", 1, 1, 1, 1, 1),
        vthpc_candidate("burglary", 5, 5, 5, 5, 5, label="Burglary"),
    ]
    second = draft_recommendations(_result(vthpc, inputs), fs)
    assert [d.priority for d in second] == ["burglary", "domestic_abuse", "asb", "reoffending"]
    merged = load_or_draft(path, second)
    assert [(r.ref, r.priority, r.recommended) for r in merged] == [
        ("N01", "domestic_abuse", True),
        ("N02", "asb", True),
        ("N03", "reoffending", True),
        ("N04", "sexual_abuse", False),
        ("N05", "burglary", True),
    ]
    da = merged[0]
    assert (da.action, da.owner, da.edited) == (
        "Fund a second IDVA post and a perpetrator programme.",
        "DA Board (chair: Public Health)",
        True,
    )
    assert da.scores["total"] == 4.25  # current scores attached to the analyst's entry
    assert merged[1].edited is False
    assert merged[3].flag.startswith("Priority no longer recommended")
    assert merged[3].scores == {}
    assert merged[4].owner == "Police, with the council's community safety team"
    # the analyst's text is untouched; only the new draft is appended
    after = path.read_text(encoding="utf-8")
    assert after.startswith(edited_text)
    assert [e["priority"] for e in tomllib.loads(after)["recommendation"]][-1] == "burglary"
    # a third run changes nothing
    assert load_or_draft(path, second) == merged
    assert path.read_text(encoding="utf-8") == after


def test_broken_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "new_recommendations.toml"
    path.write_text("[[recommendation]]\nref = 'N01'\naction = 'x'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="recommendation 1 has no priority"):
        load_or_draft(path, [])
    path.write_text("[[recommendation]\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_or_draft(path, [])

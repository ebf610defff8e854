"""Linkage on the synthetic partnership: accuracy against planted truth, stability, incremental runs, CLI."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cspkit.cli import app
from cspkit.linkage.evaluate import evaluate, pairwise_scores, read_truth
from cspkit.linkage.run import link_people
from cspkit.workspace import Workspace
from tests.linkage.conftest import PERSON_FILES, U_PAIRS, ingest

runner = CliRunner()


def _cli(ws: Workspace, *args: str) -> str:
    result = runner.invoke(app, [*args, "--workspace", str(ws.root)])
    assert result.exit_code == 0, result.output
    return result.output


def test_pairwise_scores_by_hand() -> None:
    # truth: a a a b; predicted: 1 1 2 2 -> true pairs 3, predicted 2, true positive 1 (the two records a/1)
    scores = pairwise_scores([("a", "1"), ("a", "1"), ("a", "2"), ("b", "2")])
    assert (scores.true_pairs, scores.predicted_pairs, scores.true_positive_pairs) == (3, 2, 1)
    assert scores.precision == 0.5 and scores.recall == pytest.approx(1 / 3, abs=1e-6)
    assert scores.f1 == pytest.approx(0.4, abs=1e-6)
    assert (scores.records, scores.true_people, scores.predicted_people) == (4, 2, 2)


def test_linkage_meets_the_accuracy_targets_and_beats_exact_matching(
    linked_workspace: Workspace, synth_people: Path
) -> None:
    truth = synth_people / "linkage_truth.csv"
    out = json.loads(_cli(linked_workspace, "link", "evaluate", str(truth), "--json"))
    assert set(out) == {
        "precision",
        "recall",
        "f1",
        "true_pairs",
        "predicted_pairs",
        "true_positive_pairs",
        "records",
        "true_people",
        "predicted_people",
    }
    rows = read_truth(truth)
    assert out["true_people"] == len({r[3] for r in rows})
    assert out["records"] >= len(rows)  # a shared council/police ASB reference is two records
    assert out["f1"] >= 0.975, out
    assert out["precision"] >= 0.98, out
    exact = json.loads(_cli(linked_workspace, "link", "evaluate", str(truth), "--baseline", "exact", "--json"))
    assert exact["true_pairs"] == out["true_pairs"]
    assert exact["f1"] < 0.9 < out["f1"], (exact, out)


def test_rerun_keeps_every_person_id_without_retraining(linked_workspace: Workspace, tmp_path: Path) -> None:
    root = tmp_path / "ws"
    shutil.copytree(linked_workspace.root, root)
    ws = Workspace(root)
    con = ws.connect()
    try:
        before = dict(con.execute("SELECT unique_id, person_id FROM link_people").fetchall())
        summary = link_people(con, ws.key())
        after = dict(con.execute("SELECT unique_id, person_id FROM link_people").fetchall())
        splink_tables = con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name LIKE '%splink%'"
        ).fetchall()[0][0]
    finally:
        con.close()
    assert not summary.trained and summary.new_linkage is None
    assert after == before
    assert summary.kept_ids == summary.people
    assert splink_tables == 0  # Splink worked in its own in-memory database


def test_new_files_link_to_existing_people_and_a_new_threshold_is_a_new_linkage(
    tmp_path: Path, _blank_workspace_template: Path, synth_people: Path
) -> None:
    root = tmp_path / "ws"
    shutil.copytree(_blank_workspace_template, root)
    ws = Workspace(root)
    ingest(ws, [synth_people / name for name in PERSON_FILES if name != "asb_incidents_council.csv"])
    con = ws.connect()
    try:
        first = link_people(con, ws.key(), max_pairs=U_PAIRS)
        before = dict(con.execute("SELECT unique_id, person_id FROM link_people").fetchall())
    finally:
        con.close()
    assert first.trained and first.new_linkage == "first linkage in this workspace"
    ingest(ws, [synth_people / "asb_incidents_council.csv"])
    con = ws.connect()
    try:
        second = link_people(con, ws.key())
        rows = con.execute("SELECT unique_id, person_id FROM link_people").fetchall()
    finally:
        con.close()
    assert not second.trained and second.new_linkage is None
    after = dict(rows)
    assert set(before) < set(after)
    touched = {after[u] for u in after if u not in before}  # people with a new council record
    unchanged = [u for u in before if after[u] not in touched]
    assert len(unchanged) > 0.9 * len(before)
    assert all(after[u] == before[u] for u in unchanged)

    output = _cli(ws, "link", "--threshold", "0.8")
    assert "New linkage" in output and "threshold changed from 0.95 to 0.8" in output


def test_evaluate_refuses_a_bad_truth_file_with_one_clear_line(linked_workspace: Workspace, tmp_path: Path) -> None:
    bad = tmp_path / "truth.csv"
    bad.write_text("source,record_ref,role,person_label\nasb_incidents,X1,offender,P1\n", encoding="utf-8")
    result = runner.invoke(app, ["link", "evaluate", str(bad), "--workspace", str(linked_workspace.root)])
    assert result.exit_code == 1
    assert "truth.csv: row 2, column source/role" in result.output
    assert "Traceback" not in result.output


def test_link_summary_and_charts(linked_workspace: Workspace, tmp_path: Path) -> None:
    root = tmp_path / "ws"
    shutil.copytree(linked_workspace.root, root)
    ws = Workspace(root)
    out = json.loads(_cli(ws, "link", "--json"))
    con = ws.connect(read_only=True)
    try:
        records, people = con.execute("SELECT count(*), count(DISTINCT person_id) FROM link_people").fetchall()[0]
    finally:
        con.close()
    assert (out["records"], out["people"]) == (records, people)
    assert sum(out["people_by_combination"].values()) == people
    assert sum(out["records_by_role"].values()) == records
    assert set(out["records_by_role"]) == {
        "asb_incidents/victim",
        "domestic_abuse/victim",
        "domestic_abuse/perpetrator",
        "marac_referrals/victim",
        "marac_referrals/perpetrator",
        "offenders/offender",
    }
    assert any("+" in combination for combination in out["people_by_combination"])
    for name in ("match_weights.png", "match_weights.svg", "m_u_parameters.png", "m_u_parameters.svg"):
        assert (ws.outputs / "linkage" / name).stat().st_size > 1000
    levels = out["diagnostics"]["levels"]
    assert levels["dob"][0]["level"] == "same date" and levels["dob"][0]["m"] > 0.5
    assert os.path.exists(out["charts"][0])


def test_evaluate_counts_truth_rows_that_match_no_record(linked_workspace: Workspace, tmp_path: Path) -> None:
    truth = tmp_path / "truth.csv"
    truth.write_text("source,record_ref,role,person_label\ndomestic_abuse,NO-SUCH-REF,victim,P1\n", encoding="utf-8")
    con = linked_workspace.connect()
    try:
        result = evaluate(con, linked_workspace.key(), read_truth(truth))
    finally:
        con.close()
    assert result.not_found == 1 and result.records == 0

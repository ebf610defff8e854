"""Safeguards found by review: no silent data loss, no identifier in a refusal message, no silent key change."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from cspkit.cli import app
from cspkit.config import load_config
from cspkit.errors import AnalysisError, ConfigError
from cspkit.findings.engine import compute_findings
from cspkit.ingest import ingest_paths
from cspkit.topics import TOPIC_BUILDERS
from cspkit.workspace import Workspace


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_an_unterminated_quote_refuses_the_whole_file(workspace: Workspace, tmp_path: Path) -> None:
    """DuckDB would read to the end of the file looking for the closing quote: the rows after it would vanish."""
    rows = "".join(f"I{i},2023-01-{i % 28 + 1:02d},nuisance\n" for i in range(100))
    text = 'incident_ref,reported_at,category\nI900,2023-02-01,personal\nI901,"2023-02-02,nuisance\n' + rows
    path = _write(tmp_path / "asb.csv", text)
    con = workspace.connect()
    try:
        report = ingest_paths(con, [path], key=workspace.key(), source="asb_incidents", agency="council")
        held = con.execute("SELECT count(*) FROM asb_incidents").fetchall()[0][0]
    finally:
        con.close()
    assert not report.loaded and len(report.errors) == 1
    assert "never closed" in report.errors[0].message and "nothing was loaded" in report.errors[0].message
    assert held == 0


def test_a_file_without_its_header_row_is_refused_without_showing_the_record(
    workspace: Workspace, tmp_path: Path
) -> None:
    """The first data row stands where the header should be: the message must not quote it."""
    path = _write(
        tmp_path / "headless.csv",
        "DA/20/000001,2020-05-01 00:03,PV104007,PV104014,yes,Assault,standard,F,34,no,E01017449,"
        "Zebediah Quillfeather,1971-03-14,LU7 9QZ\n"
        "DA/20/000002,2020-05-02 10:03,PV104008,PV104015,no,,medium,F,29,yes,E01017449,Ann Other,1980-01-01,LU7 1AA\n",
    )
    con = workspace.connect()
    try:
        report = ingest_paths(con, [path], key=workspace.key())
    finally:
        con.close()
    message = report.errors[0].message
    assert "does not match any source" in message
    for secret in ("Quillfeather", "1971-03-14", "LU7 9QZ", "PV104007", "DA/20/000001"):
        assert secret not in message


def test_ingest_refuses_a_changed_key(workspace: Workspace, tmp_path: Path) -> None:
    """The warehouse is encrypted with a key derived from the workspace key: another key cannot open it at all,
    so nothing is loaded and the message says how to restore the key. The old way round it, --accept-new-key,
    is gone: pseudonyms made with two keys never mix in one warehouse."""
    workspace.key_path.chmod(0o600)
    workspace.key_path.write_text("ab" * 32, encoding="utf-8")
    path = _write(tmp_path / "asb.csv", "incident_ref,reported_at,category\nI1,2023-01-05,nuisance\n")
    runner = CliRunner()
    refused = runner.invoke(app, ["ingest", "--workspace", str(workspace.root), str(path)])
    assert refused.exit_code == 1
    assert "cannot be decrypted with this workspace's key" in refused.output
    assert "cspkit key import" in refused.output and "Traceback" not in refused.output
    gone = runner.invoke(app, ["ingest", "--workspace", str(workspace.root), "--accept-new-key", str(path)])
    assert gone.exit_code == 2 and "No such option" in gone.output


def test_a_misspelt_table_in_the_settings_is_refused(workspace: Workspace) -> None:
    """[disclosre] must not silently fall back to the default disclosure settings."""
    text = workspace.config_path.read_text(encoding="utf-8") + "\n[disclosre]\nsuppress_below = 10\n"
    workspace.config_path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unknown table \[disclosre\]. Did you mean \[disclosure\]"):
        load_config(workspace.config_path)


def test_an_unknown_topic_is_refused(police_workspace: Workspace) -> None:
    con = police_workspace.connect(read_only=True)
    try:
        with pytest.raises(AnalysisError, match="Unknown topic"):
            compute_findings(con, police_workspace.config(), topics=["crimes"], forecast=False, builders=TOPIC_BUILDERS)
    finally:
        con.close()

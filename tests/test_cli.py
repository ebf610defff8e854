"""The command line: init, clear errors without tracebacks, sources, status and rejects as JSON."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from cspkit.cli import app
from cspkit.sources.contracts import CONTRACTS
from cspkit.workspace import Workspace

runner = CliRunner()


def _run(*args: str) -> Result:
    return runner.invoke(app, list(args))


def _one_clear_error(result: Result) -> str:
    """Exit status 1, a single "Error:" message on stderr, no traceback, nothing on stdout."""
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stderr.startswith("Error: ")
    return " ".join(result.stderr.split())  # rich may wrap long lines


def test_init_creates_settings_and_a_private_key(tmp_path: Path) -> None:
    """init writes cspkit.toml with the name and area, a 0600 key in a 0700 folder, and the warehouse."""
    root = tmp_path / "csp"
    result = _run("init", str(root), "--name", "Luton CSP", "--area", "E06000032")
    assert result.exit_code == 0, result.stderr
    toml = (root / "cspkit.toml").read_text()
    assert 'name = "Luton CSP"' in toml and 'area_codes = ["E06000032"]' in toml
    key = root / ".cspkit" / "key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(key.parent.stat().st_mode) == 0o700
    assert len(key.read_text().strip()) == 64
    assert (root / "warehouse.duckdb").is_file()

    key_before = key.read_bytes()
    toml_before = (root / "cspkit.toml").read_bytes()
    again = _one_clear_error(_run("init", str(root), "--name", "Other", "--area", "E06000056"))
    assert "already holds a cspkit workspace" in again and "nothing changed" in again
    assert key.read_bytes() == key_before and (root / "cspkit.toml").read_bytes() == toml_before


def test_init_refuses_to_overwrite_an_existing_key(tmp_path: Path) -> None:
    """A folder with a key but no settings is refused too: a key is never overwritten."""
    root = tmp_path / "csp"
    (root / ".cspkit").mkdir(parents=True)
    (root / ".cspkit" / "key").write_text("0" * 64 + "\n")
    message = _one_clear_error(_run("init", str(root), "--name", "X", "--area", "E06000056"))
    assert "refusing to overwrite a pseudonymisation key" in message
    assert (root / ".cspkit" / "key").read_text() == "0" * 64 + "\n"
    assert not (root / "cspkit.toml").exists()


def test_init_with_an_unknown_area_creates_nothing(tmp_path: Path) -> None:
    """An unknown area code gives one message with a close suggestion, and no folder is created."""
    root = tmp_path / "csp"
    message = _one_clear_error(_run("init", str(root), "--name", "X", "--area", "E06000999"))
    assert "Unknown local authority code(s): E06000999" in message
    assert "did you mean" in message
    assert not root.exists()


COMMANDS = [
    ["ingest", "some.csv"],
    ["status"],
    ["status", "--json"],
    ["rejects"],
    ["rejects", "--json"],
    ["export", "parquet", "out"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_missing_workspace_folder_gives_one_clear_error(tmp_path: Path, command: list[str]) -> None:
    """Every workspace command on a folder that does not exist: one message naming it, exit 1, no traceback."""
    missing = tmp_path / "nowhere"
    message = _one_clear_error(_run(*command, "--workspace", str(missing)))
    assert f"The folder {missing} does not exist" in message
    assert not missing.exists()


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_foreign_folder_gives_one_clear_error(tmp_path: Path, command: list[str]) -> None:
    """Every workspace command on a folder that is not a workspace: one message naming it, exit 1, no traceback."""
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "cat.jpg").write_bytes(b"\xff\xd8")
    message = _one_clear_error(_run(*command, "--workspace", str(foreign)))
    assert f"{foreign} is not a cspkit workspace" in message
    assert sorted(p.name for p in foreign.iterdir()) == ["cat.jpg"]  # nothing created in it


def test_unknown_source_is_one_clear_error(workspace: Workspace, tmp_path: Path) -> None:
    """ingest --source with an unknown name lists the known sources."""
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n")
    message = _one_clear_error(_run("ingest", str(path), "--source", "asb", "--workspace", str(workspace.root)))
    assert "Unknown source 'asb'; known sources: police_street" in message


def test_sources_lists_every_contract() -> None:
    """`sources` prints every contract; `sources --json` gives each contract's columns."""
    result = _run("sources")
    assert result.exit_code == 0
    for name in CONTRACTS:
        assert f"{name}:" in result.stdout
    data = json.loads(_run("sources", "--json").stdout)
    assert list(data) == list(CONTRACTS)
    columns = {row["column"]: row for row in data["asb_incidents"]["columns"]}
    assert columns["reported_at"]["required"] == "yes"
    assert "date reported" in columns["reported_at"]["aliases"]
    assert columns["category"]["allowed"] == "personal, nuisance, environmental"


def test_ingest_status_and_rejects_as_json(workspace: Workspace, tmp_path: Path) -> None:
    """After ingesting one partner file: ingest, status and rejects --json hold the expected numbers."""
    path = tmp_path / "asb.csv"
    path.write_text(
        "incident_ref,reported_at,category\n"
        "A1,2022-01-05,personal\nA2,2022-03-07,nuisance\nA3,2022-03-08,weird\nA4,soon,personal\n"
    )
    ws = ["--workspace", str(workspace.root)]
    ingested = _run("ingest", str(path), "--agency", "Luton Council", "--json", *ws)
    assert ingested.exit_code == 0, ingested.stderr
    [loaded] = json.loads(ingested.stdout)["loaded"]
    assert (loaded["rows_read"], loaded["rows_accepted"], loaded["rows_rejected"]) == (4, 2, 2)
    assert loaded["rejects_by_reason"] == {"bad_category": 1, "bad_date": 1}

    status = json.loads(_run("status", "--json", *ws).stdout)
    assert (status["partnership"], status["areas"]) == ("Central Bedfordshire CSP", ["E06000056"])
    [asb] = [s for s in status["sources"] if s["source"] == "asb_incidents"]
    assert {k: asb[k] for k in ("agency", "files", "rows", "rows_read", "rows_rejected", "months", "gaps")} == {
        "agency": "luton-council",
        "files": 1,
        "rows": 2,
        "rows_read": 4,
        "rows_rejected": 2,
        "months": 2,
        "gaps": ["2022-02"],
    }
    assert (asb["first_month"], asb["last_month"]) == ("2022-01", "2022-03")
    assert asb["rejects_by_reason"] == {"bad_category": 1, "bad_date": 1}

    rejects = json.loads(_run("rejects", "--json", *ws).stdout)
    assert [(r["line"], r["column"], r["reason"]) for r in rejects] == [
        (4, "category", "bad_category"),
        (5, "reported_at", "bad_date"),
    ]
    assert all(r["file"] == str(path) and r["agency"] == "luton-council" for r in rejects)
    assert json.loads(_run("rejects", "--json", "--source", "offences", *ws).stdout) == []

    table = _run("status", *ws)
    assert table.exit_code == 0 and "asb_incidents" in table.stdout and "2022-02" in table.stdout

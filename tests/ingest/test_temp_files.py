"""Privacy hygiene of temporary data: cleartext partner data never lands beside the warehouse or in an open folder.

While a file with personal columns is loaded, DuckDB may not spill to disk (its ``temp_directory`` is empty for that
load, and restored after); extracted and transcoded copies live in folders only the owner can open (mode 0700).
"""

from __future__ import annotations

import datetime as dt
import stat
import zipfile
from pathlib import Path
from typing import Any

import duckdb
import pytest

from cspkit.ingest import ingest_paths, loader
from cspkit.workspace import Workspace

TODAY = dt.date(2024, 6, 30)
ASB = "incident_ref,reported_at,category,victim_name,outcome\nA1,2022-01-05,personal,Jo Bloggs,Café\n"


def _spy(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Record, as each file is checked, DuckDB's temp directory and the folder of the text it reads."""
    seen: list[dict[str, Any]] = []
    original = loader._write

    def spy(con: duckdb.DuckDBPyConnection, *args: Any, **kwargs: Any) -> None:
        path: Path = kwargs["path"]
        setting = con.execute("SELECT current_setting('temp_directory')").fetchall()[0][0]
        private = {
            str(f): stat.S_IMODE(f.stat().st_mode)
            for f in path.parents
            if f.name.startswith(("run-", "file-", "zip", ".cspkit"))
            or (f.name == "tmp" and f.parent.name == ".cspkit")
        }
        seen.append({"temp_directory": setting, "path": path, "private": private})
        original(con, *args, **kwargs)

    monkeypatch.setattr(loader, "_write", spy)
    return seen


def _temp_setting(con: duckdb.DuckDBPyConnection) -> str:
    return str(con.execute("SELECT current_setting('temp_directory')").fetchall()[0][0])


@pytest.mark.parametrize(("encoding", "copy"), [("cp1252", "input.utf8.csv"), ("utf-8", "member.csv")])
def test_personal_data_is_never_spilled_and_copies_are_private(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, encoding: str, copy: str
) -> None:
    """A partner file inside a zip: DuckDB cannot spill during its load, the extracted (UTF-8) or transcoded
    (cp1252) copy sits in 0700 folders inside the workspace (.cspkit/tmp), and they are gone afterwards."""
    archive = tmp_path / "partner.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("asb.csv", ASB.encode(encoding))
    seen = _spy(monkeypatch)
    con = workspace.connect()
    try:
        before = _temp_setting(con)
        report = ingest_paths(con, [archive], key=workspace.key(), source="asb_incidents", today=TODAY)
        after = _temp_setting(con)
    finally:
        con.close()
    assert report.ok and report.loaded[0].rows_accepted == 1
    [load] = seen
    assert load["temp_directory"] == ""  # no spill file, anywhere, while the cleartext is read
    assert after == before  # the connection's own setting is back
    assert load["path"].name.endswith(copy)
    assert workspace.root / ".cspkit" / "tmp" in load["path"].parents
    assert load["private"] and set(load["private"].values()) == {0o700}  # every folder above the copy
    run_folders = [Path(f) for f in load["private"] if Path(f).name.startswith(("run-", "file-", "zip"))]
    assert run_folders and not any(f.exists() for f in run_folders)  # removed after the load
    warehouse = workspace.warehouse_path
    assert not any(p.name.startswith(warehouse.name + ".tmp") for p in warehouse.parent.iterdir())


def test_open_data_keeps_the_connection_temp_directory(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file without personal columns (data.police.uk) is loaded with the connection's own temp directory."""
    path = tmp_path / "2022-01-bedfordshire-street.csv"
    path.write_text(
        "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,"
        "Last outcome category,Context\n"
        ",2022-01,Bedfordshire Police,Bedfordshire Police,-0.4,52.1,On or near X,E01017512,Bedford 001A,"
        "Anti-social behaviour,,\n"
    )
    seen = _spy(monkeypatch)
    con = workspace.connect()
    try:
        before = _temp_setting(con)
        report = ingest_paths(con, [path], key=workspace.key(), today=TODAY)
    finally:
        con.close()
    assert report.ok
    assert seen[0]["temp_directory"] == before != ""


def test_a_personal_file_too_large_for_memory_is_refused_not_spilled(workspace: Workspace, tmp_path: Path) -> None:
    """With too little memory for the file, the load fails with one message and writes nothing, rather than
    spilling cleartext beside the warehouse."""
    rows = "".join(f"A{i},2022-01-05,personal,Person Number {i},{'x' * 40}\n" for i in range(200_000))
    path = tmp_path / "big.csv"
    path.write_text(ASB.splitlines()[0] + "\n" + rows)
    con = workspace.connect()
    try:
        con.execute("SET memory_limit = '16MB'")
        con.execute("SET threads = 1")
        report = ingest_paths(con, [path], key=workspace.key(), today=TODAY)
        count = con.execute("SELECT count(*) FROM asb_incidents").fetchall()[0][0]
    finally:
        con.close()
    assert report.loaded == [] and len(report.errors) == 1
    assert "nothing was written" in report.errors[0].message or "Nothing was loaded" in report.errors[0].message
    assert count == 0
    warehouse = workspace.warehouse_path
    assert not any(p.name.startswith(warehouse.name + ".tmp") for p in warehouse.parent.iterdir())

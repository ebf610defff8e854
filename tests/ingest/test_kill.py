"""A process killed mid-load leaves the warehouse exactly as it was before that file, and ingest works afterwards.

The file killed is a large data.police.uk street file for a month already loaded (so its load deletes the old
month's rows and inserts the new ones in one transaction). Two kill points: (1) a real ``cspkit ingest`` killed
while it reads the file, and (2) a load paused right after its big INSERT, inside the open transaction, whose
rows DuckDB has already started writing to the database file.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from cspkit.ingest import ingest_paths
from cspkit.workspace import Workspace
from tests.conftest import POLICE_ZIP

MONTH = "2022-05"
MEMBER = f"{MONTH}/{MONTH}-bedfordshire-street.csv"
CLI = str(Path(sys.executable).parent / "cspkit")


def _real_month(tmp_path: Path) -> Path:
    with zipfile.ZipFile(POLICE_ZIP) as zf:
        data = zf.read(MEMBER)
    path = tmp_path / "real" / f"{MONTH}-bedfordshire-street.csv"
    path.parent.mkdir()
    path.write_bytes(data)
    return path


def _big_file(real: Path, folder: Path, rows: int) -> Path:
    """The real month's rows repeated up to ``rows`` data rows, under the same data.police.uk file name."""
    header, *lines = real.read_text(encoding="utf-8").splitlines(keepends=True)
    folder.mkdir()
    path = folder / real.name
    with path.open("w", encoding="utf-8") as fh:
        fh.write(header)
        for _ in range(rows // len(lines)):
            fh.writelines(lines)
    return path


def _state(ws: Workspace) -> dict[str, Any]:
    con = ws.connect()  # read-write: the warehouse must open (and replay any WAL) after the kill
    try:
        return {
            "street": con.execute(
                "SELECT _agency, _month, _file_id, count(*) FROM police_street GROUP BY ALL"
            ).fetchall(),
            "log": con.execute("SELECT * FROM ingest_log ORDER BY file_id").fetchall(),
            "rejects": con.execute("SELECT count(*) FROM rejects").fetchall(),
        }
    finally:
        con.close()


def _loaded_workspace(ws: Workspace, tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    real = _real_month(tmp_path)
    con = ws.connect()
    try:
        report = ingest_paths(con, [real], key=ws.key())
    finally:
        con.close()
    assert report.ok and report.loaded[0].rows_accepted == 5814
    before = _state(ws)
    assert before["street"] == [("bedfordshire", MONTH, report.loaded[0].file_id, 5814)]
    return real, before


def _wait_for(check: Any, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert proc.poll() is None, "the ingest ended before it could be killed"
        assert time.monotonic() < deadline, "the ingest never reached the kill point"
        time.sleep(0.02)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    assert proc.poll() is None, "the ingest finished before the kill"
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL


def _check_after_kill(ws: Workspace, real: Path, before: dict[str, Any]) -> None:
    assert _state(ws) == before
    # a normal ingest afterwards works: the same month's file again is a no-op, a new month loads
    con = ws.connect()
    try:
        again = ingest_paths(con, [real], key=ws.key())
        with zipfile.ZipFile(POLICE_ZIP) as zf:
            june = real.parent / "2022-06-bedfordshire-street.csv"
            june.write_bytes(zf.read("2022-06/2022-06-bedfordshire-street.csv"))
        new = ingest_paths(con, [june], key=ws.key())
        months = con.execute("SELECT _month, count(*) FROM police_street GROUP BY ALL ORDER BY 1").fetchall()
    finally:
        con.close()
    assert [r.status for r in again.loaded] == ["unchanged"]
    assert [r.status for r in new.loaded] == ["loaded"]
    assert months == [(MONTH, 5814), ("2022-06", new.loaded[0].rows_accepted)]


def _has_open(pid: int, path: Path) -> bool:
    """True when process ``pid`` has ``path`` open (Linux /proc)."""
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(fd) == str(path):
                return True
        except OSError:
            continue
    return False


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs Linux /proc")
def test_cli_killed_while_reading_leaves_the_warehouse_unchanged(workspace: Workspace, tmp_path: Path) -> None:
    """SIGKILL of `cspkit ingest` while it reads a 1.2-million-row file: warehouse opens, unchanged, usable."""
    real, before = _loaded_workspace(workspace, tmp_path)
    big = _big_file(real, tmp_path / "big", 1_200_000)
    proc = subprocess.Popen(
        [CLI, "ingest", str(big), "--workspace", str(workspace.root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(lambda: _has_open(proc.pid, big), proc)
        time.sleep(0.5)  # well into reading and checking the file
        _kill(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    _check_after_kill(workspace, real, before)


PAUSE_INSIDE_TRANSACTION = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from cspkit.ingest import ingest_paths
    from cspkit.workspace import Workspace

    class PauseAfterInsert:
        '''A connection that stops for good right after the INSERT of the new rows, before COMMIT.'''

        def __init__(self, con):
            self._con = con

        def __getattr__(self, name):
            return getattr(self._con, name)

        def execute(self, sql, *args):
            result = self._con.execute(sql, *args)
            if sql.startswith("INSERT INTO police_street"):
                Path(sys.argv[3]).write_text("inside the transaction")
                time.sleep(600)
            return result

    ws = Workspace(Path(sys.argv[1]))
    con = ws.connect()
    ingest_paths(PauseAfterInsert(con), [Path(sys.argv[2])], key=ws.key())
    """
)


def test_killed_inside_the_transaction_leaves_the_warehouse_unchanged(workspace: Workspace, tmp_path: Path) -> None:
    """SIGKILL after 300,000 new rows were inserted for a month already loaded, before COMMIT."""
    real, before = _loaded_workspace(workspace, tmp_path)
    big = _big_file(real, tmp_path / "big", 300_000)
    marker = tmp_path / "inside"
    script = tmp_path / "pause.py"
    script.write_text(PAUSE_INSIDE_TRANSACTION)
    with (tmp_path / "stderr.txt").open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, str(script), str(workspace.root), str(big), str(marker)],
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
        try:
            _wait_for(marker.exists, proc, timeout=120)
            _kill(proc)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    _check_after_kill(workspace, real, before)

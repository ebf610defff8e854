"""Ingest: read partner files, validate every row, and load them through the privacy gate into the warehouse.

Each file is its own transaction: a refused file writes nothing, and the files before it stay loaded. A folder
holding a ``manifest.json`` (as written by ``cspkit synth``: a list of ``{"file", "source", "agency"}``) is loaded
with the source and agency the manifest names for each file.

Temporary files (zip members extracted, workbooks and cp1252 text converted to UTF-8 CSV) hold partner data in
clear, so they live inside the workspace, in ``.cspkit/tmp/run-<pid>-*`` folders only the owner can open (0700),
removed when the run ends. A run killed before it could remove its folder (SIGKILL, power cut) leaves it behind;
the next ingest sweeps every folder whose process is gone before it starts.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from cspkit.errors import CspkitError, InputFileError
from cspkit.ingest.loader import LoadResult, load_file
from cspkit.ingest.readers import InputFile, Skipped, discover

__all__ = ["TEMP_DIR", "FileError", "IngestReport", "LoadResult", "ingest_paths", "sweep_temp", "temp_root"]


@dataclass(frozen=True)
class FileError:
    """A file refused as a whole, with the one message that says why."""

    display: str
    message: str


@dataclass
class IngestReport:
    """Everything that happened in one ingest command."""

    loaded: list[LoadResult] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def nothing_accepted(self) -> list[LoadResult]:
        """Files loaded now whose every row was rejected (the command then exits non-zero)."""
        return [r for r in self.loaded if r.status == "loaded" and r.rows_read and not r.rows_accepted]


#: Where temporary copies of partner files live, under the workspace (beside the key: ``.cspkit/``).
TEMP_DIR = os.path.join(".cspkit", "tmp")
_RUN_PREFIX = "run-"


def temp_root(con: duckdb.DuckDBPyConnection) -> Path | None:
    """The workspace's temporary folder for the warehouse ``con`` is open on (None for an in-memory database)."""
    rows = con.execute("SELECT path FROM duckdb_databases() WHERE database_name = current_database()").fetchall()
    if not rows or not rows[0][0]:
        return None
    return Path(str(rows[0][0])).resolve().parent / TEMP_DIR


def sweep_temp(root: Path) -> int:
    """Remove the run folders of ingest runs whose process is gone (killed before they could clean up).

    Returns:
        How many folders were removed.
    """
    removed = 0
    if not root.is_dir():
        return 0
    for folder in root.iterdir():
        if not folder.name.startswith(_RUN_PREFIX):
            continue
        try:
            pid = int(folder.name[len(_RUN_PREFIX) :].split("-", 1)[0])
        except ValueError:
            pid = -1
        if pid == os.getpid() or (pid > 0 and _alive(pid)):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive, and not ours to sweep
        return True
    return True


def _private_folder(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)  # mkdir's mode is narrowed by the umask, never widened: make sure
    return path


def _manifest(folder: Path) -> dict[str, tuple[str, str]]:
    path = folder / "manifest.json"
    if not path.is_file():
        return {}
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
        return {str(e["file"]): (str(e["source"]), str(e["agency"])) for e in entries}
    except (ValueError, KeyError, TypeError) as exc:
        raise InputFileError(
            f"{path}: not a valid manifest ({exc}); expected a list of {{file, source, agency}}."
        ) from None


def _with_manifest(paths: list[Path]) -> Iterator[tuple[list[Path], str | None, str | None]]:
    """Split paths into groups, each with the source and agency a manifest gives (or None)."""
    for path in paths:
        entries = _manifest(path) if path.is_dir() else {}
        if entries:
            for name, (source, agency) in entries.items():
                yield [path / name], source, agency
        else:
            yield [path], None, None


def ingest_paths(
    con: duckdb.DuckDBPyConnection,
    paths: list[Path],
    *,
    key: bytes,
    source: str | None = None,
    agency: str | None = None,
    sheet: str | None = None,
    today: dt.date | None = None,
    on_file: Callable[[str], None] | None = None,
) -> IngestReport:
    """Load every file behind ``paths``.

    Args:
        con: Open warehouse connection.
        paths: Files, folders or zip archives.
        key: The workspace pseudonymisation key.
        source: Source name for every file (otherwise detected from each header, or taken from a manifest).
        agency: Agency name for every file (otherwise the force of a data.police.uk file, a manifest's agency,
            or the source's default agency).
        sheet: Worksheet to read in Excel files (default: the first).
        today: The date against which future dates are rejected (default: today).
        on_file: Called with each file's display name before it is loaded (progress).
    """
    report = IngestReport()
    root = temp_root(con)
    if root is not None:
        _private_folder(root.parent)
        _private_folder(root)
        sweep_temp(root)
    with tempfile.TemporaryDirectory(prefix=f"{_RUN_PREFIX}{os.getpid()}-", dir=root) as tmp:
        scratch = Path(tmp)
        try:
            groups = list(_with_manifest(paths))
        except InputFileError as exc:
            report.errors.append(FileError(str(paths), str(exc)))
            return report
        for group_paths, group_source, group_agency in groups:
            items = discover(group_paths, scratch)  # lazily: one zip member on disk at a time
            while True:
                try:
                    item = next(items, None)
                except InputFileError as exc:
                    report.errors.append(FileError(str(group_paths[0]), str(exc)))
                    break
                except OSError as exc:
                    why = exc.strerror or type(exc).__name__
                    report.errors.append(
                        FileError(str(group_paths[0]), f"{group_paths[0]}: could not be read ({why}).")
                    )
                    break
                if item is None:
                    break
                if isinstance(item, Skipped):
                    report.skipped.append(item)
                    continue
                _load_one(
                    con,
                    item,
                    scratch,
                    report,
                    key,
                    source or group_source,
                    agency or group_agency,
                    sheet,
                    today,
                    on_file,
                )
    return report


def _load_one(
    con: duckdb.DuckDBPyConnection,
    item: InputFile,
    scratch: Path,
    report: IngestReport,
    key: bytes,
    source: str | None,
    agency: str | None,
    sheet: str | None,
    today: dt.date | None,
    on_file: Callable[[str], None] | None,
) -> None:
    if on_file:
        on_file(item.display)
    with tempfile.TemporaryDirectory(prefix="file-", dir=scratch) as tmp:
        try:
            result = load_file(
                con, item, key=key, scratch=Path(tmp), source=source, agency=agency, sheet=sheet, today=today
            )
        except CspkitError as exc:
            report.errors.append(FileError(item.display, str(exc)))
            return
        except OSError as exc:  # the file vanished or cannot be opened mid-run; the other files still load
            why = exc.strerror or type(exc).__name__
            report.errors.append(
                FileError(item.display, f"{item.display}: the file could not be read ({why}); nothing was written.")
            )
            return
        except duckdb.Error as exc:
            first = str(exc).splitlines()[0]
            report.errors.append(
                FileError(item.display, f"{item.display}: could not be loaded ({first}); nothing was written.")
            )
            return
        finally:
            # zip members are extracted to scratch: remove each once loaded, so archives never fill the disk
            if "zip" in item.path.parent.name and item.path.exists():
                item.path.unlink()
    report.loaded.append(result)

"""Ingest: read partner files, validate every row, and load them through the privacy gate into the warehouse.

Each file is its own transaction: a refused file writes nothing, and the files before it stay loaded. A folder
holding a ``manifest.json`` (as written by ``cspkit synth``: a list of ``{"file", "source", "agency"}``) is loaded
with the source and agency the manifest names for each file.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from cspkit.errors import CspkitError, InputFileError
from cspkit.ingest.loader import LoadResult, load_file
from cspkit.ingest.readers import InputFile, Skipped, discover

__all__ = ["FileError", "IngestReport", "LoadResult", "ingest_paths"]


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
    with tempfile.TemporaryDirectory(prefix="cspkit-ingest-") as tmp:
        scratch = Path(tmp)
        try:
            groups = list(_with_manifest(paths))
        except InputFileError as exc:
            report.errors.append(FileError(str(paths), str(exc)))
            return report
        for group_paths, group_source, group_agency in groups:
            try:
                items = list(discover(group_paths, scratch))
            except InputFileError as exc:
                report.errors.append(FileError(str(group_paths[0]), str(exc)))
                continue
            for item in items:
                if isinstance(item, Skipped):
                    report.skipped.append(item)
                    continue
                _load_one(
                    con,
                    item,
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
    with tempfile.TemporaryDirectory(prefix="cspkit-file-") as tmp:
        try:
            result = load_file(
                con, item, key=key, scratch=Path(tmp), source=source, agency=agency, sheet=sheet, today=today
            )
        except CspkitError as exc:
            report.errors.append(FileError(item.display, str(exc)))
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

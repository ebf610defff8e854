"""Readers: find the input files behind the paths a user gives and make each readable by DuckDB.

Accepted: CSV (UTF-8 with or without BOM, or cp1252; CRLF or LF; comma, semicolon or tab), XLSX (first sheet or a
named one), Parquet, folders and zip archives laid out like the data.police.uk archive
(``YYYY-MM/YYYY-MM-<force>-street.csv``). Files a user could not have meant to load (stop-and-search, read-me
files) are skipped with a note rather than an error.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import shutil
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cspkit.errors import InputFileError

__all__ = ["FileScan", "InputFile", "Skipped", "discover", "file_hash", "read_header", "scan_file", "sniff_text"]

DATA_SUFFIXES = {".csv", ".txt", ".tsv", ".xlsx", ".parquet"}
_POLICE_NAME = re.compile(r"^(\d{4}-\d{2})-(?P<force>[a-z0-9-]+?)-(?P<kind>street|outcomes|stop-and-search)\.csv$")


@dataclass(frozen=True)
class InputFile:
    """One file to load.

    Attributes:
        path: Where to read it on disk (may be a file extracted from an archive into a temporary folder).
        display: The name shown to the user and kept in the ingest log (``archive.zip:2021-05/...csv``).
        force: The police force slug from a data.police.uk file name, if any.
        police_kind: ``street`` / ``outcomes`` / ``stop-and-search`` from a data.police.uk file name, if any.
    """

    path: Path
    display: str
    force: str | None = None
    police_kind: str | None = None

    @property
    def suffix(self) -> str:
        return self.path.suffix.lower()


@dataclass(frozen=True)
class Skipped:
    """A file found but not loaded, and why."""

    display: str
    reason: str


def _classify(path: Path, display: str) -> InputFile | Skipped:
    m = _POLICE_NAME.match(path.name.lower())
    if m and m.group("kind") == "stop-and-search":
        return Skipped(display, "stop-and-search files are not a supported source yet")
    if path.suffix.lower() not in DATA_SUFFIXES:
        return Skipped(display, f"not a data file ({path.suffix or 'no extension'})")
    if path.name.startswith(".") or path.name.lower() in {"manifest.json", "readme.md", "truth.json"}:
        return Skipped(display, "not a data file")
    return InputFile(path, display, m.group("force") if m else None, m.group("kind") if m else None)


def discover(paths: list[Path], scratch: Path) -> Iterator[InputFile | Skipped]:
    """Yield every input file behind ``paths`` (files, folders, zip archives), in a stable order.

    Zip members are extracted one at a time into ``scratch`` (a temporary folder the caller removes).

    Raises:
        InputFileError: A path does not exist, or an archive is unreadable or truncated.
    """
    for path in paths:
        if not path.exists():
            raise InputFileError(f"{path}: no such file or folder.")
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if child.suffix.lower() == ".zip":
                    yield from _zip_members(child, scratch, str(child))
                else:
                    yield _classify(child, str(child))
        elif path.suffix.lower() == ".zip":
            yield from _zip_members(path, scratch, str(path))
        else:
            yield _classify(path, str(path))


def _zip_members(archive: Path, scratch: Path, display: str) -> Iterator[InputFile | Skipped]:
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputFileError(
            f"{display}: not a readable zip archive ({exc}); it may be truncated. Nothing from it was loaded."
        ) from None
    with zf:
        names = sorted(n for n in zf.namelist() if not n.endswith("/"))
        for i, name in enumerate(names):
            member_display = f"{display}:{name}"
            classified = _classify(Path(name), member_display)
            if isinstance(classified, Skipped):
                yield classified
                continue
            target = scratch / f"zip{i}" / Path(name).name
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # inside a 0700 scratch folder
            try:
                with zf.open(name) as src, target.open("wb") as dst:
                    shutil.copyfileobj(src, dst, length=1 << 20)
            except (zipfile.BadZipFile, EOFError, OSError, zlib_error()) as exc:
                raise InputFileError(
                    f"{member_display}: the archive member cannot be read ({exc}); the archive may be "
                    "truncated. Files of the archive loaded before this one were kept; nothing of this one was."
                ) from None
            yield InputFile(target, member_display, classified.force, classified.police_kind)


def zlib_error() -> type[Exception]:
    import zlib

    return zlib.error


def file_hash(path: Path) -> str:
    """SHA-256 of the file's bytes: loading the same content twice is recognised as a no-op."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class FileScan:
    """What one read of a file's bytes tells: its hash and its line endings.

    Attributes:
        sha256: SHA-256 of the bytes (the same content loaded twice is a no-op).
        newlines: LF characters in the file.
        crlf: Those of them preceded by CR (CR LF line endings).
        open_last: The last line has no newline.
    """

    sha256: str
    newlines: int
    crlf: int
    open_last: bool

    @property
    def lines(self) -> int:
        """Physical lines: newline characters, plus one for a last line without one."""
        return self.newlines + self.open_last

    @property
    def mixed_newlines(self) -> bool:
        """Some lines end in CR LF and others in LF (DuckDB's strict CSV reader refuses such a file)."""
        return 0 < self.crlf < self.newlines


def scan_file(path: Path) -> FileScan:
    """Hash, line count and line endings of a file in one read (1 MB blocks stay in the CPU cache)."""
    digest = hashlib.sha256()
    newlines = crlf = 0
    last = b"\n"
    previous_cr = False
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
            newlines += block.count(b"\n")
            crlf += block.count(b"\r\n") + (previous_cr and block[:1] == b"\n")  # a CR LF split by the block
            previous_cr = block[-1:] == b"\r"
            last = block[-1:]
    return FileScan(digest.hexdigest(), newlines, crlf, last != b"\n")


@dataclass(frozen=True)
class TextFormat:
    """What a text file's first bytes say about how to read it."""

    encoding: str  # "utf-8" or "cp1252"
    delimiter: str
    header: list[str]


def sniff_text(path: Path, display: str) -> TextFormat:
    """Encoding, delimiter and header of a delimited text file.

    Raises:
        InputFileError: Empty file, binary content, or no header line.
    """
    sample = 1 << 16
    with path.open("rb") as fh:
        head = fh.read(sample)
    if not head.strip():
        raise InputFileError(f"{display}: the file is empty; nothing was loaded.")
    if b"\x00" in head:
        raise InputFileError(f"{display}: this is not a text file (binary content); nothing was loaded.")
    try:
        text = head.decode("utf-8-sig")
        encoding = "utf-8"
    except UnicodeDecodeError as exc:
        if len(head) == sample and exc.start > len(head) - 4:  # a multi-byte character cut by the sample
            text = head[: exc.start].decode("utf-8-sig")
            encoding = "utf-8"
        else:
            try:
                text = head.decode("cp1252")
                encoding = "cp1252"
            except UnicodeDecodeError:
                raise InputFileError(
                    f"{display}: the text is neither UTF-8 nor Windows-1252; save it as UTF-8 CSV and try again."
                ) from None
    first_line = text.splitlines()[0] if text.splitlines() else ""
    if not first_line.strip():
        raise InputFileError(f"{display}: the first line is blank; expected a header row.")
    delimiter = max([",", ";", "\t", "|"], key=first_line.count)
    if first_line.count(delimiter) == 0:
        delimiter = ","
    header = next(csv.reader(io.StringIO(first_line), delimiter=delimiter))
    header = [h.strip() for h in header]
    if not any(header):
        raise InputFileError(f"{display}: the header row is empty.")
    return TextFormat(encoding, delimiter, header)


def transcode_to_utf8(path: Path, target: Path) -> Path:
    """Rewrite a cp1252 file as UTF-8 (DuckDB reads UTF-8); partner files in cp1252 are small."""
    with (
        path.open("r", encoding="cp1252", errors="strict", newline="") as src,
        target.open("w", encoding="utf-8", newline="") as dst,
    ):
        shutil.copyfileobj(src, dst, length=1 << 20)
    return target


def xlsx_to_csv(path: Path, display: str, target: Path, sheet: str | None = None) -> Path:
    """Write one sheet of a workbook as UTF-8 CSV (dates as ISO text).

    Raises:
        InputFileError: Not a readable workbook, or no such sheet.
    """
    import datetime as dt

    import openpyxl

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise InputFileError(f"{display}: not a readable Excel workbook ({type(exc).__name__}).") from None
    try:
        if sheet is not None and sheet not in wb.sheetnames:
            raise InputFileError(f"{display}: no sheet named {sheet!r}; sheets are {', '.join(wb.sheetnames)}.")
        ws = wb[sheet] if sheet else wb.worksheets[0]
        with target.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            for row in ws.iter_rows(values_only=True):
                out = []
                for v in row:
                    if isinstance(v, dt.datetime):
                        out.append(v.strftime("%Y-%m-%d %H:%M") if (v.hour or v.minute) else v.date().isoformat())
                    elif isinstance(v, dt.date):
                        out.append(v.isoformat())
                    elif v is None:
                        out.append("")
                    elif isinstance(v, float) and v.is_integer():
                        out.append(str(int(v)))
                    else:
                        out.append(str(v))
                if any(out):
                    writer.writerow(out)
    finally:
        wb.close()
    return target


def read_header(path: Path, display: str) -> list[str]:
    """The header of a text file (see :func:`sniff_text`)."""
    return sniff_text(path, display).header


def normalise_newlines(path: Path, target: Path) -> Path:
    """Rewrite a file whose lines end partly in CR LF and partly in LF with LF endings only (same lines, so line
    numbers are unchanged; a CR LF inside a quoted value becomes LF)."""
    with path.open("rb") as src, target.open("wb") as dst:
        carry = b""
        for block in iter(lambda: src.read(1 << 20), b""):
            block = carry + block
            carry = b"\r" if block.endswith(b"\r") else b""
            dst.write(block[: len(block) - len(carry)].replace(b"\r\n", b"\n"))
        dst.write(carry)
    return target

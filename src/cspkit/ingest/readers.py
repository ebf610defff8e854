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
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cspkit.errors import InputFileError

__all__ = [
    "FileScan",
    "InputFile",
    "Skipped",
    "discover",
    "file_hash",
    "legacy_sha256",
    "read_header",
    "scan_file",
    "sniff_text",
]

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


#: Bounds on what a zip archive may extract to (a 2 MB archive can hold terabytes of zeros). Members are
#: extracted and loaded one at a time, each removed once loaded, so the bound per member is what fills the disk.
ZIP_MAX_ENTRIES = 100_000
ZIP_MAX_MEMBER_BYTES = 20 * 1024**3  # 20 GiB: far above any partner or data.police.uk file
ZIP_MAX_TOTAL_BYTES = 200 * 1024**3
ZIP_MAX_RATIO = 200  # CSV compresses 5-20 times; 200 is a bomb, not a spreadsheet
ZIP_RATIO_FROM_BYTES = 16 * 1024**2  # small members may compress better; the ratio applies above 16 MiB


def _kind_of(path: Path) -> str | None:
    """What a path that is not a regular file or a folder is, or None when it is one of those (symlinks
    followed)."""
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def discover(paths: list[Path], scratch: Path) -> Iterator[InputFile | Skipped]:
    """Yield every input file behind ``paths`` (files, folders, zip archives), in a stable order.

    Zip members are extracted one at a time into ``scratch`` (a temporary folder the caller removes). Named pipes,
    devices and sockets are refused (reading one could wait for ever); inside a folder they are skipped with a note.

    Raises:
        InputFileError: A path does not exist or is not a regular file, or an archive is unreadable, truncated or
            larger than its bounds.
    """
    for path in paths:
        if not path.exists():
            raise InputFileError(f"{path}: no such file or folder.")
        kind = _kind_of(path)
        if kind is not None:
            raise InputFileError(f"{path}: {kind}, not a file that can be loaded; nothing was loaded from it.")
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if not p.is_dir()):
                kind = _kind_of(child)
                if kind is not None:
                    yield Skipped(str(child), f"{kind}, not a file that can be loaded")
                elif child.suffix.lower() == ".zip":
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
        _check_zip_bounds(zf, display)
        infos = sorted((i for i in zf.infolist() if not i.is_dir()), key=lambda i: i.filename)
        for i, info in enumerate(infos):
            name = info.filename
            member_display = f"{display}:{name}"
            classified = _classify(Path(name), member_display)
            if isinstance(classified, Skipped):
                yield classified
                continue
            # a short name on disk (a member's own name may be longer than the file system allows); the user sees
            # the member's name
            target = scratch / f"zip{i}" / f"member{Path(name).suffix.lower()}"
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # inside a 0700 scratch folder
            try:
                with zf.open(info) as src, target.open("wb") as dst:
                    shutil.copyfileobj(src, dst, length=1 << 20)
            except (zipfile.BadZipFile, EOFError, OSError, zlib_error()) as exc:
                raise InputFileError(
                    f"{member_display}: the archive member cannot be read ({exc}); the archive may be "
                    "truncated. Files of the archive loaded before this one were kept; nothing of this one was."
                ) from None
            yield InputFile(target, member_display, classified.force, classified.police_kind)


def _check_zip_bounds(zf: zipfile.ZipFile, display: str) -> None:
    """Refuse an archive whose members would extract to more than the bounds allow (before writing anything).

    The sizes are those the archive declares; Python's zipfile never reads a member past its declared size, so an
    archive cannot extract to more than it declares.
    """
    infos = [i for i in zf.infolist() if not i.is_dir()]
    if len(infos) > ZIP_MAX_ENTRIES:
        raise InputFileError(
            f"{display}: the archive holds {len(infos):,} files, more than the {ZIP_MAX_ENTRIES:,} allowed; "
            "split it into smaller archives. Nothing from it was loaded."
        )
    total = sum(i.file_size for i in infos)
    if total > ZIP_MAX_TOTAL_BYTES:
        raise InputFileError(
            f"{display}: the archive would extract to {total / 1024**3:,.1f} GiB, more than the "
            f"{ZIP_MAX_TOTAL_BYTES / 1024**3:,.0f} GiB allowed. Nothing from it was loaded."
        )
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > ZIP_MAX_MEMBER_BYTES or (info.file_size > ZIP_RATIO_FROM_BYTES and ratio > ZIP_MAX_RATIO):
            raise InputFileError(
                f"{display}: the member {info.filename} would extract to {info.file_size / 1024**2:,.0f} MiB from "
                f"{info.compress_size / 1024**2:,.1f} MiB (a ratio of {ratio:,.0f} to 1; at most "
                f"{ZIP_MAX_RATIO} to 1 and {ZIP_MAX_MEMBER_BYTES / 1024**3:,.0f} GiB per file are allowed). This "
                "looks like a zip bomb, not a data file. Nothing from the archive was loaded."
            )


def zlib_error() -> type[Exception]:
    import zlib

    return zlib.error


#: How content hashes are written: BLAKE3, hex, after this prefix. BLAKE3 reads a force's 1 GB street file in about
#: a third of SHA-256's time (``b3sum`` computes the same value); warehouses made before it hold SHA-256 hex
#: without a prefix (see :func:`legacy_sha256`).
CONTENT_HASH_PREFIX = "blake3:"

_BLOCK = 1 << 20  # 1 MB: read into one buffer that stays in the CPU cache


def file_hash(path: Path) -> str:
    """Content hash of the file's bytes (``blake3:<hex>``): loading the same content twice is recognised as a
    no-op. :func:`scan_file` runs it beside its own read of the file."""
    import blake3

    # read in blocks, not memory-mapped: a mapped file's pages count in the process's resident memory
    digest = blake3.blake3(max_threads=1)
    buffer = bytearray(_BLOCK)
    view = memoryview(buffer)
    with path.open("rb", buffering=0) as fh:
        while read := fh.readinto(buffer):
            digest.update(view[:read])
    return CONTENT_HASH_PREFIX + digest.hexdigest()


def legacy_sha256(path: Path) -> str:
    """SHA-256 hex of the file's bytes: the content hash of files loaded before content hashes were BLAKE3."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class FileScan:
    """What one read of a file's bytes tells: its hash, its line endings, its lines, and whether it may hold a
    Unicode space.

    Attributes:
        content_hash: Content hash of the bytes, as :func:`file_hash` (the same content loaded twice is a no-op).
        mixed_newlines: Some lines end in CR LF and others in LF (DuckDB's strict CSV reader refuses such a file).
        lines: Physical lines: LF characters, plus one for a last line without one.
        unicode_spaces: The bytes include a lead byte of a Unicode space separator other than the ASCII space
            (U+00A0, U+1680, U+2000-U+200A, U+202F, U+205F, U+3000 start with C2, E1, E2 or E3 in UTF-8). When
            false no value can start or end with one, so the loader tests values for the ASCII space only.
    """

    content_hash: str
    mixed_newlines: bool
    lines: int
    unicode_spaces: bool


#: UTF-8 lead bytes of every Unicode space separator (category Zs) but U+0020.
_ZS_LEAD_BYTES = (b"\xc2", b"\xe1", b"\xe2", b"\xe3")


def scan_file(path: Path) -> FileScan:
    """Hash, line endings, line count and Unicode spaces of a file: the hash in a second thread (BLAKE3 releases the
    GIL) while this one reads the file in 1 MB blocks (one buffer that stays in the CPU cache) for the rest. Nothing
    else runs during the scan, so the two take the machine's two cores.

    Byte tests are ``in`` (memchr); line endings are counted only in blocks that hold a CR, so a block of LF lines
    (every data.police.uk file) costs one search for CR and one vectorised count of LF.
    """
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1) as pool:
        hashed = pool.submit(file_hash, path)
        mixed_newlines, lines, unicode_spaces = _scan_bytes(path)
        return FileScan(hashed.result(), mixed_newlines, lines, unicode_spaces)


def _scan_bytes(path: Path) -> tuple[bool, int, bool]:
    """(mixed line endings, physical lines, may hold a Unicode space) of a file, in one read (see :func:`scan_file`)."""
    import numpy as np

    size = _BLOCK
    buffer = bytearray(size)
    view = memoryview(buffer)
    as_bytes = np.frombuffer(buffer, dtype=np.uint8)
    crlf_seen = bare_lf_seen = previous_cr = unicode_spaces = False
    lines = 0
    last: bytes | bytearray = b"\n"
    with path.open("rb", buffering=0) as fh:
        while read := fh.readinto(buffer):
            block = buffer if read == size else bytes(view[:read])
            newlines = int(np.count_nonzero(as_bytes[:read] == 10))
            lines += newlines
            split = previous_cr and block[:1] == b"\n"  # a CR LF cut in two by the block boundary
            crlf_seen |= split
            if b"\r" in block:
                crlf = block.count(b"\r\n")
                crlf_seen |= crlf > 0
                bare_lf_seen |= newlines - split > crlf
            else:
                bare_lf_seen |= newlines > split
            unicode_spaces = unicode_spaces or any(lead in block for lead in _ZS_LEAD_BYTES)
            previous_cr = block[read - 1 : read] == b"\r"
            last = block[read - 1 : read]
    return crlf_seen and bare_lf_seen, lines + (last != b"\n"), unicode_spaces


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
    lines = text.splitlines()
    first_line = lines[0] if lines else ""
    if len(lines) == 1 and len(head) == sample:  # the header is longer than the sample: read the whole line
        first_line = _first_line(path, encoding)
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


#: The longest header line read (16 MiB: about a million columns).
MAX_HEADER_BYTES = 1 << 24


def _first_line(path: Path, encoding: str) -> str:
    with path.open("rb") as fh:
        raw = fh.readline(MAX_HEADER_BYTES)
    return raw.decode("utf-8-sig" if encoding == "utf-8" else encoding, errors="replace").rstrip("\r\n")


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

"""Sources: the data contracts and matching a file's header to one of them.

Headers are compared after normalisation (case, spaces, punctuation), then through each column's aliases; the
mapping applied is reported to the user. data.police.uk headers identify their source exactly.
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass, field

from cspkit.errors import InputFileError, SourceError
from cspkit.sources.contracts import CONTRACTS, CRIME_TYPES, Column, Contract, get_contract

__all__ = [
    "CONTRACTS",
    "CRIME_TYPES",
    "Column",
    "Contract",
    "HeaderMatch",
    "detect_source",
    "get_contract",
    "match_header",
    "normalise_header",
]


def normalise_header(text: str) -> str:
    """``' Date Reported '`` -> ``date_reported``; ``LSOA code`` -> ``lsoa_code``."""
    return re.sub(r"[^a-z0-9]+", "_", text.strip().lower().lstrip("\ufeff")).strip("_")


@dataclass
class HeaderMatch:
    """How a file's header maps onto a contract."""

    contract: Contract
    mapping: dict[str, str]  # canonical column -> header as written in the file
    aliases_applied: dict[str, str] = field(default_factory=dict)  # header -> canonical, where not identical
    ignored: list[str] = field(default_factory=list)  # headers not in the contract (never stored)
    missing: list[str] = field(default_factory=list)  # required canonical columns not found
    legacy: bool = False  # data.police.uk 2011-12 Easting/Northing layout
    duplicated: list[str] = field(default_factory=list)  # headers written again after their first column (unused)

    @property
    def complete(self) -> bool:
        return not self.missing


_LEGACY_POLICE = {
    "police_street": {
        "month",
        "reported_by",
        "falls_within",
        "easting",
        "northing",
        "location",
        "crime_type",
    },
    "police_outcomes": {
        "month",
        "reported_by",
        "falls_within",
        "easting",
        "northing",
        "location",
        "outcome_type",
    },
}


def match_header(contract: Contract, header: list[str]) -> HeaderMatch:
    """Map a header onto a contract's columns (exact names first, then aliases)."""
    by_norm: dict[str, str] = {}
    duplicated: list[str] = []
    for h in header:
        norm = normalise_header(h)
        if norm in by_norm:
            duplicated.append(h)  # the first column of a name is the one read
        else:
            by_norm[norm] = h
    mapping: dict[str, str] = {}
    applied: dict[str, str] = {}
    used: set[str] = set()
    columns = contract.columns + contract.legacy_columns
    for col in columns:
        if col.name in by_norm:
            mapping[col.name] = by_norm[col.name]
            used.add(col.name)
    for col in columns:
        if col.name in mapping:
            continue
        for alias in col.aliases:
            norm = normalise_header(alias)
            if norm in by_norm and norm not in used:
                mapping[col.name] = by_norm[norm]
                applied[by_norm[norm]] = col.name
                used.add(norm)
                break
    legacy = False
    if contract.name in _LEGACY_POLICE and _LEGACY_POLICE[contract.name] <= set(mapping):
        legacy = "crime_id" not in mapping and "lsoa_code" not in mapping
    if legacy:
        required = _LEGACY_POLICE[contract.name]
        missing = sorted(required - set(mapping))
    else:
        missing = [c.name for c in contract.required if c.name not in mapping]
    ignored = [h for h in header if normalise_header(h) not in used]
    return HeaderMatch(contract, mapping, applied, ignored, missing, legacy, duplicated)


def detect_source(header: list[str], file_name: str) -> HeaderMatch:
    """Find the one contract a header fits.

    data.police.uk street and outcomes headers are recognised exactly (current and legacy layouts). Other
    sources are recognised when exactly one contract has all its required columns (after aliases); when several
    fit equally, the user is asked to name the source.

    Raises:
        SourceError: No contract fits, or the header is ambiguous.
    """
    complete = [m for m in (match_header(c, header) for c in CONTRACTS.values()) if m.complete]
    police = [m for m in complete if m.contract.exact_header]
    if police:
        # A police header matches street or outcomes by its distinctive last column.
        return max(police, key=lambda m: len(m.mapping))
    if len(complete) == 1:
        return complete[0]
    if len(complete) > 1:
        complete.sort(key=lambda m: len(m.mapping), reverse=True)
        if len(complete[0].mapping) > len(complete[1].mapping):
            return complete[0]
        names = ", ".join(m.contract.name for m in complete)
        raise SourceError(f"{file_name}: the header fits several sources ({names}); name one with --source.")
    shown = ", ".join(safe_header_cell(h, header) for h in header[:12]) + (" ..." if len(header) > 12 else "")
    # a header that fits no source may be a person's record (a file without its header row): only known column
    # names are shown as written (safe_header_cell)
    raise SourceError(
        f"{file_name}: the header ({shown}) does not match any source; name one with --source (see `cspkit sources`)."
    )


@functools.cache
def _known_names() -> frozenset[str]:
    names: set[str] = set()
    for contract in CONTRACTS.values():
        for col in contract.columns + contract.legacy_columns:
            names.add(col.name)
            names.update(normalise_header(a) for a in col.aliases)
    return frozenset(names)


#: A header cell that may be shown when it is close to a column name: words only (letters, spaces, _ - .), no
#: digits or @, so no date of birth, postcode, phone number, e-mail or reference can pass.
_HEADER_LIKE = re.compile(r"[A-Za-z][A-Za-z _\-.]{0,39}")


def safe_header_cell(cell: str, header: list[str] | None = None, *, close_to: str | None = None) -> str:
    """A header cell as messages may show it.

    A file without a header row has a person's record where its header should be, and any of its cells may look
    like a column name (a ``Y`` flag, a ``date``). So a cell is shown as written only when it is itself a known
    column name or alias, or (``close_to``) when it is a word-only cell very close to the column name it is
    offered for (a typo such as ``Reportd At`` for ``reported_at``). Every other cell is masked like a rejected
    value. ``header`` is accepted for compatibility and not used.
    """
    from cspkit.privacy.pseudonymise import mask

    norm = normalise_header(cell)
    if norm in _known_names():
        return repr(cell)
    if (
        close_to is not None
        and _HEADER_LIKE.fullmatch(cell.strip())
        and difflib.SequenceMatcher(None, norm, close_to).ratio() >= _SHOWN_IF_CLOSER_THAN
    ):
        return repr(cell)
    return mask(cell)


#: How close (difflib ratio) a header cell must be to a missing column's name to be shown as written.
_SHOWN_IF_CLOSER_THAN = 0.75


def missing_columns_message(match: HeaderMatch, header: list[str], file_name: str) -> str:
    """One message naming the missing columns and the closest names present."""
    parts = []
    for name in match.missing:
        normalised = [normalise_header(h) for h in header]
        close = set(difflib.get_close_matches(name, normalised, n=2, cutoff=0.5))
        present = [safe_header_cell(h, close_to=name) for h, n in zip(header, normalised, strict=True) if n in close]
        hint = f" (closest present: {', '.join(present)})" if present else ""
        parts.append(f"{name}{hint}")
    return (
        f"{file_name}: missing required column(s) for source {match.contract.name}: {'; '.join(parts)}. "
        f"Nothing from this file was loaded."
    )


def require_complete(match: HeaderMatch, header: list[str], file_name: str) -> None:
    if not match.complete:
        raise InputFileError(missing_columns_message(match, header, file_name))


def source_names() -> list[str]:
    return list(CONTRACTS)

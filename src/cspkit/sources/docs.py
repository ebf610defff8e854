"""The data contracts as documentation: ``docs/data-contracts.md`` and ``cspkit sources`` come from here."""

from __future__ import annotations

from cspkit.privacy.generalise import band_labels
from cspkit.sources.contracts import CONTRACTS, Column, Contract
from cspkit.sources.vocabularies import BANDED, SCREENED, VOCABULARIES

__all__ = ["column_rows", "contracts_markdown"]

_KIND_TEXT = {
    "text": "text",
    "ref": "reference (personal: pseudonymised per agency)",
    "case_ref": "case reference (pseudonymised)",
    "name": "name (personal: tokens only)",
    "dob": "date of birth (personal: tokens only)",
    "postcode": "postcode (personal: tokens only)",
    "date": "date (YYYY-MM-DD or DD/MM/YYYY)",
    "datetime": "date and time (YYYY-MM-DD HH:MM or DD/MM/YYYY HH:MM)",
    "month": "month (YYYY-MM)",
    "year": "year (2023) or financial year (2023-24)",
    "category": "category",
    "list": "list (; separated)",
    "lsoa": "LSOA code (E01/W01 + 6 digits)",
    "area": "ONS area code (9 characters)",
    "int": "whole number",
    "float": "number",
    "longitude": "longitude (WGS84, UK)",
    "latitude": "latitude (WGS84, UK)",
    "bool": "yes/no",
}


def _allowed(col: Column) -> str:
    parts = []
    if col.allowed:
        parts.append(", ".join(col.allowed))
    if col.minimum is not None or col.maximum is not None:
        parts.append(
            f"{col.minimum if col.minimum is not None else ''}..{col.maximum if col.maximum is not None else ''}"
        )
    return "; ".join(parts)


def _controlled(contract: Contract, col: Column) -> str:
    """What a vocabulary or band column takes, for the allowed-values cell."""
    vocabulary = VOCABULARIES.get((contract.name, col.name))
    if vocabulary is not None:
        return (
            "vocabulary: "
            + ", ".join(vocabulary.values)
            + " (case and spacing ignored; your own labels through `label_map`; anything else is stored as Other and"
            " counted in the data-quality appendix; text holding a name, phone number, email, postcode, NI number or"
            " date is refused)"
        )
    bands = BANDED.get((contract.name, col.name))
    if bands is not None:
        return f"stored only as a band: {', '.join(band_labels(bands))}"
    if (contract.name, col.name) in SCREENED:
        return "text holding a name, phone number, email, postcode, NI number or date is refused"
    return ""


def column_rows(contract: Contract) -> list[dict[str, str]]:
    """One row per column: name, required, type, allowed values, aliases."""
    rows = []
    for col in contract.columns + contract.legacy_columns:
        legacy = col in contract.legacy_columns
        required = "legacy only" if legacy else ("yes" if col.required else "")
        if col.required and col.blank_ok:
            required = "yes (may be blank)"
        rows.append(
            {
                "column": col.name,
                "required": required,
                "type": _KIND_TEXT[col.kind],
                "allowed": "; ".join(p for p in (_allowed(col), _controlled(contract, col)) if p),
                "aliases": ", ".join(col.aliases),
            }
        )
    return rows


def contracts_markdown() -> str:
    """The full contracts reference (written to docs/data-contracts.md by ``make docs``)."""
    out = [
        "# Data contracts",
        "",
        "Generated from `src/cspkit/sources/contracts.py` by `make docs`; do not edit by hand.",
        "",
        "Column names are matched after normalisation (case, spaces and punctuation are ignored), then through",
        "the aliases listed. Dates are ISO (`YYYY-MM-DD`) or UK order (`DD/MM/YYYY`, never US order). Columns",
        "not in a contract are ignored and never stored. Personal columns (references, names, dates of birth,",
        "postcodes) pass the privacy gate: only keyed pseudonyms reach the warehouse.",
        "",
    ]
    for c in CONTRACTS.values():
        out += [f"## `{c.name}`: {c.title}", ""]
        if c.help:
            out += [c.help, ""]
        details = []
        if c.month_column:
            details.append(f"rows are placed in time by `{c.month_column}`")
        if c.key_columns:
            details.append("a corrected file replaces rows with the same " + ", ".join(f"`{k}`" for k in c.key_columns))
        if c.unique_column:
            details.append(f"`{c.unique_column}` must be unique within a file")
        details.append(f"default agency `{c.default_agency}`")
        out += ["; ".join(details).capitalize() + ".", ""]
        out += ["| column | required | type | allowed | aliases |", "|---|---|---|---|---|"]
        for row in column_rows(c):
            out.append(
                f"| `{row['column']}` | {row['required']} | {row['type']} | {row['allowed']} | {row['aliases']} |"
            )
        out.append("")
    return "\n".join(out)

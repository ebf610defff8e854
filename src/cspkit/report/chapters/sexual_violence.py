"""The sexual violence chapter."""

from __future__ import annotations

from cspkit.report.builder import Builder
from cspkit.report.model import Section


def _sv_chapter(b: Builder) -> Section | None:
    findings = b.findings_of("sv.")
    police = b.fs.get("crime.violence_and_sexual_offences.count")
    if not findings and police is None:
        return None
    texts = [b.sentence(f) for f in findings]
    if police is not None:
        texts.append("Police context (violence and sexual offences together): " + b.sentence(police))
    return Section(
        "sexual-violence", "Sexual violence", b.narrative("sexual-violence", texts), xlsx_sheet="Sexual violence"
    )


def build(b: Builder) -> list[Section]:
    """This chapter's sections (none when there is nothing to report)."""
    section = _sv_chapter(b)
    return [] if section is None else [section]

"""The sexual violence chapter."""

from __future__ import annotations

from cspkit.report.builder import Builder
from cspkit.report.model import Callout, Section


def _sv_chapter(b: Builder) -> Section | None:
    findings = b.findings_of("sv.")
    police = b.fs.get("crime.violence_and_sexual_offences.count")
    if not findings and police is None:
        return None
    texts = [b.sentence(f) for f in findings]
    if police is not None:
        texts.append("Police context (violence and sexual offences together): " + b.sentence(police))
    limits = Callout(
        "caution",
        "What this chapter can and cannot say",
        "The partner series counts only sexual offences recorded within domestic abuse; sexual violence by "
        "strangers, acquaintances or online is not in it. The police publish violence and sexual offences as one "
        "category, so their trend is mostly violence. A full picture needs the Sexual Assault Referral Centre's and "
        "the ISVA service's referrals, which are not yet part of this assessment.",
    )
    return Section(
        "sexual-violence",
        "Sexual violence",
        [*b.narrative("sexual-violence", texts), limits],
        xlsx_sheet="Sexual violence",
    )


def build(b: Builder) -> list[Section]:
    """This chapter's sections (none when there is nothing to report)."""
    section = _sv_chapter(b)
    return [] if section is None else [section]

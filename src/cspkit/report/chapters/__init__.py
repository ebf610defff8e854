"""The chapters of the assessment, one module each, in the order they are printed.

Every chapter module has one function, ``build(b: Builder) -> list[Section]``: it reads findings (and the other
inputs) through the builder and returns its sections, or none when there is nothing to report. To add a chapter,
write a module with that function and put it in :data:`CHAPTERS` where it belongs in the document.
"""

from __future__ import annotations

from collections.abc import Callable

from cspkit.report.builder import Builder
from cspkit.report.chapters import (
    appendix_matrix,
    appendix_new,
    appendix_previous,
    appendix_sources,
    area_profile,
    asb,
    crime,
    domestic_abuse,
    emerging,
    introduction,
    multi_agency,
    performance,
    priorities,
    reoffending,
    sexual_violence,
    substance_misuse,
    summary,
)
from cspkit.report.model import Section

__all__ = ["CHAPTERS", "Chapter"]

#: A chapter: the builder in, its sections out.
Chapter = Callable[[Builder], list[Section]]

#: The document's chapters in print order.
CHAPTERS: tuple[Chapter, ...] = (
    summary.build,
    introduction.build,
    area_profile.build,
    performance.build,
    crime.build,
    asb.build,
    reoffending.build,
    domestic_abuse.build,
    sexual_violence.build,
    substance_misuse.build,
    multi_agency.build,
    priorities.build,
    emerging.build,
    appendix_sources.build,
    appendix_previous.build,
    appendix_matrix.build,
    appendix_new.build,
)

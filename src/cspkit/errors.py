"""One exception hierarchy for cspkit.

::

    CspkitError                 anything cspkit reports to a user as a clear message
    ├── WorkspaceError          missing, foreign or damaged workspace; key problems
    ├── ConfigError             cspkit.toml is invalid (names the setting and what was expected)
    ├── SourceError             unknown source, or a file that cannot be matched to one
    ├── InputFileError          a whole file is refused (unreadable, missing columns, truncated archive)
    ├── PeriodError             a period name that cannot be parsed, or data that does not cover it
    └── AnalysisError           an analysis that cannot run on the data loaded (e.g. no population)

Library errors (DuckDB, openpyxl, zipfile, ...) are wrapped with context at the boundary where they happen, so the
CLI can print one line naming the file, row and column, and never a traceback. Messages never contain a raw
personal identifier: only pseudonyms or masked values.
"""

from __future__ import annotations

__all__ = [
    "AnalysisError",
    "ConfigError",
    "CspkitError",
    "InputFileError",
    "PeriodError",
    "SourceError",
    "WorkspaceError",
]


class CspkitError(Exception):
    """Base class: an error with a message fit to show a user as it is."""


class WorkspaceError(CspkitError):
    """The workspace folder is missing, not a cspkit workspace, or its key is unusable."""


class ConfigError(CspkitError):
    """A setting in cspkit.toml is invalid."""


class SourceError(CspkitError):
    """A source name is unknown or a file cannot be matched to a source."""


class InputFileError(CspkitError):
    """A whole input file is refused; nothing from it was written."""


class PeriodError(CspkitError):
    """A period cannot be parsed or is not covered by the data loaded."""


class AnalysisError(CspkitError):
    """An analysis cannot be run on the data loaded."""

"""Files bundled with cspkit under ``cspkit/data`` (reference data, report glossary).

The bottom layer of the package: any stage may find a bundled file here; loading the bundled reference data into
a workspace is the ingest stage's job (:mod:`cspkit.ingest.reference`).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["bundled_path"]


def bundled_path(relative: str) -> Path:
    """Path of a file bundled in ``cspkit/data``, e.g. ``bundled_path("report/glossary.csv")``."""
    return Path(str(resources.files("cspkit") / "data" / relative))

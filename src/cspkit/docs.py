"""Regenerate the reference docs that are derived from code (``make docs``)."""

from __future__ import annotations

from pathlib import Path

from cspkit.config import configuration_markdown
from cspkit.sources.docs import contracts_markdown

__all__ = ["GENERATED", "write_docs"]

#: Doc file (relative to the repository root) -> function producing its text.
GENERATED = {
    "docs/data-contracts.md": contracts_markdown,
    "docs/configuration.md": configuration_markdown,
}


def write_docs(root: Path) -> list[Path]:
    written = []
    for relative, make in GENERATED.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(make(), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover
    for p in write_docs(Path.cwd()):
        print(f"wrote {p}")

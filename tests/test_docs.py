"""Generated reference docs are current: each equals what the code produces now, and no setting is undocumented."""

from __future__ import annotations

from pathlib import Path

import pytest

from cspkit.config import SETTINGS
from cspkit.docs import GENERATED
from cspkit.sources.contracts import CONTRACTS

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("relative", sorted(GENERATED))
def test_generated_doc_is_not_stale(relative: str) -> None:
    """The committed doc equals its generator's output; regenerate with `make docs` when this fails."""
    committed = (REPO / relative).read_text(encoding="utf-8")
    assert committed == GENERATED[relative](), f"{relative} is stale: run `make docs` (python -m cspkit.docs)"


def test_every_setting_is_documented() -> None:
    """Each setting of SETTINGS has its own row, with its help text, under its section in docs/configuration.md."""
    text = (REPO / "docs" / "configuration.md").read_text(encoding="utf-8")
    for setting in SETTINGS:
        section = text.index(f"## [{setting.section}]")
        row = text.index(f"| `{setting.name}` |", section)
        line = text[row : text.index("\n", row)]
        assert setting.help in line, setting.key


def test_every_contract_and_column_is_documented() -> None:
    """Each contract has a section in docs/data-contracts.md listing each of its columns."""
    text = (REPO / "docs" / "data-contracts.md").read_text(encoding="utf-8")
    for name, contract in CONTRACTS.items():
        start = text.index(f"## `{name}`")
        end = text.find("\n## ", start + 1)
        section = text[start : end if end > 0 else len(text)]
        for column in contract.columns + contract.legacy_columns:
            assert f"| `{column.name}` |" in section, f"{name}.{column.name}"

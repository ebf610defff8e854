"""Writing SQL text safely: quoting of string literals and identifiers for DuckDB.

The bottom layer of the package (see docs/architecture.md): every stage that builds SQL text quotes with these two
helpers, so there is one rule for quoting and nothing above has to reach into another stage for it.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["quote_ident", "sql_list", "sql_str"]


def sql_str(value: str) -> str:
    """A SQL string literal: ``O'Brien`` -> ``'O''Brien'``."""
    return "'" + value.replace("'", "''") + "'"


def quote_ident(name: str) -> str:
    """A SQL identifier in double quotes (embedded double quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'


def sql_list(values: Iterable[str]) -> str:
    """String literals joined by commas, for ``IN (...)``."""
    return ", ".join(sql_str(v) for v in values)

"""A workspace: one partnership's folder with its settings, warehouse, key and outputs.

::

    <workspace>/
      cspkit.toml          settings (see docs/configuration.md)
      warehouse.duckdb     the embedded warehouse (pseudonymised data only)
      .cspkit/key          the pseudonymisation key, owner-only; keep it safe and out of version control
      narrative/           analysts' Markdown for report sections (survives re-runs)
      judgements.toml      scoring-matrix judgement inputs with who, when and why
      outputs/             reports and exports
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from cspkit.config import Config, default_toml, load_config
from cspkit.errors import WorkspaceError
from cspkit.ingest.reference import check_area_codes, load_bundled_reference
from cspkit.privacy.keys import create_key, key_fingerprint, load_key
from cspkit.warehouse.store import connect, get_meta, set_meta

__all__ = ["CONFIG_NAME", "Workspace", "find_workspace", "init_workspace"]

CONFIG_NAME = "cspkit.toml"
WAREHOUSE_NAME = "warehouse.duckdb"
KEY_PATH = Path(".cspkit") / "key"


@dataclass(frozen=True)
class Workspace:
    """An opened workspace folder."""

    root: Path

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_NAME

    @property
    def warehouse_path(self) -> Path:
        return self.root / WAREHOUSE_NAME

    @property
    def key_path(self) -> Path:
        return self.root / KEY_PATH

    @property
    def outputs(self) -> Path:
        return self.root / "outputs"

    @property
    def narrative_dir(self) -> Path:
        return self.root / "narrative"

    @property
    def judgements_path(self) -> Path:
        return self.root / "judgements.toml"

    def config(self) -> Config:
        return load_config(self.config_path)

    def key(self) -> bytes:
        return load_key(self.key_path)

    def connect(self, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        return connect(self.warehouse_path, read_only=read_only)

    def check_key(self, con: duckdb.DuckDBPyConnection) -> str | None:
        """Compare the key with the one the warehouse's pseudonyms were made with.

        Returns:
            A warning to show the user when the key changed (new pseudonyms will not link to the old ones), or
            None when all is well. The first use records the fingerprint.
        """
        fingerprint = key_fingerprint(self.key())
        recorded = get_meta(con, "key_fingerprint")
        if recorded is None:
            set_meta(con, "key_fingerprint", fingerprint)
            return None
        if recorded != fingerprint:
            return (
                f"The key file {self.key_path} is not the key this warehouse's pseudonyms were made with: people "
                "loaded from now on will get new pseudonyms that do not link to those already loaded. Restore "
                "the original key file, or start a new workspace and reload every file."
            )
        return None


def find_workspace(start: Path | None = None) -> Workspace:
    """The workspace at ``start`` or in one of its parents.

    Raises:
        WorkspaceError: None found, or the folder is missing.
    """
    here = (start or Path.cwd()).resolve()
    if not here.exists():
        raise WorkspaceError(f"The folder {here} does not exist. Create a workspace with: cspkit init {here}")
    if not here.is_dir():
        raise WorkspaceError(f"{here} is a file, not a workspace folder.")
    for folder in (here, *here.parents):
        if (folder / CONFIG_NAME).is_file():
            return Workspace(folder)
        if start is not None:
            break  # an explicit --workspace must be the workspace itself
    raise WorkspaceError(
        f"{here} is not a cspkit workspace (no {CONFIG_NAME} found). Create one with "
        f'`cspkit init DIR --name "..." --area E06...`, or pass --workspace DIR.'
    )


def init_workspace(root: Path, *, name: str, area_codes: list[str], marking: str | None = None) -> Workspace:
    """Create a workspace folder with its settings, key and warehouse.

    Refuses to touch a folder that already holds a workspace or a key (a key must never be overwritten: the
    pseudonyms in the warehouse depend on it).
    """
    root = root.resolve()
    if (root / CONFIG_NAME).exists():
        raise WorkspaceError(f"{root} already holds a cspkit workspace ({CONFIG_NAME} exists); nothing changed.")
    if (root / KEY_PATH).exists():
        raise WorkspaceError(f"{root / KEY_PATH} already exists; refusing to overwrite a pseudonymisation key.")
    if root.exists() and not root.is_dir():
        raise WorkspaceError(f"{root} is a file, not a folder.")
    check_area_codes(area_codes)  # an unknown code stops here, before anything is created
    root.mkdir(parents=True, exist_ok=True)
    overrides: dict[str, object] = {"partnership__name": name, "partnership__area_codes": area_codes}
    if marking:
        overrides["partnership__protective_marking"] = marking
    text = default_toml(**overrides)
    (root / KEY_PATH).parent.mkdir(mode=0o700, exist_ok=True)
    os.chmod(root / KEY_PATH.parent, 0o700)
    create_key(root / KEY_PATH)
    (root / CONFIG_NAME).write_text(text, encoding="utf-8")
    load_config(root / CONFIG_NAME)  # fail now, not later, if an argument made it invalid
    for folder in ("narrative", "outputs"):
        (root / folder).mkdir(exist_ok=True)
    (root / ".gitignore").write_text(".cspkit/\nwarehouse.duckdb*\noutputs/\n", encoding="utf-8")
    ws = Workspace(root)
    con = ws.connect()
    try:
        ws.check_key(con)
        load_bundled_reference(con, ws.key())
    finally:
        con.close()
    return ws

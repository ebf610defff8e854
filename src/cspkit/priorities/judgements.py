"""The panel's judgements, kept in a TOML file in the workspace so the scoring can be re-run and audited.

A judgement is a level on a judgement criterion's scale for one candidate, with why, who and when. One file
can hold judgements for several matrices (a partnership may compare presets), keyed by matrix name::

    version = 1

    [judgements.vthpc.domestic_abuse.partnership_value]
    value = 5
    why = "MARAC, IDVA and housing all act; no single agency can reduce repeats alone"
    who = "CSP strategic board workshop"
    when = "2024-05-14"

Every change is written at once (atomically), so the file is the record.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from cspkit.errors import AnalysisError, WorkspaceError
from cspkit.priorities.matrix import Judgement, LevelValue, Matrix

__all__ = ["JudgementStore"]

_FORMAT_VERSION = 1


class JudgementStore:
    """Judgements for one matrix, persisted in a TOML file shared with other matrices.

    Args:
        path: The TOML file (created on the first :meth:`set`).
        matrix: The matrix whose judgement criteria and scales the values must fit.

    Raises:
        WorkspaceError: The file exists but is not readable TOML.
        AnalysisError: A stored judgement for this matrix does not fit its criteria (e.g. the file was edited
            by hand, or the matrix changed).
    """

    def __init__(self, path: str | os.PathLike[str], matrix: Matrix) -> None:
        self.path = Path(path)
        self.matrix = matrix
        self._document: dict[str, Any] = {"version": _FORMAT_VERSION, "judgements": {}}
        self._judgements: dict[str, dict[str, Judgement]] = {}
        if self.path.exists():
            self._load()

    def set(
        self,
        candidate: str,
        criterion: str,
        value: LevelValue,
        why: str,
        who: str,
        when: dt.date | str | None = None,
    ) -> Judgement:
        """Record a judgement and write the file.

        Args:
            candidate: Candidate key, e.g. ``domestic_abuse``.
            criterion: Key of a judgement criterion of the matrix.
            value: A level on the criterion's scale.
            why: The justification (required).
            who: Who made the judgement, e.g. a person's role or the workshop (required).
            when: Date of the judgement (ISO text or a date; default today).

        Raises:
            AnalysisError: Empty why or who; unknown or evidence criterion; value not on the scale; bad date.
        """
        if isinstance(when, dt.datetime):
            when = when.date()
        when_text = (when or dt.date.today()).isoformat() if not isinstance(when, str) else when
        judgement = self._checked(candidate, criterion, value, why, who, when_text)
        self._judgements.setdefault(candidate, {})[criterion] = judgement
        self._save()
        return judgement

    def get(self, candidate: str, criterion: str) -> Judgement | None:
        """Return the judgement for a candidate and criterion, or None if none is recorded."""
        return self._judgements.get(candidate, {}).get(criterion)

    def for_candidate(self, candidate: str) -> dict[str, Judgement]:
        """Return a candidate's judgements by criterion key."""
        return dict(self._judgements.get(candidate, {}))

    def all(self) -> dict[str, dict[str, Judgement]]:
        """Return every judgement for this matrix: candidate key -> criterion key -> judgement."""
        return {candidate: dict(by_criterion) for candidate, by_criterion in self._judgements.items()}

    # ------------------------------------------------------------------------------------------ internals

    def _checked(self, candidate: str, criterion: str, value: Any, why: Any, who: Any, when: Any) -> Judgement:
        where = f"judgement on '{criterion}' for '{candidate}'"
        if not isinstance(candidate, str) or not candidate.strip():
            raise AnalysisError(f"{where}: the candidate key must be a non-empty text")
        found = [c for c in self.matrix.criteria if c.key == criterion]
        if not found:
            known = ", ".join(c.key for c in self.matrix.criteria if c.kind == "judgement")
            raise AnalysisError(
                f"{where}: matrix '{self.matrix.name}' has no judgement criterion '{criterion}' "
                f"(judgement criteria: {known})"
            )
        crit = found[0]
        if crit.kind != "judgement":
            raise AnalysisError(f"{where}: '{criterion}' is computed from evidence ({crit.rule}), not judged")
        level = crit.level(value)
        if level is None:
            allowed = ", ".join(repr(v) for v in crit.allowed_values())
            raise AnalysisError(f"{where}: {value!r} is not on the scale (allowed: {allowed})")
        if not isinstance(why, str) or not why.strip():
            raise AnalysisError(f"{where}: 'why' is required; a score without its justification is refused")
        if not isinstance(who, str) or not who.strip():
            raise AnalysisError(f"{where}: 'who' is required")
        try:
            dt.date.fromisoformat(str(when))
        except ValueError:
            raise AnalysisError(f"{where}: 'when' must be a date as YYYY-MM-DD, got {when!r}") from None
        # Keep the scale's own value (4, not 4.0) so the file reads as the scale does.
        return Judgement(value=level.value, why=why.strip(), who=who.strip(), when=str(when))

    def _load(self) -> None:
        try:
            with self.path.open("rb") as f:
                document = tomllib.load(f)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise WorkspaceError(f"judgements file {self.path} cannot be read: {exc}") from exc
        judgements = document.get("judgements", {})
        if not isinstance(judgements, dict):
            raise WorkspaceError(f"judgements file {self.path}: 'judgements' must be a table")
        self._document = document
        mine = judgements.get(self.matrix.name, {})
        for candidate, by_criterion in mine.items():
            for criterion, item in by_criterion.items():
                if not isinstance(item, dict):
                    raise AnalysisError(f"judgements file {self.path}: {candidate}.{criterion} must be a table")
                when = item.get("when", "")
                if isinstance(when, dt.date):
                    when = when.isoformat()
                try:
                    judgement = self._checked(
                        candidate, criterion, item.get("value"), item.get("why"), item.get("who"), when
                    )
                except AnalysisError as exc:
                    raise AnalysisError(f"judgements file {self.path}: {exc}") from None
                self._judgements.setdefault(candidate, {})[criterion] = judgement

    def _save(self) -> None:
        document = dict(self._document)
        document["version"] = _FORMAT_VERSION
        judgements = dict(document.get("judgements", {}))
        judgements[self.matrix.name] = {
            candidate: {
                criterion: {"value": j.value, "why": j.why, "who": j.who, "when": j.when}
                for criterion, j in sorted(by_criterion.items())
            }
            for candidate, by_criterion in sorted(self._judgements.items())
        }
        document["judgements"] = judgements
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Write beside the file and rename, so a crash never leaves half a record.
        temporary = self.path.with_name(self.path.name + ".tmp")
        temporary.write_bytes(tomli_w.dumps(document).encode("utf-8"))
        os.replace(temporary, self.path)
        self._document = document

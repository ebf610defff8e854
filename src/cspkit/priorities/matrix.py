"""Scoring matrices: a partnership's stated criteria for choosing priorities, and the engine applying them.

A matrix is configuration (a dict as parsed from TOML), so a partnership can print it in its assessment,
change it in a workshop and re-run it. :func:`load_matrix` validates it and names the setting at fault.
:func:`score` applies it to candidate issues (crime types, ASB, domestic abuse, reoffending, any local
topic) and returns a :class:`Ranking` in which every row shows every criterion's input value, level, score,
weight and weighted score, and the total: nothing is hidden and nothing is recomputed downstream.

Rules the engine keeps:

- Every score carries its evidence (an explanation citing finding ids) or its justification (a judgement with
  why, who and when). A score without either is refused with :class:`~cspkit.errors.AnalysisError`.
- A candidate with a missing input is listed as incomplete, after the scored candidates and with no total:
  it is never scored as if the missing criterion were zero. :func:`describe_missing` says what is missing.
- Overrides ("statutory duty", "previous priority still red", "domestic homicide review") are shown beside the
  score and never added to it: the board weighs them openly.

Three ways to combine criterion scores:

- ``weighted_sum``: total = sum(weight * score) (the English "V/T/H/P/C" pattern).
- ``product``: total = product(score ** weight); with weights of 1 this is the impact x likelihood grid.
- ``morile``: MoRiLE-structured. Criteria take a ``role``: ``harm`` elements are summed with their weights,
  ``multiplier`` criteria (victim vulnerability) multiply the harm total, ``likelihood`` multiplies that
  into a risk score, and the mean of the ``position`` criteria (organisational capacity and capability,
  1 = strong) gives priority = risk * (1 + position_step * (mean - 1)).

In every combination a criterion with role ``reported`` (such as MoRiLE's confidence grade) is shown in the
row but never enters the total.

Matrix configuration, as TOML::

    name = "vthpc"
    label = "Volume, Trend, Harm, Public concern, Partnership value"
    combine = "weighted_sum"
    bands = [{min = 3.5, label = "Recommended priority"}, {min = 0.0, label = "Business as usual"}]

    [[criteria]]
    key = "volume"
    label = "Volume"
    weight = 0.2
    kind = "evidence"                 # or "judgement"
    rule = "volume_percentile"        # evidence rule (see cspkit.priorities.evidence)
    scale = [{value = 1, label = "below 20th percentile"}, {value = 2, label = "20th-40th"}]

Scale levels are listed from lowest to highest. A level's ``score`` defaults to its value when the value is a
number; a text level ("none", "some", "high") states its score. Bands are listed from the highest minimum
down; a total gets the first band whose minimum it reaches.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, cast

import numpy as np

from cspkit.errors import AnalysisError, ConfigError

__all__ = [
    "COMBINE_METHODS",
    "EVIDENCE_RULES",
    "ROLES",
    "Band",
    "CandidateInputs",
    "Criterion",
    "CriterionScore",
    "EvidenceValue",
    "Judgement",
    "LevelValue",
    "Matrix",
    "Ranking",
    "RankingRow",
    "ScaleLevel",
    "combine_scores",
    "describe_missing",
    "load_matrix",
    "score",
]

Combine = Literal["weighted_sum", "product", "morile"]
Kind = Literal["evidence", "judgement"]
Role = Literal["score", "harm", "multiplier", "likelihood", "position", "reported"]
LevelValue = int | float | str

COMBINE_METHODS: tuple[str, ...] = ("weighted_sum", "product", "morile")
ROLES: tuple[str, ...] = ("score", "harm", "multiplier", "likelihood", "position", "reported")
_ROLES_BY_COMBINE: dict[str, tuple[str, ...]] = {
    "weighted_sum": ("score", "reported"),
    "product": ("score", "reported"),
    "morile": ("harm", "multiplier", "likelihood", "position", "reported"),
}

# Evidence rule names (implemented in cspkit.priorities.evidence) and the numbers of scale levels each can
# fill: None means any number of levels from two up (percentile rules split 0-100 into equal bands).
EVIDENCE_RULES: dict[str, tuple[int, ...] | None] = {
    "volume_percentile": None,
    "harm_percentile": None,
    "likelihood_from_volume": None,
    "trend_significance": (5,),
    "public_concern_share": (5,),
    "vulnerability": (3, 5),
}

# Totals are rounded before banding and ranking so that 0.4 + 0.6 + 1.5 + 0.4 + 0.6 is exactly 3.5.
_TOTAL_DECIMALS = 9


@dataclass(frozen=True)
class ScaleLevel:
    """One allowed input level of a criterion.

    Attributes:
        value: What an evidence rule or a judgement gives (``4``, ``"high"``, ``"M"``).
        label: What the level means in words.
        score: The number the level contributes; None only for ``reported`` criteria.
    """

    value: LevelValue
    label: str
    score: float | None


@dataclass(frozen=True)
class Criterion:
    """One stated criterion of a matrix.

    Attributes:
        key: Identifier used in inputs and tables, e.g. ``harm``.
        label: Human label, e.g. ``Harm``.
        weight: Weight in the combination (see the module docstring for how each method uses it).
        scale: Allowed levels, lowest first.
        kind: ``evidence`` (computed from findings by ``rule``) or ``judgement`` (set by the panel, with why).
        rule: Evidence rule name for evidence criteria.
        description: What the criterion measures and how, for the method notes.
        role: How the criterion enters the total (``score`` for weighted sums and products; MoRiLE roles).
    """

    key: str
    label: str
    weight: float
    scale: tuple[ScaleLevel, ...]
    kind: Kind
    rule: str | None = None
    description: str = ""
    role: Role = "score"

    @property
    def scored(self) -> bool:
        """True when the criterion enters the total (its role is not ``reported``)."""
        return self.role != "reported"

    def level(self, value: LevelValue) -> ScaleLevel | None:
        """Return the scale level for an input value, or None when the value is not on the scale."""
        for level in self.scale:
            if _same_value(level.value, value):
                return level
        return None

    def allowed_values(self) -> list[LevelValue]:
        """Return the allowed input values, lowest first."""
        return [level.value for level in self.scale]


@dataclass(frozen=True)
class Band:
    """An outcome band: totals at or above ``min`` (and below the previous band) get ``label``."""

    min: float
    label: str


@dataclass(frozen=True)
class Matrix:
    """A validated scoring matrix. Build it with :func:`load_matrix`."""

    name: str
    label: str
    criteria: tuple[Criterion, ...]
    combine: Combine
    bands: tuple[Band, ...]
    description: str = ""
    provenance: str = ""
    overrides: tuple[str, ...] = ()
    position_step: float = 0.25

    @property
    def scored_criteria(self) -> tuple[Criterion, ...]:
        """The criteria that enter the total, in matrix order."""
        return tuple(c for c in self.criteria if c.scored)

    def criterion(self, key: str) -> Criterion:
        """Return the criterion named ``key``.

        Raises:
            AnalysisError: The matrix has no such criterion.
        """
        for criterion in self.criteria:
            if criterion.key == key:
                return criterion
        known = ", ".join(c.key for c in self.criteria)
        raise AnalysisError(f"matrix '{self.name}' has no criterion '{key}' (criteria: {known})")

    def band_for(self, total: float) -> str | None:
        """Return the label of the first band whose minimum ``total`` reaches, or None below every band."""
        for band in self.bands:
            if total >= band.min:
                return band.label
        return None

    def base_weights(self) -> np.ndarray:
        """Return the weights of the scored criteria as the combination uses them (1.0 where unused)."""
        return np.array([_effective_weight(self, c) for c in self.scored_criteria], dtype=float)

    def to_dict(self) -> dict[str, Any]:
        """Return the matrix as configuration that :func:`load_matrix` accepts (TOML-writable: no None)."""
        data: dict[str, Any] = {
            "name": self.name,
            "label": self.label,
            "description": self.description,
            "provenance": self.provenance,
            "combine": self.combine,
            "criteria": [_criterion_to_dict(c) for c in self.criteria],
            "bands": [{"min": b.min, "label": b.label} for b in self.bands],
            "overrides": list(self.overrides),
        }
        if self.combine == "morile":
            data["position_step"] = self.position_step
        return data


@dataclass(frozen=True)
class EvidenceValue:
    """A criterion input computed from findings by an evidence rule.

    Attributes:
        value: The measured input (a rate percentile, a z score, a share), or None if the level is all.
        score_input: The scale level the rule chose.
        finding_ids: The findings the input rests on.
        explanation: In words: the input value, the band it falls in and the findings cited.
    """

    value: float | None
    score_input: LevelValue
    finding_ids: list[str] = field(default_factory=list)
    explanation: str = ""


@dataclass(frozen=True)
class Judgement:
    """A panel's judgement on one criterion for one candidate, with its justification."""

    value: LevelValue
    why: str
    who: str
    when: str


@dataclass
class CandidateInputs:
    """Everything a matrix needs to score one candidate issue.

    Attributes:
        key: Candidate identifier, e.g. ``domestic_abuse``.
        label: Human label, e.g. ``Domestic abuse``.
        evidence: Evidence inputs by criterion key.
        judgements: Judgements by criterion key.
        overrides: Flags shown beside the score and never added to it.
    """

    key: str
    label: str
    evidence: dict[str, EvidenceValue] = field(default_factory=dict)
    judgements: dict[str, Judgement] = field(default_factory=dict)
    overrides: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CriterionScore:
    """One cell of a ranking row: a criterion's input, level, score and weight for one candidate.

    ``value`` is the measured input for evidence (e.g. a percentile) and the level for a judgement. Everything
    but ``criterion``, ``label``, ``kind`` and ``role`` is None when the input is missing.
    """

    criterion: str
    label: str
    kind: Kind
    role: Role
    value: float | str | None
    level: LevelValue | None
    level_label: str | None
    score: float | None
    weight: float | None
    weighted_score: float | None
    finding_ids: list[str] = field(default_factory=list)
    explanation: str = ""
    who: str | None = None
    when: str | None = None


@dataclass(frozen=True)
class RankingRow:
    """One candidate's row: every criterion, the total, band and rank, or what is missing."""

    candidate: str
    label: str
    criteria: list[CriterionScore]
    total: float | None
    band: str | None
    rank: int | None
    complete: bool
    missing: list[str]
    overrides: list[str]
    stages: dict[str, float] = field(default_factory=dict)

    def cell(self, criterion: str) -> CriterionScore:
        """Return the cell for ``criterion``."""
        for cell in self.criteria:
            if cell.criterion == criterion:
                return cell
        raise KeyError(criterion)


@dataclass(frozen=True)
class Ranking:
    """Candidates scored by a matrix: complete candidates by total (highest first), then incomplete ones."""

    matrix: Matrix
    rows: list[RankingRow]

    def row(self, candidate: str) -> RankingRow:
        """Return the row for a candidate key."""
        for row in self.rows:
            if row.candidate == candidate:
                return row
        raise KeyError(candidate)

    @property
    def missing(self) -> list[tuple[str, str]]:
        """Every missing input as (candidate key, criterion key)."""
        return [(row.candidate, key) for row in self.rows for key in row.missing]

    def to_rows(self) -> list[dict[str, Any]]:
        """Return one flat dict per candidate for tables: each criterion's input, score, weight."""
        table = []
        for row in self.rows:
            flat: dict[str, Any] = {"rank": row.rank, "candidate": row.candidate, "label": row.label}
            for cell in row.criteria:
                flat[f"{cell.criterion}_input"] = cell.value
                flat[f"{cell.criterion}_score"] = cell.score
                flat[f"{cell.criterion}_weight"] = cell.weight
                flat[f"{cell.criterion}_weighted"] = cell.weighted_score
            flat.update(row.stages)
            flat["total"] = row.total
            flat["band"] = row.band
            flat["complete"] = row.complete
            flat["missing"] = "; ".join(row.missing)
            flat["overrides"] = "; ".join(row.overrides)
            table.append(flat)
        return table

    def to_dict(self) -> dict[str, Any]:
        """Return the ranking and the matrix that produced it as plain JSON-able data."""
        return {
            "matrix": self.matrix.to_dict(),
            "rows": [asdict(row) for row in self.rows],
            "missing": [list(pair) for pair in self.missing],
        }


# ---------------------------------------------------------------------------------------------- loading


def load_matrix(data: Mapping[str, Any]) -> Matrix:
    """Validate matrix configuration and return the matrix.

    Args:
        data: The matrix as parsed from TOML (see the module docstring).

    Raises:
        ConfigError: A setting is invalid; the message names it (e.g. ``criteria[2].weight``).
    """
    if not isinstance(data, Mapping):
        raise ConfigError(f"matrix: expected a table of settings, got {type(data).__name__}")
    name = _require_text(data, "name", "matrix")
    where = f"matrix '{name}'"
    _refuse_unknown(
        data,
        {"name", "label", "description", "provenance", "combine", "criteria", "bands", "overrides"} | {"position_step"},
        where,
        "",
    )
    combine = data.get("combine", "weighted_sum")
    if combine not in COMBINE_METHODS:
        raise ConfigError(f"{where}: combine must be one of {', '.join(COMBINE_METHODS)}, got {combine!r}")

    raw_criteria = data.get("criteria")
    if not isinstance(raw_criteria, list) or not raw_criteria:
        raise ConfigError(f"{where}: criteria must be a non-empty list of criterion tables")
    criteria = tuple(_load_criterion(raw, i, combine, where) for i, raw in enumerate(raw_criteria))
    keys = [c.key for c in criteria]
    for i, key in enumerate(keys):
        if key in keys[:i]:
            raise ConfigError(f"{where}: criteria[{i}].key {key!r} is used twice")

    scored = [c for c in criteria if c.scored]
    if not scored:
        raise ConfigError(f"{where}: criteria: at least one criterion must enter the total (not 'reported')")
    if combine == "weighted_sum" and sum(c.weight for c in scored) <= 0:
        raise ConfigError(f"{where}: criteria weights must not all be zero")
    if combine == "morile":
        roles = {c.role for c in criteria}
        for needed in ("harm", "likelihood"):
            if needed not in roles:
                raise ConfigError(f"{where}: criteria: combine 'morile' needs a criterion with role '{needed}'")

    position_step = _number(data.get("position_step", 0.25), f"{where}: position_step")
    if position_step < 0:
        raise ConfigError(f"{where}: position_step must be zero or more, got {position_step}")

    return Matrix(
        name=name,
        label=_optional_text(data, "label", where) or name,
        criteria=criteria,
        combine=cast(Combine, combine),
        bands=_load_bands(data.get("bands", []), where),
        description=_optional_text(data, "description", where),
        provenance=_optional_text(data, "provenance", where),
        overrides=tuple(_text_list(data.get("overrides", []), f"{where}: overrides")),
        position_step=position_step,
    )


def _load_criterion(raw: Any, index: int, combine: str, where: str) -> Criterion:
    at = f"criteria[{index}]"
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: {at} must be a table")
    _refuse_unknown(raw, {"key", "label", "weight", "scale", "kind", "rule", "description", "role"}, where, at)
    key = _require_text(raw, "key", f"{where}: {at}")
    kind = raw.get("kind")
    if kind not in ("evidence", "judgement"):
        raise ConfigError(f"{where}: {at}.kind must be 'evidence' or 'judgement', got {kind!r}")
    role = raw.get("role", "score")
    allowed_roles = _ROLES_BY_COMBINE[combine]
    if role not in allowed_roles:
        raise ConfigError(
            f"{where}: {at}.role must be one of {', '.join(allowed_roles)} when combine is '{combine}', got {role!r}"
        )

    if "weight" in raw:
        weight = _number(raw["weight"], f"{where}: {at}.weight")
    elif combine == "weighted_sum" and role != "reported":
        raise ConfigError(f"{where}: {at}.weight is required in a weighted sum")
    else:
        weight = 0.0 if role == "reported" else 1.0
    if weight < 0:
        raise ConfigError(f"{where}: {at}.weight must be zero or more, got {weight}")
    if combine == "morile" and role in ("multiplier", "likelihood", "position") and weight != 1.0:
        raise ConfigError(
            f"{where}: {at}.weight must be 1.0 (in a MoRiLE matrix only harm elements are weighted), got {weight}"
        )

    rule = raw.get("rule")
    if kind == "evidence":
        if rule not in EVIDENCE_RULES:
            raise ConfigError(
                f"{where}: {at}.rule must name an evidence rule ({', '.join(EVIDENCE_RULES)}), got {rule!r}"
            )
    elif rule is not None:
        raise ConfigError(f"{where}: {at}.rule is only for evidence criteria; a judgement has no rule")

    scale = _load_scale(raw.get("scale"), f"{at}.scale", role, combine, where)
    if kind == "evidence":
        sizes = EVIDENCE_RULES[cast(str, rule)]
        if len(scale) < 2 or (sizes is not None and len(scale) not in sizes):
            wanted = "at least 2" if sizes is None else " or ".join(str(s) for s in sizes)
            raise ConfigError(f"{where}: {at}.scale has {len(scale)} levels but rule '{rule}' fills {wanted} levels")
    return Criterion(
        key=key,
        label=_optional_text(raw, "label", f"{where}: {at}") or key,
        weight=weight,
        scale=scale,
        kind=cast(Kind, kind),
        rule=cast("str | None", rule),
        description=_optional_text(raw, "description", f"{where}: {at}"),
        role=cast(Role, role),
    )


def _load_scale(raw: Any, at: str, role: str, combine: str, where: str) -> tuple[ScaleLevel, ...]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{where}: {at} must be a non-empty list of levels ({{value, label, score}})")
    levels: list[ScaleLevel] = []
    for j, item in enumerate(raw):
        here = f"{at}[{j}]"
        if not isinstance(item, Mapping):
            raise ConfigError(f"{where}: {here} must be a table with value and label")
        _refuse_unknown(item, {"value", "label", "score"}, where, here)
        value = item.get("value")
        if isinstance(value, bool) or not isinstance(value, int | float | str) or value == "":
            raise ConfigError(f"{where}: {here}.value must be a number or a word, got {value!r}")
        if any(_same_value(level.value, value) for level in levels):
            raise ConfigError(f"{where}: {here}.value {value!r} is listed twice")
        if "score" in item:
            level_score: float | None = _number(item["score"], f"{where}: {here}.score")
        elif isinstance(value, str):
            if role != "reported":
                raise ConfigError(f"{where}: {here}.score is required for the word level {value!r}")
            level_score = None
        else:
            level_score = float(value)
        if level_score is not None and combine != "weighted_sum" and level_score < 0:
            raise ConfigError(f"{where}: {here}.score must be zero or more when combine is '{combine}'")
        levels.append(
            ScaleLevel(value=value, label=_optional_text(item, "label", f"{where}: {here}"), score=level_score)
        )
    return tuple(levels)


def _load_bands(raw: Any, where: str) -> tuple[Band, ...]:
    if not isinstance(raw, list):
        raise ConfigError(f"{where}: bands must be a list of {{min, label}} tables")
    bands: list[Band] = []
    for i, item in enumerate(raw):
        at = f"bands[{i}]"
        if not isinstance(item, Mapping):
            raise ConfigError(f"{where}: {at} must be a table with min and label")
        _refuse_unknown(item, {"min", "label"}, where, at)
        minimum = _number(item.get("min"), f"{where}: {at}.min")
        label = _require_text(item, "label", f"{where}: {at}")
        if bands and minimum >= bands[-1].min:
            raise ConfigError(
                f"{where}: {at}.min ({minimum}) must be below {f'bands[{i - 1}]'}.min ({bands[-1].min}): "
                "list bands from the highest minimum down"
            )
        bands.append(Band(min=minimum, label=label))
    return tuple(bands)


def _criterion_to_dict(criterion: Criterion) -> dict[str, Any]:
    data: dict[str, Any] = {
        "key": criterion.key,
        "label": criterion.label,
        "weight": criterion.weight,
        "kind": criterion.kind,
        "role": criterion.role,
        "description": criterion.description,
        "scale": [
            {"value": lv.value, "label": lv.label} | ({} if lv.score is None else {"score": lv.score})
            for lv in criterion.scale
        ],
    }
    if criterion.rule is not None:
        data["rule"] = criterion.rule
    return data


def _refuse_unknown(data: Mapping[str, Any], allowed: set[str], where: str, at: str) -> None:
    # A misspelt setting ("wieght") must not silently fall back to a default.
    for key in data:
        if key not in allowed:
            place = f"{at}.{key}" if at else str(key)
            raise ConfigError(f"{where}: unknown setting {place} (expected one of {', '.join(sorted(allowed))})")


def _require_text(data: Mapping[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: {key} must be a non-empty text, got {value!r}")
    return value


def _optional_text(data: Mapping[str, Any], key: str, where: str) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        raise ConfigError(f"{where}: {key} must be text, got {value!r}")
    return value


def _text_list(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where} must be a list of texts")
    return list(value)


def _number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ConfigError(f"{where} must be a number, got {value!r}")
    return float(value)


def _same_value(a: LevelValue, b: Any) -> bool:
    # 4 and 4.0 are the same level; "4" and 4 are not, and True is not 1.
    if isinstance(b, bool):
        return False
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return isinstance(b, int | float) and float(a) == float(b)


# ---------------------------------------------------------------------------------------------- scoring


def _effective_weight(matrix: Matrix, criterion: Criterion) -> float:
    # MoRiLE weights only its harm elements; the other roles multiply or average as they are.
    if matrix.combine == "morile" and criterion.role != "harm":
        return 1.0
    return criterion.weight


def combine_scores(
    matrix: Matrix, scores: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Combine criterion scores into totals, vectorised over any leading axes.

    Args:
        matrix: The matrix whose combination method to apply.
        scores: Scores with the last axis aligned with ``matrix.scored_criteria``.
        weights: Weights broadcastable to ``scores`` (default: the matrix's own weights).

    Returns:
        The totals (rounded to 9 decimals) and, for MoRiLE, the intermediate stages (harm elements, total
        harm, risk, position factor) with the same shape.
    """
    scores = np.asarray(scores, dtype=float)
    w = matrix.base_weights() if weights is None else np.asarray(weights, dtype=float)
    stages: dict[str, np.ndarray] = {}
    if matrix.combine == "weighted_sum":
        total = (scores * w).sum(axis=-1)
    elif matrix.combine == "product":
        total = np.prod(np.power(scores, w), axis=-1)
    else:
        roles = np.array([c.role for c in matrix.scored_criteria])
        harm = roles == "harm"
        harm_elements = (scores[..., harm] * np.broadcast_to(w, scores.shape)[..., harm]).sum(axis=-1)
        total_harm = harm_elements * np.prod(scores[..., roles == "multiplier"], axis=-1)
        risk = total_harm * np.prod(scores[..., roles == "likelihood"], axis=-1)
        position = roles == "position"
        if position.any():
            factor = 1.0 + matrix.position_step * (scores[..., position].mean(axis=-1) - 1.0)
        else:
            factor = np.ones_like(risk)
        total = risk * factor
        stages = {
            "harm_elements": np.round(harm_elements, _TOTAL_DECIMALS),
            "total_harm": np.round(total_harm, _TOTAL_DECIMALS),
            "risk": np.round(risk, _TOTAL_DECIMALS),
            "position_factor": np.round(factor, _TOTAL_DECIMALS),
        }
    return np.round(total, _TOTAL_DECIMALS), stages


def score(matrix: Matrix, candidates: Sequence[CandidateInputs]) -> Ranking:
    """Score candidate issues on a matrix and rank them.

    Complete candidates are ranked by total, highest first; equal totals share a rank (1, 2, 2, 4) and keep
    their input order. Candidates with a missing input follow, unranked, with total None.

    Raises:
        AnalysisError: Two candidates share a key; an input names a criterion the matrix does not have or of
            the other kind; a level is not on the criterion's scale; a judgement has no why, or an evidence
            value no explanation.
    """
    keys = [c.key for c in candidates]
    for i, key in enumerate(keys):
        if key in keys[:i]:
            raise AnalysisError(f"candidate '{key}' is listed twice")

    scored: list[tuple[CandidateInputs, list[CriterionScore], list[float]]] = []
    incomplete: list[RankingRow] = []
    for candidate in candidates:
        cells, missing = _cells(matrix, candidate)
        if missing:
            incomplete.append(
                RankingRow(
                    candidate=candidate.key,
                    label=candidate.label,
                    criteria=cells,
                    total=None,
                    band=None,
                    rank=None,
                    complete=False,
                    missing=missing,
                    overrides=list(candidate.overrides),
                )
            )
        else:
            values = [cast(float, cell.score) for cell in cells if cell.role != "reported"]
            scored.append((candidate, cells, values))

    rows: list[RankingRow] = []
    if scored:
        totals, stages = combine_scores(matrix, np.array([values for _, _, values in scored]))
        order = sorted(range(len(scored)), key=lambda i: -totals[i])
        for i in order:
            candidate, cells, _ = scored[i]
            total = float(totals[i])
            rows.append(
                RankingRow(
                    candidate=candidate.key,
                    label=candidate.label,
                    criteria=cells,
                    total=total,
                    band=matrix.band_for(total),
                    rank=1 + int((totals > totals[i]).sum()),
                    complete=True,
                    missing=[],
                    overrides=list(candidate.overrides),
                    stages={name: float(values[i]) for name, values in stages.items()},
                )
            )
    return Ranking(matrix=matrix, rows=rows + incomplete)


def _cells(matrix: Matrix, candidate: CandidateInputs) -> tuple[list[CriterionScore], list[str]]:
    """Return the candidate's cells in matrix order and the keys of criteria with no input."""
    who = f"candidate '{candidate.key}'"
    for source, kind in ((candidate.evidence, "evidence"), (candidate.judgements, "judgement")):
        for key in source:
            criterion = matrix.criterion(key)
            if criterion.kind != kind:
                raise AnalysisError(f"{who}: criterion '{key}' is a {criterion.kind} criterion but was given as {kind}")
    cells: list[CriterionScore] = []
    missing: list[str] = []
    for criterion in matrix.criteria:
        given: EvidenceValue | Judgement | None = (
            candidate.evidence.get(criterion.key)
            if criterion.kind == "evidence"
            else candidate.judgements.get(criterion.key)
        )
        if given is None:
            missing.append(criterion.key)
            cells.append(
                CriterionScore(
                    criterion=criterion.key,
                    label=criterion.label,
                    kind=criterion.kind,
                    role=criterion.role,
                    value=None,
                    level=None,
                    level_label=None,
                    score=None,
                    weight=None,
                    weighted_score=None,
                )
            )
            continue
        cells.append(_cell(matrix, criterion, given, who))
    return cells, missing


def _cell(matrix: Matrix, criterion: Criterion, given: EvidenceValue | Judgement, who: str) -> CriterionScore:
    level_value = given.score_input if isinstance(given, EvidenceValue) else given.value
    level = criterion.level(level_value)
    if level is None:
        allowed = ", ".join(repr(v) for v in criterion.allowed_values())
        raise AnalysisError(
            f"{who}: {level_value!r} is not on the scale of criterion '{criterion.key}' (allowed: {allowed})"
        )
    weight: float | None = None
    weighted: float | None = None
    if criterion.scored and level.score is not None:
        weight = _effective_weight(matrix, criterion)
        if matrix.combine == "product":
            weighted = round(level.score**weight, _TOTAL_DECIMALS)
        elif matrix.combine == "morile" and criterion.role != "harm":
            weighted = level.score
        else:
            weighted = round(level.score * weight, _TOTAL_DECIMALS)

    if isinstance(given, EvidenceValue):
        if not given.explanation.strip():
            raise AnalysisError(f"{who}: evidence for '{criterion.key}' has no explanation; a score needs its evidence")
        return CriterionScore(
            criterion=criterion.key,
            label=criterion.label,
            kind=criterion.kind,
            role=criterion.role,
            value=given.value,
            level=level.value,
            level_label=level.label,
            score=level.score,
            weight=weight,
            weighted_score=weighted,
            finding_ids=list(given.finding_ids),
            explanation=given.explanation,
        )
    if not given.why.strip():
        raise AnalysisError(f"{who}: the judgement on '{criterion.key}' has no 'why'; a score needs its justification")
    return CriterionScore(
        criterion=criterion.key,
        label=criterion.label,
        kind=criterion.kind,
        role=criterion.role,
        value=level.value,
        level=level.value,
        level_label=level.label,
        score=level.score,
        weight=weight,
        weighted_score=weighted,
        explanation=given.why,
        who=given.who,
        when=given.when,
    )


def describe_missing(ranking: Ranking) -> str:
    """Say in words which candidates could not be scored and which inputs they lack ("" when none)."""
    rows = [row for row in ranking.rows if not row.complete]
    if not rows:
        return ""
    lines = [
        f"{len(rows)} candidate issue{'s' if len(rows) > 1 else ''} could not be scored on "
        f"'{ranking.matrix.label}' and {'are' if len(rows) > 1 else 'is'} listed after the ranked issues, "
        "without a total (a missing input is never counted as zero):"
    ]
    for row in rows:
        for key in row.missing:
            criterion = ranking.matrix.criterion(key)
            what = "no judgement" if criterion.kind == "judgement" else "no evidence"
            lines.append(f"- {row.label} ({row.candidate}): {what} for {criterion.label} ({criterion.key})")
    return "\n".join(lines)

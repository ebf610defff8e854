"""Three ready-made scoring matrices, as configuration a partnership can copy, print and change.

- ``vthpc`` (default): the common English CSP pattern, a weighted sum of Volume, Trend, Harm, Public concern
  and Partnership value, each scored 1-5.
- ``morile``: structured like the MoRiLE tactical matrix (harm elements, geographic scope, victim
  vulnerability, likelihood, organisational position, confidence). The official MoRiLE scales sit in
  controlled spreadsheets, so these scales only copy its structure.
- ``grid4x4``: the 4x4 impact x likelihood priority grid (Fife CSP).

Scales, weights, bands and labels marked [illustrative local choice] are not taken from a published source: a
partnership should agree its own and say so in its assessment.
"""

from __future__ import annotations

import copy
from typing import Any

from cspkit.errors import ConfigError
from cspkit.priorities.matrix import Matrix, load_matrix

__all__ = ["DEFAULT_PRESET", "GRID4X4", "MORILE", "PRESETS", "VTHPC", "load_preset", "matrix_for", "preset_config"]

DEFAULT_PRESET = "vthpc"

_LOCAL = "[illustrative local choice]"


def _percentile_scale() -> list[dict[str, Any]]:
    return [
        {"value": 1, "label": "below the 20th percentile of candidate issues"},
        {"value": 2, "label": "20th to 40th percentile"},
        {"value": 3, "label": "40th to 60th percentile"},
        {"value": 4, "label": "60th to 80th percentile"},
        {"value": 5, "label": "80th percentile or above"},
    ]


VTHPC: dict[str, Any] = {
    "name": "vthpc",
    "label": "Volume, Trend, Harm, Public concern, Partnership value",
    "description": (
        "Weighted sum of five criteria scored 1-5: total = 0.20 V + 0.15 T + 0.30 H + 0.20 P + 0.15 C, "
        "from 1.0 to 5.0. Volume, trend, harm and public concern are computed from findings; partnership "
        "value is the panel's judgement. Overrides are shown beside the total and never added to it."
    ),
    "provenance": (
        "The common English CSP scoring pattern (Central Bedfordshire's PSA scoring-matrix appendix; "
        "Tees Valley and South Gloucestershire criteria). Scales, weights and bands are an " + _LOCAL + "."
    ),
    "combine": "weighted_sum",
    "criteria": [
        {
            "key": "volume",
            "label": "Volume",
            "weight": 0.20,
            "kind": "evidence",
            "rule": "volume_percentile",
            "description": "Rate per 1,000 residents in the last 12 months, as a percentile among the "
            "candidate issues " + _LOCAL + ".",
            "scale": _percentile_scale(),
        },
        {
            "key": "trend",
            "label": "Trend",
            "weight": 0.15,
            "kind": "evidence",
            "rule": "trend_significance",
            "description": "Last 12 months against the previous 12: a significant change after adjustment "
            "for multiple comparisons scores 5 (rise) or 1 (fall); otherwise the Poisson z decides 2-4 " + _LOCAL + ".",
            "scale": [
                {"value": 1, "label": "significant fall (or z <= -2 where untested)"},
                {"value": 2, "label": "fall that is not significant (z <= -1)"},
                {"value": 3, "label": "no significant change"},
                {"value": 4, "label": "rise that is not significant (z >= 1)"},
                {"value": 5, "label": "significant rise (or z >= 2 where untested)"},
            ],
        },
        {
            "key": "harm",
            "label": "Harm",
            "weight": 0.30,
            "kind": "evidence",
            "rule": "harm_percentile",
            "description": "Harm-weighted rate (crime harm index days per 1,000 residents; the index is "
            "stated in the method notes) as a percentile among the candidate issues " + _LOCAL + ".",
            "scale": _percentile_scale(),
        },
        {
            "key": "public_concern",
            "label": "Public concern",
            "weight": 0.20,
            "kind": "evidence",
            "rule": "public_concern_share",
            "description": "Share of residents naming the issue a top concern in the survey or consultation "
            + _LOCAL
            + ".",
            "scale": [
                {"value": 1, "label": "not mentioned"},
                {"value": 2, "label": "under 5%"},
                {"value": 3, "label": "5% to under 15%"},
                {"value": 4, "label": "15% to under 30%"},
                {"value": 5, "label": "30% or more"},
            ],
        },
        {
            "key": "partnership_value",
            "label": "Partnership value",
            "weight": 0.15,
            "kind": "judgement",
            "description": "Panel judgement: can the partnership change this beyond single-agency business? " + _LOCAL,
            "scale": [
                {"value": 1, "label": "none"},
                {"value": 2, "label": "low"},
                {"value": 3, "label": "some"},
                {"value": 4, "label": "good"},
                {"value": 5, "label": "essential"},
            ],
        },
    ],
    "bands": [
        {"min": 3.50, "label": "Recommended priority"},
        {"min": 2.75, "label": "Watching brief / emerging issue"},
        {"min": 0.0, "label": "Business as usual"},
    ],
    "overrides": ["statutory duty", "previous priority still red", "serious case / DHR learning"],
}


def _harm_element(key: str, label: str, weight: float) -> dict[str, Any]:
    return {
        "key": key,
        "label": label,
        "weight": weight,
        "kind": "judgement",
        "role": "harm",
        "description": f"{label} harm, 0 none to 4 critical {_LOCAL}.",
        "scale": [
            {"value": 0, "label": "none"},
            {"value": 1, "label": "low"},
            {"value": 2, "label": "moderate"},
            {"value": 3, "label": "substantial"},
            {"value": 4, "label": "critical"},
        ],
    }


def _position(key: str, label: str) -> dict[str, Any]:
    return {
        "key": key,
        "label": label,
        "weight": 1.0,
        "kind": "judgement",
        "role": "position",
        "description": f"Partnership {label.lower()} to respond: 1 strong to 4 none {_LOCAL}.",
        "scale": [
            {"value": 1, "label": "strong"},
            {"value": 2, "label": "adequate"},
            {"value": 3, "label": "limited"},
            {"value": 4, "label": "none"},
        ],
    }


MORILE: dict[str, Any] = {
    "name": "morile",
    "label": "MoRiLE-structured harm, likelihood and organisational position",
    "description": (
        "Total harm = (physical + psychological + 0.5 financial + community & environment + geographic "
        "scope) x victim vulnerability multiplier; risk = total harm x likelihood; priority = risk x "
        "(1 + 0.25 x (mean of capacity and capability - 1)), so a bigger gap in the partnership's position "
        "gives a higher priority. "
        "The confidence grade is reported beside the score and not multiplied."
    ),
    "provenance": (
        "Structure of the MoRiLE tactical matrix (harm, likelihood, organisational position; used by "
        "Birmingham CSP in 2016). The official MoRiLE scales were not available: scales, the position factor "
        "and the bands are an " + _LOCAL + "."
    ),
    "combine": "morile",
    "position_step": 0.25,
    "criteria": [
        _harm_element("physical", "Physical", 1.0),
        _harm_element("psychological", "Psychological", 1.0),
        _harm_element("financial", "Financial", 0.5),
        _harm_element("community_environment", "Community & environment", 1.0),
        {
            "key": "geographic_scope",
            "label": "Geographic scope",
            "weight": 1.0,
            "kind": "judgement",
            "role": "harm",
            "description": "How far the harm reaches " + _LOCAL + ".",
            "scale": [
                {"value": 1, "label": "street / estate"},
                {"value": 2, "label": "neighbourhood / ward"},
                {"value": 3, "label": "district"},
                {"value": 4, "label": "cross-border"},
            ],
        },
        {
            "key": "vulnerability",
            "label": "Victim vulnerability",
            "weight": 1.0,
            "kind": "judgement",
            "role": "multiplier",
            "description": "Multiplies the harm total " + _LOCAL + ".",
            "scale": [
                {"value": "none", "label": "no particular vulnerability", "score": 1.0},
                {"value": "some", "label": "some vulnerable victims", "score": 1.25},
                {"value": "high", "label": "mostly vulnerable victims", "score": 1.5},
            ],
        },
        {
            "key": "likelihood",
            "label": "Likelihood",
            "weight": 1.0,
            "kind": "evidence",
            "rule": "likelihood_from_volume",
            "role": "likelihood",
            "description": "How often it happens: quintile of the count in the last 12 months among the "
            "candidate issues " + _LOCAL + ".",
            "scale": [
                {"value": 1, "label": "very rare"},
                {"value": 2, "label": "rare"},
                {"value": 3, "label": "occasional"},
                {"value": 4, "label": "regular"},
                {"value": 5, "label": "frequent"},
            ],
        },
        _position("capacity", "Capacity"),
        _position("capability", "Capability"),
        {
            "key": "confidence",
            "label": "Confidence",
            "kind": "judgement",
            "role": "reported",
            "description": "How far the scores rest on data; reported, not multiplied.",
            "scale": [
                {"value": "H", "label": "multiple corroborating sources"},
                {"value": "M", "label": "some data gaps"},
                {"value": "L", "label": "judgement / anecdote"},
            ],
        },
    ],
    "bands": [
        {"min": 100.0, "label": "Recommended priority"},
        {"min": 50.0, "label": "Watching brief / emerging issue"},
        {"min": 0.0, "label": "Business as usual"},
    ],
    "overrides": ["statutory duty", "previous priority still red", "serious case / DHR learning"],
}


GRID4X4: dict[str, Any] = {
    "name": "grid4x4",
    "label": "4x4 impact x likelihood priority grading",
    "description": "Score = impact (1-4) x likelihood (1-4), from 1 to 16.",
    "provenance": (
        "Fife CSP's 4x4 PRIORITY GRADING grid (cell values 1-16). The axis labels, the likelihood rule and "
        "the bands are an " + _LOCAL + "."
    ),
    "combine": "product",
    "criteria": [
        {
            "key": "impact",
            "label": "Impact",
            "weight": 1.0,
            "kind": "judgement",
            "description": "Panel judgement of impact " + _LOCAL + ".",
            "scale": [
                {"value": 1, "label": "Minor"},
                {"value": 2, "label": "Moderate"},
                {"value": 3, "label": "Significant"},
                {"value": 4, "label": "Severe"},
            ],
        },
        {
            "key": "likelihood",
            "label": "Likelihood",
            "weight": 1.0,
            "kind": "evidence",
            "rule": "likelihood_from_volume",
            "description": "Quartile of the count in the last 12 months among the candidate issues " + _LOCAL + ".",
            "scale": [
                {"value": 1, "label": "Rare"},
                {"value": 2, "label": "Possible"},
                {"value": 3, "label": "Likely"},
                {"value": 4, "label": "Almost certain"},
            ],
        },
    ],
    "bands": [
        {"min": 12.0, "label": "Priority (red)"},
        {"min": 8.0, "label": "High (amber)"},
        {"min": 4.0, "label": "Medium (yellow)"},
        {"min": 1.0, "label": "Low (green)"},
    ],
    "overrides": ["statutory duty", "previous priority still red", "serious case / DHR learning"],
}

PRESETS: dict[str, dict[str, Any]] = {"vthpc": VTHPC, "morile": MORILE, "grid4x4": GRID4X4}


def preset_config(name: str = DEFAULT_PRESET) -> dict[str, Any]:
    """Return a copy of a preset's configuration, to print, edit or write out as TOML.

    Raises:
        ConfigError: No preset has that name.
    """
    if name not in PRESETS:
        raise ConfigError(f"matrix: unknown preset {name!r} (presets: {', '.join(PRESETS)})")
    return copy.deepcopy(PRESETS[name])


def load_preset(name: str = DEFAULT_PRESET) -> Matrix:
    """Return a preset matrix by name: ``vthpc`` (default), ``morile`` or ``grid4x4``.

    Raises:
        ConfigError: No preset has that name.
    """
    return load_matrix(preset_config(name))


def matrix_for(config: Any, name: str | None = None) -> Matrix:
    """The matrix a workspace uses: ``name`` (a preset), else cspkit.toml's ``[matrix]`` table (``preset = "..."``
    or a full matrix definition), else the default preset."""
    if name:
        return load_preset(name)
    table = config.extra.get("matrix")
    if isinstance(table, dict):
        if set(table) == {"preset"}:
            return load_preset(str(table["preset"]))
        return load_matrix(table)
    return load_preset()

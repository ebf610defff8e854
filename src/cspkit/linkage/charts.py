"""The trained model's charts: match weight per comparison level, and its m and u probabilities.

Drawn with matplotlib from the stored model (Splink's own charts need altair). They show level labels and
parameters only: no record, token or count of a small group.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

__all__ = ["write_model_charts"]


def _levels(model: dict[str, Any]) -> list[tuple[str, str, float | None, float | None]]:
    out = []
    for comparison in model["comparisons"]:
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level"):
                continue
            out.append(
                (
                    comparison["output_column_name"],
                    level["label_for_charts"],
                    level.get("m_probability"),
                    level.get("u_probability"),
                )
            )
    return out


def _weight(m: float | None, u: float | None) -> float:
    if not m or not u:
        return 0.0
    return math.log2(m / u)


def write_model_charts(model: dict[str, Any], out_dir: Path) -> list[Path]:
    """Write match_weights.png/.svg and m_u_parameters.png/.svg into out_dir; return their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir.mkdir(parents=True, exist_ok=True)
    levels = _levels(model)
    labels = [f"{c}: {label}" for c, label, _, _ in levels]
    prior = model.get("probability_two_random_records_match") or 1e-4
    weights = [_weight(m, u) for _, _, m, u in levels]
    y = list(range(len(levels)))[::-1]
    written: list[Path] = []

    fig, ax = plt.subplots(figsize=(8, 0.32 * len(levels) + 1.6))
    colours = ["#1d70b8" if w >= 0 else "#d4351c" for w in weights]
    ax.barh(y, weights, color=colours)
    ax.set_yticks(y, labels, fontsize=8)
    ax.axvline(0, color="#0b0c0c", linewidth=0.8)
    ax.set_xlabel("match weight, log2(m / u)")
    ax.set_title(
        f"Linkage model: evidence from each comparison level (prior weight {math.log2(prior / (1 - prior)):.1f})",
        fontsize=10,
    )
    fig.tight_layout()
    for suffix in ("png", "svg"):
        path = out_dir / f"match_weights.{suffix}"
        fig.savefig(path, dpi=150)
        written.append(path)
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(10, 0.32 * len(levels) + 1.6), sharey=True)
    for ax, values, title in (
        (axes[0], [m or 0.0 for _, _, m, _ in levels], "m: share among true matches"),
        (axes[1], [u or 0.0 for _, _, _, u in levels], "u: share among non-matches"),
    ):
        ax.barh(y, values, color="#505a5f")
        ax.set_xlim(0, 1)
        ax.set_title(title, fontsize=10)
    axes[0].set_yticks(y, labels, fontsize=8)
    fig.tight_layout()
    for suffix in ("png", "svg"):
        path = out_dir / f"m_u_parameters.{suffix}"
        fig.savefig(path, dpi=150)
        written.append(path)
    plt.close(fig)
    return written

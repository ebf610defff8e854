"""Synthetic partner data for a Community Safety Partnership, with planted, documented signals and ground truth.

No person-level partner data is public, so cspkit ships a deterministic generator: ``generate(out_dir)`` writes
the partner files, ``manifest.json``, ``truth.json`` and a ``README.md`` describing the planted signals.
"""

from cspkit.synth.generator import COLUMNS, MANIFEST, SynthSummary, generate

__all__ = ["COLUMNS", "MANIFEST", "SynthSummary", "generate"]

"""The pages' analysis: computed once per workspace state and kept where full garbage collections do not walk it."""

from __future__ import annotations

import gc

from cspkit.web.analysis import AnalysisCache


def test_the_analysis_is_frozen_out_of_full_collections(shared_cache: AnalysisCache) -> None:
    """A full collection walking ~220,000 long-lived objects stopped every request for 130-460 ms (the findings
    page's p95 under load); frozen, they are not walked. Unfrozen, the list would be among the tracked objects."""
    analysis = shared_cache.get()
    tracked = {id(o) for o in gc.get_objects()}
    assert gc.get_freeze_count() > len(analysis.fs.findings)
    assert id(analysis.fs.findings) not in tracked and id(analysis.by_id) not in tracked
    assert analysis is shared_cache.get()  # one computation per state: the pages share it

"""Findings and priorities for the pages, computed once per workspace state by the findings engine and scoring.

The web app never computes a number of its own: it asks :func:`cspkit.findings.engine.compute_findings` and
:func:`cspkit.priorities.run.prioritise`, and keeps the result until the workspace changes (the warehouse, the
settings or the judgements file), so pages are served from memory. Charts and maps are drawn by the report's own
figure code and cached the same way.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cspkit.findings.engine import FindingSet, compute_findings
from cspkit.findings.model import Finding
from cspkit.priorities.run import PriorityResult, prioritise
from cspkit.topics import TOPIC_BUILDERS
from cspkit.workspace import Workspace

__all__ = ["Analysis", "AnalysisCache", "state_key"]

StateKey = tuple[tuple[str, int, int], ...]


def state_key(ws: Workspace) -> StateKey:
    """What the pages depend on: the warehouse (with its write-ahead log), the settings, then the judgements.

    The judgements file comes last: when only it changes, the findings stand and only the scoring is re-run.
    """
    paths = [
        ws.warehouse_path,
        Path(str(ws.warehouse_path) + ".wal"),
        ws.config_path,
        ws.judgements_path,
    ]
    key = []
    for p in paths:
        try:
            st = p.stat()
            key.append((p.name, st.st_mtime_ns, st.st_size))
        except FileNotFoundError:
            key.append((p.name, 0, 0))
    return tuple(key)


@dataclass
class Analysis:
    """One computation of the findings and the priorities, with page-ready indexes over them."""

    key: StateKey
    fs: FindingSet
    priorities: PriorityResult
    seconds: float
    by_id: dict[str, Finding] = field(default_factory=dict)
    wards: list[tuple[str, str]] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    figures: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.by_id = {f.id: f for f in self.fs.findings}
        wards = {f.area: f.area_name for f in self.fs.findings if ".ward." in f.id}
        self.wards = sorted(wards.items(), key=lambda kv: kv[1])
        self.topics = sorted({f.topic for f in self.fs.findings})

    def ward_prefixes(self, topic: str | None = None) -> list[str]:
        """Finding-id prefixes that have ward findings (``crime.all``, ``asb`` ...), for the ward maps."""
        seen: list[str] = []
        for f in self.fs.findings:
            if ".ward." in f.id and (topic is None or f.topic == topic):
                prefix = f.id.split(".ward.")[0]
                if prefix not in seen:
                    seen.append(prefix)
        return seen


class AnalysisCache:
    """The current :class:`Analysis`, recomputed when :func:`state_key` changes.

    Args:
        ws: The workspace.
        warehouse_lock: Held while the warehouse is read, so an upload or a build never overlaps a computation.
    """

    def __init__(self, ws: Workspace, warehouse_lock: threading.Lock) -> None:
        self.ws = ws
        self.warehouse_lock = warehouse_lock
        self._current: Analysis | None = None
        self._lock = threading.Lock()
        self._figure_lock = threading.Lock()  # matplotlib figures are drawn one at a time

    def get(self) -> Analysis:
        key = state_key(self.ws)
        current = self._current
        if current is not None and current.key == key:
            return current
        with self._lock:  # one computation at a time; the others wait for it and share it
            current = self._current
            key = state_key(self.ws)
            if current is not None and current.key == key:
                return current
            t = time.perf_counter()
            with self.warehouse_lock, self.ws.connect(read_only=True) as con:
                key = state_key(self.ws)
                if current is not None and current.key[:-1] == key[:-1]:
                    fs = current.fs  # only the judgements changed: the findings stand, the scoring is re-run
                else:
                    fs = compute_findings(con, self.ws.config(), builders=TOPIC_BUILDERS)
                priorities = prioritise(con, self.ws, fs)
            self._current = Analysis(key, fs, priorities, time.perf_counter() - t)
            _settle_heap()
            return self._current

    def ready(self) -> bool:
        current = self._current
        return current is not None and current.key == state_key(self.ws)

    def figure(self, analysis: Analysis, name: str, draw: Callable[[], str]) -> str:
        """A drawn figure (SVG text), cached with the analysis it belongs to."""
        found = analysis.figures.get(name)
        if found is not None:
            return found
        with self._figure_lock:
            found = analysis.figures.get(name)
            if found is None:
                found = draw()
                analysis.figures[name] = found
        return found


def _settle_heap() -> None:
    """Move what the server holds for good (modules, the findings, the priorities) out of the collector's sight.

    Profiling the findings page under load showed its slowest requests were not template rendering (about 1 ms)
    but full garbage collections: with some 220,000 long-lived objects tracked, each full pass stopped every
    request for 130-250 ms (more on a busy machine). Frozen objects are skipped by every later pass, so a full
    pass only walks what requests allocate. The previous analysis is unfrozen first so that it can be collected.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()


def finding_chart_svg(finding: Finding) -> str:
    from cspkit.report.figures import finding_chart

    return finding_chart(finding).svg


def ward_map_svg(analysis: Analysis, prefix: str, suppress_below: int | None = None) -> str | None:
    """The ward map of a finding family, drawn by the report's map code from the findings' own rates.

    Wards with a significant rise the wrong way are outlined (as in the assessment).
    """
    from cspkit.errors import AnalysisError
    from cspkit.findings.boundaries import load_boundaries
    from cspkit.report.maps import choropleth_svg

    findings = [f for f in analysis.fs.findings if f.id.startswith(f"{prefix}.ward.") and f.id.endswith(".count")]
    rates = {f.area: f.rate for f in findings if f.rate is not None}
    if not rates:
        return None
    try:
        bounds = load_boundaries(analysis.fs.area.codes, "ward")
    except AnalysisError:
        return None
    rising = [
        f.area
        for f in findings
        if f.change is not None and f.change.significant and f.change.direction == "up" and f.good_direction == "down"
    ]
    area_level = analysis.by_id.get(f"{prefix}.count")
    title = area_level.title if area_level else prefix
    return choropleth_svg(rates, bounds, f"{title}: rate by ward", "Per 1,000 residents", hotspots=rising)


def hotspot_map_svg(analysis: Analysis, finding: Finding) -> str | None:
    """The LSOA map of a hotspot finding (its counts by LSOA, hot spots outlined), as in the assessment."""
    from cspkit.errors import AnalysisError
    from cspkit.findings.boundaries import load_boundaries
    from cspkit.report.maps import choropleth_svg

    counts: dict[str, Any] = finding.extra.get("lsoa_counts") or {}
    if not counts:
        return None
    try:
        bounds = load_boundaries(analysis.fs.area.codes, "lsoa")
    except AnalysisError:
        return None
    gi = finding.extra.get("gi_star") or {}
    hot = [a["code"] for a in gi.get("areas", []) if a.get("classification") == "hot"] if gi else []
    if not hot:
        hot = [p["lsoa"] for p in finding.extra.get("persistent", [])]
    return choropleth_svg(counts, bounds, finding.title, "Incidents in the period", hotspots=hot)

"""``cspkit link``: link every person record in the warehouse and store a person id per record.

Stability: person ids keep their value across runs. Each new cluster takes the id most of its records had
before (bigger clusters choose first); clusters of only new records get new ids. A new quarter's files therefore
link to existing people without renumbering them, and without retraining: the trained model is stored in the
warehouse and reused unless ``retrain`` is asked for. A changed key (the features no longer match the model) or
a changed threshold (the clusters mean something else) starts a new linkage: ids are renumbered and the summary
says so.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from cspkit.errors import CspkitError
from cspkit.linkage.context import merge_perpetrators_of_victims
from cspkit.linkage.engine import LinkResult, run_splink
from cspkit.linkage.model import DEFAULT_THRESHOLD, same_structure
from cspkit.linkage.records import agency_label, records_sql
from cspkit.privacy.keys import key_fingerprint

__all__ = ["LINK_TABLES", "LinkSummary", "agency_label", "link_people", "people_by_combination"]

LINK_TABLES = ("link_people", "link_runs")

_DDL = (
    """CREATE TABLE IF NOT EXISTS link_people (
        unique_id VARCHAR PRIMARY KEY,
        source VARCHAR,
        role VARCHAR,
        agency VARCHAR,
        record_key VARCHAR,
        ref_key VARCHAR,
        event_date DATE,
        person_id BIGINT,
        linkage_id BIGINT
    )""",
    """CREATE TABLE IF NOT EXISTS link_runs (
        run_id BIGINT,
        linkage_id BIGINT,
        run_at TIMESTAMP,
        engine VARCHAR,
        threshold DOUBLE,
        trained BOOLEAN,
        records BIGINT,
        people BIGINT,
        pairs BIGINT,
        new_linkage_reason VARCHAR,
        seconds DOUBLE
    )""",
)


class LinkageError(CspkitError):
    """Linkage cannot run (nothing to link, or a bad argument)."""


@dataclass
class LinkSummary:
    """What ``cspkit link`` reports."""

    linkage_id: int
    threshold: float
    engine: str
    records: int
    people: int
    pairs: int
    trained: bool
    new_linkage: str | None  # why this is a new linkage (first run, key changed, threshold changed), else None
    kept_ids: int  # people whose id carried over from the previous run
    records_by_role: dict[str, int] = field(default_factory=dict)
    people_by_combination: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    diagnostics: dict[str, Any] = field(default_factory=dict)
    charts: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "linkage_id": self.linkage_id,
            "threshold": self.threshold,
            "engine": self.engine,
            "records": self.records,
            "people": self.people,
            "pairs": self.pairs,
            "trained": self.trained,
            "new_linkage": self.new_linkage,
            "kept_ids": self.kept_ids,
            "records_by_role": self.records_by_role,
            "people_by_combination": self.people_by_combination,
            "seconds": {k: round(v, 2) for k, v in self.seconds.items()},
            "diagnostics": self.diagnostics,
            "charts": self.charts,
        }


def _meta(con: duckdb.DuckDBPyConnection, key: str) -> str | None:
    rows = con.execute("SELECT value FROM meta WHERE key = ?", [key]).fetchall()
    return rows[0][0] if rows else None


def _set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    con.execute("INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value", [key, value])


def link_people(
    con: duckdb.DuckDBPyConnection,
    key: bytes,
    *,
    threshold: float | None = None,
    engine: str = "duckdb",
    retrain: bool = False,
    charts_dir: Path | None = None,
    max_pairs: float = 2e6,
    spark: Any = None,
) -> LinkSummary:
    """Link all person records of the warehouse and store ``link_people`` (see module docstring).

    Raises:
        LinkageError: no person records are loaded, or the threshold is not a probability.
    """
    for ddl in _DDL:
        con.execute(ddl)
    stored_threshold = _meta(con, "link_threshold")
    if threshold is None:
        threshold = float(stored_threshold) if stored_threshold else DEFAULT_THRESHOLD
    if not 0.0 < threshold < 1.0:
        raise LinkageError(f"The threshold must be a match probability between 0 and 1, got {threshold}.")
    if engine not in ("duckdb", "spark"):
        raise LinkageError(f"Unknown engine {engine!r}: use duckdb or spark.")
    sql = records_sql(con, key)
    records = con.sql(sql).to_arrow_table() if sql else pa.table({})
    if records.num_rows < 2:
        raise LinkageError(
            "Nothing to link: load partner files with names, dates of birth or postcodes first "
            "(asb_incidents, domestic_abuse, marac_referrals, offenders)."
        )

    fingerprint = key_fingerprint(key)
    stored_fingerprint = _meta(con, "link_key_fingerprint")
    model_json = _meta(con, "link_model")
    reason: str | None = None
    if model_json is None or stored_fingerprint is None:
        reason = "first linkage in this workspace"
    elif stored_fingerprint != fingerprint:
        reason = "the key changed: earlier features do not match, so the model is retrained and ids renumbered"
    elif stored_threshold is not None and float(stored_threshold) != threshold:
        reason = f"the threshold changed from {float(stored_threshold):g} to {threshold:g}: ids renumbered"
    reuse = model_json is not None and not retrain and stored_fingerprint == fingerprint
    model = json.loads(model_json) if reuse and model_json else None
    if model is not None and not same_structure(model):
        model = None  # stored by an earlier cspkit with other comparison levels: retrained (ids are kept)

    result = run_splink(records, threshold=threshold, model=model, engine=engine, max_pairs=max_pairs, spark=spark)

    previous: dict[str, int] = {}
    if reason is None:
        previous = dict(con.execute("SELECT unique_id, person_id FROM link_people").fetchall())
    next_id = int(_meta(con, "link_next_person_id") or "1") if reason is None else 1
    # One victim's perpetrators with one name and nothing telling them apart are one person (linkage/context.py).
    clusters, merges = merge_perpetrators_of_victims(records, result.clusters)
    result.diagnostics["perpetrator_clusters_merged_within_victims"] = merges
    ids, next_id, kept = _assign_ids(records, clusters, previous, next_id)
    linkage_id = int(_meta(con, "link_linkage_id") or "0") + (1 if reason is not None else 0)

    people_table = pa.table(
        {
            "unique_id": records["unique_id"],
            "source": records["source"],
            "role": records["role"],
            "agency": records["agency"],
            "record_key": records["record_key"],
            "ref_key": records["ref_key"],
            "event_date": records["event_date"],
            "person_id": pa.array([ids[u] for u in records["unique_id"].to_pylist()], pa.int64()),
        }
    )
    run_id = int(con.execute("SELECT coalesce(max(run_id), 0) + 1 FROM link_runs").fetchall()[0][0])
    people_count = len(set(ids.values()))
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM link_people")
        con.register("_link_people_arrow", people_table)
        con.execute(f"INSERT INTO link_people SELECT *, {linkage_id} FROM _link_people_arrow")
        con.unregister("_link_people_arrow")
        con.execute(
            "INSERT INTO link_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                run_id,
                linkage_id,
                datetime.now(UTC).replace(tzinfo=None),
                engine,
                threshold,
                result.trained,
                records.num_rows,
                people_count,
                result.pairs,
                reason,
                result.seconds.get("total", 0.0),
            ],
        )
        _set_meta(con, "link_model", json.dumps(result.model))
        _set_meta(con, "link_key_fingerprint", fingerprint)
        _set_meta(con, "link_threshold", repr(threshold))
        _set_meta(con, "link_next_person_id", str(next_id))
        _set_meta(con, "link_linkage_id", str(linkage_id))
        con.execute("COMMIT")
    except Exception:
        con.execute("ROLLBACK")
        raise

    charts: list[str] = []
    if charts_dir is not None:
        from cspkit.linkage.charts import write_model_charts

        charts = [str(p) for p in write_model_charts(result.model, charts_dir)]
    by_role = Counter(
        f"{s}/{r}" for s, r in zip(records["source"].to_pylist(), records["role"].to_pylist(), strict=True)
    )
    return LinkSummary(
        linkage_id=linkage_id,
        threshold=threshold,
        engine=engine,
        records=records.num_rows,
        people=people_count,
        pairs=result.pairs,
        trained=result.trained,
        new_linkage=reason,
        kept_ids=kept,
        records_by_role=dict(sorted(by_role.items())),
        people_by_combination=people_by_combination(con),
        seconds=result.seconds,
        diagnostics=_diagnostics(result),
        charts=charts,
    )


def _diagnostics(result: LinkResult) -> dict[str, Any]:
    out = dict(result.diagnostics)
    levels = {}
    for comparison in result.model["comparisons"]:
        levels[comparison["output_column_name"]] = [
            {
                "level": level["label_for_charts"],
                "m": level.get("m_probability"),
                "u": level.get("u_probability"),
            }
            for level in comparison["comparison_levels"]
            if not level.get("is_null_level")
        ]
    out["levels"] = levels
    return out


def _assign_ids(
    records: pa.Table, clusters: pa.Table, previous: dict[str, int], next_id: int
) -> tuple[dict[str, int], int, int]:
    """Person id per record: clusters keep their previous id where they can (see module docstring)."""
    members: dict[str, list[str]] = defaultdict(list)
    for uid, cid in zip(clusters["unique_id"].to_pylist(), clusters["cluster_id"].to_pylist(), strict=True):
        members[str(cid)].append(str(uid))
    seen = {u for ms in members.values() for u in ms}
    for uid in records["unique_id"].to_pylist():  # records Splink returned no cluster for stand alone
        if uid not in seen:
            members[uid].append(uid)
    dates = dict(zip(records["unique_id"].to_pylist(), records["event_date"].to_pylist(), strict=True))
    order = sorted(
        members.values(),
        key=lambda ms: (-len(ms), min(str(dates.get(u)) for u in ms), min(ms)),
    )
    taken: set[int] = set()
    ids: dict[str, int] = {}
    kept = 0
    fresh: list[list[str]] = []
    for ms in order:
        votes = Counter(previous[u] for u in ms if u in previous)
        choice = next(
            (pid for pid, _ in sorted(votes.items(), key=lambda kv: (-kv[1], kv[0])) if pid not in taken), None
        )
        if choice is None:
            fresh.append(ms)
            continue
        taken.add(choice)
        kept += 1
        for u in ms:
            ids[u] = choice
    # New people are numbered in order of their first record, so a fresh linkage numbers people by time.
    for ms in sorted(fresh, key=lambda ms: (min(str(dates.get(u)) for u in ms), min(ms))):
        for u in ms:
            ids[u] = next_id
        next_id += 1
    return ids, next_id, kept


def people_by_combination(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """People by the combination of services that hold a record of them (UpSet-style counts)."""
    rows = con.execute("SELECT person_id, source, agency FROM link_people").fetchall()
    services: dict[int, set[str]] = defaultdict(set)
    for person, source, agency in rows:
        services[person].add(agency_label(source, agency))
    counts = Counter(" + ".join(sorted(s)) for s in services.values())
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

"""Training, prediction and clustering with Splink, on DuckDB (in-process) or Spark.

Splink works in a private in-memory DuckDB database (or a Spark session), never in the warehouse file: its many
intermediate tables (``__splink__...``) hold pseudonymised values only, but they would bloat the warehouse and
outlive the run. The caller passes the person records as an Arrow table and stores what comes back.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

from cspkit.linkage.model import DETERMINISTIC_RULES, EM_BLOCKING_RULES, settings_dict

__all__ = ["LinkResult", "run_splink"]

_TF_COLUMNS = ("forename_std", "surname", "postcode")


@dataclass
class LinkResult:
    """What one Splink run gives back."""

    clusters: pa.Table  # unique_id, cluster_id
    pairs: int  # predicted pairs at or above the threshold
    model: dict[str, Any]  # the trained settings (with m and u)
    trained: bool
    seconds: dict[str, float] = field(default_factory=dict)
    diagnostics: dict[str, Any] = field(default_factory=dict)


def _quiet() -> None:
    # Splink logs progress at INFO and warns about untrained levels on small data; the CLI reports its own summary.
    for name in ("splink", "py4j"):
        logging.getLogger(name).setLevel(logging.ERROR)


def run_splink(
    records: pa.Table,
    *,
    threshold: float,
    model: dict[str, Any] | None = None,
    engine: str = "duckdb",
    max_pairs: float = 2e6,
    seed: int = 1,
    spark: Any = None,
) -> LinkResult:
    """Train (unless a model is given), predict and cluster the person records.

    Args:
        records: one row per person record (see :mod:`cspkit.linkage.records`).
        threshold: match probability at or above which two records are the same person.
        model: a trained model (settings dict) to reuse without retraining.
        engine: ``duckdb`` or ``spark``.
        max_pairs: pairs sampled at random to estimate u.
        seed: seed of that sample (reproducible u).
        spark: a SparkSession for the Spark engine (made in local mode when None).
    """
    from splink import Linker

    _quiet()
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    con: duckdb.DuckDBPyConnection | None = None
    if engine == "spark":
        from cspkit.linkage.spark import spark_api

        db_api, sdf_input = spark_api(records, spark)
    else:
        from splink import DuckDBAPI

        con = duckdb.connect()  # private, in memory: Splink's tables die with it
        spill = tempfile.mkdtemp(prefix="cspkit-link-")  # keyed features only; removed below
        con.execute("SET preserve_insertion_order = false")
        con.execute(f"SET memory_limit = '{os.environ.get('CSPKIT_LINK_MEMORY', '4GB')}'")
        con.execute(f"SET temp_directory = '{spill}'")
        con.register("_records_arrow", records)
        con.execute("CREATE TABLE person_records AS SELECT * FROM _records_arrow")
        con.unregister("_records_arrow")
        db_api = DuckDBAPI(connection=con)
        sdf_input = db_api.register("person_records")
    try:
        dialect = "spark" if engine == "spark" else "duckdb"
        settings = _for_dialect(model, dialect) if model is not None else settings_dict(dialect)
        linker = Linker(sdf_input, settings, log_level=logging.ERROR)
        diagnostics: dict[str, Any] = {}
        if model is None:
            t = time.perf_counter()
            linker.training.estimate_probability_two_random_records_match(list(DETERMINISTIC_RULES), recall=0.8)
            linker.training.estimate_u_using_random_sampling(max_pairs=max_pairs, seed=seed)
            seconds["u"] = time.perf_counter() - t
            t = time.perf_counter()
            sessions = []
            for rule in EM_BLOCKING_RULES:
                session = linker.training.estimate_parameters_using_expectation_maximisation(rule)
                sessions.append({"blocking_rule": rule, "iterations": _iterations(session)})
            seconds["em"] = time.perf_counter() - t
            diagnostics["em_sessions"] = sessions
        t = time.perf_counter()
        for column in _TF_COLUMNS:
            linker.table_management.compute_tf_table(column)
        predictions = linker.inference.predict(threshold_match_probability=min(threshold, 0.5))
        seconds["predict"] = time.perf_counter() - t
        t = time.perf_counter()
        clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=threshold
        )
        clusters = _arrow(clustered, ["unique_id", "cluster_id"])
        pair_count = _count(predictions, threshold)
        seconds["cluster"] = time.perf_counter() - t
        trained = linker.misc.save_model_to_json()
        diagnostics["probability_two_random_records_match"] = trained["probability_two_random_records_match"]
        diagnostics["scored_pairs"] = _count(predictions, 0.0)
    finally:
        if con is not None:
            con.close()
            shutil.rmtree(spill, ignore_errors=True)
    seconds["total"] = time.perf_counter() - start
    return LinkResult(clusters, pair_count, trained, model is None, seconds, diagnostics)


def _for_dialect(model: dict[str, Any], dialect: str) -> dict[str, Any]:
    """A stored model with its SQL dialect set (the comparisons are written to run on both backends)."""
    fresh = settings_dict(dialect)
    out = dict(model)
    out["sql_dialect"] = dialect
    out["blocking_rules_to_generate_predictions"] = fresh["blocking_rules_to_generate_predictions"]
    comparisons = []
    for stored, template in zip(model["comparisons"], fresh["comparisons"], strict=True):
        levels = [
            {**level, "sql_condition": fresh_level["sql_condition"]}
            for level, fresh_level in zip(stored["comparison_levels"], template["comparison_levels"], strict=True)
        ]
        comparisons.append({**stored, "comparison_levels": levels})
    out["comparisons"] = comparisons
    out.pop("linker_uid", None)
    return out


def _iterations(session: Any) -> int | None:
    history = getattr(session, "_iteration_history", None)
    return len(history) if history is not None else None


def _arrow(sdf: Any, columns: list[str]) -> pa.Table:
    table = sdf.as_pyarrow_table() if hasattr(sdf, "as_pyarrow_table") else pa.Table.from_pylist(sdf.as_record_dict())
    return table.select(columns)


def _count(predictions: Any, threshold: float) -> int:
    table = predictions.as_pyarrow_table().select(["match_probability"])
    import pyarrow.compute as pc

    return int(pc.sum(pc.greater_equal(table["match_probability"], threshold)).as_py() or 0)

"""The same model on Splink's Spark backend (local mode) gives the same people as on DuckDB.

One small case (Spark's start-up dominates): 300 person records of the linked synthetic partnership, scored with
the stored model on both backends.
"""

from __future__ import annotations

import json
from collections import defaultdict

import pyarrow as pa
import pytest

from cspkit.linkage.engine import run_splink
from cspkit.linkage.records import records_sql
from cspkit.workspace import Workspace

pytest.importorskip("pyspark", reason="the Spark engine is the optional extra cspkit[spark]")


def _people(clusters: pa.Table) -> set[frozenset[str]]:
    members: dict[str, set[str]] = defaultdict(set)
    for uid, cid in zip(clusters["unique_id"].to_pylist(), clusters["cluster_id"].to_pylist(), strict=True):
        members[str(cid)].add(str(uid))
    return {frozenset(m) for m in members.values()}


def test_spark_gives_the_same_people_as_duckdb(linked_workspace: Workspace) -> None:
    con = linked_workspace.connect(read_only=True)
    try:
        # Victims of a few hundred DA incidents, with every other record of the same people: real clusters.
        people = records_sql(con, linked_workspace.key())
        records = con.sql(
            f"WITH r AS ({people}), p AS (SELECT unique_id, person_id FROM link_people) "
            "SELECT r.* FROM r JOIN p USING (unique_id) WHERE p.person_id IN "
            "(SELECT person_id FROM link_people WHERE source = 'marac_referrals' ORDER BY person_id LIMIT 120) "
            "ORDER BY unique_id"
        ).to_arrow_table()
        model = json.loads(con.execute("SELECT value FROM meta WHERE key = 'link_model'").fetchall()[0][0])
    finally:
        con.close()
    assert 150 <= records.num_rows <= 1000
    duck = run_splink(records, threshold=0.95, model=model)
    spark = run_splink(records, threshold=0.95, model=model, engine="spark")
    assert not duck.trained and not spark.trained
    assert _people(spark.clusters) == _people(duck.clusters)
    assert spark.pairs == duck.pairs > 0
    assert len(_people(duck.clusters)) < records.num_rows  # some records really were joined

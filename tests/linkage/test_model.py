"""The linkage model on planted records: twins stay two people, a typo or a nickname does not split one."""

from __future__ import annotations

import json

import duckdb
import pyarrow as pa

from cspkit.linkage.engine import run_splink
from cspkit.linkage.model import TWIN_M_PROBABILITY, same_structure, settings_dict
from cspkit.linkage.records import FEATURE_COLUMNS
from cspkit.privacy.features import linkage_features_sql
from cspkit.privacy.pseudonymise import identity_tokens_sql
from cspkit.workspace import Workspace

FORENAMES = ("Amelia", "Isla", "Harry", "Noah", "Grace", "Leo", "Freya", "Arthur", "Ruby", "Isaac")
SURNAMES = ("Ashby", "Brook", "Carter", "Dunmore", "Ellwood", "Fenwick", "Garside", "Holt", "Ingram", "Jessop")


def _records(key: bytes, rows: list[tuple[str, str, str, str]]) -> pa.Table:
    """Person records as the linkage reads them, from clear (id, name, dob, postcode) through the gate's SQL."""
    con = duckdb.connect()
    con.execute("CREATE TABLE clear (unique_id VARCHAR, name VARCHAR, dob VARCHAR, postcode VARCHAR)")
    con.executemany("INSERT INTO clear VALUES (?, ?, ?, ?)", rows)
    exprs = identity_tokens_sql(key, "p", name_sql="name", dob_sql="dob", postcode_sql="postcode")
    exprs += linkage_features_sql(key, "p", name_sql="name", dob_sql="dob", postcode_sql="postcode")
    stored = ", ".join(f"{e} AS {c}" for c, e in exprs)
    features = ", ".join(f"p_{column} AS {name}" for name, column in FEATURE_COLUMNS.items())
    return con.sql(
        f"SELECT unique_id, 'test' AS source, 'victim' AS role, 'police' AS agency, unique_id AS record_key, "
        f"NULL::VARCHAR AS ref_key, NULL::VARCHAR AS ref_scope, DATE '2023-01-01' AS event_date, {features} "
        f"FROM (SELECT unique_id, {stored} FROM clear)"
    ).to_arrow_table()


def test_twins_stay_apart_while_typos_and_nicknames_link(linked_workspace: Workspace) -> None:
    con = linked_workspace.connect()
    try:
        model = json.loads(con.execute("SELECT value FROM meta WHERE key = 'link_model'").fetchall()[0][0])
    finally:
        con.close()
    assert same_structure(model)
    twin_levels = [
        level
        for c in model["comparisons"]
        for level in c["comparison_levels"]
        if level["label_for_charts"].endswith("(twins)")
    ]
    assert [(lv["m_probability"], lv["fix_m_probability"]) for lv in twin_levels] == [(TWIN_M_PROBABILITY, True)]
    # 100 other people (distinct names, dates and postcodes), so term frequencies are not those of six records.
    rows = [
        (f"x{i}", f"{FORENAMES[i % 10]} {SURNAMES[i // 10]}", f"19{50 + i % 40}-0{1 + i % 9}-1{i % 10}", f"MK{i} 2AB")
        for i in range(100)
    ]
    rows += [
        ("oliver1", "Oliver Hartwell", "1990-03-14", "LU7 1AB"),
        ("oliver2", "HARTWELL, Oliver", "1990-03-14", "LU7 1AB"),
        ("oliver_typo", "Olvier Hartwell", "1990-03-14", "LU7 1AB"),  # bigram Dice 0.57: the same man
        ("george_twin", "George Hartwell", "1990-03-14", "LU7 1AB"),  # his twin: nothing in the forename agrees
        ("robert", "Robert Kingsley", "1985-07-02", "LU7 3QD"),
        ("bob", "Bob Kingsley", "1985-07-02", "LU7 3QD"),  # nickname table: robert
    ]
    result = run_splink(_records(linked_workspace.key(), rows), threshold=0.95, model=model)
    cluster = dict(
        zip(result.clusters["unique_id"].to_pylist(), result.clusters["cluster_id"].to_pylist(), strict=True)
    )
    assert cluster["oliver1"] == cluster["oliver2"] == cluster["oliver_typo"]
    assert cluster["george_twin"] != cluster["oliver1"]
    assert cluster["robert"] == cluster["bob"]
    assert len(set(cluster.values())) == 100 + 3


def test_a_model_stored_with_other_levels_is_not_reused() -> None:
    stored = settings_dict()
    assert same_structure(stored)
    stored["comparisons"][0]["comparison_levels"] = [
        lv for lv in stored["comparisons"][0]["comparison_levels"] if not lv["label_for_charts"].endswith("(twins)")
    ]
    assert not same_structure(stored)

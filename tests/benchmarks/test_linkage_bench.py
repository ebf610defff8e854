"""The 1M-record linkage benchmark's generator and scorer (benchmarks/linkage_bench.py), on small inputs.

The benchmark's verdicts (precision, recall, F1 against the generated truth) are only as good as these two: the
pairwise scorer is checked on a hand-counted example, and the generator on the properties its docstring claims.
"""

from __future__ import annotations

from collections import Counter
from types import ModuleType

import duckdb
import pytest

from tests.benchmarks.conftest import load_benchmark


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return load_benchmark("linkage_bench")


def test_pairwise_scores_count_pairs_of_records(bench: ModuleType) -> None:
    # truth A A A B B C, clusters 1 1 2 3 3 3:
    # true pairs 3 (A) + 1 (B) = 4; predicted pairs 1 (cluster 1) + 3 (cluster 3) = 4; right: A-A in 1, B-B in 3 = 2
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE scored AS SELECT * FROM "
        "(VALUES ('A', 1), ('A', 1), ('A', 2), ('B', 3), ('B', 3), ('C', 3)) v(person, c)"
    )
    assert bench._pairwise(con, "scored", "c") == {
        "precision": 0.5,
        "recall": 0.5,
        "f1": 0.5,
        "true_pairs": 4,
        "predicted_pairs": 4,
    }
    assert bench._pairwise(con, "scored", "person")["f1"] == 1.0


def test_generated_records_are_noisy_copies_of_fewer_people(bench: ModuleType) -> None:
    records = bench.generate_records(20_000, seed=3)
    assert records == bench.generate_records(20_000, seed=3)  # a seed gives the same records
    n = len(records["unique_id"])
    people = Counter(records["person"])
    assert n == 20_000 and len(set(records["unique_id"])) == n
    assert len(people) == int(n / 1.7)  # every person at least once, 1.7 records each on average
    by_person: dict[int, list[int]] = {}
    for i, person in enumerate(records["person"]):
        by_person.setdefault(person, []).append(i)
    repeated = [rows for rows in by_person.values() if len(rows) > 1]
    differ = {
        field: sum(len({records[field][i] for i in rows}) > 1 for rows in repeated) / len(repeated)
        for field in ("name", "dob", "postcode")
    }
    # the same person is not always written the same way (typos, nicknames, surname order, dates, moves, spaces),
    # but mostly is
    assert all(0.02 < share < 0.6 for share in differ.values()), differ
    assert 0.03 < records["dob"].count("") / n < 0.07 and 0.03 < records["postcode"].count("") / n < 0.07
    # twins: different people with the same surname, birth date and postcode exist
    seen: dict[tuple[str, str, str], set[int]] = {}
    for name, dob, postcode, person in zip(
        records["name"], records["dob"], records["postcode"], records["person"], strict=True
    ):
        surname = name.split(",")[0].title() if "," in name else name.rsplit(" ", 1)[-1]
        if dob and postcode:
            seen.setdefault((surname, dob, postcode), set()).add(person)
    assert sum(len(p) > 1 for p in seen.values()) > 20

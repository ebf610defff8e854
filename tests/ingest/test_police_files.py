"""Ingesting the real data.police.uk Bedfordshire files: counts equal an independent count of the CSV rows."""

from __future__ import annotations

import csv
import io
import zipfile
from collections import Counter

from cspkit.ingest import ingest_paths
from cspkit.workspace import Workspace
from tests.conftest import POLICE_ZIP


def _independent_counts() -> Counter[tuple[str, str]]:
    counts: Counter[tuple[str, str]] = Counter()
    with zipfile.ZipFile(POLICE_ZIP) as zf:
        for name in zf.namelist():
            if name.endswith("-street.csv"):
                text = zf.read(name).decode("utf-8")
                for row in csv.DictReader(io.StringIO(text)):
                    counts[(row["Month"], row["Crime type"])] += 1
    return counts


def test_counts_per_month_and_crime_type_equal_the_csv_rows(police_workspace: Workspace) -> None:
    con = police_workspace.connect(read_only=True)
    rows = con.execute("SELECT month, crime_type, count(*) FROM police_street GROUP BY ALL").fetchall()
    con.close()
    loaded = Counter({(m, t): n for m, t, n in rows})
    expected = _independent_counts()
    assert sum(expected.values()) == 120_588  # PROVENANCE.md: 24 files, 120,588 data rows
    assert loaded == expected


def test_ingest_log_and_status(police_workspace: Workspace) -> None:
    from cspkit.warehouse.status import status

    con = police_workspace.connect(read_only=True)
    entries = {(e.source, e.agency): e for e in status(con)}
    con.close()
    street = entries[("police_street", "bedfordshire")]
    assert (street.files, street.rows, street.rows_rejected) == (24, 120_588, 0)
    assert (street.first_month, street.last_month, street.gaps) == ("2021-05", "2023-04", [])
    outcomes = entries[("police_outcomes", "bedfordshire")]
    assert (outcomes.files, outcomes.rows, outcomes.months) == (4, 15_743, 4)


def test_blank_locations_and_asb_rows_are_kept(police_workspace: Workspace) -> None:
    con = police_workspace.connect(read_only=True)
    may = con.execute(
        "SELECT count(*) FILTER (WHERE lsoa_code IS NULL), count(*) FILTER (WHERE crime_id IS NULL) "
        "FROM police_street WHERE month = '2021-05'"
    ).fetchall()[0]
    con.close()
    assert may[0] == 75  # PROVENANCE.md: 75 rows with no LSOA in 2021-05
    # every ASB row has a blank Crime ID
    assert may[1] > 0


def test_loading_the_same_archive_again_changes_nothing(workspace: Workspace) -> None:
    con = workspace.connect()
    try:
        first = ingest_paths(con, [POLICE_ZIP], key=workspace.key())
        before = con.execute("SELECT count(*) FROM police_street").fetchall()[0][0]
        logs = con.execute("SELECT count(*) FROM ingest_log").fetchall()[0][0]
        again = ingest_paths(con, [POLICE_ZIP], key=workspace.key())
        after = con.execute("SELECT count(*) FROM police_street").fetchall()[0][0]
        logs_after = con.execute("SELECT count(*) FROM ingest_log").fetchall()[0][0]
    finally:
        con.close()
    assert {r.status for r in first.loaded} == {"loaded"}
    assert {r.status for r in again.loaded} == {"unchanged"}
    assert before == after == 120_588
    assert logs == logs_after

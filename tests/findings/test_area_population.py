"""Population at any geography: the finest level a file gives that covers the area, newest loaded file first, the
bundled ONS LSOA figures last; a file for another area or a partial level is named, never silently replaced."""

from __future__ import annotations

from pathlib import Path

import pytest

from cspkit.findings.area import load_area_codes, population_load_warnings
from cspkit.ingest import ingest_paths
from cspkit.workspace import Workspace, init_workspace

AREA = "E06000056"


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    return init_workspace(tmp_path_factory.mktemp("pop") / "ws", name="Test CSP", area_codes=[AREA])


def _load(ws: Workspace, tmp: Path, name: str, text: str) -> list[int]:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    con = ws.connect()
    try:
        report = ingest_paths(con, [path], key=ws.key(), source="population", agency="council")
    finally:
        con.close()
    assert not report.errors
    return [r.file_id for r in report.loaded if r.file_id is not None]


def test_population_levels_and_warnings(ws: Workspace, tmp_path: Path) -> None:
    con = ws.connect()
    try:
        bundled = load_area_codes(con, [AREA])
    finally:
        con.close()
    # only the bundled figures: LSOA level, and nothing to warn about
    assert "LSOA level, from the bundled ONS estimates" in bundled.population_used["population"]
    assert bundled.total_population() == pytest.approx(sum(bundled.population.values()))
    assert bundled.total_population() == 315_877
    assert bundled.population_notes == []

    # a whole-authority file: used for the area totals (MARAC per 10,000 women reads the partner's figure)
    lad_ids = _load(
        ws, tmp_path, "lad.csv", f"area_code,year,population,adult_female_population\n{AREA},2024,301000,125000\n"
    )
    con = ws.connect()
    try:
        area = load_area_codes(con, [AREA])
        assert population_load_warnings(con, [AREA], lad_ids) == area.population_notes
    finally:
        con.close()
    assert area.total_population() == 301_000 and area.total_adult_women() == 125_000
    assert "local authority level, from the file loaded by council" in area.population_used["adult_female_population"]
    # ward rates still need ward figures: the bundled LSOAs, and the note says they do not add up to the total
    assert sum(area.ward_population().values()) == 315_877
    assert any("need not add up" in n for n in area.population_notes)

    # a file for another area: refused for use, named at ingest and in the notes
    other_ids = _load(ws, tmp_path, "other.csv", "area_code,year,population\nE06000055,2024,190000\n")
    # a partial ward file: does not cover the area, so not used, and said so
    _load(ws, tmp_path, "wards.csv", "area_code,year,population\nE05012345,2024,9000\n")
    con = ws.connect()
    try:
        warnings = population_load_warnings(con, [AREA], other_ids)
        area = load_area_codes(con, [AREA])
    finally:
        con.close()
    assert "other.csv: none of its 1 area codes (e.g. E06000055) is an LSOA, ward or local" in warnings[0]
    assert any("other.csv (loaded by council) has no figure" in n for n in area.population_notes)
    assert area.total_population() == 301_000  # the authority figure still stands

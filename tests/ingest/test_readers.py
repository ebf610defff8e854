"""Readers and source detection on hand-made files: encodings, delimiters, Excel, Parquet, archives, legacy files."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

import duckdb
import openpyxl
import pytest
from pyproj import Transformer

from cspkit.errors import SourceError
from cspkit.ingest import IngestReport, ingest_paths
from cspkit.sources import detect_source
from cspkit.workspace import Workspace
from tests.conftest import POLICE_ZIP

TODAY = dt.date(2024, 6, 30)
STREET_HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,"
    "Last outcome category,Context"
)
OUTCOMES_HEADER = "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Outcome type"


def _ingest(ws: Workspace, paths: list[Path], **kwargs: Any) -> IngestReport:
    con = ws.connect()
    try:
        report = ingest_paths(con, paths, key=ws.key(), today=TODAY, **kwargs)
    finally:
        con.close()
    assert report.errors == [], report.errors
    return report


def _rows(ws: Workspace, sql: str) -> list[tuple[Any, ...]]:
    con = ws.connect(read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


ASB_ROWS = [
    ("A1", "2022-01-05", "personal", "FIXED PENALTY NOTICE (£100)"),
    ("A2", "06/02/2022", "nuisance", "advice  given"),
]
EXPECTED_ASB = [
    (dt.datetime(2022, 1, 5), "personal", "Fixed penalty notice (£100)"),
    (dt.datetime(2022, 2, 6), "nuisance", "Advice given"),
]


def _text(delimiter: str = ",", newline: str = "\n") -> str:
    # asb_incidents holds no free text any more (agency and outcome take vocabularies): a vocabulary label with a
    # "£" shows the characters come through unchanged (a mis-decoded "Â£" would not match, and be stored as Other)
    lines = [delimiter.join(("incident_ref", "reported_at", "category", "outcome"))]
    lines += [delimiter.join(r) for r in ASB_ROWS]
    return newline.join(lines) + newline


@pytest.mark.parametrize(
    ("name", "data", "encoding"),
    [
        ("bom.csv", b"\xef\xbb\xbf" + _text().encode("utf-8"), "utf-8"),
        ("cp1252.csv", _text().encode("cp1252"), "cp1252"),
        ("crlf.csv", _text(newline="\r\n").encode("utf-8"), "utf-8"),
        ("tabs.tsv", _text(delimiter="\t").encode("utf-8"), "utf-8"),
        ("semicolons.csv", _text(delimiter=";").encode("cp1252"), "cp1252"),
    ],
)
def test_text_encodings_and_delimiters(
    workspace: Workspace, tmp_path: Path, name: str, data: bytes, encoding: str
) -> None:
    """BOM, cp1252 ("£" stored as proper UTF-8), CRLF, tab and semicolon files all load the same values."""
    path = tmp_path / name
    path.write_bytes(data)
    [result] = _ingest(workspace, [path]).loaded
    assert (result.source, result.rows_read, result.rows_accepted, result.encoding) == ("asb_incidents", 2, 2, encoding)
    assert _rows(workspace, "SELECT reported_at, category, outcome FROM asb_incidents ORDER BY 1") == EXPECTED_ASB


def _workbook(path: Path) -> None:
    wb = openpyxl.Workbook()
    first = wb.active
    assert first is not None
    first.title = "Notes"
    first.append(["incident_ref", "reported_at", "category"])
    first.append(["N1", dt.datetime(2022, 3, 1, 14, 30), "environmental"])
    second = wb.create_sheet("Data")
    second.append(["Incident Number", "Date Reported", "Category", "Risk Assessment Score"])
    second.append(["D1", dt.date(2022, 4, 2), "personal", 23.0])
    second.append(["D2", "03/04/2022", "Nuisance", 7])
    wb.save(path)


def test_xlsx_first_sheet_by_default(workspace: Workspace, tmp_path: Path) -> None:
    """An Excel workbook is read from its first sheet; a date-time cell keeps its time."""
    path = tmp_path / "book.xlsx"
    _workbook(path)
    [result] = _ingest(workspace, [path]).loaded
    assert (result.rows_read, result.rows_accepted) == (1, 1)
    assert _rows(workspace, "SELECT reported_at, reported_at_has_time, category FROM asb_incidents") == [
        (dt.datetime(2022, 3, 1, 14, 30), True, "environmental")
    ]


def test_xlsx_named_sheet_and_aliases(workspace: Workspace, tmp_path: Path) -> None:
    """``sheet=`` reads that sheet; date cells, UK text dates and whole-number floats are read correctly."""
    path = tmp_path / "book.xlsx"
    _workbook(path)
    [result] = _ingest(workspace, [path], sheet="Data").loaded
    assert (result.rows_read, result.rows_accepted) == (2, 2)
    assert result.aliases_applied == {
        "Incident Number": "incident_ref",
        "Date Reported": "reported_at",
        "Risk Assessment Score": "risk_score",
    }
    assert _rows(workspace, "SELECT reported_at, category, risk_score FROM asb_incidents ORDER BY 1") == [
        (dt.datetime(2022, 4, 2), "personal", 23),
        (dt.datetime(2022, 4, 3), "nuisance", 7),
    ]


def test_xlsx_missing_sheet_names_the_sheets(workspace: Workspace, tmp_path: Path) -> None:
    """Asking for a sheet that does not exist gives one message listing the sheets."""
    path = tmp_path / "book.xlsx"
    _workbook(path)
    con = workspace.connect()
    report = ingest_paths(con, [path], key=workspace.key(), sheet="Nope")
    con.close()
    [error] = report.errors
    assert "no sheet named 'Nope'; sheets are Notes, Data" in error.message


def test_parquet(workspace: Workspace, tmp_path: Path) -> None:
    """A Parquet file with the contract's columns loads like a CSV."""
    path = tmp_path / "asb.parquet"
    duckdb.sql(
        "COPY (SELECT * FROM (VALUES ('P1', '2022-05-01 09:15', 'personal'), ('P2', '2022-05-02', 'nuisance')) "
        f"t(incident_ref, reported_at, category)) TO '{path}' (FORMAT PARQUET)"
    )
    [result] = _ingest(workspace, [path]).loaded
    assert (result.source, result.rows_accepted, result.months) == ("asb_incidents", 2, ["2022-05"])
    assert _rows(workspace, "SELECT reported_at FROM asb_incidents ORDER BY 1") == [
        (dt.datetime(2022, 5, 1, 9, 15),),
        (dt.datetime(2022, 5, 2),),
    ]


def _police_members(*months: str) -> dict[str, bytes]:
    with zipfile.ZipFile(POLICE_ZIP) as zf:
        return {
            name: zf.read(name)
            for name in zf.namelist()
            if any(name.startswith(f"{m}/{m}-bedfordshire-street") for m in months)
        }


def test_folder_in_archive_layout_with_stop_and_search(workspace: Workspace, tmp_path: Path) -> None:
    """A folder laid out like data.police.uk loads its street files (force as agency); stop-and-search is skipped."""
    members = _police_members("2022-05", "2022-06")
    root = tmp_path / "archive"
    for name, data in members.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    (root / "2022-05" / "2022-05-bedfordshire-stop-and-search.csv").write_text("Type,Date\nPerson search,2022-05-01\n")
    report = _ingest(workspace, [root])
    expected_rows = sum(data.decode("utf-8").count("\n") - 1 for data in members.values())
    assert sorted(r.months[0] for r in report.loaded) == ["2022-05", "2022-06"]
    assert {(r.source, r.agency) for r in report.loaded} == {("police_street", "bedfordshire")}
    assert [s.reason for s in report.skipped] == ["stop-and-search files are not a supported source yet"]
    assert _rows(workspace, "SELECT count(*) FROM police_street") == [(expected_rows,)]


def test_zip_with_stop_and_search_is_skipped_with_a_note(workspace: Workspace, tmp_path: Path) -> None:
    """A zip holding a street file and a stop-and-search file loads the first and notes the second."""
    path = tmp_path / "small.zip"
    members = _police_members("2021-05")
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        zf.writestr("2021-05/2021-05-bedfordshire-stop-and-search.csv", "Type,Date\nPerson search,2021-05-01\n")
    con = workspace.connect()
    report = ingest_paths(con, [path], key=workspace.key(), today=TODAY)
    con.close()
    assert [r.display for r in report.loaded] == [f"{path}:{n}" for n in members]
    assert [s.display for s in report.skipped] == [f"{path}:2021-05/2021-05-bedfordshire-stop-and-search.csv"]
    assert report.errors == []
    assert report.loaded[0].rows_accepted == members["2021-05/2021-05-bedfordshire-street.csv"].count(b"\n") - 1


def test_header_aliases_are_applied_and_reported(workspace: Workspace, tmp_path: Path) -> None:
    """ "Date Reported", "Victim ID" and "LSOA" map onto reported_at, victim_ref and lsoa_code, and say so."""
    path = tmp_path / "aliases.csv"
    path.write_text(
        "Case Ref,Date Reported,ASB Category,Victim ID,LSOA,Colour\nC1,01/02/2022,personal,V9,e01000001,red\n"
    )
    [result] = _ingest(workspace, [path]).loaded
    assert result.aliases_applied == {
        "Case Ref": "incident_ref",
        "Date Reported": "reported_at",
        "ASB Category": "category",
        "Victim ID": "victim_ref",
        "LSOA": "lsoa_code",
    }
    assert result.ignored_columns == ["Colour"]
    [(reported_at, lsoa, victim_key)] = _rows(workspace, "SELECT reported_at, lsoa_code, victim_key FROM asb_incidents")
    assert (reported_at, lsoa) == (dt.datetime(2022, 2, 1), "E01000001")  # 1 February: day first
    assert len(victim_key) == 32 and victim_key != "V9"


def test_legacy_easting_northing_file_is_converted(workspace: Workspace, tmp_path: Path) -> None:
    """A 2011-12 street file's Easting/Northing becomes the longitude/latitude pyproj gives for the point."""
    path = tmp_path / "2011-12-metropolitan-street.csv"
    path.write_text(
        "Month,Reported by,Falls within,Easting,Northing,Location,Crime type,Context\n"
        "2011-12,Metropolitan Police Service,Metropolitan Police Service,530000,180000,On or near X,Burglary,\n"
        "2011-12,Metropolitan Police Service,Metropolitan Police Service,,,No location,Violent crime,\n"
    )
    [result] = _ingest(workspace, [path]).loaded
    assert (result.source, result.agency, result.rows_accepted) == ("police_street", "metropolitan", 2)
    lon, lat = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True).transform(530000, 180000)
    rows = _rows(workspace, "SELECT longitude, latitude, crime_type FROM police_street ORDER BY crime_type")
    assert rows[0][0] == pytest.approx(lon, abs=1e-6) and rows[0][1] == pytest.approx(lat, abs=1e-6)
    # an independent check: OS grid 530000, 180000 is in central London, near Westminster Bridge
    assert rows[0][0] == pytest.approx(-0.1284, abs=1e-3) and rows[0][1] == pytest.approx(51.5040, abs=1e-3)
    assert rows[1] == (None, None, "Violent crime")


# --- source detection -------------------------------------------------------------------------------------------


def test_police_street_and_outcomes_headers_are_detected_exactly() -> None:
    """The data.police.uk street and outcomes headers identify their source."""
    assert detect_source(STREET_HEADER.split(","), "s.csv").contract.name == "police_street"
    assert detect_source(OUTCOMES_HEADER.split(","), "o.csv").contract.name == "police_outcomes"
    with zipfile.ZipFile(POLICE_ZIP) as zf:
        real_header = zf.read("2021-05/2021-05-bedfordshire-street.csv").decode("utf-8").splitlines()[0]
    assert detect_source(real_header.split(","), "real.csv").contract.name == "police_street"


def test_partner_header_is_detected() -> None:
    """An asb_incidents header (with aliases) is detected as asb_incidents."""
    match = detect_source(["Incident Number", "Date Reported", "Category", "Victim ID"], "asb.csv")
    assert match.contract.name == "asb_incidents"
    assert match.aliases_applied["Date Reported"] == "reported_at"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (["offender_ref", "cohort", "entry_date", "offence_date", "offence_group"], "fits several sources"),
        (["when", "where", "who"], "does not match any source"),
    ],
)
def test_ambiguous_or_unknown_header_asks_for_source(header: list[str], expected: str) -> None:
    """An ambiguous or unknown header raises a SourceError naming the file and --source."""
    with pytest.raises(SourceError) as info:
        detect_source(header, "mystery.csv")
    assert expected in str(info.value)
    assert "mystery.csv" in str(info.value) and "--source" in str(info.value)

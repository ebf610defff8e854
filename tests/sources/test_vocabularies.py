"""Category columns take values from a vocabulary: identifiers are refused, unknown labels stored as Other, and a
partner's own labels mapped through a ``label_map`` file."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from cspkit.cli import app
from cspkit.findings.data_sources import note_lines, source_records
from cspkit.ingest import ingest_paths
from cspkit.sources.contracts import CONTRACTS
from cspkit.sources.vocabularies import BANDED, OTHER, VOCABULARIES
from cspkit.warehouse.store import query
from cspkit.workspace import Workspace

CANARY_PHONE = "07700 900999"
ASB = """incident_ref,reported_at,category,asb_type,outcome
A1,2023-01-05 21:00,nuisance,noise,NFA
A2,2023-01-06 21:00,nuisance,  FLY  tipping ,Advice given
A3,2023-01-07 21:00,nuisance,Youths causing annoyance,cpw
A4,2023-01-08 21:00,personal,Call J Smith 07700 900999,Advice given
A5,2023-01-09 21:00,nuisance,Parking on verge,Advice given
A6,2023-01-10 21:00,nuisance,Noise,ask Mr Quillfeather
A7,2023-01-11 21:00,nuisance,,
"""


def _load(ws: Workspace, path: Path, **kw: str) -> object:
    con = ws.connect()
    try:
        return ingest_paths(con, [path], key=ws.key(), **kw)  # type: ignore[arg-type]
    finally:
        con.close()


def _values(ws: Workspace, sql: str) -> list[dict[str, object]]:
    con = ws.connect(read_only=True)
    try:
        return query(con, sql)
    finally:
        con.close()


def test_every_vocabulary_column_exists_and_ends_with_other() -> None:
    for (source, column), vocabulary in VOCABULARIES.items():
        assert CONTRACTS[source].column(column).kind == "text", (source, column)
        assert vocabulary.values[-1] == OTHER
        for _, canonical in vocabulary.aliases:
            assert canonical in vocabulary.values, canonical
    for source, column in BANDED:
        assert CONTRACTS[source].column(column).kind == "int"


def test_labels_are_controlled_and_identifiers_refused(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "asb.csv"
    path.write_text(ASB, encoding="utf-8")
    report = _load(workspace, path, source="asb_incidents", agency="council")
    loaded = report.loaded[0]  # type: ignore[attr-defined]
    assert (loaded.rows_read, loaded.rows_accepted, loaded.rows_rejected) == (7, 5, 2)
    assert loaded.rejects_by_reason == {"identifier_in_text": 2}
    assert loaded.unmapped_labels == {"asb_type": 1}  # "Parking on verge": stored as Other, and counted
    rows = _values(workspace, "SELECT asb_type, outcome FROM asb_incidents ORDER BY reported_at")
    assert rows == [
        {"asb_type": "Noise", "outcome": "No further action"},
        {"asb_type": "Fly-tipping", "outcome": "Advice given"},
        {"asb_type": "Rowdy or inconsiderate behaviour", "outcome": "Community Protection Warning"},
        {"asb_type": OTHER, "outcome": "Advice given"},
        {"asb_type": None, "outcome": None},
    ]
    rejects = _values(workspace, "SELECT line, column_name, message, value FROM rejects ORDER BY line")
    assert [(r["line"], r["column_name"]) for r in rejects] == [(5, "asb_type"), (7, "outcome")]
    assert "category columns take a category" in str(rejects[0]["message"])
    text = repr(rejects)
    for secret in (CANARY_PHONE, "Smith", "Quillfeather"):
        assert secret not in text
    # The CLI's rejects listing says the same without the text.
    result = CliRunner().invoke(app, ["rejects", "--workspace", str(workspace.root)])
    assert result.exit_code == 0 and CANARY_PHONE not in result.output and "identifier_in_text" in result.output


def test_a_partners_own_labels_are_mapped(workspace: Workspace, tmp_path: Path) -> None:
    mapping = tmp_path / "labels.csv"
    mapping.write_text(
        "source,column_name,label,value\n"
        "asb_incidents,asb_type,Parking on verge,Vehicle nuisance\n"
        "asb_incidents,asb_type,Bins left out,not a vocabulary word\n"
        "asb_incidents,outcome,Letter 1,warning letter issued\n",
        encoding="utf-8",
    )
    report = _load(workspace, mapping, source="label_map")
    assert report.ok, report.errors  # type: ignore[attr-defined]
    data = tmp_path / "asb2.csv"
    data.write_text(
        "incident_ref,reported_at,category,asb_type,outcome\n"
        "B1,2023-02-05 21:00,nuisance,PARKING ON VERGE,letter 1\n"
        "B2,2023-02-06 21:00,environmental,Bins left out,Advice given\n",
        encoding="utf-8",
    )
    report = _load(workspace, data, source="asb_incidents", agency="council")
    assert report.ok  # type: ignore[attr-defined]
    assert report.loaded[0].unmapped_labels == {"asb_type": 1}  # type: ignore[attr-defined]
    rows = _values(workspace, "SELECT asb_type, outcome FROM asb_incidents ORDER BY reported_at")
    assert rows == [
        {"asb_type": "Vehicle nuisance", "outcome": "Warning letter issued"},
        {"asb_type": OTHER, "outcome": "Advice given"},  # mapped outside the vocabulary: Other, not the text
    ]


def test_the_sources_listing_documents_vocabularies() -> None:
    result = CliRunner().invoke(app, ["sources", "--json"])
    assert result.exit_code == 0
    assert "label_map" in result.output and "Rowdy or inconsiderate behaviour" in result.output
    assert "stored only as a band" in result.output
    docs = (Path(__file__).resolve().parents[2] / "docs" / "data-contracts.md").read_text(encoding="utf-8")
    assert "## `label_map`" in docs and "vocabulary: IOM, PPO" in docs


def test_printed_labels_without_a_vocabulary_are_screened(workspace: Workspace, tmp_path: Path) -> None:
    """A survey theme or a recommendation owner holding a phone number or a person's name is refused."""
    path = tmp_path / "views.csv"
    path.write_text(
        "year,theme,respondents,share_concerned,source\n"
        "2023,anti-social behaviour,900,0.4,Residents' survey 2023\n"
        f"2023,call {CANARY_PHONE},900,0.1,Residents' survey 2023\n",
        encoding="utf-8",
    )
    loaded = _load(workspace, path, source="public_views").loaded[0]  # type: ignore[attr-defined]
    assert (loaded.rows_accepted, loaded.rejects_by_reason) == (1, {"identifier_in_text": 1})
    path = tmp_path / "recs.csv"
    path.write_text(
        "ref,year,text,status,owner\n"
        "R1,2023-24,Review the ASB case system.,on_track,Head of Community Safety\n"
        "R2,2023-24,Fund a perpetrator programme.,delayed,Mrs Quillfeather\n",
        encoding="utf-8",
    )
    loaded = _load(workspace, path, source="recommendations").loaded[0]  # type: ignore[attr-defined]
    assert (loaded.rows_accepted, loaded.rejects_by_reason) == (1, {"identifier_in_text": 1})
    assert "Quillfeather" not in repr(_values(workspace, "SELECT * FROM rejects"))


def test_the_reporting_agency_of_an_asb_incident_takes_a_vocabulary(workspace: Workspace, tmp_path: Path) -> None:
    """``asb_incidents.agency`` was free text: now a vocabulary word, an alias, or Other (counted), and an
    identifier in it is refused like in any category column."""
    path = tmp_path / "asb.csv"
    path.write_text(
        "incident_ref,reported_at,category,agency\n"
        "G1,2023-01-05 21:00,nuisance,Police\n"
        "G2,2023-01-06 21:00,nuisance,Borough Council\n"
        "G3,2023-01-07 21:00,nuisance,housing association\n"
        "G4,2023-01-08 21:00,nuisance,Parish warden\n"
        "G5,2023-01-09 21:00,nuisance,ring 07700 900999\n",
        encoding="utf-8",
    )
    report = _load(workspace, path, source="asb_incidents", agency="council")
    loaded = report.loaded[0]  # type: ignore[attr-defined]
    assert (loaded.rows_accepted, loaded.rejects_by_reason) == (4, {"identifier_in_text": 1})
    assert loaded.unmapped_labels == {"agency": 1}
    rows = _values(workspace, "SELECT agency FROM asb_incidents ORDER BY reported_at")
    assert [r["agency"] for r in rows] == ["police", "council", "housing", OTHER]
    # counted for the data-quality appendix, without the label (a label a worker typed may hold anything)
    con = workspace.connect(read_only=True)
    try:
        [record] = [r for r in source_records(con) if r.source == "asb_incidents"]
    finally:
        con.close()
    assert note_lines(record.notes) == ["agency: 1 row with a label not in the vocabulary, counted as Other"]

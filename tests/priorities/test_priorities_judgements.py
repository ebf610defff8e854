"""The judgement store: refusals, and round trips through its TOML file."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import pytest

from cspkit.errors import AnalysisError, WorkspaceError
from cspkit.priorities import Judgement, JudgementStore, Matrix, load_preset


def test_set_get_and_round_trip(tmp_path: Path, vthpc: Matrix) -> None:
    path = tmp_path / "ws" / "judgements.toml"
    store = JudgementStore(path, vthpc)
    made = store.set(
        "asb",
        "partnership_value",
        5,
        why="Repeat victims need council and police",
        who="board",
        when=dt.date(2024, 5, 14),
    )
    store.set("da", "partnership_value", 4.0, why="IDVA service", who="DA lead", when="2024-05-15")

    assert made == Judgement(5, "Repeat victims need council and police", "board", "2024-05-14")
    assert store.get("da", "partnership_value") == Judgement(4, "IDVA service", "DA lead", "2024-05-15")
    assert store.get("da", "volume") is None

    reopened = JudgementStore(path, vthpc)
    assert reopened.all() == store.all()
    assert reopened.for_candidate("asb") == {"partnership_value": made}

    on_disk = tomllib.loads(path.read_text(encoding="utf-8"))
    assert on_disk["judgements"]["vthpc"]["da"]["partnership_value"]["value"] == 4


def test_one_file_holds_several_matrices(tmp_path: Path, vthpc: Matrix) -> None:
    path = tmp_path / "judgements.toml"
    JudgementStore(path, vthpc).set("asb", "partnership_value", 5, why="w", who="b", when="2024-05-14")
    grid = JudgementStore(path, load_preset("grid4x4"))
    grid.set("asb", "impact", 3, why="w", who="b", when="2024-05-14")

    assert JudgementStore(path, vthpc).get("asb", "partnership_value") is not None
    assert JudgementStore(path, load_preset("grid4x4")).get("asb", "impact") is not None


def test_when_defaults_to_today(tmp_path: Path, vthpc: Matrix) -> None:
    made = JudgementStore(tmp_path / "j.toml", vthpc).set("asb", "partnership_value", 3, why="w", who="b")
    assert made.when == dt.date.today().isoformat()


@pytest.mark.parametrize(
    ("criterion", "value", "why", "who", "when", "message"),
    [
        ("partnership_value", 5, "", "board", "2024-05-14", "'why' is required"),
        ("partnership_value", 5, "   ", "board", "2024-05-14", "'why' is required"),
        ("partnership_value", 5, "w", "", "2024-05-14", "'who' is required"),
        (
            "partnership_value",
            6,
            "w",
            "board",
            "2024-05-14",
            r"6 is not on the scale \(allowed: 1, 2, 3, 4, 5\)",
        ),
        ("partnership_value", "5", "w", "board", "2024-05-14", "'5' is not on the scale"),
        ("volume", 5, "w", "board", "2024-05-14", "'volume' is computed from evidence"),
        ("colour", 5, "w", "board", "2024-05-14", "has no judgement criterion 'colour'"),
        ("partnership_value", 5, "w", "board", "14/05/2024", "'when' must be a date as YYYY-MM-DD"),
    ],
)
def test_refusals(
    tmp_path: Path, vthpc: Matrix, criterion: str, value: object, why: str, who: str, when: str, message: str
) -> None:
    path = tmp_path / "j.toml"
    store = JudgementStore(path, vthpc)
    with pytest.raises(AnalysisError, match=message):
        store.set("asb", criterion, value, why=why, who=who, when=when)  # type: ignore[arg-type]
    assert not path.exists()  # nothing refused was written


def test_text_levels(tmp_path: Path) -> None:
    morile = load_preset("morile")
    store = JudgementStore(tmp_path / "j.toml", morile)
    store.set("da", "vulnerability", "high", why="MARAC cases", who="b", when="2024-05-14")
    with pytest.raises(AnalysisError, match="'very high' is not on the scale"):
        store.set("da", "vulnerability", "very high", why="w", who="b", when="2024-05-14")
    assert JudgementStore(tmp_path / "j.toml", morile).get("da", "vulnerability") == Judgement(
        "high", "MARAC cases", "b", "2024-05-14"
    )


def test_hand_edited_file_is_checked(tmp_path: Path, vthpc: Matrix) -> None:
    path = tmp_path / "j.toml"
    path.write_text(
        '[judgements.vthpc.asb.partnership_value]\nvalue = 9\nwhy = "w"\nwho = "b"\nwhen = 2024-05-14\n',
        encoding="utf-8",
    )
    with pytest.raises(AnalysisError, match="9 is not on the scale"):
        JudgementStore(path, vthpc)
    path.write_text("this is not toml = = =", encoding="utf-8")
    with pytest.raises(WorkspaceError, match="cannot be read"):
        JudgementStore(path, vthpc)


def test_hand_edited_toml_date_is_read(tmp_path: Path, vthpc: Matrix) -> None:
    path = tmp_path / "j.toml"
    path.write_text(
        '[judgements.vthpc.asb.partnership_value]\nvalue = 4\nwhy = "w"\nwho = "b"\nwhen = 2024-05-14\n',
        encoding="utf-8",
    )
    assert JudgementStore(path, vthpc).get("asb", "partnership_value") == Judgement(4, "w", "b", "2024-05-14")

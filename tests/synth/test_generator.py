"""The synthetic partner-data generator: contracts, calibration, planted signals, ground truth, messy mode.

Ground-truth figures in truth.json are checked against small independent recomputations with pandas from the CSVs.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from importlib.resources import files
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import cspkit.synth
from cspkit.synth import generate

ASB_COLUMNS = [
    "incident_ref", "reported_at", "category", "agency", "asb_type", "victim_ref", "victim_name", "victim_dob",
    "victim_postcode", "risk_score", "risk_level", "vulnerable", "lsoa_code", "ward_code", "longitude", "latitude",
    "outcome",
]  # fmt: skip
CONTRACTS = {
    "asb_incidents_police.csv": ASB_COLUMNS,
    "asb_incidents_council.csv": ASB_COLUMNS,
    "offenders.csv": [
        "offender_ref", "cohort", "entry_date", "exit_date", "needs", "ogrs_score", "offender_name", "offender_dob",
        "offender_postcode",
    ],
    "offences.csv": ["offender_ref", "offence_date", "offence_group", "outcome", "outcome_date", "lsoa_code"],
    "domestic_abuse.csv": [
        "incident_ref", "reported_at", "victim_ref", "perpetrator_ref", "is_crime", "crime_type", "dash_risk",
        "victim_sex", "victim_age", "children_present", "lsoa_code", "victim_name", "victim_dob", "victim_postcode",
        "perpetrator_name", "perpetrator_dob", "perpetrator_postcode",
    ],
    "marac_referrals.csv": [
        "referral_ref", "referral_date", "victim_ref", "perpetrator_ref", "referring_agency", "dash_score",
        "children_in_household", "victim_name", "victim_dob", "victim_postcode", "perpetrator_name",
        "perpetrator_dob", "perpetrator_postcode",
    ],
    "population.csv": ["area_code", "year", "population", "adult_female_population", "households"],
    "recommendations.csv": ["ref", "year", "text", "status", "priority", "owner", "due", "evidence"],
    "public_views.csv": ["year", "theme", "respondents", "share_concerned", "area_code", "source"],
}  # fmt: skip
EVENT_DATES = {
    "asb_incidents_police.csv": ["reported_at"],
    "asb_incidents_council.csv": ["reported_at"],
    "offenders.csv": ["entry_date", "exit_date"],
    "offences.csv": ["offence_date", "outcome_date"],
    "domestic_abuse.csv": ["reported_at"],
    "marac_referrals.csv": ["referral_date"],
    "recommendations.csv": ["due"],
}
ASSESSMENT = (pd.Timestamp("2022-05-01"), pd.Timestamp("2023-04-30"))
PREVIOUS = (pd.Timestamp("2021-05-01"), pd.Timestamp("2022-04-30"))


def _read(folder: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(folder / name, dtype=str, keep_default_na=False)


def _in(days: pd.Series, period: tuple[pd.Timestamp, pd.Timestamp]) -> pd.Series:
    return (days >= period[0]) & (days <= period[1])


def _repeat_victims(frame: pd.DataFrame, who: str, period: tuple[pd.Timestamp, pd.Timestamp]) -> set[str]:
    """Victims with 3 incidents in the period whose dates span at most 364 days (pandas, independently)."""
    events = frame[(frame[who] != "") & _in(frame["day"], period)].sort_values([who, "day"])
    third = events.groupby(who)["day"].shift(-2)
    return set(events.loc[(third - events["day"]).dt.days <= 364, who])


def _with_day(frame: pd.DataFrame, column: str = "reported_at") -> pd.DataFrame:
    frame = frame.copy()
    frame["day"] = pd.to_datetime(frame[column].str[:10])
    return frame


@pytest.fixture(scope="module")
def default_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """Central Bedfordshire, seed 1, real population, 3 years to April 2023 (generated once)."""
    folder = tmp_path_factory.mktemp("synth") / "cb"
    summary = generate(folder)
    assert summary.population == 315_877
    return folder, json.loads(summary.truth_path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def small_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Three small runs with the same arguments: clean twice and messy once."""
    root = tmp_path_factory.mktemp("small")
    options: dict[str, Any] = {"seed": 3, "population": 60_000, "years": 2, "end_month": "2024-03"}
    for name, messy in (("a", False), ("b", False), ("messy", True)):
        generate(root / name, messy=messy, **options)
    return {name: root / name for name in ("a", "b", "messy")}


def test_public_api_is_pinned() -> None:
    assert cspkit.synth.__all__ == ["COLUMNS", "MANIFEST", "SynthSummary", "generate"]


def test_files_have_exactly_the_contract_columns_and_a_manifest(default_run: tuple[Path, dict[str, Any]]) -> None:
    folder, _ = default_run
    for name, columns in CONTRACTS.items():
        assert list(_read(folder, name).columns) == columns, name
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert {entry["file"]: (entry["source"], entry["agency"]) for entry in manifest} == {
        "asb_incidents_police.csv": ("asb_incidents", "police"),
        "asb_incidents_council.csv": ("asb_incidents", "council"),
        "offenders.csv": ("offenders", "probation"),
        "offences.csv": ("offences", "probation"),
        "domestic_abuse.csv": ("domestic_abuse", "police"),
        "marac_referrals.csv": ("marac_referrals", "marac"),
        "population.csv": ("population", "ons"),
        "recommendations.csv": ("recommendations", "csp"),
        "public_views.csv": ("public_views", "council"),
        "substance_misuse.csv": ("substance_misuse", "treatment"),
    }
    assert (folder / "README.md").read_text(encoding="utf-8").startswith("# Synthetic partner data: Central Bedford")


def test_dates_are_iso_and_inside_the_window(default_run: tuple[Path, dict[str, Any]]) -> None:
    folder, truth = default_run
    assert truth["window"] == {"start": "2020-05-01", "end": "2023-04-30"}
    for name, columns in EVENT_DATES.items():
        frame = _read(folder, name)
        for column in columns:
            values = frame.loc[frame[column] != "", column]
            pattern = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}" if column == "reported_at" else r"\d{4}-\d{2}-\d{2}"
            assert values.str.fullmatch(pattern).all(), (name, column)
            days = pd.to_datetime(values.str[:10])
            assert days.min() >= pd.Timestamp("2020-05-01"), (name, column)
            assert days.max() <= pd.Timestamp("2023-04-30"), (name, column)


def test_population_file_holds_the_real_mid_2024_values(default_run: tuple[Path, dict[str, Any]]) -> None:
    folder, _ = default_run
    population = _read(folder, "population.csv")
    assert len(population) == 175
    assert population["population"].astype(int).sum() == 315_877
    assert population["adult_female_population"].astype(int).sum() == 130_304
    assert set(population["year"]) == {"2024"}


def test_volumes_follow_the_calibration(default_run: tuple[Path, dict[str, Any]]) -> None:
    folder, truth = default_run
    police = _with_day(_read(folder, "asb_incidents_police.csv"))
    council = _with_day(_read(folder, "asb_incidents_council.csv"))
    da = _with_day(_read(folder, "domestic_abuse.csv"))
    for period in (ASSESSMENT, PREVIOUS):
        assert 4_000 <= _in(police["day"], period).sum() <= 5_000
        assert 850 <= _in(council["day"], period).sum() <= 1_200
    previous = da[_in(da["day"], PREVIOUS)]
    assert 14 <= len(previous) / 315_877 * 1000 <= 20
    assert 0.33 <= (previous["is_crime"] == "yes").mean() <= 0.43
    mix = previous["dash_risk"].value_counts(normalize=True)
    assert mix["standard"] == pytest.approx(0.70, abs=0.03)
    assert mix["medium"] == pytest.approx(0.22, abs=0.03)
    assert mix["high"] == pytest.approx(0.08, abs=0.02)
    assert 60 <= truth["iom"]["active_cohort"]["assessment"]["members"] <= 100
    # Environmental incidents rarely have a victim; personal ones usually do.
    by_category = police.assign(has_victim=police["victim_ref"] != "").groupby("category")["has_victim"].mean()
    assert by_category["environmental"] < 0.1 < 0.8 < by_category["personal"]
    assert set(police["risk_level"]) == {"", "standard", "medium", "high"}
    scored = police[police["risk_score"] != ""]
    assert ((scored["risk_score"].astype(int) >= 22) == (scored["risk_level"] == "high")).all()


def test_coordinates_lie_in_central_bedfordshire(default_run: tuple[Path, dict[str, Any]]) -> None:
    folder, _ = default_run
    for name in ("asb_incidents_police.csv", "asb_incidents_council.csv"):
        frame = _read(folder, name)
        # Points are drawn inside the real LSOA boundaries, which reach -0.15 and 51.80 (Caddington).
        assert frame["longitude"].astype(float).between(-0.75, -0.1).all()
        assert frame["latitude"].astype(float).between(51.78, 52.22).all()


def test_marac_volume_and_repeat_rate(default_run: tuple[Path, dict[str, Any]]) -> None:
    folder, truth = default_run
    marac = _with_day(_read(folder, "marac_referrals.csv"), "referral_date").sort_values(["day", "referral_ref"])
    marac["gap"] = marac.groupby("victim_ref")["day"].diff().dt.days
    for name, period in (("assessment", ASSESSMENT), ("previous", PREVIOUS)):
        in_period = marac[_in(marac["day"], period)]
        repeats = int((in_period["gap"] <= 365).sum())
        assert truth["marac"]["referrals"][name] == len(in_period)
        assert truth["marac"]["repeat_referrals"][name] == repeats
        assert 30 <= len(in_period) / 130_304 * 10_000 <= 50
        assert 0.25 <= repeats / len(in_period) <= 0.40
    assert marac["dash_score"].astype(int).between(0, 27).all()


def test_hotspot_triples_in_the_final_year(default_run: tuple[Path, dict[str, Any]]) -> None:
    folder, truth = default_run
    hotspot = truth["planted"]["asb_hotspot"]
    police = _with_day(_read(folder, "asb_incidents_police.csv"))
    council = _with_day(_read(folder, "asb_incidents_council.csv"))
    both = pd.concat([police, council]).sort_values("day").drop_duplicates("incident_ref")
    in_hotspot = both[both["lsoa_code"] == hotspot["lsoa_code"]]
    assert set(in_hotspot["ward_code"]) == {hotspot["ward_code"]}
    final, before = _in(in_hotspot["day"], ASSESSMENT).sum(), _in(in_hotspot["day"], PREVIOUS).sum()
    assert final > 2 * before
    assert hotspot["incidents"]["combined_deduplicated"]["assessment"] == final
    assert hotspot["incidents"]["combined_deduplicated"]["previous"] == before
    police_hot = police[police["lsoa_code"] == hotspot["lsoa_code"]]
    assert hotspot["incidents"]["police"]["assessment"] == _in(police_hot["day"], ASSESSMENT).sum()


def test_domestic_abuse_rises_in_the_three_planted_wards_only(default_run: tuple[Path, dict[str, Any]]) -> None:
    folder, truth = default_run
    lookup_file = files("cspkit") / "data" / "geography" / "lsoa21_ward24_lad24_lookup_ew.csv.gz"
    with lookup_file.open("rb") as raw, gzip.open(raw) as unzipped:
        lookup = pd.read_csv(unzipped, dtype=str)
    ward_of = lookup.set_index("lsoa21_code")["ward24_code"]
    da = _with_day(_read(folder, "domestic_abuse.csv"))
    da["ward"] = da["lsoa_code"].map(ward_of)
    final = da[_in(da["day"], ASSESSMENT)]["ward"].value_counts()
    before = da[_in(da["day"], PREVIOUS)]["ward"].value_counts()
    change = final / before - 1
    planted = {ward["ward_code"] for ward in truth["planted"]["da_rising_wards"]["wards"]}
    assert len(planted) == 3
    assert (change[list(planted)] > 0.30).all()
    others = change.drop(list(planted))
    assert len(others) == 28
    assert others.abs().max() <= 0.15
    for ward in truth["planted"]["da_rising_wards"]["wards"]:
        assert ward["incidents"]["assessment"] == final[ward["ward_code"]]
        assert ward["incidents"]["previous"] == before[ward["ward_code"]]


def test_iom_offending_falls_after_entry(default_run: tuple[Path, dict[str, Any]]) -> None:
    folder, truth = default_run
    offenders = _read(folder, "offenders.csv")
    offences = _with_day(_read(folder, "offences.csv"), "offence_date")
    entrants = offenders[_in(pd.to_datetime(offenders["entry_date"]), PREVIOUS)]
    merged = offences.merge(entrants[["offender_ref", "entry_date"]], on="offender_ref")
    since_entry = (merged["day"] - pd.to_datetime(merged["entry_date"])).dt.days
    before, after = int(since_entry.between(-365, -1).sum()), int(since_entry.between(0, 364).sum())
    assert before > 2 * after
    figures = truth["iom"]["entrants"]["previous"]
    assert (figures["offences_12m_before_entry"], figures["offences_12m_after_entry"]) == (before, after)
    assert figures["members_without_offences_after"] > 0
    assert (offenders["exit_date"] != "").any() and (offenders["exit_date"] == "").any()
    assert set(offenders["cohort"]) == {"IOM", "PPO"}
    active = truth["iom"]["active_cohort"]["assessment"]
    assert active["reoffences_per_reoffender"] < active["baseline_reoffences_per_reoffender"]


def test_repeat_victim_truth_matches_an_independent_count(default_run: tuple[Path, dict[str, Any]]) -> None:
    folder, truth = default_run
    person_of = truth["people"]["person_of"]
    frames = {}
    for agency in ("police", "council"):
        frame = _with_day(_read(folder, f"asb_incidents_{agency}.csv"))
        frame["person"] = frame["victim_ref"].map(person_of[agency]).fillna("")
        frames[agency] = frame
        for name, period in (("assessment", ASSESSMENT), ("previous", PREVIOUS)):
            figures = truth["asb"][agency]
            assert figures["repeat_victims"][name] == len(_repeat_victims(frame, "victim_ref", period))
            high = frame[_in(frame["day"], period) & (frame["risk_level"] == "high")]
            assert figures["high_risk_victims"][name] == high["victim_ref"].nunique()
    both = pd.concat(frames.values()).sort_values(["day", "reported_at"]).drop_duplicates("incident_ref")
    for name, period in (("assessment", ASSESSMENT), ("previous", PREVIOUS)):
        expected = len(_repeat_victims(both, "person", period))
        assert truth["asb"]["combined_by_person"]["repeat_victims"][name] == expected
    assert truth["asb"]["police"]["repeat_victims"]["assessment"] > truth["asb"]["police"]["repeat_victims"]["previous"]

    planted = truth["planted"]["repeat_vulnerable_asb_victims"]
    assert planted["victims"] == 25 == truth["asb"]["planted_group_repeat_victims"]["assessment"]
    for ref in planted["refs"]:
        frame = frames[ref["agency"]]
        theirs = frame[(frame["victim_ref"] == ref["victim_ref"]) & _in(frame["day"], ASSESSMENT)]
        assert len(theirs) >= 3
        assert (theirs["risk_level"] == "high").any() and (theirs["vulnerable"] == "yes").any()


def test_shared_incident_refs_are_the_same_incident_and_person(default_run: tuple[Path, dict[str, Any]]) -> None:
    folder, truth = default_run
    person_of = truth["people"]["person_of"]
    police = _read(folder, "asb_incidents_police.csv").set_index("incident_ref")
    council = _read(folder, "asb_incidents_council.csv").set_index("incident_ref")
    shared = police.index.intersection(council.index)
    assert len(shared) == truth["asb"]["shared_incident_refs"]
    assert 0.03 <= len(shared) / len(council) <= 0.07
    assert (police.loc[shared, "lsoa_code"] == council.loc[shared, "lsoa_code"]).all()
    with_victim = shared[police.loc[shared, "victim_ref"] != ""]
    assert len(with_victim) > 0
    for ref in with_victim:
        police_ref, council_ref = police.at[ref, "victim_ref"], council.at[ref, "victim_ref"]
        assert police_ref.startswith("PV") and council_ref.startswith("C-")
        assert person_of["police"][police_ref] == person_of["council"][council_ref]


def test_people_recur_across_agencies_with_varied_identifiers(default_run: tuple[Path, dict[str, Any]]) -> None:
    folder, truth = default_run
    person_of = truth["people"]["person_of"]
    files_refs = {
        "police": set(_read(folder, "domestic_abuse.csv")["victim_ref"])
        | set(_read(folder, "asb_incidents_police.csv")["victim_ref"]) - {""},
        "council": set(_read(folder, "asb_incidents_council.csv")["victim_ref"]) - {""},
        "marac": set(_read(folder, "marac_referrals.csv")["victim_ref"]),
        "probation": set(_read(folder, "offenders.csv")["offender_ref"]),
    }
    for agency, refs in files_refs.items():
        assert refs <= set(person_of[agency]), agency
    marac_people = {person_of["marac"][ref] for ref in files_refs["marac"]}
    police_people = {person_of["police"][ref] for ref in files_refs["police"]}
    council_people = {person_of["council"][ref] for ref in files_refs["council"]}
    assert len(marac_people & police_people) > 300
    assert len(council_people & police_people) > 50
    assert len(marac_people & police_people & council_people) > 0
    assert truth["people"]["persons_known_to_several_agencies"] > 500
    assert (_read(folder, "marac_referrals.csv")["victim_ref"].str.fullmatch(r"M/\d{4}/\d{3}")).all()

    council = _read(folder, "asb_incidents_council.csv")
    names = " ".join(council["victim_name"])
    assert "'" in names and "-" in names and any(ch in names for ch in "éëâ")
    postcodes = council.loc[council["victim_postcode"] != "", "victim_postcode"]
    assert postcodes.str.contains(" ").any() and (~postcodes.str.contains(" ")).any()
    assert (council.loc[council["victim_ref"] != "", "victim_dob"] == "").any()
    assert postcodes.str.match(r"(LU|MK|SG)\d").all()


def test_same_seed_gives_byte_identical_files(small_runs: dict[str, Path]) -> None:
    def digests(folder: Path) -> dict[str, str]:
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}

    assert digests(small_runs["a"]) == digests(small_runs["b"])
    assert len(digests(small_runs["a"])) == 14  # the partner files, manifest, truth, README and linkage truth
    truth = json.loads((small_runs["a"] / "truth.json").read_text(encoding="utf-8"))
    assert truth["window"] == {"start": "2022-04-01", "end": "2024-03-31"}
    assert 55_000 < truth["generator"]["population"] < 65_000
    police = _with_day(_read(small_runs["a"], "asb_incidents_police.csv"))
    assert police["day"].max() <= pd.Timestamp("2024-03-31")
    assert 600 < len(police) / 2 < 1100  # volumes scale with population


def test_messy_files_carry_the_documented_bad_rows(small_runs: dict[str, Path]) -> None:
    folder = small_runs["messy"]
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    clean = json.loads((small_runs["a"] / "truth.json").read_text(encoding="utf-8"))
    # The valid rows are the clean rows: every figure except the mess itself is unchanged.
    assert {k: v for k, v in truth.items() if k not in ("messy", "generator")} == {
        k: v for k, v in clean.items() if k not in ("messy", "generator")
    }
    files = truth["messy"]["files"]
    reasons = {b["reason"] for f in files.values() for b in f["bad_rows"]}
    assert reasons == {"bad_date", "future_date", "bad_category", "bad_lsoa", "bad_coordinates", "duplicate_ref"}
    for name, mess in files.items():
        raw = (folder / name).read_bytes()
        assert raw.count(b"\r\n") == raw.count(b"\n")  # CRLF throughout
        lines = raw.decode(mess["encoding"]).split("\r\n")[:-1]
        assert len(lines) == 1 + clean["rows"][name] + len(mess["bad_rows"]), name
        header = lines[0].split(mess["delimiter"])
        for alias in mess["header_aliases"].values():
            assert alias in header
        for bad in mess["bad_rows"]:
            fields = lines[bad["line"] - 1].split(mess["delimiter"])
            assert bad["value"] in fields, (name, bad)
            if bad["reason"] == "duplicate_ref":
                assert lines.index(lines[bad["line"] - 1]) < bad["line"] - 1
    assert files["asb_incidents_council.csv"]["encoding"] == "cp1252"
    council = (folder / "asb_incidents_council.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        council.decode("utf-8")
    assert "£" in council.decode("cp1252")
    assert files["domestic_abuse.csv"]["delimiter"] == ";"
    marac = (folder / "marac_referrals.csv").read_text(encoding="utf-8").splitlines()
    assert marac[0].startswith("referral_ref,Referral Date,Victim ID")
    assert all(line.split(",")[1][2] == "/" for line in marac[1:])
    police_header = (folder / "asb_incidents_police.csv").read_text(encoding="utf-8").splitlines()[0]
    assert police_header.startswith("Incident Ref,Date Reported,ASB Category,agency,asb_type,Victim ID")


@pytest.mark.parametrize(
    ("options", "message"),
    [({"years": 1}, "years"), ({"end_month": "April 2023"}, "end_month"), ({"lad_code": "E99999999"}, "LAD")],
)
def test_bad_arguments_are_refused(tmp_path: Path, options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        generate(tmp_path, **options)

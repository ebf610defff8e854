"""Linkage benchmark: one million person records, pseudonymised cspkit linkage against clear-text Splink.

The records are generated here in memory (vectorised numpy, seed 1), with the same kinds of noise as the
project's synthetic partnership: typos, nicknames, swapped day and month, mistyped dates, missing dates and
postcodes, moves (40% of movers to another district), married surnames, twins and household members. Ages are
drawn as the partnership generator draws them (16 to 90, most about 30) and postcode units are as dense as real
ones (about 600 per district). Names come from larger lists than the partnership generator's (a district has a
few thousand surnames, a million records need more), built from real forenames and surname stems and endings.

Two child processes, measured apart (wall time and peak resident memory):

- ``linkage_cspkit``: the gate's SQL derives the keyed features (:mod:`cspkit.privacy.features`) from the clear
  records in an in-memory DuckDB (as ingest would), then cspkit's Splink model trains, predicts and clusters;
- ``linkage_clear``: Splink's own name, date-of-birth and postcode comparisons on the clear values, with
  cspkit's blocking rules, training and twins level: what linkage would reach without pseudonymisation.
  Benchmark only: the clear records never leave this process's memory.

Both are scored pairwise against the generated truth, with exact matching on full name and date of birth beside.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from cspkit.synth.identities import keying_typo


def _words(text: str) -> list[str]:
    return text.split()


FORENAMES_F = _words(
    "Olivia Amelia Isla Ava Emily Sophie Grace Lily Chloe Zoe Sian Niamh Jessica Rebecca Samantha "
    "Elizabeth Margaret Katherine Victoria Jennifer Abigail Sarah Emma Laura Hannah Rachel Charlotte "
    "Lucy Amy Gemma Kelly Nicola Donna Tracey Susan Karen Julie Helen Joanne Claire Aoife Renee Priya "
    "Aisha Fatima Agnieszka Maria Leah Megan Bethan Eilidh Freya Poppy Ella Mia Evie Ruby Daisy Alice "
    "Florence Phoebe Rosie Imogen Holly Jasmine Layla Matilda Erin Maisie Esme Eva Sienna Harriet Paige "
    "Natalie Louise Stacey Kirsty Leanne Danielle Jade Zara Anna Kate Jane Ruth "
)
FORENAMES_M = _words(
    "Oliver George Harry Jack Noah Charlie Thomas James William Robert Michael Daniel Christopher "
    "Alexander Anthony Joseph Nicholas Matthew Andrew David Paul Mark Lee Craig Darren Wayne Stephen "
    "Richard Gareth Rhys Sean Ciaran Jose Mohammed Imran Tomasz Kieran Connor Liam Ryan Dean Jamie "
    "Callum Ethan Lewis Owen Aaron Samuel Benjamin Leo Oscar Archie Henry Freddie Alfie Theo Arthur "
    "Jacob Isaac Edward Max Toby Logan Harvey Adam Luke Joshua Nathan Jordan Bradley Scott Shane Carl "
    "Gary Neil Ian Simon Martin Peter Kevin Jason Philip Colin Graham Keith "
)
NICKNAMES = {
    "Robert": "Bob", "William": "Bill", "Elizabeth": "Liz", "Margaret": "Maggie", "Katherine": "Kate",
    "Michael": "Mike", "James": "Jim", "Rebecca": "Becky", "Jennifer": "Jen", "Daniel": "Dan", "Thomas": "Tom",
    "Samantha": "Sam", "Christopher": "Chris", "Alexander": "Alex", "Victoria": "Vicky", "Anthony": "Tony",
    "Joseph": "Joe", "Jessica": "Jess", "Abigail": "Abbie", "Nicholas": "Nick", "Matthew": "Matt", "Andrew": "Andy",
    "Stephen": "Steve", "Richard": "Rich", "Susan": "Sue", "Joanne": "Jo", "David": "Dave", "Edward": "Ed",
    "Benjamin": "Ben", "Samuel": "Sam", "Frederick": "Fred", "Peter": "Pete",
}  # fmt: skip
STEMS = _words(
    "ash bark bell black brad brook burn cald camp car chad chester clay cole crow dal dart dean dun "
    "east els fair farn fen ford fox gar glad green ham hart hay heath hol hor kent king lang lea lind "
    "mar mid mil moor nor oak pen pick rad red ridge ring rod row rush sal sand shaw shel sher south "
    "stan stock stone strat sud sum sut thorn thur tod wal war wat wel west wheat whit wick wil win wood "
    "worth wy york "
)
ENDINGS = (
    "", "s", "son", "ton", "ley", "by", "ford", "field", "well", "wood", "worth", "ham", "hurst", "man", "er",
    "ing", "cott", "dale", "more", "stead", "wick", "bridge", "combe", "land", "thorpe", "ridge", "brook", "hill",
)  # fmt: skip
DISTRICTS = [f"{a}{n}" for a in ("LU", "MK", "SG", "AL", "HP", "NN", "PE", "CB", "OX", "RG") for n in range(1, 40)]
_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
# The UK has about 1.8 million postcode units in about 3,000 districts and 11,000 sectors: some 4 sectors of 150
# units per district (a unit is about 15 households), so strangers share a unit as often as in a real district.
_SECTORS, _UNITS_PER_SECTOR = 4, 150


def _postcode(district: int, unit: int) -> str:
    """The ``unit``-th postcode unit (0 .. sectors x units - 1) of a district: "LU7 2BX"."""
    sector, rest = divmod(unit, _UNITS_PER_SECTOR)
    return f"{DISTRICTS[district]} {1 + sector}{_LETTERS[rest // 20]}{_LETTERS[rest % 20]}"


def generate_records(n_records: int, seed: int = 1) -> dict[str, list[Any]]:
    """Clear person records with truth: columns unique_id, person, name, dob, postcode, agency."""
    rng = np.random.default_rng(seed)
    surnames = sorted({(s + e).capitalize() for s in STEMS for e in ENDINGS})
    n_people = int(n_records / 1.7)
    sex = rng.random(n_people) < 0.5
    forename_idx = rng.integers(0, len(FORENAMES_F), n_people)
    forenames = [
        (FORENAMES_F[i % len(FORENAMES_F)] if f else FORENAMES_M[i % len(FORENAMES_M)])
        for f, i in zip(sex, forename_idx, strict=True)
    ]
    # Surname frequencies fall with rank as in England and Wales (the commonest about 1.3% of people).
    weights = 1.0 / (np.arange(len(surnames)) + 8.0)
    order = rng.permutation(len(surnames))
    picks = rng.choice(len(surnames), size=n_people, p=weights / weights.sum())
    person_surname = [surnames[order[i]] for i in picks]
    # Ages on 1 January 2023 as the partnership generator draws them (synth/generator.py: victims, perpetrators
    # and offenders from 16 to 90, most about 30), not uniform over a lifetime: more strangers share a birth date.
    age_days = (rng.triangular(16, 30, 90, n_people) * 365.25).astype(np.int64)
    dob_days = (np.datetime64("2023-01-01") - np.datetime64("1970-01-01")).astype(np.int64) - age_days
    district = rng.integers(0, len(DISTRICTS), n_people)
    inward = rng.integers(0, _SECTORS * _UNITS_PER_SECTOR, n_people)
    postcodes = [_postcode(int(d), int(i)) for d, i in zip(district, inward, strict=True)]
    # Twins and households: a share of people copy another's surname, postcode (and, for twins, birth date).
    for share, copy_dob in ((0.01, True), (0.03, False)):
        k = int(share * n_people)
        a = rng.integers(0, n_people, k)
        b = rng.integers(0, n_people, k)
        for i, j in zip(a, b, strict=True):
            person_surname[j], postcodes[j], district[j] = person_surname[i], postcodes[i], district[i]
            if copy_dob:
                dob_days[j] = dob_days[i]
    married = rng.random(n_people) < 0.05
    other_surname = [surnames[int(x)] for x in rng.integers(0, len(surnames), n_people)]
    moved = rng.random(n_people) < 0.15
    new_inward = rng.integers(0, _SECTORS * _UNITS_PER_SECTOR, n_people)
    # As in the partnership generator (synth/identities.py), 40% of movers leave their district for another one
    # of the same postcode area; the rest move within it.
    per_area = len(DISTRICTS) // 10
    far = rng.random(n_people) < 0.4
    new_district = np.where(far, district // per_area * per_area + rng.integers(0, per_area, n_people), district)

    # Records: every person at least once, the rest spread over people (some many times).
    person_of_record = np.concatenate([np.arange(n_people), rng.integers(0, n_people, n_records - n_people)])
    rng.shuffle(person_of_record)
    u = rng.random((n_records, 10))
    draws = rng.integers(0, 1_000_000, n_records)
    agency = rng.integers(0, 4, n_records)
    base = np.datetime64("1970-01-01")
    names, dobs, pcs = [], [], []
    for r, p in enumerate(person_of_record):
        forename, surname = forenames[p], person_surname[p]
        if married[p] and u[r, 0] < 0.5:
            surname = other_surname[p]
        if u[r, 1] < 0.06 and forename in NICKNAMES:
            forename = NICKNAMES[forename]
        if u[r, 2] < 0.05:
            if u[r, 3] < 0.5:
                forename = keying_typo(forename, int(draws[r]))
            else:
                surname = keying_typo(surname, int(draws[r]))
        names.append(f"{surname.upper()}, {forename}" if agency[r] == 3 else f"{forename} {surname}")
        if u[r, 4] < 0.05:
            dobs.append("")
        else:
            y, m, d = str(base + int(dob_days[p])).split("-")
            if u[r, 5] < 0.03 and int(d) <= 12 and d != m:
                m, d = d, m
            elif u[r, 5] < 0.05:
                y = str(int(y) + (1 if u[r, 6] < 0.5 else -1))
            dobs.append(f"{y}-{m}-{d}")
        if u[r, 7] < 0.05:
            pcs.append("")
        else:
            pc = postcodes[p]
            if moved[p] and u[r, 8] < 0.5:
                pc = _postcode(int(new_district[p]), int(new_inward[p]))
            pcs.append(pc.replace(" ", "") if u[r, 9] < 0.1 else pc)
    return {
        "unique_id": [f"r{r:07d}" for r in range(n_records)],
        "person": [int(p) for p in person_of_record],
        "name": names,
        "dob": dobs,
        "postcode": pcs,
        "agency": [int(a) for a in agency],
    }


def _pairwise(con: Any, table: str, predicted: str) -> dict[str, Any]:
    """Pairwise precision/recall/F1 of ``predicted`` (a column) against ``person`` in ``table``, in SQL."""
    sql = f"""
        WITH t AS (SELECT sum(n * (n - 1) / 2) AS v FROM (SELECT count(*) n FROM {table} GROUP BY person)),
             p AS (SELECT sum(n * (n - 1) / 2) AS v FROM (SELECT count(*) n FROM {table} GROUP BY {predicted})),
             tp AS (SELECT sum(n * (n - 1) / 2) AS v FROM (SELECT count(*) n FROM {table} GROUP BY person, {predicted}))
        SELECT t.v, p.v, tp.v FROM t, p, tp"""
    true_pairs, predicted_pairs, tp = (int(x or 0) for x in con.execute(sql).fetchall()[0])
    precision = tp / predicted_pairs if predicted_pairs else 1.0
    recall = tp / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "true_pairs": true_pairs,
        "predicted_pairs": predicted_pairs,
    }


def _connect() -> Any:
    """An in-memory DuckDB that may not spill: the clear records must stay in memory (benchmark only)."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET temp_directory = ''")
    return con


def _clear_table(con: Any, n_records: int) -> None:
    import pyarrow as pa

    con.register("_gen", pa.table(generate_records(n_records)))
    con.execute("CREATE TABLE clear_records AS SELECT * FROM _gen")
    con.unregister("_gen")


def child_cspkit(args: dict[str, Any]) -> dict[str, Any]:
    """Gate features under a key, then cspkit's Splink model (train, predict, cluster), scored against truth.

    As in cspkit, the clear records live only as long as the gate needs them: this process's DuckDB (clear
    records, then keyed features) is closed before Splink starts, keeping only the person records Splink reads
    and the truth needed to score them.
    """
    import duckdb

    from cspkit.linkage.engine import run_splink
    from cspkit.linkage.records import FEATURE_COLUMNS
    from cspkit.privacy.features import linkage_features_sql
    from cspkit.privacy.pseudonymise import identity_tokens_sql

    con = _connect()
    t0 = time.perf_counter()
    _clear_table(con, args["records"])
    generated = time.perf_counter() - t0
    key = bytes(range(32))
    t = time.perf_counter()
    exprs = identity_tokens_sql(key, "p", name_sql="name", dob_sql="dob", postcode_sql="postcode")
    exprs += linkage_features_sql(key, "p", name_sql="name", dob_sql="dob", postcode_sql="postcode")
    stored = ", ".join(f"{e} AS {c}" for c, e in exprs)
    con.execute(f"CREATE TABLE gated AS SELECT unique_id, person, agency, {stored} FROM clear_records")
    con.execute("DROP TABLE clear_records")  # from here on, nothing in clear
    features = ", ".join(f"p_{column} AS {name}" for name, column in FEATURE_COLUMNS.items())
    records = con.sql(
        f"SELECT unique_id, 'bench' AS source, 'person' AS role, CAST(agency AS VARCHAR) AS agency, "
        f"unique_id AS record_key, NULL::VARCHAR AS ref_key, NULL::VARCHAR AS ref_scope, "
        f"DATE '2023-01-01' AS event_date, {features} FROM gated"
    ).to_arrow_table()
    truth = con.sql(
        "SELECT unique_id, person, coalesce(p_forename_token || p_surname_token || p_dob_token, unique_id) AS exact "
        "FROM gated"
    ).to_arrow_table()
    con.close()  # the gate's database goes (its memory with it) before Splink starts
    gate_seconds = time.perf_counter() - t
    records_bytes = records.nbytes
    t = time.perf_counter()
    result = run_splink(records, threshold=0.95, max_pairs=args["max_pairs"])
    link_seconds = time.perf_counter() - t
    n_records = records.num_rows
    del records
    con = duckdb.connect()
    con.register("_truth", truth)
    con.register("_clusters", result.clusters)
    con.execute("CREATE TABLE scored AS SELECT * FROM _truth JOIN _clusters USING (unique_id)")
    scores = _pairwise(con, "scored", "cluster_id")
    exact = _pairwise(con, "scored", "exact")
    return {
        "records": n_records,
        "seconds": gate_seconds + link_seconds,
        "generate_seconds": round(generated, 2),
        "gate_seconds": round(gate_seconds, 2),
        "link_seconds": round(link_seconds, 2),
        "person_records_bytes": records_bytes,
        "splink_steps": {k: round(v, 2) for k, v in result.seconds.items()},
        "pairs_scored": result.diagnostics.get("scored_pairs"),
        **scores,
        "exact_match": exact,
    }


def _clear_prepared_sql() -> str:
    """SQL of the clear values Splink compares, named as cspkit's features so the same rules apply to both.

    The same normalisation as the gate (name split, nickname table, date and postcode forms) and the same
    derived columns for blocking (Soundex, date parts, the day/month swap, district), all in clear.
    """
    from cspkit.privacy.features import soundex_sql
    from cspkit.privacy.nicknames import CANONICAL_FORENAME
    from cspkit.privacy.pseudonymise import normalise_dob_sql, normalise_postcode_sql, split_name_sql

    forename, surname = split_name_sql("name")
    nicknames = ", ".join(f"'{form}': '{canonical}'" for form, canonical in sorted(CANONICAL_FORENAME.items()))
    iso, compact = normalise_dob_sql("dob"), normalise_postcode_sql("postcode")
    return f"""
        WITH n AS (
            SELECT unique_id, person, {forename} AS f, {surname} AS surname, {iso} AS d, {compact} AS pc
            FROM clear_records
        ), c AS (
            SELECT unique_id, person, coalesce(MAP {{{nicknames}}}[f], f) AS forename_std, surname,
                   CAST(d AS DATE) AS dob, left(d, 4) AS y, substr(d, 6, 2) AS m, substr(d, 9, 2) AS dd,
                   left(pc, length(pc) - 3) || ' ' || right(pc, 3) AS postcode
            FROM n
        )
        SELECT unique_id, person, forename_std, surname, dob, postcode,
               {soundex_sql("forename_std")} AS forename_phonetic, {soundex_sql("surname")} AS surname_phonetic,
               CASE WHEN dd <= '12' AND dd <> m THEN CAST(y || '-' || dd || '-' || m AS DATE) END AS dob_swap,
               y || '-' || m AS dob_ym, m || '-' || dd AS dob_md, y || '/' || dd AS dob_yd,
               split_part(postcode, ' ', 1) AS postcode_district,
               NULL::VARCHAR AS ref_scope, NULL::VARCHAR AS ref_key
        FROM c"""


def _clear_settings() -> Any:
    """Splink's own name, date-of-birth and postcode comparisons, cspkit's blocking rules and twins level."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator

    from cspkit.linkage.model import DEFAULT_THRESHOLD, PREDICTION_BLOCKING_RULES, TWIN_M_PROBABILITY

    assert DEFAULT_THRESHOLD  # the clusters are cut at the same threshold (child_clear)
    # Splink's NameComparison levels for the forename, with cspkit's twins level before "anything else" (the
    # same modelling knowledge, so the comparison measures what pseudonymisation costs, not the twins rule).
    twins = cll.CustomLevel(
        "dob_l = dob_r OR dob_l = dob_swap_r OR dob_swap_l = dob_r", "different, same date of birth (twins)"
    ).configure(m_probability=TWIN_M_PROBABILITY, fix_m_probability=True)
    forename = cl.CustomComparison(
        output_column_name="forename_std",
        comparison_levels=[
            cll.NullLevel("forename_std"),
            cll.ExactMatchLevel("forename_std", term_frequency_adjustments=True),
            cll.JaroWinklerLevel("forename_std", 0.92),
            cll.JaroWinklerLevel("forename_std", 0.88),
            cll.JaroWinklerLevel("forename_std", 0.7),
            twins,
            cll.ElseLevel(),
        ],
    )
    return SettingsCreator(
        link_type="dedupe_only",
        comparisons=[
            forename,
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison("dob", input_is_string=False),
            cl.PostcodeComparison("postcode"),
        ],
        blocking_rules_to_generate_predictions=list(PREDICTION_BLOCKING_RULES),
        retain_matching_columns=False,
        em_convergence=0.0001,
        max_iterations=25,
    )


def child_clear(args: dict[str, Any]) -> dict[str, Any]:
    """Splink's own comparisons on the clear values (benchmark only, in memory), same blocking and training.

    The blocking rules, the prior's deterministic rules, the u sample and the EM sessions are cspkit's
    (:mod:`cspkit.linkage.model`), applied to clear columns of the same names; the comparisons are Splink's
    library ones (Jaro-Winkler names with term frequencies, date of birth by Levenshtein and date difference,
    postcode unit/sector/district/area).
    """
    import logging
    import tempfile

    import duckdb
    from splink import DuckDBAPI, Linker

    from cspkit.linkage.model import DEFAULT_THRESHOLD, DETERMINISTIC_RULES, EM_BLOCKING_RULES

    logging.getLogger("splink").setLevel(logging.ERROR)
    con = duckdb.connect()  # the clear baseline may spill (synthetic data, a private folder removed on exit)
    spill = tempfile.TemporaryDirectory(prefix="cspkit-bench-")
    con.execute(f"SET memory_limit = '4GB'; SET temp_directory = '{spill.name}'; SET preserve_insertion_order = false")
    t0 = time.perf_counter()
    _clear_table(con, args["records"])
    generated = time.perf_counter() - t0
    t = time.perf_counter()
    con.execute(f"CREATE TABLE prepared AS {_clear_prepared_sql()}")
    con.execute("DROP TABLE clear_records")
    steps: dict[str, float] = {"prepare": time.perf_counter() - t}
    db = DuckDBAPI(connection=con)
    linker = Linker(db.register("prepared"), _clear_settings(), log_level=logging.ERROR)
    s = time.perf_counter()
    linker.training.estimate_probability_two_random_records_match(list(DETERMINISTIC_RULES), recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=args["max_pairs"], seed=1)
    steps["u"] = time.perf_counter() - s
    s = time.perf_counter()
    for rule in EM_BLOCKING_RULES:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    steps["em"] = time.perf_counter() - s
    s = time.perf_counter()
    for column in ("forename_std", "surname"):
        linker.table_management.compute_tf_table(column)
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    steps["predict"] = time.perf_counter() - s
    s = time.perf_counter()
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=DEFAULT_THRESHOLD
    )
    steps["cluster"] = time.perf_counter() - s
    seconds = time.perf_counter() - t
    scored_pairs = con.execute(f"SELECT count(*) FROM {predictions.physical_name}").fetchall()[0][0]
    con.execute(
        f"CREATE TABLE scored AS SELECT p.person, c.cluster_id FROM prepared p "
        f"JOIN {clusters.physical_name} c USING (unique_id)"
    )
    scores = _pairwise(con, "scored", "cluster_id")
    return {
        "records": args["records"],
        "seconds": seconds,
        "generate_seconds": round(generated, 2),
        "splink_steps": {k: round(v, 2) for k, v in steps.items()},
        "pairs_scored": int(scored_pairs),
        **scores,
    }

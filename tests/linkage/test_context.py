"""Perpetrators of one victim merged when nothing tells them apart (planted records, real gate features)."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from cspkit.linkage.context import merge_perpetrators_of_victims
from cspkit.linkage.records import FEATURE_COLUMNS
from cspkit.privacy.features import linkage_features_sql
from cspkit.privacy.pseudonymise import identity_tokens_sql

KEY = b"k" * 32

# (uid, source, role, agency, record_key, ref_key, name, dob, splink cluster)
RECORDS = [
    # Victim V: a DA incident and a MARAC referral; her abuser named in both, no date of birth in either.
    ("v1", "domestic_abuse", "victim", "police", "i1", "V1", "Amy Hart", "1990-01-02", "V"),
    ("v2", "marac_referrals", "victim", "marac", "r1", "M1", "HART, Amy", "1990-01-02", "V"),
    ("p1", "domestic_abuse", "perpetrator", "police", "i1", "P1", "Darren KNIGHT", None, "A"),
    ("p2", "marac_referrals", "perpetrator", "marac", "r1", None, "darren knight", None, "B"),
    # Victim W: two men called Lee Parker, born years apart: two people.
    ("w1", "domestic_abuse", "victim", "police", "i2", "V2", "Jo Bell", "1985-06-07", "W"),
    ("w2", "domestic_abuse", "victim", "police", "i3", "V2", "Jo Bell", "1985-06-07", "W"),
    ("p3", "domestic_abuse", "perpetrator", "police", "i2", None, "Lee Parker", "1980-01-02", "C"),
    ("p4", "domestic_abuse", "perpetrator", "police", "i3", None, "Lee Parker", "1991-07-23", "D"),
    # Victim X: two different names.
    ("x1", "domestic_abuse", "victim", "police", "i4", "V3", "Kim Fox", "1970-03-03", "X"),
    ("x2", "domestic_abuse", "victim", "police", "i5", "V3", "Kim Fox", "1970-03-03", "X"),
    ("p5", "domestic_abuse", "perpetrator", "police", "i4", None, "Tom Hughes", None, "E"),
    ("p6", "domestic_abuse", "perpetrator", "police", "i5", None, "Ian Moss", None, "F"),
    # Victim Y: one name, but police hold two nominal references for them: two people.
    ("y1", "domestic_abuse", "victim", "police", "i6", "V4", "Eve Lamb", "1975-04-05", "Y"),
    ("y2", "domestic_abuse", "victim", "police", "i7", "V4", "Eve Lamb", "1975-04-05", "Y"),
    ("p7", "domestic_abuse", "perpetrator", "police", "i6", "P7", "Sam Cole", None, "G"),
    ("p8", "domestic_abuse", "perpetrator", "police", "i7", "P8", "Sam Cole", None, "H"),
    # Victim Z: a nickname, a spelling variant and a swapped date of birth: one man.
    ("z1", "domestic_abuse", "victim", "police", "i8", "V5", "Liz Ward", "1982-08-09", "Z"),
    ("z2", "marac_referrals", "victim", "marac", "r2", "M5", "Liz Ward", "1982-08-09", "Z"),
    ("p9", "domestic_abuse", "perpetrator", "police", "i8", None, "Robert SMYTH", "1979-03-04", "I"),
    ("p10", "marac_referrals", "perpetrator", "marac", "r2", None, "Bob Smith", "1979-04-03", "J"),
    # Victim Q: John Reed without a date, then two John Reeds with different dates: the first joins one of them
    # and the chain stops there (never all three).
    ("q1", "domestic_abuse", "victim", "police", "i9", "V6", "Ann Rowe", "1960-02-02", "Q"),
    ("q2", "domestic_abuse", "victim", "police", "i10", "V6", "Ann Rowe", "1960-02-02", "Q"),
    ("q3", "domestic_abuse", "victim", "police", "i11", "V6", "Ann Rowe", "1960-02-02", "Q"),
    ("p11", "domestic_abuse", "perpetrator", "police", "i9", None, "John Reed", None, "K1"),
    ("p12", "domestic_abuse", "perpetrator", "police", "i10", None, "John Reed", "1970-05-05", "K2"),
    ("p13", "domestic_abuse", "perpetrator", "police", "i11", None, "John Reed", "1985-11-20", "K3"),
    # Victim R: police hold Gareth and Gary Tate under one reference: one man, whatever the forenames say.
    ("r1", "domestic_abuse", "victim", "police", "i12", "V7", "Mia Cook", "1994-12-01", "R"),
    ("r2", "domestic_abuse", "victim", "police", "i13", "V7", "Mia Cook", "1994-12-01", "R"),
    ("p14", "domestic_abuse", "perpetrator", "police", "i12", "P20", "Gareth Tate", None, "L"),
    ("p15", "domestic_abuse", "perpetrator", "police", "i13", "P20", "Gary Tate", None, "M"),
    # Victim S: a changed surname, but the forename and the date of birth agree: one man.
    ("s1", "domestic_abuse", "victim", "police", "i14", "V8", "Zoe Hill", "1988-10-10", "S"),
    ("s2", "marac_referrals", "victim", "marac", "r3", "M8", "Zoe Hill", "1988-10-10", "S"),
    ("p16", "domestic_abuse", "perpetrator", "police", "i14", None, "Neil Osborne", "1977-07-07", "N"),
    ("p17", "marac_referrals", "perpetrator", "marac", "r3", None, "Neil Grant", "1977-07-07", "O"),
    # Victim T: the same surname only: two people (one name agreeing is not enough).
    ("t1", "domestic_abuse", "victim", "police", "i15", "V9", "Ada Lowe", "1999-01-09", "T"),
    ("t2", "domestic_abuse", "victim", "police", "i16", "V9", "Ada Lowe", "1999-01-09", "T"),
    ("p18", "domestic_abuse", "perpetrator", "police", "i15", None, "Carl Lowe", None, "P"),
    ("p19", "domestic_abuse", "perpetrator", "police", "i16", None, "Ryan Lowe", None, "P2"),
]


def _records() -> pa.Table:
    """The planted records as linkage reads them: keyed features from the gate's own SQL, nothing in clear."""
    con = duckdb.connect()
    con.register(
        "clear",
        pa.table({name: [r[i] for r in RECORDS] for i, name in enumerate(("uid", "source", "role", "agency",
                                                                          "rk", "ref", "name", "dob"))}),
    )  # fmt: skip
    exprs = identity_tokens_sql(KEY, "p", name_sql="name", dob_sql="dob") + linkage_features_sql(
        KEY, "p", name_sql="name", dob_sql="dob"
    )
    by_name = dict(exprs)
    features = ", ".join(f"{by_name.get('p_' + column, 'NULL')} AS {name}" for name, column in FEATURE_COLUMNS.items())
    return con.sql(
        "SELECT uid AS unique_id, source, role, agency, rk AS record_key, ref AS ref_key, "
        f"agency || '|' || role || '_ref' AS ref_scope, {features} FROM clear"
    ).to_arrow_table()


def test_perpetrators_of_one_victim_merge_only_when_nothing_tells_them_apart() -> None:
    clusters = pa.table({"unique_id": [r[0] for r in RECORDS], "cluster_id": [r[8] for r in RECORDS]})
    merged, merges = merge_perpetrators_of_victims(_records(), clusters)
    person = dict(zip(merged["unique_id"].to_pylist(), merged["cluster_id"].to_pylist(), strict=True))
    assert person["p1"] == person["p2"]  # no date of birth anywhere, one name, one victim: one man
    assert person["p3"] != person["p4"]  # dates of birth tell them apart
    assert person["p5"] != person["p6"]  # different names
    assert person["p7"] != person["p8"]  # police's own references tell them apart
    assert person["p9"] == person["p10"]  # Bob = Robert, Smyth sounds as Smith, the date swapped
    assert person["p11"] == person["p12"] != person["p13"]  # a chain never joins two dated John Reeds
    assert person["p14"] == person["p15"]  # one police reference
    assert person["p16"] == person["p17"]  # forename and date of birth
    assert person["p18"] != person["p19"]  # a surname alone
    assert merges == 5
    # Victims are never merged, and records of other roles keep their clusters.
    assert len({person[u] for u in ("v1", "w1", "x1", "y1", "z1", "q1", "r1", "s1", "t1")}) == 9
    assert person["v1"] == person["v2"] == "V"

"""Perpetrators of one victim: one person when nothing tells their records apart.

Splink compares two records on their own: a perpetrator recorded by police DA and by MARAC as "Darren Knight",
with no date of birth and no postcode in either (a quarter of perpetrators' dates of birth and nearly a third of
their postcodes are unknown), scores a name agreement only, far below the threshold, since many people share a
name. So one perpetrator split into several people, and a victim seemed to have several perpetrators.

But two records that name the same victim's perpetrator are not two random records: the victim narrows the
candidates to her abusers. Within one victim (one linked person), perpetrator clusters are merged when

- an agency holds them under one of its own person references; otherwise, when
- nothing tells them apart: no agency holds them under two different references, and where both have a date of
  birth, some pair of records agrees on the date, the swapped date or two of its three parts; and
- two things agree, one of them a name: the surname, the forename (each by the same keyed token, the forename after
  the nickname table, the same Soundex code, or bigram Dice >= 0.75), the date of birth, the postcode.

Two perpetrators of one victim with one name and different dates of birth stay two people, and so do two that one
agency holds under two references. Only keyed values are read (the same features Splink compares).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import pyarrow as pa

__all__ = ["DICE_SAME_NAME", "merge_perpetrators_of_victims"]

DICE_SAME_NAME = 0.75  # the model's upper bigram level
_INCIDENT_SOURCES = ("domestic_abuse", "marac_referrals")


@dataclass
class _Cluster:
    """What a perpetrator cluster's records say about who it is (keyed values only)."""

    surnames: set[str] = field(default_factory=set)
    phonetic_surnames: set[str] = field(default_factory=set)
    forenames: set[str] = field(default_factory=set)
    phonetic_forenames: set[str] = field(default_factory=set)
    surname_grams: list[frozenset[str]] = field(default_factory=list)
    forename_grams: list[frozenset[str]] = field(default_factory=list)
    dobs: list[dict[str, Any]] = field(default_factory=list)
    postcodes: set[str] = field(default_factory=set)
    refs: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))

    def absorb(self, other: _Cluster) -> None:
        """Take in another cluster's evidence (the two are now one person)."""
        self.surnames |= other.surnames
        self.phonetic_surnames |= other.phonetic_surnames
        self.forenames |= other.forenames
        self.phonetic_forenames |= other.phonetic_forenames
        self.surname_grams += other.surname_grams
        self.forename_grams += other.forename_grams
        self.dobs += other.dobs
        self.postcodes |= other.postcodes
        for scope, refs in other.refs.items():
            self.refs[scope] |= refs


def _dice(a: frozenset[str], b: frozenset[str]) -> float:
    return 2 * len(a & b) / (len(a) + len(b)) if a and b else 0.0


def _any_dice(xs: list[frozenset[str]], ys: list[frozenset[str]]) -> bool:
    return any(_dice(x, y) >= DICE_SAME_NAME for x in xs for y in ys)


def _same_dob(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if a["dob"] == b["dob"] or a["dob"] in (b["dob_swap"],) or b["dob"] in (a["dob_swap"],):
        return True
    return any(a[p] is not None and a[p] == b[p] for p in ("dob_ym", "dob_md", "dob_yd"))


def _compatible(a: _Cluster, b: _Cluster) -> bool:
    """Nothing tells the two apart, and enough says they are one: see the module docstring."""
    shared_ref = any(a.refs[scope] & b.refs.get(scope, set()) for scope in a.refs)
    if shared_ref:  # the agency itself holds them as one person
        return True
    if any(a.refs[scope] and b.refs.get(scope) for scope in a.refs):
        return False  # one agency, two references: two people to that agency
    dob_conflict = bool(a.dobs and b.dobs) and not any(_same_dob(x, y) for x in a.dobs for y in b.dobs)
    if dob_conflict:
        return False
    surname = (
        bool(a.surnames & b.surnames)
        or bool(a.phonetic_surnames & b.phonetic_surnames)
        or _any_dice(a.surname_grams, b.surname_grams)
    )
    forename = (
        bool(a.forenames & b.forenames)
        or bool(a.phonetic_forenames & b.phonetic_forenames)
        or _any_dice(a.forename_grams, b.forename_grams)
    )
    dob = bool(a.dobs and b.dobs)  # both dated and (no conflict) agreeing
    postcode = bool(a.postcodes & b.postcodes)
    return (surname or forename) and surname + forename + dob + postcode >= 2


def merge_perpetrators_of_victims(records: pa.Table, clusters: pa.Table) -> tuple[pa.Table, int]:
    """Clusters with the perpetrator clusters of each victim merged where nothing tells them apart.

    Args:
        records: the person records linkage ran on (linkage/records.py columns).
        clusters: Splink's ``unique_id, cluster_id`` (records missing from it stand alone).

    Returns:
        The clusters after merging (``unique_id, cluster_id`` for every record), and how many merges were made.
    """
    rows = records.select(
        [
            "unique_id", "source", "role", "agency", "record_key", "ref_key", "ref_scope", "forename_std",
            "forename_phonetic", "forename_grams", "surname", "surname_phonetic", "surname_grams", "dob",
            "dob_swap", "dob_ym", "dob_md", "dob_yd", "postcode",
        ]
    ).to_pylist()  # fmt: skip
    cluster_of = {
        str(u): str(c)
        for u, c in zip(clusters["unique_id"].to_pylist(), clusters["cluster_id"].to_pylist(), strict=True)
    }
    for row in rows:
        cluster_of.setdefault(row["unique_id"], row["unique_id"])
    parent: dict[str, str] = {}

    def find(c: str) -> str:
        while parent.get(c, c) != c:
            parent[c] = parent.get(parent[c], parent[c])
            c = parent[c]
        return c

    incidents: dict[tuple[str, str, str], dict[str, str]] = defaultdict(dict)
    about: dict[str, _Cluster] = defaultdict(_Cluster)
    for row in rows:
        if row["source"] not in _INCIDENT_SOURCES:
            continue
        incidents[(row["source"], row["agency"], row["record_key"])][row["role"]] = row["unique_id"]
        if row["role"] != "perpetrator":
            continue
        c = about[cluster_of[row["unique_id"]]]
        for values, column in (
            (c.surnames, "surname"),
            (c.phonetic_surnames, "surname_phonetic"),
            (c.forenames, "forename_std"),
            (c.phonetic_forenames, "forename_phonetic"),
            (c.postcodes, "postcode"),
        ):
            if row[column] is not None:
                values.add(row[column])
        for grams, value in ((c.surname_grams, row["surname_grams"]), (c.forename_grams, row["forename_grams"])):
            if value:
                grams.append(frozenset(value))
        if row["dob"] is not None:
            c.dobs.append(row)
        if row["ref_key"] is not None:
            c.refs[row["ref_scope"]].add(row["ref_key"])
    perpetrators_of: dict[str, set[str]] = defaultdict(set)
    for roles in incidents.values():
        if "victim" in roles and "perpetrator" in roles:
            perpetrators_of[cluster_of[roles["victim"]]].add(cluster_of[roles["perpetrator"]])
    merges = 0
    for victim in sorted(perpetrators_of):
        for a, b in combinations(sorted(perpetrators_of[victim]), 2):
            ra, rb = find(a), find(b)
            # Compared as merged so far: a chain of merges never joins two people a date of birth tells apart.
            if ra != rb and _compatible(about[ra], about[rb]):
                keep, gone = min(ra, rb), max(ra, rb)
                parent[gone] = keep
                about[keep].absorb(about.pop(gone))
                merges += 1
    ids = list(cluster_of)
    merged = [find(cluster_of[u]) for u in ids]
    return pa.table({"unique_id": ids, "cluster_id": merged}), merges

"""Scoring a linkage against a clerically reviewed sample (TRUTH.csv), pairwise.

TRUTH.csv has ``source,record_ref,role,person_label``: the contract name, the record's own reference as in the
partner file (incident_ref, referral_ref, offender_ref), the role (victim, perpetrator, offender) and the true
person. The reference is pseudonymised with the workspace key before use, exactly as ingest did, and matched to
the linked records. Over all pairs of the matched records: a true pair has one person label, a predicted pair
one person id; precision = true positive pairs / predicted pairs, recall = true positive pairs / true pairs.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import duckdb

from cspkit.errors import InputFileError
from cspkit.linkage.duplicates import asb_duplicates
from cspkit.linkage.records import ROLES, records_sql
from cspkit.privacy.pseudonymise import pseudonym, ref_namespace

__all__ = [
    "AsbDuplicateScore",
    "Evaluation",
    "evaluate",
    "evaluate_asb_duplicates",
    "pairwise_scores",
    "read_asb_copies",
    "read_truth",
]

_HEADER = ("source", "record_ref", "role", "person_label")


@dataclass(frozen=True)
class Evaluation:
    """Pairwise precision, recall and F1 of a linkage on a labelled sample."""

    precision: float
    recall: float
    f1: float
    true_pairs: int
    predicted_pairs: int
    true_positive_pairs: int
    records: int
    true_people: int
    predicted_people: int
    not_found: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The keys ``cspkit link evaluate --json`` prints (``not_found`` is reported apart)."""
        out = asdict(self)
        out.pop("not_found")
        return out


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def pairwise_scores(labels: list[tuple[str, str]]) -> Evaluation:
    """Scores from (true label, predicted person id) per record."""
    true_pairs = sum(_pairs(n) for n in Counter(t for t, _ in labels).values())
    predicted_pairs = sum(_pairs(n) for n in Counter(p for _, p in labels).values())
    tp = sum(_pairs(n) for n in Counter(labels).values())
    precision = tp / predicted_pairs if predicted_pairs else 1.0
    recall = tp / true_pairs if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Evaluation(
        round(precision, 6),
        round(recall, 6),
        round(f1, 6),
        true_pairs,
        predicted_pairs,
        tp,
        len(labels),
        len({t for t, _ in labels}),
        len({p for _, p in labels}),
    )


def read_truth(path: Path) -> list[tuple[str, str, str, str]]:
    """The rows of TRUTH.csv, checked: one clear error naming the file, row and column on bad input."""
    roles = {(r.source, r.role) for r in ROLES}
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            header = [h.strip().lower() for h in next(reader, [])]
            if tuple(header[:4]) != _HEADER:
                raise InputFileError(f"{path.name}: row 1: the header must be {','.join(_HEADER)}.")
            rows = []
            for line, row in enumerate(reader, start=2):
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) < 4:
                    raise InputFileError(f"{path.name}: row {line}: expected 4 columns ({','.join(_HEADER)}).")
                source, ref, role, label = (cell.strip() for cell in row[:4])
                if (source, role) not in roles:
                    known = ", ".join(sorted(f"{s}/{r}" for s, r in roles))
                    raise InputFileError(
                        f"{path.name}: row {line}, column source/role: {source}/{role} is not a linked role ({known})."
                    )
                for column, value in (("record_ref", ref), ("person_label", label)):
                    if not value:
                        raise InputFileError(f"{path.name}: row {line}, column {column}: a value is required.")
                rows.append((source, ref, role, label))
    except OSError as error:
        raise InputFileError(f"{path}: cannot be read ({error.strerror}).") from None
    except UnicodeDecodeError:
        raise InputFileError(f"{path.name}: not UTF-8 text.") from None
    return rows


#: The baseline: records are the same person when full name (forename and surname as written) and date of
#: birth tokens are all present and equal; any other record stands alone.
EXACT_BASELINE = "exact"


def evaluate(
    con: duckdb.DuckDBPyConnection,
    key: bytes,
    truth: list[tuple[str, str, str, str]],
    *,
    baseline: str | None = None,
) -> Evaluation:
    """Score the stored linkage (``link_people``), or the exact-match baseline, on the truth rows."""
    has_links = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = 'link_people'"
    ).fetchall()[0][0]
    if not has_links and baseline is None:
        raise InputFileError("No linkage is stored yet: run `cspkit link` first.")
    people = "link_people"
    if baseline == EXACT_BASELINE:
        people = (
            "(SELECT unique_id, source, role, agency, record_key, "
            "coalesce(forename || surname || dob, unique_id) AS person_id "
            f"FROM ({records_sql(con, key)}))"
        )
    elif baseline is not None:
        raise InputFileError(f"Unknown baseline {baseline!r}: use {EXACT_BASELINE}.")
    by_role = {(r.source, r.role): r for r in ROLES}
    agencies = dict(con.execute(f"SELECT source, list(DISTINCT agency) FROM {people} GROUP BY source").fetchall())
    keyed: list[tuple[str, str, str, str]] = []
    variants: list[list[tuple[str, str, str]]] = []  # per truth row, the (source, role, record_key) it may be
    for source, ref, role, label in truth:
        spec = by_role[(source, role)]
        ref_column = spec.record_key[: -len("_key")] + "_ref"
        if source == "offenders":  # a person reference: namespaced by agency
            namespaces = [ref_namespace(agency, ref_column) for agency in agencies.get(source, [])]
        else:  # a case reference: shared between agencies
            namespaces = [ref_namespace("all-agencies", ref_column)]
        row_keys = [(source, role, pseudonym(key, ns, ref) or "") for ns in namespaces]
        variants.append(row_keys)
        keyed += [(*k, label) for k in row_keys]
    con.execute(
        "CREATE OR REPLACE TEMP TABLE _link_truth (source VARCHAR, role VARCHAR, record_key VARCHAR, label VARCHAR)"
    )
    try:
        con.executemany("INSERT INTO _link_truth VALUES (?, ?, ?, ?)", keyed)
        rows = con.execute(
            "SELECT DISTINCT p.unique_id, t.label, CAST(p.person_id AS VARCHAR), p.source, p.role, p.record_key "
            f"FROM _link_truth t JOIN {people} p USING (source, role, record_key)"
        ).fetchall()
    finally:
        con.execute("DROP TABLE IF EXISTS _link_truth")
    matched = {(s, r, k) for *_, s, r, k in rows}
    labels = [(label, person) for _, label, person, *_ in rows]
    result = pairwise_scores(labels)
    not_found = sum(1 for row_keys in variants if not any(k in matched for k in row_keys))
    return Evaluation(**{**asdict(result), "not_found": not_found})


@dataclass(frozen=True)
class AsbDuplicateScore:
    """Partner ASB records that copy a police incident under another reference: planted, and found by linkage."""

    planted: int
    found: int
    correct: int

    @property
    def precision(self) -> float:
        return self.correct / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.planted if self.planted else 1.0


def read_asb_copies(path: Path) -> dict[str, str]:
    """The optional fifth column of TRUTH.csv, ``same_incident_as``: for an ASB record that copies another
    agency's incident under its own reference, that incident's reference. Empty when the column is absent."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        if "same_incident_as" not in (reader.fieldnames or []):
            return {}
        return {
            row["record_ref"].strip(): row["same_incident_as"].strip()
            for row in reader
            if row.get("source", "").strip() == "asb_incidents" and (row.get("same_incident_as") or "").strip()
        }


def evaluate_asb_duplicates(con: duckdb.DuckDBPyConnection, key: bytes, copies: dict[str, str]) -> AsbDuplicateScore:
    """Score the ASB duplicates linkage finds (linkage/duplicates.py, all dates) against the planted copies."""
    namespace = ref_namespace("all-agencies", "incident_ref")
    planted = {pseudonym(key, namespace, ref) for ref in copies}
    found = {incident for _, incident in asb_duplicates(con).linked}
    return AsbDuplicateScore(len(planted), len(found), len(found & planted))

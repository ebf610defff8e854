"""The Splink model: comparisons of keyed features, blocking rules, and training.

Every comparison reads pseudonymised features only (see :mod:`cspkit.privacy.features`). Names are compared
by their keyed canonical token (term-frequency adjusted: agreeing on a rare forename counts for more than on
Mohammed), then by the Dice similarity of their keyed bigram sets, then by keyed Soundex; dates of birth by
their token, the day/month swap, and pairs of date parts; postcodes by unit, sector and district; and the
partner's own person reference, where two records come from the same agency and column.

The SQL is written for each backend (DuckDB lists, Spark arrays), so the same model runs on both.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "DEFAULT_THRESHOLD",
    "EM_BLOCKING_RULES",
    "PREDICTION_BLOCKING_RULES",
    "same_structure",
    "settings_dict",
]

#: Match probability at or above which two records are the same person (clustering threshold).
DEFAULT_THRESHOLD = 0.95

#: Pairs compared at prediction (a pair is compared when any rule holds). Each rule is an SQL condition. A date
#: of birth alone is not a rule: with a million records it would compare tens of millions of pairs, so it comes
#: with one other agreement (district, either name's sound), and the names' sounds with two of three date parts.
PREDICTION_BLOCKING_RULES: tuple[str, ...] = (
    "l.dob = r.dob AND l.postcode_district = r.postcode_district",
    "l.dob = r.dob AND l.surname_phonetic = r.surname_phonetic",
    "l.dob = r.dob AND l.forename_phonetic = r.forename_phonetic",
    "l.dob = r.dob_swap AND (l.surname_phonetic = r.surname_phonetic OR l.forename_phonetic = r.forename_phonetic)",
    "l.forename_phonetic = r.forename_phonetic AND l.surname_phonetic = r.surname_phonetic AND l.dob_ym = r.dob_ym",
    "l.forename_phonetic = r.forename_phonetic AND l.surname_phonetic = r.surname_phonetic AND l.dob_md = r.dob_md",
    "l.forename_phonetic = r.forename_phonetic AND l.surname_phonetic = r.surname_phonetic AND l.dob_yd = r.dob_yd",
    "l.postcode = r.postcode AND l.forename_phonetic = r.forename_phonetic",
    "l.forename_std = r.forename_std AND l.surname = r.surname AND l.postcode_district = r.postcode_district",
    "l.ref_scope = r.ref_scope AND l.ref_key = r.ref_key",
)

#: EM sessions: each fixes the comparisons its rule uses and estimates m for the others, so together they
#: estimate every comparison (names in the first, date of birth and postcode in the second).
EM_BLOCKING_RULES: tuple[str, ...] = (
    "l.dob = r.dob AND l.postcode_district = r.postcode_district",
    "l.forename_phonetic = r.forename_phonetic AND l.surname_phonetic = r.surname_phonetic",
    "l.postcode = r.postcode",
)

#: Deterministic rules for the prior (probability two random records match): near-certain matches.
DETERMINISTIC_RULES: tuple[str, ...] = (
    "l.forename_std = r.forename_std AND l.surname = r.surname AND l.dob = r.dob",
    "l.ref_scope = r.ref_scope AND l.ref_key = r.ref_key AND l.dob = r.dob",
)


def _null(*columns: str) -> str:
    return " OR ".join(f"{c}_l IS NULL OR {c}_r IS NULL" for c in columns)


def _dice(column: str, dialect: str) -> str:
    if dialect == "spark":
        inter, size_l, size_r = (
            f"size(array_intersect({column}_l, {column}_r))",
            f"size({column}_l)",
            f"size({column}_r)",
        )
    else:
        inter, size_l, size_r = (
            f"len(list_intersect({column}_l, {column}_r))",
            f"len({column}_l)",
            f"len({column}_r)",
        )
    return f"(2.0 * {inter} / ({size_l} + {size_r}))"


def _level(sql: str, label: str, **extra: Any) -> dict[str, Any]:
    return {"sql_condition": sql, "label_for_charts": label, **extra}


#: m of the twins level: fixed near zero, so two records on one date of birth whose forenames share nothing are
#: two people (about -25 bits against a u of about 4e-5), whatever their surname and address say.
TWIN_M_PROBABILITY = 1e-12


def _twin_level() -> dict[str, Any]:
    """Forenames entirely different (no token, bigram or Soundex agreement) on the same date of birth.

    Twins, and siblings recorded with one date, agree on surname, date of birth and address: Fellegi-Sunter adds
    those agreements as if independent, and random pairs (where u is measured) almost never contain twins, so
    without this level they score as the same person (at 1M generated records they were 9 in 10 false links).
    EM cannot learn it either: in its blocks twins look like matches with a changed forename. So m is fixed:
    the same person is taken never to carry two unrelated forenames with one date of birth. The price: a
    person whose forename one agency recorded as something else entirely links only through other records.
    """
    same_date = "dob_l = dob_r OR dob_l = dob_swap_r OR dob_swap_l = dob_r"
    return _level(
        same_date,
        "different, same date of birth (twins)",
        m_probability=TWIN_M_PROBABILITY,
        fix_m_probability=True,
    )


def _name_comparison(name: str, exact_column: str, dialect: str) -> dict[str, Any]:
    grams, phonetic = f"{name}_grams", f"{name}_phonetic"
    dice = _dice(grams, dialect)
    twins = [_twin_level()] if name == "forename" else []
    return {
        "output_column_name": name,
        "comparison_description": f"{name}: keyed token, Dice of keyed bigrams, keyed Soundex",
        "comparison_levels": [
            _level(_null(exact_column, grams), f"{name} missing", is_null_level=True),
            _level(
                f"{exact_column}_l = {exact_column}_r",
                "same (keyed token)",
                tf_adjustment_column=exact_column,
                tf_adjustment_weight=1.0,
            ),
            _level(f"{dice} >= 0.75", "bigram Dice >= 0.75"),
            _level(f"{dice} >= 0.55", "bigram Dice >= 0.55"),
            _level(f"{phonetic}_l = {phonetic}_r", "same Soundex"),
            *twins,
            _level("ELSE", "different"),
        ],
    }


def _dob_comparison() -> dict[str, Any]:
    return {
        "output_column_name": "dob",
        "comparison_description": "date of birth: keyed date, day/month swap, two of three parts",
        "comparison_levels": [
            _level(_null("dob"), "date of birth missing", is_null_level=True),
            _level("dob_l = dob_r", "same date"),
            _level("dob_l = dob_swap_r OR dob_swap_l = dob_r", "day and month swapped"),
            _level("dob_ym_l = dob_ym_r OR dob_md_l = dob_md_r OR dob_yd_l = dob_yd_r", "two of three parts"),
            _level("ELSE", "different"),
        ],
    }


def _postcode_comparison() -> dict[str, Any]:
    return {
        "output_column_name": "postcode",
        "comparison_description": "postcode: keyed unit, sector, district",
        "comparison_levels": [
            _level(_null("postcode"), "postcode missing", is_null_level=True),
            _level(
                "postcode_l = postcode_r", "same postcode", tf_adjustment_column="postcode", tf_adjustment_weight=1.0
            ),
            _level("postcode_sector_l = postcode_sector_r", "same sector"),
            _level("postcode_district_l = postcode_district_r", "same district"),
            _level("ELSE", "different"),
        ],
    }


def _reference_comparison() -> dict[str, Any]:
    return {
        "output_column_name": "partner_ref",
        "comparison_description": "the partner's own person reference (same agency and column only)",
        "comparison_levels": [
            _level(
                f"{_null('ref_key')} OR ref_scope_l <> ref_scope_r",
                "not comparable (other agency or no reference)",
                is_null_level=True,
            ),
            _level("ref_key_l = ref_key_r", "same reference"),
            _level("ELSE", "different reference"),
        ],
    }


def _rule(sql: str, dialect: str) -> dict[str, str]:
    return {"blocking_rule": sql, "sql_dialect": dialect}


def settings_dict(dialect: str = "duckdb") -> dict[str, Any]:
    """The untrained model as Splink settings (a plain dict, saved with its parameters after training)."""
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "unique_id",
        "probability_two_random_records_match": 1e-4,
        "sql_dialect": dialect,
        "retain_matching_columns": False,
        "retain_intermediate_calculation_columns": False,
        "additional_columns_to_retain": [],
        "em_convergence": 0.0001,
        "max_iterations": 25,
        "blocking_rules_to_generate_predictions": [_rule(r, dialect) for r in PREDICTION_BLOCKING_RULES],
        "comparisons": [
            _name_comparison("forename", "forename_std", dialect),
            _name_comparison("surname", "surname", dialect),
            _dob_comparison(),
            _postcode_comparison(),
            _reference_comparison(),
        ],
    }


def same_structure(model: dict[str, Any], dialect: str = "duckdb") -> bool:
    """Whether a stored trained model has this version's comparisons and levels (else it must be retrained)."""

    def labels(settings: dict[str, Any]) -> list[tuple[str, list[str]]]:
        return [
            (c["output_column_name"], [level.get("label_for_charts", "") for level in c["comparison_levels"]])
            for c in settings.get("comparisons", [])
        ]

    return labels(model) == labels(settings_dict(dialect))

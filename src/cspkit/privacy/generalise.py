"""Generalising quasi-identifiers and screening free text, as DuckDB SQL built here and mirrored in Python.

Two things a warehouse should not hold in clear even though they are not identifiers by themselves:

- **exact ages**: an age at a dated event gives the birth year, and so turns any token shared with it (a
  birth-year token) back into clear text. :func:`age_band_sql` stores a band instead.
- **free text in category columns**: a worker can type a name or a phone number where a category belongs.
  :func:`identifier_condition_sql` finds the shapes of identifiers (a name after a title or an initial, a common
  forename followed by a capitalised word, a UK phone number, an email address, a postcode, an NI number, a date)
  so that the row is refused; :func:`vocabulary_sql` maps what remains onto a controlled vocabulary.

The SQL uses RE2 (DuckDB) and the Python uses :mod:`re` on the same patterns; tests check that they agree.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

from cspkit.sql import sql_str

__all__ = [
    "IDENTIFIER_PATTERNS",
    "SCREENING_REASONS",
    "age_band",
    "age_band_sql",
    "band_labels",
    "find_identifier",
    "identifier_condition_sql",
    "normalise_label",
    "normalise_label_sql",
    "vocabulary_sql",
]

#: Reason codes of refused rows (the loader's messages read them from here).
SCREENING_REASONS = {
    "identifier_in_text": "the value looks like it holds a name, phone number, email, postcode, NI number or date; "
    "category columns take a category (see docs/privacy.md)",
}

# Common UK forenames and surnames (ONS baby names and the most frequent surnames): a name list is a screen, not a
# guarantee, so these catch the usual "Call John", "J Smith" and leave real category words alone.
_FORENAMES = [
    "Adam",
    "Alan",
    "Alex",
    "Alice",
    "Amanda",
    "Amy",
    "Andrew",
    "Angela",
    "Ann",
    "Anne",
    "Anthony",
    "Ashley",
    "Barbara",
    "Ben",
    "Beth",
    "Brian",
    "Carl",
    "Carol",
    "Caroline",
    "Charles",
    "Charlie",
    "Charlotte",
    "Chloe",
    "Chris",
    "Christine",
    "Christopher",
    "Claire",
    "Craig",
    "Daniel",
    "Darren",
    "David",
    "Dean",
    "Deborah",
    "Debbie",
    "Donna",
    "Ellie",
    "Emily",
    "Emma",
    "Gary",
    "George",
    "Grace",
    "Graham",
    "Hannah",
    "Harry",
    "Helen",
    "Ian",
    "Jack",
    "Jacob",
    "Jade",
    "James",
    "Jamie",
    "Jane",
    "Janet",
    "Jason",
    "Jennifer",
    "Jessica",
    "Joanne",
    "John",
    "Jonathan",
    "Joseph",
    "Josh",
    "Julie",
    "Karen",
    "Kate",
    "Katie",
    "Kelly",
    "Kevin",
    "Kieran",
    "Laura",
    "Lauren",
    "Leah",
    "Lee",
    "Liam",
    "Linda",
    "Lisa",
    "Louise",
    "Lucy",
    "Luke",
    "Margaret",
    "Maria",
    "Mark",
    "Martin",
    "Mary",
    "Matthew",
    "Megan",
    "Michael",
    "Michelle",
    "Mohammed",
    "Muhammad",
    "Natalie",
    "Neil",
    "Nicola",
    "Noah",
    "Oliver",
    "Olivia",
    "Patricia",
    "Paul",
    "Peter",
    "Rachel",
    "Rebecca",
    "Richard",
    "Robert",
    "Ryan",
    "Sam",
    "Samantha",
    "Sarah",
    "Scott",
    "Sharon",
    "Simon",
    "Sophie",
    "Stephen",
    "Steven",
    "Stuart",
    "Susan",
    "Thomas",
    "Tom",
    "Tracey",
    "Victoria",
    "Wayne",
    "William",
]
_SURNAMES = [
    "Smith",
    "Jones",
    "Williams",
    "Taylor",
    "Brown",
    "Davies",
    "Evans",
    "Wilson",
    "Thomas",
    "Johnson",
    "Roberts",
    "Robinson",
    "Thompson",
    "Wright",
    "Walker",
    "White",
    "Edwards",
    "Hughes",
    "Green",
    "Hall",
    "Lewis",
    "Harris",
    "Clarke",
    "Patel",
    "Jackson",
    "Wood",
    "Turner",
    "Martin",
    "Cooper",
    "Hill",
    "Ward",
    "Morris",
    "Moore",
    "Clark",
    "Lee",
    "King",
    "Baker",
    "Harrison",
    "Morgan",
    "Allen",
    "James",
    "Scott",
    "Phillips",
    "Watson",
    "Davis",
    "Parker",
    "Price",
    "Bennett",
    "Young",
    "Griffiths",
    "Mitchell",
    "Kelly",
    "Cook",
    "Carter",
    "Richardson",
    "Bailey",
    "Collins",
    "Bell",
    "Shaw",
    "Murphy",
    "Miller",
    "Cox",
    "Khan",
    "Ali",
    "Begum",
    "Singh",
    "Kaur",
    "Hussain",
    "Ahmed",
    "Wilkinson",
    "Marshall",
    "Chapman",
    "Webb",
    "Rogers",
    "Gray",
    "Mason",
]

#: (kind, pattern) pairs; each pattern is valid in both RE2 and Python's re.
IDENTIFIER_PATTERNS: tuple[tuple[str, str], ...] = (
    ("email", r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+\.[A-Za-z0-9.-]+"),
    ("phone", r"(\+44[ ]?|\b0)[1-9]([ -]?[0-9]){8,9}\b"),
    ("postcode", r"\b[A-Za-z]{1,2}[0-9][A-Za-z0-9]? ?[0-9][A-Za-z]{2}\b"),
    ("ni_number", r"\b[A-Za-z]{2} ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-Da-d]\b"),
    ("date", r"\b[0-9]{1,2}[/.-][0-9]{1,2}[/.-][0-9]{2,4}\b|\b[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}\b"),
    ("name", r"\b(Mr|Mrs|Ms|Miss|Mx|Dr)\.? +[A-Z]"),
    ("name", r"\b[A-Z]\.? +(" + "|".join(_SURNAMES) + r")\b"),
    ("name", r"\b(" + "|".join(_FORENAMES) + r") +[A-Z][a-z]+"),
)
_COMPILED = tuple((kind, re.compile(pattern)) for kind, pattern in IDENTIFIER_PATTERNS)


def find_identifier(text: str | None) -> str | None:
    """The kind of the first identifier shape found in ``text`` ("phone", "name", ...), or None."""
    if text is None:
        return None
    for kind, pattern in _COMPILED:
        if pattern.search(text):
            return kind
    return None


def identifier_condition_sql(raw_sql: str) -> str:
    """SQL condition true when the text expression ``raw_sql`` holds an identifier shape (NULL stays false)."""
    tests = " OR ".join(f"regexp_matches({raw_sql}, {sql_str(pattern)})" for _, pattern in IDENTIFIER_PATTERNS)
    return f"({raw_sql} IS NOT NULL AND ({tests}))"


# --- vocabularies ----------------------------------------------------------------------------------------------


def normalise_label(value: str | None) -> str | None:
    """Case-folded, trimmed, inner whitespace collapsed: "  Fly  Tipping " -> "fly tipping"; blank -> None."""
    if value is None:
        return None
    text = " ".join(value.split()).lower()
    return text or None


def normalise_label_sql(value_sql: str) -> str:
    """SQL for :func:`normalise_label`."""
    return f"NULLIF(lower(trim(regexp_replace(CAST(({value_sql}) AS VARCHAR), '\\s+', ' ', 'g'))), '')"


def vocabulary_sql(
    value_sql: str,
    values: Sequence[str],
    aliases: Sequence[tuple[str, str]] = (),
    *,
    other: str | None,
    mapped_sql: str | None = None,
) -> str:
    """SQL mapping a label onto its vocabulary: the value, an alias, a partner's mapped label, else ``other``.

    Args:
        value_sql: the label as written.
        values: the canonical labels (matched after :func:`normalise_label`).
        aliases: (alternative spelling, canonical label) pairs.
        other: the catch-all for labels that match nothing (None: NULL).
        mapped_sql: an SQL expression of the canonical label a partner's own mapping gives, or NULL; it is
            evaluated with ``{label}`` replaced by the normalised label.
    """
    label = normalise_label_sql(value_sql)
    pairs: dict[str, str] = {normalise_label(v) or v: v for v in values}
    for alias, canonical in aliases:
        pairs.setdefault(normalise_label(alias) or alias, canonical)
    cases = " ".join(f"WHEN {sql_str(k)} THEN {sql_str(v)}" for k, v in pairs.items())
    known = f"CASE {label} {cases} END"
    parts = [known]
    if mapped_sql is not None:
        parts.append(mapped_sql.replace("{label}", label))
    if other is not None:
        parts.append(f"CASE WHEN {label} IS NOT NULL THEN {sql_str(other)} END")
    return parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"


# --- age bands -------------------------------------------------------------------------------------------------


def band_labels(bands: Sequence[int]) -> list[str]:
    """Labels of bands given by their lower bounds: (0, 16, 25) -> ["0-15", "16-24", "25+"]."""
    labels = [f"{low}-{high - 1}" for low, high in itertools.pairwise(bands)]
    return [*labels, f"{bands[-1]}+"]


def age_band(age: int | None, bands: Sequence[int]) -> str | None:
    """The band of ``age``: ``age_band(37, (0, 16, 25, 35))`` -> "35+"; None for a missing or negative age."""
    if age is None or age < bands[0]:
        return None
    labels = band_labels(bands)
    index = max(i for i, low in enumerate(bands) if age >= low)
    return labels[index]


def age_band_sql(value_sql: str, bands: Sequence[int]) -> str:
    """SQL for :func:`age_band` of an integer expression."""
    labels = band_labels(bands)
    whens = " ".join(
        f"WHEN ({value_sql}) >= {low} THEN {sql_str(label)}"
        for low, label in reversed(list(zip(bands, labels, strict=True)))
    )
    return f"CASE {whens} END"

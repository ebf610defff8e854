"""Controlled vocabularies for contract columns that name categories, and the age bands.

A partner's free text in a category column (``asb_type``, ``outcome``, ``cohort``, ...) can hold anything a worker
typed, names and phone numbers included, and it would be published as written. So each such column takes its value
from a vocabulary: a value is matched after normalisation (case, surrounding and repeated spaces ignored), then
through the vocabulary's aliases, then through the partner's own labels loaded as a ``label_map`` file (see
``docs/privacy.md``); anything else is stored as ``Other``, and counted: ingest reports the rows per column and the
data-quality appendix prints them, so that a label nobody has mapped yet is seen. A value that looks like it holds
an identifier (a name after a title, a phone number, an email, a postcode, an NI number, a date) is refused with the
reason ``identifier_in_text`` before any of that, and only its masked shape is kept in the rejects.

The canonical labels are the ones partners' systems commonly use (Home Office ASB types, Home Office offence
groups, SafeLives MARAC referrers); a partnership adds its own words through ``label_map``.
"""

from __future__ import annotations

from dataclasses import dataclass

from cspkit.privacy.generalise import (
    age_band_sql,
    identifier_condition_sql,
    normalise_label_sql,
    vocabulary_sql,
)
from cspkit.sql import sql_str

__all__ = [
    "AGE_BANDS",
    "BANDED",
    "OTHER",
    "SCREENED",
    "VOCABULARIES",
    "Vocabulary",
    "screening_checks",
    "stored_name",
    "stored_value_sql",
    "unmapped_sql",
]

#: The catch-all every vocabulary ends with: a label that is neither in the vocabulary nor mapped.
OTHER = "Other"

#: Lower bounds of the age bands ``victim_age`` is stored as ("0-15", "16-24", ..., "65+"). The domestic abuse
#: analysis uses no finer age (MARAC rates are per women aged 16+, from population, not from this column).
AGE_BANDS: tuple[int, ...] = (0, 16, 25, 35, 45, 55, 65)


@dataclass(frozen=True)
class Vocabulary:
    """The values a category column may take and common alternative spellings."""

    values: tuple[str, ...]
    aliases: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if OTHER not in self.values:
            object.__setattr__(self, "values", (*self.values, OTHER))


ASB_TYPE = Vocabulary(
    (
        "Neighbour dispute",
        "Harassment and intimidation",
        "Malicious or nuisance communications",
        "Noise",
        "Rowdy or inconsiderate behaviour",
        "Vehicle nuisance",
        "Street drinking",
        "Drugs-related",
        "Begging or vagrancy",
        "Fireworks",
        "Fly-tipping",
        "Graffiti",
        "Abandoned vehicle",
        "Littering",
        "Dog fouling",
        "Animal nuisance",
        "Hoax calls",
        "Trespass",
        "Prostitution-related",
        "Hate-related",
    ),
    (
        ("rowdy behaviour", "Rowdy or inconsiderate behaviour"),
        ("rowdy/inconsiderate behaviour", "Rowdy or inconsiderate behaviour"),
        ("youths causing annoyance", "Rowdy or inconsiderate behaviour"),
        ("nuisance neighbours", "Neighbour dispute"),
        ("neighbour nuisance", "Neighbour dispute"),
        ("intimidation", "Harassment and intimidation"),
        ("harassment", "Harassment and intimidation"),
        ("drugs related", "Drugs-related"),
        ("drug related", "Drugs-related"),
        ("drug dealing", "Drugs-related"),
        ("fly tipping", "Fly-tipping"),
        ("flytipping", "Fly-tipping"),
        ("litter", "Littering"),
        ("begging", "Begging or vagrancy"),
        ("vehicle abandoned", "Abandoned vehicle"),
        ("abandoned vehicles", "Abandoned vehicle"),
        ("off road bikes", "Vehicle nuisance"),
        ("off-road bikes", "Vehicle nuisance"),
        ("nuisance calls", "Malicious or nuisance communications"),
    ),
)

ASB_OUTCOME = Vocabulary(
    (
        "Advice given",
        "Words of advice to perpetrator",
        "Warning letter issued",
        "Acceptable Behaviour Contract",
        "Community Protection Warning",
        "Community Protection Notice",
        "Fixed penalty notice (£100)",
        "Fixed penalty notice",
        "Civil injunction",
        "Criminal Behaviour Order",
        "Closure order",
        "Dispersal",
        "Mediation",
        "Referred to partner agency",
        "No further action",
        "Case closed - resolved",
    ),
    (
        ("abc", "Acceptable Behaviour Contract"),
        ("cpw", "Community Protection Warning"),
        ("cpn", "Community Protection Notice"),
        ("fpn", "Fixed penalty notice"),
        ("cbo", "Criminal Behaviour Order"),
        ("nfa", "No further action"),
        ("resolved", "Case closed - resolved"),
        ("referred", "Referred to partner agency"),
    ),
)

COHORT = Vocabulary(
    ("IOM", "PPO", "Fixed", "Flex", "Free", "MAPPA", "DIP", "Youth"),
    (
        ("integrated offender management", "IOM"),
        ("prolific and priority offender", "PPO"),
        ("prolific and other priority offender", "PPO"),
        ("iom fixed", "Fixed"),
        ("iom flex", "Flex"),
        ("iom free", "Free"),
        ("drug interventions programme", "DIP"),
    ),
)

OFFENCE_GROUP = Vocabulary(
    (
        "Theft",
        "Burglary",
        "Violence against the person",
        "Drug offences",
        "Criminal damage",
        "Public order",
        "Vehicle offences",
        "Robbery",
        "Possession of weapons",
        "Sexual offences",
        "Fraud",
        "Summary non-motoring",
        "Miscellaneous crimes against society",
    ),
    (
        ("shoplifting", "Theft"),
        ("theft offences", "Theft"),
        ("vatp", "Violence against the person"),
        ("violence", "Violence against the person"),
        ("drugs", "Drug offences"),
        ("criminal damage and arson", "Criminal damage"),
        ("public order offences", "Public order"),
        ("weapons", "Possession of weapons"),
    ),
)

OFFENCE_OUTCOME = Vocabulary(
    (
        "Charged",
        "Summonsed",
        "Caution",
        "Community resolution",
        "Penalty notice",
        "Convicted",
        "Acquitted",
        "No further action",
        "Under investigation",
    ),
    (("charge", "Charged"), ("cautioned", "Caution"), ("nfa", "No further action"), ("pending", "Under investigation")),
)

DA_CRIME_TYPE = Vocabulary(
    (
        "Assault with injury",
        "Assault without injury",
        "Stalking and harassment",
        "Controlling or coercive behaviour",
        "Criminal damage",
        "Public order offences",
        "Threats to kill",
        "Sexual offences",
        "Sexual assault",
        "Rape",
        "Breach of order",
        "Homicide",
    ),
    (
        ("abh", "Assault with injury"),
        ("common assault", "Assault without injury"),
        ("harassment", "Stalking and harassment"),
        ("stalking", "Stalking and harassment"),
        ("coercive control", "Controlling or coercive behaviour"),
        ("public order", "Public order offences"),
    ),
)

REFERRING_AGENCY = Vocabulary(
    (
        "police",
        "idva",
        "health",
        "children's services",
        "housing",
        "probation",
        "voluntary sector",
        "adult social care",
        "education",
        "mental health",
        "substance misuse",
    ),
    (
        ("independent domestic violence advisor", "idva"),
        ("independent domestic violence adviser", "idva"),
        ("children’s services", "children's services"),
        ("childrens services", "children's services"),
        ("children's social care", "children's services"),
        ("nhs", "health"),
        ("gp", "health"),
        ("hospital", "health"),
        ("social care", "adult social care"),
        ("drug and alcohol services", "substance misuse"),
    ),
)

#: The agency an ASB incident was reported to (a partner's record may hold incidents reported to several).
ASB_AGENCY = Vocabulary(
    (
        "police",
        "council",
        "housing",
        "fire and rescue",
        "health",
        "education",
        "youth justice",
        "probation",
        "transport",
        "voluntary sector",
    ),
    (
        ("local authority", "council"),
        ("borough council", "council"),
        ("district council", "council"),
        ("county council", "council"),
        ("unitary authority", "council"),
        ("asb team", "council"),
        ("community safety team", "council"),
        ("housing association", "housing"),
        ("housing provider", "housing"),
        ("social landlord", "housing"),
        ("registered social landlord", "housing"),
        ("rsl", "housing"),
        ("fire", "fire and rescue"),
        ("fire service", "fire and rescue"),
        ("fire and rescue service", "fire and rescue"),
        ("nhs", "health"),
        ("school", "education"),
        ("yot", "youth justice"),
        ("youth offending team", "youth justice"),
        ("youth offending service", "youth justice"),
        ("british transport police", "transport"),
        ("btp", "transport"),
        ("charity", "voluntary sector"),
    ),
)

#: (source, column) -> vocabulary. Every category-like free-text column of a person-level partner source.
VOCABULARIES: dict[tuple[str, str], Vocabulary] = {
    ("asb_incidents", "agency"): ASB_AGENCY,
    ("asb_incidents", "asb_type"): ASB_TYPE,
    ("asb_incidents", "outcome"): ASB_OUTCOME,
    ("offenders", "cohort"): COHORT,
    ("offences", "offence_group"): OFFENCE_GROUP,
    ("offences", "outcome"): OFFENCE_OUTCOME,
    ("domestic_abuse", "crime_type"): DA_CRIME_TYPE,
    ("marac_referrals", "referring_agency"): REFERRING_AGENCY,
}


#: (source, column) -> lower bounds of the bands the column is stored as (``<column>_band``), never the value.
BANDED: dict[tuple[str, str], tuple[int, ...]] = {("domestic_abuse", "victim_age"): AGE_BANDS}

#: (source, column) of short free text screened for identifiers without a vocabulary: a partner's own labels, and
#: the few labels the report prints as given (survey themes and sources, a recommendation's priority and owner,
#: which is a role: "Head of Community Safety", never a person's name).
SCREENED: frozenset[tuple[str, str]] = frozenset(
    {
        ("label_map", "label"),
        ("label_map", "value"),
        ("public_views", "theme"),
        ("public_views", "source"),
        ("recommendations", "priority"),
        ("recommendations", "owner"),
    }
)


def stored_name(source: str, column: str) -> str:
    """The warehouse column a contract column is stored as: ``victim_age`` -> ``victim_age_band``."""
    return f"{column}_band" if (source, column) in BANDED else column


def _mapped_sql(source: str, column: str, vocabulary: Vocabulary) -> str:
    """A partner's own label, looked up in the ``label_map`` table (``{label}`` is the normalised label)."""
    # Mapping onto a word outside the vocabulary gives no value (the label then counts as Other), never free text.
    canonical = vocabulary_sql("m.value", vocabulary.values, vocabulary.aliases, other=None)
    return (
        f"(SELECT min({canonical}) FROM label_map m WHERE m.source = {sql_str(source)} "
        f"AND m.column_name = {sql_str(column)} AND {normalise_label_sql('m.label')} = {{label}})"
    )


def stored_value_sql(source: str, column: str, value_sql: str) -> list[tuple[str, str]]:
    """(stored column, SQL) for the parsed value of a non-personal column: as is, banded, or from its vocabulary."""
    if (source, column) in BANDED:
        return [(stored_name(source, column), age_band_sql(value_sql, BANDED[(source, column)]))]
    vocabulary = VOCABULARIES.get((source, column))
    if vocabulary is None:
        return [(column, value_sql)]
    mapped = _mapped_sql(source, column, vocabulary)
    return [(column, vocabulary_sql(value_sql, vocabulary.values, vocabulary.aliases, other=OTHER, mapped_sql=mapped))]


def unmapped_sql(source: str, column: str, value_sql: str) -> str | None:
    """SQL condition: the label is neither in the column's vocabulary nor mapped by a ``label_map`` (so it is
    stored as ``Other``); None for a column without a vocabulary. Ingest counts these rows, and the data-quality
    appendix reports them, so that labels a partnership has not mapped yet do not vanish into ``Other`` unseen."""
    vocabulary = VOCABULARIES.get((source, column))
    if vocabulary is None:
        return None
    mapped = _mapped_sql(source, column, vocabulary)
    known = vocabulary_sql(value_sql, vocabulary.values, vocabulary.aliases, other=None, mapped_sql=mapped)
    return f"({normalise_label_sql(value_sql)} IS NOT NULL AND {known} IS NULL)"


def screening_checks(source: str, column: str, raw_sql: str) -> list[tuple[str, str]]:
    """(condition, reason) checks refusing a row whose category text holds an identifier shape."""
    if (source, column) not in VOCABULARIES and (source, column) not in SCREENED:
        return []
    return [(identifier_condition_sql(raw_sql), "identifier_in_text")]

"""The data contracts: every source cspkit reads, declared once.

A contract lists its columns with a kind (which says how a value is parsed and checked), whether it is required,
its allowed values and the header aliases readers accept. ``cspkit sources``, ``docs/data-contracts.md``, header
detection, validation and the warehouse schema are all derived from these declarations.

Column kinds:

- ``text``: free text.
- ``ref``: a partner's own identifier of a person (``victim_ref``...): personal data, stored only as a keyed
  pseudonym namespaced by agency.
- ``case_ref``: a partner's own identifier of a case or incident: checked for duplicates within a file and stored
  as a keyed pseudonym namespaced by agency (it is not a person, but it can be looked up in partner systems).
- ``name`` / ``dob`` / ``postcode``: direct identifiers: replaced by per-field tokens, never stored.
- ``date``, ``datetime``, ``month``, ``year``: ISO (``YYYY-MM-DD``, ``YYYY-MM``) or UK ``DD/MM/YYYY``.
- ``category``: one of ``allowed`` (case and spacing are normalised).
- ``list``: ``;``-separated values, each one of ``allowed``.
- ``lsoa``: an LSOA code, ``E01`` or ``W01`` + 6 digits; ``area``: any 9-character ONS code.
- ``int``, ``float``, ``longitude``, ``latitude``, ``bool`` (yes/no, y/n, true/false, 1/0).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from cspkit.sources.vocabularies import VOCABULARIES

__all__ = [
    "CONTRACTS",
    "CRIME_TYPES",
    "PERSONAL_KINDS",
    "Column",
    "Contract",
    "get_contract",
]

Kind = Literal[
    "text",
    "ref",
    "case_ref",
    "name",
    "dob",
    "postcode",
    "date",
    "datetime",
    "month",
    "year",
    "category",
    "list",
    "lsoa",
    "area",
    "int",
    "float",
    "longitude",
    "latitude",
    "bool",
]

#: Kinds that are personal data and never reach the warehouse in clear.
PERSONAL_KINDS: frozenset[str] = frozenset({"ref", "case_ref", "name", "dob", "postcode"})

#: data.police.uk crime types: the current 14, plus the 2012 and 2011 sets so legacy files load.
CRIME_TYPES: tuple[str, ...] = (
    "Anti-social behaviour",
    "Bicycle theft",
    "Burglary",
    "Criminal damage and arson",
    "Drugs",
    "Other crime",
    "Other theft",
    "Possession of weapons",
    "Public order",
    "Robbery",
    "Shoplifting",
    "Theft from the person",
    "Vehicle crime",
    "Violence and sexual offences",
    # 2012 set (merged or split in 2013)
    "Violent crime",
    "Public disorder and weapons",
)


@dataclass(frozen=True)
class Column:
    """One column of a contract."""

    name: str
    kind: Kind
    required: bool = False
    allowed: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    help: str = ""
    #: A blank value is accepted (data.police.uk leaves crime_id, location and outcome blank for ASB).
    blank_ok: bool = False
    #: A date after today is accepted (due dates, planned exit dates).
    future_ok: bool = False

    @property
    def personal(self) -> bool:
        return self.kind in PERSONAL_KINDS


def _identity_columns(role: str, synonyms: tuple[str, ...] = ()) -> tuple[Column, ...]:
    """A person's full name, date of birth and postcode (direct identifiers, for linkage): ``victim_name``..."""
    words = (role, *synonyms)
    return (
        Column(f"{role}_name", "name", aliases=tuple(f"{w} name" for w in words), help="Full name, as one column."),
        Column(
            f"{role}_dob",
            "dob",
            aliases=tuple(a for w in words for a in (f"{w} dob", f"{w} date of birth")),
        ),
        Column(
            f"{role}_postcode",
            "postcode",
            aliases=tuple(a for w in words for a in (f"{w} postcode", f"{w} post code")),
        ),
    )


@dataclass(frozen=True)
class Contract:
    """A source: its columns and how it is loaded.

    Attributes:
        name: Source name used on the command line.
        title: Human title.
        columns: Declared columns (canonical snake_case names).
        month_column: The column whose month places a row in time (for coverage and replacement); None for
            sources without a time dimension.
        key_columns: For sources without a month: the columns identifying a row, used to replace corrected rows.
        unique_column: A reference that must be unique within a file (duplicates are rejected).
        default_agency: Agency name when none is given.
        exact_header: True for data.police.uk files, whose header is matched exactly and identifies the source.
        legacy_columns: An alternative accepted header (data.police.uk 2011-12 Easting/Northing files).
    """

    name: str
    title: str
    columns: tuple[Column, ...]
    month_column: str | None = None
    key_columns: tuple[str, ...] = ()
    unique_column: str | None = None
    default_agency: str = "default"
    exact_header: bool = False
    legacy_columns: tuple[Column, ...] = field(default_factory=tuple)
    help: str = ""

    @property
    def required(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.required)

    def column(self, name: str) -> Column:
        for c in self.columns + self.legacy_columns:
            if c.name == name:
                return c
        raise KeyError(name)


def _police_common() -> tuple[Column, ...]:
    return (
        Column("crime_id", "text", True, blank_ok=True, help="data.police.uk crime identifier; blank for ASB."),
        Column("month", "month", True, help="Month of the crime or incident, YYYY-MM."),
        Column("reported_by", "text", True),
        Column("falls_within", "text", True),
        Column("longitude", "longitude", True, blank_ok=True, help="Anonymised to a snap point."),
        Column("latitude", "latitude", True, blank_ok=True),
        Column("location", "text", True, blank_ok=True),
        Column("lsoa_code", "lsoa", True, blank_ok=True, help="Blank when the crime has no location."),
        Column("lsoa_name", "text", True, blank_ok=True),
    )


_NEEDS = (
    "accommodation",
    "drugs",
    "alcohol",
    "employment",
    "finance",
    "relationships",
    "attitudes",
    "mental_health",
)

CONTRACTS: dict[str, Contract] = {
    c.name: c
    for c in (
        Contract(
            "police_street",
            "data.police.uk street-level crime and ASB",
            (
                *_police_common(),
                Column("crime_type", "category", True, CRIME_TYPES),
                Column("last_outcome_category", "text", True, blank_ok=True),
                Column("context", "text", True, blank_ok=True),
            ),
            month_column="month",
            default_agency="police",
            exact_header=True,
            legacy_columns=(
                Column("easting", "float", help="OSGB36 easting (2011-12 files), converted to longitude."),
                Column("northing", "float", help="OSGB36 northing (2011-12 files), converted to latitude."),
            ),
            help="The monthly street CSV exactly as data.police.uk publishes it (12 columns), or the 2011-12 "
            "legacy 8-column file with Easting/Northing.",
        ),
        Contract(
            "police_outcomes",
            "data.police.uk outcomes",
            (*_police_common(), Column("outcome_type", "text", True)),
            month_column="month",
            default_agency="police",
            exact_header=True,
            legacy_columns=(Column("easting", "float"), Column("northing", "float")),
            help="The monthly outcomes CSV as data.police.uk publishes it (10 columns), or the 2012 legacy file.",
        ),
        Contract(
            "asb_incidents",
            "Anti-social behaviour incidents (police or council case system export)",
            (
                Column(
                    "incident_ref",
                    "case_ref",
                    True,
                    aliases=("incident number", "incident id", "reference", "case ref", "case number", "ref"),
                ),
                Column(
                    "reported_at",
                    "datetime",
                    True,
                    aliases=("date reported", "reported date", "report date", "date", "incident date"),
                ),
                Column(
                    "category",
                    "category",
                    True,
                    ("personal", "nuisance", "environmental"),
                    aliases=("asb category", "nsir category", "asb qualifier"),
                ),
                Column("agency", "text"),
                Column("asb_type", "text", aliases=("type", "asb type", "incident type")),
                Column("victim_ref", "ref", aliases=("victim id", "victim number", "complainant ref")),
                Column("victim_name", "name", aliases=("victim", "complainant name")),
                Column("victim_dob", "dob", aliases=("victim date of birth", "date of birth", "dob")),
                Column("victim_postcode", "postcode", aliases=("postcode", "victim post code")),
                Column("risk_score", "int", minimum=0, maximum=100, aliases=("risk assessment score",)),
                Column("risk_level", "category", allowed=("standard", "medium", "high"), aliases=("risk",)),
                Column("vulnerable", "bool", aliases=("vulnerable victim", "vulnerability")),
                Column("lsoa_code", "lsoa", aliases=("lsoa", "lsoa21", "lsoa21_code", "lsoa 2021")),
                Column("ward_code", "area", aliases=("ward",)),
                Column("longitude", "longitude", aliases=("lon", "long", "x")),
                Column("latitude", "latitude", aliases=("lat", "y")),
                Column("outcome", "text"),
            ),
            month_column="reported_at",
            unique_column="incident_ref",
        ),
        Contract(
            "offenders",
            "Offender cohort (IOM, PPO) membership",
            (
                Column("offender_ref", "ref", True, aliases=("offender id", "nominal ref", "pnc ref")),
                Column("cohort", "text", True, aliases=("scheme", "programme")),
                Column("entry_date", "date", True, aliases=("start date", "adoption date", "date adopted")),
                Column("exit_date", "date", aliases=("end date", "date deselected"), future_ok=True),
                Column("needs", "list", allowed=_NEEDS, aliases=("criminogenic needs", "pathways")),
                Column("ogrs_score", "float", minimum=0, maximum=100, aliases=("ogrs", "ogrs3")),
                Column("offender_name", "name", aliases=("name",)),
                Column("offender_dob", "dob", aliases=("date of birth", "dob")),
                Column("offender_postcode", "postcode", aliases=("postcode",)),
            ),
            key_columns=("offender_ref", "cohort", "entry_date"),
            default_agency="probation",
        ),
        Contract(
            "offences",
            "Offences by cohort members (proven, or arrests/charges as the partnership defines)",
            (
                Column("offender_ref", "ref", True, aliases=("offender id", "nominal ref", "pnc ref")),
                Column("offence_date", "date", True, aliases=("date of offence", "committed date")),
                Column("offence_group", "text", True, aliases=("offence", "offence type", "offence category")),
                Column("outcome", "text", aliases=("disposal",)),
                Column("outcome_date", "date", aliases=("disposal date", "conviction date")),
                Column("lsoa_code", "lsoa", aliases=("lsoa",)),
            ),
            month_column="offence_date",
            default_agency="probation",
        ),
        Contract(
            "domestic_abuse",
            "Domestic abuse incidents and crimes (police)",
            (
                Column("incident_ref", "case_ref", True, aliases=("incident number", "occurrence ref", "ref")),
                Column("reported_at", "datetime", True, aliases=("date reported", "reported date", "date")),
                Column("victim_ref", "ref", True, aliases=("victim id", "victim number")),
                Column("perpetrator_ref", "ref", aliases=("perpetrator id", "suspect ref", "offender ref")),
                Column("is_crime", "bool", aliases=("crimed", "crime")),
                Column("crime_type", "text", aliases=("offence",)),
                Column("dash_risk", "category", allowed=("standard", "medium", "high"), aliases=("dash", "risk")),
                Column("victim_sex", "category", allowed=("f", "m", "other", "unknown"), aliases=("sex",)),
                Column("victim_age", "int", minimum=0, maximum=120, aliases=("age",)),
                Column("children_present", "bool", aliases=("children",)),
                Column("lsoa_code", "lsoa", aliases=("lsoa",)),
                Column("victim_name", "name"),
                Column("victim_dob", "dob", aliases=("date of birth", "dob")),
                Column("victim_postcode", "postcode", aliases=("postcode",)),
                *_identity_columns("perpetrator", ("suspect",)),
            ),
            month_column="reported_at",
            unique_column="incident_ref",
            default_agency="police",
        ),
        Contract(
            "marac_referrals",
            "MARAC referrals (SafeLives-style)",
            (
                Column("referral_ref", "case_ref", True, aliases=("referral id", "case ref", "marac ref")),
                Column("referral_date", "date", True, aliases=("date of referral", "date referred", "date")),
                Column("victim_ref", "ref", True, aliases=("victim id", "client ref")),
                Column("perpetrator_ref", "ref", aliases=("perpetrator id",)),
                Column("referring_agency", "text", aliases=("referrer", "referring organisation")),
                Column("dash_score", "int", minimum=0, maximum=27, aliases=("dash", "dash ticks")),
                Column("children_in_household", "int", minimum=0, maximum=30, aliases=("children",)),
                *_identity_columns("victim", ("client",)),
                *_identity_columns("perpetrator", ("suspect",)),
            ),
            month_column="referral_date",
            unique_column="referral_ref",
            default_agency="marac",
        ),
        Contract(
            "label_map",
            "A partner's own labels for category columns, mapped onto cspkit's vocabularies",
            (
                Column("source", "category", True, tuple(sorted({s for s, _ in VOCABULARIES})), aliases=("table",)),
                Column(
                    "column_name", "category", True, tuple(sorted({c for _, c in VOCABULARIES})), aliases=("column",)
                ),
                Column("label", "text", True, aliases=("partner label", "their label")),
                Column("value", "text", True, aliases=("cspkit value", "maps to")),
            ),
            key_columns=("source", "column_name", "label"),
            default_agency="all",
            help="Load before the partner's data: each label (matched ignoring case and spacing) is stored as the "
            "vocabulary value it maps to. A value outside the column's vocabulary maps to nothing (the label then "
            "counts as Other). See docs/privacy.md.",
        ),
        Contract(
            "geography",
            "LSOA to ward to local authority lookup",
            (
                Column("lsoa_code", "lsoa", True, aliases=("lsoa21_code", "lsoa21cd")),
                Column("lsoa_name", "text", True, aliases=("lsoa21_name", "lsoa21nm")),
                Column("ward_code", "area", True, aliases=("ward24_code", "wd24cd", "ward25_code")),
                Column("ward_name", "text", True, aliases=("ward24_name", "wd24nm", "ward25_name")),
                Column("lad_code", "area", True, aliases=("ltla24_code", "lad24cd", "ltla_code")),
                Column("lad_name", "text", True, aliases=("ltla24_name", "lad24nm", "ltla_name")),
            ),
            key_columns=("lsoa_code",),
            unique_column="lsoa_code",
        ),
        Contract(
            "population",
            "Population by area",
            (
                Column("area_code", "area", True, aliases=("lsoa_code", "lsoa21cd", "code")),
                Column("year", "year", True),
                Column("population", "int", True, minimum=0, aliases=("total", "total_residents")),
                Column("adult_female_population", "int", minimum=0, aliases=("women_16_plus",)),
                Column("households", "int", minimum=0),
            ),
            key_columns=("area_code", "year"),
        ),
        Contract(
            "recommendations",
            "Recommendations of previous assessments with their status",
            (
                Column("ref", "text", True, aliases=("recommendation ref", "id")),
                Column("year", "year", True),
                Column("text", "text", True, aliases=("recommendation",)),
                Column(
                    "status",
                    "category",
                    True,
                    ("complete", "on_track", "delayed", "not_started", "dropped"),
                    aliases=("rag", "progress"),
                ),
                Column("priority", "text"),
                Column("owner", "text", aliases=("lead", "responsible")),
                Column("due", "date", aliases=("due date", "deadline"), future_ok=True),
                Column("evidence", "text", aliases=("update", "comments")),
            ),
            key_columns=("ref", "year"),
        ),
        Contract(
            "substance_misuse",
            "Drug and alcohol treatment: NDTMS-style partnership extract (counts by month and substance)",
            (
                Column("month", "month", True, aliases=("period", "reporting month")),
                Column(
                    "substance",
                    "category",
                    True,
                    ("opiate", "non-opiate", "alcohol", "non-opiate and alcohol"),
                    aliases=("substance group", "drug group"),
                ),
                Column(
                    "in_treatment",
                    "int",
                    True,
                    minimum=0,
                    aliases=("number in treatment", "in treatment"),
                    help="Adults in structured treatment at any time in the month.",
                ),
                Column(
                    "new_presentations",
                    "int",
                    True,
                    minimum=0,
                    aliases=("new presentations", "starts"),
                    help="Adults starting a new treatment journey in the month.",
                ),
                Column(
                    "successful_completions",
                    "int",
                    True,
                    minimum=0,
                    aliases=("successful completions", "completions"),
                    help="Treatment exits in the month that were successful (free of dependence).",
                ),
                Column(
                    "representations",
                    "int",
                    True,
                    minimum=0,
                    aliases=("re-presentations", "representations within 6 months"),
                    help="Of the successful completions 6 months earlier, those who came back to treatment.",
                ),
                Column("area_code", "area", aliases=("local authority code", "la code")),
            ),
            month_column="month",
            default_agency="treatment",
            help="Aggregate counts only (no person-level data), as in the NDTMS partnership reports.",
        ),
        Contract(
            "public_views",
            "Public views: residents' survey or consultation results",
            (
                Column("year", "year", True),
                Column("theme", "text", True, aliases=("issue", "concern")),
                Column("respondents", "int", True, minimum=0, aliases=("n", "base")),
                Column("share_concerned", "float", True, minimum=0, maximum=1, aliases=("share", "proportion")),
                Column("area_code", "area"),
                Column("source", "text", aliases=("survey",)),
            ),
            key_columns=("year", "theme", "area_code"),
        ),
    )
}


def get_contract(name: str) -> Contract:
    """The contract of a source, or a SourceError naming the known sources."""
    from cspkit.errors import SourceError

    try:
        return CONTRACTS[name]
    except KeyError:
        known = ", ".join(CONTRACTS)
        raise SourceError(f"Unknown source {name!r}; known sources: {known}.") from None

"""Word lists for the synthetic partner data: names, nicknames, postcode districts and partner vocabularies.

The names are common UK forenames and surnames, with the apostrophes, hyphens and accents that real partner
systems mangle (O'Brien, Smith-Jones, Zoë, Siân). Every character is encodable in cp1252, because one messy-mode
file is written in that encoding.
"""

from __future__ import annotations

__all__ = [
    "ASB_OUTCOMES",
    "ASB_TYPES",
    "DA_CRIME_TYPES",
    "DEFAULT_POSTCODE_DISTRICTS",
    "FEMALE_FORENAMES",
    "MALE_FORENAMES",
    "MARAC_REFERRING_AGENCIES",
    "NICKNAMES",
    "OFFENCE_GROUPS",
    "OFFENCE_OUTCOMES",
    "OFFENDER_NEEDS",
    "SURNAMES",
    "WARD_POSTCODE_DISTRICTS",
    "postcode_district_for_ward",
]

FEMALE_FORENAMES: tuple[str, ...] = (
    "Olivia", "Amelia", "Isla", "Ava", "Emily", "Sophie", "Grace", "Lily", "Chloé", "Zoë", "Siân", "Niamh",
    "Jessica", "Rebecca", "Samantha", "Elizabeth", "Margaret", "Katherine", "Victoria", "Jennifer", "Abigail",
    "Sarah", "Emma", "Laura", "Hannah", "Rachel", "Charlotte", "Lucy", "Amy", "Gemma", "Kelly", "Nicola",
    "Donna", "Tracey", "Susan", "Karen", "Julie", "Helen", "Joanne", "Claire", "Aoife", "Renée", "Mared",
    "Priya", "Aisha", "Fatima", "Agnieszka", "Maria", "Anne-Marie", "Leah", "Megan", "Bethan", "Eilidh",
)  # fmt: skip

MALE_FORENAMES: tuple[str, ...] = (
    "Oliver", "George", "Harry", "Jack", "Noah", "Charlie", "Thomas", "James", "William", "Robert", "Michael",
    "Daniel", "Christopher", "Alexander", "Anthony", "Joseph", "Nicholas", "Matthew", "Andrew", "David",
    "Paul", "Mark", "Lee", "Craig", "Darren", "Wayne", "Stephen", "Richard", "Gareth", "Rhys", "Seán",
    "Ciarán", "José", "Mohammed", "Imran", "Tomasz", "Kieran", "Connor", "Liam", "Ryan", "Dean", "Jamie",
    "Jean-Paul", "Callum", "Ethan", "Lewis", "Owen", "Aaron", "Sam", "Ben",
)  # fmt: skip

SURNAMES: tuple[str, ...] = (
    "Smith", "Jones", "Williams", "Taylor", "Brown", "Davies", "Evans", "Wilson", "Thomas", "Johnson",
    "Roberts", "Robinson", "Thompson", "Wright", "Walker", "White", "Edwards", "Hughes", "Green", "Hall",
    "Lewis", "Harris", "Clarke", "Patel", "Jackson", "Wood", "Turner", "Martin", "Cooper", "Hill", "Ward",
    "Morris", "Moore", "Clark", "Lee", "King", "Baker", "Harrison", "Morgan", "Allen", "James", "Scott",
    "Phillips", "Watson", "Davis", "Parker", "Price", "Bennett", "Young", "Griffiths", "Mitchell", "Kelly",
    "Cook", "Carter", "Richardson", "Bailey", "Collins", "Bell", "Shaw", "Murphy", "Miller", "Cox", "Khan",
    "Ali", "Begum", "Singh", "Kaur", "Nowak", "Kowalski", "O'Brien", "O'Connor", "O'Neill", "D'Souza",
    "McDonald", "MacLeod", "Smith-Jones", "Hughes-Davies", "Lloyd-Williams", "Brontë", "Muñoz", "García",
)  # fmt: skip

# Familiar forms a partner's worker may type instead of the name on a birth certificate.
NICKNAMES: dict[str, str] = {
    "Robert": "Bob", "William": "Bill", "Elizabeth": "Liz", "Margaret": "Maggie", "Katherine": "Kate",
    "Michael": "Mike", "James": "Jim", "Rebecca": "Becky", "Jennifer": "Jen", "Daniel": "Dan",
    "Thomas": "Tom", "Samantha": "Sam", "Christopher": "Chris", "Alexander": "Alex", "Victoria": "Vicky",
    "Anthony": "Tony", "Joseph": "Joe", "Jessica": "Jess", "Abigail": "Abbie", "Nicholas": "Nick",
    "Matthew": "Matt", "Andrew": "Andy", "Stephen": "Steve", "Richard": "Rich", "Susan": "Sue",
    "Joanne": "Jo", "Nicola": "Nicky", "Charlotte": "Charlie", "David": "Dave",
}  # fmt: skip

# Postcode districts used in Central Bedfordshire, keyed by a word in the ward's name.
WARD_POSTCODE_DISTRICTS: dict[str, tuple[str, ...]] = {
    "Ampthill": ("MK45",), "Arlesey": ("SG15",), "Aspley": ("MK17",), "Barton": ("MK45",),
    "Biggleswade": ("SG18",), "Caddington": ("LU1",), "Clifton": ("SG16",), "Cranfield": ("MK43",),
    "Dunstable": ("LU5", "LU6"), "Eaton Bray": ("LU6",), "Flitwick": ("MK45",), "Heath": ("LU7",),
    "Houghton Conquest": ("MK45",), "Houghton Regis": ("LU5",), "Leighton": ("LU7",), "Meppershall": ("SG17",),
    "Northill": ("SG18",), "Potton": ("SG19",), "Sandy": ("SG19",), "Shefford": ("SG17",), "Stotfold": ("SG5",),
    "Toddington": ("LU5",), "Westoning": ("MK45",),
}  # fmt: skip

DEFAULT_POSTCODE_DISTRICTS: tuple[str, ...] = (
    "LU5", "LU6", "LU7", "MK17", "MK45", "SG15", "SG16", "SG17", "SG18", "SG19",
)  # fmt: skip


def postcode_district_for_ward(ward_name: str, ward_index: int) -> tuple[str, ...]:
    """Postcode districts for a ward: from its name in Central Bedfordshire, else one default by position."""
    for word, districts in WARD_POSTCODE_DISTRICTS.items():
        if word in ward_name:
            return districts
    return (DEFAULT_POSTCODE_DISTRICTS[ward_index % len(DEFAULT_POSTCODE_DISTRICTS)],)


# ASB types by NSIR category, with relative weights.
ASB_TYPES: dict[str, tuple[tuple[str, float], ...]] = {
    "personal": (
        ("Neighbour dispute", 4.0),
        ("Harassment and intimidation", 3.0),
        ("Malicious or nuisance communications", 1.5),
        ("Noise", 2.0),
        ("Rowdy or inconsiderate behaviour", 1.5),
    ),
    "nuisance": (
        ("Rowdy or inconsiderate behaviour", 6.0),
        ("Noise", 3.0),
        ("Vehicle nuisance", 2.5),
        ("Street drinking", 1.0),
        ("Drugs-related", 1.5),
        ("Begging or vagrancy", 0.5),
        ("Fireworks", 0.5),
    ),
    "environmental": (
        ("Fly-tipping", 4.0),
        ("Graffiti", 1.5),
        ("Abandoned vehicle", 1.5),
        ("Littering", 1.0),
        ("Dog fouling", 1.0),
    ),
}

ASB_OUTCOMES: tuple[str, ...] = (
    "Advice given",
    "Words of advice to perpetrator",
    "Warning letter issued",
    "Acceptable Behaviour Contract",
    "Community Protection Warning",
    "Fixed penalty notice (£100)",
    "Referred to partner agency",
    "No further action",
    "Case closed - resolved",
)

DA_CRIME_TYPES: tuple[tuple[str, float], ...] = (
    ("Assault with injury", 3.0),
    ("Assault without injury", 4.0),
    ("Stalking and harassment", 2.5),
    ("Controlling or coercive behaviour", 1.5),
    ("Criminal damage", 1.0),
    ("Public order offences", 0.8),
    ("Threats to kill", 0.3),
    ("Sexual offences", 0.4),
)

MARAC_REFERRING_AGENCIES: tuple[tuple[str, float], ...] = (
    ("police", 60.0),
    ("idva", 12.0),
    ("health", 8.0),
    ("children's services", 7.0),
    ("housing", 5.0),
    ("probation", 3.0),
    ("voluntary sector", 3.0),
    ("adult social care", 2.0),
)

OFFENDER_NEEDS: tuple[tuple[str, float], ...] = (
    ("accommodation", 0.55),
    ("drugs", 0.45),
    ("alcohol", 0.3),
    ("employment", 0.4),
    ("finance", 0.3),
    ("relationships", 0.25),
    ("attitudes", 0.3),
    ("mental_health", 0.3),
)

OFFENCE_GROUPS: tuple[tuple[str, float], ...] = (
    ("Theft", 5.0),
    ("Burglary", 2.0),
    ("Violence against the person", 2.5),
    ("Drug offences", 2.0),
    ("Criminal damage", 1.0),
    ("Public order", 1.0),
    ("Vehicle offences", 1.0),
    ("Robbery", 0.3),
    ("Possession of weapons", 0.3),
)

OFFENCE_OUTCOMES: tuple[tuple[str, float], ...] = (
    ("Charged", 5.0),
    ("Caution", 1.5),
    ("Community resolution", 1.0),
    ("No further action", 1.5),
)

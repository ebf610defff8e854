"""Familiar forms of forenames, applied before a forename is tokenised for linkage.

Each family maps a canonical (normalised) forename to the forms partners type instead: "bob", "rob", "bobby" are
all "robert". A form shared by two families (sam: samuel and samantha; charlie: charles and charlotte) is put in
one family, so Samuel and Samantha share a canonical forename: date of birth, postcode and surname still tell them
apart, and the model learns how much a forename agreement is worth.
"""

from __future__ import annotations

__all__ = ["CANONICAL_FORENAME", "NICKNAME_FAMILIES"]

NICKNAME_FAMILIES: dict[str, tuple[str, ...]] = {
    "robert": ("bob", "bobby", "rob", "robbie", "robby", "bert"),
    "william": ("bill", "billy", "will", "willie", "liam"),
    "elizabeth": ("liz", "lizzie", "beth", "betty", "eliza", "libby", "lisa"),
    "margaret": ("maggie", "meg", "peggy", "marge", "margie"),
    "katherine": ("kate", "katie", "kath", "kathy", "catherine", "kathryn", "cath", "cathy", "kat"),
    "michael": ("mike", "mick", "mikey", "micky"),
    "james": ("jim", "jimmy", "jamie", "jay"),
    "rebecca": ("becky", "becca", "bex"),
    "jennifer": ("jen", "jenny", "jenna"),
    "daniel": ("dan", "danny"),
    "thomas": ("tom", "tommy"),
    "samantha": ("sam", "sammy", "samuel"),
    "christopher": ("chris", "kit", "christy"),
    "alexander": ("alex", "alexandra", "sandy", "xander", "alec", "alexa"),
    "victoria": ("vicky", "vicki", "tori"),
    "anthony": ("tony", "ant", "antony"),
    "joseph": ("joe", "joey", "josephine"),
    "jessica": ("jess", "jessie"),
    "abigail": ("abbie", "abby", "abi", "gail"),
    "nicholas": ("nick", "nicky", "nico", "nicola", "nicole", "nikki"),
    "matthew": ("matt", "matty"),
    "andrew": ("andy", "drew"),
    "stephen": ("steve", "steven", "stevie"),
    "richard": ("rich", "richie", "rick", "ricky", "dick"),
    "susan": ("sue", "susie", "suzanne"),
    "joanne": ("jo", "joanna", "jojo"),
    "charlotte": ("charlie", "lottie", "charles", "chaz"),
    "david": ("dave", "davey", "davy"),
    "edward": ("ed", "eddie", "ted", "teddy", "ned"),
    "benjamin": ("ben", "benny", "benji"),
    "jonathan": ("jon", "jonny", "john", "johnny", "jack"),
    "patricia": ("pat", "patty", "trish", "tricia"),
    "deborah": ("debbie", "debs", "deb"),
    "frederick": ("fred", "freddie", "freddy"),
    "gareth": ("gaz", "gary"),
    "kieran": ("ciaran",),
    "sean": ("shaun", "shawn"),
    "mohammed": ("mohammad", "muhammad", "mohamed", "mohamad", "mo"),
    "hannah": ("hanna",),
    "zoe": ("zoey",),
    "callum": ("calum",),
    "connor": ("conor",),
    "leah": ("lea",),
}

#: normalised form -> canonical forename (the canonical maps to itself implicitly).
CANONICAL_FORENAME: dict[str, str] = {
    form: canonical for canonical, forms in NICKNAME_FAMILIES.items() for form in forms
}

"""Harm weights per data.police.uk crime type, switchable and always labelled.

The default, ``cchi_approx``, uses approximate Cambridge Crime Harm Index day weights for the police.uk categories
(domain notes section 3.5: medians of CCHI sub-group weights; where the notes give a range the midpoint is used).
They are APPROXIMATE: recompute from the official CCHI file before relying on them for decisions. ASB has no
crime-harm weight and is kept out of harm totals. ``unweighted`` counts every crime as 1, the alternative used
when testing how sensitive priorities are to the harm index.
"""

from __future__ import annotations

from dataclasses import dataclass

from cspkit.errors import ConfigError

__all__ = ["HARM_INDICES", "HarmIndex", "get_harm_index"]


@dataclass(frozen=True)
class HarmIndex:
    name: str
    label: str
    unit: str
    weights: dict[str, float]
    caveat: str

    def weight(self, crime_type: str) -> float | None:
        return self.weights.get(crime_type)


_CCHI_APPROX = {
    "Robbery": 365.0,
    "Possession of weapons": 273.75,
    "Burglary": 222.0,  # residential 273.5 / non-residential 183.5; notes give ~191-253
    "Violence and sexual offences": 197.0,  # force-mix dependent ~159-235
    "Criminal damage and arson": 11.5,  # ~5-18
    "Other crime": 10.0,
    "Public order": 7.5,
    "Vehicle crime": 5.0,
    "Drugs": 3.5,  # ~3-4
    "Other theft": 2.0,
    "Theft from the person": 2.0,
    "Bicycle theft": 2.0,
    "Shoplifting": 1.0,
    # 2012 categories, mapped to their successors' weights
    "Violent crime": 197.0,
    "Public disorder and weapons": 7.5,
}

HARM_INDICES: dict[str, HarmIndex] = {
    "cchi_approx": HarmIndex(
        "cchi_approx",
        "approximate Cambridge Crime Harm Index (days of custody)",
        "harm days",
        _CCHI_APPROX,
        "Approximate CCHI day weights per police.uk category (medians of sub-group weights); indicative only.",
    ),
    "unweighted": HarmIndex(
        "unweighted",
        "unweighted (every crime counts 1)",
        "crimes",
        {k: 1.0 for k in _CCHI_APPROX},
        "Every crime counts the same: volume, not harm.",
    ),
}


def get_harm_index(name: str) -> HarmIndex:
    try:
        return HARM_INDICES[name]
    except KeyError:
        raise ConfigError(
            f"Unknown harm index {name!r} (definitions.harm_index); known: {', '.join(HARM_INDICES)}."
        ) from None

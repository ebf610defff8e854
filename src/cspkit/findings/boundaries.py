"""Area boundaries (LSOA or ward polygons) for hotspot statistics and maps.

cspkit bundles the ONS boundaries (2021 LSOAs, 2025 wards; WGS84; Open Government Licence v3.0) for the
three Bedfordshire authorities only: Luton (E06000032), Bedford (E06000055) and Central Bedfordshire
(E06000056). A workspace can add or replace boundaries for any authority by putting GeoJSON files in its
``boundaries`` folder, named ``lsoa21_<LAD>.geojson`` or ``ward25_<LAD>.geojson`` (optionally gzipped as
``.geojson.gz``), and passing that folder as ``extra_dirs``. Where no boundaries exist,
:func:`load_boundaries` raises :class:`~cspkit.errors.AnalysisError`; callers skip Gi* and maps and say so.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Sequence
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
from shapely.geometry import shape

from cspkit.errors import AnalysisError, InputFileError

__all__ = ["BUNDLED_LADS", "BoundaryLevel", "available_boundaries", "load_boundaries"]

BoundaryLevel = Literal["lsoa", "ward"]

#: Local authorities whose boundaries ship with cspkit.
BUNDLED_LADS: dict[str, str] = {
    "E06000032": "Luton",
    "E06000055": "Bedford",
    "E06000056": "Central Bedfordshire",
}

# File name prefix per level (bundled names); workspace files may also use the bare level name ("lsoa_<LAD>").
_FILE_PREFIXES: dict[str, tuple[str, ...]] = {"lsoa": ("lsoa21", "lsoa"), "ward": ("ward25", "ward")}

# Property names holding the area code and name, e.g. LSOA21CD / LSOA21NM, WD25CD / WD25NM.
_CODE_PROPERTY = {"lsoa": re.compile(r"^lsoa\d{2}cd$", re.I), "ward": re.compile(r"^wd\d{2}cd$", re.I)}
_NAME_PROPERTY = {"lsoa": re.compile(r"^lsoa\d{2}nm$", re.I), "ward": re.compile(r"^wd\d{2}nm$", re.I)}

WGS84 = "EPSG:4326"


def load_boundaries(
    lad_codes: Sequence[str],
    level: BoundaryLevel = "lsoa",
    extra_dirs: Sequence[Path] = (),
) -> gpd.GeoDataFrame:
    """Load the LSOA or ward polygons of one or more local authorities.

    Args:
        lad_codes: Local authority district codes (e.g. ``["E06000056"]``).
        level: ``"lsoa"`` (2021 LSOAs) or ``"ward"`` (2025 wards).
        extra_dirs: Folders searched before the bundled data, e.g. ``<workspace>/boundaries``.

    Returns:
        A GeoDataFrame in WGS84 (EPSG:4326) with columns ``code``, ``name`` and ``geometry``, one row per
        area, sorted by code.

    Raises:
        AnalysisError: No boundaries exist for one of the authorities.
        InputFileError: A workspace boundary file cannot be read or lacks area codes.
    """
    if level not in _FILE_PREFIXES:
        raise ValueError(f"level must be 'lsoa' or 'ward', not {level!r}")
    if not lad_codes:
        raise AnalysisError("No local authority was given, so there are no boundaries to load.")

    frames = []
    for lad_code in dict.fromkeys(lad_codes):  # de-duplicated, order kept
        source = _find_file(lad_code, level, extra_dirs)
        if source is None:
            raise AnalysisError(_missing_message(lad_code, level))
        frames.append(_read_file(source, level))

    areas = gpd.GeoDataFrame(
        {
            "code": [code for frame in frames for code in frame["code"]],
            "name": [name for frame in frames for name in frame["name"]],
        },
        geometry=[geom for frame in frames for geom in frame["geometry"]],
        crs=WGS84,
    )
    if areas["code"].duplicated().any():
        # One area split over several features (or over two files): merge it into one (multi)polygon.
        areas = areas.dissolve(by="code", aggfunc={"name": "first"}, as_index=False)
    return areas.sort_values("code", ignore_index=True)[["code", "name", "geometry"]]


def available_boundaries(level: BoundaryLevel = "lsoa", extra_dirs: Sequence[Path] = ()) -> list[str]:
    """Local authority codes with boundaries at ``level``, bundled or in ``extra_dirs``."""
    codes = set()
    for folder in [_bundle_dir(), *extra_dirs]:
        if not folder.is_dir():
            continue
        for entry in folder.iterdir():
            match = _match_file_name(entry.name, level)
            if match:
                codes.add(match)
    return sorted(codes)


def _bundle_dir() -> Traversable:
    return files("cspkit") / "data" / "boundaries"


def _match_file_name(file_name: str, level: str) -> str | None:
    """The LAD code in a boundary file name such as ``lsoa21_E06000056.geojson.gz``, or None."""
    prefixes = "|".join(_FILE_PREFIXES[level])
    match = re.fullmatch(rf"(?:{prefixes})_([EWSN]\d{{8}})\.geojson(?:\.gz)?", file_name, re.I)
    return match.group(1).upper() if match else None


def _find_file(lad_code: str, level: str, extra_dirs: Sequence[Path]) -> Traversable | None:
    """The first boundary file for ``lad_code``: workspace folders first, then the bundle."""
    for folder in [*extra_dirs, _bundle_dir()]:
        if not folder.is_dir():
            continue
        for entry in sorted(folder.iterdir(), key=lambda item: item.name):
            if _match_file_name(entry.name, level) == lad_code.upper():
                return entry
    return None


def _missing_message(lad_code: str, level: str) -> str:
    bundled = ", ".join(f"{name} ({code})" for code, name in BUNDLED_LADS.items())
    return (
        f"No {level.upper() if level == 'lsoa' else level} boundaries are available for {lad_code}. "
        f"cspkit bundles boundaries only for {bundled}. To add them, put the ONS boundary GeoJSON in the "
        f"workspace's boundaries folder as {_FILE_PREFIXES[level][0]}_{lad_code}.geojson."
    )


def _read_file(source: Traversable, level: str) -> gpd.GeoDataFrame:
    """Read one GeoJSON (optionally gzipped) into code, name and geometry columns."""
    try:
        raw = source.read_bytes()
        if source.name.lower().endswith(".gz"):
            raw = gzip.decompress(raw)
        collection: dict[str, Any] = json.loads(raw)
        features = collection["features"]
    except (OSError, EOFError, ValueError, KeyError, TypeError) as exc:
        raise InputFileError(f"Boundary file {source.name} is not readable GeoJSON: {exc}") from exc
    if not features:
        raise InputFileError(f"Boundary file {source.name} contains no areas.")

    properties = features[0].get("properties") or {}
    code_key = _property_key(properties, _CODE_PROPERTY[level], fallback="code")
    name_key = _property_key(properties, _NAME_PROPERTY[level], fallback="name")
    if code_key is None:
        raise InputFileError(
            f"Boundary file {source.name} has no {level} code property "
            f"(expected e.g. {'LSOA21CD' if level == 'lsoa' else 'WD25CD'}, or 'code')."
        )
    try:
        codes = [str(feature["properties"][code_key]) for feature in features]
        names = [str(feature["properties"].get(name_key, "")) if name_key else "" for feature in features]
        geometries = [shape(feature["geometry"]) for feature in features]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputFileError(f"Boundary file {source.name} has a malformed feature: {exc}") from exc
    # GeoJSON (RFC 7946) is always WGS84 longitude/latitude.
    return gpd.GeoDataFrame({"code": codes, "name": names}, geometry=geometries, crs=WGS84)


def _property_key(properties: dict[str, Any], pattern: re.Pattern[str], fallback: str) -> str | None:
    """The first property name matching ``pattern`` (e.g. LSOA21CD), else ``fallback`` if present."""
    for key in properties:
        if pattern.match(key):
            return key
    return fallback if fallback in properties else None

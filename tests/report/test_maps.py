"""Choropleth maps: self-contained deterministic SVG, PNG for Word, classes that hide suppressed areas."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree

import geopandas as gpd
import pytest

from cspkit.findings.boundaries import load_boundaries
from cspkit.report.maps import PALETTE, choropleth_png, choropleth_svg, quantile_classes

SVG_NAMESPACE = "http://www.w3.org/2000/svg"


@pytest.fixture(scope="module")
def wards() -> gpd.GeoDataFrame:
    return load_boundaries(["E06000056"], "ward")  # 31 wards: small and quick to draw


@pytest.fixture(scope="module")
def ward_values(wards: gpd.GeoDataFrame) -> dict[str, float]:
    return {code: float(10 + 3 * i) for i, code in enumerate(wards["code"])}


def _svg(values: dict[str, float], wards: gpd.GeoDataFrame, suppressed: list[str]) -> str:
    hotspots = list(wards["code"][:2])
    return choropleth_svg(values, wards, "ASB incidents by ward", "Incidents", hotspots, suppressed)


def test_svg_parses_and_has_no_external_reference(wards: gpd.GeoDataFrame, ward_values: dict[str, float]) -> None:
    svg = _svg(ward_values, wards, suppressed=[str(wards["code"].iloc[5])])

    root = ElementTree.fromstring(svg.encode("utf-8"))

    assert root.tag == f"{{{SVG_NAMESPACE}}}svg"
    assert set(re.findall(r"https?://[^\s\"'<>]+", svg)) == {SVG_NAMESPACE}
    assert "xlink" not in svg
    assert "<!DOCTYPE" not in svg


def test_svg_is_deterministic(wards: gpd.GeoDataFrame, ward_values: dict[str, float]) -> None:
    assert _svg(ward_values, wards, []) == _svg(ward_values, wards, [])


def test_suppressed_value_does_not_change_the_map(wards: gpd.GeoDataFrame, ward_values: dict[str, float]) -> None:
    hidden = str(wards["code"].iloc[3])
    with_secret = ward_values | {hidden: 3.0}
    without_value = {code: value for code, value in ward_values.items() if code != hidden}
    assert _svg(with_secret, wards, [hidden]) == _svg(without_value, wards, [hidden])


def test_png_bytes(wards: gpd.GeoDataFrame, ward_values: dict[str, float]) -> None:
    png = choropleth_png(ward_values, wards, "ASB incidents by ward", "Incidents", hotspots=["none-such"])
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    # 6.5 x 4.7 inches at 150 dpi: the width and height are in the IHDR chunk.
    assert int.from_bytes(png[16:20], "big") == 975
    assert int.from_bytes(png[20:24], "big") == 705


def test_quantile_classes_by_hand() -> None:
    classes = quantile_classes([float(v) for v in range(1, 21)])
    assert [c.label for c in classes] == ["1 – 4", "5 – 8", "9 – 12", "13 – 16", "17 – 20"]
    assert [c.colour for c in classes] == list(PALETTE)


def test_quantile_classes_merge_ties_and_keep_darkest_for_highest() -> None:
    classes = quantile_classes([0.0] * 8 + [1.0, 5.0])
    assert [(c.low, c.high, c.label) for c in classes] == [(0, 0, "0"), (1, 5, "1 – 5")]
    assert [c.colour for c in classes] == [PALETTE[0], PALETTE[-1]]
    assert quantile_classes([0.25, 1.5, 2.75, 3.0, 9.5])[0].label == "0.25"
    assert quantile_classes([]) == []

"""Choropleth maps of values per area (LSOA or ward), as SVG for HTML/PDF and PNG for Word.

One figure, about half an A4 page: areas shaded in five quantile classes of a colour-blind-safe sequential
palette (ColorBrewer YlOrRd), hotspots outlined in bold and named in the legend, suppressed areas hatched
grey, and the OS/ONS attribution at the bottom. Suppressed areas never influence the class breaks, so a map
cannot reveal a suppressed value.

The figures are drawn on a bare ``matplotlib.figure.Figure`` (no pyplot, no global state), with a fixed SVG
hash salt and no date in the metadata, so the same input always gives the same bytes. The SVG carries no
external reference: no DOCTYPE, no metadata block and no ``xlink`` namespace.
"""

from __future__ import annotations

import io
import math
import re
import textwrap
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from matplotlib import rc_context
from matplotlib.axes import Axes
from matplotlib.collections import PatchCollection
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Patch, PathPatch
from matplotlib.path import Path
from matplotlib.typing import RcKeyType

__all__ = [
    "ATTRIBUTION",
    "PALETTE",
    "SUPPRESSED_LABEL",
    "MapClass",
    "choropleth_png",
    "choropleth_svg",
    "classes_by_area",
    "quantile_classes",
]

ATTRIBUTION = "Contains OS data © Crown copyright and database right; ONS boundaries, Open Government Licence v3.0."
SUPPRESSED_LABEL = "not published (small numbers, or to protect them)"
NO_DATA_LABEL = "no data"

#: ColorBrewer YlOrRd, 5 classes: sequential and colour-blind safe.
PALETTE = ("#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026")
SUPPRESSED_COLOUR = "#d9d9d9"
HOTSPOT_COLOUR = "#000000"
BORDER_COLOUR = "#ffffff"

FIGURE_SIZE = (6.5, 4.7)  # inches: fits an A4 text block (2 cm margins), about half a page high
PNG_DPI = 150
MAX_HOTSPOT_NAMES = 10
BRITISH_NATIONAL_GRID = "EPSG:27700"  # metres, so that areas keep their true shape

_RC: dict[RcKeyType, Any] = {
    "font.family": "DejaVu Sans",
    "svg.hashsalt": "cspkit",  # deterministic ids in the SVG
    "svg.fonttype": "path",  # text drawn as glyph outlines: looks the same without the font installed
    "hatch.linewidth": 0.6,
}


@dataclass(frozen=True)
class MapClass:
    """One class of a classed map: the observed values it covers and its colour."""

    low: float
    high: float
    colour: str
    label: str


def quantile_classes(values: Sequence[float], n_classes: int = 5) -> list[MapClass]:
    """Quantile classes of ``values``, each labelled with the range of values it actually holds.

    Breaks are observed values (the inverted-CDF quantiles), a value belongs to the first class whose upper
    break it does not exceed, and classes that would be empty because of ties are merged, so there may be
    fewer than ``n_classes``. Colours are spread over the palette so the darkest always means the highest.
    """
    data = np.sort(np.asarray([v for v in values if math.isfinite(v)], dtype=float))
    if data.size == 0:
        return []
    shares = [i / n_classes for i in range(1, n_classes + 1)]  # i / n is exact where linspace is not
    uppers = np.unique(np.quantile(data, shares, method="inverted_cdf"))
    # Spread the colours over the palette, so that the darkest always means the highest class.
    positions = np.linspace(0, len(PALETTE) - 1, len(uppers)) if len(uppers) > 1 else [len(PALETTE) // 2]
    decimals = 0 if np.all(np.mod(data, 1) == 0) else (2 if np.max(np.abs(data)) < 10 else 1)
    class_of = np.searchsorted(uppers, data, side="left")
    classes = []
    for index, position in enumerate(positions):
        members = data[class_of == index]
        low, high = float(members.min()), float(members.max())
        label = f"{low:,.{decimals}f}" if low == high else f"{low:,.{decimals}f} – {high:,.{decimals}f}"
        classes.append(MapClass(low=low, high=high, colour=PALETTE[round(position)], label=label))
    return classes


def classes_by_area(values: Mapping[str, float], classes: Sequence[MapClass] | None = None) -> dict[str, MapClass]:
    """The class each area falls in on a map of ``values`` (what the legend tells a reader of its value); the
    classes are the quantile classes of ``values`` unless given."""
    classes = quantile_classes(list(values.values())) if classes is None else classes
    uppers = [map_class.high for map_class in classes]
    return {
        code: classes[int(np.searchsorted(uppers, value, side="left"))]
        for code, value in values.items()
        if math.isfinite(value)
    }


def choropleth_svg(
    values: Mapping[str, float],
    boundaries: gpd.GeoDataFrame,
    title: str,
    legend_label: str,
    hotspots: Collection[str] = (),
    suppressed: Collection[str] = (),
    outline_label: str = "Hotspot",
    outline_names: Sequence[str] | None = None,
    places: Sequence[tuple[str, float, float]] = (),
) -> str:
    """A classed choropleth map as a self-contained SVG string.

    Args:
        values: Value per area code (a count or a rate). Areas missing here are shown as "no data".
        boundaries: Areas with columns ``code``, ``name`` and ``geometry`` (see ``load_boundaries``).
        title: Title above the map.
        legend_label: Title of the legend, saying what the values are (e.g. "ASB incidents per 1,000").
        hotspots: Area codes to outline in bold and name in the legend.
        suppressed: Area codes whose value must not be shown; hatched grey whatever ``values`` holds.
        outline_label: What the bold outline means, as the legend says it (e.g. "Significant rise").
        outline_names: Names to list under the outline's legend entry (default: the outlined areas' names).
        places: Place names to print on the map: ``(name, easting, northing)`` in British National Grid metres.

    Returns:
        The SVG document as text, with no external reference.
    """
    figure = _figure(
        values, boundaries, title, legend_label, hotspots, suppressed, outline_label, outline_names, places
    )
    buffer = io.StringIO()
    with rc_context(_RC):
        figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    return _self_contained(buffer.getvalue())


def choropleth_png(
    values: Mapping[str, float],
    boundaries: gpd.GeoDataFrame,
    title: str,
    legend_label: str,
    hotspots: Collection[str] = (),
    suppressed: Collection[str] = (),
    outline_label: str = "Hotspot",
    outline_names: Sequence[str] | None = None,
    places: Sequence[tuple[str, float, float]] = (),
) -> bytes:
    """The same map as :func:`choropleth_svg`, as PNG bytes at 150 dpi (for Word documents)."""
    figure = _figure(
        values, boundaries, title, legend_label, hotspots, suppressed, outline_label, outline_names, places
    )
    buffer = io.BytesIO()
    with rc_context(_RC):
        figure.savefig(buffer, format="png", dpi=PNG_DPI, metadata={"Software": None})
    return buffer.getvalue()


def _figure(
    values: Mapping[str, float],
    boundaries: gpd.GeoDataFrame,
    title: str,
    legend_label: str,
    hotspots: Collection[str],
    suppressed: Collection[str],
    outline_label: str = "Hotspot",
    outline_names: Sequence[str] | None = None,
    places: Sequence[tuple[str, float, float]] = (),
) -> Figure:
    areas = boundaries.to_crs(BRITISH_NATIONAL_GRID) if boundaries.crs is not None else boundaries
    codes = [str(code) for code in areas["code"]]
    names = dict(zip(codes, (str(n) for n in areas["name"]), strict=True)) if "name" in areas else {}
    paths = dict(zip(codes, (_path(geometry) for geometry in areas.geometry), strict=True))
    hidden = {str(code) for code in suppressed}
    shown = {
        code: float(values[code])
        for code in codes
        if code in values and code not in hidden and math.isfinite(float(values[code]))
    }
    classes = quantile_classes(list(shown.values()))
    class_of = classes_by_area(shown, classes)

    with rc_context(_RC):
        figure = Figure(figsize=FIGURE_SIZE)
        title_lines = textwrap.wrap(title, 68)
        top = 0.89 - 0.05 * (len(title_lines) - 1)  # room for a title that runs over one line
        axes = figure.add_axes((0.01, 0.07, 0.60, top - 0.07))
        axes.set_axis_off()
        axes.set_aspect("equal")

        classed = [code for code in codes if code in shown]
        colours = [class_of[code].colour for code in classed]
        _draw(axes, [paths[c] for c in classed], facecolor=colours, edgecolor=BORDER_COLOUR, linewidth=0.3)
        hatched = [code for code in codes if code in hidden]
        _draw(
            axes,
            [paths[c] for c in hatched],
            facecolor=SUPPRESSED_COLOUR,
            edgecolor="#737373",
            linewidth=0.3,
            hatch="////",
        )
        blank = [code for code in codes if code not in shown and code not in hidden]
        _draw(axes, [paths[c] for c in blank], facecolor="#ffffff", edgecolor="#bdbdbd", linewidth=0.3)
        outlined = [code for code in codes if code in set(hotspots)]
        _draw(axes, [paths[c] for c in outlined], facecolor="none", edgecolor=HOTSPOT_COLOUR, linewidth=1.8)

        minx, miny, maxx, maxy = areas.total_bounds
        margin = 0.02 * max(maxx - minx, maxy - miny, 1.0)
        axes.set_xlim(minx - margin, maxx + margin)
        axes.set_ylim(miny - margin, maxy + margin)
        for name, x, y in places:
            axes.text(
                x,
                y,
                name,
                ha="center",
                va="center",
                fontsize=6.5,
                color="#111111",
                fontweight="bold",
                bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.75},
            )
        _scale_bar(axes, minx, miny, maxx, maxy)
        _north_arrow(figure, top)

        handles = [Patch(facecolor=c.colour, edgecolor="#969696", linewidth=0.5, label=c.label) for c in classes]
        if hatched:
            handles.append(
                Patch(
                    facecolor=SUPPRESSED_COLOUR,
                    edgecolor="#737373",
                    hatch="////",
                    label=textwrap.fill(SUPPRESSED_LABEL, 30),
                )
            )
        if blank:
            handles.append(Patch(facecolor="#ffffff", edgecolor="#bdbdbd", label=NO_DATA_LABEL))
        if outlined:
            handles.append(
                Patch(
                    facecolor="none",
                    edgecolor=HOTSPOT_COLOUR,
                    linewidth=1.8,
                    label=_hotspot_label(
                        list(outline_names)
                        if outline_names is not None
                        else [names.get(code) or code for code in outlined],
                        outline_label,
                    ),
                )
            )
        figure.legend(
            handles=handles,
            title=textwrap.fill(legend_label, 34),
            loc="upper left",
            bbox_to_anchor=(0.63, top),
            frameon=False,
            fontsize=8,
            title_fontsize=8.5,
            alignment="left",
            handlelength=1.6,
            handleheight=1.1,
        )
        figure.text(0.02, 0.96, "\n".join(title_lines), fontsize=11, fontweight="bold", va="top")
        figure.text(0.02, 0.02, ATTRIBUTION, fontsize=6, color="#525252", va="bottom")
    return figure


def _draw(axes: Axes, paths: list[Path], **style: object) -> None:
    """Add the area outlines as one collection (one draw call, one hatch)."""
    if paths:
        collection = PatchCollection([PathPatch(path) for path in paths], match_original=False, **style)
        axes.add_collection(collection)


def _path(geometry: shapely.Geometry) -> Path:
    """A matplotlib path for a (multi)polygon, holes included (rings oriented for the non-zero fill rule)."""
    oriented = shapely.orient_polygons(geometry)
    polygons = getattr(oriented, "geoms", [oriented])
    rings = [ring for polygon in polygons for ring in (polygon.exterior, *polygon.interiors)]
    return Path.make_compound_path(*(Path(np.asarray(ring.coords)[:, :2], closed=True) for ring in rings))


def _north_arrow(figure: Figure, top: float) -> None:
    """North arrow in the legend column, clear of the map (it used to overlap the areas)."""
    figure.text(0.955, 0.125, "N", ha="center", va="bottom", fontsize=8, color="#252525")
    figure.add_artist(
        FancyArrowPatch(
            (0.955, 0.07),
            (0.955, 0.12),
            transform=figure.transFigure,
            arrowstyle="-|>",
            mutation_scale=8,
            color="#252525",
            linewidth=1.0,
        )
    )


def _scale_bar(axes: Axes, minx: float, miny: float, maxx: float, maxy: float) -> None:
    """A scale bar in the map's lower-left corner: a round length about a fifth of the map's width."""
    width = maxx - minx
    length = next((m for m in (100_000, 50_000, 20_000, 10_000, 5_000, 2_000, 1_000, 500) if m <= width / 4), 250)
    x0 = minx
    y0 = miny - 0.01 * (maxy - miny)
    axes.plot([x0, x0 + length], [y0, y0], color="#252525", linewidth=2.0, solid_capstyle="butt")
    for x in (x0, x0 + length):
        axes.plot([x, x], [y0, y0 + 0.012 * (maxy - miny)], color="#252525", linewidth=1.0)
    text = f"{length // 1000:g} km" if length >= 1000 else f"{length} m"
    axes.text(x0 + length / 2, y0 + 0.018 * (maxy - miny), text, ha="center", va="bottom", fontsize=7)


def _hotspot_label(names: list[str], outline_label: str = "Hotspot") -> str:
    """What the bold outline means, and the names of the outlined areas, wrapped to the legend's width."""
    # No-break spaces keep each name on one line ("Luton 017A" is not split after "Luton").
    listed = [name.replace(" ", "\u00a0") for name in names[:MAX_HOTSPOT_NAMES]]
    text = ", ".join(listed)
    if len(names) > len(listed):
        text += f" and {len(names) - len(listed)} more"
    head = textwrap.fill(f"{outline_label} (bold outline):", 34)
    return head + ("\n" + textwrap.fill(text, 30, break_long_words=False) if text else "")


def _self_contained(svg: str) -> str:
    """Drop the DOCTYPE (it names a DTD on the web), the metadata block, comments and the xlink namespace."""
    svg = re.sub(r"<!DOCTYPE[^>]*>\s*", "", svg)
    svg = re.sub(r"\s*<metadata>.*?</metadata>", "", svg, flags=re.S)
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)  # matplotlib's comments repeat the text: nothing extra leaves
    svg = re.sub(r'\s+xmlns:xlink="[^"]*"', "", svg)
    return svg.replace("xlink:href=", "href=")  # SVG 2 plain href, read by browsers and WeasyPrint

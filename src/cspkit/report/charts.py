"""Static charts for the report, drawn with matplotlib (no pyplot, no display, no browser).

Every chart returns a :class:`ChartImage` with an SVG (for HTML and PDF), a PNG (for Word) and generated alt
text. Output is deterministic: SVG ids are salted with a fixed string and the date metadata is dropped, so the
same data gives byte-identical SVG. Text in the SVG is drawn as paths, so it looks the same without any font
installed; the alt text carries the words for screen readers.

Charts are sized for an A4 page (17 cm wide) with 9 pt text, and use the Okabe-Ito colour-blind-safe palette;
lines also differ by style (solid, dashed, dotted) so they do not rely on colour.
"""

from __future__ import annotations

import io
import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

import matplotlib
from matplotlib.figure import Figure as MplFigure

__all__ = ["ChartImage", "Forecast", "bar_chart", "funnel_chart", "heatmap", "month_label", "series_chart"]

WIDTH_IN = 17 / 2.54  # A4 text width
BLUE = "#0072B2"
ORANGE = "#D55E00"
VERMILLION = "#CC3311"
GREY = "#555555"
LIGHT_GREY = "#DDDDDD"

_RC: dict[str, Any] = {
    "svg.hashsalt": "cspkit",
    # Text stays text (not glyph outlines): readers can select and search it, screen readers meet it, and the PDF
    # renders about 1.5 s faster (half the SVG nodes). Browsers without DejaVu Sans fall back to Verdana, whose
    # metrics DejaVu Sans shares, then to any sans-serif.
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Verdana", "Arial", "Helvetica"],
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": GREY,
    "axes.labelcolor": "#222222",
    "xtick.color": "#222222",
    "ytick.color": "#222222",
    "legend.frameon": False,
    "legend.fontsize": 8,
}

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
MONTHS_LONG = [date(2000, m, 1).strftime("%B") for m in range(1, 13)]


@dataclass(frozen=True)
class ChartImage:
    """A rendered chart: SVG text, PNG bytes and alternative text describing it."""

    svg: str
    png: bytes
    alt: str


class Forecast(NamedTuple):
    """A forecast to draw after the series: months with the mean and 80%/95% interval bounds."""

    months: Sequence[str]
    mean: Sequence[float]
    lo80: Sequence[float]
    hi80: Sequence[float]
    lo95: Sequence[float]
    hi95: Sequence[float]


ForecastTuple = tuple[
    Sequence[str], Sequence[float], Sequence[float], Sequence[float], Sequence[float], Sequence[float]
]


def month_label(month: str, long: bool = False) -> str:
    """``"2021-05"`` -> ``"May 2021"`` (or ``"May 2021"`` with the full month name when ``long``)."""
    year, mon = month[:7].split("-")
    names = MONTHS_LONG if long else MONTHS
    return f"{names[int(mon) - 1]} {year}"


def _num(x: float) -> str:
    """A number for alt text: thousands separators, at most one decimal."""
    return f"{x:,.0f}" if float(x).is_integer() or abs(x) >= 100 else f"{x:,.1f}"


@contextmanager
def _style() -> Iterator[None]:
    with matplotlib.rc_context(_RC):  # type: ignore[arg-type]
        yield


def _render(fig: MplFigure) -> tuple[str, bytes]:
    svg_buf = io.StringIO()
    fig.savefig(svg_buf, format="svg", metadata={"Date": None}, bbox_inches="tight")
    png_buf = io.BytesIO()
    fig.savefig(png_buf, format="png", dpi=200, bbox_inches="tight")
    svg = re.sub(r"<!--.*?-->", "", svg_buf.getvalue(), flags=re.S)  # comments repeat the text; nothing extra leaves
    return svg, png_buf.getvalue()


def _as_list(value: float | Sequence[float] | None, n: int) -> list[float] | None:
    """A control limit given as one number or one per month, as a list of n floats."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return [float(value)] * n
    values = [float(v) for v in value]
    if len(values) != n:
        raise ValueError(f"expected {n} control-limit values, got {len(values)}")
    return values


def _tick_step(n: int) -> int:
    """Label every month, quarter, half-year or year so that at most ~10 labels show."""
    for step in (1, 3, 6, 12, 24):
        if n / step <= 10:
            return step
    return math.ceil(n / 10)


def series_chart(
    months: Sequence[str],
    values: Sequence[float],
    *,
    centre: float | Sequence[float] | None = None,
    ucl: float | Sequence[float] | None = None,
    lcl: float | Sequence[float] | None = None,
    signals: Sequence[str] = (),
    forecast: Forecast | ForecastTuple | None = None,
    title: str = "",
    y_label: str = "",
) -> ChartImage:
    """A monthly line chart with optional control limits, signal points and a forecast with 80/95% bands.

    Args:
        months: ``YYYY-MM`` strings, consecutive and in order.
        values: One value per month.
        centre: Centre line (mean), one number or one per month.
        ucl: Upper control limit, one number or one per month.
        lcl: Lower control limit, one number or one per month.
        signals: Months (``YYYY-MM``) to mark as control-chart signals.
        forecast: ``(months, mean, lo80, hi80, lo95, hi95)``, drawn after the series.
        title: Chart title (also opens the alt text).
        y_label: Y-axis label, e.g. ``"Crimes per month"``.
    """
    n = len(months)
    if n == 0 or len(values) != n:
        raise ValueError("series_chart needs one value per month and at least one month")
    fc = Forecast(*forecast) if forecast is not None else None
    all_months = list(months) + (list(fc.months) if fc else [])
    xs = list(range(n))
    centre_l, ucl_l, lcl_l = _as_list(centre, n), _as_list(ucl, n), _as_list(lcl, n)
    signal_idx = [i for i, m in enumerate(months) if m in set(signals)]

    with _style():
        fig = MplFigure(figsize=(WIDTH_IN, 3.3))
        ax = fig.add_subplot()
        if fc:
            fx = list(range(n - 1, n + len(fc.months)))
            # Start the forecast bands at the last observed point so they join the line.
            last = float(values[-1])
            ax.fill_between(
                fx, [last, *fc.lo95], [last, *fc.hi95], color=ORANGE, alpha=0.13, lw=0, label="95% interval"
            )
            ax.fill_between(
                fx, [last, *fc.lo80], [last, *fc.hi80], color=ORANGE, alpha=0.28, lw=0, label="80% interval"
            )
            ax.plot(fx, [last, *fc.mean], color=ORANGE, lw=1.6, ls=(0, (4, 2)), label="Forecast")
        ax.plot(xs, values, color=BLUE, lw=1.8, marker="o", ms=2.5, label="Monthly value")
        if centre_l:
            ax.plot(xs, centre_l, color=GREY, lw=1, label="Average (centre line)")
        if ucl_l:
            ax.plot(xs, ucl_l, color=GREY, lw=1, ls="--", label="Control limits")
        if lcl_l:
            ax.plot(xs, lcl_l, color=GREY, lw=1, ls="--", label=None if ucl_l else "Control limits")
        if signal_idx:
            ax.scatter(
                signal_idx,
                [values[i] for i in signal_idx],
                s=46,
                marker="D",
                facecolor=VERMILLION,
                edgecolor="white",
                linewidths=0.8,
                zorder=5,
                label="Signal",
            )
        step = _tick_step(len(all_months))
        ticks = list(range(0, len(all_months), step))
        # Two-line labels ("May" over "2021") stay legible at a quarterly step on an A4-wide chart.
        ax.set_xticks(ticks, [month_label(all_months[i]).replace(" ", "\n") for i in ticks])
        ax.set_xticks(range(len(all_months)), minor=True)
        ax.set_xlim(-0.5, len(all_months) - 0.5)
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
        ax.grid(axis="y", color=LIGHT_GREY, lw=0.6)
        ax.set_axisbelow(True)
        if y_label:
            ax.set_ylabel(y_label)
        if title:
            ax.set_title(title, loc="left")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=4)
        svg, png = _render(fig)

    return ChartImage(svg=svg, png=png, alt=_series_alt(months, values, signal_idx, fc, centre_l, ucl_l, title))


def _series_alt(
    months: Sequence[str],
    values: Sequence[float],
    signal_idx: list[int],
    fc: Forecast | None,
    centre: list[float] | None,
    ucl: list[float] | None,
    title: str,
) -> str:
    lo = min(range(len(values)), key=lambda i: values[i])
    hi = max(range(len(values)), key=lambda i: values[i])
    parts = [
        f"Line chart{': ' + title if title else ''}. Monthly values from {month_label(months[0], True)} to "
        f"{month_label(months[-1], True)}, ranging from {_num(values[lo])} ({month_label(months[lo])}) to "
        f"{_num(values[hi])} ({month_label(months[hi])}); latest value {_num(values[-1])} in "
        f"{month_label(months[-1], True)}."
    ]
    if centre or ucl:
        parts.append("Grey lines show the average and the dashed control limits.")
    if signal_idx:
        named = ", ".join(month_label(months[i]) for i in signal_idx)
        flagged = (
            "1 month flagged as a signal" if len(signal_idx) == 1 else f"{len(signal_idx)} months flagged as signals"
        )
        parts.append(f"{flagged}: {named}.")
    if fc and len(fc.months):
        parts.append(
            f"Forecast to {month_label(fc.months[-1], True)}: {_num(fc.mean[-1])} "
            f"(95% interval {_num(fc.lo95[-1])} to {_num(fc.hi95[-1])})."
        )
    return " ".join(parts)


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    title: str = "",
    x_label: str = "",
    *,
    value_format: str = "{:,.0f}",
) -> ChartImage:
    """A horizontal bar chart (for mixes and breakdowns), first label at the top, each bar labelled.

    Args:
        labels: Category names.
        values: One value per label.
        title: Chart title.
        x_label: Axis label, e.g. ``"Crimes"``.
        value_format: Format of the value printed at the end of each bar.
    """
    if len(labels) != len(values) or not labels:
        raise ValueError("bar_chart needs one value per label and at least one label")
    n = len(labels)
    with _style():
        fig = MplFigure(figsize=(WIDTH_IN, max(1.6, 0.3 * n + 0.9)))
        ax = fig.add_subplot()
        ys = list(range(n))
        ax.barh(ys, values, color=BLUE, height=0.65)
        ax.set_yticks(ys, list(labels))
        ax.invert_yaxis()
        top = max([*values, 0])
        for y, v in zip(ys, values, strict=True):
            ax.text(v + top * 0.01, y, value_format.format(v), va="center", fontsize=8, color="#222222")
        ax.set_xlim(0, top * 1.12 if top > 0 else 1)
        ax.xaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
        ax.grid(axis="x", color=LIGHT_GREY, lw=0.6)
        ax.set_axisbelow(True)
        ax.spines["left"].set_visible(False)
        ax.tick_params(axis="y", length=0)
        if x_label:
            ax.set_xlabel(x_label)
        if title:
            ax.set_title(title, loc="left")
        svg, png = _render(fig)
    order = sorted(range(n), key=lambda i: values[i], reverse=True)
    listed = "; ".join(f"{labels[i]} {value_format.format(values[i])}" for i in order[:5])
    more = f"; and {n - 5} more" if n > 5 else ""
    alt = f"Bar chart{': ' + title if title else ''}. {n} categories, largest first: {listed}{more}."
    return ChartImage(svg=svg, png=png, alt=alt)


DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def heatmap(matrix: Sequence[Sequence[float]], title: str = "", value_label: str = "Count") -> ChartImage:
    """A day-of-week by hour-of-day heatmap.

    Args:
        matrix: 7 rows (Monday first) of 24 values (hour 0 first).
        title: Chart title.
        value_label: Colour-bar label.
    """
    if len(matrix) != 7 or any(len(row) != 24 for row in matrix):
        raise ValueError("heatmap needs 7 rows (Monday first) of 24 hourly values")
    with _style():
        fig = MplFigure(figsize=(WIDTH_IN, 2.6))
        ax = fig.add_subplot()
        image = ax.imshow([list(r) for r in matrix], aspect="auto", cmap="viridis")
        ax.set_yticks(range(7), [d[:3] for d in DAYS])
        ax.set_xticks(range(0, 24, 3), [f"{h:02d}:00" for h in range(0, 24, 3)])
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        bar = fig.colorbar(image, ax=ax, fraction=0.03, pad=0.01)
        bar.set_label(value_label)
        if title:
            ax.set_title(title, loc="left")
        svg, png = _render(fig)
    cells = [(matrix[d][h], d, h) for d in range(7) for h in range(24)]
    peak, pd, ph = max(cells)
    low, ld, lh = min(cells)
    total = sum(c[0] for c in cells)
    alt = (
        f"Heatmap{': ' + title if title else ''}. {value_label} by day of week and hour of day, total "
        f"{_num(total)}. Highest on {DAYS[pd]} at {ph:02d}:00 ({_num(peak)}); lowest on {DAYS[ld]} at "
        f"{lh:02d}:00 ({_num(low)})."
    )
    return ChartImage(svg=svg, png=png, alt=alt)


def funnel_chart(funnel: dict[str, Any], title: str = "", label_top: int = 5) -> ChartImage:
    """A funnel plot: each part's rate against its denominator, with the area rate and the 95% and 99.8% limits.

    Args:
        funnel: Funnel data as findings publish it (``extra["funnel"]`` of an area finding; see
            ``cspkit.findings.funnel.funnel``): ``points``, ``curve``, ``area_rate``, ``unit``.
        title: Chart title.
        label_top: Name this many parts above the 99.8% limit (the most extreme first).
    """
    points = list(funnel.get("points", []))
    curve = list(funnel.get("curve", []))
    if not points or not curve:
        raise ValueError("funnel_chart needs funnel points and limit curves")
    unit = str(funnel.get("unit", ""))
    with _style():
        fig = MplFigure(figsize=(WIDTH_IN, 3.2))
        ax = fig.add_subplot()
        xs = [float(c["denominator"]) for c in curve]
        ax.plot(xs, [c["upper_998"] for c in curve], color=VERMILLION, lw=1, ls="--", label="99.8% limits")
        ax.plot(xs, [c["lower_998"] for c in curve], color=VERMILLION, lw=1, ls="--")
        ax.plot(xs, [c["upper_95"] for c in curve], color=ORANGE, lw=1, ls=":", label="95% limits")
        ax.plot(xs, [c["lower_95"] for c in curve], color=ORANGE, lw=1, ls=":")
        ax.axhline(float(funnel["area_rate"]), color=GREY, lw=1, label="area rate")
        outside = [p for p in points if str(p["position"]).startswith("above 99.8")]
        inside = [p for p in points if p not in outside]
        ax.scatter(
            [p["denominator"] for p in inside], [p["rate"] for p in inside], s=14, color=BLUE, label="within 99.8%"
        )
        if outside:
            ax.scatter(
                [p["denominator"] for p in outside],
                [p["rate"] for p in outside],
                s=18,
                color=VERMILLION,
                label="above 99.8%",
            )
        for p in outside[:label_top]:
            ax.annotate(
                str(p["name"]), (p["denominator"], p["rate"]), fontsize=7, xytext=(3, 2), textcoords="offset points"
            )
        ax.set_xlabel(unit.split(" ", 2)[-1].capitalize() if unit else "Denominator")
        ax.set_ylabel(f"Rate {unit}" if unit else "Rate")
        ax.xaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
        ax.set_ylim(bottom=0)
        ax.grid(axis="y", color=LIGHT_GREY, lw=0.6)
        ax.set_axisbelow(True)
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=5)
        if title:
            ax.set_title(title, loc="left")
        svg, png = _render(fig)
    above = len(outside)
    below = sum(str(p["position"]).startswith("below 99.8") for p in points)
    named = ", ".join(str(p["name"]) for p in outside[:label_top])
    named = f" ({named})" if named else ""
    alt = (
        f"Funnel plot{': ' + title if title else ''}. {len(points)} areas; area rate "
        f"{_num(float(funnel['area_rate']))} {unit}. {above} above the 99.8% limit{named}, {below} below it; the rest "
        "differ from the area rate by no more than chance."
    )
    return ChartImage(svg=svg, png=png, alt=alt)

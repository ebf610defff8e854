"""Charts: deterministic SVG, real PNG, readable alt text."""

from __future__ import annotations

import io
import re

import matplotlib
import pytest
from PIL import Image

from cspkit.report.charts import Forecast, bar_chart, heatmap, month_label, series_chart

MONTHS = ["2022-11", "2022-12", "2023-01", "2023-02", "2023-03", "2023-04"]
VALUES = [310.0, 295.0, 402.0, 330.0, 318.0, 325.0]


def _png_size(png: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(png)) as im:
        assert im.format == "PNG"
        return im.size


def test_month_label() -> None:
    assert month_label("2021-05") == "May 2021"
    assert month_label("2023-12", long=True) == "December 2023"


def test_series_chart_is_deterministic_and_described() -> None:
    forecast = Forecast(["2023-05", "2023-06"], [330, 335], [300, 302], [360, 368], [280, 285], [380, 390])
    kwargs = dict(
        centre=330,
        ucl=390,
        lcl=270,
        signals=["2023-01"],
        forecast=forecast,
        title="Burglary",
        y_label="Crimes",
    )
    first = series_chart(MONTHS, VALUES, **kwargs)  # type: ignore[arg-type]
    second = series_chart(MONTHS, VALUES, **kwargs)  # type: ignore[arg-type]
    assert first.svg == second.svg
    assert first.svg.lstrip().startswith("<?xml") and "<svg" in first.svg
    assert "<dc:date>" not in first.svg  # no timestamp in the output
    width, height = _png_size(first.png)
    assert width > 1000 and 0.3 < height / width < 0.8  # 17 cm wide at 200 dpi, landscape
    assert first.alt == (
        "Line chart: Burglary. Monthly values from November 2022 to April 2023, ranging from 295 (Dec 2022) to "
        "402 (Jan 2023); latest value 325 in April 2023. Grey lines show the average and the dashed control "
        "limits. 1 month flagged as a signal: Jan 2023. Forecast to June 2023: 335 (95% interval 285 to 390)."
    )


def test_series_chart_accepts_per_month_limits_and_plain_tuple_forecast() -> None:
    chart = series_chart(
        MONTHS,
        VALUES,
        ucl=[400.0] * 6,
        lcl=[250.0] * 6,
        forecast=(["2023-05"], [1.0], [0.5], [1.5], [0.2], [2.0]),
    )
    assert "Forecast to May 2023" in chart.alt


def test_series_chart_does_not_change_global_settings() -> None:
    before = matplotlib.rcParams["font.size"], matplotlib.rcParams["svg.hashsalt"]
    series_chart(MONTHS, VALUES)
    assert (matplotlib.rcParams["font.size"], matplotlib.rcParams["svg.hashsalt"]) == before


@pytest.mark.parametrize(
    "call",
    [
        lambda: series_chart(MONTHS, VALUES[:-1]),
        lambda: series_chart(MONTHS, VALUES, ucl=[1.0, 2.0]),
        lambda: bar_chart(["a"], [1, 2]),
        lambda: heatmap([[1] * 24] * 6),
    ],
)
def test_bad_input_is_refused(call: object) -> None:
    with pytest.raises(ValueError):
        call()  # type: ignore[operator]


def test_bar_chart_alt_lists_largest_first() -> None:
    chart = bar_chart(["Shoplifting", "Burglary", "Robbery"], [120, 340, 45], title="Mix", x_label="Crimes")
    assert chart.alt == "Bar chart: Mix. 3 categories, largest first: Burglary 340; Shoplifting 120; Robbery 45."
    _png_size(chart.png)
    # Labels are drawn as paths, so the SVG needs no fonts; it should still carry no external references.
    assert not re.search(r"(href|src)=\"https?://", chart.svg)


def test_heatmap_alt_names_peak() -> None:
    matrix = [[1.0] * 24 for _ in range(7)]
    matrix[5][22] = 40.0
    chart = heatmap(matrix, title="ASB", value_label="Incidents")
    assert "Highest on Saturday at 22:00 (40)" in chart.alt
    assert "total 207" in chart.alt
    _png_size(chart.png)


def test_funnel_chart_draws_limits_and_names_the_parts_above_them() -> None:
    from cspkit.findings.funnel import funnel
    from cspkit.report.charts import funnel_chart

    data = funnel({"A": 6, "B": 40, "C": 54}, {"A": 500, "B": 2_000, "C": 7_500}, {"B": "Busy"}, 1000, "residents")
    assert data is not None
    image = funnel_chart(data, "Burglary by ward")
    assert image.png.startswith(b"\x89PNG") and "<svg" in image.svg
    assert "3 areas; area rate 10 per 1,000 residents. 1 above the 99.8% limit (Busy)" in image.alt

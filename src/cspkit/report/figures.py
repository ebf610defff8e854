"""Charts of findings: the monthly series with its control limits, signals and forecast."""

from __future__ import annotations

from cspkit.findings.model import Finding
from cspkit.report.charts import ChartImage, Forecast, series_chart

__all__ = ["finding_chart"]


def finding_chart(finding: Finding, *, y_label: str = "Per month") -> ChartImage:
    """Draw a finding's monthly series with what its record carries (control chart, forecast).

    Raises:
        ValueError: The finding has no monthly series.
    """
    if not finding.series:
        raise ValueError(f"Finding {finding.id} has no monthly series to draw.")
    months = [m for m, _ in finding.series]
    values = [v for _, v in finding.series]
    cc = finding.extra.get("control_chart") or {}
    if cc.get("seasonal_index") and len(cc.get("adjusted_values") or []) == len(values):
        values = list(cc["adjusted_values"])  # limits of a de-seasonalised chart are on the adjusted values
        y_label += " (seasonally adjusted)"
    fc = finding.extra.get("forecast")
    forecast = (
        Forecast(fc["months"], fc["mean"], fc["lower_80"], fc["upper_80"], fc["lower_95"], fc["upper_95"])
        if fc
        else None
    )
    signals = [s["month"] for s in cc.get("signals", [])]
    return series_chart(
        months,
        values,
        # a re-baselined chart has limits month by month (one level per phase)
        centre=cc.get("centre_by_month") or cc.get("centre"),
        ucl=cc.get("ucl_by_month") or cc.get("ucl"),
        lcl=cc.get("lcl_by_month") or cc.get("lcl"),
        signals=signals,
        forecast=forecast,
        title=finding.title,
        y_label=y_label,
    )

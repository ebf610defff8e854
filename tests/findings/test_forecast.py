"""Forecasts: model rule, seasonality recovered, interval coverage, backtest, determinism."""

from __future__ import annotations

import numpy as np
import pytest

from cspkit.errors import AnalysisError
from cspkit.findings.forecast import forecast_monthly
from cspkit.findings.periods import month_range

MONTHS = month_range("2019-04", "2023-03")  # 48 months


def seasonal_counts(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """48 monthly counts: level 100, seasonal swing of ±25, Poisson noise; and the seasonal component."""
    t = np.arange(48)
    season = 25 * np.sin(2 * np.pi * t / 12)
    return np.random.default_rng(seed).poisson(100 + season).astype(float), season


def test_seasonal_forecast_recovers_seasonality_and_covers_held_out_months() -> None:
    """36 months: the seasonal ETS is backtested at 6 origins; whichever wins (it or seasonal naive) is published,
    and either way the seasonal shape is forecast and the 95% range holds most held-out months."""
    values, season = seasonal_counts(3)
    forecast = forecast_monthly(MONTHS[:36], values[:36], horizon=12)
    backtest = forecast.backtest
    assert backtest is not None and backtest.model.startswith("ETS(A,Ad,A)") and len(backtest.origins) == 6
    assert backtest.mase is not None and backtest.naive_mase is not None
    if backtest.mase < backtest.naive_mase:
        assert forecast.published == "model" and forecast.model.startswith("ETS(A,Ad,A)")
    else:
        assert forecast.published == "seasonal naive" and "did not beat the seasonal-naive" in forecast.verdict
        assert forecast.mean == list(values[24:36])  # last year's same month
    assert "24 or more" in forecast.rule
    assert forecast.months == MONTHS[36:]
    held_out = values[36:]
    inside_95 = ((np.array(forecast.lower_95) <= held_out) & (held_out <= np.array(forecast.upper_95))).sum()
    assert inside_95 >= 10
    assert np.corrcoef(forecast.mean, season[36:])[0, 1] > 0.8  # the seasonal shape is forecast
    # Intervals nest: 80% inside 95%, around the mean.
    assert np.all(np.array(forecast.lower_95) <= np.array(forecast.lower_80))
    assert np.all(np.array(forecast.lower_80) <= np.array(forecast.mean))
    assert np.all(np.array(forecast.upper_80) <= np.array(forecast.upper_95))


def test_rolling_origin_backtest_by_hand() -> None:
    """Origins after 30..35 months, up to 3 months ahead each; seasonal-naive MASE computed here by hand."""
    values, _ = seasonal_counts(5)
    forecast = forecast_monthly(MONTHS[:36], values[:36])
    backtest = forecast.backtest
    assert backtest is not None
    assert backtest.months == MONTHS[30:36] and backtest.origins == MONTHS[29:35]
    errors = []
    for t in range(30, 36):
        train = values[:t]
        scale = np.abs(train[12:] - train[:-12]).mean()
        for h in range(min(3, 36 - t)):
            errors.append(abs(values[t + h] - train[t - 12 + h]) / scale)
    assert backtest.naive_mase == pytest.approx(np.mean(errors))
    assert backtest.mase is not None and 0 < backtest.mase < 3
    assert backtest.coverage_80 is not None and backtest.coverage_95 is not None
    assert 0 <= backtest.coverage_80 <= backtest.coverage_95 <= 1


def test_twenty_four_months_cannot_backtest_the_seasonal_model_so_seasonal_naive_is_published() -> None:
    values, _ = seasonal_counts(6)
    forecast = forecast_monthly(MONTHS[:24], values[:24])
    assert forecast.backtest is None and forecast.published == "seasonal naive"
    assert "could not be backtested at 6 origins" in forecast.verdict
    assert forecast.mean == list(values[12:24])


def test_ten_months_use_simple_exponential_smoothing() -> None:
    values, _ = seasonal_counts(1)
    forecast = forecast_monthly(MONTHS[:10], values[:10], horizon=3)
    assert "fewer than 12" in forecast.rule
    assert forecast.months == MONTHS[10:13]
    assert forecast.backtest is not None and forecast.backtest.model.startswith("ETS(A,N,N)")
    assert len(forecast.backtest.origins) == 6
    if forecast.published == "model":
        assert forecast.model.startswith("ETS(A,N,N)")
        assert len(set(np.round(forecast.mean, 6))) == 1  # a level only: flat forecast
    else:
        assert forecast.mean == [values[9]] * 3  # under a year: naive is the last value


def test_eighteen_months_backtest_holt_itself() -> None:
    values, _ = seasonal_counts(2)
    forecast = forecast_monthly(MONTHS[:18], values[:18])
    assert forecast.backtest is not None
    assert forecast.backtest.model.startswith("ETS(A,A,N)")  # the published model, not a simpler one
    assert forecast.backtest.origins == MONTHS[11:17]


def test_forecast_is_deterministic() -> None:
    values, _ = seasonal_counts(4)
    first = forecast_monthly(MONTHS[:30], values[:30])
    second = forecast_monthly(MONTHS[:30], values[:30])
    assert first == second


def test_small_counts_are_floored_at_zero() -> None:
    values = [0, 1, 0, 0, 2, 0, 1, 0, 0, 1, 0, 0, 1, 0]
    forecast = forecast_monthly(MONTHS[:14], values)
    assert min(forecast.lower_95) == 0.0
    assert min(forecast.mean) >= 0.0


def test_refusals() -> None:
    with pytest.raises(AnalysisError, match="at least 4 months"):
        forecast_monthly(MONTHS[:3], [1, 2, 3])
    with pytest.raises(AnalysisError, match="consecutive"):
        forecast_monthly([*MONTHS[:5], MONTHS[6]], [1, 2, 3, 4, 5, 6])

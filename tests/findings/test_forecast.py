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


def test_seasonal_model_recovers_seasonality_and_covers_held_out_months() -> None:
    values, season = seasonal_counts(3)
    forecast = forecast_monthly(MONTHS[:36], values[:36], horizon=12)
    assert forecast.model.startswith("ETS(A,Ad,A)")
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


def test_backtest_holds_out_the_final_six_months() -> None:
    values, _ = seasonal_counts(5)
    forecast = forecast_monthly(MONTHS[:36], values[:36])
    backtest = forecast.backtest
    assert backtest is not None
    assert backtest.months == MONTHS[30:36]
    assert backtest.actual == list(values[30:36])
    # MASE by hand: MAE of the backtest over the in-sample seasonal-naive MAE of the 30 training months.
    train = values[:30]
    scale = np.abs(train[12:] - train[:-12]).mean()
    expected = np.abs(np.array(backtest.actual) - np.array(backtest.forecast)).mean() / scale
    assert backtest.mase == pytest.approx(expected)
    assert backtest.mase is not None and 0 < backtest.mase < 3


def test_ten_months_use_simple_exponential_smoothing() -> None:
    values, _ = seasonal_counts(1)
    forecast = forecast_monthly(MONTHS[:10], values[:10], horizon=3)
    assert forecast.model.startswith("ETS(A,N,N)")
    assert "fewer than 12" in forecast.rule
    assert forecast.months == MONTHS[10:13]
    assert len(set(np.round(forecast.mean, 6))) == 1  # a level only: flat forecast
    assert forecast.backtest is not None and forecast.backtest.model.startswith("ETS(A,N,N)")


def test_eighteen_months_use_holt_and_a_shorter_backtest_says_so() -> None:
    values, _ = seasonal_counts(2)
    forecast = forecast_monthly(MONTHS[:18], values[:18])
    assert forecast.model.startswith("ETS(A,A,N)")
    assert forecast.backtest is not None
    assert forecast.backtest.model.startswith("ETS(A,A,N)") and forecast.backtest.note == ""
    longer = forecast_monthly(MONTHS[:26], values[:26])
    assert longer.backtest is not None and longer.backtest.model.startswith("ETS(A,A,N)")
    assert "too few" in longer.backtest.note


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

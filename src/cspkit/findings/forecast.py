"""Forecasts of monthly series with prediction intervals and an honest backtest.

The model follows from the length of the series (the rule is stated in every result):

* 24 months or more: ETS(A,Ad,A), additive errors, damped additive trend and additive seasonality over 12
  months (two full years are needed to tell the seasonal pattern from noise);
* 12 to 23 months: ETS(A,A,N), Holt's linear trend, no seasonality;
* 4 to 11 months: ETS(A,N,N), simple exponential smoothing (a level only).

All are statsmodels ``ETSModel`` fits by maximum likelihood, which are deterministic (the seasonal model
takes its initial states from a classical decomposition, the others estimate them). The 80% and 95%
prediction intervals are the model's analytical ones with the error variance corrected for the degrees of
freedom used, ``n / (n − k)`` with k counting smoothing parameters, initial states and the variance itself (as
R's ``forecast::ets`` does); without it, short series give intervals that cover far too little (about 80% for a
nominal 95% on 36 months of synthetic counts). Bounds are floored at 0 for counts. The backtest refits on all
but the final 6 months (choosing the model by the same rule for that shorter length), forecasts those 6 and
reports the MASE: mean absolute error divided by the in-sample mean absolute error of the naive forecast (last
year's same month for a seasonal model, otherwise last month). A MASE below 1 beats the naive forecast.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from cspkit.errors import AnalysisError
from cspkit.findings.periods import month_add, month_range

__all__ = ["BACKTEST_MONTHS", "MIN_MONTHS", "Backtest", "Forecast", "forecast_monthly"]

#: Shortest series that is forecast at all.
MIN_MONTHS = 4
#: Months held out by the backtest.
BACKTEST_MONTHS = 6

_SEASON = 12
_SEASONAL_FROM = 24
_TREND_FROM = 12


@dataclass(frozen=True)
class Backtest:
    """How the model would have done on the final months had they been unknown.

    Attributes:
        months: The held-out months.
        actual: Their values.
        forecast: The forecasts made without them (floored at 0 for counts).
        mase: Mean absolute scaled error, or None when the naive forecast is perfect in-sample (scale 0).
        model: The model refitted on the shorter series.
        note: Anything a reader should know (e.g. a simpler model was used for the shorter series).
    """

    months: list[str]
    actual: list[float]
    forecast: list[float]
    mase: float | None
    model: str
    note: str = ""


@dataclass(frozen=True)
class Forecast:
    """A forecast of the months after a series.

    Attributes:
        model: The model fitted, e.g. ``ETS(A,Ad,A) seasonal, damped trend``.
        rule: Why that model, in words.
        months: The forecast months.
        mean: Point forecasts.
        lower_80: Lower bounds of the 80% prediction intervals.
        upper_80: Upper bounds of the 80% prediction intervals.
        lower_95: Lower bounds of the 95% prediction intervals.
        upper_95: Upper bounds of the 95% prediction intervals.
        backtest: The backtest on the final months, or None when the series is too short to hold any out.
        history_months: Months of the series the model was fitted to.
    """

    model: str
    rule: str
    months: list[str]
    mean: list[float]
    lower_80: list[float]
    upper_80: list[float]
    lower_95: list[float]
    upper_95: list[float]
    backtest: Backtest | None
    history_months: list[str]


@dataclass(frozen=True)
class _Spec:
    name: str
    trend: str | None
    damped: bool
    seasonal: str | None


_SEASONAL = _Spec("ETS(A,Ad,A) seasonal with damped trend", "add", True, "add")
_HOLT = _Spec("ETS(A,A,N) Holt's linear trend", "add", False, None)
_SIMPLE = _Spec("ETS(A,N,N) simple exponential smoothing", None, False, None)


def _spec_for(n: int) -> _Spec:
    if n >= _SEASONAL_FROM:
        return _SEASONAL
    if n >= _TREND_FROM:
        return _HOLT
    return _SIMPLE


def _rule_for(n: int, spec: _Spec) -> str:
    if spec is _SEASONAL:
        return f"{n} months (24 or more), so a seasonal model: {spec.name}."
    if spec is _HOLT:
        return f"{n} months (12 to 23, too few to estimate a seasonal pattern), so {spec.name}."
    return f"{n} months (fewer than 12, too few for a trend), so {spec.name}."


def _fit_and_predict(values: np.ndarray, spec: _Spec, horizon: int) -> dict[str, np.ndarray]:
    """Fit ``spec`` and return the mean and the 80% and 95% bounds for ``horizon`` months."""
    import pandas as pd  # statsmodels and pandas take a second to import: only forecasts need them
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    # The seasonal model needs two full years for the heuristic start, which it always has (>= 24 months).
    heuristic = spec.seasonal is not None
    model = ETSModel(
        pd.Series(values),  # a pandas series: ETS prediction results need an index
        error="add",
        trend=spec.trend,
        damped_trend=spec.damped,
        seasonal=spec.seasonal,
        seasonal_periods=_SEASON if spec.seasonal else None,
        initialization_method="heuristic" if heuristic else "estimated",
    )
    with warnings.catch_warnings():
        # Short series make the optimiser warn (ConvergenceWarning, RuntimeWarning); the fit is still usable.
        warnings.simplefilter("ignore")
        result = model.fit(disp=False)
        prediction = result.get_prediction(start=len(values), end=len(values) + horizon - 1)
        frame_80 = prediction.summary_frame(alpha=0.20)
        frame_95 = prediction.summary_frame(alpha=0.05)

    n_initial = (1 + (spec.trend is not None) + (_SEASON - 1 if spec.seasonal else 0)) if heuristic else 0
    k = len(result.params) + n_initial + 1  # + 1 for the error variance
    widen = float(np.sqrt(len(values) / (len(values) - k)))
    mean = frame_95["mean"].to_numpy(dtype=float)
    bounds = {"mean": mean}
    for level, frame in (("80", frame_80), ("95", frame_95)):
        bounds[f"lower_{level}"] = mean - (mean - frame["pi_lower"].to_numpy(dtype=float)) * widen
        bounds[f"upper_{level}"] = mean + (frame["pi_upper"].to_numpy(dtype=float) - mean) * widen
    return bounds


def _backtest(months: list[str], values: np.ndarray, spec: _Spec, counts: bool) -> Backtest | None:
    n_train = len(values) - BACKTEST_MONTHS
    if n_train < MIN_MONTHS:
        return None
    train, actual = values[:n_train], values[n_train:]
    train_spec = _spec_for(n_train)
    note = ""
    if train_spec is not spec:
        note = f"The backtest used {train_spec.name}, because {n_train} months are too few for {spec.name}."
    predicted = _fit_and_predict(train, train_spec, BACKTEST_MONTHS)["mean"]
    if counts:
        predicted = np.maximum(predicted, 0.0)
    lag = _SEASON if train_spec.seasonal and n_train > _SEASON else 1
    scale = float(np.abs(train[lag:] - train[:-lag]).mean())
    mase = float(np.abs(actual - predicted).mean()) / scale if scale > 0 else None
    return Backtest(
        months=months[n_train:],
        actual=[float(v) for v in actual],
        forecast=[float(v) for v in predicted],
        mase=mase,
        model=train_spec.name,
        note=note,
    )


def forecast_monthly(
    months: Sequence[str], values: Sequence[float] | np.ndarray, horizon: int = 12, counts: bool = True
) -> Forecast:
    """Forecast a monthly series ``horizon`` months ahead, with intervals and a backtest.

    Args:
        months: Consecutive months ``YYYY-MM``, in order.
        values: The value for each month.
        horizon: Months to forecast.
        counts: True for counts and other non-negative values: forecasts and bounds are floored at 0.

    Raises:
        AnalysisError: If there are fewer than :data:`MIN_MONTHS` months, a gap, or a missing value.
    """
    if len(months) != len(values):
        raise ValueError(f"months and values differ in length ({len(months)} and {len(values)})")
    if horizon < 1:
        raise ValueError("horizon must be at least 1")
    if len(months) < MIN_MONTHS:
        raise AnalysisError(f"A forecast needs at least {MIN_MONTHS} months of data (have {len(months)}).")
    months = list(months)
    if month_range(months[0], months[-1]) != months:
        raise AnalysisError(f"A forecast needs consecutive months; {months[0]} to {months[-1]} has gaps.")
    series = np.asarray(values, dtype=float)
    if not np.all(np.isfinite(series)):
        raise AnalysisError("A forecast needs a value for every month (found a missing value).")

    spec = _spec_for(len(series))
    bounds = _fit_and_predict(series, spec, horizon)
    if counts:
        bounds = {key: np.maximum(value, 0.0) for key, value in bounds.items()}

    def as_list(key: str) -> list[float]:
        return [float(v) for v in bounds[key]]

    return Forecast(
        model=spec.name,
        rule=_rule_for(len(series), spec),
        months=[month_add(months[-1], i) for i in range(1, horizon + 1)],
        mean=as_list("mean"),
        lower_80=as_list("lower_80"),
        upper_80=as_list("upper_80"),
        lower_95=as_list("lower_95"),
        upper_95=as_list("upper_95"),
        backtest=_backtest(months, series, spec, counts),
        history_months=months,
    )

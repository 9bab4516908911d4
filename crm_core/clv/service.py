"""One call for pages and the command line: fit both models on the store and score customers.

`fit_clv` reads purchases from the store, builds the model inputs at the
calibration end, fits BG/NBD and Gamma-Gamma, scores every customer and, when a
holdout end is given, runs the calibration/holdout check.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb
import numpy as np
import polars as pl

from crm_core import store
from crm_core.clv.bgnbd import BetaGeoModel
from crm_core.clv.gamma_gamma import GammaGammaModel
from crm_core.clv.holdout import HoldoutCheck, holdout_check
from crm_core.clv.inputs import last_purchase_day, rfm_inputs, transactions_from_store
from crm_core.clv.value import check_clv_terms, horizon_purchases
from crm_core.errors import VinculoError


@dataclass(frozen=True)
class ClvResult:
    """Fitted parameters, per-customer scores and the optional holdout check.

    `customers` columns: customer_id, frequency (repeat purchase days),
    recency and T (in `time_unit`), monetary (mean repeat spend, currency),
    p_alive (0–1), expected_purchases (in the next `horizon_months` months),
    expected_spend (per purchase, currency), clv (discounted, × margin,
    currency).
    """

    calibration_end: date
    time_unit: str
    horizon_months: int
    discount_rate: float
    margin: float
    bgnbd: dict[str, float]
    gamma_gamma: dict[str, float]
    customers: pl.DataFrame = field(repr=False)
    excluded_from_spend_fit: int = 0
    holdout: HoldoutCheck | None = None

    def to_dict(self) -> dict[str, Any]:
        """The command line's JSON payload."""
        payload: dict[str, Any] = {
            "bgnbd": {k: round(v, 6) for k, v in self.bgnbd.items()},
            "gamma_gamma": {k: round(v, 6) for k, v in self.gamma_gamma.items()},
            "customers": self.customers.height,
            "repeat_customers": int((self.customers["frequency"] > 0).sum()),
            "calibration_end": self.calibration_end.isoformat(),
            "time_unit": self.time_unit,
            "horizon_months": self.horizon_months,
            "discount_rate": self.discount_rate,
            "margin": self.margin,
            "excluded_from_spend_fit": self.excluded_from_spend_fit,
            "total_clv": round(float(self.customers["clv"].sum()), 2),
            "mean_clv": round(float(self.customers["clv"].mean() or 0.0), 2),
            "mean_p_alive": round(float(self.customers["p_alive"].mean() or 0.0), 4),
        }
        if self.holdout is not None:
            payload["holdout"] = self.holdout.to_dict()
        return payload

    def to_json(self) -> str:
        """`to_dict()` as a JSON string."""
        return json.dumps(self.to_dict(), ensure_ascii=False)


@dataclass(frozen=True)
class FittedModels:
    """Both models fitted at a calibration end, with their inputs (before any CLV terms).

    Scoring with other CLV terms (horizon, discount rate, margin) reuses these
    fits: `score_fitted(fitted, horizon=…)` costs a vectorised pass, not a refit.
    """

    calibration_end: date
    time_unit: str
    inputs: pl.DataFrame = field(repr=False)
    bgnbd: BetaGeoModel = field(repr=False)
    gamma_gamma: GammaGammaModel = field(repr=False)
    excluded_from_spend_fit: int = 0
    holdout: HoldoutCheck | None = None


def fit_models(
    con: duckdb.DuckDBPyConnection,
    *,
    calibration_end: date | None = None,
    holdout_end: date | None = None,
    time_unit: str = "week",
) -> FittedModels:
    """Fit BG/NBD + Gamma-Gamma on the store's purchases up to `calibration_end`.

    `calibration_end` defaults to the last purchase day. With `holdout_end`,
    purchases in (calibration_end, holdout_end] are held out and compared with
    the prediction. Customers with zero or negative repeat spend are left out of
    the Gamma-Gamma fit (counted in `excluded_from_spend_fit`).
    """
    if calibration_end is None:
        if holdout_end is not None:
            raise VinculoError("clv.holdout_needs_calibration_end")
        calibration_end = last_purchase_day(con)
        if calibration_end is None:
            raise VinculoError("clv.no_purchases", until="—")
    transactions = transactions_from_store(con, holdout_end or calibration_end)
    inputs = rfm_inputs(transactions, calibration_end, time_unit)
    if inputs.height == 0:
        raise VinculoError("clv.no_purchases", until=calibration_end.isoformat())
    bgnbd = BetaGeoModel().fit(inputs["frequency"], inputs["recency"], inputs["T"])
    spend_rows = inputs.filter(pl.col("frequency") > 0)
    positive = spend_rows.filter(pl.col("monetary") > 0)
    gamma_gamma = GammaGammaModel().fit(positive["frequency"], positive["monetary"])
    check = None
    if holdout_end is not None:
        _, check = holdout_check(transactions, calibration_end, holdout_end, time_unit, bgnbd)
    return FittedModels(
        calibration_end, time_unit, inputs, bgnbd, gamma_gamma,
        excluded_from_spend_fit=spend_rows.height - positive.height, holdout=check,
    )  # fmt: skip


def score_fitted(
    fitted: FittedModels, *, horizon: int = 12, discount_rate: float = 0.01, margin: float = 1.0
) -> ClvResult:
    """Score every customer of `fitted` with the CLV terms (see `fit_clv`)."""
    customers = score_customers(
        fitted.inputs, fitted.bgnbd, fitted.gamma_gamma, fitted.time_unit,
        horizon, discount_rate, margin,
    )  # fmt: skip
    bgnbd, gamma_gamma = fitted.bgnbd, fitted.gamma_gamma
    assert bgnbd.params_ is not None and gamma_gamma.params_ is not None
    return ClvResult(
        calibration_end=fitted.calibration_end,
        time_unit=fitted.time_unit,
        horizon_months=horizon,
        discount_rate=discount_rate,
        margin=margin,
        bgnbd={**bgnbd.params_, "log_likelihood": float(bgnbd.log_likelihood_ or 0.0)},
        gamma_gamma=dict(gamma_gamma.params_),
        customers=customers,
        excluded_from_spend_fit=fitted.excluded_from_spend_fit,
        holdout=fitted.holdout,
    )


def fit_clv(
    con: duckdb.DuckDBPyConnection,
    *,
    calibration_end: date | None = None,
    holdout_end: date | None = None,
    time_unit: str = "week",
    horizon: int = 12,
    discount_rate: float = 0.01,
    margin: float = 1.0,
) -> ClvResult:
    """Fit BG/NBD + Gamma-Gamma on the store's purchases up to `calibration_end` and score.

    `horizon` is in months (365.25/12 days) whatever the time unit;
    `discount_rate` is per month; `margin` is the share of spend kept (0–1).
    See `fit_models` for the calibration and holdout; customers left out of the
    spend fit get the population mean spend.
    """
    check_clv_terms(horizon, discount_rate, margin)
    fitted = fit_models(
        con, calibration_end=calibration_end, holdout_end=holdout_end, time_unit=time_unit
    )
    return score_fitted(fitted, horizon=horizon, discount_rate=discount_rate, margin=margin)


def score_customers(
    inputs: pl.DataFrame,
    bgnbd: BetaGeoModel,
    gamma_gamma: GammaGammaModel,
    time_unit: str = "week",
    horizon: int = 12,
    discount_rate: float = 0.01,
    margin: float = 1.0,
) -> pl.DataFrame:
    """Per customer: inputs plus p_alive, expected_purchases, expected_spend, clv.

    `inputs` has frequency, recency, T, monetary (as from `rfm_inputs`).
    expected_purchases covers the next `horizon` months; customers whose mean
    repeat spend is not positive get the population mean spend.
    """
    check_clv_terms(horizon, discount_rate, margin)
    x, tx, age = (inputs[c].to_numpy().astype(np.float64) for c in ("frequency", "recency", "T"))
    monetary = inputs["monetary"].to_numpy()
    spend = gamma_gamma.conditional_expected_average_profit(x * (monetary > 0), monetary)
    forecast = horizon_purchases(
        bgnbd,
        x,
        tx,
        age,
        time_unit=time_unit,
        horizon_months=horizon,
        discount_rate=discount_rate,
    )
    return inputs.select("customer_id", "frequency", "recency", "T", "monetary").with_columns(
        p_alive=pl.Series(forecast.p_alive),
        expected_purchases=pl.Series(forecast.expected_purchases),
        expected_spend=pl.Series(spend),
        clv=pl.Series(margin * spend * forecast.discounted_purchases),
    )


def _as_date(value: date | str | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise VinculoError("clv.bad_date", value=value) from exc


def clv_cli_payload(
    db: str | os.PathLike[str] | None,
    calibration_end: date | str | None,
    holdout_end: date | str | None,
    time_unit: str = "week",
    horizon: int = 12,
    discount_rate: float = 0.01,
    margin: float = 1.0,
) -> dict[str, Any]:
    """What `python -m crm_core clv --json` prints: `fit_clv(...).to_dict()` on the store `db`."""
    with store.connect(db) as con:
        result = fit_clv(
            con,
            calibration_end=_as_date(calibration_end),
            holdout_end=_as_date(holdout_end),
            time_unit=time_unit,
            horizon=horizon,
            discount_rate=discount_rate,
            margin=margin,
        )
    return result.to_dict()

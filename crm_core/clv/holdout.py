"""Calibration/holdout check: should the BG/NBD model be trusted on this data?

Fit on purchases up to a cut-off E, predict the holdout (E, H], and compare
with what happened (Fader, Hardie & Lee 2005, figures 2–4):

- total repeat purchases in the holdout, predicted vs actual;
- per calibration frequency (0, 1, …, 6, 7+): mean holdout purchases,
  predicted (conditional expectation) vs actual;
- the cumulative weekly repeat-purchase curve over calibration and holdout
  (the "tracking plot"): actual repeat purchase days vs the sum over customers
  of E[X(t − s_i)], s_i being the customer's first purchase day.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import polars as pl

from crm_core.clv._base import unit_days
from crm_core.clv.bgnbd import BetaGeoModel
from crm_core.clv.inputs import calibration_holdout, customer_days, rfm_from_days

TOP_BUCKET = 7
"""Calibration frequencies at or above this share one bucket ("7+")."""


@dataclass(frozen=True)
class HoldoutCheck:
    """The check's figures; frames are described in `holdout_check`."""

    calibration_end: date
    holdout_end: date
    time_unit: str
    holdout_duration: float
    customers: int
    predicted_repeat_purchases: float
    actual_repeat_purchases: int
    by_frequency: pl.DataFrame = field(repr=False)
    tracking: pl.DataFrame = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: totals, the per-frequency table and the weekly curve."""
        return {
            "calibration_end": self.calibration_end.isoformat(),
            "holdout_end": self.holdout_end.isoformat(),
            "time_unit": self.time_unit,
            "holdout_duration": self.holdout_duration,
            "customers": self.customers,
            "predicted_repeat_purchases": round(self.predicted_repeat_purchases, 3),
            "actual_repeat_purchases": self.actual_repeat_purchases,
            "by_frequency": self.by_frequency.with_columns(
                pl.col("predicted_mean", "actual_mean").round(4)
            ).to_dicts(),
            "tracking": self.tracking.with_columns(
                pl.col("week_end").cast(pl.String), pl.col("predicted_cumulative").round(3)
            ).to_dicts(),
        }


def holdout_check(
    transactions: pl.DataFrame,
    calibration_end: date,
    holdout_end: date,
    time_unit: str = "week",
    model: BetaGeoModel | None = None,
    **columns: str,
) -> tuple[BetaGeoModel, HoldoutCheck]:
    """Fit BG/NBD up to `calibration_end` (unless a fitted `model` is given) and check it.

    `columns` may rename `customer_col`, `date_col`, `amount_col` as in
    `inputs.rfm_inputs`. Returns the model and a `HoldoutCheck` whose
    `by_frequency` has `frequency_bucket` (“0”…“6”, “7+”), `customers`,
    `predicted_mean`, `actual_mean` (holdout purchases per customer) and whose
    `tracking` has `week` (1, 2, …), `week_end` (Date), `actual_cumulative`,
    `predicted_cumulative` (repeat purchases since the first customer's start).
    """
    frame = calibration_holdout(transactions, calibration_end, holdout_end, time_unit, **columns)
    if model is None:
        model = BetaGeoModel().fit(frame["frequency"], frame["recency"], frame["T"])
    duration = (holdout_end - calibration_end).days / unit_days(time_unit)
    predicted = model.conditional_expected_purchases(
        duration, frame["frequency"], frame["recency"], frame["T"]
    )
    frame = frame.with_columns(predicted=pl.Series(predicted))
    days = customer_days(transactions, **columns)
    check = HoldoutCheck(
        calibration_end=calibration_end,
        holdout_end=holdout_end,
        time_unit=time_unit,
        holdout_duration=duration,
        customers=frame.height,
        predicted_repeat_purchases=float(predicted.sum()),
        actual_repeat_purchases=int(frame["holdout_frequency"].sum()),
        by_frequency=_by_frequency(frame),
        tracking=tracking_curve(model, days, calibration_end, holdout_end, time_unit),
    )
    return model, check


def _by_frequency(frame: pl.DataFrame) -> pl.DataFrame:
    bucket = pl.min_horizontal(pl.col("frequency"), pl.lit(TOP_BUCKET))
    return (
        frame.group_by(bucket.alias("order"))
        .agg(
            customers=pl.len(),
            predicted_mean=pl.col("predicted").mean(),
            actual_mean=pl.col("holdout_frequency").mean(),
        )
        .sort("order")
        .select(
            frequency_bucket=pl.when(pl.col("order") == TOP_BUCKET)
            .then(pl.lit(f"{TOP_BUCKET}+"))
            .otherwise(pl.col("order").cast(pl.String)),
            customers="customers",
            predicted_mean="predicted_mean",
            actual_mean="actual_mean",
        )
    )


def tracking_curve(
    model: BetaGeoModel,
    days: pl.DataFrame,
    calibration_end: date,
    holdout_end: date,
    time_unit: str = "week",
) -> pl.DataFrame:
    """Cumulative repeat purchases by week, actual vs predicted (FHL 2005, figure 4).

    `days` is `inputs.customer_days` output. The cohort is the customers first
    seen by `calibration_end`; week k ends on day start + 7k − 1, start being
    the cohort's earliest first purchase (the last week ends at `holdout_end`).
    A purchase on day d counts once d ≤ the week's end; the prediction for a
    customer first seen on day s is E[X(week end − s)] (unconditional).
    """
    firsts = rfm_from_days(days, calibration_end, time_unit).select("customer_id", "first_purchase")
    start: date = firsts["first_purchase"].min()  # type: ignore[assignment]
    weeks = -(-((holdout_end - start).days + 1) // 7)
    ends = [min(start + timedelta(days=7 * k - 1), holdout_end) for k in range(1, weeks + 1)]
    end_offsets = np.array([(e - start).days for e in ends])
    cohort_days = days.join(firsts, on="customer_id").filter(
        (pl.col("day") > pl.col("first_purchase")) & (pl.col("day") <= holdout_end)
    )
    repeat_offsets = ((cohort_days["day"] - start).dt.total_days()).to_numpy()
    actual = np.searchsorted(np.sort(repeat_offsets), end_offsets, side="right")
    cohorts = firsts.group_by("first_purchase").agg(n=pl.len())
    first_offsets = (cohorts["first_purchase"] - start).dt.total_days().to_numpy()
    elapsed = np.clip(end_offsets[:, None] - first_offsets[None, :], 0, None)
    grid = model.expected_purchases(np.arange(elapsed.max() + 1) / unit_days(time_unit))
    predicted = np.einsum("ij,j->i", grid[elapsed], cohorts["n"].to_numpy().astype(np.float64))
    return pl.DataFrame(
        {
            "week": np.arange(1, weeks + 1),
            "week_end": ends,
            "actual_cumulative": actual,
            "predicted_cumulative": predicted,
        }
    )

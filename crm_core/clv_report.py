"""What the CLV page shows, as pure functions over a `ClvResult` and the customer summary.

- the default calibration end: keep the last `HOLDOUT_WEEKS` weeks as a holdout when the
  history before them is at least as long, so the BG/NBD fit can be checked (Fader, Hardie &
  Lee 2005 calibrate on 39 weeks and hold out 39);
- the holdout error: relative error of the predicted total repeat purchases;
- the customer table: model inputs and predictions with name, e-mail and historic revenue.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import numpy as np
import polars as pl

from crm_core.clv import ClvResult, HoldoutCheck
from crm_core.summary import query_frame

HOLDOUT_WEEKS = 26
"""Default holdout length, in weeks, before the as-of date."""

PREDICTION_COLUMNS: tuple[str, ...] = (
    "customer_id", "name", "email", "frequency", "recency", "T", "p_alive",
    "expected_purchases", "expected_spend", "clv", "revenue",
)  # fmt: skip
"""Columns of `customer_predictions`, in display order."""


def first_purchase_day(summary: pl.DataFrame) -> date | None:
    """The earliest first purchase day of the summary's customers; None when nobody bought."""
    if summary.height == 0:
        return None
    return summary["first_purchase"].min()  # type: ignore[return-value]


def default_calibration_end(
    first_day: date | None, as_of: date, holdout_weeks: int = HOLDOUT_WEEKS
) -> date:
    """`as_of − holdout_weeks` weeks when at least as many weeks of history precede it, else
    `as_of` (no holdout: the whole history calibrates the models)."""
    holdout = timedelta(weeks=holdout_weeks)
    if first_day is None or as_of - holdout - first_day < holdout:
        return as_of
    return as_of - holdout


def holdout_error(check: HoldoutCheck) -> float | None:
    """Relative error of the holdout total: (predicted − actual) / actual repeat purchases.

    A share (0.05 = the model predicted 5 % more repeat purchases than happened); None when
    no repeat purchase happened in the holdout.
    """
    actual = check.actual_repeat_purchases
    if actual == 0:
        return None
    return (check.predicted_repeat_purchases - actual) / actual


def customer_contacts(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """`customer_id, name, email` of every customer not erased."""
    return query_frame(
        con,
        "SELECT customer_id::VARCHAR AS customer_id, name::VARCHAR AS name, "
        "email::VARCHAR AS email FROM customers WHERE erased_at IS NULL",
    )


def customer_predictions(
    result: ClvResult, summary: pl.DataFrame, contacts: pl.DataFrame
) -> pl.DataFrame:
    """One row per scored customer: `PREDICTION_COLUMNS`, highest CLV first.

    Model columns come from `result.customers` (frequency in repeat purchase days, recency and
    T in `result.time_unit`, p_alive 0–1, expected_purchases over the horizon, expected_spend
    per purchase and clv in currency); `revenue` is the summary's net revenue to its as-of
    date (currency); `name`, `email` come from `contacts` (null when unknown).
    """
    revenue = summary.select("customer_id", "revenue")
    return (
        result.customers.join(contacts, on="customer_id", how="left", maintain_order="left")
        .join(revenue, on="customer_id", how="left", maintain_order="left")
        .select(PREDICTION_COLUMNS)
        .sort("clv", descending=True, maintain_order=True)
    )


def score_overview(predictions: pl.DataFrame) -> dict[str, float | int | None]:
    """Headline figures of a prediction table (as from `customer_predictions`).

    `customers` scored; `mean_p_alive` (0–1); `expected_purchases`, the sum over customers
    of purchases expected over the horizon; `total_clv` and `mean_clv` (currency). Means are
    None for an empty table.
    """
    return {
        "customers": predictions.height,
        "mean_p_alive": predictions["p_alive"].mean(),  # type: ignore[dict-item]
        "expected_purchases": float(predictions["expected_purchases"].sum()),
        "total_clv": float(predictions["clv"].sum()),
        "mean_clv": predictions["clv"].mean(),  # type: ignore[dict-item]
    }


def distribution(values: pl.Series, bins: int = 30, top_share: float = 0.99) -> pl.DataFrame:
    """Histogram of `values` in `bins` equal-width bins from the minimum to the `top_share`
    quantile; values above it are counted in the last bin (long right tails such as CLV's
    would otherwise squeeze every other bin into one). Nulls are left out.

    Columns: `lower`, `upper` (bin edges, in the values' unit) and `customers` (Int64); the
    counts sum to the number of non-null values.
    """
    data = values.drop_nulls().cast(pl.Float64).to_numpy()
    if data.size == 0:
        return pl.DataFrame(
            schema={"lower": pl.Float64, "upper": pl.Float64, "customers": pl.Int64}
        )
    low, high = float(data.min()), float(np.quantile(data, top_share))
    if high <= low:
        high = low + 1.0 if float(data.max()) <= low else float(data.max())
    counts, edges = np.histogram(np.clip(data, low, high), bins=bins, range=(low, high))
    return pl.DataFrame(
        {"lower": edges[:-1], "upper": edges[1:], "customers": counts.astype(np.int64)}
    )

"""Transactions → the CLV models' inputs (frequency, recency, T, monetary).

Conventions of Fader, Hardie & Lee (2005) and the `lifetimes` package, for a
calibration period ending on day E (inclusive):

- purchases are counted per *customer-day*: several orders on one day are one
  purchase whose spend is their sum;
- frequency x = number of purchase days after the first;
- recency t_x = time from the first to the last purchase day;
- T = time from the first purchase day to E;
- monetary = mean spend of the repeat purchase days (the first excluded), 0
  when x = 0;

all times in `time_unit` ("day", or "week" = 7 days), so a purchase on day d is
at time (d − first day) / unit. Only customers whose first purchase is on or
before E are included.
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from crm_core.clv._base import unit_days
from crm_core.errors import VinculoError


def customer_days(
    transactions: pl.DataFrame,
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str = "amount",
) -> pl.DataFrame:
    """One row per customer and purchase day: `customer_id`, `day` (Date), `amount` (sum)."""
    return _days(transactions, customer_col, date_col, amount_col).collect()


def _days(
    transactions: pl.DataFrame,
    customer_col: str,
    date_col: str,
    amount_col: str,
    until: date | None = None,
) -> pl.LazyFrame:
    for col in (customer_col, date_col, amount_col):
        if col not in transactions.columns:
            raise VinculoError("clv.missing_column", column=col)
    frame = transactions.lazy().select(
        pl.col(customer_col).alias("customer_id"),
        pl.col(date_col).cast(pl.Date).alias("day"),
        pl.col(amount_col).cast(pl.Float64).alias("amount"),
    )
    if until is not None:
        frame = frame.filter(pl.col("day") <= until)
    return frame.group_by("customer_id", "day").agg(pl.col("amount").sum())


def rfm_from_days(
    days: pl.DataFrame | pl.LazyFrame, calibration_end: date, time_unit: str
) -> pl.DataFrame:
    """`rfm_inputs` from `customer_days` output (see the module docstring)."""
    unit = float(unit_days(time_unit))
    end = pl.lit(calibration_end, dtype=pl.Date)
    per_customer = (
        days.lazy()
        .filter(pl.col("day") <= end)
        .group_by("customer_id")
        .agg(
            first_purchase=pl.col("day").min(),
            last_purchase=pl.col("day").max(),
            frequency=(pl.len() - 1).cast(pl.Int64),
            repeat_spend=pl.col("amount").sum() - pl.col("amount").sort_by("day").first(),
        )
    )
    return (
        per_customer.select(
            "customer_id",
            "frequency",
            recency=(pl.col("last_purchase") - pl.col("first_purchase")).dt.total_days() / unit,
            T=(end - pl.col("first_purchase")).dt.total_days() / unit,
            monetary=pl.when(pl.col("frequency") > 0)
            .then(pl.col("repeat_spend") / pl.col("frequency"))
            .otherwise(0.0),
            first_purchase="first_purchase",
        )
        .sort("customer_id")
        .collect()
    )


def rfm_inputs(
    transactions: pl.DataFrame,
    calibration_end: date,
    time_unit: str = "week",
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str = "amount",
) -> pl.DataFrame:
    """Per customer: `customer_id, frequency, recency, T, monetary, first_purchase`.

    See the module docstring for the definitions; recency and T are in
    `time_unit`, monetary in the transactions' currency.
    """
    unit_days(time_unit)
    days = _days(transactions, customer_col, date_col, amount_col, until=calibration_end)
    return rfm_from_days(days, calibration_end, time_unit)


def calibration_holdout(
    transactions: pl.DataFrame,
    calibration_end: date,
    holdout_end: date,
    time_unit: str = "week",
    customer_col: str = "customer_id",
    date_col: str = "date",
    amount_col: str = "amount",
) -> pl.DataFrame:
    """Calibration inputs plus what happened in the holdout (E, H].

    Adds `holdout_frequency` (purchase days after E and on or before H) and
    `holdout_duration` ((H − E) in `time_unit`). Customers first seen after E
    are not included: the model could not have known them.
    """
    if holdout_end <= calibration_end:
        raise VinculoError(
            "clv.bad_period", calibration_end=str(calibration_end), holdout_end=str(holdout_end)
        )
    days = customer_days(transactions, customer_col, date_col, amount_col)
    calibration = rfm_from_days(days, calibration_end, time_unit)
    holdout = (
        days.filter((pl.col("day") > calibration_end) & (pl.col("day") <= holdout_end))
        .group_by("customer_id")
        .agg(holdout_frequency=pl.len().cast(pl.Int64))
    )
    duration = (holdout_end - calibration_end).days / unit_days(time_unit)
    return calibration.join(holdout, on="customer_id", how="left").with_columns(
        pl.col("holdout_frequency").fill_null(0),
        holdout_duration=pl.lit(duration, dtype=pl.Float64),
    )


def transactions_from_store(con: duckdb.DuckDBPyConnection, until: date) -> pl.DataFrame:
    """Purchases from the store's `order_facts` view, one row per customer-day.

    Columns `customer_id`, `date` (the calendar day in the business time zone
    the connection is set to), `amount` (net revenue: gross − refunds, in the
    order currency). Only purchases (`is_purchase`: completed or partially
    refunded orders) on or before `until`.
    """
    con.complete()  # a pending execute() result would block con.sql (DuckDB ≥ 2)
    return con.sql(
        """
        SELECT customer_id, CAST(ordered_at AS DATE) AS date,
               CAST(sum(net_amount) AS DOUBLE) AS amount
        FROM order_facts
        WHERE is_purchase AND CAST(ordered_at AS DATE) <= $until
        GROUP BY ALL
        ORDER BY customer_id, date
        """,
        params={"until": until},
    ).pl()


def last_purchase_day(con: duckdb.DuckDBPyConnection) -> date | None:
    """The latest purchase day in the store (business time zone), or None when empty."""
    con.complete()  # a pending execute() result would block con.sql (DuckDB ≥ 2)
    rows = con.sql(
        "SELECT max(CAST(ordered_at AS DATE)) FROM order_facts WHERE is_purchase"
    ).fetchall()
    return rows[0][0] if rows else None

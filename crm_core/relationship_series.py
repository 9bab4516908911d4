"""Relationship-management metrics per calendar period (Buttle's value chain, stage 5).

`relationship_series` measures every metric of `crm_core.relationship_mgmt.SERIES_METRICS`
over a run of calendar months or ISO weeks: the KPIs through `crm_core.kpis.kpi_trends`
(definitions in `crm_core.kpi_defs`), plus the metrics defined here:

- **first-order value** (acquisition): mean `net_amount` (BRL) of the first purchase order
  ever of the customers acquired in the period (earliest `ordered_at`, then `order_id`).
- **acquisition by source**: new customers and their first-order revenue per
  `customers.acquisition_channel` (the customer's golden record; "" when unknown).
- **revenue per active customer** (development): the period's revenue / its active
  customers (BRL per customer; None when nobody was active).
- **cross-buying rate** (development): of the period's active customers, the share who have
  bought in at least two distinct product categories (`orders.category`, non-null) over their
  purchase history up to the period's end — like the repeat purchase rate, the history may
  start before the period (0–1; None when nobody was active).

Each is one DuckDB query over the `order_facts` view written against a `Grain` (one query
for all buckets; the customer subset of the global filters semi-joined).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import polars as pl

from crm_core.errors import VinculoError
from crm_core.kpi_defs import Subset
from crm_core.kpi_query import Grain, midnight, registered, run
from crm_core.kpis import kpi_trends
from crm_core.period import Freq, bucket_start, check_freq
from crm_core.relationship_mgmt import METRICS, SERIES_METRICS


def series_window(as_of: date, freq: Freq, periods: int) -> tuple[date, date]:
    """First and last day of the `periods` calendar buckets ending with `as_of`'s bucket
    (the last one clipped to `as_of`)."""
    if periods < 1:
        raise VinculoError("relationships.bad_periods", value=periods)
    first = bucket_start(as_of, check_freq(freq))
    if freq == "week":
        return first - timedelta(weeks=periods - 1), as_of
    index = first.year * 12 + first.month - 1 - (periods - 1)
    return date(index // 12, index % 12 + 1, 1), as_of


@dataclass(frozen=True)
class Measures:
    """What `relationship_series` measures over a run of calendar buckets.

    - `series`: `metric` (a `SERIES_METRICS` id), `bucket` (calendar start), `start`, `end`
      (its days, clipped to the window), `actual` (Float64, null when not measurable);
      metrics in `METRICS` order, buckets in time order, every bucket present.
    - `acquisition`: `bucket`, `start`, `end`, `source` (acquisition channel, "" unknown),
      `new_customers` (Int64), `first_order_revenue` (BRL), `first_order_value` (BRL per
      customer); only (bucket, source) pairs with new customers.
    """

    series: pl.DataFrame
    acquisition: pl.DataFrame


def _buckets(grain: Grain, freq: Freq) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "k": list(range(len(grain.periods))),
            "bucket": [bucket_start(p.start, freq) for p in grain.periods],
            "start": [p.start for p in grain.periods],
            "end": [p.end for p in grain.periods],
        },
        schema={"k": pl.Int64, "bucket": pl.Date, "start": pl.Date, "end": pl.Date},
    )


def _purchases(q: Grain, columns: str, since: date | None) -> str:
    """SQL: purchase orders in scope before the end of the last bucket (from `since`)."""
    scope = f" SEMI JOIN {q.scope} s ON s.customer_id = t.customer_id" if q.scope else ""
    lower = f" AND t.ordered_at >= {midnight(since)}" if since else ""
    upper = midnight(q.hi + timedelta(days=1))
    return (
        f"SELECT t.customer_id, t.ordered_at AS ts, {columns} FROM order_facts t{scope} "
        f"WHERE t.is_purchase AND t.ordered_at < {upper}{lower}"
    )


def _acquisition_sql(q: Grain) -> str:
    # Buyers of the buckets without a purchase before them (as `Grain.fresh_ids`), then
    # each one's first purchase order: its instant fixes the bucket, its amount the value.
    return f"""WITH p AS ({_purchases(q, "t.order_id, t.net_amount::DOUBLE AS net", q.lo)}),
        f AS (
            SELECT customer_id, min(ts) AS ts, arg_min(net, (ts, order_id)) AS net FROM p
            ANTI JOIN (SELECT customer_id FROM order_facts
                       WHERE is_purchase AND ordered_at < {midnight(q.lo)}) h USING (customer_id)
            GROUP BY customer_id)
        SELECT {q.k("f.ts")} AS k, coalesce(c.acquisition_channel, '') AS source,
            count(*) AS new_customers, sum(f.net) AS first_order_revenue
        FROM f LEFT JOIN customers c USING (customer_id) GROUP BY ALL"""


def acquisition_by_source(
    con: duckdb.DuckDBPyConnection, start: date, end: date, freq: Freq = "month",
    customers: Subset = None,
) -> pl.DataFrame:  # fmt: skip
    """New customers and their first-order value per calendar bucket and acquisition source
    (`Measures.acquisition`'s columns). Summed over sources, `new_customers` equals the KPI
    `new_customers` of each bucket."""
    grain = Grain.calendar(start, end, check_freq(freq))
    with registered(con, grain, customers=customers) as q:
        rows = run(con, _acquisition_sql(q))
    return (
        _buckets(grain, freq)
        .join(rows.with_columns(pl.col("k").cast(pl.Int64)), on="k")
        .select(
            "bucket", "start", "end", "source", pl.col("new_customers").cast(pl.Int64),
            pl.col("first_order_revenue").cast(pl.Float64),
            first_order_value=pl.col("first_order_revenue") / pl.col("new_customers"),
        )
        .sort("bucket", "new_customers", "source", descending=[False, True, False])
    )  # fmt: skip


def _cross_sql(q: Grain) -> str:
    # `since`: the first instant the customer had bought in two categories (the second
    # smallest of their per-category first purchases); a cross-buyer in bucket k if ≤ k.
    return f"""WITH p AS ({_purchases(q, "t.category", None)}),
        a AS (SELECT DISTINCT customer_id, {q.k("ts")} AS k FROM p
              WHERE ts >= {midnight(q.lo)}),
        x AS (
            SELECT customer_id, list_sort(list(ts))[2] AS since FROM (
                SELECT customer_id, category, min(ts) AS ts FROM p
                WHERE category IS NOT NULL GROUP BY ALL)
            GROUP BY customer_id HAVING count(*) >= 2)
        SELECT a.k, count(*) AS active_customers,
            count(x.since) FILTER ({q.k("x.since")} <= a.k) AS cross_buyers
        FROM a LEFT JOIN x USING (customer_id) GROUP BY a.k"""


def cross_buying(
    con: duckdb.DuckDBPyConnection, start: date, end: date, freq: Freq = "month",
    customers: Subset = None,
) -> pl.DataFrame:  # fmt: skip
    """Cross-buying rate per calendar bucket (definition in the module docstring).

    Columns `bucket`, `start`, `end`, `active_customers`, `cross_buyers` (Int64),
    `cross_buying_rate` (0–1, null when nobody was active); every bucket present.
    """
    grain = Grain.calendar(start, end, check_freq(freq))
    with registered(con, grain, customers=customers) as q:
        rows = run(con, _cross_sql(q))
    counts = ("active_customers", "cross_buyers")
    return (
        _buckets(grain, freq)
        .join(rows.with_columns(pl.col("k").cast(pl.Int64)), on="k", how="left")
        .with_columns(pl.col(c).fill_null(0).cast(pl.Int64) for c in counts)
        .with_columns(
            cross_buying_rate=pl.when(pl.col("active_customers") > 0).then(
                pl.col("cross_buyers") / pl.col("active_customers")
            )
        )
        .drop("k")
    )


def relationship_series(
    con: duckdb.DuckDBPyConnection,
    start: date,
    end: date,
    freq: Freq = "month",
    customers: Subset = None,
    clv: pl.DataFrame | None = None,
) -> Measures:
    """Every `SERIES_METRICS` metric per calendar bucket over start … end (`Measures`).

    KPI-backed metrics come from one `crm_core.kpis.kpi_trends` call (same numbers as the
    Overview's trends); first-order value from `acquisition_by_source`, cross-buying from
    `cross_buying`, revenue per active customer = revenue / active customers. Average CLV
    needs `clv` (`customer_id, clv`), else it is null.
    """
    backed = {METRICS[m].kpi: m for m in SERIES_METRICS if METRICS[m].kpi}
    trends = kpi_trends(con, list(backed), start, end, freq, customers, clv)
    acquisition = acquisition_by_source(con, start, end, freq, customers)
    cross = cross_buying(con, start, end, freq, customers)
    wide = (
        trends.pivot(on="kpi", index=["bucket", "start", "end"], values="value")
        .join(
            acquisition.group_by("bucket").agg(pl.sum("first_order_revenue", "new_customers")),
            on="bucket",
            how="left",
            suffix="_acq",
        )  # fmt: skip
        .join(cross.select("bucket", "cross_buying_rate"), on="bucket", how="left")
        .with_columns(
            first_order_value=pl.col("first_order_revenue") / pl.col("new_customers_acq"),
            revenue_per_active_customer=pl.when(pl.col("active_customers") > 0).then(
                pl.col("revenue") / pl.col("active_customers")
            ),
        )
        .rename(backed)
    )
    series = wide.unpivot(
        on=list(SERIES_METRICS), index=["bucket", "start", "end"], variable_name="metric",
        value_name="actual",
    ).with_columns(pl.col("actual").cast(pl.Float64))  # fmt: skip
    order = pl.col("metric").replace_strict({m: i for i, m in enumerate(SERIES_METRICS)})
    series = series.sort(order, "bucket").select("metric", "bucket", "start", "end", "actual")
    return Measures(series, acquisition)

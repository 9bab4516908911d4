"""Acquisition-cohort retention: customers (or revenue) by cohort and period since acquisition.

A customer's *acquisition cohort* is the calendar month (or ISO week, Monday
first) of their first purchase ever (`is_purchase`, local day). Period index
k = 0 is the cohort's own month/week; a cohort customer counts as *retained in
period k* when they made a purchase in that period. Revenue is the `net_amount`
of all their orders placed in the period (refunds netted, cancelled = 0), as
in the revenue KPI. The matrix is the classic triangular cohort table (e.g.
Fader & Hardie's "cohort-by-period" views of repeat buying): every cohort has
a cell for each period from 0 up to the one holding `end`, zeros included.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

import duckdb
import polars as pl

from crm_core.errors import VinculoError
from crm_core.kpi_query import Grain, midnight, registered, run
from crm_core.period import Freq, bucket_start, check_freq

Metric = Literal["customers", "revenue"]
METRICS: tuple[str, ...] = ("customers", "revenue")

_SCHEMA = {
    "cohort": pl.Date,
    "period_index": pl.Int64,
    "cohort_size": pl.Int64,
    "value": pl.Float64,
    "share": pl.Float64,
}


def _cohort_sql(scope: str | None, grid: Grain, metric: Metric, since: date | None) -> str:
    """The cohort query over a calendar `grid` of buckets (k = bucket index of an instant)."""
    semi = f" SEMI JOIN {scope} s ON s.customer_id = o.customer_id" if scope else ""
    upto = f"o.ordered_at < {midnight(grid.hi + timedelta(days=1))}"
    after = f"HAVING min(o.ordered_at) >= {midnight(since)}" if since else ""
    labels = ", ".join(f"DATE '{bucket_start(p.start, grid.freq)}'" for p in grid.periods)  # type: ignore[arg-type]
    return f"""
    WITH cohorts AS (
        SELECT customer_id, {grid.k("min(o.ordered_at)")} AS cohort_k
        FROM order_facts o{semi} WHERE o.is_purchase AND {upto}
        GROUP BY customer_id {after}),
    cells AS (
        SELECT cohort_k, count(*) AS cohort_size,
            unnest(range(0, {len(grid.periods)} - cohort_k)) AS period_index
        FROM cohorts GROUP BY cohort_k),
    activity AS (
        SELECT cohort_k, period_index, count(*) FILTER (purchases > 0) AS customers,
            sum(net) AS revenue
        FROM (
            SELECT c.customer_id, c.cohort_k, {grid.k("o.ordered_at")} - c.cohort_k AS period_index,
                count(*) FILTER (o.is_purchase) AS purchases, sum(o.net_amount)::DOUBLE AS net
            FROM order_facts o JOIN cohorts c ON c.customer_id = o.customer_id
            WHERE {upto} GROUP BY 1, 2, 3)
        GROUP BY ALL)
    SELECT ([{labels}])[cells.cohort_k + 1] AS cohort, cells.period_index, cells.cohort_size,
        coalesce(a.{metric}, 0)::DOUBLE AS value,
        coalesce(a.{metric}, 0)::DOUBLE / cells.cohort_size AS share
    FROM cells LEFT JOIN activity a
        ON a.cohort_k = cells.cohort_k AND a.period_index = cells.period_index
    ORDER BY cells.cohort_k, cells.period_index"""


def cohort_retention(
    con: duckdb.DuckDBPyConnection,
    freq: Freq = "month",
    metric: Metric = "customers",
    start: date | None = None,
    end: date | None = None,
    customers: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Acquisition-cohort retention in long format, in one DuckDB query (after a
    look-up of the first and last order days for the calendar grid).

    Cohorts whose first purchase falls from `start`'s bucket on (all when
    None) up to `end` (default: the last order's local day); activity counted
    up to `end`. `customers` (a frame with `customer_id`) restricts to a
    subset. Columns: `cohort` (first day of the cohort's month/week),
    `period_index` (0 = the acquisition period), `cohort_size` (customers
    acquired), `value` (metric "customers": cohort customers who purchased in
    the period; "revenue": their net revenue in the period, BRL), `share`
    (value / cohort_size: the retention share 0–1, or revenue per cohort
    customer in BRL). Empty store: an empty frame.
    """
    freq = check_freq(freq)
    if metric not in METRICS:
        raise VinculoError("kpis.bad_metric", metric=metric, known=", ".join(METRICS))
    first, last = _order_days(con)
    end = end or last
    since = bucket_start(start, freq) if start else None
    if end is None or first is None or (since or first) > end:
        return pl.DataFrame(schema=_SCHEMA)
    grid = Grain.calendar(bucket_start(since or first, freq), end, freq)
    with registered(con, grid, customers=customers) as q:
        out = run(con, _cohort_sql(q.scope, grid, metric, since))
    return out.cast(_SCHEMA)  # type: ignore[arg-type]


def _order_days(con: duckdb.DuckDBPyConnection) -> tuple[date | None, date | None]:
    """Local days of the first and last orders (None, None for an empty store)."""
    con.complete()
    rows = con.sql("SELECT min(ordered_at)::DATE, max(ordered_at)::DATE FROM orders").fetchall()
    return rows[0] if rows else (None, None)  # type: ignore[return-value]


def cohort_matrix(long: pl.DataFrame, column: str = "share") -> pl.DataFrame:
    """The long frame as a matrix for display: one row per cohort (`cohort`,
    `cohort_size`), one column per period index ("0", "1", …) holding `column`
    ("share" or "value"); cells after `end` are null."""
    if long.is_empty():
        return pl.DataFrame(schema={"cohort": pl.Date, "cohort_size": pl.Int64})
    wide = long.pivot(
        on="period_index", index=["cohort", "cohort_size"], values=column, sort_columns=True
    ).sort("cohort")
    periods = sorted((c for c in wide.columns if c not in ("cohort", "cohort_size")), key=int)
    return wide.select("cohort", "cohort_size", *periods)

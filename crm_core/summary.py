"""Per-customer facts from orders at an as-of date: the one table every model reads.

Definitions (all money in BRL, all days are calendar days in the business time zone —
`store.connect` sets the connection's `TimeZone`, so `ordered_at::DATE` is the local day):

- An order *counts* when its local date is on or before `as_of`; later orders are ignored.
- A *purchase* is an order with `is_purchase` (status completed or partially_refunded, see
  the `order_facts` view). `orders` counts purchases; `purchase_days` counts distinct local
  days with at least one purchase; `repeat_days = max(purchase_days - 1, 0)` is the BG/NBD
  frequency *x* (Fader, Hardie & Lee 2005) measured in days.
- `revenue` is the sum of `net_amount` over every counted order: gross minus refunded, and 0
  for cancelled, failed and pending orders (the `order_facts` view holds the definition).
- `aov` = revenue / orders (null with no purchase). `repeat_spend_mean` is the mean net
  spend of the repeat purchase days (every purchase day but the first, each day's spend being
  the sum of its orders' `net_amount`): the Gamma-Gamma monetary value; null if none.
- `tenure_days` = as_of − first_purchase, `recency_days` = as_of − last_purchase (days).
- Windows: *recent* is (as_of − window_days, as_of], *previous* is
  (as_of − 2·window_days, as_of − window_days]; `revenue_*` sum `net_amount`, `orders_*`
  count purchases.
- `refunds` counts orders with a refunded amount > 0; `cancelled` counts cancelled or failed
  orders. `main_channel` / `main_category` is the sales channel / category with most
  purchases (ties go to the alphabetically first), `n_channels` / `n_categories` the number of
  distinct non-null ones among purchases.

One row per golden record (`golden_customers`: a customer not merged into another record) that
has not been erased; leads and placeholders appear with zero counts and null dates. Orders come
from `order_facts`, whose `customer_id` is the golden record's, so a golden record's row counts
the orders of every record merged into it (identity resolution, `crm_core.identity`).
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from crm_core.errors import VinculoError

SUMMARY_COLUMNS: tuple[str, ...] = (
    "customer_id", "first_purchase", "last_purchase", "orders", "purchase_days",
    "repeat_days", "revenue", "aov", "repeat_spend_mean", "tenure_days", "recency_days",
    "revenue_recent", "revenue_previous", "orders_recent", "orders_previous", "refunds",
    "cancelled", "main_channel", "main_category", "n_channels", "n_categories",
    "acquisition_channel", "account_manager", "state", "city", "created_on", "is_lead",
    "is_placeholder",
)  # fmt: skip

# Orders are first reduced to one row per (customer, local day): day spend, purchase count.
# The per-customer pass then needs only single-level aggregates, including the first
# purchase day's spend (arg_min over the day), which the repeat-spend mean excludes.
# `o` is inlined rather than materialised (scanning the columns again is cheaper than
# writing 10M rows of strings), and the as-of cut is a plain comparison with the local
# midnight that ends the day, which DuckDB can prune row groups with.
_SUMMARY_SQL = """
WITH o AS NOT MATERIALIZED (
    SELECT customer_id, ordered_at::DATE AS day, net_amount::DOUBLE AS net, is_purchase,
           refunded_amount > 0 AS refunded, status IN ('cancelled', 'failed') AS cancelled,
           sales_channel, category
    FROM order_facts
    WHERE ordered_at < ($as_of + 1)::TIMESTAMP::TIMESTAMPTZ  -- local midnight after as_of
), d AS (
    SELECT customer_id, day, sum(net) AS net,
           count(*) FILTER (is_purchase) AS n_purchases,
           count(*) FILTER (refunded) AS n_refunds,
           count(*) FILTER (cancelled) AS n_cancelled
    FROM o GROUP BY customer_id, day
), c AS (
    SELECT customer_id,
           min(day) FILTER (n_purchases > 0) AS first_purchase,
           max(day) FILTER (n_purchases > 0) AS last_purchase,
           sum(n_purchases)::BIGINT AS orders,
           count(*) FILTER (n_purchases > 0) AS purchase_days,
           sum(net) AS revenue,
           sum(net) FILTER (n_purchases > 0) AS purchase_day_spend,
           arg_min(net, day) FILTER (n_purchases > 0) AS first_day_spend,
           sum(net) FILTER (day > $recent_start) AS revenue_recent,
           sum(net) FILTER (day > $previous_start AND day <= $recent_start) AS revenue_previous,
           sum(n_purchases) FILTER (day > $recent_start)::BIGINT AS orders_recent,
           sum(n_purchases) FILTER (day > $previous_start AND day <= $recent_start)::BIGINT
               AS orders_previous,
           sum(n_refunds)::BIGINT AS refunds,
           sum(n_cancelled)::BIGINT AS cancelled
    FROM d GROUP BY customer_id
), mix AS (
    SELECT customer_id, 'channel' AS dim, sales_channel AS value, count(*) AS n
    FROM o WHERE is_purchase AND sales_channel IS NOT NULL GROUP BY customer_id, sales_channel
    UNION ALL
    SELECT customer_id, 'category', category, count(*)
    FROM o WHERE is_purchase AND category IS NOT NULL GROUP BY customer_id, category
), m AS (
    SELECT customer_id,
           arg_min(value, {neg: -n, value: value}) FILTER (dim = 'channel') AS main_channel,
           arg_min(value, {neg: -n, value: value}) FILTER (dim = 'category') AS main_category,
           count(*) FILTER (dim = 'channel') AS n_channels,
           count(*) FILTER (dim = 'category') AS n_categories
    FROM mix GROUP BY customer_id
)
SELECT cu.customer_id::VARCHAR AS customer_id,
       c.first_purchase, c.last_purchase,
       coalesce(c.orders, 0) AS orders,
       coalesce(c.purchase_days, 0) AS purchase_days,
       greatest(coalesce(c.purchase_days, 0) - 1, 0) AS repeat_days,
       coalesce(c.revenue, 0.0) AS revenue,
       CASE WHEN c.orders > 0 THEN c.revenue / c.orders END AS aov,
       CASE WHEN c.purchase_days > 1
            THEN (c.purchase_day_spend - c.first_day_spend) / (c.purchase_days - 1)
       END AS repeat_spend_mean,
       ($as_of - c.first_purchase)::BIGINT AS tenure_days,
       ($as_of - c.last_purchase)::BIGINT AS recency_days,
       coalesce(c.revenue_recent, 0.0) AS revenue_recent,
       coalesce(c.revenue_previous, 0.0) AS revenue_previous,
       coalesce(c.orders_recent, 0) AS orders_recent,
       coalesce(c.orders_previous, 0) AS orders_previous,
       coalesce(c.refunds, 0) AS refunds,
       coalesce(c.cancelled, 0) AS cancelled,
       m.main_channel::VARCHAR AS main_channel, m.main_category::VARCHAR AS main_category,
       coalesce(m.n_channels, 0) AS n_channels, coalesce(m.n_categories, 0) AS n_categories,
       cu.acquisition_channel::VARCHAR AS acquisition_channel,
       cu.account_manager::VARCHAR AS account_manager,
       cu.state::VARCHAR AS state, cu.city::VARCHAR AS city,
       cu.created_at::DATE AS created_on,
       coalesce(cu.is_lead, FALSE) AS is_lead,
       coalesce(cu.is_placeholder, FALSE) AS is_placeholder
FROM golden_customers cu
LEFT JOIN c USING (customer_id)
LEFT JOIN m USING (customer_id)
WHERE cu.erased_at IS NULL
ORDER BY cu.customer_id
"""


def customer_summary(
    con: duckdb.DuckDBPyConnection, as_of: date, *, window_days: int = 180
) -> pl.DataFrame:
    """One row per (non-erased) golden record with the facts defined in the module docstring.

    `as_of` is the last local day counted; `window_days` (days, > 0) sizes the recent and
    previous windows. Runs as one DuckDB query; rows are ordered by `customer_id`. The frame
    comes back in one contiguous chunk, so re-segmenting it (`crm_core.segments`) stays fast.
    """
    if window_days <= 0:
        raise VinculoError("segments.bad_window", value=window_days)
    params = {
        "as_of": as_of,
        "recent_start": date.fromordinal(as_of.toordinal() - window_days),
        "previous_start": date.fromordinal(as_of.toordinal() - 2 * window_days),
    }
    return query_frame(con, _SUMMARY_SQL, params).rechunk()


def query_frame(
    con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object] | None = None
) -> pl.DataFrame:
    """Run one read-only query and return its rows as a Polars frame (Arrow, no copy).

    DuckDB 2 refuses `con.sql()` while an earlier `con.execute()` result is unread (e.g.
    after `fetchone()`, as the store's helpers do); `complete()` runs that one to its end
    first, which is harmless for the single-row reads that leave it pending.
    """
    con.complete()
    return con.sql(sql, params=params).pl()

"""Network development (Buttle's CRM value chain, stage 3): acquisition sources and partners.

Buttle's third primary stage asks which partners, suppliers and channels help the company win
and serve customers. In transaction data that shows as the *acquisition source* recorded on
every customer (`customers.acquisition_channel`: referral, events, partner marketplace, paid
search, …) and as the *partner sales channels* orders go through (a marketplace).

Definitions (money in BRL; days are local calendar days; only facts up to `as_of` count):

- *Source*: the customer's `acquisition_channel`; a customer without one is in "unknown".
- *Acquisition day*: the earlier of the day the customer's record was created (`created_on`)
  and their first purchase day; a customer with neither has none (counted in the source's
  totals, in no cohort). Customers acquired after `as_of` are left out.
- *Acquisition cohort*: the calendar month of the acquisition day.
- *Customers brought*: customers (golden records, not erased) of the source, leads included.
- *Buyers*: those with at least one purchase; *share who bought* = buyers ÷ customers brought.
- *First-order value*: net amount of the buyer's first purchase order (earliest `ordered_at`,
  ties to the smallest order id), averaged over buyers.
- *12-month retention*: the cohort definition of `crm_core.cohorts` (a buyer is retained in
  period k when they purchased in the k-th calendar month after the month of their first
  purchase), read at k = 12: of the buyers whose 12th month had ended by `as_of`, the share
  who purchased in it, 0–1. Buyers too recent to have a finished 12th month are not counted.
- *Retention curve*: the same share for every k = 0 … `CURVE_MONTHS`, each over the buyers
  whose k-th month had ended by `as_of` (so every point is a complete month).
- *Average CLV*: mean predicted customer lifetime value (BG/NBD + Gamma-Gamma, `crm_core.clv`,
  next 12 months) over the source's buyers the model scored.
- *Revenue to date*: net revenue (orders minus refunds) of the source's customers up to
  `as_of` (`crm_core.summary`'s `revenue`).
- *Spend*: what the user entered in Settings for the source (months up to `as_of`'s month).
  *Acquired with spend*: the source's customers whose acquisition month has spend entered.
  *Cost per acquired customer (CAC)* = spend ÷ customers acquired with spend (BRL per
  customer); *CLV/CAC* = total CLV of those customers (not scored = 0) ÷ spend. Without spend
  both are None ("not provided"), never an estimate.
- *Partner channels*: orders whose `sales_channel` is in `PARTNER_CHANNELS` (a marketplace);
  every other order is through the company's *own* channels.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import polars as pl

from crm_core.kpi_query import Grain, midnight
from crm_core.summary import query_frame

UNKNOWN_SOURCE = "unknown"
"""Source of a customer whose record carries no acquisition channel."""

RETENTION_MONTH = 12
"""The period of the cohort table read as "12-month retention"."""

CURVE_MONTHS = 24
"""Longest period shown on the retention curves (months after the first-purchase month)."""

PARTNER_CHANNELS: tuple[str, ...] = ("marketplace",)
"""Sales channels run by partners (orders.sales_channel values)."""

_KEYS = ("source", "cohort")


def month_index(day: date) -> int:
    """Months since year 0: consecutive calendar months have consecutive indexes."""
    return day.year * 12 + day.month - 1


def last_complete_month(as_of: date) -> int:
    """`month_index` of the last calendar month that had ended by `as_of` (inclusive)."""
    ends_today = (as_of + timedelta(days=1)).day == 1
    return month_index(as_of) - (0 if ends_today else 1)


_HISTORY_SQL = """
WITH m AS (
    SELECT customer_id, {k} AS k, min(ordered_at) AS first_ts,
           arg_min(net_amount::DOUBLE, {{t: ordered_at, id: order_id}}) AS first_value
    FROM order_facts
    WHERE is_purchase AND ordered_at >= {lo} AND ordered_at < {hi}
    GROUP BY ALL
)
SELECT customer_id, arg_min(first_value, first_ts) AS first_value,
       list(k + {base} ORDER BY k) AS months
FROM m GROUP BY customer_id
"""


def purchase_history(con: duckdb.DuckDBPyConnection, as_of: date) -> pl.DataFrame:
    """Per buyer up to `as_of`: `customer_id`, `first_value` (net amount of the first purchase
    order, BRL) and `months` (sorted `month_index`es of the months with a purchase).

    One pass over `order_facts` (customer ids are golden records'); months are found by
    comparing instants with local month starts, so no row pays for a time-zone cast.
    """
    schema = {"customer_id": pl.String, "first_value": pl.Float64, "months": pl.List(pl.Int32)}
    con.complete()
    first = con.sql("SELECT min(ordered_at)::DATE FROM order_facts").fetchall()[0][0]
    if first is None or first > as_of:
        return pl.DataFrame(schema=schema)
    grid = Grain.calendar(first.replace(day=1), as_of, "month")
    sql = _HISTORY_SQL.format(
        k=grid.k("ordered_at"), lo=midnight(grid.lo), hi=midnight(as_of + timedelta(days=1)),
        base=month_index(grid.lo),
    )  # fmt: skip
    return query_frame(con, sql).cast(schema)  # type: ignore[arg-type]


def acquisition_facts(
    summary: pl.DataFrame, history: pl.DataFrame, clv: pl.DataFrame | None, as_of: date
) -> pl.DataFrame:
    """One row per customer acquired by `as_of` (definitions in the module docstring).

    `summary` is `crm_core.summary.customer_summary` at `as_of` (possibly filtered), `history`
    is `purchase_history`, `clv` has `customer_id, clv` (None: no CLV model). Columns:
    `customer_id, source, cohort` (Date: first day of the acquisition month), `bought`,
    `first_value`, `revenue`, `clv`, `first_month` (month index of the first purchase),
    `offsets` (months after it with a purchase, 0 first) and `retained` (purchased in month
    `RETENTION_MONTH`; null when that month had not ended by `as_of` or no purchase).
    """
    day = pl.min_horizontal("created_on", "first_purchase")
    base = summary.select(
        "customer_id", "revenue",
        source=pl.col("acquisition_channel").cast(pl.String).fill_null(UNKNOWN_SOURCE),
        cohort=day.dt.truncate("1mo"), acquired=day, bought=pl.col("orders") > 0,
    ).filter(pl.col("acquired").is_null() | (pl.col("acquired") <= as_of))  # fmt: skip
    scores = (
        clv.select(pl.col("customer_id").cast(pl.String), pl.col("clv").cast(pl.Float64))
        if clv is not None
        else pl.DataFrame(schema={"customer_id": pl.String, "clv": pl.Float64})
    )
    first = pl.col("months").list.first()
    hist = history.select("customer_id", "first_value", first_month=first,
                          offsets=pl.col("months") - first)  # fmt: skip
    facts = base.join(hist, on="customer_id", how="left", maintain_order="left")
    facts = facts.join(scores, on="customer_id", how="left", maintain_order="left")
    seen = pl.col("first_month") + RETENTION_MONTH <= last_complete_month(as_of)
    retained = pl.col("offsets").list.contains(RETENTION_MONTH)
    return facts.select(
        "customer_id", "source", "cohort", "bought", "first_value", "revenue", "clv",
        "first_month", "offsets", retained=pl.when(seen).then(retained),
    )  # fmt: skip


def source_performance(facts: pl.DataFrame, by: tuple[str, ...] = ("source",)) -> pl.DataFrame:
    """Per source (`by=("source",)`) or per source and cohort (`("source", "cohort")`):
    `customers` brought, `buyers`, `share_bought` (0–1), `first_order_value` (mean, BRL),
    `retention_12m` (0–1, null when no buyer is old enough), `retention_base` (buyers it is
    measured on), `avg_clv` (BRL), `revenue` (to date, BRL) and `revenue_per_customer` (BRL).
    Sorted by customers brought (most first), or by source then cohort.
    """
    table = facts.group_by(list(by)).agg(
        customers=pl.len(),
        buyers=pl.col("bought").sum(),
        first_order_value=pl.col("first_value").mean(),
        retained=pl.col("retained").sum(),
        retention_base=pl.col("retained").count(),
        avg_clv=pl.col("clv").mean(),
        revenue=pl.col("revenue").sum(),
    )
    table = table.with_columns(
        share_bought=pl.col("buyers") / pl.col("customers"),
        retention_12m=pl.when(pl.col("retention_base") > 0).then(
            pl.col("retained") / pl.col("retention_base")
        ),
        revenue_per_customer=pl.col("revenue") / pl.col("customers"),
    ).drop("retained")
    if by == ("source",):
        return table.sort(["customers", "source"], descending=[True, False])
    return table.sort(list(by))


def acquisition_cost(
    facts: pl.DataFrame, spend: pl.DataFrame, as_of: date, by: tuple[str, ...] = ("source",)
) -> pl.DataFrame:
    """Spend, cost per acquired customer and CLV/CAC per source (or source and cohort).

    `spend` is `crm_core.settings.spend_frame` (source, month "YYYY-MM", amount BRL); months
    after `as_of`'s are ignored. `facts` should hold all customers (spend cannot be split by
    segment). Columns: `by`, `spend`, `acquired_with_spend`, `cac` (spend ÷ acquired, BRL;
    null when nobody was acquired), `clv_per_acquired` (their total CLV ÷ their number, BRL)
    and `clv_cac` (their total CLV ÷ spend; null when spend is 0). Only sources (and months)
    with spend entered appear: the rest is "not provided".
    """
    months = spend.filter(pl.col("month") <= as_of.strftime("%Y-%m")).select(
        "source", "amount", cohort=(pl.col("month") + "-01").str.to_date("%Y-%m-%d")
    )
    spent = months.group_by(list(by)).agg(spend=pl.col("amount").sum())
    keys = months.select(*_KEYS).unique()
    acquired = (
        facts.join(keys, on=list(_KEYS), how="semi")
        .group_by(list(by))
        .agg(acquired_with_spend=pl.len(), clv_total=pl.col("clv").fill_null(0.0).sum())
    )
    out = spent.join(acquired, on=list(by), how="left").with_columns(
        pl.col("acquired_with_spend").fill_null(0).cast(pl.Int64),
        pl.col("clv_total").fill_null(0.0),
    )
    some = pl.col("acquired_with_spend") > 0
    return out.select(
        *by, "spend", "acquired_with_spend",
        cac=pl.when(some).then(pl.col("spend") / pl.col("acquired_with_spend")),
        clv_per_acquired=pl.when(some).then(pl.col("clv_total") / pl.col("acquired_with_spend")),
        clv_cac=pl.when(pl.col("spend") > 0).then(pl.col("clv_total") / pl.col("spend")),
    ).sort(list(by))  # fmt: skip


def with_cost(
    performance: pl.DataFrame, cost: pl.DataFrame, by: tuple[str, ...] = ("source",)
) -> pl.DataFrame:
    """`source_performance` beside `acquisition_cost` (rows of either; spend columns null
    where no spend was entered; counts 0 for a source with spend but no customer)."""
    table = performance.join(cost, on=list(by), how="full", coalesce=True, maintain_order="left")
    return table.with_columns(pl.col("customers", "buyers", "retention_base").fill_null(0))


def retention_curves(facts: pl.DataFrame, as_of: date, months: int = CURVE_MONTHS) -> pl.DataFrame:
    """Per source and period k = 0 … `months`: `eligible` buyers (whose k-th month after the
    first-purchase month had ended by `as_of`), `active` (of those, who purchased in it) and
    `share` = active ÷ eligible (0–1). Periods nobody is old enough for are left out."""
    complete = last_complete_month(as_of)
    buyers = facts.filter(pl.col("first_month").is_not_null()).select(
        "source", "offsets", span=pl.lit(complete) - pl.col("first_month")
    )
    periods = pl.DataFrame({"period": pl.arange(0, months + 1, eager=True).cast(pl.Int32)})
    eligible = (
        buyers.group_by("source", "span").len()
        .join(periods, how="cross").filter(pl.col("period") <= pl.col("span"))
        .group_by("source", "period").agg(eligible=pl.col("len").sum())
    )  # fmt: skip
    active = (
        buyers.explode("offsets")
        .filter((pl.col("offsets") <= pl.col("span")) & (pl.col("offsets") <= months))
        .group_by("source", period=pl.col("offsets").cast(pl.Int32)).agg(active=pl.len())
    )  # fmt: skip
    curves = eligible.join(active, on=["source", "period"], how="left").with_columns(
        pl.col("active").fill_null(0).cast(pl.Int64), pl.col("eligible").cast(pl.Int64)
    )
    return curves.with_columns(share=pl.col("active") / pl.col("eligible")).sort("source", "period")


_CHANNEL_SQL = """
SELECT {k} AS k, grp, channel, GROUPING(k) AS all_months, GROUPING(channel) AS all_channels,
       sum(net_amount)::DOUBLE AS revenue, count(*) FILTER (is_purchase) AS orders,
       count(DISTINCT customer_id) FILTER (is_purchase) AS customers
FROM (
    SELECT o.customer_id, o.ordered_at, o.net_amount, o.is_purchase,
           coalesce(o.sales_channel, '{unknown}') AS channel,
           CASE WHEN list_contains($partners, o.sales_channel) THEN 'partner' ELSE 'own' END AS grp
    FROM order_facts o{scope}
    WHERE o.ordered_at >= {lo} AND o.ordered_at < {hi})
GROUP BY GROUPING SETS ((k, grp), (grp, channel), (grp), ())
"""


def partner_channels(
    con: duckdb.DuckDBPyConnection,
    start: date,
    end: date,
    customers: pl.DataFrame | None = None,
    partners: tuple[str, ...] = PARTNER_CHANNELS,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Revenue through partner vs own sales channels over the months `start` … `end`.

    Returns `(trend, table)`. `trend`: per calendar `month` (Date, first day; the first and
    last months cut at `start`/`end`) and `group` ("partner" | "own"): `revenue` (net, BRL),
    `orders` (purchases), `customers` (distinct buyers). `table`: per `group` and `channel`
    (`sales_channel`; null channel = "unknown"; `channel` null on the group's total row and
    both null on the grand total) the same three measures over the whole span plus
    `revenue_share` (of the grand total, 0–1). A customer buying through both groups counts
    in each. `customers` (frame with `customer_id`) restricts to a subset.
    """
    grid = Grain.calendar(start, end, "month")
    scope, name = "", None
    con.complete()
    if customers is not None:
        name = "_network_scope"
        con.register(name, customers.select(pl.col("customer_id").cast(pl.String)).unique())
        scope = f" SEMI JOIN {name} s ON s.customer_id = o.customer_id"
    sql = _CHANNEL_SQL.format(
        k=grid.k("ordered_at"), unknown=UNKNOWN_SOURCE, scope=scope, lo=midnight(start),
        hi=midnight(end + timedelta(days=1)),
    )  # fmt: skip
    try:
        rows = query_frame(con, sql, {"partners": list(partners)})
    finally:
        if name:
            con.unregister(name)
    return _trend(rows, grid), _channel_table(rows)


def _trend(rows: pl.DataFrame, grid: Grain) -> pl.DataFrame:
    starts = pl.Series("month", [p.start for p in grid.periods], pl.Date)
    trend = rows.filter((pl.col("all_months") == 0) & (pl.col("k") >= 0))
    return trend.select(
        month=starts.gather(trend["k"].cast(pl.UInt32)) if trend.height else starts.head(0),
        group="grp", revenue="revenue", orders="orders", customers="customers",
    ).sort("month", "group")  # fmt: skip


def _channel_table(rows: pl.DataFrame) -> pl.DataFrame:
    table = rows.filter(pl.col("all_months") == 1)
    total = table.filter(pl.col("grp").is_null())["revenue"].sum()
    return table.select(
        group="grp",
        channel=pl.when(pl.col("all_channels") == 0).then(pl.col("channel")),
        revenue="revenue", orders="orders", customers="customers",
        revenue_share=pl.col("revenue") / total if total else pl.lit(None, pl.Float64),
    ).sort("group", "channel", nulls_last=True)  # fmt: skip


def network_totals(facts: pl.DataFrame) -> dict[str, float | int | None]:
    """`source_performance` over all the customers of `facts` at once (every source pooled):
    `customers`, `buyers`, `share_bought`, `first_order_value`, `retention_12m`,
    `retention_base`, `avg_clv`, `revenue`, `revenue_per_customer`."""
    if facts.is_empty():
        return {"customers": 0, "buyers": 0, "share_bought": None, "retention_12m": None}
    pooled = source_performance(facts.with_columns(source=pl.lit("all")))
    return pooled.drop("source").row(0, named=True)

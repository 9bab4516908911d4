"""Customer portfolio analysis (Buttle's CRM value chain, stage 1): value and cost per customer.

Which customers bring most value, what they cost to serve, and where to put resources.

Definitions (money in BRL; the *window* is the `months` calendar months ending at `as_of`,
i.e. the local days in (as_of − months, as_of], default the 12 months to as-of):

- *Served customers*: customers with an order or an interaction in the window.
- `revenue`: net revenue of the window's orders (`order_facts.net_amount`: gross − refunded,
  0 for cancelled, failed and pending orders). `purchases`: the window's purchase orders
  (completed or partially refunded). `contacts`: the window's interactions, any direction.
- *Cost to serve* = Σ over channels (contacts on the channel × the channel's cost per contact)
  + purchases × the cost per order, from `crm_core.settings.BusinessSettings`. A channel
  without a cost costs nothing; with no cost set at all the cost to serve is *unknown*
  (`has_service_costs`), never 0: the frames then carry no cost or profit columns.
- *Gross profit* = revenue × gross margin (share 0–1 of net revenue).
- *Customer profit* = gross profit − cost to serve.
- *Value vs cost-to-serve matrix*: customers split at a value (revenue) and a cost threshold,
  by default the medians of the served customers; *high* means strictly above the split.
  **grow** (high value, low cost: invest), **keep** (high value, high cost: protect),
  **serve_cheaper** (low value, high cost: move to cheaper channels), **re_evaluate** (low
  value, low cost).
- *Concentration*: top-p revenue shares and the Gini coefficient, as defined in
  `crm_core.differentiate` (reused, not re-implemented), over the served customers' revenue.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import polars as pl

from crm_core.differentiate import Concentration, concentration
from crm_core.settings import INTERACTION_CHANNELS, BusinessSettings, has_service_costs
from crm_core.summary import query_frame

QUADRANTS: tuple[str, ...] = ("grow", "keep", "serve_cheaper", "re_evaluate")
"""Quadrants of the value vs cost-to-serve matrix, in display order."""
QUADRANT = pl.Enum(QUADRANTS)
DEFAULT_MONTHS = 12
CONTACT_COLUMNS: tuple[str, ...] = tuple(f"contacts_{c}" for c in INTERACTION_CHANNELS)
MONEY_COLUMNS: tuple[str, ...] = ("revenue", "gross_profit", "cost_to_serve", "profit")
_NULL = pl.lit(None, pl.Float64)


def window_start(as_of: date, months: int = DEFAULT_MONTHS) -> date:
    """First local day of the window of `months` calendar months ending at `as_of`: the day
    after the same day `months` months earlier (clamped to that month's last day)."""
    year, month = divmod(as_of.year * 12 + as_of.month - 1 - months, 12)
    day = min(as_of.day, calendar.monthrange(year, month + 1)[1])
    return date(year, month + 1, day) + timedelta(days=1)


def _counts_sql() -> str:
    per_channel = ", ".join(
        f"count(*) FILTER (channel = '{c}') AS contacts_{c}" for c in INTERACTION_CHANNELS
    )
    zero = ", ".join(f"coalesce(i.contacts_{c}, 0) AS contacts_{c}" for c in INTERACTION_CHANNELS)
    return f"""
    WITH p AS (
        SELECT customer_id, count(*) FILTER (is_purchase) AS purchases,
               sum(net_amount)::DOUBLE AS revenue
        FROM order_facts
        WHERE ordered_at >= $start::TIMESTAMP::TIMESTAMPTZ
          AND ordered_at < ($as_of + 1)::TIMESTAMP::TIMESTAMPTZ
        GROUP BY customer_id
    ), i AS (
        SELECT customer_id, count(*) AS contacts, {per_channel}
        FROM interaction_facts
        WHERE occurred_at >= $start::TIMESTAMP::TIMESTAMPTZ
          AND occurred_at < ($as_of + 1)::TIMESTAMP::TIMESTAMPTZ
        GROUP BY customer_id
    )
    SELECT coalesce(p.customer_id, i.customer_id) AS customer_id,
           coalesce(p.purchases, 0)::BIGINT AS purchases, coalesce(p.revenue, 0.0) AS revenue,
           coalesce(i.contacts, 0)::BIGINT AS contacts, {zero}
    FROM p FULL JOIN i ON p.customer_id = i.customer_id"""


def service_counts(
    con: duckdb.DuckDBPyConnection, as_of: date, months: int = DEFAULT_MONTHS
) -> pl.DataFrame:
    """Per served customer (golden id) in the window: `customer_id, purchases, revenue` (BRL),
    `contacts` and one `contacts_<channel>` per `INTERACTION_CHANNELS` channel (contacts on
    other channels count in `contacts` only). One query over orders and interactions."""
    params = {"start": window_start(as_of, months), "as_of": as_of}
    return query_frame(con, _counts_sql(), params)


def cost_to_serve(counts: pl.DataFrame, settings: BusinessSettings) -> pl.DataFrame:
    """`counts` with `contact_cost` = Σ contacts_c × channel cost_c, `handling_cost` =
    purchases × cost per order and `cost_to_serve` = their sum (BRL); unchanged when no cost
    is set (`has_service_costs`): an unknown cost is not a zero cost."""
    if not has_service_costs(settings):
        return counts
    priced = [
        pl.col(f"contacts_{c}") * settings.channel_costs[c]
        for c in INTERACTION_CHANNELS
        if settings.channel_costs.get(c)
    ]
    contact = pl.sum_horizontal(priced) if priced else pl.lit(0.0)
    return counts.with_columns(
        contact.cast(pl.Float64).alias("contact_cost"),
        (pl.col("purchases") * settings.order_cost).cast(pl.Float64).alias("handling_cost"),
    ).with_columns(cost_to_serve=pl.col("contact_cost") + pl.col("handling_cost"))


def gross_profit(frame: pl.DataFrame, gross_margin: float) -> pl.DataFrame:
    """`frame` with `gross_profit` = revenue × gross margin (BRL; margin a share 0–1)."""
    return frame.with_columns(gross_profit=pl.col("revenue") * gross_margin)


def customer_profit(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with `profit` = gross profit − cost to serve (BRL); needs both columns."""
    return frame.with_columns(profit=pl.col("gross_profit") - pl.col("cost_to_serve"))


def customer_economics(frame: pl.DataFrame, settings: BusinessSettings) -> pl.DataFrame:
    """`frame` (`service_counts` rows, possibly with more columns such as segment and tier)
    with `gross_profit` and, when costs are set, `cost_to_serve` and `profit` (BRL): the
    three measures above chained; the per-channel contact columns and partial costs dropped.
    """
    out = gross_profit(cost_to_serve(frame, settings), settings.gross_margin)
    if "cost_to_serve" in out.columns:
        out = customer_profit(out)
    parts = [c for c in (*CONTACT_COLUMNS, "contact_cost", "handling_cost") if c in out.columns]
    return out.drop(parts)


def portfolio(customers: pl.DataFrame, counts: pl.DataFrame) -> pl.DataFrame:
    """The served customers among `customers` (`customer_id` and any columns, e.g. segment
    and tier of those the global filters leave) joined with their `service_counts` row,
    in `customers`' order."""
    return customers.join(counts, on="customer_id", how="inner", maintain_order="left")


def has_costs(frame: pl.DataFrame) -> bool:
    """True when `frame` carries the cost to serve (costs were set)."""
    return "cost_to_serve" in frame.columns


def _money(frame: pl.DataFrame) -> list[str]:
    return [c for c in MONEY_COLUMNS if c in frame.columns]


def portfolio_totals(frame: pl.DataFrame) -> dict[str, float]:
    """The served customers' totals: `customers` and the sum of each money column present
    (`revenue`, `gross_profit`, `cost_to_serve`, `profit`; BRL), in that order."""
    sums = frame.select(pl.col(_money(frame)).sum().cast(pl.Float64)).row(0, named=True)
    return {"customers": float(frame.height), **sums}


def profitability(frame: pl.DataFrame, by: str = "segment") -> pl.DataFrame:
    """Per label of `by` (`segment` or `tier`, in the label order): `customers` (served),
    `revenue`, `gross_profit` and, with costs, `cost_to_serve`, `profit` (sums, BRL) and
    `profit_per_customer` (BRL); `revenue_share` of the total (0–1; null when it is 0)."""
    money = _money(frame)
    out = frame.group_by(by).agg(pl.len().cast(pl.Int64).alias("customers"), pl.col(money).sum())
    out = out.sort(by).with_columns(
        revenue_share=pl.when(pl.col("revenue").sum() != 0)
        .then(pl.col("revenue") / pl.col("revenue").sum())
    )  # fmt: skip
    if "profit" in money:
        out = out.with_columns(profit_per_customer=pl.col("profit") / pl.col("customers"))
    return out


@dataclass(frozen=True)
class Splits:
    """Where the matrix splits: `value` (revenue, BRL) and `cost` (cost to serve, BRL)."""

    value: float
    cost: float


def median_splits(frame: pl.DataFrame) -> Splits:
    """The medians of the served customers' revenue and cost to serve (0 with none)."""
    value, cost = frame.select(pl.col("revenue", "cost_to_serve").median()).row(0)
    return Splits(float(value or 0.0), float(cost or 0.0))


def assign_quadrants(frame: pl.DataFrame, splits: Splits) -> pl.DataFrame:
    """`frame` with `quadrant` (Enum of `QUADRANTS`): high = strictly above the split."""
    high_value = pl.col("revenue") > splits.value
    high_cost = pl.col("cost_to_serve") > splits.cost
    quadrant = (
        pl.when(high_value & ~high_cost).then(pl.lit("grow"))
        .when(high_value).then(pl.lit("keep"))
        .when(high_cost).then(pl.lit("serve_cheaper"))
        .otherwise(pl.lit("re_evaluate"))
    )  # fmt: skip
    return frame.with_columns(quadrant.cast(QUADRANT).alias("quadrant"))


def quadrant_summary(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per quadrant (all four, in `QUADRANTS` order): `customers`, `customer_share`
    (0–1), `revenue`, `revenue_share` (0–1; null when the total is 0), `cost_to_serve`,
    `gross_profit`, `profit` (BRL) of an `assign_quadrants` frame."""
    money = _money(frame)
    sums = frame.group_by("quadrant").agg(pl.len().cast(pl.Int64).alias("customers"),
                                          pl.col(money).sum())  # fmt: skip
    every = pl.DataFrame({"quadrant": QUADRANTS}, schema={"quadrant": QUADRANT})
    out = every.join(sums, on="quadrant", how="left").fill_null(0)
    total_customers, total_revenue = out["customers"].sum(), out["revenue"].sum()
    return out.with_columns(
        customer_share=pl.col("customers") / total_customers if total_customers else _NULL,
        revenue_share=pl.col("revenue") / total_revenue if total_revenue else _NULL,
    ).select("quadrant", "customers", "customer_share", "revenue", "revenue_share",
             *money[1:])  # fmt: skip


def axis_position(value: pl.Expr, scale: str = "log") -> pl.Expr:
    """Where a BRL amount sits on a matrix axis: log10(1 + max(v, 0)) on the `log` scale (0
    stays 0, each power of ten one step; net refunds sit at 0), the amount itself on `linear`."""
    return value.clip(0).add(1).log10() if scale == "log" else value


def _amount(position: pl.Expr, scale: str) -> pl.Expr:
    """The BRL amount at an axis position (inverse of `axis_position` for v ≥ 0)."""
    return pl.lit(10.0).pow(position) - 1 if scale == "log" else position


def _range(frame: pl.DataFrame, column: str, clip: float) -> tuple[float, float]:
    """Lowest position and the `clip` quantile (a few outliers do not squash the chart)."""
    pos = frame[column]
    low, high = float(pos.min() or 0.0), float(pos.quantile(clip, "higher") or 0.0)
    if high <= low:
        high = float(pos.max() or 0.0)
    return low, high if high > low else low + 1.0


def matrix_bins(
    frame: pl.DataFrame, bins: int = 30, scale: str = "log", clip: float = 1.0
) -> pl.DataFrame:
    """The matrix as counts on a `bins` × `bins` grid (a million points would not draw).

    Each axis (revenue, cost to serve) is cut in equal steps of its `axis_position` (`scale`
    "log": equal ratios, since money spreads over orders of magnitude; "linear": equal BRL)
    from its lowest to its `clip` quantile; values beyond sit in the last bin. Rows: `x_bin,
    y_bin` (0-based), `x_low, x_high, y_low, y_high` (the cell's edges in BRL),
    `customers`, `revenue` (BRL); empty cells absent.
    """
    pos = frame.select(
        axis_position(pl.col("revenue"), scale).alias("x"),
        axis_position(pl.col("cost_to_serve"), scale).alias("y"),
        "revenue",
    )
    (x0, x1), (y0, y1) = _range(pos, "x", clip), _range(pos, "y", clip)
    dx, dy = (x1 - x0) / bins, (y1 - y0) / bins
    cells = pos.group_by(
        ((pl.col("x") - x0) / dx).floor().clip(0, bins - 1).cast(pl.Int32).alias("x_bin"),
        ((pl.col("y") - y0) / dy).floor().clip(0, bins - 1).cast(pl.Int32).alias("y_bin"),
    ).agg(pl.len().cast(pl.Int64).alias("customers"), pl.col("revenue").sum())
    return cells.sort("x_bin", "y_bin").select(
        "x_bin", "y_bin",
        x_low=_amount(x0 + pl.col("x_bin") * dx, scale),
        x_high=_amount(x0 + (pl.col("x_bin") + 1) * dx, scale),
        y_low=_amount(y0 + pl.col("y_bin") * dy, scale),
        y_high=_amount(y0 + (pl.col("y_bin") + 1) * dy, scale),
        customers="customers", revenue="revenue",
    )  # fmt: skip


def quadrant_customers(frame: pl.DataFrame, quadrant: str) -> pl.DataFrame:
    """The customers of one quadrant of an `assign_quadrants` frame, most revenue first."""
    return frame.filter(pl.col("quadrant") == quadrant).sort(
        "revenue", "customer_id", descending=[True, False]
    )


def revenue_concentration(frame: pl.DataFrame) -> Concentration:
    """Top 1/5/20 % revenue shares and Gini of the served customers' window revenue
    (`crm_core.differentiate.concentration`; net refunds count as 0)."""
    return concentration(frame["revenue"])

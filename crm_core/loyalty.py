"""Wheel of Loyalty (Lovelock & Wirtz): the tier pyramid and who dissolved.

Lovelock, C. & Wirtz, J., *Services Marketing: People, Technology, Strategy*, ch. "Managing
Relationships and Building Loyalty": the wheel's foundation is to *tier* customers by value
(platinum, gold, silver, bronze …) and its third spoke is to *reduce churn* with churn
diagnostics. This module reads the frames the other analytics already produce:

- `segmented` — `crm_core.segments.segment_customers` output (`customer_id`, `segment`, `tier`);
- `staged` — `crm_core.lifecycle.assign_stages` output (`customer_id`, `stage`, `reason`);
- `summary` — `crm_core.summary.customer_summary` (money in BRL, days are local calendar days).

Definitions
- A *buyer* is a customer with at least one purchase day (`purchase_days >= 1`).
- A *churned* (dissolved) customer is a buyer in the life-cycle stage `dissolution` at the
  as-of date: no purchase within the churn window, or a model P(alive) below the cut-off.
- The *dissolution rate* is churned / buyers (0–1).
- A churned customer's *churn day* is `last_purchase + churn_window_days`, capped at the as-of
  date (the cap only bites for customers dissolved by a low P(alive) inside the window): the
  first day on which the rule could call the customer gone.

Pre-churn signals, last touchpoints and survival curves live in `crm_core.churn` and
`crm_core.survival`.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from crm_core.errors import VinculoError

CHURNED_STAGE = "dissolution"


def _require(frame: pl.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise VinculoError("loyalty.missing_columns", what=what, columns=", ".join(missing))


def beside(left: pl.DataFrame, right: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """`left` with `right`'s `columns` matched on `customer_id` (inner join).

    The cached analytics frames list the same customers in the same order (one row per summary
    row), and a string-key join costs about 0.2 s at a million customers, so equal id columns
    are put side by side instead.
    """
    if left["customer_id"].equals(right["customer_id"]):
        return left.hstack(right.select(columns))
    return left.join(right.select("customer_id", *columns), on="customer_id")


def _tier_order(tiers: pl.Series) -> list[str]:
    """Tier names best first: the Enum's order when the column is one, else first seen."""
    if isinstance(tiers.dtype, pl.Enum):
        return list(tiers.dtype.categories)
    return tiers.cast(pl.String).unique(maintain_order=True).to_list()


def tier_pyramid(
    segmented: pl.DataFrame, summary: pl.DataFrame, clv: pl.DataFrame | None = None
) -> pl.DataFrame:
    """The customer pyramid: size and value of every value tier, best tier first.

    Only buyers are tiered (customers without a purchase carry the no-purchase label and are
    left out). Columns: `tier` (String), `customers` (Int64), `share` (of buyers, 0–1),
    `revenue` (BRL, sum of the summary's net revenue), `revenue_share` (0–1, null when total
    revenue is 0), `mean_revenue` (BRL per customer) and, when `clv` (`customer_id, clv`) is
    given, `mean_clv` (BRL, over customers with a score). Tiers without customers are left
    out; the order is the `tier` Enum's (best first) when it is one.
    """
    _require(segmented, ("customer_id", "tier"), "segmented")
    _require(summary, ("customer_id", "purchase_days", "revenue"), "summary")
    order = _tier_order(segmented["tier"])
    tiers = segmented.select("customer_id", pl.col("tier").cast(pl.String))
    frame = beside(tiers, summary, ["purchase_days", "revenue"])
    frame = frame.filter(pl.col("purchase_days") >= 1)
    aggs = [
        pl.len().cast(pl.Int64).alias("customers"),
        pl.col("revenue").sum().cast(pl.Float64).alias("revenue"),
        pl.col("revenue").mean().cast(pl.Float64).alias("mean_revenue"),
    ]
    if clv is not None:
        _require(clv, ("customer_id", "clv"), "clv")
        frame = frame.join(clv.select("customer_id", "clv"), on="customer_id", how="left")
        aggs.append(pl.col("clv").mean().cast(pl.Float64).alias("mean_clv"))
    total = float(frame["revenue"].sum() or 0.0)
    rank = pl.DataFrame({"tier": order, "rank": range(len(order))})
    out = frame.group_by("tier").agg(aggs).join(rank, on="tier", how="left")
    columns = ["tier", "customers", "share", "revenue", "revenue_share", "mean_revenue"]
    return (
        out.sort("rank", nulls_last=True)
        .with_columns(
            share=pl.col("customers") / frame.height,
            revenue_share=pl.col("revenue") / total if total else pl.lit(None, pl.Float64),
        )
        .select(*columns, *(["mean_clv"] if clv is not None else []))
    )


CHURNED_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "last_purchase",
    "churn_day",
    "days_since",
    "purchase_days",
    "revenue",
    "reason",
)


def churned_customers(
    staged: pl.DataFrame,
    summary: pl.DataFrame,
    churn_window_days: int,
    segmented: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Who dissolved: one row per churned customer, most valuable (highest revenue) first.

    Columns: `customer_id`, `last_purchase` (Date), `churn_day` (Date, see the module
    docstring), `days_since` (days from the last purchase to the as-of date = the summary's
    `recency_days`), `purchase_days`, `revenue` (BRL, lifetime net), `reason` (the life-cycle
    rule that fired: `lapsed` or `low_p_alive`, String) and, when `segmented` is given,
    `segment` and `tier` (String). Ties in revenue keep the input (summary) order.
    """
    _require(staged, ("customer_id", "stage", "reason"), "staged")
    needed = ("customer_id", "last_purchase", "recency_days", "purchase_days", "revenue")
    _require(summary, needed, "summary")
    if churn_window_days < 1:
        raise VinculoError("loyalty.bad_days", name="churn_window_days", value=churn_window_days)
    frame = beside(
        staged.select("customer_id", "stage", pl.col("reason").cast(pl.String)),
        summary,
        list(needed[1:]),
    )
    if segmented is not None:
        _require(segmented, ("customer_id", "segment", "tier"), "segmented")
        labels = segmented.select(
            "customer_id", pl.col("segment").cast(pl.String), pl.col("tier").cast(pl.String)
        )
        frame = beside(frame, labels, ["segment", "tier"])
    gone = (pl.col("stage").cast(pl.String) == CHURNED_STAGE) & (pl.col("purchase_days") >= 1)
    as_of = pl.col("last_purchase") + pl.duration(days=pl.col("recency_days"))
    frame = frame.filter(gone).with_columns(
        churn_day=pl.min_horizontal(
            pl.col("last_purchase") + timedelta(days=churn_window_days), as_of
        ),
        days_since=pl.col("recency_days"),
        revenue=pl.col("revenue").cast(pl.Float64),
    )
    extra = ["segment", "tier"] if segmented is not None else []
    frame = frame.select(*CHURNED_COLUMNS, *extra)
    return frame.sort("revenue", descending=True, maintain_order=True)


def dissolution_rate(staged: pl.DataFrame, summary: pl.DataFrame) -> dict[str, float | int]:
    """Churned buyers, all buyers and the dissolution rate (churned / buyers, 0–1; 0 if none).

    Returns `{"buyers": int, "churned": int, "rate": float}`.
    """
    _require(staged, ("customer_id", "stage"), "staged")
    _require(summary, ("customer_id", "purchase_days"), "summary")
    frame = beside(staged.select("customer_id", "stage"), summary, ["purchase_days"])
    buyers = frame.filter(pl.col("purchase_days") >= 1)
    churned = int((buyers["stage"].cast(pl.String) == CHURNED_STAGE).sum())
    n = buyers.height
    return {"buyers": n, "churned": churned, "rate": churned / n if n else 0.0}


def dissolution_timeline(churned: pl.DataFrame) -> pl.DataFrame:
    """Churned customers by calendar month of their last purchase.

    `churned` is `churned_customers` output. Columns: `month` (Date, first day of the month),
    `customers` (Int64), `revenue` (BRL, their lifetime net revenue). Every month from the
    first to the last one with a churned customer appears, zeros included; empty input gives
    an empty frame.
    """
    _require(churned, ("customer_id", "last_purchase", "revenue"), "churned")
    schema = {"month": pl.Date, "customers": pl.Int64, "revenue": pl.Float64}
    if churned.height == 0:
        return pl.DataFrame(schema=schema)
    counts = churned.group_by(month=pl.col("last_purchase").dt.truncate("1mo")).agg(
        customers=pl.len().cast(pl.Int64), revenue=pl.col("revenue").sum().cast(pl.Float64)
    )
    first: date = counts["month"].min()  # type: ignore[assignment]
    last: date = counts["month"].max()  # type: ignore[assignment]
    months = pl.DataFrame({"month": pl.date_range(first, last, "1mo", eager=True)})
    return (
        months.join(counts, on="month", how="left")
        .with_columns(pl.col("customers").fill_null(0), pl.col("revenue").fill_null(0.0))
        .select(list(schema))
    )

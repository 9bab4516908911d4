"""Interact (IDIC step 3, Peppers & Rogers): every touchpoint logged and learnt from.

Definitions (days are local calendar days in the business time zone: `store.connect` sets
the connection's `TimeZone`, so `occurred_at::DATE` is the local day):

- An *interaction* is one row of the interaction source (`INTERACTION_SOURCE`) of a customer
  who has not been erased; it is *in the period* when its local day is within
  `Period(start, end)` (both ends included).
- A *contact* is any interaction, inbound or outbound, whatever its type.
- *Response rate* (0–1): outbound interactions with a recorded outcome in
  `RESPONSE_OUTCOMES` (clicked, responded, converted) ÷ outbound interactions with a recorded
  outcome. "Delivered" and "opened" are not responses (an open is counted by a tracking pixel,
  not by the customer answering); "no_answer" is a call nobody picked up. By channel it
  covers every outbound type (campaign sends, onboarding e-mails, sales calls); by campaign
  only interactions carrying a campaign name.
- *Conversion rate* (0–1): outbound interactions with outcome "converted" ÷ the same base.
- *Resolution rate* (0–1): support and complaint interactions resolved ÷ those whose outcome
  is resolved or unresolved (tickets without a final outcome are left out).

The channel sequences live in `crm_core.interact_paths`; the attention list in
`crm_core.attention`.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import polars as pl

from crm_core.i18n import translate
from crm_core.period import Freq, Period

INTERACTION_SOURCE = "interaction_facts"
"""The view every interaction query reads: interactions with `customer_id` rolled up to the
golden record a merged customer belongs to (see `crm_core.schema`, migration 3)."""

CUSTOMER_SOURCE = "golden_customers"
"""Customers whose interactions count: golden records (not merged into another), not erased."""

INTERACTION_COLUMNS: tuple[str, ...] = (
    "customer_id", "occurred_at", "day", "channel", "type", "direction", "outcome", "campaign",
)  # fmt: skip

RESPONSE_OUTCOMES: tuple[str, ...] = ("clicked", "responded", "converted")
"""Outcomes of an outbound interaction that count as the customer responding."""

CASE_TYPES: tuple[str, ...] = ("support", "complaint")
"""Interaction types that are service cases (tickets) with a resolution."""

DIMENSIONS: tuple[str, ...] = ("channel", "type", "outcome")
"""Columns the interactions-over-time chart can be split by."""

UNKNOWN = "unknown"
"""Label of a missing channel/type/outcome value in the breakdowns."""

RECENCY_BINS: tuple[str, ...] = ("0-7", "8-30", "31-90", "91-180", "181-365", "365+", "never")
"""Days-since-last-contact bins (closed ranges of days; 'never' = no contact up to as_of)."""

_RECENCY_EDGES: tuple[int, ...] = (7, 30, 90, 180, 365)

_SOURCE_CTE = f"""ix AS (
    SELECT customer_id::VARCHAR AS customer_id, occurred_at, channel::VARCHAR AS channel,
           type::VARCHAR AS type, direction::VARCHAR AS direction,
           outcome::VARCHAR AS outcome, campaign::VARCHAR AS campaign
    FROM {INTERACTION_SOURCE}
    WHERE customer_id IN (SELECT customer_id FROM {CUSTOMER_SOURCE} WHERE erased_at IS NULL)
)"""
"""The interactions every query reads: one CTE named `ix` (customers not erased)."""


def code_label(kind: str, code: str, lang: str) -> str:
    """The display name of a `kind` code ('channel', 'type', 'outcome', 'recency') in `lang`;
    codes the catalogue does not know (a source's own channel names) stay as they are."""
    key = f"interact.{kind}.{code}"
    text = translate(key, lang)
    return code if text == key else text


def _midnight(day: date) -> str:
    """SQL for the local midnight that starts `day` (prunes row groups on `occurred_at`)."""
    return f"'{day.isoformat()}'::DATE::TIMESTAMPTZ"


def period_interactions(con: duckdb.DuckDBPyConnection, period: Period) -> pl.DataFrame:
    """Interactions whose local day is in `period`, with columns `INTERACTION_COLUMNS`.

    `occurred_at` is the instant (Datetime in the business time zone), `day` its local Date.
    """
    sql = f"""WITH {_SOURCE_CTE}
    SELECT customer_id, occurred_at, occurred_at::DATE AS day, channel, type, direction,
           outcome, campaign
    FROM ix
    WHERE occurred_at >= {_midnight(period.start)}
      AND occurred_at < {_midnight(period.end + timedelta(days=1))}"""
    con.complete()  # DuckDB 2: an unread execute() result would block con.sql
    return con.sql(sql).pl()


def last_contacts(con: duckdb.DuckDBPyConnection, as_of: date) -> pl.DataFrame:
    """`customer_id`, `last_contact` (Date): local day of each customer's latest interaction on
    or before `as_of`; customers never contacted have no row."""
    sql = f"""WITH {_SOURCE_CTE}
    SELECT customer_id, max(occurred_at)::DATE AS last_contact
    FROM ix WHERE occurred_at < {_midnight(as_of + timedelta(days=1))}
    GROUP BY customer_id"""
    con.complete()
    return con.sql(sql).pl()


def restrict(frame: pl.DataFrame, customers: pl.DataFrame | None) -> pl.DataFrame:
    """Rows of `frame` whose `customer_id` is in `customers` (all rows when None)."""
    if customers is None:
        return frame
    return frame.join(customers.select("customer_id"), on="customer_id", how="semi")


# ---- interactions over time ------------------------------------------------------------------


def bucket_freq(period: Period) -> Freq:
    """Calendar weeks for periods up to 26 weeks (182 days), calendar months beyond."""
    return "week" if period.days <= 182 else "month"


def _truncate(freq: Freq) -> str:
    return "1w" if freq == "week" else "1mo"


def interactions_over_time(
    frame: pl.DataFrame, period: Period, by: str, freq: Freq | None = None
) -> pl.DataFrame:
    """Interactions per calendar bucket and value of `by` (one of `DIMENSIONS`).

    Columns: `bucket` (Date: the Monday of the ISO week, or the 1st of the month), `value`
    (String; a missing value is `UNKNOWN`), `interactions` (count). Every bucket touching the
    period appears for every value seen (zeros included), so stacked charts have no gaps; the
    first and last buckets may be partial (they are cut by the period's ends). `freq` defaults
    to `bucket_freq(period)`.
    """
    every = _truncate(freq or bucket_freq(period))
    counts = (
        frame.select(
            bucket=pl.col("day").dt.truncate(every),
            value=pl.col(by).cast(pl.String).fill_null(UNKNOWN),
        )
        .group_by("bucket", "value")
        .agg(interactions=pl.len())
    )
    first = pl.select(pl.lit(period.start).dt.truncate(every)).item()
    buckets = pl.date_range(first, period.end, every, eager=True).alias("bucket").to_frame()
    values = counts.select(pl.col("value").unique())
    return (
        buckets.join(values, how="cross")
        .join(counts, on=["bucket", "value"], how="left")
        .with_columns(pl.col("interactions").fill_null(0).cast(pl.Int64))
        .sort("bucket", "value")
    )


# ---- contacts per customer -------------------------------------------------------------------


def contacts_per_customer(frame: pl.DataFrame, customers: pl.DataFrame) -> pl.DataFrame:
    """`customer_id`, `contacts` (Int64): interactions of each customer of `customers` in
    `frame` (the period's interactions), 0 for customers without any; `customers`' order."""
    counts = frame.group_by("customer_id").agg(contacts=pl.len())
    return (
        customers.select("customer_id")
        .join(counts, on="customer_id", how="left", maintain_order="left")
        .with_columns(pl.col("contacts").fill_null(0).cast(pl.Int64))
    )


def contact_distribution(counts: pl.DataFrame, cap: int = 10) -> pl.DataFrame:
    """Histogram of `contacts_per_customer`: `contacts` (0 … cap; the last bar is `cap` or
    more), `customers` (count), `share` (customers ÷ all customers, 0–1). Every bar from 0 to
    `cap` is present."""
    total = counts.height
    hist = (
        counts.select(contacts=pl.col("contacts").clip(upper_bound=cap))
        .group_by("contacts")
        .agg(customers=pl.len())
    )
    bars = pl.DataFrame({"contacts": pl.int_range(0, cap + 1, eager=True).cast(pl.Int64)})
    out = bars.join(hist.cast({"contacts": pl.Int64}), on="contacts", how="left")
    out = out.with_columns(pl.col("customers").fill_null(0).cast(pl.Int64))
    return out.with_columns(share=pl.col("customers") / total if total else pl.lit(None))


def contact_stats(counts: pl.DataFrame) -> dict[str, float | int | None]:
    """Headline numbers of `contacts_per_customer`: `customers` (in scope), `contacted`
    (≥ 1 contact), `mean` and `median` contacts per customer (everyone, zeros included),
    `never_share` (customers without a contact ÷ customers, 0–1; None without customers)."""
    n = counts.height
    contacts = counts["contacts"]
    contacted = int((contacts > 0).sum())
    return {
        "customers": n,
        "contacted": contacted,
        "interactions": int(contacts.sum()),
        "mean": float(contacts.mean()) if n else None,  # type: ignore[arg-type]
        "median": float(contacts.median()) if n else None,  # type: ignore[arg-type]
        "never_share": (n - contacted) / n if n else None,
    }


# ---- days since last contact vs value ----------------------------------------------------------


def recency_bin(days: pl.Expr) -> pl.Expr:
    """The `RECENCY_BINS` label of a days-since-last-contact expression (null → 'never')."""
    expr = pl.when(days.is_null()).then(pl.lit("never"))
    for edge, label in zip(_RECENCY_EDGES, RECENCY_BINS, strict=False):
        expr = expr.when(days <= edge).then(pl.lit(label))
    return expr.otherwise(pl.lit("365+")).cast(pl.Enum(RECENCY_BINS))


def contact_recency(customers: pl.DataFrame, last: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """`customers` with `last_contact` (Date) and `days_since_contact` (Int64: as_of minus the
    last contact's local day, null if never contacted up to as_of)."""
    joined = customers.join(last, on="customer_id", how="left", maintain_order="left")
    days = (pl.lit(as_of) - pl.col("last_contact")).dt.total_days()
    return joined.with_columns(days_since_contact=days.cast(pl.Int64))


def recency_value_bins(recency: pl.DataFrame, bands: int = 5) -> pl.DataFrame:
    """Customers by days since last contact × value band (a binned heatmap, not a scatter).

    `recency` holds `value` (currency) and `days_since_contact` (see `contact_recency`).
    Value bands split customers with value > 0 into `bands` groups of equal size by rank
    (band `bands` holds the most valuable); band 0 holds value ≤ 0 or unknown.
    Columns: `recency_bin` (Enum `RECENCY_BINS`), `value_band` (Int64), `customers`,
    `total_value`, `mean_value`, `band_min` / `band_max` (the band's value range, over every
    recency bin). Only non-empty cells appear.
    """
    value = pl.col("value").fill_null(0.0)
    positive = value > 0
    rank = pl.when(positive).then(value).rank("ordinal")
    n = positive.sum()
    band = pl.when(positive).then((rank - 1) * bands // n + 1).otherwise(0).cast(pl.Int64)
    tagged = recency.select(
        recency_bin=recency_bin(pl.col("days_since_contact")), value_band=band, value=value
    )
    limits = tagged.group_by("value_band").agg(
        band_min=pl.col("value").min(), band_max=pl.col("value").max()
    )
    cells = tagged.group_by("recency_bin", "value_band").agg(
        customers=pl.len().cast(pl.Int64),
        total_value=pl.col("value").sum(),
        mean_value=pl.col("value").mean(),
    )
    return cells.join(limits, on="value_band").sort("recency_bin", "value_band")


# ---- response and resolution rates -------------------------------------------------------------


def _rate(part: str, whole: str) -> pl.Expr:
    return pl.when(pl.col(whole) > 0).then(pl.col(part) / pl.col(whole))


def _rate_columns() -> list[pl.Expr]:
    """Counts behind the rates of the module docstring, for a `group_by().agg()`."""
    outbound = (pl.col("direction") == "outbound") & pl.col("outcome").is_not_null()
    case = pl.col("type").is_in(CASE_TYPES) & pl.col("outcome").is_in(["resolved", "unresolved"])
    return [
        outbound.sum().cast(pl.Int64).alias("outbound"),
        (outbound & pl.col("outcome").is_in(RESPONSE_OUTCOMES))
        .sum()
        .cast(pl.Int64)
        .alias("responses"),
        (outbound & (pl.col("outcome") == "converted")).sum().cast(pl.Int64).alias("conversions"),
        case.sum().cast(pl.Int64).alias("cases"),
        (case & (pl.col("outcome") == "resolved")).sum().cast(pl.Int64).alias("resolved"),
    ]


def channel_rates(frame: pl.DataFrame) -> pl.DataFrame:
    """Response, conversion and resolution rates per channel (definitions in the module
    docstring). Columns: `channel`, `interactions`, `outbound`, `responses`, `response_rate`,
    `conversions`, `conversion_rate`, `cases`, `resolved`, `resolution_rate` (rates 0–1, null
    when their base is 0). Sorted by interactions, most first."""
    counts = frame.group_by(pl.col("channel").fill_null(UNKNOWN)).agg(
        *_rate_columns(), interactions=pl.len().cast(pl.Int64)
    )
    return _with_rates(counts).sort("interactions", "channel", descending=[True, False])


def campaign_rates(frame: pl.DataFrame) -> pl.DataFrame:
    """Response and conversion rates per campaign and channel (outbound interactions carrying a
    campaign name). Columns: `campaign`, `channel`, `first_day`, `last_day` (Date),
    `outbound`, `responses`, `response_rate`, `conversions`, `conversion_rate`. Sorted by
    first day, latest first."""
    tagged = frame.filter(pl.col("campaign").is_not_null() & (pl.col("direction") == "outbound"))
    counts = tagged.group_by("campaign", pl.col("channel").fill_null(UNKNOWN)).agg(
        *_rate_columns()[:3], first_day=pl.col("day").min(), last_day=pl.col("day").max()
    )
    rates = counts.with_columns(
        response_rate=_rate("responses", "outbound"),
        conversion_rate=_rate("conversions", "outbound"),
    )
    order = ["campaign", "channel", "first_day", "last_day", "outbound", "responses",
             "response_rate", "conversions", "conversion_rate"]  # fmt: skip
    return rates.select(order).sort(
        "first_day", "campaign", "channel", descending=[True, False, False]
    )


def _with_rates(counts: pl.DataFrame) -> pl.DataFrame:
    rates = counts.with_columns(
        response_rate=_rate("responses", "outbound"),
        conversion_rate=_rate("conversions", "outbound"),
        resolution_rate=_rate("resolved", "cases"),
    )
    return rates.select(
        "channel", "interactions", "outbound", "responses", "response_rate", "conversions",
        "conversion_rate", "cases", "resolved", "resolution_rate",
    )  # fmt: skip

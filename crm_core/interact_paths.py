"""Channel sequences: the paths customers follow across channels (Payne & Frow's
multichannel integration: channels should hand a customer on, not compete for them).

Definitions:

- A customer's *channel runs* are their interactions in the period ordered by time (ties by
  channel name), with consecutive interactions on the same channel collapsed into one run
  (e-mail, e-mail, WhatsApp, e-mail → e-mail → WhatsApp → e-mail). A run starts `at` its
  first interaction; `step` numbers the runs 1, 2, … per customer.
- A *path* is a customer's first `steps` runs (fewer when the customer used fewer): one path
  per contacted customer. It *converts* when a purchase (an order with `is_purchase`, see the
  `order_facts` view) happens at or after the start of the path's last run and at most
  `within_days` × 24 hours later.
- A *transition* is a pair of consecutive runs (from channel → to channel); it converts when
  a purchase follows the start of the *to* run within the same window.

Purchases after the as-of date are not counted, so paths that end less than `within_days`
before it have had less time to convert (the rate is a lower bound for them).
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import polars as pl

PATH_SEPARATOR = " → "


def purchases_between(con: duckdb.DuckDBPyConnection, start: date, end: date) -> pl.DataFrame:
    """`customer_id`, `ordered_at` (Datetime): purchases whose local day is in [start, end]."""
    sql = """SELECT customer_id::VARCHAR AS customer_id, ordered_at FROM order_facts
    WHERE is_purchase AND ordered_at >= $start::DATE::TIMESTAMPTZ
      AND ordered_at < ($end::DATE + 1)::DATE::TIMESTAMPTZ"""
    con.complete()
    return con.sql(sql, params={"start": start, "end": end}).pl()


def channel_runs(frame: pl.DataFrame, purchases: pl.DataFrame) -> pl.DataFrame:
    """The channel runs of every customer in `frame` (interactions with `customer_id`,
    `occurred_at`, `channel`), each with the customer's first purchase at or after its start.

    Columns: `customer_id`, `step` (Int64, 1-based), `channel`, `at` (the run's first
    interaction), `next_purchase` (the first `purchases.ordered_at` of the same customer at or
    after `at`, null if none; both as naive UTC Datetimes). Sorted by customer and step.
    """
    ordered = frame.select("customer_id", "channel", at=_naive_utc(frame, "occurred_at")).sort(
        "customer_id", "at", "channel"
    )
    same_customer = pl.col("customer_id") == pl.col("customer_id").shift(1)
    same_channel = pl.col("channel") == pl.col("channel").shift(1)
    starts = ordered.filter(~(same_customer & same_channel).fill_null(False))
    runs = starts.select(
        "customer_id",
        step=(pl.int_range(pl.len()).over("customer_id") + 1).cast(pl.Int64),
        channel="channel",
        at="at",
    ).with_row_index("_row")
    right = purchases.select("customer_id", next_purchase=_naive_utc(purchases, "ordered_at"))
    joined = runs.sort("at").join_asof(
        right.sort("next_purchase"), left_on="at", right_on="next_purchase", by="customer_id",
        strategy="forward", check_sortedness=False,
    )  # fmt: skip
    return joined.sort("_row").drop("_row")


def _naive_utc(frame: pl.DataFrame, column: str) -> pl.Expr:
    """`column` as a naive UTC Datetime(us), so instants from any source compare."""
    zone = getattr(frame.schema[column], "time_zone", None)
    expr = pl.col(column).cast(pl.Datetime("us", zone))
    if zone:
        expr = expr.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
    return expr


def _converted(within_days: int) -> pl.Expr:
    """A purchase followed the run's start within `within_days` × 24 hours."""
    gap = pl.col("next_purchase") - pl.col("at")
    return (gap <= timedelta(days=within_days)).fill_null(False)


def channel_paths(runs: pl.DataFrame, steps: int = 3, within_days: int = 30) -> pl.DataFrame:
    """The paths of the module docstring, counted (`runs` from `channel_runs`). Columns:
    `path` (List[String]: the channels in order), `steps` (Int64, path length), `customers`
    (who followed it), `converted` (of them, those who purchased within the window),
    `conversion_rate` (converted ÷ customers, 0–1). Sorted by customers, most first (ties by
    path)."""
    first = runs.filter(pl.col("step") <= steps)
    per_customer = first.group_by("customer_id", maintain_order=True).agg(
        path=pl.col("channel"), at=pl.col("at").last(), next_purchase=pl.col("next_purchase").last()
    )
    flagged = per_customer.select("path", converted=_converted(within_days))
    counted = flagged.group_by(label=pl.col("path").list.join(PATH_SEPARATOR)).agg(
        path=pl.col("path").first(),
        customers=pl.len().cast(pl.Int64),
        converted=pl.col("converted").sum().cast(pl.Int64),
    )
    return (
        counted.select(
            "path",
            steps=pl.col("path").list.len().cast(pl.Int64),
            customers="customers",
            converted="converted",
            conversion_rate=pl.col("converted") / pl.col("customers"),
            label="label",
        )
        .sort(["customers", "label"], descending=[True, False])
        .drop("label")
    )


def channel_transitions(runs: pl.DataFrame, within_days: int = 30) -> pl.DataFrame:
    """Transitions between consecutive channel runs (`runs` from `channel_runs`). Columns:
    `from_channel`, `to_channel`, `transitions` (count), `converted` (followed by a purchase
    within the window after the `to` run started), `conversion_rate` (0–1). Sorted by
    transitions, most first."""
    pairs = runs.with_columns(from_channel=pl.col("channel").shift(1)).filter(pl.col("step") > 1)
    counted = pairs.group_by("from_channel", to_channel="channel").agg(
        transitions=pl.len().cast(pl.Int64),
        converted=_converted(within_days).sum().cast(pl.Int64),
    )
    return counted.with_columns(conversion_rate=pl.col("converted") / pl.col("transitions")).sort(
        ["transitions", "from_channel", "to_channel"], descending=[True, False, False]
    )


def multichannel_share(runs: pl.DataFrame) -> dict[str, float | int | None]:
    """`contacted` (customers with a run), `multichannel` (of them, those who used two or more
    distinct channels in the period) and `share` (multichannel ÷ contacted, 0–1)."""
    per_customer = runs.group_by("customer_id").agg(channels=pl.col("channel").n_unique())
    contacted = per_customer.height
    multi = int((per_customer["channels"] >= 2).sum())
    return {
        "contacted": contacted,
        "multichannel": multi,
        "share": multi / contacted if contacted else None,
    }

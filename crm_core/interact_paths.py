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
    row = pl.int_range(pl.len(), dtype=pl.Int64)
    first_row = pl.when(~same_customer.fill_null(False)).then(row).forward_fill()
    runs = starts.select(
        "customer_id", step=row - first_row + 1, channel="channel", at="at"
    ).with_row_index("_row")  # step: position in the customer's block (no group-by)
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
    path).

    Each path is read off the row of its last run (step `steps`, or the customer's last run
    when they have fewer) from the runs before it in the same customer's sorted block, so no
    per-customer grouping is needed.
    """
    last_run = (pl.col("customer_id") != pl.col("customer_id").shift(-1)).fill_null(True)
    ends = (pl.col("step") == steps) | ((pl.col("step") < steps) & last_run)
    earlier = [
        pl.when(pl.col("step") > back).then(pl.col("channel").shift(back))
        for back in range(steps - 1, 0, -1)
    ]
    label = pl.concat_str([*earlier, pl.col("channel")], separator=PATH_SEPARATOR,
                          ignore_nulls=True)  # fmt: skip
    flagged = runs.select(
        label=label, steps=pl.col("step").clip(upper_bound=steps),
        converted=_converted(within_days), end=ends,
    ).filter("end")  # fmt: skip
    counted = flagged.group_by("label").agg(
        steps=pl.col("steps").first(),
        customers=pl.len().cast(pl.Int64),
        converted=pl.col("converted").sum().cast(pl.Int64),
    )
    return counted.sort(["customers", "label"], descending=[True, False]).select(
        path=pl.col("label").str.split(PATH_SEPARATOR),
        steps="steps",
        customers="customers",
        converted="converted",
        conversion_rate=pl.col("converted") / pl.col("customers"),
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
    distinct channels in the period) and `share` (multichannel ÷ contacted, 0–1).

    Consecutive runs differ in channel by construction, so a customer is multichannel exactly
    when they have a second run."""
    contacted = int((runs["step"] == 1).sum())
    multi = int((runs["step"] == 2).sum())
    return {
        "contacted": contacted,
        "multichannel": multi,
        "share": multi / contacted if contacted else None,
    }

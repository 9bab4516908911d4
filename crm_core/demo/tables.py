"""The demo as frames shaped like the store's tables (see `crm_core.schema`).

`demo_tables` is pure: a seed, a size and an end date in, one Polars frame per
table out (money as floats with 2 decimals, cast to DECIMAL on insert; times
as UTC datetimes). Events falling on or after `as_of` are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from crm_core.demo import orders as order_gen
from crm_core.demo import surveys, touchpoints
from crm_core.demo.clock import daytime, history_start, to_utc
from crm_core.demo.params import DemoParams
from crm_core.demo.population import Population, build_population
from crm_core.schema import CONTACT_FIELDS


def _stamp(frame: pl.DataFrame, start: date, column: str) -> pl.DataFrame:
    """Replace the float `time` (local days) by a UTC timestamp `column`."""
    stamped = to_utc(daytime(frame["time"].to_numpy()), start, column)
    return frame.with_columns(stamped).drop("time")


def _numbered(frame: pl.DataFrame, column: str, prefix: str, width: int) -> pl.DataFrame:
    frame = frame.sort("time", maintain_order=True)
    number = pl.int_range(1, frame.height + 1).cast(pl.String).str.zfill(width)
    return frame.with_columns(pl.concat_str(pl.lit(prefix), number).alias(column))


def _records_with_status(pop: Population, orders: pl.DataFrame) -> pl.DataFrame:
    """Records plus `is_lead` (no purchase under this id), `dropped_at`, `reachable`."""
    history = pop.history
    buyers = orders.filter(pl.col("rank").is_not_null())["record"].unique()
    dropped_at = np.where(history.dropped, history.last_order, np.nan)
    return pop.records.with_columns(
        is_lead=~pl.col("record").is_in(buyers.implode()),
        dropped_at=pl.Series(dropped_at[pop.records["person"].to_numpy()]).fill_nan(None),
        reachable=pl.col("email").is_not_null() & pl.col("email").str.contains("@"),
    )


def _order_tables(pop: Population, params: DemoParams, rng) -> pl.DataFrame:
    created = pop.records["created"].to_numpy()
    frame = order_gen.orders_frame(pop.history, pop.order_record, created, params, rng)
    ids = pop.records["customer_id"]
    last_rank = pop.history.n_repeat[frame["person"].to_numpy()]
    dropped = pop.history.dropped[frame["person"].to_numpy()]
    return frame.with_columns(
        customer_id=ids.gather(frame["record"]),
        last_before_drop=pl.Series(dropped)
        & (pl.col("rank") == pl.Series(last_rank)).fill_null(False),
    )


def _interactions(records, orders, horizon: float, start: date, rng) -> tuple:
    consents = touchpoints.consents_frame(records, horizon, rng)
    calendar = touchpoints.campaign_calendar(start, int(horizon))
    sends = []
    for channel, share in (("email", 0.15), ("whatsapp", 0.04)):
        part = touchpoints.campaign_sends(consents, records, calendar, channel, share, rng)
        part = part.join(records.select("customer_id", "dropped_at"), on="customer_id", how="left")
        alive = part.select(
            pl.col("dropped_at").is_null() | (pl.col("time") <= pl.col("dropped_at"))
        ).to_series()
        outcome = touchpoints.engagement(alive.to_numpy(), rng, whatsapp=channel == "whatsapp")
        sends.append(part.drop("dropped_at").with_columns(outcome=pl.Series(outcome)))
    purchases = orders.filter(pl.col("rank").is_not_null())
    parts = [
        *sends,
        touchpoints.order_touchpoints(purchases, rng),
        touchpoints.relationship_touchpoints(records, horizon, rng),
    ]
    frame = pl.concat(parts, how="diagonal").filter(pl.col("time") < horizon)
    frame = frame.with_columns(subject=pl.coalesce("subject", "campaign"))
    return frame, consents.drop("withdrawn_at")


@dataclass
class DemoWorld:
    """Everything the generator drew, before it is shaped into tables.

    `records` keeps the truth per customer id (`person`, `dropped_at`,
    `is_lead`); frames keep times as float local days since `start`.
    """

    start: date
    population: Population
    records: pl.DataFrame
    orders: pl.DataFrame
    interactions: pl.DataFrame
    consents: pl.DataFrame
    feedback: pl.DataFrame
    order_items: pl.DataFrame | None


def simulate(customers: int, seed: int, as_of: date, params: DemoParams | None = None) -> DemoWorld:
    """Draw the whole demo world, deterministic for `(customers, seed, as_of, params)`."""
    params = params or DemoParams()
    rng = np.random.default_rng(seed)
    horizon = float(params.history_days)
    start = history_start(as_of, params.history_days)
    pop = build_population(customers, params, start, rng)
    orders = _order_tables(pop, params, rng)
    records = _records_with_status(pop, orders)
    interactions, consents = _interactions(records, orders, horizon, start, rng)
    mood = rng.normal(size=len(pop.acquired))
    purchases = orders.filter(pl.col("rank").is_not_null())
    feedback = pl.concat(
        [
            surveys.csat_answers(purchases, mood, rng),
            surveys.nps_answers(records, mood, horizon, rng),
        ]
    ).filter(pl.col("time") < horizon)
    items = None
    if customers <= params.order_items_max_customers:
        items = order_gen.order_items_frame(orders, rng)
    return DemoWorld(start, pop, records, orders, interactions, consents, feedback, items)


def demo_tables(
    customers: int, seed: int, as_of: date, params: DemoParams | None = None
) -> dict[str, pl.DataFrame]:
    """Every demo table as a frame (columns named as in the store)."""
    world = simulate(customers, seed, as_of, params)
    start = world.start
    interactions = _numbered(world.interactions, "interaction_id", "I", 10)
    tables = {
        "customers": _customers(world.records, start),
        "orders": _orders(world.orders, start),
        "interactions": _stamp(interactions, start, "occurred_at"),
        "feedback": _stamp(_numbered(world.feedback, "feedback_id", "F", 9), start, "answered_at"),
        "consents": _stamp(world.consents, start, "recorded_at"),
        "demo_truth": world.population.truth,
    }
    if world.order_items is not None:
        tables["order_items"] = world.order_items
    return tables


def _customers(records: pl.DataFrame, start: date) -> pl.DataFrame:
    stamped = _stamp(records.select("created").rename({"created": "time"}), start, "created_at")
    return records.select("customer_id", *CONTACT_FIELDS, "is_lead").with_columns(stamped)


def _orders(orders: pl.DataFrame, start: date) -> pl.DataFrame:
    stamped = _stamp(orders.select("time"), start, "ordered_at")
    return orders.select(
        "order_id",
        "customer_id",
        "gross",
        "discount",
        "refunded",
        "status",
        "sales_channel",
        "category",
        "items",
    ).with_columns(stamped)

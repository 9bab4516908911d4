"""Tiny interaction datasets whose every number the tests compute by hand.

Times are local wall-clock times in America/Sao_Paulo (UTC−3 all year since 2019, no
daylight saving), so a local day is the UTC day shifted by three hours.
"""

from __future__ import annotations

from datetime import datetime

import duckdb
import polars as pl

from crm_core.interact import INTERACTION_COLUMNS

TZ = "America/Sao_Paulo"

# (customer_id, local time, channel, type, direction, outcome, campaign)
Row = tuple[str, str, str, str | None, str | None, str | None, str | None]


def local(text: str) -> datetime:
    """A naive local wall-clock time."""
    return datetime.fromisoformat(text)


def interactions(rows: list[Row]) -> pl.DataFrame:
    """A frame shaped like `crm_core.interact.period_interactions` from `rows`."""
    schema = {
        "customer_id": pl.String, "occurred_at": pl.Datetime("us"), "channel": pl.String,
        "type": pl.String, "direction": pl.String, "outcome": pl.String, "campaign": pl.String,
    }  # fmt: skip
    frame = pl.DataFrame(
        [(c, local(at), ch, ty, d, o, ca) for c, at, ch, ty, d, o, ca in rows],
        schema=schema, orient="row",
    )  # fmt: skip
    frame = frame.with_columns(pl.col("occurred_at").dt.replace_time_zone(TZ))
    return frame.with_columns(day=pl.col("occurred_at").dt.date()).select(INTERACTION_COLUMNS)


def purchases(rows: list[tuple[str, str]]) -> pl.DataFrame:
    """A frame shaped like `crm_core.interact_paths.purchases_between`: (customer, local time)."""
    frame = pl.DataFrame(
        [(c, local(at)) for c, at in rows],
        schema={"customer_id": pl.String, "ordered_at": pl.Datetime("us")}, orient="row",
    )  # fmt: skip
    return frame.with_columns(pl.col("ordered_at").dt.replace_time_zone(TZ))


def insert_interactions(con: duckdb.DuckDBPyConnection, rows: list[Row]) -> None:
    """Write `rows` (and their customers) into a store; times carry the −03 offset."""
    for n, (c, at, ch, ty, d, o, ca) in enumerate(rows):
        con.execute(
            "INSERT INTO interactions (interaction_id, customer_id, occurred_at, channel, type, "
            "direction, outcome, campaign) VALUES (?, ?, ?::TIMESTAMPTZ, ?, ?, ?, ?, ?)",
            [f"i{n}", c, at + "-03", ch, ty, d, o, ca],
        )
    for c in sorted({r[0] for r in rows}):
        con.execute("INSERT OR IGNORE INTO customers (customer_id) VALUES (?)", [c])


def insert_order(con: duckdb.DuckDBPyConnection, order_id: str, customer: str, at: str) -> None:
    """A completed order of 100 at local time `at`."""
    con.execute(
        "INSERT INTO orders (order_id, customer_id, ordered_at, gross_amount, status) "
        "VALUES (?, ?, ?::TIMESTAMPTZ, 100, 'completed')",
        [order_id, customer, at + "-03"],
    )

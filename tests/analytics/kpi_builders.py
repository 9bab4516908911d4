"""Builders for tiny stores whose KPIs and cohorts are computed by hand in the tests.

Times are local wall-clock times in America/Sao_Paulo (UTC−3 all of 2024,
no daylight saving), written with their offset so the UTC instant is explicit.
"""

from __future__ import annotations

import duckdb

LOCAL = "-03"

# (order_id, customer_id, local time, gross, refunded, status)
ORDERS: list[tuple[str, str, str, float, float, str]] = [
    ("o1", "A", "2024-01-15 10:00", 100, 0, "completed"),
    ("o2", "A", "2024-02-10 10:00", 50, 0, "completed"),
    ("o3", "A", "2024-03-05 10:00", 80, 0, "completed"),
    ("o4", "A", "2024-03-05 18:00", 20, 0, "completed"),
    ("o5", "B", "2024-02-20 12:00", 200, 50, "partially_refunded"),
    ("o6", "B", "2024-03-31 23:30", 60, 0, "completed"),  # UTC: 2024-04-01 02:30
    ("o7", "C", "2024-02-05 09:00", 100, 0, "completed"),
    ("o8", "C", "2024-03-10 09:00", 40, 0, "cancelled"),
    ("o9", "D", "2024-03-01 00:30", 70, 0, "completed"),  # UTC: 2024-03-01 03:30
    ("o10", "E", "2024-02-29 23:30", 30, 0, "completed"),  # UTC: 2024-03-01 02:30
    ("o11", "D", "2024-03-20 11:00", 30, 0, "completed"),
    ("o12", "E", "2024-03-15 11:00", 90, 90, "refunded"),
    ("o13", "G", "2024-03-25 10:00", 45, 0, "pending"),
    ("o14", "H", "2024-03-12 10:00", 40, 0, "completed"),
    ("o15", "J", "2024-03-08 10:00", 25, 0, "completed"),
    ("o16", "J", "2024-03-08 15:00", 25, 0, "completed"),
]

# (feedback_id, customer_id, local time, csat, nps)
FEEDBACK: list[tuple[str, str, str, int | None, int | None]] = [
    ("f1", "A", "2024-03-02 10:00", 5, 10),
    ("f2", "B", "2024-03-03 10:00", 4, 9),
    ("f3", "C", "2024-03-04 10:00", 3, 9),
    ("f4", "D", "2024-03-05 10:00", 2, 7),
    ("f5", "E", "2024-03-06 10:00", 5, 3),
    ("f6", "A", "2024-02-29 23:00", 1, 0),  # UTC: March 1st; locally February
    ("f7", "H", "2024-03-09 10:00", None, 10),
]

# (interaction_id, customer_id, local time, channel)
INTERACTIONS: list[tuple[str, str, str, str]] = [
    ("i1", "A", "2024-03-03 10:00", "email"),
    ("i2", "B", "2024-03-04 10:00", "email"),
    ("i3", "F", "2024-03-05 10:00", "email"),  # F is a lead: counted, not active
    ("i4", "C", "2024-03-06 10:00", "phone"),
    ("i5", "D", "2024-03-07 10:00", "phone"),
    ("i6", "A", "2024-03-31 23:59", "whatsapp"),
    ("i7", "A", "2024-04-01 00:10", "whatsapp"),  # April locally: outside March
    ("i8", "B", "2024-02-29 22:00", "chat"),  # February locally
]

CUSTOMERS = ("A", "B", "C", "D", "E", "F", "G", "H", "J")


def insert(
    con: duckdb.DuckDBPyConnection,
    *,
    customers: tuple[str, ...] | list[str] = (),
    orders: list[tuple[str, str, str, float, float, str]] | None = None,
    feedback: list[tuple[str, str, str, int | None, int | None]] | None = None,
    interactions: list[tuple[str, str, str, str]] | None = None,
) -> None:
    """Insert rows into a migrated store (local times get the −03 offset)."""
    for customer_id in customers:
        con.execute(
            "INSERT INTO customers (customer_id, is_lead) VALUES (?, ?)",
            [customer_id, customer_id == "F"],
        )
    for oid, cid, ts, gross, refunded, status in orders or []:
        con.execute(
            "INSERT INTO orders (order_id, customer_id, ordered_at, gross_amount, "
            "refunded_amount, status) VALUES (?, ?, ?::TIMESTAMPTZ, ?, ?, ?)",
            [oid, cid, f"{ts}{LOCAL}", gross, refunded, status],
        )
    for fid, cid, ts, csat, nps in feedback or []:
        con.execute(
            "INSERT INTO feedback (feedback_id, customer_id, answered_at, csat, nps) "
            "VALUES (?, ?, ?::TIMESTAMPTZ, ?, ?)",
            [fid, cid, f"{ts}{LOCAL}", csat, nps],
        )
    for iid, cid, ts, channel in interactions or []:
        con.execute(
            "INSERT INTO interactions (interaction_id, customer_id, occurred_at, channel) "
            "VALUES (?, ?, ?::TIMESTAMPTZ, ?)",
            [iid, cid, f"{ts}{LOCAL}", channel],
        )


def build_hand_store(con: duckdb.DuckDBPyConnection) -> None:
    """The store every hand computation in test_kpis/test_cohorts refers to."""
    insert(con, customers=CUSTOMERS, orders=ORDERS, feedback=FEEDBACK, interactions=INTERACTIONS)

"""Seeded demo data: a Brazilian retailer's customers, orders and touchpoints.

`build_demo` replaces the store's data with a synthetic but *true-to-model*
history: customers buy under BG/NBD with Gamma-Gamma spend (`params`,
`process`), complain and rate lower before they drop out (`touchpoints`,
`surveys`), and some appear twice or with damaged fields (`dirt`, truth in
`demo_truth`). Deterministic for a given seed, size and `as_of`.

Above `DemoParams.order_items_max_customers` (50,000) customers, line items
are not generated (orders keep their `items` count): at 1M customers they
would triple the build's time and size.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from crm_core import store
from crm_core.demo.params import DemoParams
from crm_core.demo.tables import demo_tables
from crm_core.errors import VinculoError
from crm_core.schema import DEMO_TABLES

__all__ = [
    "DEMO_TABLES",
    "MAX_CUSTOMERS",
    "DemoParams",
    "build_demo",
    "check_request",
    "demo_tables",
    "write_tables",
]

MAX_CUSTOMERS = 9_999_999
"""Customer ids are `C` + 7 digits."""
_MONEY = "CAST({} AS DECIMAL(18,2))"
_INSERTS: dict[str, str] = {
    "customers": """INSERT INTO customers (customer_id, name, email, phone, document,
        birth_date, gender, city, state, zip, country, acquisition_channel, account_manager,
        created_at, is_lead, is_placeholder, source, updated_at)
        SELECT customer_id, name, email, phone, document, birth_date, gender, city, state, zip,
        country, acquisition_channel, account_manager, created_at, is_lead, FALSE, 'demo',
        created_at FROM frame""",
    "customer_records": """INSERT INTO customer_records (upload_id, line, customer_id, name,
        email, phone, document, birth_date, gender, city, state, zip, country,
        acquisition_channel, account_manager, created_at, is_lead, source)
        SELECT NULL, NULL, customer_id, name, email, phone, document, birth_date, gender, city,
        state, zip, country, acquisition_channel, account_manager, created_at, is_lead, 'demo'
        FROM frame""",
    "orders": f"""INSERT INTO orders (order_id, customer_id, ordered_at, gross_amount,
        discount_amount, refunded_amount, status, currency, sales_channel, category, items,
        source) SELECT order_id, customer_id, ordered_at, {_MONEY.format("gross")},
        {_MONEY.format("discount")}, {_MONEY.format("refunded")}, status, 'BRL', sales_channel,
        category, items, 'demo' FROM frame""",
    "order_items": f"""INSERT INTO order_items (order_id, line_no, sku, product, category,
        quantity, unit_price, line_total) SELECT order_id, line_no, sku, product, category,
        quantity, {_MONEY.format("unit_price")}, {_MONEY.format("line_total")} FROM frame""",
    "interactions": """INSERT INTO interactions (interaction_id, customer_id, occurred_at,
        channel, type, direction, outcome, campaign, owner, subject, source)
        SELECT interaction_id, customer_id, occurred_at, channel, type, direction, outcome,
        campaign, owner, subject, 'demo' FROM frame""",
    "feedback": """INSERT INTO feedback (feedback_id, customer_id, answered_at, csat, nps,
        comment, survey, channel, source) SELECT feedback_id, customer_id, answered_at, csat,
        nps, comment, survey, channel, 'demo' FROM frame""",
    "consents": """INSERT INTO consents (customer_id, channel, granted, recorded_at, source)
        SELECT customer_id, channel, granted, recorded_at, source FROM frame""",
    "demo_truth": """INSERT INTO demo_truth (customer_id, same_person_as)
        SELECT customer_id, same_person_as FROM frame""",
}


def write_tables(con: duckdb.DuckDBPyConnection, tables: dict[str, pl.DataFrame]) -> dict[str, int]:
    """Replace every demo table's rows by `tables`, in the caller's transaction."""
    tables = {**tables, "customer_records": tables["customers"]}
    con.execute("SET enable_progress_bar = false")
    counts: dict[str, int] = {}
    for name in DEMO_TABLES:
        con.execute(f"DELETE FROM {name}")
        frame = tables.get(name)
        counts[name] = 0 if frame is None else frame.height
        if frame is None or frame.height == 0:
            continue
        con.register("frame", frame.to_arrow())
        try:
            con.execute(_INSERTS[name])
        finally:
            con.unregister("frame")
    return counts


def check_request(customers: int, as_of: date) -> None:
    """Refuse sizes outside 1…9,999,999 and end dates before 2003 (history from 2000)."""
    if not 1 <= customers <= MAX_CUSTOMERS:
        raise VinculoError("demo.bad_size", customers=customers, low=1, high=MAX_CUSTOMERS)
    if as_of.year < 2003:
        raise VinculoError("demo.bad_as_of", as_of=as_of.isoformat())


def build_demo(
    db: str | Path | None = None,
    *,
    customers: int = 20_000,
    seed: int = 42,
    as_of: date | None = None,
    params: DemoParams | None = None,
) -> dict[str, Any]:
    """Fill the store at `db` with a fresh demo of `customers` customer ids.

    The history covers `DemoParams.history_days` (3 years) and ends just before
    `as_of` (default today). Replaces customers, customer_records, consents,
    orders, order_items, interactions, feedback and demo_truth in one
    transaction (uploads and the audit log are kept; one `demo.build` event is
    logged, with the true parameters in its detail). `params` overrides the
    true parameters (default `DemoParams()`). Returns the rows written per
    table and `seconds` taken.
    """
    began = time.perf_counter()
    as_of = as_of or date.today()
    check_request(customers, as_of)
    tables = demo_tables(customers, seed, as_of, params)
    with store.connect(db) as con, store.transaction(con):
        counts = write_tables(con, tables)
        detail = {"customers": customers, "seed": seed, "as_of": as_of.isoformat(), **counts}
        detail["params"] = asdict(params or DemoParams())
        store.audit(con, "demo", "demo.build", rows=sum(counts.values()), detail=detail)
        store.bump_data_version(con)
    return {**counts, "seconds": round(time.perf_counter() - began, 2)}

"""Tiny hand-built stores for identity resolution tests."""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl

from crm_core import store

FIELDS = ("name", "email", "phone", "document", "birth_date", "city", "zip", "created_at")


def customer(customer_id: str, name: str, **fields: Any) -> dict[str, Any]:
    """One customer row; unspecified fields are null, `created_at` defaults by id order."""
    row: dict[str, Any] = dict.fromkeys(FIELDS)
    row.update(customer_id=customer_id, name=name, **fields)
    return row


def add_customers(con: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> None:
    """Insert `rows` into customers and customer_records (one source row each)."""
    frame = pl.DataFrame(
        rows, schema={"customer_id": pl.String, **dict.fromkeys(FIELDS, pl.String)}
    )
    con.register("frame", frame.to_arrow())
    cols = "customer_id, name, email, phone, document, birth_date, city, zip, created_at"
    select = (
        "SELECT customer_id, name, email, phone, document, birth_date::DATE, city, zip, "
        "coalesce(created_at::TIMESTAMPTZ, TIMESTAMPTZ '2024-01-01') FROM frame"
    )
    with store.transaction(con):
        con.execute(f"INSERT INTO customers ({cols}) {select}")
        con.execute(f"INSERT INTO customer_records ({cols}) {select}")
    con.unregister("frame")


def add_truth(con: duckdb.DuckDBPyConnection, pairs: list[tuple[str, str]]) -> None:
    """Seeded truth: each `(customer_id, same_person_as)`."""
    con.executemany("INSERT INTO demo_truth VALUES (?, ?)", [list(p) for p in pairs])


def snapshot(con: duckdb.DuckDBPyConnection, tables: tuple[str, ...]) -> dict[str, list[tuple]]:
    """Every row of each table, sorted (for before/after comparisons)."""
    return {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in tables}

"""Customer summary on a tiny hand-checked store (America/Sao_Paulo local days, UTC−3)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from crm_core import store
from crm_core.errors import VinculoError
from crm_core.summary import SUMMARY_COLUMNS, customer_summary

AS_OF = date(2024, 6, 30)
WINDOW = 100  # recent = (2024-03-22, 2024-06-30], previous = (2023-12-13, 2024-03-22]

CUSTOMERS = [
    # id, is_lead, is_placeholder, created_at (UTC), erased
    ("A", False, False, "2023-12-01 12:00:00+00", None),
    ("B", True, False, "2024-02-01 02:00:00+00", None),  # local 2024-01-31 23:00
    ("C", False, True, None, None),
    ("D", False, False, "2023-01-01 12:00:00+00", "2024-05-01 00:00:00+00"),
    ("E", False, False, "2024-01-05 12:00:00+00", None),
]

ORDERS = [
    # id, customer, ordered_at (UTC), gross, refunded, status, channel, category
    ("a1", "A", "2024-01-10 15:00:00+00", 100, 0, "completed", "site", "books"),
    ("a2", "A", "2024-01-10 18:00:00+00", 50, 0, "completed", "app", "books"),
    ("a3", "A", "2024-06-15 12:00:00+00", 200, 80, "partially_refunded", "app", "toys"),
    # 01:00 UTC on 1 July is 22:00 on 30 June in São Paulo: inside the as-of day.
    ("a4", "A", "2024-07-01 01:00:00+00", 30, 0, "completed", "site", "garden"),
    ("a5", "A", "2024-03-01 10:00:00+00", 999, 0, "cancelled", "site", "books"),
    # 04:00 UTC on 1 July is 01:00 local on 1 July: after the as-of date, ignored.
    ("a6", "A", "2024-07-01 04:00:00+00", 500, 0, "completed", "site", "books"),
    ("a7", "A", "2024-04-01 12:00:00+00", 60, 60, "refunded", "site", "books"),
    ("c1", "C", "2024-06-01 00:30:00+00", 80, 0, "completed", None, None),  # local 05-31
    ("d1", "D", "2024-01-01 12:00:00+00", 70, 0, "completed", "site", "books"),
    ("e1", "E", "2024-02-01 12:00:00+00", 40, 0, "failed", "app", "toys"),
    ("x1", "X", "2024-02-01 12:00:00+00", 40, 0, "completed", "app", "toys"),  # no customer
]


def build_store(con: duckdb.DuckDBPyConnection) -> None:
    """Insert the customers and orders above."""
    for cid, lead, placeholder, created, erased in CUSTOMERS:
        con.execute(
            "INSERT INTO customers (customer_id, is_lead, is_placeholder, created_at, erased_at,"
            " city, state, acquisition_channel, account_manager)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [cid, lead, placeholder, created, erased, "Recife", "PE", "organic", None],
        )
    for oid, cid, at, gross, refunded, status, channel, category in ORDERS:
        con.execute(
            "INSERT INTO orders (order_id, customer_id, ordered_at, gross_amount, refunded_amount,"
            " status, sales_channel, category) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [oid, cid, at, gross, refunded, status, channel, category],
        )


@pytest.fixture
def summary(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> pl.DataFrame:
    monkeypatch.setenv("CRM_TZ", "America/Sao_Paulo")
    with store.connect(db_path) as con:
        build_store(con)
        return customer_summary(con, AS_OF, window_days=WINDOW)


def row(summary: pl.DataFrame, customer_id: str) -> dict[str, Any]:
    return summary.filter(pl.col("customer_id") == customer_id).row(0, named=True)


EXPECTED_A = {
    "first_purchase": date(2024, 1, 10),
    "last_purchase": date(2024, 6, 30),  # a4, local day
    "orders": 4,  # a1, a2, a3, a4 (a5 cancelled, a6 too late, a7 refunded)
    "purchase_days": 3,  # 01-10 (twice), 06-15, 06-30
    "repeat_days": 2,
    "revenue": 300.0,  # 150 + (200 − 80) + 30 + 0 + 0
    "aov": 75.0,  # 300 / 4
    "repeat_spend_mean": 75.0,  # (120 + 30) / 2, the first day (150) excluded
    "tenure_days": 172,  # 2024-01-10 → 2024-06-30 (leap year)
    "recency_days": 0,
    "revenue_recent": 150.0,  # a3 120 + a4 30 + a7 0
    "revenue_previous": 150.0,  # a1 + a2 (+ a5 cancelled = 0)
    "orders_recent": 2,
    "orders_previous": 2,
    "refunds": 2,  # a3, a7
    "cancelled": 1,  # a5
    "main_channel": "app",  # site 2 (a1, a4) vs app 2 (a2, a3): tie → alphabetical
    "main_category": "books",  # books 2, toys 1, garden 1
    "n_channels": 2,
    "n_categories": 3,
    "is_lead": False,
    "is_placeholder": False,
    "created_on": date(2023, 12, 1),
}


@pytest.mark.parametrize(("column", "expected"), sorted(EXPECTED_A.items()))
def test_buyer_with_refunds_cancellations_and_local_days(
    summary: pl.DataFrame, column: str, expected: object
) -> None:
    assert row(summary, "A")[column] == expected


def test_placeholder_single_purchase_at_local_day_boundary(summary: pl.DataFrame) -> None:
    c = row(summary, "C")
    assert c["first_purchase"] == c["last_purchase"] == date(2024, 5, 31)
    assert (c["orders"], c["purchase_days"], c["repeat_days"]) == (1, 1, 0)
    assert (c["tenure_days"], c["recency_days"]) == (30, 30)
    assert c["repeat_spend_mean"] is None
    assert (c["revenue"], c["revenue_recent"], c["aov"]) == (80.0, 80.0, 80.0)
    assert (c["main_channel"], c["n_channels"], c["is_placeholder"]) == (None, 0, True)


def test_lead_and_failed_only_customer_have_zeros(summary: pl.DataFrame) -> None:
    b, e = row(summary, "B"), row(summary, "E")
    for r in (b, e):
        assert (r["orders"], r["purchase_days"], r["repeat_days"], r["revenue"]) == (0, 0, 0, 0.0)
        assert r["first_purchase"] is None and r["recency_days"] is None and r["aov"] is None
        assert (r["orders_recent"], r["revenue_previous"], r["n_categories"]) == (0, 0.0, 0)
    assert b["is_lead"] and b["created_on"] == date(2024, 1, 31)  # 02:00 UTC = previous day
    assert e["cancelled"] == 1  # failed counts as cancelled


def test_one_row_per_live_customer_and_exact_columns(summary: pl.DataFrame) -> None:
    assert summary["customer_id"].to_list() == ["A", "B", "C", "E"]  # D erased, X unknown
    assert tuple(summary.columns) == SUMMARY_COLUMNS
    types = dict(summary.schema)
    assert types["customer_id"] == pl.String and types["first_purchase"] == pl.Date
    ints = [c for c in SUMMARY_COLUMNS if c in EXPECTED_A and isinstance(EXPECTED_A[c], int)]
    assert all(types[c] == pl.Int64 for c in ints if not isinstance(EXPECTED_A[c], bool))
    floats = ("revenue", "aov", "repeat_spend_mean", "revenue_recent", "revenue_previous")
    assert all(types[c] == pl.Float64 for c in floats)
    assert types["is_lead"] == types["is_placeholder"] == pl.Boolean


def test_as_of_moves_the_cutoff(db_path: Path) -> None:
    with store.connect(db_path) as con:
        build_store(con)
        early = customer_summary(con, date(2024, 1, 10), window_days=WINDOW)
    a = row(early, "A")
    assert (a["orders"], a["purchase_days"], a["revenue"], a["tenure_days"]) == (2, 1, 150.0, 0)


def test_window_must_be_positive(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(VinculoError) as info:
        customer_summary(con, AS_OF, window_days=0)
    assert info.value.key == "segments.bad_window"


def test_days_follow_the_business_time_zone(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # In UTC, a4 (01:00 UTC on 1 July) falls after the as-of date and c1 on 1 June.
    monkeypatch.setenv("CRM_TZ", "UTC")
    with store.connect(db_path) as con:
        build_store(con)
        utc = customer_summary(con, AS_OF, window_days=WINDOW)
    a, c = row(utc, "A"), row(utc, "C")
    assert (a["orders"], a["last_purchase"], a["revenue"]) == (3, date(2024, 6, 15), 270.0)
    assert c["first_purchase"] == date(2024, 6, 1)

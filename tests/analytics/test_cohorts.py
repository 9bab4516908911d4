"""Cohort retention on the hand-computed store of kpi_builders.py.

Monthly, up to 2024-03-31 (purchases only: completed / partially_refunded):
- January cohort {A}: A buys in Jan, Feb, Mar → 1, 1, 1; revenue 100 | 50 | 80 + 20.
- February cohort {B, C, E} (E: Feb 29 23:30 local): all 3 in Feb; in March only B
  (C's order is cancelled, E's refunded) → 3, 1 → shares 1, 1/3;
  revenue Feb 150 + 100 + 30 = 280 (per customer 93.33), Mar 60 + 0 + 0 = 60 (20).
- March cohort {D, H, J}: 3 → share 1; revenue 70 + 30 + 40 + 25 + 25 = 190 (63.33).
G's only order is pending: no cohort.
"""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_core import store
from crm_core.cohorts import cohort_matrix, cohort_retention
from crm_core.errors import VinculoError
from tests.analytics.kpi_builders import build_hand_store, insert

JAN, FEB, MAR = date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)
END = date(2024, 3, 31)


@pytest.fixture
def hand(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    build_hand_store(con)
    return con


def _rows(frame: pl.DataFrame) -> list[tuple]:
    return [
        (r["cohort"], r["period_index"], r["cohort_size"], r["value"], pytest.approx(r["share"]))
        for r in frame.iter_rows(named=True)
    ]


def test_monthly_customer_retention_by_hand(hand: duckdb.DuckDBPyConnection) -> None:
    got = cohort_retention(hand, "month", "customers", end=END)
    assert got.columns == ["cohort", "period_index", "cohort_size", "value", "share"]
    assert _rows(got) == [
        (JAN, 0, 1, 1.0, 1.0),
        (JAN, 1, 1, 1.0, 1.0),
        (JAN, 2, 1, 1.0, 1.0),
        (FEB, 0, 3, 3.0, 1.0),
        (FEB, 1, 3, 1.0, 1 / 3),
        (MAR, 0, 3, 3.0, 1.0),
    ]


def test_monthly_revenue_by_hand(hand: duckdb.DuckDBPyConnection) -> None:
    got = cohort_retention(hand, "month", "revenue", end=END)
    assert got["value"].to_list() == pytest.approx([100, 50, 100, 280, 60, 190])
    assert got["share"].to_list() == pytest.approx([100, 50, 100, 280 / 3, 20, 190 / 3])


def test_weekly_cohorts_by_hand(hand: duckdb.DuckDBPyConnection) -> None:
    # Cohorts from the week of Mar 1 (Monday Feb 26) to Mar 17: {D (Mar 1), E (Feb 29)},
    # {J (Mar 8)} in the week of Mar 4, {H (Mar 12)} in the week of Mar 11.
    # D buys again on Mar 20 (after the end); E's March order is refunded.
    got = cohort_retention(hand, "week", "customers", start=MAR, end=date(2024, 3, 17))
    feb26, mar4, mar11 = date(2024, 2, 26), date(2024, 3, 4), date(2024, 3, 11)
    assert _rows(got) == [
        (feb26, 0, 2, 2.0, 1.0),
        (feb26, 1, 2, 0.0, 0.0),
        (feb26, 2, 2, 0.0, 0.0),
        (mar4, 0, 1, 1.0, 1.0),
        (mar4, 1, 1, 0.0, 0.0),
        (mar11, 0, 1, 1.0, 1.0),
    ]
    revenue = cohort_retention(hand, "week", "revenue", start=MAR, end=date(2024, 3, 17))
    assert revenue["value"].to_list() == pytest.approx([100, 0, 0, 50, 0, 40])


def test_customer_subset_and_default_end(hand: duckdb.DuckDBPyConnection) -> None:
    # {A, B}: January {A} 1, 1, 1; February {B}: Feb and Mar 31 (local) → 1, 1.
    got = cohort_retention(hand, customers=pl.DataFrame({"customer_id": ["A", "B"]}))
    assert _rows(got) == [
        (JAN, 0, 1, 1.0, 1.0),
        (JAN, 1, 1, 1.0, 1.0),
        (JAN, 2, 1, 1.0, 1.0),
        (FEB, 0, 1, 1.0, 1.0),
        (FEB, 1, 1, 1.0, 1.0),
    ]


def test_matrix_pivots_the_triangle(hand: duckdb.DuckDBPyConnection) -> None:
    matrix = cohort_matrix(cohort_retention(hand, end=END))
    assert matrix.columns == ["cohort", "cohort_size", "0", "1", "2"]
    assert matrix.rows() == [
        (JAN, 1, 1.0, 1.0, 1.0),
        (FEB, 3, 1.0, pytest.approx(1 / 3), None),
        (MAR, 3, 1.0, None, None),
    ]


def test_empty_store_and_bad_arguments(con: duckdb.DuckDBPyConnection) -> None:
    assert cohort_retention(con).is_empty()
    assert cohort_matrix(cohort_retention(con)).columns == ["cohort", "cohort_size"]
    with pytest.raises(VinculoError):
        cohort_retention(con, metric="margin")  # type: ignore[arg-type]
    with pytest.raises(VinculoError):
        cohort_retention(con, freq="year")  # type: ignore[arg-type]


_ORDER = st.tuples(
    st.sampled_from("abcdef"),
    st.integers(0, 120),  # day offset from 2024-01-01
    st.integers(0, 23),
    st.sampled_from(["completed", "completed", "partially_refunded", "cancelled", "refunded"]),
)


@settings(max_examples=30, deadline=None)
@given(orders=st.lists(_ORDER, max_size=25), freq=st.sampled_from(["month", "week"]))
def test_cohort_invariants(orders: list[tuple[str, int, int, str]], freq: str) -> None:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'America/Sao_Paulo'")
    store.migrate(con)
    rows = [
        (f"o{i}", c, f"{date(2024, 1, 1) + timedelta(days=d)} {h:02d}:00", 10.0, 0.0, s)
        for i, (c, d, h, s) in enumerate(orders)
    ]
    insert(con, orders=rows)
    got = cohort_retention(con, freq, end=date(2024, 5, 31))  # type: ignore[arg-type]
    buyers = {c for c, _, _, s in orders if s in ("completed", "partially_refunded")}
    first = got.filter(pl.col("period_index") == 0)
    assert first["cohort_size"].sum() == len(buyers)  # each buyer in exactly one cohort
    assert first["share"].to_list() == [1.0] * len(first)  # everyone buys in period 0
    assert got["share"].is_between(0, 1).all()
    con.close()

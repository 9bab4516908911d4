"""Golden roll-up: once merged, analytics count the records of one person as one customer.

Tiny store (local times, America/Sao_Paulo, UTC−3): A (oldest) bought on Jan 10 (100) and
Feb 10 (50); B on Feb 10 (30) and Mar 1 (20), one e-mail on Mar 20 and a CSAT 4 on Mar 15;
C on Mar 5 (70). Merging B into A gives one customer with 4 orders on 3 purchase days
(Jan 10, Feb 10, Mar 1): revenue 200, day spends 100, 80, 20, so the repeat spend mean is
(80 + 20) / 2 = 50 and the AOV 200 / 4 = 50.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from crm_core import kpis, schema, store
from crm_core.identity_merge import merge, unmerge
from crm_core.period import Period
from crm_core.relationship import interaction_profile
from crm_core.summary import customer_summary
from tests.analytics.kpi_builders import insert

AS_OF = date(2024, 3, 31)
FEB_MAR = Period(date(2024, 2, 1), date(2024, 3, 31))
ORDERS = [
    ("o1", "A", "2024-01-10 10:00", 100, 0, "completed"),
    ("o2", "A", "2024-02-10 10:00", 50, 0, "completed"),
    ("o3", "B", "2024-02-10 16:00", 30, 0, "completed"),
    ("o4", "B", "2024-03-01 10:00", 20, 0, "completed"),
    ("o5", "C", "2024-03-05 10:00", 70, 0, "completed"),
]


@pytest.fixture
def three(con):
    insert(
        con,
        customers=("A", "B", "C"),
        orders=ORDERS,
        interactions=[("i1", "B", "2024-03-20 10:00", "email")],
        feedback=[("f1", "B", "2024-03-15 10:00", 4, 9)],
    )
    return con


def _row(summary: pl.DataFrame, customer_id: str) -> dict:
    return summary.filter(pl.col("customer_id") == customer_id).row(0, named=True)


def test_merged_records_are_one_customer_in_the_summary(three) -> None:
    before = customer_summary(three, AS_OF, window_days=30)
    assert before["customer_id"].to_list() == ["A", "B", "C"]
    merge(three, ["B"], "A", "t")
    after = customer_summary(three, AS_OF, window_days=30)
    assert after["customer_id"].to_list() == ["A", "C"]
    a = _row(after, "A")
    assert (a["orders"], a["purchase_days"], a["repeat_days"]) == (4, 3, 2)
    assert a["revenue"] == pytest.approx(200.0)
    assert a["aov"] == pytest.approx(50.0)
    assert a["repeat_spend_mean"] == pytest.approx(50.0)
    assert (a["first_purchase"], a["last_purchase"]) == (date(2024, 1, 10), date(2024, 3, 1))
    assert a["recency_days"] == 30
    assert _row(after, "C") == _row(before, "C")
    unmerge(three, "B", "t")
    assert customer_summary(three, AS_OF, window_days=30).equals(before)


def test_kpis_count_one_customer(three) -> None:
    assert kpis.active_customers(three, FEB_MAR) == 3
    assert kpis.new_customers(three, FEB_MAR) == 2  # B and C (A first bought in January)
    assert kpis.contact_rate(three, FEB_MAR) == pytest.approx(1 / 3)
    only_a = pl.DataFrame({"customer_id": ["A"]})
    assert kpis.csat(three, FEB_MAR, only_a) is None
    merge(three, ["B"], "A", "t")
    assert kpis.active_customers(three, FEB_MAR) == 2
    assert kpis.new_customers(three, FEB_MAR) == 1  # B's first purchase is now A's history
    assert kpis.contact_rate(three, FEB_MAR) == pytest.approx(1 / 2)
    assert kpis.csat(three, FEB_MAR, only_a) == pytest.approx(1.0)  # B's answer is A's
    assert kpis.revenue(three, FEB_MAR) == pytest.approx(170.0)  # revenue never changes
    unmerge(three, "A", "t")
    assert kpis.active_customers(three, FEB_MAR) == 3
    assert kpis.contact_rate(three, FEB_MAR) == pytest.approx(1 / 3)


def test_interactions_follow_the_golden_record(three) -> None:
    before = interaction_profile(three, AS_OF)
    assert before["customer_id"].to_list() == ["A", "B", "C"]
    merge(three, ["B"], "A", "t")
    after = interaction_profile(three, AS_OF)
    assert after["customer_id"].to_list() == ["A", "C"]
    assert after["contacts"].to_list() == [1, 0]
    assert after["last_contact"][0] == date(2024, 3, 20)
    unmerge(three, "B", "t")
    assert interaction_profile(three, AS_OF).equals(before)


def test_fact_views_keep_the_source_id(three) -> None:
    merge(three, ["B"], "A", "t")
    rows = three.sql(
        "SELECT order_id, customer_id, source_customer_id FROM order_facts ORDER BY order_id"
    ).fetchall()
    assert rows == [
        ("o1", "A", "A"), ("o2", "A", "A"), ("o3", "A", "B"), ("o4", "A", "B"), ("o5", "C", "C"),
    ]  # fmt: skip
    for view in ("interaction_facts", "feedback_facts"):
        assert three.sql(f"SELECT customer_id, source_customer_id FROM {view}").fetchall() == [
            ("A", "B")
        ]
    assert three.sql("SELECT count(*) FROM orders WHERE customer_id = 'B'").fetchall() == [(2,)]


def test_order_facts_keeps_every_column_of_orders(con) -> None:
    orders = [r[0] for r in con.sql("DESCRIBE orders").fetchall()]
    facts = [r[0] for r in con.sql("DESCRIBE order_facts").fetchall()]
    assert facts == [*orders, "net_amount", "is_purchase", "source_customer_id"]
    for view, table in (("interaction_facts", "interactions"), ("feedback_facts", "feedback")):
        columns = [r[0] for r in con.sql(f"DESCRIBE {table}").fetchall()]
        assert [r[0] for r in con.sql(f"DESCRIBE {view}").fetchall()] == [
            *columns, "source_customer_id"
        ]  # fmt: skip


def test_a_v2_store_upgrades(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "old.duckdb"
    with monkeypatch.context() as mp:
        mp.setattr(store, "MIGRATIONS", schema.MIGRATIONS[:2])
        mp.setattr(store, "LATEST_VERSION", 2)
        with store.connect(path) as old:
            assert store.schema_version(old) == 2
            insert(old, customers=("A", "B", "C"), orders=ORDERS)
            old.execute(
                "INSERT INTO identity_links (customer_id, golden_id, rule, linked_by) "
                "VALUES ('B', 'A', 'manual', 'before')"
            )
            assert old.sql("SELECT count(DISTINCT customer_id) FROM order_facts").fetchall() == [
                (3,)
            ]
    with store.connect(path) as con:
        assert store.schema_version(con) == schema.LATEST_VERSION == 3
        assert store.migrate(con) == 3  # idempotent
        assert con.sql("SELECT count(DISTINCT customer_id) FROM order_facts").fetchall() == [(2,)]
        assert customer_summary(con, AS_OF)["customer_id"].to_list() == ["A", "C"]
        assert con.sql("SELECT count(*) FROM identity_rejections").fetchall() == [(0,)]
        for sql in schema.V3:  # every statement can run again on an upgraded store
            con.execute(sql)
        assert customer_summary(con, AS_OF)["customer_id"].to_list() == ["A", "C"]

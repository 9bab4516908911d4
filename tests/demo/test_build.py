"""The demo store: shape, integrity, replacement and determinism."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from crm_core import store
from crm_core.demo import DemoParams, build_demo, demo_tables
from crm_core.demo.process import expected_repeat_purchases
from crm_core.errors import VinculoError
from tests.demo.conftest import AS_OF, SIZE, scalar


def test_counts_are_sane(demo_db: tuple[Path, dict]) -> None:
    _, result = demo_db
    assert result["customers"] == SIZE == result["customer_records"]
    assert 7 * SIZE < result["orders"] < 13 * SIZE
    assert result["order_items"] >= result["orders"] * 0.9
    assert 3 * SIZE < result["interactions"] < 12 * SIZE
    assert 0.3 * SIZE < result["feedback"] < 3 * SIZE
    assert 4 * SIZE <= result["consents"] < 4.4 * SIZE
    assert result["demo_truth"] == round(SIZE * 0.025)
    assert result["seconds"] > 0


def test_rows_in_the_store_match_the_result(demo_con, demo_db) -> None:
    _, result = demo_db
    counts = store.table_counts(demo_con)
    for table in ("customers", "orders", "order_items", "interactions", "feedback", "consents"):
        assert counts[table] == result[table]
    assert scalar(demo_con, "SELECT count(*) FROM demo_truth") == result["demo_truth"]


def test_every_reference_points_to_an_existing_customer(demo_con) -> None:
    for table in ("orders", "interactions", "feedback", "consents", "customer_records"):
        orphans = scalar(
            demo_con,
            f"SELECT count(*) FROM {table} t ANTI JOIN customers c USING (customer_id)",
        )
        assert orphans == 0, table
    assert (
        scalar(demo_con, "SELECT count(*) FROM order_items ANTI JOIN orders USING (order_id)") == 0
    )


def test_keys_are_unique_and_well_formed(demo_con) -> None:
    for table, key in (("customers", "customer_id"), ("orders", "order_id")):
        assert scalar(demo_con, f"SELECT count(DISTINCT {key}) = count(*) FROM {table}")
    assert scalar(
        demo_con, "SELECT bool_and(regexp_full_match(customer_id, 'C\\d{7}')) FROM customers"
    )


def test_nothing_happens_on_or_after_as_of(demo_con) -> None:
    end = f"TIMESTAMPTZ '{AS_OF.isoformat()} 00:00:00-03'"
    for table, column in (
        ("orders", "ordered_at"),
        ("interactions", "occurred_at"),
        ("feedback", "answered_at"),
        ("consents", "recorded_at"),
        ("customers", "created_at"),
    ):
        assert scalar(demo_con, f"SELECT count(*) FROM {table} WHERE {column} >= {end}") == 0
    first = scalar(demo_con, "SELECT min(created_at) FROM customers")
    assert (AS_OF - first.date()).days <= 3 * 365 + 1


def test_no_order_before_its_customer_was_created(demo_con) -> None:
    sql = (
        "SELECT count(*) FROM orders JOIN customers USING (customer_id) "
        "WHERE ordered_at < created_at"
    )
    assert scalar(demo_con, sql) == 0


def test_orders_happen_in_brazilian_daytime(demo_con) -> None:
    hours = demo_con.execute("SELECT DISTINCT hour(ordered_at) FROM orders").fetchall()
    assert {h for (h,) in hours} <= set(range(7, 24))


def test_cancelled_and_failed_bring_no_revenue(demo_con) -> None:
    rows = dict(
        demo_con.execute(
            "SELECT status, sum(net_amount) FROM order_facts GROUP BY status"
        ).fetchall()
    )
    assert rows["cancelled"] == 0 and rows["failed"] == 0
    assert rows["completed"] > 0 and rows["partially_refunded"] > 0
    shares = dict(
        demo_con.execute(
            "SELECT status, count(*) / sum(count(*)) OVER () FROM orders GROUP BY status"
        ).fetchall()
    )
    assert 0.02 < shares["cancelled"] < 0.04
    assert 0.01 < shares["failed"] < 0.03
    assert 0.025 < shares["refunded"] + shares["partially_refunded"] < 0.06


def test_line_items_add_up_to_the_order(demo_con) -> None:
    sql = """SELECT count(*) FROM orders o JOIN (
        SELECT order_id, sum(line_total) AS total, sum(quantity) AS qty FROM order_items GROUP BY 1
    ) i USING (order_id) WHERE i.total <> o.gross_amount OR i.qty <> o.items"""
    assert scalar(demo_con, sql) == 0


def test_records_mirror_customers(demo_con) -> None:
    sql = """SELECT count(*) FROM customers c JOIN customer_records r USING (customer_id)
        WHERE r.upload_id IS NULL AND r.source = 'demo' AND c.name IS NOT DISTINCT FROM r.name
        AND c.email IS NOT DISTINCT FROM r.email AND c.document IS NOT DISTINCT FROM r.document
        AND c.created_at = r.created_at"""
    assert scalar(demo_con, sql) == scalar(demo_con, "SELECT count(*) FROM customers")


def test_leads_never_bought(demo_con) -> None:
    sql = """SELECT count(*) FROM customers c SEMI JOIN order_facts o
        ON o.customer_id = c.customer_id AND o.is_purchase WHERE c.is_lead"""
    assert scalar(demo_con, sql) == 0
    share = scalar(demo_con, "SELECT avg(is_lead::INT) FROM customers")
    assert 0.04 < share < 0.15


def test_consent_rates_and_withdrawals(demo_con) -> None:
    rates = dict(
        demo_con.execute(
            """SELECT channel, avg(granted::INT) FROM consents c WHERE recorded_at =
            (SELECT min(recorded_at) FROM consents d WHERE d.customer_id = c.customer_id
             AND d.channel = c.channel) GROUP BY channel"""
        ).fetchall()
    )
    assert set(rates) == {"email", "sms", "whatsapp", "phone"}
    assert all(0.65 < r < 0.88 for r in rates.values())
    withdrawn = scalar(
        demo_con, "SELECT count(*) FROM consents WHERE source = 'central_preferencias'"
    )
    assert withdrawn > 0


def test_campaigns_reach_only_consenting_customers(demo_con) -> None:
    sql = """SELECT count(*) FROM interactions i WHERE type = 'campaign' AND channel = 'email'
        AND NOT EXISTS (SELECT 1 FROM consents c WHERE c.customer_id = i.customer_id
        AND c.channel = 'email' AND c.granted AND c.recorded_at <= i.occurred_at)"""
    assert scalar(demo_con, sql) == 0


def test_a_build_replaces_data_keeps_uploads_and_is_audited(db_path: Path) -> None:
    with store.connect(db_path) as con:
        con.execute(
            "INSERT INTO uploads (upload_id, kind, file_name, sha256, uploaded_at, rows_read, "
            "rows_loaded, rows_rejected) VALUES (1, 'orders', 'x.csv', 'abc', now(), 0, 0, 0)"
        )
        before = store.data_version(con)
    first = build_demo(db_path, customers=500, seed=1, as_of=date(2025, 1, 31))
    second = build_demo(db_path, customers=400, seed=2, as_of=date(2025, 1, 31))
    with store.connect(db_path) as con:
        assert store.table_counts(con)["customers"] == 400
        assert store.table_counts(con)["orders"] == second["orders"] != first["orders"]
        assert store.table_counts(con)["uploads"] == 1
        assert store.data_version(con) == before + 2
        events = con.execute(
            "SELECT rows, detail FROM audit_log WHERE action = 'demo.build' ORDER BY event_id"
        ).fetchall()
    assert len(events) == 2
    assert json.loads(events[1][1])["customers"] == 400
    assert json.loads(events[1][1])["params"]["r"] == DemoParams().r


def test_same_seed_same_data_other_seed_other_data() -> None:
    a = demo_tables(300, 11, date(2025, 3, 1))
    b = demo_tables(300, 11, date(2025, 3, 1))
    c = demo_tables(300, 12, date(2025, 3, 1))
    for name in a:
        assert a[name].equals(b[name]), name
    assert not a["orders"].equals(c["orders"])


@pytest.mark.parametrize("size", [1, 10, 60])
def test_tiny_sizes_build(size: int) -> None:
    tables = demo_tables(size, 3, date(2025, 3, 1))
    assert tables["customers"].height == size
    assert tables["customers"]["customer_id"].n_unique() == size
    assert tables["orders"].filter(pl.col("customer_id").is_null()).height == 0


def test_store_orders_follow_the_bg_nbd_expectation(demo_con) -> None:
    # Merge second ids into their person (demo_truth), count purchases (all but
    # failed/cancelled attempts), and compare the mean repeat count with
    # E[X(T)] over each buyer's tenure T (days from acquisition to as_of).
    rows = demo_con.execute(
        f"""WITH person AS (
            SELECT c.customer_id, coalesce(t.same_person_as, c.customer_id) AS person
            FROM customers c LEFT JOIN demo_truth t USING (customer_id)),
        bought AS (
            SELECT p.person, count(*) AS n, min(o.ordered_at) AS first
            FROM orders o JOIN person p USING (customer_id)
            WHERE o.status NOT IN ('failed', 'cancelled') GROUP BY p.person)
        SELECT n - 1, epoch(TIMESTAMPTZ '{AS_OF.isoformat()} 00:00:00-03' - first) / 86400
        FROM bought"""
    ).fetchall()
    repeats = np.array([r[0] for r in rows], dtype=float)
    tenure = np.array([r[1] for r in rows], dtype=float)
    expected = expected_repeat_purchases(tenure, DemoParams()).mean()
    assert repeats.mean() == pytest.approx(expected, abs=4 * repeats.std() / np.sqrt(len(rows)))


def test_bad_requests_are_refused_in_the_users_language(db_path: Path) -> None:
    with pytest.raises(VinculoError) as error:
        build_demo(db_path, customers=0)
    assert "0" in error.value.message("pt_BR") and "clientes" in error.value.message("pt_BR")
    with pytest.raises(VinculoError):
        build_demo(db_path, customers=10, as_of=date(2001, 1, 1))


@pytest.mark.parametrize(
    ("table", "column"),
    [("interactions", "occurred_at"), ("feedback", "answered_at"), ("consents", "recorded_at")],
)
def test_no_touchpoint_before_the_customer_existed(demo_con, table: str, column: str) -> None:
    sql = f"""SELECT count(*) FROM {table} t JOIN customers c USING (customer_id)
        WHERE t.{column} < c.created_at"""
    assert scalar(demo_con, sql) == 0

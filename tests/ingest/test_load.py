"""Loading into the store: duplicates, placeholders, customer rebuild, undo."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from crm_core import store
from crm_core.ingest import IngestRefused, ingest_file, undo_upload, upload_history
from tests.ingest.conftest import DATA, query, snapshot, write

HEAD = "order_id,customer_id,ordered_at,gross_amount\n"


def test_same_file_twice_changes_nothing(tmp_path: Path, db_path: Path) -> None:
    path = write(tmp_path, "o.csv", HEAD + "A1,C1,2024-01-02,10\nA2,C1,2024-01-03,x\n")
    first = ingest_file(path, "orders", db=db_path)
    before = snapshot(db_path)
    version = query(db_path, "SELECT value FROM meta WHERE key = 'data_version'")
    again = ingest_file(tmp_path / "o.csv", "orders", db=db_path, file_name="renamed.csv")
    assert again.duplicate_file is True and again.upload_id == first.upload_id
    assert again.rows_loaded == 0 and again.rows_read == again.rows_duplicate == 2
    assert "already loaded" in again.message
    assert snapshot(db_path) == before
    assert query(db_path, "SELECT value FROM meta WHERE key = 'data_version'") == version
    assert query(db_path, "SELECT count(*) FROM uploads")[0][0] == 1


def test_same_order_in_two_files_is_one_order(tmp_path: Path, db_path: Path) -> None:
    ingest_file(
        write(tmp_path, "a.csv", HEAD + "A1,C1,2024-01-02,10\nA2,C1,2024-01-02,20\n"),
        "orders",
        db=db_path,
    )
    second = ingest_file(
        write(
            tmp_path,
            "b.csv",
            HEAD + "A2,C1,2024-01-02,20\nA3,C2,2024-01-05,30\nA3,C2,2024-01-05,30\n",
        ),
        "orders",
        db=db_path,
    )
    assert (second.rows_read, second.rows_loaded, second.rows_duplicate) == (3, 1, 2)
    assert query(db_path, "SELECT count(*), sum(gross_amount) FROM orders")[0] == (
        3,
        Decimal("60.00"),
    )


def test_interactions_without_id_do_not_double_count(tmp_path: Path, db_path: Path) -> None:
    head = "customer_id,occurred_at,channel,type\n"
    ingest_file(
        write(
            tmp_path,
            "a.csv",
            head + "C1,2024-01-02 10:00,email,campaign\nC1,2024-01-03 10:00,phone,support\n",
        ),
        "interactions",
        db=db_path,
    )
    report = ingest_file(
        write(
            tmp_path,
            "b.csv",
            head + "C1,2024-01-03 10:00,phone,support\nC2,2024-01-04 10:00,chat,support\n",
        ),
        "interactions",
        db=db_path,
    )
    assert (report.rows_loaded, report.rows_duplicate) == (1, 1)
    assert query(db_path, "SELECT count(*) FROM interactions")[0][0] == 3


def test_placeholders_then_real_customer_record(tmp_path: Path, db_path: Path) -> None:
    report = ingest_file(
        write(tmp_path, "o.csv", HEAD + "A1,C0000009,2024-01-02,10\n"), "orders", db=db_path
    )
    assert report.placeholders_created == 1
    assert query(db_path, "SELECT is_placeholder, name FROM customers") == [(True, None)]
    ingest_file(
        write(tmp_path, "c.csv", "customer_id,name,email\nC0000009,Ana,a@x.com\n"),
        "customers",
        db=db_path,
    )
    assert query(db_path, "SELECT is_placeholder, name FROM customers") == [(False, "Ana")]


def test_orders_by_email_match_existing_customer(tmp_path: Path, db_path: Path) -> None:
    ingest_file(
        write(tmp_path, "c.csv", "customer_id,name,email\nC0000007,Bia,Bia@X.com\n"),
        "customers",
        db=db_path,
    )
    text = (
        "order_id,email do cliente,ordered_at,gross_amount\nA1, bia@x.com ,2024-01-02,10\n"
        "A2,novo@x.com,2024-01-02,5\n"
    )
    report = ingest_file(write(tmp_path, "o.csv", text), "orders", db=db_path)
    assert report.placeholders_created == 1
    assert query(db_path, "SELECT order_id, customer_id FROM orders ORDER BY 1") == [
        ("A1", "C0000007"),
        ("A2", "novo@x.com"),
    ]
    assert query(
        db_path, "SELECT email, is_placeholder FROM customers WHERE customer_id = 'novo@x.com'"
    ) == [("novo@x.com", True)]


def test_customers_latest_non_null_value_per_field(tmp_path: Path, db_path: Path) -> None:
    head = "customer_id,name,city,phone\n"
    ingest_file(write(tmp_path, "a.csv", head + "C1,Ana,Rio,111\n"), "customers", db=db_path)
    ingest_file(
        write(tmp_path, "b.csv", head + "C1,,Niterói,\nC1,Ana Maria,,\n"), "customers", db=db_path
    )
    assert query(db_path, "SELECT name, city, phone FROM customers") == [
        ("Ana Maria", "Niterói", "111")
    ]
    assert query(db_path, "SELECT count(*) FROM customer_records")[0][0] == 3


def test_undo_round_trip_restores_every_table(tmp_path: Path, db_path: Path) -> None:
    ingest_file(
        write(tmp_path, "c.csv", "customer_id,name,city\nC1,Ana,Rio\nC2,Bia,SP\n"),
        "customers",
        db=db_path,
    )
    ingest_file(DATA / "shopify_orders.csv", "orders", db=db_path)
    before = snapshot(db_path)
    second = ingest_file(
        write(
            tmp_path,
            "c2.csv",
            "customer_id,name,city,aceita e-mail\nC1,Ana Souza,Niterói,sim\nC3,Caio,BH,não\n",
        ),
        "customers",
        db=db_path,
    )
    third = ingest_file(
        write(
            tmp_path,
            "o.csv",
            HEAD + "B1,C2,2024-01-02,10\nB2,C9,2024-01-02,x\nB3,C9,2024-01-03,7\n",
        ),
        "orders",
        db=db_path,
    )
    assert snapshot(db_path) != before
    result = undo_upload(third.upload_id, db=db_path, actor="tester")
    assert result["removed"]["orders"] == 2 and result["removed"]["customers"] == 1
    undo_upload(second.upload_id, db=db_path, actor="tester")
    assert snapshot(db_path) == before
    history = upload_history_rows(db_path)
    assert history[:2] == [(third.upload_id, "undone"), (second.upload_id, "undone")]
    actions = query(db_path, "SELECT action, actor FROM audit_log WHERE action = 'undo_upload'")
    assert actions == [("undo_upload", "tester"), ("undo_upload", "tester")]
    with pytest.raises(IngestRefused):
        undo_upload(third.upload_id, db=db_path)
    again = ingest_file(tmp_path / "o.csv", "orders", db=db_path)
    assert again.duplicate_file is False and again.rows_loaded == 2


def upload_history_rows(db: Path) -> list[tuple]:
    with store.connect(db) as con:
        frame = upload_history(con)
    return list(zip(frame["upload_id"].to_list(), frame["status"].to_list(), strict=True))


def test_undo_never_deletes_customers_that_had_no_records(tmp_path: Path, db_path: Path) -> None:
    with store.connect(db_path) as con:
        con.execute(
            "INSERT INTO customers (customer_id, name, source) VALUES ('C0000001', 'Demo', 'demo')"
        )
    report = ingest_file(
        write(tmp_path, "o.csv", HEAD + "A1,C0000001,2024-01-02,10\n"), "orders", db=db_path
    )
    c = ingest_file(
        write(tmp_path, "c.csv", "customer_id,city\nC0000001,Recife\n"), "customers", db=db_path
    )
    assert query(db_path, "SELECT name, city FROM customers") == [("Demo", "Recife")]
    undo_upload(c.upload_id, db=db_path)
    undo_upload(report.upload_id, db=db_path)
    assert query(db_path, "SELECT customer_id, name, city, is_placeholder FROM customers") == [
        ("C0000001", "Demo", None, False)
    ]


def test_upload_provenance_recorded(tmp_path: Path, db_path: Path) -> None:
    path = write(tmp_path, "o.csv", HEAD + "A1,C1,2024-01-02,10\nA2,C1,2024-01-02,x\n")
    report = ingest_file(path, "orders", db=db_path, actor="maria", file_name="vendas.csv")
    row = query(
        db_path,
        "SELECT file_name, sha256, kind, uploaded_by, rows_read, rows_loaded, "
        "rows_rejected, rows_duplicate, status, report->>'$.profile' FROM uploads",
    )
    assert row == [
        ("vendas.csv", report.sha256, "orders", "maria", 2, 1, 1, 0, "applied", "generic_orders")
    ]
    import hashlib

    assert report.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert query(db_path, "SELECT actor, action, rows FROM audit_log WHERE action = 'ingest'") == [
        ("maria", "ingest", 1)
    ]

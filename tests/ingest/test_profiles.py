"""Each import profile: detection, mapping and the values that load (hand-checked)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from crm_core.ingest import ingest_file
from tests.ingest.conftest import DATA, query


def test_shopify_orders_line_items_make_one_order(db_path: Path) -> None:
    report = ingest_file(DATA / "shopify_orders.csv", "orders", db=db_path)
    assert report.profile == "shopify_orders"
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (5, 5, 0)
    orders = query(
        db_path,
        "SELECT order_id, customer_id, gross_amount, discount_amount, "
        "refunded_amount, status, items, sales_channel FROM orders ORDER BY 1",
    )
    assert orders == [
        (
            "#1001",
            "ana.souza@example.com",
            Decimal("160.00"),
            Decimal("0.00"),
            Decimal("0.00"),
            "completed",
            3,
            "web",
        ),
        (
            "#1002",
            "bruno.lima@example.com",
            Decimal("80.00"),
            Decimal("0.00"),
            Decimal("80.00"),
            "refunded",
            1,
            "web",
        ),
        (
            "#1003",
            "ana.souza@example.com",
            Decimal("200.00"),
            Decimal("20.00"),
            Decimal("50.00"),
            "partially_refunded",
            4,
            "pos",
        ),
        (
            "#1004",
            "carla.dias@example.com",
            Decimal("120.00"),
            Decimal("0.00"),
            Decimal("0.00"),
            "cancelled",
            1,
            "web",
        ),
    ]
    items = query(
        db_path,
        "SELECT order_id, line_no, sku, quantity, unit_price, line_total "
        "FROM order_items WHERE order_id = '#1001' ORDER BY line_no",
    )
    assert items == [
        ("#1001", 1, "CAM-AZ", 2, Decimal("50.00"), Decimal("100.00")),
        ("#1001", 2, "BON-PR", 1, Decimal("50.00"), Decimal("50.00")),
    ]
    # 14:22:10 at -03:00 is 17:22:10 UTC
    when = query(db_path, "SELECT epoch(ordered_at) FROM orders WHERE order_id = '#1001'")
    assert when[0][0] == 1709659330.0
    # revenue: 160 (paid) + 0 (refunded 80-80) + 150 (200-50) + 0 (cancelled) = 310
    assert query(db_path, "SELECT sum(net_amount) FROM order_facts")[0][0] == Decimal("310.00")
    # three placeholder customers keyed by normalised e-mail (Ana's two spellings are one)
    assert report.placeholders_created == 3
    assert query(db_path, "SELECT count(*) FROM customers WHERE is_placeholder")[0][0] == 3


def test_shopify_customers_with_consent(db_path: Path) -> None:
    report = ingest_file(DATA / "shopify_customers.csv", "customers", db=db_path)
    assert report.profile == "shopify_customers" and report.rows_loaded == 2
    rows = query(
        db_path,
        "SELECT customer_id, name, city, state, zip, phone, is_placeholder "
        "FROM customers ORDER BY 1",
    )
    assert rows[0] == (
        "C0000042",
        "Ana Souza",
        "São Paulo",
        "SP",
        "01001-000",
        "+55 11 91234-5678",
        False,
    )
    consents = query(db_path, "SELECT customer_id, channel, granted FROM consents ORDER BY 1, 2")
    assert consents == [
        ("C0000042", "email", True),
        ("C0000042", "sms", False),
        ("C0000043", "email", False),
        ("C0000043", "sms", True),
    ]


def test_hubspot_contacts_lifecycle_to_lead(db_path: Path) -> None:
    report = ingest_file(DATA / "hubspot_contacts.csv", "customers", db=db_path)
    assert report.profile == "hubspot_contacts"
    assert "Last Activity Date" in report.ignored_columns
    rows = query(
        db_path,
        "SELECT customer_id, is_lead, account_manager, acquisition_channel "
        "FROM customers ORDER BY 1",
    )
    assert rows == [
        ("C0000050", True, "Marina Alves", "Organic Search"),
        ("C0000051", False, "Paulo Reis", "Paid Search"),
    ]


def test_stripe_payments_utc_refund_failure_uncaptured(db_path: Path) -> None:
    report = ingest_file(DATA / "stripe_payments.csv", "orders", db=db_path)
    assert report.profile == "stripe_payments" and report.rows_loaded == 4
    rows = query(
        db_path,
        "SELECT order_id, customer_id, status, refunded_amount, currency, "
        "epoch(ordered_at) FROM orders ORDER BY 1",
    )
    # Created (UTC) 2024-03-05 17:22:10 is UTC, not business time
    assert rows[0] == ("ch_3Ox1", "cus_P1", "completed", Decimal("0.00"), "BRL", 1709659330.0)
    assert rows[1][2:4] == ("refunded", Decimal("99.90"))
    assert rows[2][2] == "failed"
    assert rows[3][2] == "pending"  # Paid but not captured
    # revenue: 99.90 paid; the refund, the failure and the uncaptured charge bring none
    assert query(db_path, "SELECT sum(net_amount) FROM order_facts")[0][0] == Decimal("99.90")


def test_salesforce_footer_ignored_and_reported(db_path: Path) -> None:
    report = ingest_file(DATA / "salesforce_opportunities.csv", "orders", db=db_path)
    assert report.profile == "salesforce_opportunities"
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (2, 2, 0)
    assert report.footer_lines[0] == '"Grand Totals (2 records)"'
    assert any("salesforce.com" in line for line in report.footer_lines)
    assert report.date_formats["Close Date"]["format"] == "mm/dd/yyyy"
    assert report.date_formats["Close Date"]["assumed"] is False
    rows = query(
        db_path,
        "SELECT order_id, customer_id, gross_amount, status, category FROM orders ORDER BY 1",
    )
    assert rows == [
        (
            "0065g00000AbCdE",
            "0015g00000XyZ01",
            Decimal("12500.00"),
            "completed",
            "Existing Business",
        ),
        ("0065g00000AbCdF", "0015g00000XyZ02", Decimal("8000.00"), "cancelled", "New Business"),
    ]


def test_planilha_windows_1252_semicolon_decimal_comma(db_path: Path) -> None:
    report = ingest_file(DATA / "planilha_vendas_cp1252.csv", "orders", db=db_path)
    assert report.profile == "planilha_vendas"
    assert (report.encoding, report.delimiter) == ("windows-1252", ";")
    assert report.decimal["Valor Total (R$)"]["decimal"] == ","
    assert report.date_formats["Data da Venda"] == {
        "format": "dd/mm/yyyy",
        "assumed": False,
        "evidence": {"iso": 0, "slash": 3, "first_part_over_12": 2, "second_part_over_12": 0},
    }
    rows = query(
        db_path,
        "SELECT order_id, gross_amount, status, category, "
        "strftime(ordered_at, '%Y-%m-%d') FROM orders ORDER BY 1",
    )
    assert rows == [
        ("PV-001", Decimal("1234.56"), "completed", "Eletrônicos", "2024-03-05"),
        ("PV-002", Decimal("89.90"), "cancelled", "Casa", "2024-03-13"),
        ("PV-003", Decimal("250.00"), "refunded", "Casa", "2024-03-20"),
    ]
    assert query(db_path, "SELECT sum(net_amount) FROM order_facts")[0][0] == Decimal("1234.56")


def test_interactions_portuguese_headers(db_path: Path) -> None:
    report = ingest_file(DATA / "interacoes.csv", "interactions", db=db_path)
    assert report.profile == "generic_interactions" and report.rows_loaded == 3
    rows = query(
        db_path,
        "SELECT customer_id, channel, type, direction, outcome, campaign "
        "FROM interactions ORDER BY occurred_at",
    )
    assert rows == [
        ("C0000042", "email", "campaign", "outbound", "opened", "Black Friday"),
        ("C0000043", "whatsapp", "support", "inbound", "resolved", None),
        ("C0000042", "phone", "sales", "outbound", "no_answer", None),
    ]
    ids = query(db_path, "SELECT interaction_id FROM interactions")
    assert all(i[0].startswith("h") and len(i[0]) == 21 for i in ids)


def test_feedback_nps_and_csat(db_path: Path) -> None:
    report = ingest_file(DATA / "pesquisa_nps.csv", "feedback", db=db_path)
    assert report.rows_loaded == 2
    rows = query(db_path, "SELECT customer_id, nps, csat, comment, survey FROM feedback ORDER BY 1")
    assert rows == [
        ("C0000042", 9, 5, "Ótimo atendimento", "NPS trimestral"),
        ("C0000043", 3, 2, "Demorou a entrega", "NPS trimestral"),
    ]


@pytest.mark.parametrize(
    ("headers", "kind", "expected"),
    [
        ("Customer ID,First Name,Last Name,Email", "customers", "shopify_customers"),
        ("Record ID,First Name,Email,Lifecycle Stage", "customers", "hubspot_contacts"),
        ("Código do Cliente,Nome,E-mail,UF", "customers", "planilha_clientes"),
        ("customer_id,name,email", "customers", "generic_customers"),
        ("id,Created (UTC),Amount,Status,Customer ID", "orders", "stripe_payments"),
    ],
)
def test_profile_detection(headers: str, kind: str, expected: str) -> None:
    from crm_core.ingest.profiles import detect_profile

    assert detect_profile(headers.split(","), kind).name == expected

"""The store page: counts per table in both languages, and the empty state."""

from __future__ import annotations

from pathlib import Path

from crm_core import store
from tests.pages.conftest import open_page


def test_empty_store_tells_what_to_do(empty_db: Path) -> None:
    at = open_page("pages/store.py")
    assert "The store is empty" in at.info[0].value


def test_counts_match_the_store(db_path: Path) -> None:
    with store.connect(db_path) as con:
        con.execute("INSERT INTO customers (customer_id, name) VALUES ('C1', 'Ana'), ('C2', 'Bia')")
        con.execute(
            """INSERT INTO orders (order_id, customer_id, ordered_at, gross_amount, status)
               VALUES ('o1', 'C1', '2024-03-01 10:00-03', 1234.56, 'completed'),
                      ('o2', 'C2', '2024-03-02 10:00-03', 99.00, 'cancelled')"""
        )
    at = open_page("pages/store.py", lang="pt_BR")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Clientes"] == "2"
    assert metrics["Pedidos"] == "2"
    assert metrics["Receita líquida"] == "R$ 1.234,56"
    at = open_page("pages/store.py", lang="en")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Net revenue"] == "R$1,234.56"


def test_demo_store_counts(demo_db: Path) -> None:
    with store.connect(demo_db) as con:
        counts = store.table_counts(con)
    at = open_page("pages/store.py")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Customers"] == f"{counts['customers']:,}"
    assert metrics["Interactions"] == f"{counts['interactions']:,}"

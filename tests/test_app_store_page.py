"""AppTest: the store page on an empty store and on a filled one, in both languages."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from crm_core import store

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def _run(lang: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    if lang:
        at.query_params["lang"] = lang
    return at.run()


def test_empty_store_tells_what_to_do(db_path: Path) -> None:
    at = _run("en")
    assert not at.exception
    assert "The store is empty" in at.info[0].value


def test_counts_match_the_store(db_path: Path) -> None:
    with store.connect(db_path) as con:
        con.execute("INSERT INTO customers (customer_id, name) VALUES ('C1', 'Ana'), ('C2', 'Bia')")
        con.execute(
            """INSERT INTO orders (order_id, customer_id, ordered_at, gross_amount, status)
               VALUES ('o1', 'C1', '2024-03-01 10:00-03', 1234.56, 'completed'),
                      ('o2', 'C2', '2024-03-02 10:00-03', 99.00, 'cancelled')"""
        )
    at = _run("pt_BR")
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Clientes"] == "2"
    assert metrics["Receita líquida"] == "R$ 1.234,56"
    at = _run("en")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Net revenue"] == "R$1,234.56"

"""A tiny hand-built store for the data-subject tests: three people, one of them merged.

- Maria da Silva: golden record `C1` and a member `C1b` merged into it (another e-mail, the
  same document), two orders (R$ 100.00 and R$ 50.00), three contacts, one survey answer with
  a comment, three consent statements, one review decision (C1 ≠ C2), one rejected upload
  line naming her (line 7) and an identity merge in the audit log.
- João Souza `C2`: one order (R$ 70.00), one contact, one answer, one consent, and a rejected
  line (line 8); nothing of his may change when Maria is erased.
- Ana Lima, whose customer id is her e-mail `ana@exemplo.com`.

A rejected line naming `C10` (line 9) checks that the id `C1` is matched as a whole word.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import duckdb
import pytest

from crm_core import store

MARIA = {
    "names": ["Maria da Silva", "Maria S."],
    "emails": ["maria.silva@exemplo.com.br", "maria.s@gmail.com"],
    "phones": ["+55 (11) 98765-4321", "11987654321"],
    "documents": ["794.221.179-76", "79422117976"],
}
JOAO_EMAIL = "joao@exemplo.com.br"

_CUSTOMERS = [
    ("C1", "Maria da Silva", "maria.silva@exemplo.com.br", "+55 (11) 98765-4321",
     "794.221.179-76", "1985-03-02", "São Paulo", "SP", "01310-100"),
    ("C1b", "Maria S.", "maria.s@gmail.com", None, "79422117976", None, "São Paulo", "SP", None),
    ("C2", "João Souza", JOAO_EMAIL, "+55 (21) 99876-5432", "123.456.789-09", "1990-01-01",
     "Rio de Janeiro", "RJ", "20040-002"),
    ("ana@exemplo.com", "Ana Lima", "ana@exemplo.com", None, None, None, "Recife", "PE", None),
]  # fmt: skip
_ORDERS = [
    ("O1", "C1", "2026-01-10 10:00:00+00", 100.00, "completed", "shop", 1, 11),
    ("O2", "C1b", "2026-02-10 10:00:00+00", 50.00, "completed", "shop", 1, 12),
    ("O3", "C2", "2026-03-10 10:00:00+00", 70.00, "completed", "shop", 1, 13),
]
_ITEMS = [("O1", 1, "SKU1", 60.00), ("O1", 2, "SKU2", 40.00), ("O3", 1, "SKU1", 70.00)]
_INTERACTIONS = [
    ("I1", "C1", "2026-01-11 10:00:00+00", "email", "Oferta para Maria da Silva"),
    ("I2", "C1", "2026-01-12 10:00:00+00", "phone", "Ligação"),
    ("I3", "C1b", "2026-02-11 10:00:00+00", "whatsapp", "maria.s@gmail.com pediu troca"),
    ("I4", "C2", "2026-03-11 10:00:00+00", "email", "Oferta"),
]
_FEEDBACK = [
    ("F1", "C1", "2026-01-15 10:00:00+00", 5, 10, "Maria adorou, ligue 11987654321"),
    ("F2", "C2", "2026-03-15 10:00:00+00", 3, 6, "ok"),
]
_CONSENTS = [
    ("C1", "email", True, "2025-01-01 10:00:00+00", "site"),
    ("C1", "email", False, "2025-06-01 10:00:00+00", "call_center"),
    ("C1b", "sms", True, "2025-02-01 10:00:00+00", "loja"),
    ("C2", "email", True, "2025-01-01 10:00:00+00", "site"),
]
_REJECTED = [
    (1, 7, "email", "invalid e-mail", "C1;Maria da Silva;maria.silva@exemplo.com.br;x"),
    (1, 8, "email", "invalid e-mail", f"C2;João Souza;{JOAO_EMAIL};x"),
    (1, 9, "email", "invalid e-mail", "C10;Pedro Alves;pedro@exemplo.com;x"),
]
_REPORT = {
    "file_name": "clientes.csv",
    "rejects": [
        {"line": 7, "column": "email", "reason": "invalid e-mail"},
        {"line": 8, "column": "email", "reason": "invalid e-mail"},
        {"line": 9, "column": "email", "reason": "invalid e-mail"},
    ],
    "footer_lines": ["total;maria.silva@exemplo.com.br", "fim"],
}


@dataclass(frozen=True)
class People:
    """The store and what the tests compare against."""

    con: duckdb.DuckDBPyConnection
    revenue: float = 220.0
    orders: int = 3
    items: int = 3


def build(con: duckdb.DuckDBPyConnection) -> None:
    """Fill an empty store with the people of the module docstring."""
    with store.transaction(con):
        con.executemany(
            "INSERT INTO customers (customer_id, name, email, phone, document, birth_date, city, "
            "state, zip, created_at, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "TIMESTAMPTZ '2024-01-01', 'crm')",
            _CUSTOMERS,
        )
        con.execute(
            "INSERT INTO customer_records (upload_id, line, customer_id, name, email, phone, "
            "document, birth_date, city, state, zip, created_at, source) SELECT 1, "
            "row_number() OVER (), customer_id, name, email, phone, document, birth_date, city, "
            "state, zip, created_at, source FROM customers"
        )
        con.executemany(
            "INSERT INTO orders (order_id, customer_id, ordered_at, gross_amount, status, "
            "source, upload_id, line) VALUES (?, ?, ?::TIMESTAMPTZ, ?, ?, ?, ?, ?)",
            _ORDERS,
        )
        con.executemany(
            "INSERT INTO order_items (order_id, line_no, sku, line_total) VALUES (?, ?, ?, ?)",
            _ITEMS,
        )
        con.executemany(
            "INSERT INTO interactions (interaction_id, customer_id, occurred_at, channel, "
            "subject) VALUES (?, ?, ?::TIMESTAMPTZ, ?, ?)",
            _INTERACTIONS,
        )
        con.executemany(
            "INSERT INTO feedback (feedback_id, customer_id, answered_at, csat, nps, comment, "
            "source, line) VALUES (?, ?, ?::TIMESTAMPTZ, ?, ?, ?, 'survey', 3)",
            _FEEDBACK,
        )
        con.executemany(
            "INSERT INTO consents (customer_id, channel, granted, recorded_at, source) "
            "VALUES (?, ?, ?, ?::TIMESTAMPTZ, ?)",
            _CONSENTS,
        )
        con.execute(
            "INSERT INTO identity_links (customer_id, golden_id, rule, linked_by) "
            "VALUES ('C1b', 'C1', 'document', 'ana')"
        )
        con.execute(
            "INSERT INTO identity_rejections (customer_id_a, customer_id_b, decided_by) "
            "VALUES ('C1', 'C2', 'ana')"
        )
        con.execute(
            "INSERT INTO uploads (upload_id, kind, file_name, sha256, uploaded_at, rows_read, "
            "rows_loaded, rows_rejected, report) VALUES (1, 'customers', 'clientes.csv', 'x', "
            "now(), 7, 4, 3, ?)",
            [json.dumps(_REPORT)],
        )
        con.executemany("INSERT INTO rejected_rows VALUES (?, ?, ?, ?, ?)", _REJECTED)
        store.audit(con, "ana", "identity.merge", "C1", 1, {"ids": ["C1", "C1b"]})
        store.audit(con, "ana", "ingest", "upload:1", 4, {"kind": "customers"})
        store.bump_data_version(con)


@pytest.fixture
def people(con: duckdb.DuckDBPyConnection) -> Iterator[People]:
    """The store of the module docstring, open."""
    build(con)
    yield People(con)


def personal_hits(con: duckdb.DuckDBPyConnection, needles: list[str]) -> list[tuple[str, str]]:
    """(table.column, needle) for every text or JSON column of every table and view holding a
    needle (case ignored)."""
    columns = con.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = 'main' AND (data_type = 'VARCHAR' OR data_type = 'JSON')"
    ).fetchall()
    hits = []
    for table, column in columns:
        for needle in needles:
            found = store.scalar(
                con,
                f'SELECT count(*) FROM "{table}" WHERE contains(lower("{column}"::VARCHAR), ?)',
                [needle.lower()],
            )
            if found:
                hits.append((f"{table}.{column}", needle))
    return hits

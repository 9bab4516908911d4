"""Building `customers` from `customer_records`, and placeholder customers.

A customer's row is the latest non-null value of each field across the id's
records, "latest" by upload order then file line. Records with no upload
(`upload_id` NULL) are *baselines*: a snapshot of a customer that existed
before any upload touched it (e.g. demo data), so undoing the upload restores it.

A *placeholder* is a minimal customer (`is_placeholder = true`) created
because an order, interaction or answer named it before any customer file did.
"""

from __future__ import annotations

import duckdb

from crm_core.schema import PERSON_FIELDS

PERSON: tuple[str, ...] = PERSON_FIELDS
REFERENCING: tuple[str, ...] = ("orders", "interactions", "feedback")


def snapshot_baselines(con: duckdb.DuckDBPyConnection, ids_sql: str) -> None:
    """Record the current row of real customers in `ids_sql` that have no records yet."""
    cols = ", ".join(PERSON)
    con.execute(f"""INSERT INTO customer_records (upload_id, line, customer_id, {cols}, source)
        SELECT NULL, NULL, c.customer_id, {", ".join("c." + f for f in PERSON)}, c.source
        FROM customers c
        WHERE NOT c.is_placeholder AND c.customer_id IN ({ids_sql})
          AND c.customer_id NOT IN (SELECT customer_id FROM customer_records)""")


def rebuild(con: duckdb.DuckDBPyConnection, ids_sql: str) -> None:
    """Rebuild `customers` for the ids (a SELECT of customer_id) that have records."""
    key = "coalesce(upload_id, -1)::BIGINT * 100000000000 + coalesce(line, 0)"
    aggs = ", ".join(f"arg_max({f}, k) FILTER (WHERE {f} IS NOT NULL) AS {f}" for f in PERSON)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _rebuilt AS
        SELECT customer_id, {aggs}, arg_max(source, k) AS source
        FROM (SELECT *, {key} AS k FROM customer_records WHERE customer_id IN ({ids_sql}))
        GROUP BY customer_id""")
    updates = ", ".join(f"{f} = excluded.{f}" for f in (*PERSON, "source"))
    con.execute(f"""INSERT INTO customers BY NAME
        SELECT *, false AS is_placeholder, now() AS updated_at FROM _rebuilt
        ON CONFLICT (customer_id) DO UPDATE SET {updates}, is_placeholder = false,
            updated_at = excluded.updated_at""")
    con.execute("DROP TABLE _rebuilt")


def add_placeholders(con: duckdb.DuckDBPyConnection, rows: str, source: str) -> int:
    """Create placeholders for customer ids in table `rows` not yet in `customers`."""
    before = con.execute("SELECT count(*) FROM customers").fetchall()[0][0]
    con.execute(f"""INSERT INTO customers (customer_id, email, is_placeholder, source, updated_at)
        SELECT r.customer_id, min(r.cust_email), true, '{source}', now()
        FROM (SELECT customer_id, cust_email FROM {rows}) r
        ANTI JOIN customers c ON r.customer_id = c.customer_id
        GROUP BY r.customer_id""")
    return int(con.execute("SELECT count(*) FROM customers").fetchall()[0][0] - before)


def settle_orphans(con: duckdb.DuckDBPyConnection, lost_sql: str, ref_sql: str) -> int:
    """After an undo: customers left with no record become placeholders or go.

    Candidates: ids whose records were removed (`lost_sql`) and placeholders
    among the ids whose orders/interactions/answers were removed (`ref_sql`), in
    both cases only when no record remains. A candidate still referenced by
    another row stays as a placeholder; otherwise it is deleted. Customers that
    never had records (demo data) are never touched. Returns the rows deleted.
    """
    referenced = " UNION ".join(f"SELECT customer_id FROM {t}" for t in REFERENCING)
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _orphans AS
        SELECT customer_id FROM customers
        WHERE (customer_id IN ({lost_sql})
               OR (is_placeholder AND customer_id IN ({ref_sql})))
          AND customer_id NOT IN (SELECT customer_id FROM customer_records)""")
    before = con.execute("SELECT count(*) FROM customers").fetchall()[0][0]
    con.execute(f"""DELETE FROM customers WHERE customer_id IN (SELECT customer_id FROM _orphans)
        AND customer_id NOT IN ({referenced})""")
    deleted = before - con.execute("SELECT count(*) FROM customers").fetchall()[0][0]
    blank = ", ".join(f"{f} = NULL" for f in PERSON if f != "email")
    con.execute(f"""UPDATE customers SET {blank},
        email = CASE WHEN customer_id LIKE '%@%' THEN customer_id END,
        is_placeholder = true, updated_at = now()
        WHERE customer_id IN (SELECT customer_id FROM _orphans) AND NOT is_placeholder""")
    con.execute("DROP TABLE _orphans")
    return int(deleted)

"""The final merge: staged rows into the store, in ONE transaction.

Runs on a store connection with the staged tables registered as Arrow
(`in_<table>`). Inside the transaction: re-check that the same file was not
applied meanwhile, resolve customers (customer id; else an existing customer
with the same normalised e-mail, lower/trim; else a placeholder keyed by the
e-mail), anti-join business keys against the store (an order id already
present is a duplicate), insert, rebuild affected customers, record the
upload, its rejects, the audit event and bump the data version.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from crm_core import store
from crm_core.ingest import customers as cust
from crm_core.ingest.customers import PERSON

KEY = {"orders": "order_id", "interactions": "interaction_id", "feedback": "feedback_id"}
MAIN = {
    "customers": "in_stg_records",
    "orders": "in_stg_orders",
    "interactions": "in_stg_interactions",
    "feedback": "in_stg_feedback",
}
COLUMNS = {
    "orders": (
        "order_id, customer_id, ordered_at, gross_amount, discount_amount, "
        "refunded_amount, status, currency, sales_channel, category, items, source"
    ),
    "interactions": (
        "interaction_id, customer_id, occurred_at, channel, type, direction, "
        "outcome, campaign, owner, subject, source"
    ),
    "feedback": (
        "feedback_id, customer_id, answered_at, csat, nps, comment, survey, channel, source"
    ),
}


@dataclass
class MergeResult:
    upload_id: int
    loaded: int
    duplicate: int
    placeholders: int


def find_applied(con: duckdb.DuckDBPyConnection, sha256: str, kind: str) -> dict[str, Any] | None:
    """The applied upload of the same bytes and kind, if any."""
    rows = con.execute(
        "SELECT upload_id, rows_read, profile FROM uploads WHERE sha256 = ? AND kind = ? "
        "AND status = 'applied' ORDER BY upload_id LIMIT 1",
        [sha256, kind],
    ).fetchall()
    if not rows:
        return None
    return {"upload_id": rows[0][0], "rows_read": rows[0][1], "profile": rows[0][2]}


def _resolve(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """Temp view/table `inc`: the staged rows with `customer_id` resolved."""
    email_only = con.execute(f"SELECT count(*) FROM {source} WHERE cust_id IS NULL").fetchall()
    if not email_only[0][0]:  # every row names its customer: no lookup, no copy
        con.execute(
            f"CREATE OR REPLACE TEMP VIEW inc AS "
            f"SELECT * EXCLUDE (cust_id), cust_id AS customer_id FROM {source}"
        )
        return
    con.execute(f"""CREATE OR REPLACE TEMP TABLE _by_email AS
        SELECT lower(trim(email)) AS e, min(customer_id) AS cid FROM customers
        WHERE email IS NOT NULL AND lower(trim(email)) IN
            (SELECT cust_email FROM {source} WHERE cust_id IS NULL)
        GROUP BY 1""")
    con.execute(f"""CREATE OR REPLACE TEMP TABLE inc AS
        SELECT s.* EXCLUDE (cust_id), coalesce(s.cust_id, m.cid, s.cust_email) AS customer_id
        FROM {source} s LEFT JOIN _by_email m ON s.cust_id IS NULL AND m.e = s.cust_email""")


def _merge_keyed(
    con: duckdb.DuckDBPyConnection, kind: str, upload_id: int, has_items: bool
) -> tuple[int, int]:
    """Insert rows whose key is new; returns (rows loaded, rows duplicate)."""
    key, cols = KEY[kind], COLUMNS[kind]
    con.execute(
        f"INSERT INTO {kind} ({cols}, upload_id, line) SELECT {cols}, {upload_id}, "
        f"line FROM inc i ANTI JOIN {kind} t ON i.{key} = t.{key}"
    )
    new = f"SELECT {key} FROM {kind} WHERE upload_id = {upload_id}"
    if not has_items:
        loaded, total = con.execute(
            f"SELECT (SELECT count(*) FROM {kind} WHERE upload_id = {upload_id}), "
            "(SELECT count(*) FROM inc)"
        ).fetchall()[0]
        return int(loaded), int(total - loaded)
    con.execute(f"""INSERT INTO order_items (order_id, line_no, sku, product, category,
            quantity, unit_price, line_total, upload_id)
        SELECT order_id, line_no, sku, product, category, quantity, unit_price, line_total,
            {upload_id} FROM in_stg_items SEMI JOIN ({new}) n USING (order_id)""")
    loaded, total = con.execute(
        f"SELECT (SELECT count(*) FROM in_stg_items SEMI JOIN ({new}) n USING (order_id)), "
        "(SELECT count(*) FROM in_stg_items)"
    ).fetchall()[0]
    return int(loaded), int(total - loaded)


def _merge_customers(con: duckdb.DuckDBPyConnection, upload_id: int) -> int:
    ids = "SELECT customer_id FROM inc"
    cust.snapshot_baselines(con, ids)
    cols = ", ".join(PERSON)
    con.execute(f"""INSERT INTO customer_records (upload_id, line, customer_id, {cols}, source)
        SELECT {upload_id}, line, customer_id, {cols}, source FROM inc""")
    consents = " UNION ALL ".join(
        f"SELECT customer_id, '{channel}', ({expr}), now(), source, {upload_id} FROM inc "
        f"WHERE ({expr}) IS NOT NULL"
        for channel, expr in (
            ("email", "email_consent"),
            ("sms", "sms_consent"),
            ("whatsapp", "whatsapp_consent"),
            ("email", "NOT email_opt_out"),
        )
    )
    con.execute(f"INSERT INTO consents {consents}")
    cust.rebuild(con, ids)
    return int(con.execute("SELECT count(*) FROM inc").fetchall()[0][0])


def merge(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    staged: dict[str, pa.Table],
    meta: dict[str, Any],
    rejects: list[tuple],
    progress: Callable[[str], None],
) -> MergeResult | dict[str, Any]:
    """Apply one upload in one transaction; returns the earlier upload if a duplicate file."""
    con.execute("SELECT 1").fetchall()  # finish any pending result before registering
    for name, table in staged.items():
        con.register(f"in_{name}", table)
    with store.transaction(con):
        earlier = find_applied(con, meta["sha256"], kind)
        if earlier:
            return earlier
        upload_id = int(con.execute("SELECT nextval('upload_seq')").fetchall()[0][0])
        _resolve(con, MAIN[kind])
        placeholders = 0
        if kind == "customers":
            loaded, duplicate = _merge_customers(con, upload_id), 0
        else:
            loaded, duplicate = _merge_keyed(con, kind, upload_id, "stg_items" in staged)
            placeholders = cust.add_placeholders(con, "inc", meta["source"])
        result = MergeResult(upload_id, loaded, duplicate, placeholders)
        _record(con, kind, result, meta, rejects)
        progress("merge")
    return result


def _record(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    result: MergeResult,
    meta: dict[str, Any],
    rejects: list[tuple],
) -> None:
    """The upload row, its rejected rows, the audit event and the data version."""
    report = meta["report"](result)
    con.execute(
        """INSERT INTO uploads (upload_id, kind, file_name, sha256, profile, encoding,
            delimiter, decimal_sep, date_format, uploaded_by, uploaded_at, rows_read,
            rows_loaded, rows_rejected, rows_duplicate, status, report)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, now(), ?, ?, ?, ?, 'applied', ?)""",
        [
            result.upload_id,
            kind,
            report["file_name"],
            report["sha256"],
            report["profile"],
            report["encoding"],
            report["delimiter"],
            json.dumps(report["decimal"]),
            json.dumps(report["date_formats"]),
            meta["actor"],
            report["rows_read"],
            report["rows_loaded"],
            report["rows_rejected"],
            report["rows_duplicate"],
            json.dumps(report, default=str, ensure_ascii=False),
        ],
    )
    _insert_rejects(con, result.upload_id, rejects)
    store.audit(
        con,
        meta["actor"],
        "ingest",
        target=f"upload:{result.upload_id}",
        rows=report["rows_loaded"],
        detail={"kind": kind, "file": report["file_name"], "sha256": report["sha256"]},
    )
    store.bump_data_version(con)


def _insert_rejects(con: duckdb.DuckDBPyConnection, upload_id: int, rejects: list[tuple]) -> None:
    """All rejected rows of the upload: (line, column, reason, raw text)."""
    if not rejects:
        return
    table = pa.table(
        {
            "upload_id": pa.array([upload_id] * len(rejects), pa.int32()),
            "line": pa.array([r[0] for r in rejects], pa.int64()),
            "column_name": pa.array([r[1] for r in rejects], pa.string()),
            "reason": pa.array([r[2] for r in rejects], pa.string()),
            "raw": pa.array([r[3] for r in rejects], pa.string()),
        }
    )
    con.register("_rejects", table)
    con.execute("INSERT INTO rejected_rows SELECT * FROM _rejects")
    con.unregister("_rejects")

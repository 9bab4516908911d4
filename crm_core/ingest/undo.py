"""Undoing a whole upload, and the upload history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from crm_core import store
from crm_core.ingest import customers as cust
from crm_core.ingest.report import IngestRefused

ROW_TABLES: tuple[str, ...] = (
    "orders",
    "order_items",
    "interactions",
    "feedback",
    "customer_records",
    "consents",
    "rejected_rows",
)


def undo_upload(
    upload_id: int, *, db: str | Path | None = None, actor: str = "cli"
) -> dict[str, Any]:
    """Remove every row an upload added, rebuild the customers it touched, mark it undone.

    One transaction. Returns the rows removed per table.
    """
    with store.connect(db) as con, store.transaction(con):
        found = con.execute(
            "SELECT status FROM uploads WHERE upload_id = ?", [upload_id]
        ).fetchall()
        if not found:
            raise IngestRefused("ingest.no_upload", upload_id=upload_id)
        if found[0][0] != "applied":
            raise IngestRefused("ingest.already_undone", upload_id=upload_id)
        u = int(upload_id)
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _lost AS
            SELECT DISTINCT customer_id FROM customer_records WHERE upload_id = {u}""")
        con.execute(f"""CREATE OR REPLACE TEMP TABLE _refs AS
            SELECT customer_id FROM orders WHERE upload_id = {u}
            UNION SELECT customer_id FROM interactions WHERE upload_id = {u}
            UNION SELECT customer_id FROM feedback WHERE upload_id = {u}""")
        removed = {}
        for table in ROW_TABLES:
            before = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
            con.execute(f"DELETE FROM {table} WHERE upload_id = {u}")
            removed[table] = int(
                before - con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
            )
        cust.rebuild(con, "SELECT customer_id FROM _lost")
        removed["customers"] = cust.settle_orphans(
            con, "SELECT customer_id FROM _lost", "SELECT customer_id FROM _refs"
        )
        con.execute(
            """UPDATE uploads SET status = 'undone', undone_at = now(), undone_by = ?
            WHERE upload_id = ?""",
            [actor, u],
        )
        store.audit(
            con,
            actor,
            "undo_upload",
            target=f"upload:{u}",
            rows=sum(removed.values()),
            detail=removed,
        )
        store.bump_data_version(con)
    return {"upload_id": u, "status": "undone", "removed": removed}


def upload_history(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every upload, newest first: who, when, what file, counts and status."""
    con.execute("SELECT 1").fetchall()  # finish any pending result before a relation query
    return con.sql(
        """SELECT upload_id, kind, file_name, profile, uploaded_by, uploaded_at, rows_read,
            rows_loaded, rows_rejected, rows_duplicate, status, undone_at, undone_by, sha256
        FROM uploads ORDER BY upload_id DESC"""
    ).pl()

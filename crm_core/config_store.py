"""Named, versioned configurations in the `configs` table (thresholds and rules as data).

Every save appends version n+1 of a (kind, name) and writes an audit event in
the same transaction; nothing is overwritten, so every earlier version can be
loaded and compared.
"""

from __future__ import annotations

from typing import Any

import duckdb
import polars as pl

from crm_core import store
from crm_core.summary import query_frame


def save_version(
    con: duckdb.DuckDBPyConnection,
    kind: str,
    name: str,
    body_json: str,
    actor: str,
    action: str,
    rows: int | None = None,
) -> int:
    """Append `body_json` as the next version of (kind, name); audited as `action`."""
    with store.transaction(con):
        version = int(
            store.scalar(
                con,
                "SELECT coalesce(max(version), 0) + 1 FROM configs WHERE kind = ? AND name = ?",
                [kind, name],
            )
        )
        con.execute(
            "INSERT INTO configs (kind, name, version, created_by, body) VALUES (?, ?, ?, ?, ?)",
            [kind, name, version, actor, body_json],
        )
        store.audit(con, actor, action, target=name, rows=rows, detail={"version": version})
    return version


def load_body(
    con: duckdb.DuckDBPyConnection, kind: str, name: str, version: int | None = None
) -> str | None:
    """The JSON body of (kind, name) at `version` (default: the latest); None if absent."""
    sql = "SELECT body FROM configs WHERE kind = ? AND name = ?"
    params: list[Any] = [kind, name]
    if version is not None:
        sql += " AND version = ?"
        params.append(version)
    rows = con.execute(sql + " ORDER BY version DESC LIMIT 1", params).fetchall()
    return rows[0][0] if rows else None


def list_versions(con: duckdb.DuckDBPyConnection, kind: str) -> pl.DataFrame:
    """Every saved version of `kind`: `name, version, created_at, created_by`, newest first."""
    return query_frame(
        con,
        "SELECT name, version, created_at, created_by FROM configs WHERE kind = $kind "
        "ORDER BY name, version DESC",
        {"kind": kind},
    )

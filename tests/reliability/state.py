"""A store's state as (row count, checksum) per table, to prove "nothing changed".

Checksums are order-free sums of DuckDB's row hashes, so they scale to the demo
stores (no Python loop over rows). Columns stamped with the time of the write
(`now()`) are left out: they differ between two runs that apply the same file,
and the fault tests compare against a reference run of the same upload.
`tests.ingest.conftest.snapshot` is the row-by-row version for small stores.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from crm_core import store
from crm_core.schema import DATA_TABLES

TABLES: tuple[str, ...] = (*DATA_TABLES, "audit_log", "configs")
WRITE_TIME_COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": ("updated_at",),
    "consents": ("recorded_at",),
    "uploads": ("uploaded_at", "undone_at", "report"),
    "audit_log": ("logged_at", "detail"),
    "configs": ("created_at",),
}

State = dict[str, tuple[int, int]]


def state_of(con: duckdb.DuckDBPyConnection) -> State:
    """(count, checksum) of every data table, the audit log and the saved configurations."""
    out: State = {}
    for table in TABLES:
        skip = WRITE_TIME_COLUMNS.get(table)
        cols = f"* EXCLUDE ({', '.join(skip)})" if skip else "*"
        count, checksum = con.execute(
            "SELECT count(*), coalesce(sum(hash(r)::HUGEINT), 0) "
            f"FROM (SELECT {cols} FROM {table}) r"
        ).fetchone()
        out[table] = (int(count), int(checksum))
    return out


def store_state(db: Path) -> State:
    """`state_of` the store at `db` (a short connection; waits for another writer)."""
    with store.connect(db) as con:
        return state_of(con)


def counts(state: State) -> dict[str, int]:
    return {table: count for table, (count, _) in state.items()}

"""The customer store: one embedded DuckDB file, its schema and transactions.

Concurrency model. DuckDB lets one *process* hold a database file open for
writing, and a read-write holder excludes every other process. Vínculo runs
the app and the command line as separate processes against one file, so every
unit of work opens a short-lived connection (`connect()`), does its work and
closes it; a process that finds the file locked retries with backoff for up to
`timeout_s` seconds, then raises `StoreBusyError`. Long jobs (ingesting ten
million rows) parse and validate in a private staging database and hold the
store's lock only for the final merge. Inside one process, DuckDB shares one
database instance between connections, and each thread uses its own
connection (a Python connection is not thread-safe).

The path comes from, in order: the `path` argument (`--db`), the `CRM_DB`
environment variable, then `data/crm.duckdb` beside the package.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from crm_core import access
from crm_core.errors import SchemaError, StoreBusyError, VinculoError
from crm_core.schema import DATA_TABLES, LATEST_VERSION, MIGRATIONS

DEFAULT_DB = Path(__file__).resolve().parent.parent / "data" / "crm.duckdb"
DEFAULT_TZ = "America/Sao_Paulo"
_LOCK_MARKERS = ("Could not set lock", "Conflicting lock")


def db_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The store's file: `path`, else `$CRM_DB`, else `data/crm.duckdb`."""
    chosen = path or os.environ.get("CRM_DB") or DEFAULT_DB
    return Path(chosen).expanduser().resolve()


def business_tz() -> str:
    """IANA time zone in which calendar days are counted (`$CRM_TZ`)."""
    return os.environ.get("CRM_TZ", DEFAULT_TZ)


def scalar(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None) -> Any:
    """The first column of the first row of `sql` (None when no row).

    Reads the whole result (`fetchall`): DuckDB 2 refuses `con.sql()` and
    `con.register()` while an earlier result is only partly fetched.
    """
    rows = con.execute(sql, params or []).fetchall()
    return rows[0][0] if rows else None


def _open(path: Path, timeout_s: float) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + timeout_s
    delay = 0.02
    while True:
        try:
            return duckdb.connect(str(path))
        except duckdb.ResourceInUseException as exc:
            # Threads of one process opening and closing the same file at the same moment
            # can collide in DuckDB's instance cache ("Unique file handle conflict"); it is
            # transient, so it is retried like another process's lock.
            if time.monotonic() >= deadline:
                raise StoreBusyError("store.busy", path=str(path), seconds=timeout_s) from exc
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 0.5)
        except duckdb.IOException as exc:
            if not any(marker in str(exc) for marker in _LOCK_MARKERS):
                raise VinculoError("store.not_a_store", path=str(path), detail=str(exc)) from exc
            if time.monotonic() >= deadline:
                raise StoreBusyError("store.busy", path=str(path), seconds=timeout_s) from exc
            time.sleep(delay * (0.5 + random.random()))
            delay = min(delay * 2, 0.5)


@contextmanager
def connect(
    path: str | os.PathLike[str] | None = None,
    *,
    timeout_s: float = 60.0,
    migrate_schema: bool = True,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived connection to the store, migrated to the latest schema.

    Waits up to `timeout_s` seconds for another process's lock, then raises
    `StoreBusyError`. The connection's `TimeZone` is the business time zone.
    """
    file = db_path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    con = _open(file, timeout_s)
    try:
        con.execute(f"SET TimeZone = '{business_tz()}'")
        if migrate_schema:
            migrate(con, file)
        yield con
    finally:
        con.close()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All-or-nothing: commit when the block ends, roll back if it raises."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """The store's schema version; 0 for an empty file."""
    has_meta = scalar(
        con, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'"
    )
    if not has_meta:
        return 0
    value = scalar(con, "SELECT value FROM meta WHERE key = 'schema_version'")
    return int(value) if value is not None else 0


def migrate(con: duckdb.DuckDBPyConnection, file: Path | None = None) -> int:
    """Apply every migration above the store's version; idempotent. Returns the version."""
    current = schema_version(con)
    if current > LATEST_VERSION:
        raise SchemaError("store.newer_schema", path=str(file), found=current, known=LATEST_VERSION)
    for version, statements in MIGRATIONS:
        if version <= current:
            continue
        with transaction(con):
            for sql in statements:
                con.execute(sql)
            _set_meta(con, "schema_version", str(version))
            if version == 1:
                con.execute("INSERT INTO meta VALUES ('data_version', '0') ON CONFLICT DO NOTHING")
    return max(current, LATEST_VERSION)


def _set_meta(con: duckdb.DuckDBPyConnection, key: str, value: str) -> None:
    con.execute(
        "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )


def data_version(con: duckdb.DuckDBPyConnection) -> int:
    """A counter bumped by every write; caches key on it so a write invalidates them."""
    value = scalar(con, "SELECT value FROM meta WHERE key = 'data_version'")
    return int(value) if value is not None else 0


def config_version(con: duckdb.DuckDBPyConnection) -> str:
    """A fingerprint of the saved configurations (thresholds, rules, settings, assessments).

    Saving a configuration does not change the data, so it leaves `data_version` (and the
    heavy caches keyed on it) alone; caches of *which configuration is active* key on this.
    """
    count, latest = con.execute("SELECT count(*), max(created_at) FROM configs").fetchone()
    return f"{count}:{latest}"


def bump_data_version(con: duckdb.DuckDBPyConnection) -> int:
    """Mark the data as changed; call inside the writing transaction."""
    new = data_version(con) + 1
    _set_meta(con, "data_version", str(new))
    return new


def audit(
    con: duckdb.DuckDBPyConnection,
    actor: str,
    action: str,
    target: str | None = None,
    rows: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """Append one event to the audit log (who, what, on what, how many rows).

    First checks that `actor` may perform `action` (`access.check`): every write
    is audited inside its own transaction, so a refusal here rolls the write back.
    """
    access.check(actor, action)
    con.execute(
        "INSERT INTO audit_log (actor, action, target, rows, detail) VALUES (?, ?, ?, ?, ?)",
        [actor, action, target, rows, json.dumps(detail or {}, default=str)],
    )


def table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Row count of every data table."""
    return {table: int(scalar(con, f"SELECT count(*) FROM {table}")) for table in DATA_TABLES}


def is_empty(con: duckdb.DuckDBPyConnection) -> bool:
    """True when the store holds no customers and no orders."""
    return not scalar(
        con, "SELECT (SELECT count(*) FROM customers) + (SELECT count(*) FROM orders)"
    )


def store_summary(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Counts per table; for orders also customers and net revenue (BRL, 2 decimals)."""
    counts = table_counts(con)
    orders = con.execute(
        "SELECT count(*), count(DISTINCT customer_id), coalesce(sum(net_amount), 0) "
        "FROM order_facts"
    ).fetchall()[0]
    return {
        "schema_version": schema_version(con),
        "data_version": data_version(con),
        "tables": counts,
        "orders": {
            "orders": int(orders[0]),
            "customers": int(orders[1]),
            "net_revenue": float(orders[2]),
        },
    }

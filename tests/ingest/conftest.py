"""Builders for ingestion tests: files from text, store snapshots."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from crm_core import store
from crm_core.schema import DATA_TABLES

DATA = Path(__file__).resolve().parent.parent / "data" / "ingest"


def write(folder: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    """A file `name` in `folder` holding `text` in `encoding` (newlines as written)."""
    path = folder / name
    path.write_bytes(text.encode(encoding))
    return path


def snapshot(db: Path) -> dict[str, list[tuple]]:
    """Every data table's rows, sorted (uploads excluded: it records history by design;
    customers without `updated_at`, the time of the last rebuild)."""
    with store.connect(db) as con:
        return _snapshot(con)


def _snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    out = {}
    for table in DATA_TABLES:
        if table == "uploads":
            continue
        cols = "* EXCLUDE (updated_at)" if table == "customers" else "*"
        out[table] = sorted(con.execute(f"SELECT {cols} FROM {table}").fetchall(), key=repr)
    return out


def query(db: Path, sql: str) -> list[tuple]:
    with store.connect(db) as con:
        return con.execute(sql).fetchall()


@pytest.fixture
def data_dir() -> Path:
    return DATA

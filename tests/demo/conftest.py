"""A small demo store and world, built once for the demo tests."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import pytest

from crm_core import store
from crm_core.demo import build_demo
from crm_core.demo.tables import DemoWorld, simulate

AS_OF = date(2026, 6, 30)
SIZE = 6_000
SEED = 7


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """Path of a store filled with the demo, and `build_demo`'s result."""
    path = tmp_path_factory.mktemp("demo") / "crm.duckdb"
    result = build_demo(path, customers=SIZE, seed=SEED, as_of=AS_OF)
    return path, result


@pytest.fixture
def demo_con(demo_db: tuple[Path, dict]):
    with store.connect(demo_db[0]) as con:
        yield con


@pytest.fixture(scope="session")
def world() -> DemoWorld:
    """The simulated world behind a demo (with its hidden truth)."""
    return simulate(20_000, SEED, AS_OF)


def scalar(con: duckdb.DuckDBPyConnection, sql: str):
    row = con.execute(sql).fetchone()
    assert row is not None
    return row[0]

"""Shared fixtures: a fresh store per test, built in a temporary folder."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from crm_core import store

# The app's background cache warm-up (ui/warmup.py) would compete with the tests for the
# two CPU cores; tests that cover it call it directly.
os.environ.setdefault("VINCULO_WARMUP", "0")
# Never read or write a real accounts file (~/.config/vinculo/auth.yaml): a user there named
# like a test actor would change which writes the tests may make. Page tests set their own.
os.environ["VINCULO_AUTH_FILE"] = str(Path(tempfile.mkdtemp(prefix="vinculo-auth-")) / "auth.yaml")


@pytest.fixture
def db_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Path of an initialised, empty store; also exported as $CRM_DB."""
    path = tmp_path / "crm.duckdb"
    monkeypatch.setenv("CRM_DB", str(path))
    with store.connect(path):
        pass
    return path


@pytest.fixture
def con(db_path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the fresh store, closed after the test."""
    with store.connect(db_path) as connection:
        yield connection

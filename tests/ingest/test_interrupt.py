"""A killed upload leaves the store exactly as before; parsing does not hold the lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crm_core import store
from crm_core.ingest import ingest_file
from tests.ingest.conftest import query, snapshot, write

ROOT = Path(__file__).resolve().parents[2]
CHILD = """
import pathlib, sys, time
from crm_core.ingest import ingest_file
file, kind, db, pause_at, folder = sys.argv[1:]
folder = pathlib.Path(folder)
def progress(fraction, stage):
    if stage == pause_at:
        (folder / "paused").write_text(stage)
        deadline = time.time() + 60
        while not (folder / "go").exists() and time.time() < deadline:
            time.sleep(0.02)
report = ingest_file(file, kind, db=db, progress=progress)
(folder / "done").write_text(str(report.rows_loaded))
"""


def big_orders(folder: Path, rows: int) -> Path:
    """An orders CSV of `rows` rows, built with numpy (no Python loop over rows)."""
    import numpy as np
    import polars as pl

    index = np.arange(rows)
    frame = pl.DataFrame(
        {
            "order_id": [f"K{i}" for i in index],
            "customer_id": [f"C{i % 5000:07d}" for i in index],
            "ordered_at": "2024-01-02 10:00:00",
            "gross_amount": (index % 997 + 0.5).round(2),
        }
    )
    path = folder / "big.csv"
    frame.write_csv(path)
    return path


def start_child(file: Path, db: Path, pause_at: str, folder: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(file), "orders", str(db), pause_at, str(folder)],
        env=env,
        cwd=ROOT,
    )


def wait_for(path: Path, child: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.time() + seconds
    while not path.exists():
        assert child.poll() is None, "child ended before reaching the pause"
        assert time.time() < deadline, "child never reached the pause"
        time.sleep(0.02)


def seed(tmp_path: Path, db_path: Path) -> None:
    text = "order_id,customer_id,ordered_at,gross_amount\nS1,C0000001,2024-01-02,10\n"
    ingest_file(write(tmp_path, "seed.csv", text), "orders", db=db_path)


@pytest.mark.slow
@pytest.mark.parametrize("pause_at", ["merge", "merge_start", "validate"])
def test_sigkill_leaves_store_unchanged(tmp_path: Path, db_path: Path, pause_at: str) -> None:
    seed(tmp_path, db_path)
    before = snapshot(db_path)
    uploads = query(db_path, "SELECT * FROM uploads")
    file = big_orders(tmp_path, 100_000)
    child = start_child(file, db_path, pause_at, tmp_path)
    wait_for(tmp_path / "paused", child)
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    assert snapshot(db_path) == before
    assert query(db_path, "SELECT * FROM uploads") == uploads
    # the store is healthy: the same file loads in full afterwards
    report = ingest_file(file, "orders", db=db_path)
    assert report.rows_loaded == 100_000
    assert query(db_path, "SELECT count(*) FROM orders")[0][0] == 100_001


@pytest.mark.slow
def test_store_usable_while_a_big_file_is_parsed(tmp_path: Path, db_path: Path) -> None:
    file = big_orders(tmp_path, 100_000)
    child = start_child(file, db_path, "validate", tmp_path)
    wait_for(tmp_path / "paused", child)
    # parsed and validated, not merged: another process can open the store and write
    with store.connect(db_path, timeout_s=2) as con:
        store.audit(con, "other", "probe")
        assert store.table_counts(con)["orders"] == 0
    (tmp_path / "go").write_text("go")
    assert child.wait(timeout=120) == 0
    assert (tmp_path / "done").read_text() == "100000"
    assert query(db_path, "SELECT count(*) FROM orders")[0][0] == 100_000

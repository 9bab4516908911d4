"""Fault injection: writers killed with SIGKILL at random moments leave a consistent store.

`tests/ingest/test_interrupt.py` kills an upload at chosen stages (paused there
on purpose). Here the real command line (`python -m crm_core ingest`) runs
untouched and is killed after a random delay drawn, per seed, across its whole
run — start-up, parsing, validation, the merge and its commit. Afterwards the
store must equal, table by table (counts and checksums, `state.py`), either the
state before the upload or the state a complete reference run of the same
command produced — never anything in between — and it must open and take the
same upload again. A loop of threshold saves (`segment_store.save_config`, one
transaction each) is killed the same way: what is left is exactly the first k
saves of a complete run, each with its audit event.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from crm_core import store
from crm_core.ingest import ingest_file
from crm_core.segment_config import SegmentConfig
from tests.ingest.conftest import write
from tests.ingest.test_interrupt import big_orders
from tests.reliability.state import State, store_state

ROOT = Path(__file__).resolve().parents[2]
ROWS = 200_000
SEEDS = range(8)
pytestmark = pytest.mark.slow


def _env(folder: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "VINCULO_AUTH_FILE": str(folder / "auth.yaml"),  # never the real accounts file
    }


def _ingest_cmd(file: Path, db: Path) -> list[str]:
    return [sys.executable, "-m", "crm_core", "ingest", "orders", str(file), "--db", str(db)]


@pytest.fixture(scope="module")
def upload(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A seeded store, a 200,000-row orders file, and a complete reference run's result."""
    folder = tmp_path_factory.mktemp("faults")
    seeded = folder / "seeded.duckdb"
    seed = "order_id,customer_id,ordered_at,gross_amount\nS1,C0000001,2024-01-02,10\n"
    ingest_file(write(folder, "seed.csv", seed), "orders", db=seeded, actor="cli")
    file = big_orders(folder, ROWS)
    reference = folder / "reference.duckdb"
    shutil.copy(seeded, reference)
    started = time.monotonic()
    subprocess.run(_ingest_cmd(file, reference), env=_env(folder), cwd=ROOT, check=True,
                   capture_output=True, timeout=300)  # fmt: skip
    return {
        "seeded": seeded,
        "file": file,
        "before": store_state(seeded),
        "after": store_state(reference),
        "seconds": time.monotonic() - started,
    }


def _kill_after(cmd: list[str], env: dict[str, str], delay: float) -> int | None:
    """Run `cmd`, SIGKILL it after `delay` seconds (unless it ended); its exit code."""
    child = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        child.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    return child.returncode


@pytest.mark.parametrize("seed", SEEDS)
def test_upload_killed_at_a_random_moment(upload: dict, tmp_path: Path, seed: int) -> None:
    db = tmp_path / "crm.duckdb"
    shutil.copy(upload["seeded"], db)
    assert upload["before"] != upload["after"]
    delay = random.Random(seed).uniform(0.15, 1.05) * upload["seconds"]
    code = _kill_after(_ingest_cmd(upload["file"], db), _env(tmp_path), delay)
    state: State = store_state(db)  # the next open works (and replays or drops the WAL)
    print(f"seed {seed}: killed after {delay:.2f} of {upload['seconds']:.2f} s, exit {code},"
          f" store {'after' if state == upload['after'] else 'before'}")  # fmt: skip
    assert state in (upload["before"], upload["after"]), f"torn store after {delay:.2f} s"
    if code == 0:
        assert state == upload["after"]
    # the store takes the same upload again and ends exactly where a clean run ends
    report = ingest_file(upload["file"], "orders", db=db, actor="cli")
    assert report.duplicate_file == (state == upload["after"])
    assert store_state(db) == upload["after"]


SAVER = """
import pathlib, sys
from dataclasses import replace
from crm_core import store
from crm_core.segment_config import default_config
from crm_core.segment_store import save_config
base = replace(default_config(), name="kill test")
with store.connect(sys.argv[1]) as con:
    pathlib.Path(sys.argv[1] + ".started").touch()
    for i in range(int(sys.argv[2])):
        save_config(con, replace(base, churn_window_days=100 + i), "cli")
"""


def _saved(db: Path) -> tuple[list[tuple[int, int]], int]:
    """(version, churn window) of every saved "kill test" version, and its audit events."""
    with store.connect(db) as con:
        rows = con.execute(
            "SELECT version, body FROM configs WHERE name = 'kill test' ORDER BY version"
        ).fetchall()
        audited = store.scalar(
            con,
            "SELECT count(*) FROM audit_log WHERE action = 'segments.config_saved' "
            "AND target = 'kill test'",
        )
    windows = [(v, SegmentConfig.from_json(body).churn_window_days) for v, body in rows]
    return windows, int(audited)


@pytest.mark.parametrize("seed", range(3))
def test_threshold_saves_killed_at_a_random_moment(tmp_path: Path, seed: int) -> None:
    db = tmp_path / "crm.duckdb"
    with store.connect(db):
        pass
    started = Path(f"{db}.started")
    child = subprocess.Popen([sys.executable, "-c", SAVER, str(db), "1000000"], env=_env(tmp_path),
                             cwd=ROOT)  # fmt: skip
    deadline = time.monotonic() + 120
    while not started.exists():
        assert child.poll() is None and time.monotonic() < deadline, "the saver never started"
        time.sleep(0.01)
    time.sleep(random.Random(100 + seed).uniform(0.05, 1.5))  # mid-way through the saves
    os.kill(child.pid, signal.SIGKILL)
    assert child.wait(timeout=30) == -signal.SIGKILL
    windows, audited = _saved(db)
    k = len(windows)
    # exactly the first k saves, each complete with its audit event
    assert windows == [(v, 100 + v - 1) for v in range(1, k + 1)]
    assert audited == k
    # the store opens and the next save gets the next version
    subprocess.run([sys.executable, "-c", SAVER, str(db), "1"], env=_env(tmp_path), cwd=ROOT,
                   check=True, timeout=120)  # fmt: skip
    assert _saved(db)[1] == k + 1

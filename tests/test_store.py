"""The store: migrations, transactions, lock retry, data version."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from crm_core import store
from crm_core.errors import StoreBusyError
from crm_core.schema import LATEST_VERSION


def test_migrate_is_idempotent(db_path: Path) -> None:
    with store.connect(db_path) as con:
        assert store.schema_version(con) == LATEST_VERSION
        assert store.migrate(con) == LATEST_VERSION
        assert store.table_counts(con)["orders"] == 0


def test_transaction_rolls_back_on_error(con) -> None:
    with pytest.raises(RuntimeError), store.transaction(con):
        con.execute("INSERT INTO audit_log (actor, action) VALUES ('t', 'x')")
        raise RuntimeError("boom")
    assert con.execute("SELECT count(*) FROM audit_log").fetchone()[0] == 0


def test_data_version_bumps(con) -> None:
    before = store.data_version(con)
    with store.transaction(con):
        store.bump_data_version(con)
    assert store.data_version(con) == before + 1


def test_net_revenue_excludes_cancelled_and_refunds(con) -> None:
    con.execute(
        """INSERT INTO orders (order_id, customer_id, ordered_at, gross_amount,
                               refunded_amount, status) VALUES
           ('1', 'a', '2024-01-01', 100.00, 0, 'completed'),
           ('2', 'a', '2024-01-02', 50.00, 20.00, 'partially_refunded'),
           ('3', 'a', '2024-01-03', 70.00, 70.00, 'refunded'),
           ('4', 'a', '2024-01-04', 80.00, 0, 'cancelled')"""
    )
    summary = store.store_summary(con)
    assert summary["orders"]["net_revenue"] == pytest.approx(130.00)
    assert con.execute("SELECT count(*) FROM order_facts WHERE is_purchase").fetchone()[0] == 2


def test_other_process_waits_for_the_lock(db_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
            "print('locked', flush=True); time.sleep(1.5); c.close()",
            str(db_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    started = time.monotonic()
    with store.connect(db_path, timeout_s=20) as con:
        assert store.schema_version(con) == LATEST_VERSION
    assert time.monotonic() - started > 0.5  # it really waited for the other process
    holder.wait(timeout=10)


def test_busy_store_raises_a_user_error(db_path: Path) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
            "print('locked', flush=True); time.sleep(3); c.close()",
            str(db_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    with pytest.raises(StoreBusyError) as info, store.connect(db_path, timeout_s=0.3):
        pass
    assert "ocupada" in info.value.message("pt_BR")
    holder.wait(timeout=10)


def test_config_version_changes_with_a_saved_configuration_not_the_data_version(con) -> None:
    from crm_core.config_store import save_version

    before, data_before = store.config_version(con), store.data_version(con)
    save_version(con, "segments", "x", "{}", "ana", "segments.config_saved")
    assert store.config_version(con) != before
    assert store.data_version(con) == data_before

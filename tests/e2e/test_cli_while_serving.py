"""The command line and the app share one store: both keep working at the same time."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from crm_core.demo import build_demo
from tests.e2e.server import ROOT, free_port, login, start_server, stop, wait_for_app, wait_healthy

pytestmark = pytest.mark.e2e


def _cli(db: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crm_core", *argv, "--db", str(db), "--json"],
        capture_output=True, text=True, cwd=ROOT, timeout=180,
    )  # fmt: skip


def test_ingest_while_the_app_serves(tmp_path: Path, page) -> None:
    db = tmp_path / "shared.duckdb"
    build_demo(db, customers=2000, seed=11, as_of=date(2026, 6, 30))
    port = free_port()
    server = start_server(db, port)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, server)
        page.goto(f"{url}/store?lang=en")
        login(page, "manager")
        before = json.loads(_cli(db, "summary").stdout)["tables"]["orders"]
        page.get_by_text(f"{before:,}", exact=True).first.wait_for()

        result = _cli(db, "ingest", "orders", str(ROOT / "data/samples/planilha_vendas.csv"))
        assert result.returncode == 0, result.stderr
        loaded = json.loads(result.stdout)["rows_loaded"]
        assert loaded == 6

        page.reload()  # the app keeps serving and sees the new data version (still signed in)
        wait_for_app(page)
        page.get_by_text(f"{before + loaded:,}", exact=True).first.wait_for()
    finally:
        stop(server)

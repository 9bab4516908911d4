"""The README's first command, for real: `make run` on a fresh store serves demo data."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.server import ROOT, free_port, screenshot, stop, wait_for_app, wait_healthy

pytestmark = pytest.mark.e2e


def test_make_run_serves_the_demo_store(tmp_path: Path, page) -> None:
    db = tmp_path / "first.duckdb"
    port = free_port()
    env = {**os.environ, "CRM_DB": str(db), "PORT": str(port), "DEMO_CUSTOMERS": "3000"}
    proc = subprocess.Popen(
        ["make", "run", f"PORT={port}", f"PY={sys.executable}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, proc, timeout_s=300)
        summary = json.loads(
            subprocess.run(
                [sys.executable, "-m", "crm_core", "summary", "--db", str(db), "--json"],
                check=True, capture_output=True, text=True, cwd=ROOT, timeout=120,
            ).stdout
        )  # fmt: skip
        customers = summary["tables"]["customers"]
        assert customers >= 3000  # the demo filled the empty store

        page.goto(f"{url}/store?lang=en")
        wait_for_app(page)
        page.get_by_text("Customer store").first.wait_for()
        shown = f"{customers:,}"
        page.get_by_text(shown, exact=True).first.wait_for()
        page.locator('[data-testid="stDataFrame"]').first.wait_for()
        page.wait_for_timeout(1000)
        screenshot(page, "store-en")
    finally:
        stop(proc)

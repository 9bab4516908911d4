"""The README's first command, for real: `make run` on a fresh store serves demo data.

On a fresh installation `make run` creates the `admin` account and prints its
random password once; the test reads it there and signs in with it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.e2e.server import (
    ROOT,
    free_port,
    login,
    screenshot,
    stop,
    wait_healthy,
)

pytestmark = pytest.mark.e2e
PASSWORD_LINE = re.compile(r"User: admin\s+Password: (\S+)")


def _collect(proc: subprocess.Popen[bytes], lines: list[str]) -> None:
    """Keep reading the server's output (so its pipe never fills) into `lines`."""
    assert proc.stdout is not None
    for raw in proc.stdout:
        lines.append(raw.decode(errors="replace"))


def _admin_password(lines: list[str], timeout_s: float = 300) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = [m.group(1) for line in list(lines) if (m := PASSWORD_LINE.search(line))]
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError("make run printed no admin password:\n" + "".join(lines)[-3000:])


def test_make_run_serves_the_demo_store(tmp_path: Path, page) -> None:
    db = tmp_path / "first.duckdb"
    auth = tmp_path / "config" / "auth.yaml"  # a fresh installation: no account yet
    port = free_port()
    env = {**os.environ, "CRM_DB": str(db), "VINCULO_AUTH_FILE": str(auth), "PORT": str(port),
           "DEMO_CUSTOMERS": "3000"}  # fmt: skip
    proc = subprocess.Popen(
        ["make", "run", f"PORT={port}", f"PY={sys.executable}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    lines: list[str] = []
    threading.Thread(target=_collect, args=(proc, lines), daemon=True).start()
    try:
        password = _admin_password(lines)
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, proc, timeout_s=300)
        assert sum(password in line for line in lines) == 1  # printed once, never again
        summary = json.loads(
            subprocess.run(
                [sys.executable, "-m", "crm_core", "summary", "--db", str(db), "--json"],
                check=True, capture_output=True, text=True, cwd=ROOT, timeout=120,
            ).stdout
        )  # fmt: skip
        customers = summary["tables"]["customers"]
        assert customers >= 3000  # the demo filled the empty store

        page.goto(f"{url}/store?lang=en")
        login(page, "admin", password)
        page.get_by_text("Customer store").first.wait_for()
        shown = f"{customers:,}"
        page.get_by_text(shown, exact=True).first.wait_for()
        page.locator('[data-testid="stDataFrame"]').first.wait_for()
        page.wait_for_timeout(1000)
        screenshot(page, "store-en")
    finally:
        stop(proc)

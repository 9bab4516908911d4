"""End-to-end helpers: start a real Streamlit server, wait for it, take screenshots.

Playwright drives `/usr/bin/chromium` (installed by `make test`; Playwright's
own browser download cannot work here). Screenshots go to
`artifacts/screenshots/`, which CI keeps.

Every server gets its own accounts file (`$VINCULO_AUTH_FILE`, next to the
store) with one user per role, named after it, password `E2E_PASSWORDS[role]`;
tests sign in through the real login form with `login(page, user)`.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page

from crm_core import users

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]

E2E_PASSWORDS = {role: f"{role}-e2e-pass" for role in users.ROLES}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 120) -> None:
    """Poll `/_stcore/health` until it answers ok; fail with the server's output if not."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            raise AssertionError(f"server exited with {proc.returncode}:\n{out[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.read().decode().strip() == "ok":
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"{url} not healthy after {timeout_s} s")


def make_auth_file(path: Path) -> Path:
    """An accounts file with one user per role (name = role, password E2E_PASSWORDS[role])."""
    if not path.exists():
        for role, password in E2E_PASSWORDS.items():
            users.add_user(role, password, role, name=f"E2E {role}", path=path)
    return path


def start_server(db: Path, port: int, extra_env: dict[str, str] | None = None):
    """Serve `app.py` on `port` over the store `db`, with the accounts of `make_auth_file`."""
    auth = make_auth_file(db.parent / "auth.yaml")
    env = {**os.environ, "CRM_DB": str(db), "VINCULO_AUTH_FILE": str(auth), **(extra_env or {})}
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"),
        "--server.port", str(port), "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a server started in its own session, children included (make → streamlit)."""
    for sig, wait_s in ((signal.SIGTERM, 15), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot under artifacts/screenshots/ and return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def wait_for_app(page: Page) -> None:
    """Wait until Streamlit has finished the current run (no running indicator)."""
    page.wait_for_selector('[data-testid="stApp"]')
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " || !document.querySelector('[data-testid=\"stStatusWidget\"]').innerText"
        ".match(/Running|Executando/)"
    )
    page.wait_for_timeout(300)


def login(page: Page, user: str = "admin", password: str | None = None) -> None:
    """Sign in through the app's login form (any language) and wait for the app to run."""
    wait_for_app(page)
    form = page.locator('[data-testid="stForm"]')
    form.locator('input[type="text"]').fill(user)
    form.locator('input[type="password"]').fill(password or E2E_PASSWORDS[user])
    form.locator('[data-testid="stFormSubmitButton"] button').click()
    page.locator('input[type="password"]').wait_for(state="detached")
    wait_for_app(page)

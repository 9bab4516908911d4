"""A page opened by its URL on a fresh server runs through app.py (login, language, filters)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from crm_core.demo import build_demo
from tests.e2e.server import (
    free_port,
    login,
    screenshot,
    start_server,
    stop,
    wait_for_app,
    wait_healthy,
)

pytestmark = pytest.mark.e2e


def test_direct_url_is_routed_through_the_app(tmp_path: Path, page) -> None:
    db = tmp_path / "direct.duckdb"
    build_demo(db, customers=1500, seed=5, as_of=date(2026, 6, 30))
    port = free_port()
    server = start_server(db, port)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, server)
        page.goto(f"{url}/loyalty?lang=pt_BR")  # first request of this server process
        wait_for_app(page)
        page.get_by_role("heading", name="Entrar no Vínculo").wait_for()  # sign in first …
        login(page, "manager")
        page.get_by_role(
            "heading", name="Fidelidade e churn"
        ).wait_for()  # … then the page asked for
        page.get_by_text("Filtros").first.wait_for()  # the sidebar drawn by app.py
        screenshot(page, "loyalty-direct-pt")
    finally:
        stop(server)

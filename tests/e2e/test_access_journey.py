"""Signing in and out in a real browser: the session cookie, its revocation, a refused page.

Closes streamlit-authenticator #91/#203 for us: after a logout, neither a reload
nor the old cookie put back by hand signs the user in again.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Page

from crm_core import sessions
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


def _login_form_shown(page: Page) -> None:
    page.get_by_role("heading", name="Sign in to Vínculo").wait_for()
    page.locator('input[type="password"]').wait_for()


def test_sign_in_reload_refusal_sign_out(tmp_path: Path, page: Page) -> None:
    db = tmp_path / "access.duckdb"
    build_demo(db, customers=1500, seed=5, as_of=date(2026, 6, 30))
    port = free_port()
    server = start_server(db, port)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, server)
        page.goto(f"{url}/store?lang=en")
        wait_for_app(page)
        _login_form_shown(page)
        assert page.locator('[data-testid="stSidebarNav"]').count() == 0  # no menu before login
        screenshot(page, "login-en")

        form = page.locator('[data-testid="stForm"]')
        form.locator('input[type="text"]').fill("manager")
        form.locator('input[type="password"]').fill("wrong-password")
        form.locator('[data-testid="stFormSubmitButton"] button').click()
        page.get_by_text("Wrong user name or password").wait_for()

        login(page, "manager")
        page.get_by_role("heading", name="Customer store").wait_for()  # the page asked for
        cookie = [c for c in page.context.cookies() if c["name"].startswith("vinculo_session")]
        assert len(cookie) == 1 and cookie[0]["sameSite"] == "Strict"

        page.reload()  # a new Streamlit session: the cookie's token is checked, still valid
        wait_for_app(page)
        page.get_by_role("heading", name="Customer store").wait_for()
        assert sessions.check(cookie[0]["value"], db.parent / "auth.yaml")[1] == "ok"

        page.goto(f"{url}/upload?lang=en")  # not a manager's page, even by its URL
        wait_for_app(page)
        page.get_by_role("heading", name="No access to this page").wait_for()
        assert page.locator('[data-testid="stFileUploader"]').count() == 0
        screenshot(page, "upload-refused-manager")

        page.locator('[data-testid="stSidebar"] button').filter(has_text="Sign out").click()
        wait_for_app(page)
        _login_form_shown(page)
        page.wait_for_timeout(500)
        assert not [c for c in page.context.cookies() if c["name"] == cookie[0]["name"]]
        page.reload()
        wait_for_app(page)
        _login_form_shown(page)

        page.context.add_cookies(cookie)  # the old cookie, kept by hand (or stolen)
        page.reload()
        wait_for_app(page)
        _login_form_shown(page)  # refused: the server revoked its token at logout
        page.get_by_text("Your session has ended").wait_for()
        assert sessions.check(cookie[0]["value"], db.parent / "auth.yaml") == (None, "revoked")
    finally:
        stop(server)

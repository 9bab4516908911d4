"""A manager's Monday in a real browser: dashboard, language, a filter, every page.

The numbers on the cards must equal crm_core's for the same filters, and the
language and filters must survive navigation clicks.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Page

from crm_core import store
from crm_core.demo import build_demo
from crm_core.i18n.format import format_number
from crm_core.kpis import kpi_table, last_order_date
from crm_core.period import Period
from crm_core.segment_config import default_config
from crm_core.summary import customer_summary
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


def _card(page: Page, label: str) -> str:
    card = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return card.locator('[data-testid="stMetricValue"]').inner_text().strip()


def _pick(page: Page, label: str, option: str) -> None:
    box = page.get_by_role("combobox", name=label, exact=True)
    box.click()
    choice = page.get_by_role("option", name=option, exact=True)
    if not choice.is_visible():
        box.press("ArrowDown")
    choice.click()
    wait_for_app(page)


def _expected_active(db: Path, channel: str | None) -> int:
    with store.connect(db) as con:
        as_of = last_order_date(con)
        assert as_of is not None
        subset = None
        if channel:
            summary = customer_summary(con, as_of, window_days=default_config().window_days)
            subset = summary.filter(summary["main_channel"] == channel).select("customer_id")
        table = kpi_table(con, Period.ending(as_of, 30), customers=subset)
    return int(table.filter(table["kpi"] == "active_customers")["value"][0])


def test_dashboard_language_filter_and_navigation(tmp_path: Path, page: Page) -> None:
    db = tmp_path / "journey.duckdb"
    build_demo(db, customers=2500, seed=21, as_of=date(2026, 6, 30))
    port = free_port()
    server = start_server(db, port)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, server)
        page.goto(f"{url}/?lang=en")
        login(page, "manager")
        page.get_by_role("heading", name="KPI dashboard").wait_for()
        page.locator('[data-testid="stMetric"]').first.wait_for()
        assert _card(page, "Active customers") == format_number(_expected_active(db, None), "en")
        screenshot(page, "overview-en")

        _pick(page, "Language", "Português (BR)")
        page.get_by_role("heading", name="Painel de KPIs").wait_for()
        assert "lang=pt_BR" in page.url

        _pick(page, "Canal de venda principal", "app")
        page.wait_for_function("() => location.search.includes('channel=app')")
        wait_for_app(page)
        expected = format_number(_expected_active(db, "app"), "pt_BR")
        page.locator('[data-testid="stMetric"]').filter(has_text="Clientes ativos").first.locator(
            '[data-testid="stMetricValue"]'
        ).filter(has_text=expected).wait_for()
        assert expected != format_number(_expected_active(db, None), "pt_BR")
        screenshot(page, "overview-pt-app")

        nav = page.locator('[data-testid="stSidebarNav"]')
        more = page.locator('[data-testid="stSidebarNavViewButton"]')
        if more.count() and "less" not in more.first.inner_text().lower():
            more.first.click()  # unfold the whole menu
        nav.get_by_text("Base de clientes", exact=True).wait_for()
        assert nav.get_by_text("Importar dados", exact=True).count() == 0  # a manager never uploads
        for title, shot in (
            ("Funil do ciclo de vida", "lifecycle"),
            ("Modelos de CLV", "clv"),
            ("Fidelidade e churn", "loyalty"),
            ("Base de clientes", "store"),
        ):
            page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
            wait_for_app(page)
            page.get_by_role("heading", name=title).wait_for()
            assert "lang=pt_BR" in page.url and "channel=app" in page.url, page.url
            page.wait_for_timeout(800)
            assert not page.locator('[data-testid="stException"]').count()
            screenshot(page, f"{shot}-pt")
    finally:
        stop(server)

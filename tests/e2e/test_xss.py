"""Customer-supplied text is shown as text, never run: a `<script>` name in a real browser.

A demo customer is renamed `<script>window.__xss=1</script><img src=x onerror=…>`; a
look-alike record in the same city puts the pair in the identity review queue; the same
text is loaded as an interaction subject and as a survey comment. Signed in as admin
(nothing masked), the browser visits the customer's 360, the identity review, the
quality rows, intimacy (comments), interact, portfolio and loyalty, hovering over every
chart. On every page `window.__xss` must stay undefined, no dialog may open and the
`<img>` must never be fetched; the 360's heading shows the text literally.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Page

from crm_core import store
from crm_core.demo import build_demo
from crm_core.ingest import ingest_file
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

SCRIPT = "<script>window.__xss=1</script>"
PAYLOAD = SCRIPT + '<img src=x onerror="window.__xss=2">'
CITY = "Xique-Xique"
PAGES = ("identity", "quality", "intimacy", "interact", "portfolio", "loyalty")


def _csv(folder: Path, name: str, rows: list[list[str]]) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    path = folder / name
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def _load_payloads(db: Path, folder: Path) -> str:
    """Put the payload in a customer's name (and a look-alike's), a subject and a comment."""
    with store.connect(db) as con:
        target = con.execute(
            "SELECT o.customer_id FROM orders o JOIN feedback f USING (customer_id) "
            "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
        ).fetchone()[0]
    people = [
        ["customer_id", "name", "city"],
        [target, PAYLOAD, CITY],
        ["XSS-LOOKALIKE", PAYLOAD, CITY],
    ]
    ingest_file(_csv(folder, "xss_customers.csv", people), "customers", db=db)
    contact = [["customer_id", "occurred_at", "channel", "subject"],
               [target, "2026-06-20", "email", PAYLOAD]]  # fmt: skip
    ingest_file(_csv(folder, "xss_contacts.csv", contact), "interactions", db=db)
    comment = PAYLOAD + " entrega atrasada, produto quebrado"
    survey = [
        ["customer_id", "answered_at", "nps", "comment"],
        [target, "2026-06-21", "2", comment],
    ]
    ingest_file(_csv(folder, "xss_survey.csv", survey), "feedback", db=db)
    return target


def _settled(page: Page) -> None:
    """Wait until the page's script run has finished and its elements are drawn."""
    page.wait_for_selector(
        '[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=120_000
    )
    wait_for_app(page)
    page.wait_for_timeout(500)


def _hover_charts(page: Page) -> int:
    """Move the mouse across every Plotly chart, so hover labels are drawn; how many."""
    charts = page.locator(".js-plotly-plot .nsewdrag").all()
    for chart in charts:
        chart.scroll_into_view_if_needed()
        box = chart.bounding_box()
        if not box:
            continue
        for fx in (0.2, 0.5, 0.8):
            for fy in (0.3, 0.7):
                page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
                page.wait_for_timeout(60)
    return len(charts)


def _assert_inert(page: Page, where: str, fetched: list[str], dialogs: list[str]) -> None:
    assert page.evaluate("() => window.__xss") is None, f"script ran on {where}"
    assert not dialogs, f"dialog on {where}: {dialogs}"
    assert not fetched, f"the <img> was created on {where}: {fetched}"


def test_script_in_customer_text_is_never_run(tmp_path: Path, page: Page) -> None:
    # control: the probe works — the same text as HTML does run (and fetches the <img>)
    page.set_content(f"<div id='n'></div><script>n.innerHTML = {PAYLOAD!r};</script>")
    page.wait_for_function("() => window.__xss === 2")
    db = tmp_path / "xss.duckdb"
    build_demo(db, customers=1500, seed=17, as_of=date(2026, 6, 30))
    target = _load_payloads(db, tmp_path)
    fetched: list[str] = []
    dialogs: list[str] = []
    page.on(
        "request", lambda r: fetched.append(r.url) if r.url.rstrip("/").endswith("/x") else None
    )
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    port = free_port()
    server = start_server(db, port)
    hovered = 0
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, server)
        page.goto(f"{url}/customers?customer={target}&lang=en")
        login(page, "admin")
        page.get_by_role("heading", name=SCRIPT, exact=False).first.wait_for(timeout=60_000)
        _settled(page)
        shown = page.evaluate("() => document.body.innerText")
        assert PAYLOAD in shown  # the name as text, tags and all
        hovered += _hover_charts(page)
        _assert_inert(page, "the customer 360", fetched, dialogs)
        screenshot(page, "xss-customer-360")
        for name in PAGES:
            page.goto(f"{url}/{name}?lang=en")
            page.get_by_role("heading").first.wait_for()
            _settled(page)
            hovered += _hover_charts(page)
            _assert_inert(page, name, fetched, dialogs)
        screenshot(page, "xss-last-page")
    finally:
        stop(server)
    assert hovered >= len(PAGES), "too few charts hovered to test their labels"
    print(f"{hovered} charts hovered on {len(PAGES) + 1} pages")

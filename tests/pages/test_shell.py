"""The shell: global filters kept in the URL, defaulting to the last order day."""

from __future__ import annotations

import ast
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from crm_core import store
from crm_core.kpis import last_order_date
from crm_core.period import Period
from crm_core.segment_config import default_config
from crm_core.segment_store import save_config
from tests.pages.conftest import open_page


def test_filters_default_to_the_last_order_day(demo_db: Path) -> None:
    at = open_page("pages/store.py")
    with store.connect(demo_db) as con:
        last = last_order_date(con)
    filters = at.session_state["_filters"]
    assert filters.as_of == last
    assert filters.period == Period(last - timedelta(days=29), last)
    assert not filters.is_filtered
    assert "as_of" not in at.query_params  # defaults stay out of the URL


def test_filters_read_from_the_url(demo_db: Path) -> None:
    at = open_page(
        "pages/store.py", as_of="2026-03-31", channel="app", tier="gold", **{"from": "2026-03-01"}
    )
    filters = at.session_state["_filters"]
    assert filters.as_of == date(2026, 3, 31)
    assert filters.period == Period(date(2026, 3, 1), date(2026, 3, 31))
    assert (filters.channel, filters.tier, filters.segment) == ("app", "gold", "")


def test_unknown_filter_values_fall_back_to_all(demo_db: Path) -> None:
    at = open_page("pages/store.py", channel="<script>", as_of="not-a-date")
    filters = at.session_state["_filters"]
    assert filters.channel == ""
    assert "channel" not in at.query_params


def test_empty_store_has_no_filters(empty_db: Path) -> None:
    at = open_page("pages/store.py")
    assert at.session_state["_filters"] is None


def test_every_page_starts_with_the_shared_header() -> None:
    """A page without `page_header` would run unguarded when opened by a legacy URL."""
    pages = sorted((Path(__file__).resolve().parents[2] / "pages").glob("*.py"))
    assert pages
    for page in pages:
        body = ast.parse(page.read_text(encoding="utf-8")).body
        calls = [
            node.value for node in body
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
        ]  # fmt: skip
        first = calls[0]
        # nothing before it may draw or compute: only imports, a docstring and constants
        before = body[: body.index(next(n for n in body if getattr(n, "value", None) is first))]
        assert all(
            isinstance(node, ast.Import | ast.ImportFrom | ast.Expr)
            or (isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant))
            for node in before
        ), page.name
        assert getattr(first.func, "id", None) == "page_header", page.name


def test_a_configuration_saved_elsewhere_is_active_on_the_next_run(demo_db: Path) -> None:
    """Another user's (or the CLI's) save changes no data, so it must not hide behind caches
    keyed on the data version: the next session (or run) uses it."""
    at = open_page("pages/store.py")
    assert at.session_state["_filters"].config.name != "from elsewhere"
    with store.connect(demo_db) as con:
        save_config(con, replace(default_config(), name="from elsewhere"), actor="cli")
    again = open_page("pages/store.py")
    assert again.session_state["_filters"].config.name == "from elsewhere"

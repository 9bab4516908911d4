"""Page tests: a demo store built once per session, an empty one per test, AppTest helpers.

Pages run through the real entry point (`app.py`) so navigation, the language
switch and the global filters run exactly as in the browser;
`at.switch_page("pages/x.py")` reaches a page behind `st.navigation`.

AppTest 1.67 drops the entry point's sidebar elements from its element tree
on any run after the first when `st.navigation` is used (the deltas never
reach the tree; the browser is unaffected — see the e2e tests). So page tests
set filters through the URL (`open_page(..., channel="app")`) and read the
filters the app computed from `at.session_state["_filters"]`.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from crm_core.demo import build_demo

APP = str(Path(__file__).resolve().parents[2] / "app.py")
DEMO_AS_OF = date(2026, 6, 30)
DEMO_CUSTOMERS = 4000


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A demo store built once (fixed as-of date, so numbers do not move with the clock)."""
    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    build_demo(path, customers=DEMO_CUSTOMERS, seed=7, as_of=DEMO_AS_OF)
    return path


@pytest.fixture
def demo_db(demo_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the demo store, exported as $CRM_DB (tests may write to it)."""
    path = tmp_path / "crm.duckdb"
    shutil.copy(demo_template, path)
    monkeypatch.setenv("CRM_DB", str(path))
    return path


@pytest.fixture
def empty_db(db_path: Path) -> Path:
    """An initialised store with no data, exported as $CRM_DB (the shared `db_path`)."""
    return db_path


def open_page(page: str, lang: str = "en", timeout: float = 60, **params: str) -> AppTest:
    """Run `app.py`, switch to `page` (e.g. "pages/overview.py") with URL params, return it."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.query_params["lang"] = lang
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at

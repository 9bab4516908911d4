"""Page tests: a demo store built once per session, an empty one per test, AppTest helpers.

Pages run through the real entry point (`app.py`) so navigation, the language
switch and the global filters run exactly as in the browser;
`at.switch_page("pages/x.py")` reaches a page behind `st.navigation`.

AppTest 1.67 drops the entry point's sidebar elements from its element tree
on any run after the first when `st.navigation` is used (the deltas never
reach the tree; the browser is unaffected — see the e2e tests). So page tests
set filters through the URL (`open_page(..., channel="app")`) and read the
filters the app computed from `at.session_state["_filters"]`.

Signing in: a session-wide accounts file (`$VINCULO_AUTH_FILE`) holds one user
per role, `TEST_USERS[role]` (`admin`, `test-manager`, `test-analyst`,
`test-marketing`), password `ROLE_PASSWORDS[role]`.
`open_page(..., role=...)` opens a real server-side session for that user
(`crm_core.sessions.create`) and hands its token to the app's session state —
the same token the app validates on every run, as after a login through the
form; nothing a browser could send skips that check.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from crm_core import sessions, users
from crm_core.demo import build_demo

APP = str(Path(__file__).resolve().parents[2] / "app.py")
DEMO_AS_OF = date(2026, 6, 30)
DEMO_CUSTOMERS = 4000
# `admin` for the default role (audit rows read "admin"); the other roles get names no
# other test uses as a free-form actor (tests pass actor="analyst" to crm_core directly).
TEST_USERS = {role: "admin" if role == "admin" else f"test-{role}" for role in users.ROLES}
ROLE_PASSWORDS = {role: f"{role}-pass-2026" for role in users.ROLES}


@pytest.fixture(scope="session", autouse=True)
def auth_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An accounts file with one user per role, exported as $VINCULO_AUTH_FILE."""
    path = tmp_path_factory.mktemp("auth") / "auth.yaml"
    for role, password in ROLE_PASSWORDS.items():
        users.add_user(TEST_USERS[role], password, role, name=f"Test {role}", path=path)
    saved = os.environ.get("VINCULO_AUTH_FILE")
    os.environ["VINCULO_AUTH_FILE"] = str(path)
    yield path
    if saved is None:
        os.environ.pop("VINCULO_AUTH_FILE", None)
    else:
        os.environ["VINCULO_AUTH_FILE"] = saved


def signed_in(at: AppTest, role: str = "admin") -> AppTest:
    """Give `at` a live server-side session of the test user of `role` (as after a login)."""
    at.session_state["_auth_token"] = sessions.create(TEST_USERS[role])
    return at


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


def open_page(
    page: str, lang: str = "en", timeout: float = 60, role: str = "admin", **params: str
) -> AppTest:
    """Run `app.py` signed in as `role`, switch to `page` (e.g. "pages/overview.py") with
    URL params, return it."""
    at = signed_in(AppTest.from_file(APP, default_timeout=timeout), role)
    at.query_params["lang"] = lang
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def rendered_table(at: AppTest, first_column: str, *others: str):
    """The rendered dataframe whose columns start with `first_column` (and hold `others`);
    tables carry no id in AppTest, so their first column tells them apart."""
    for frame in at.dataframe:
        columns = list(frame.value.columns)
        if columns and columns[0] == first_column and set(others) <= set(columns):
            return frame.value
    raise AssertionError(f"no table starting with {first_column}")


def metric_values(at: AppTest) -> dict[str, str]:
    """Each metric card's label → its shown value."""
    return {m.label: m.value for m in at.metric}

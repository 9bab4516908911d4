"""Access in the app: login form, lockout, logout, revoked sessions, menus and refusals by role.

Login tests use their own accounts file (one user per role, as in `conftest`) so
that lockouts and deletions never touch the session-wide one.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from crm_core import access, sessions, users
from tests.pages.conftest import APP, ROLE_PASSWORDS, TEST_USERS, open_page, signed_in

LOGIN_TITLE = {"en": "Sign in to Vínculo", "pt_BR": "Entrar no Vínculo"}
REFUSED = {"en": "No access to this page", "pt_BR": "Sem acesso a esta página"}


@pytest.fixture
def own_accounts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private accounts file with one user per role (cheap bcrypt), as $VINCULO_AUTH_FILE."""
    monkeypatch.setattr(users, "BCRYPT_ROUNDS", 4)
    path = tmp_path / "auth.yaml"
    for role, password in ROLE_PASSWORDS.items():
        users.add_user(TEST_USERS[role], password, role, path=path)
    monkeypatch.setenv("VINCULO_AUTH_FILE", str(path))
    return path


def _app(lang: str = "en") -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["lang"] = lang
    return at


def _rerun(at: AppTest) -> AppTest:
    """Run `at` again through `app.py`, as every rerun in a browser does.

    AppTest 1.67 resets Streamlit's "pages directory" flag before each run, so a
    run after one that ended on a page executes that page's file alone, without
    `app.py` and its login check (see `conftest`); a real server always runs
    `app.py` first. Clearing the page AppTest remembers sends the run to `app.py`.
    """
    at._page_hash = ""
    at._finished_page_script_hash = ""
    return at.run()


def _titles(at: AppTest) -> list[str]:
    return [t.value for t in at.title]


def _login(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input(key="_login_user").input(username)
    at.text_input(key="_login_password").input(password)
    return at.button(key="_login_submit").click().run()


def _on_login_form(at: AppTest, lang: str = "en") -> bool:
    return _titles(at)[:1] == [LOGIN_TITLE[lang]] and "_auth_token" not in at.session_state


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_nothing_but_the_login_form_without_a_session(empty_db: Path, lang: str) -> None:
    at = _app(lang).run()
    assert not at.exception
    assert _on_login_form(at, lang)
    assert [w.key for w in at.text_input] == ["_login_user", "_login_password"]
    assert at.text_input(key="_login_password").proto.type == 1  # PASSWORD: typed unseen
    assert at.session_state["authentication_status"] is None
    assert "_filters" not in at.session_state  # the app stopped before filters and pages


def test_login_through_the_form(own_accounts: Path, empty_db: Path) -> None:
    at = _login(_app().run(), "Test-Analyst", ROLE_PASSWORDS["analyst"])
    assert not at.exception
    assert not _on_login_form(at)
    assert sessions.validate(at.session_state["_auth_token"]).user.username == "test-analyst"
    assert at.session_state["username"] == "test-analyst"
    assert at.session_state["roles"] == ["analyst"]
    assert at.session_state["authentication_status"] is True


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_unknown_user_and_wrong_password_read_the_same(
    own_accounts: Path, empty_db: Path, lang: str
) -> None:
    unknown = _login(_app(lang).run(), "nobody", "some-password")
    wrong = _login(_app(lang).run(), "test-manager", "not-the-password")
    assert [e.value for e in unknown.error] == [e.value for e in wrong.error]
    assert len(wrong.error) == 1 and ("5" in wrong.error[0].value)
    assert _on_login_form(unknown, lang) and _on_login_form(wrong, lang)


def test_lockout_after_five_failures_then_expiry(
    own_accounts: Path, empty_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _app().run()
    start = datetime.now(UTC)
    monkeypatch.setattr(users, "now", lambda: start)
    for _ in range(5):
        at = _login(at, "test-marketing", "wrong-password")
    message = at.error[0].value
    at = _login(at, "test-marketing", ROLE_PASSWORDS["marketing"])  # right password, locked account
    assert _on_login_form(at) and at.error[0].value == message
    monkeypatch.setattr(users, "now", lambda: start + timedelta(minutes=15, seconds=1))
    at = _login(at, "test-marketing", ROLE_PASSWORDS["marketing"])
    assert not _on_login_form(at) and not at.error


def test_logout_then_rerun_stays_logged_out(own_accounts: Path, empty_db: Path) -> None:
    at = signed_in(_app(), "manager").run()
    token = at.session_state["_auth_token"]
    assert not _on_login_form(at)
    at.button(key="_logout").click()
    _rerun(at)
    assert _on_login_form(at)
    assert _on_login_form(_rerun(at))  # a rerun does not sign back in
    assert sessions.check(token) == (None, "revoked")
    again = signed_in(_app(), "manager")  # a copy of the old token (a kept cookie) …
    again.session_state["_auth_token"] = token
    assert _on_login_form(again.run())  # … is refused


def test_a_revoked_cookie_is_refused_a_live_one_signs_in(
    own_accounts: Path, empty_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ui.auth

    token = sessions.create(TEST_USERS["analyst"])
    monkeypatch.setattr(ui.auth, "_cookie_token", lambda: token)
    assert not _on_login_form(_app().run())  # a new tab: the cookie keeps the user signed in
    sessions.logout(token, db=empty_db)
    at = _app().run()
    assert _on_login_form(at)
    assert "session has ended" in at.info[0].value


def test_a_deleted_users_session_is_refused(own_accounts: Path, empty_db: Path) -> None:
    at = signed_in(_app(), "marketing").run()
    assert not _on_login_form(at)
    users.remove_user(TEST_USERS["marketing"])
    assert _on_login_form(_rerun(at))
    assert "session has ended" in at.info[0].value


@pytest.fixture
def navigation(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict]]:
    """Every dict of pages the app hands to `st.navigation`."""
    seen: list[dict] = []
    original = st.navigation

    def spy(pages, **kwargs):
        seen.append(pages)
        return original(pages, **kwargs)

    monkeypatch.setattr(st, "navigation", spy)
    yield seen


@pytest.mark.parametrize("role", users.ROLES)
def test_each_role_sees_exactly_its_pages(empty_db: Path, navigation: list, role: str) -> None:
    from ui.auth import page_name

    at = signed_in(_app(), role).run()
    assert not at.exception
    pages = [p for section in navigation[-1].values() for p in section]
    listed = {page_name(p) for p in pages if p.visibility == "visible"}
    registered = {page_name(p) for p in pages}
    assert listed == {p for p in registered if access.may_open(role, p)}
    assert registered <= {Path(f).stem for f in Path(APP).parent.glob("pages/*.py")}
    expected_off = {
        "admin": set(),
        "manager": {"upload", "settings"},
        "analyst": {"upload"},
        "marketing": {"settings"},
    }[role]
    assert expected_off <= registered - listed
    assert {"overview", "customers", "clv", "loyalty", "store"} <= listed


@pytest.mark.parametrize(
    ("page", "role", "lang"),
    [
        ("pages/upload.py", "manager", "en"),
        ("pages/upload.py", "analyst", "pt_BR"),
        ("pages/settings.py", "marketing", "en"),
        ("pages/settings.py", "manager", "pt_BR"),
    ],
)
def test_a_forbidden_page_opened_by_url_shows_the_refusal(
    empty_db: Path, page: str, role: str, lang: str
) -> None:
    at = open_page(page, lang, role=role)
    assert _titles(at) == [REFUSED[lang]]
    assert len(at.error) == 1
    assert at.get("file_uploader") == [] and not at.button  # nothing of the page itself


@pytest.mark.parametrize(("page", "role"), [("pages/upload.py", "marketing"),
                                            ("pages/settings.py", "analyst")])  # fmt: skip
def test_an_allowed_page_opens(demo_db: Path, page: str, role: str) -> None:
    at = open_page(page, role=role)
    assert REFUSED["en"] not in _titles(at)


def test_a_page_run_alone_checks_the_role_itself(empty_db: Path) -> None:
    at = AppTest.from_file(str(Path(APP).parent / "pages" / "upload.py"), default_timeout=60)
    at.session_state["_via_app"] = True  # as if routed by app.py, which never ran here
    signed_in(at, "admin").run()
    assert _titles(at) == [REFUSED["pt_BR"]]  # nobody validated in this run: refused


def test_a_damaged_accounts_file_lets_nobody_in(
    tmp_path: Path, empty_db: Path, monkeypatch
) -> None:
    path = tmp_path / "auth.yaml"
    path.write_text("credentials: [unclosed")
    monkeypatch.setenv("VINCULO_AUTH_FILE", str(path))
    at = _app().run()
    assert not at.exception
    assert "cannot be read" in at.error[0].value
    assert not at.title  # no login form, no page

"""Login, logout and role checks for the app (issue 7, Access).

How a browser stays signed in. A login (`crm_core.sessions.login`) issues a
random token recorded server-side. The token lives in this Streamlit session's
state and, so that a new tab or a reload stays signed in, in a cookie set by a
line of JavaScript (`SameSite=Strict`; Streamlit reads cookies when the browser
connects, `st.context.cookies`). Every run re-validates the token against the
server's record — a revoked, expired or idle session, a deleted or locked-out
user are refused — so a stale or copied cookie cannot sign anyone in after a
logout (streamlit-authenticator #91/#203). streamlit-authenticator's own login
widget and JWT cookie are not used for that reason; its credentials file layout
and bcrypt hashes are (see `crm_core.users`).

Roles. `visible_pages` hides from the menu the pages a role may not open (they
stay reachable by URL so that their own `require_page` check, called by
`ui.context.page_header` on every page, shows the refusal); `crm_core` writes
are checked again in `store.audit`.

The session-state keys `authentication_status`, `username`, `name` and `roles`
mirror streamlit-authenticator's, for code that expects them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import streamlit as st

from crm_core import access, sessions, users
from crm_core.errors import VinculoError
from ui import context as ctx

TOKEN_KEY = "_auth_token"  # this session's token (server-side state only)
USER_KEY = "_auth_user"  # the user validated in this run (a crm_core.users.User)
_COOKIE_TODO = "_auth_cookie"  # ("set", token) or ("clear", None) for the next draw
_ENDED = "_auth_ended"  # why the last session was refused (to say so on the form)
_LOGGED_OUT = "_auth_logged_out"  # ignore the cookie this connection arrived with


def _cookie_token() -> str | None:
    """The session token the browser's cookie carried when it connected."""
    value = st.context.cookies.get(users.cookie_settings()["name"])
    return value if isinstance(value, str) else None  # AppTest hands out mocks here


def _current_session() -> sessions.Session | None:
    """Validate this session's token (else the cookie's) against the server's record."""
    token = st.session_state.get(TOKEN_KEY)
    from_cookie = False
    if not token and not st.session_state.get(_LOGGED_OUT):
        token, from_cookie = _cookie_token(), True
    session, reason = sessions.check(token)
    if session is not None:
        st.session_state[TOKEN_KEY] = token
        return session
    if token:  # a token that no longer counts: forget it, drop the cookie
        st.session_state.pop(TOKEN_KEY, None)
        st.session_state[_COOKIE_TODO] = ("clear", None)
        if not from_cookie or reason != "unknown":
            st.session_state[_ENDED] = reason
    return None


def _publish(user: users.User | None) -> None:
    st.session_state[USER_KEY] = user
    st.session_state["authentication_status"] = True if user else None
    st.session_state["username"] = user.username if user else None
    st.session_state["name"] = user.name if user else None
    st.session_state["roles"] = [user.role] if user else None


def _draw_cookie() -> None:
    """Set or clear the session cookie in the browser (at most once per change)."""
    todo = st.session_state.pop(_COOKIE_TODO, None)
    if todo is None:
        return
    cookie = users.cookie_settings()
    verb, token = todo
    max_age = int(float(cookie.get("expiry_days") or 1) * 86400) if verb == "set" else 0
    value = f"{cookie['name']}={token or ''}; Path=/; Max-Age={max_age}; SameSite=Strict"
    script = (
        f"document.cookie = {json.dumps(value)}"
        " + (location.protocol === 'https:' ? '; Secure' : '');"
    )
    # safe: our own constant text and a token of [A-Za-z0-9_-]; no user data reaches it.
    st.sidebar.html(f"<script>{script}</script>", unsafe_allow_javascript=True)


def role_label(role: str | None) -> str:
    """A role's name in the session's language."""
    return ctx.t(f"access.role.{role}") if role else "-"


def logout() -> None:
    """Revoke this session server-side, forget it here and drop the browser's cookie."""
    token = st.session_state.pop(TOKEN_KEY, None)
    sessions.logout(token, db=ctx.db())
    st.session_state[_LOGGED_OUT] = True
    st.session_state[_COOKIE_TODO] = ("clear", None)
    st.session_state.pop(_ENDED, None)
    _publish(None)


def _login_form() -> None:
    st.title(ctx.t("access.login.title"))
    st.caption(ctx.t("access.login.caption"))
    if st.session_state.pop(_ENDED, None):
        st.info(ctx.t("access.login.session_ended"))
    with st.form("_login", clear_on_submit=True):
        username = st.text_input(
            ctx.t("access.login.username"), key="_login_user", autocomplete="username"
        )
        password = st.text_input(
            ctx.t("access.login.password"),
            type="password",
            key="_login_password",
            autocomplete="current-password",
        )
        submitted = st.form_submit_button(
            ctx.t("access.login.submit"), type="primary", key="_login_submit"
        )
    if not submitted:
        return
    try:
        _user, token = sessions.login(username, password, db=ctx.db())
    except VinculoError as exc:
        st.error(exc.message(ctx.lang()))
        return
    st.session_state[TOKEN_KEY] = token
    st.session_state[_COOKIE_TODO] = ("set", token)
    st.session_state.pop(_LOGGED_OUT, None)
    st.rerun()


PAGES_DIR = Path(__file__).resolve().parents[1] / "pages"


def _sign_in_page() -> None:
    """The login screen's own (empty) page: the login form is drawn by `require_login`."""


def _register_pages_hidden() -> None:
    """Before login: register every page, hidden, with no menu.

    So the URL a user arrived with (`/store?lang=en`) names a known page (no
    "page not found", no file-based menu of every page) and is still the page
    shown once the login succeeds; the bare URL lands on an empty stand-in page
    (the dashboard's file is not the default here, so a session that has not
    passed `require_login` never resolves to a page script). No page is run.
    """
    stand_in = st.Page(_sign_in_page, title="Vínculo", url_path="sign-in", default=True)
    files = sorted(PAGES_DIR.glob("*.py"))
    hidden = [st.Page(f"pages/{f.name}", visibility="hidden") for f in files]
    st.navigation([stand_in, *hidden], position="hidden")


def require_login() -> users.User:
    """The signed-in user; otherwise draw the login form and stop the run.

    Draws the signed-in user's name, role and a sign-out button in the sidebar.
    """
    try:
        session = _current_session()
    except VinculoError as exc:  # e.g. a damaged accounts file: say so, let nobody in
        st.error(exc.message(ctx.lang()))
        st.stop()
    user = session.user if session else None
    _publish(user)
    _draw_cookie()
    if user is None:
        _register_pages_hidden()
        _login_form()
        st.stop()
    st.sidebar.caption(ctx.t("access.signed_in", name=user.name, role=role_label(user.role)))
    st.sidebar.button(
        ctx.t("access.logout"), key="_logout", on_click=logout, icon=":material/logout:"
    )
    return user


def current_user() -> users.User | None:
    """The user `require_login` validated in this run (None before it, or signed out)."""
    return st.session_state.get(USER_KEY)


def current_role() -> str | None:
    """The signed-in user's role, or None."""
    user = current_user()
    return user.role if user else None


def actor() -> str:
    """The signed-in user's name, for the audit trail; refuses when nobody is signed in."""
    user = current_user()
    if user is None:
        raise VinculoError("access.not_signed_in")
    return user.username


def page_name(page: st.Page) -> str:
    """The permission name of a navigation page: its file's name without `.py`."""
    source = getattr(page, "_page", None)
    if isinstance(source, str | Path):
        return Path(source).stem
    return page.url_path


def _hidden(page: st.Page) -> st.Page:
    return st.Page(
        page._page,  # type: ignore[attr-defined]  # the script, as given to st.Page
        title=page.title,
        icon=page.icon or None,
        url_path=page.url_path,
        visibility="hidden",
    )


def visible_pages(pages: Mapping[str, Sequence[st.Page]]) -> dict[str, list[st.Page]]:
    """The `st.navigation` dict with the pages the role may not open hidden from the menu.

    Hidden pages stay registered (under the first section), so a URL to one runs
    the page, whose `require_page` check shows the refusal instead of Streamlit's
    "page not found"; sections left with no visible page disappear.
    """
    role = current_role()
    shown: dict[str, list[st.Page]] = {}
    hidden: list[st.Page] = []
    for section, items in pages.items():
        allowed = [p for p in items if access.may_open(role, page_name(p))]
        hidden += [_hidden(p) for p in items if not access.may_open(role, page_name(p))]
        if allowed:
            shown[section] = allowed
    if hidden and shown:
        shown[next(iter(shown))].extend(hidden)
    return shown


def require_page(name: str) -> None:
    """Stop the run with a refusal unless the signed-in role may open page `name`.

    `name` is the page file's name (`"upload"`) or its path (`__file__`).
    """
    page = Path(name).stem
    role = current_role()
    if access.may_open(role, page):
        return
    st.title(ctx.t("access.page_refused.title"))
    st.error(ctx.t("access.page_refused", role=role_label(role)))
    st.stop()

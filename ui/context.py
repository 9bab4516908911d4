"""Per-session context: the user's language and the store the app reads."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import streamlit as st

from crm_core import store
from crm_core.i18n import DEFAULT_LANGUAGE, LANGUAGES, translate
from ui import auth

LANGUAGE_LABELS = {"pt_BR": "Português (BR)", "en": "English"}


STICKY_PARAMS = ("lang", "as_of", "from", "to", "channel", "segment", "tier")


def restore_url_state() -> None:
    """Put back URL parameters a navigation click dropped (language, global filters).

    Called first in `app.py`; `remember_url_state` at the end of the shell's
    work records what the URL holds after the sidebar ran, so a value reset to
    its default (removed from the URL) is not brought back.
    """
    for name, value in st.session_state.get("_url_state", {}).items():
        if name not in st.query_params:
            st.query_params[name] = value


def remember_url_state() -> None:
    """Record the sticky URL parameters of this run (see `restore_url_state`)."""
    st.session_state["_url_state"] = {
        name: st.query_params[name] for name in STICKY_PARAMS if name in st.query_params
    }


def lang() -> str:
    """The session's language: `?lang=` in the URL, else Portuguese."""
    chosen = st.query_params.get("lang", DEFAULT_LANGUAGE)
    return chosen if chosen in LANGUAGES else DEFAULT_LANGUAGE


def t(key: str, **params: Any) -> str:
    """A UI message in the session's language."""
    return translate(key, lang(), **params)


def _language_changed() -> None:
    st.query_params["lang"] = st.session_state["language"]


def language_switch() -> None:
    """Sidebar control that keeps the language in the URL so links carry it.

    The change is applied in the widget's callback, before the script reruns,
    so the whole rerun (sidebar included) is drawn in the new language.
    """
    current = lang()
    labels = dict(LANGUAGE_LABELS)
    if st.session_state.get("language") != current:
        st.session_state["language"] = current  # the URL wins (a shared link, a restored state)
    st.sidebar.selectbox(
        t("app.language"),
        options=list(LANGUAGES),
        format_func=labels.__getitem__,
        key="language",
        on_change=_language_changed,
    )


def actor() -> str:
    """Who is acting, for the audit trail of writes made from the app: the signed-in user."""
    return auth.actor()


def role() -> str | None:
    """The signed-in user's role (`admin`, `manager`, `analyst`, `marketing`); None before login."""
    return auth.current_role()


def customer_url(customer_id: str) -> str:
    """Relative link to one customer's 360 view, carrying the language and global filters.

    For `st.column_config.LinkColumn` and markdown links: a click loads a new
    page, so the state that must survive travels in the URL.
    """
    params = {n: st.query_params[n] for n in STICKY_PARAMS if n in st.query_params}
    params["customer"] = customer_id
    return "customers?" + urlencode(params)


def db() -> str:
    """The store's path as a string (a stable cache key)."""
    return str(store.db_path())


def refresh_data_version() -> int:
    """Read the store's data version once for this run (`app.py` calls it first)."""
    with store.connect(db()) as con:
        version = store.data_version(con)
        st.session_state["_config_version"] = store.config_version(con)
    st.session_state["_data_version"] = version
    return version


def data_version() -> int:
    """The store's data version, part of every cache key so writes invalidate caches.

    Read once per run by `app.py` (a page's cached lookups would otherwise each
    open the store); a write in this session reruns the app, which reads it anew.
    """
    version = st.session_state.get("_data_version")
    return version if version is not None else refresh_data_version()


def config_version() -> str:
    """Fingerprint of the saved configurations, read with the data version (see
    `crm_core.store.config_version`): a save by any user changes it on everyone's next run."""
    if "_config_version" not in st.session_state:
        refresh_data_version()
    return str(st.session_state["_config_version"])


def entered_through_app() -> None:
    """Mark this run as routed by `app.py` (called by app.py before the page runs)."""
    st.session_state["_via_app"] = True


def ensure_app(page_file: str) -> None:
    """Send a page opened by Streamlit's legacy `pages/` routing through `app.py`.

    Until some session has called `st.navigation`, Streamlit serves
    `/<name>` by running `pages/<name>.py` alone — no language switch, no
    filters, no access checks. Every page calls this first: it remembers the
    page asked for and switches to `app.py`, which routes back to it.
    """
    if not st.session_state.get("_via_app"):
        st.session_state["_wanted_page"] = (
            "pages/" + page_file.rsplit("/", 1)[-1],
            st.query_params.to_dict(),
        )
        st.switch_page("app.py", query_params=st.query_params.to_dict())


def route_wanted_page() -> None:
    """In `app.py`, after `st.navigation`: open the page a legacy URL asked for."""
    wanted = st.session_state.pop("_wanted_page", None)
    if wanted:
        page, params = wanted
        st.switch_page(page, query_params=params)


def page_header(page_file: str, name: str) -> None:
    """Start a page: route a legacy-URL run through `app.py`, then its title and caption.

    `name` is the page's catalogue prefix: `page.<name>.title`, `page.<name>.caption`.
    """
    ensure_app(page_file)
    auth.require_page(page_file)
    st.title(t(f"page.{name}.title"))
    st.caption(t(f"page.{name}.caption"))

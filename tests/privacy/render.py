"""Helpers for page tests that look for personal data in what a page rendered or exported.

`rendered(at)`: every text the run drew — dataframes' cells (as CSV), and the protobuf text
of every element (markdown, captions, metrics, widget labels and options, Plotly specs with
their hover text). `Downloads`: a recorder of `st.download_button` calls (AppTest has no
media runtime to run a deferred file), so a test can build the file a click would build.
`open_any(page, ...)`: a page through `app.py` when it is registered there, else run alone
(signed in, as routed by the app) — for the admin pages the lead has not listed yet.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
from google.protobuf import text_format
from streamlit.delta_generator import DeltaGenerator
from streamlit.testing.v1 import AppTest

from tests.pages.conftest import open_page, signed_in

ROOT = Path(__file__).resolve().parents[2]


def _walk(node: Any) -> Iterator[Any]:
    yield node
    children = getattr(node, "children", None) or {}
    for child in children.values():
        yield from _walk(child)


def rendered(at: AppTest) -> str:
    """All the text `at`'s last run drew (dataframe cells, markdown, charts' specs …)."""
    parts = [df.value.to_csv() for df in at.dataframe]
    for node in _walk(at._tree):
        proto = getattr(node, "proto", None)
        if proto is not None and hasattr(proto, "ListFields"):
            parts.append(text_format.MessageToString(proto, as_utf8=True))
    return "\n".join(parts)


def shown_ids(at: AppTest) -> set[str]:
    """Customer ids in the run's dataframes: `customer_id` columns and 360 links."""
    ids: set[str] = set()
    for df in at.dataframe:
        frame = df.value
        for column in frame.columns:
            values = frame[column].dropna().astype(str)
            if column in ("customer_id", "golden_id"):
                ids |= set(values)
            ids |= {m for v in values for m in re.findall(r"customer=([A-Za-z0-9_.-]+)", v)}
    return ids


def personal_values(db: Path, ids: set[str]) -> list[str]:
    """Name, e-mail, phone and document of the customers `ids` (non-blank, distinct)."""
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "SELECT name, email, phone, document FROM customers "
            "WHERE list_contains(?::VARCHAR[], customer_id)",
            [sorted(ids)],
        ).fetchall()
    return sorted({str(v) for row in rows for v in row if v and str(v).strip()})


def leaks(text: str, values: list[str]) -> list[str]:
    """The values that occur in `text`."""
    return [v for v in values if v in text]


class Downloads:
    """Records every `download_button` call of a run: key -> its keyword arguments."""

    def __init__(self) -> None:
        self.calls: dict[str, dict[str, Any]] = {}

    def install(self, monkeypatch: Any) -> Downloads:
        original = DeltaGenerator.download_button
        calls = self.calls

        def recording(dg: DeltaGenerator, label: str, data: Any, *args: Any, **kw: Any) -> Any:
            calls[kw.get("key") or label] = {"label": label, "data": data, **kw}
            return original(dg, label, data, *args, **kw)

        monkeypatch.setattr(DeltaGenerator, "download_button", recording)
        return self

    def file(self, key: str) -> bytes:
        """The bytes a click on button `key` would download."""
        data = self.calls[key]["data"]
        built = data() if isinstance(data, Callable) else data
        return built.encode("utf-8") if isinstance(built, str) else built


def registered(page: str) -> bool:
    """Whether `app.py` lists `page` in its navigation."""
    return f'"{page}"' in (ROOT / "app.py").read_text(encoding="utf-8")


_ALONE = """
import runpy
from ui import auth
from ui.context import entered_through_app, refresh_data_version
entered_through_app()
refresh_data_version()
auth.require_login()
runpy.run_path({page!r}, run_name="__main__")
"""


def open_any(page: str, lang: str = "en", role: str = "admin", **params: str) -> AppTest:
    """`open_page` when `page` is in `app.py`; else the page run after the same sign-in check
    `app.py` makes (for the admin pages until the lead lists them)."""
    if registered(page):
        return open_page(page, lang, role=role, **params)
    script = _ALONE.format(page=str(ROOT / page))
    at = signed_in(AppTest.from_string(script, default_timeout=60), role)
    at.query_params["lang"] = lang
    for key, value in params.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at

"""Cached reads from the store, keyed on (path, data version)."""

from __future__ import annotations

from typing import Any

import streamlit as st

from crm_core import store


@st.cache_data(show_spinner=False, max_entries=32)
def store_summary(db: str, version: int) -> dict[str, Any]:
    """Counts per table and order totals (see `store.store_summary`)."""
    del version  # cache key only
    with store.connect(db) as con:
        return store.store_summary(con)

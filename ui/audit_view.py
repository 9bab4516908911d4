"""Audit trail page: the events as the filters ask, their chart and column formats.

Events are read fresh on every run (no cache): an audit event does not bump the data
version (a download, a login, an export write one), and the trail must show it at once.
The query is indexed by nothing but the log is small next to the facts, and capped at
`LIMIT` rows.
"""

from __future__ import annotations

import html
from datetime import date
from typing import Any

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from crm_core import store
from crm_core.audit_trail import audit_events, audit_facets
from crm_core.i18n.format import date_input_format
from ui.context import lang, t

LIMIT = 5_000
"""Events shown at most (the newest)."""


def facets(db: str) -> dict[str, Any]:
    """`crm_core.audit_trail.audit_facets` of the store."""
    with store.connect(db) as con:
        return audit_facets(con)


def events(
    db: str, actions: list[str], actors: list[str], days: tuple[date, ...], target: str
) -> pl.DataFrame:
    """`audit_events` for the filters, at most `LIMIT` + 1 (one more tells there are more).
    `days`: the date input's value — (start, end), or (start,) while a range is picked."""
    start = days[0] if days else None
    end = days[1] if len(days) > 1 else start
    with store.connect(db) as con:
        return audit_events(
            con, actions=actions, actors=actors, start=start, end=end, target=target,
            limit=LIMIT + 1,
        )  # fmt: skip


def actions_chart(counts: pl.DataFrame, title: str) -> go.Figure:
    """Horizontal bars: events per action (most frequent on top)."""
    fig = go.Figure(
        go.Bar(
            x=counts["events"].to_list(), y=[html.escape(a) for a in counts["action"]],
            orientation="h", marker_color="#5c6bc0",
        )
    )  # fmt: skip
    fig.update_layout(
        xaxis_title=title, yaxis={"autorange": "reversed"}, margin={"t": 10},
        height=max(160, 28 * counts.height + 80),
    )  # fmt: skip
    return fig


def columns() -> dict:
    """Column formats of the events table (who, when, action, target, rows, detail)."""
    text = st.column_config.TextColumn
    p = "page.audit.col."
    return {
        "event_id": st.column_config.NumberColumn(t(p + "event"), format="%d"),
        "logged_at": st.column_config.DatetimeColumn(
            t(p + "when"), format=date_input_format(lang()) + " HH:mm:ss"
        ),
        "actor": text(t(p + "who")),
        "action": text(t(p + "action")),
        "target": text(t(p + "target")),
        "rows": st.column_config.NumberColumn(t(p + "rows"), format="%d"),
        "detail": text(t(p + "detail"), width="large"),
    }

"""Customers page: the cached directory search and customer 360, their labels and charts.

The search index (`crm_core.directory.search_index`) is built once per store and data version
and kept as a shared resource; a search then scans it in memory. The 360 reads one golden
record's rows from the store (`crm_core.customer360.load_customer`) and takes its analytics
from the same cached frames as the other pages (`ui.analysis`), so the numbers agree.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import date

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from crm_core import store
from crm_core.customer360 import Customer360, analytics, load_customer, next_best_action
from crm_core.customize import RuleSet, load_rules
from crm_core.directory import (
    ACTIVITY_COLUMNS,
    directory_page,
    search_customers,
    search_index,
    with_activity,
)
from crm_core.errors import VinculoError
from crm_core.i18n.format import format_date, format_money, format_number, format_percent
from crm_core.identity_merge import PROFILE_FIELDS
from crm_core.lifecycle import rule_table as stage_rules
from crm_core.relationship import RelationshipRules
from crm_core.relationship import rule_table as type_rules
from crm_core.segment_config import SegmentConfig
from crm_core.segments import segment_label
from ui import analysis
from ui.context import customer_url, t
from ui.filters import Filters

Key = tuple[str, int, date, str, str, str, str]
LIMIT = 50
"""Rows a search or the default listing shows."""

STATUS_COLORS = {
    "completed": "#2e7d32", "partially_refunded": "#9ccc65", "refunded": "#ef6c00",
    "cancelled": "#c62828", "failed": "#6d4c41", "pending": "#1e88e5",
}  # fmt: skip


def key_of(f: Filters, db: str, version: int) -> Key:
    """The cache key of the page's global filters."""
    return (db, version, f.as_of, f.config_json, f.channel, f.segment, f.tier)


def _window(key: Key) -> int:
    return SegmentConfig.from_json(key[3]).window_days


@st.cache_resource(show_spinner=False, max_entries=2)
def index(db: str, version: int) -> pl.DataFrame:
    """`crm_core.directory.search_index` of the store at `version`."""
    del version
    with store.connect(db) as con:
        return search_index(con)


@st.cache_data(show_spinner=False, max_entries=64)
def search(key: Key, query: str) -> pl.DataFrame:
    """`search_customers` for `query` with each golden record's activity at the as-of date.

    Ignores the channel/segment/tier filters: a search finds anyone."""
    db, version, as_of = key[:3]
    found_index = index(db, version)
    with store.connect(db) as con:
        rows = search_customers(con, query, limit=LIMIT, index=found_index)
    return with_activity(rows, analysis.summary(db, version, as_of, _window(key)))


@st.cache_data(show_spinner=False, max_entries=16)
def listing(key: Key) -> pl.DataFrame:
    """`directory_page`: the top golden records by net revenue among the filtered customers."""
    db, version, as_of, config_json, channel, segment, tier = key
    summary = analysis.summary(db, version, as_of, _window(key))
    keep = pl.repeat(True, summary.height, dtype=pl.Boolean, eager=True)
    if channel:
        keep &= (summary["main_channel"] == channel).fill_null(False)
    if segment or tier:
        seg = analysis.segmented(db, version, as_of, config_json)
        if segment:
            keep &= seg["segment"].cast(pl.String) == segment
        if tier:
            keep &= seg["tier"].cast(pl.String) == tier
    shown = summary.filter(keep)
    found_index = index(db, version)
    with store.connect(db) as con:
        rows = directory_page(con, shown, limit=LIMIT, index=found_index)
    return with_activity(rows, shown)


@st.cache_resource(show_spinner=False, max_entries=32)
def customer(db: str, version: int, customer_id: str, as_of: date) -> Customer360 | VinculoError:
    """`load_customer` at `as_of`, or the user error (unknown or erased id)."""
    del version
    try:
        with store.connect(db) as con:
            return load_customer(con, customer_id, as_of)
    except VinculoError as exc:
        return exc


@st.cache_data(show_spinner=False, max_entries=32)
def analytics_row(key: Key, golden_id: str) -> pl.DataFrame:
    """`customer360.analytics` from the whole-store frames the other pages use (unfiltered)."""
    db, version, as_of, config_json = key[:4]
    return analytics(
        golden_id,
        analysis.summary(db, version, as_of, _window(key)),
        analysis.segmented(db, version, as_of, config_json),
        analysis.staged(db, version, as_of, config_json),
        analysis.relationship(db, version, as_of, _window(key)),
        analysis.model_scores(db, version, as_of),
    )


@st.cache_resource(show_spinner=False, max_entries=4)
def ruleset(db: str, version: int) -> RuleSet | VinculoError:
    """The latest "default" rule set of the Customize page (its defaults when none saved)."""
    del version
    try:
        with store.connect(db) as con:
            return load_rules(con)
    except VinculoError as exc:
        return exc


def action(rules: RuleSet, row: pl.DataFrame, consents: pl.DataFrame) -> dict:
    """The next best action of the analytics `row` as a dict (`next_best_action`)."""
    return next_best_action(row, rules, consents).row(0, named=True)


def close_customer() -> None:
    """Button callback: leave the 360 view for the directory."""
    if "customer" in st.query_params:
        del st.query_params["customer"]


def open_on_select(golden_ids: list[str], table_key: str) -> Callable[[], None]:
    """Selection callback for the results table `table_key` (rows = `golden_ids`): opens the
    picked customer's 360. A callback runs only when the selection changes, so coming back
    to the directory does not reopen the last pick."""

    def callback() -> None:
        rows = st.session_state[table_key].selection.rows
        if rows and rows[0] < len(golden_ids):
            st.query_params["customer"] = golden_ids[rows[0]]

    return callback


# ---- labels --------------------------------------------------------------------------------


def code_label(code: str | None) -> str | None:
    """A channel/type/outcome code in the user's language (unknown codes as they are)."""
    if code is None:
        return None
    key = f"page.customers.code.{code}"
    text = t(key)
    return code if text == key else text


def relabel(frame: pl.DataFrame, **columns: Callable[[str], str | None]) -> pl.DataFrame:
    """`frame` with each named column's values mapped through its function (nulls kept).

    The functions run here, once per distinct value, in the script's thread (they read the
    session's language), not inside Polars."""
    mapped = []
    for name, fn in columns.items():
        values = frame[name].drop_nulls().unique().to_list()
        mapping = {v: fn(v) for v in values}
        mapped.append(pl.col(name).replace_strict(mapping, default=None, return_dtype=pl.String))
    return frame.with_columns(mapped)


def reason_texts(config: SegmentConfig, lang: str) -> tuple[dict[str, str], dict[str, str]]:
    """Stage and relationship reason codes → their descriptions with the current thresholds."""
    stages = stage_rules(config.lifecycle, config.churn_window_days, lang)
    types = type_rules(RelationshipRules(), lang)
    return (
        dict(zip(stages["reason"], stages["description"], strict=True)),
        dict(zip(types["reason"], types["description"], strict=True)),
    )


def badges(facts: dict, lang: str) -> str:
    """Markdown badges of the analytics row: segment, tier, stage, relationship type."""
    values = (
        ("segment", segment_label(facts["segment"], lang), "blue"),
        ("tier", segment_label(facts["tier"], lang), "violet"),
        ("stage", t(f"lifecycle.stage.{facts['stage']}"), "orange"),
        ("relationship", t(f"relationship.type.{facts['relationship_type']}"), "green"),
    )
    return " ".join(
        f":{color}-badge[{plain_md(t(f'page.customers.badge.{name}', value=value))}]"
        for name, value, color in values
    )


def metric_values(facts: dict, lang: str) -> list[tuple[str, str]]:
    """(metric name, formatted value) of the analytics row, in display order."""
    return [
        ("orders", format_number(facts["orders"], lang)),
        ("revenue", format_money(facts["revenue"], lang)),
        ("clv", format_money(facts["clv"], lang)),
        ("p_alive", format_percent(facts["p_alive"], lang)),
        ("days_since", format_number(facts["recency_days"], lang)),
    ]


def explanations(facts: dict, config: SegmentConfig, lang: str) -> list[str]:
    """Captions under the metrics: RFM scores, why this stage, why this relationship type."""
    stage_why, type_why = reason_texts(config, lang)
    stage = t(f"lifecycle.stage.{facts['stage']}")
    kind = t(f"relationship.type.{facts['relationship_type']}")
    lines = []
    if facts["r_score"] is not None:
        lines.append(t("page.customers.rfm", r=facts["r_score"], f=facts["f_score"],
                       m=facts["m_score"]))  # fmt: skip
    lines.append(t("page.customers.stage_reason", stage=stage,
                   reason=stage_why.get(facts["stage_reason"], facts["stage_reason"])))  # fmt: skip
    reason = type_why.get(facts["relationship_reason"], facts["relationship_reason"])
    lines.append(t("page.customers.type_reason", type=kind, reason=reason))
    if facts["clv"] is None and facts["orders"]:
        lines.append(t("page.customers.no_model"))
    return lines


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$])")


def plain_md(text: object) -> str:
    """Customer-supplied text made inert for Markdown (every special character escaped)."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def _safe(text: object) -> str:
    """Customer-supplied text for Plotly labels: HTML-escaped."""
    return html.escape(str(text))


# ---- tables and charts ----------------------------------------------------------------------


def results_table(rows: pl.DataFrame, with_match: bool) -> pl.DataFrame:
    """The results as shown: a 360 link per golden record, profile, activity, match field."""
    links = pl.Series("customer", [customer_url(g) for g in rows["golden_id"]], dtype=pl.String)
    columns = ["name", "email", "phone", "document", "city", "state", "members"]
    columns += ["matched_on"] if with_match else []
    shown = rows.select(*columns, *ACTIVITY_COLUMNS).insert_column(0, links)
    if with_match:
        shown = relabel(shown, matched_on=lambda m: t(f"page.customers.match.{m}"))
    return shown


def _col(name: str) -> str:
    return t(f"page.customers.col.{name}")


def results_columns() -> dict:
    """Column formats of the results table."""
    text = st.column_config.TextColumn
    return {
        "customer": st.column_config.LinkColumn(
            _col("customer"), display_text=r"customer=([^&]+)", pinned=True
        ),
        **{c: text(_col(c)) for c in ("name", "email", "phone", "document", "city", "state")},
        "members": st.column_config.NumberColumn(
            _col("members"), help=t("page.customers.col.members.help"), format="%d"
        ),
        "matched_on": text(_col("matched_on")),
        "orders": st.column_config.NumberColumn(
            _col("orders"), help=t("page.customers.col.orders.help"), format="%d"
        ),
        "revenue": st.column_config.NumberColumn(
            _col("revenue"), help=t("page.customers.col.revenue.help"), format="R$ %.2f"
        ),
        "last_purchase": st.column_config.DateColumn(_col("last_purchase")),
    }


def profile_table(view: Customer360, lang: str) -> pl.DataFrame:
    """The golden profile as two text columns: field (translated) and value."""
    row = view.profile.row(0, named=True)
    fields = [*PROFILE_FIELDS, "created_at", "is_lead"]
    values = []
    for name in fields:
        value = row.get(name)
        if isinstance(value, bool):
            value = t("page.customers.yes") if value else t("page.customers.no")
        elif isinstance(value, date):
            value = format_date(value, lang)
        values.append(None if value is None else str(value))
    labels = [t(f"page.customers.field.{f}") for f in fields]
    return pl.DataFrame({"field": labels, "value": values}, schema=dict.fromkeys(
        ("field", "value"), pl.String))  # fmt: skip


def text_columns(*names: str) -> dict:
    """TextColumns titled from the page catalogue."""
    return {n: st.column_config.TextColumn(_col(n)) for n in names}


def money_columns(*names: str) -> dict:
    """Money columns titled from the page catalogue."""
    return {n: st.column_config.NumberColumn(_col(n), format="R$ %.2f") for n in names}


def when_columns(*names: str) -> dict:
    """Date-time columns titled from the page catalogue."""
    return {n: st.column_config.DatetimeColumn(_col(n), format="YYYY-MM-DD HH:mm") for n in names}


def timeline_chart(orders: pl.DataFrame, x_title: str, y_title: str) -> go.Figure:
    """One point per order (x = when, y = gross amount), one trace per status."""
    fig = go.Figure()
    present = orders["status"].unique().to_list()
    for status in [*(s for s in STATUS_COLORS if s in present), *sorted(set(present) - set(
            STATUS_COLORS))]:  # fmt: skip
        part = orders.filter(pl.col("status") == status)
        label = t(f"page.customers.status.{status}")
        hover = [
            f"{_safe(o)}<br>{_safe(code_label(c) or '—')} · {_safe(g or '—')}<br>R$ {n:,.2f}"
            for o, c, g, n in part.select(
                "order_id", "sales_channel", "category", "net_amount"
            ).iter_rows()
        ]  # fmt: skip
        fig.add_scatter(
            x=part["ordered_at"].to_list(), y=part["gross_amount"].to_list(), mode="markers",
            name=_safe(status if label.startswith("page.") else label), marker={
                "color": STATUS_COLORS.get(status, "#757575"), "size": 9},
            hovertext=hover, hoverinfo="text+x+y",
        )  # fmt: skip
    fig.update_layout(xaxis_title=x_title, yaxis_title=y_title, margin={"t": 10}, height=320)
    return fig


def _count(name: str) -> st.column_config.NumberColumn:
    return st.column_config.NumberColumn(_col(name), format="%d")


def _record(merged: bool) -> st.column_config.TextColumn | None:
    """The source-record column: shown only when the golden record has merged members."""
    return st.column_config.TextColumn(_col("record")) if merged else None


def order_columns(merged: bool) -> dict:
    """Column formats of the orders table (`merged`: show each row's source record)."""
    return {
        **text_columns("status", "sales_channel", "category"),
        "order_id": st.column_config.TextColumn(_col("order")),
        "source_customer_id": _record(merged),
        "gross_amount": st.column_config.NumberColumn(_col("gross"), format="%.2f"),
        "net_amount": st.column_config.NumberColumn(_col("net"), format="%.2f"),
        "items": _count("items"),
        **when_columns("ordered_at"),
    }


def interaction_columns(merged: bool) -> dict:
    """Column formats of the interactions table."""
    return {
        "interaction_id": None,
        "source_customer_id": _record(merged),
        **when_columns("occurred_at"),
        **text_columns("channel", "type", "direction", "outcome", "campaign", "owner", "subject"),
    }


def feedback_columns(merged: bool) -> dict:
    """Column formats of the feedback table."""
    return {
        "feedback_id": None,
        "source_customer_id": _record(merged),
        **when_columns("answered_at"),
        "csat": _count("csat"),
        "nps": _count("nps"),
        **text_columns("comment", "survey", "channel"),
    }


def record_columns() -> dict:
    """Column formats of the source-records table (profile fields titled like the profile)."""
    fields = {
        f: st.column_config.TextColumn(t(f"page.customers.field.{f}"))
        for f in (*PROFILE_FIELDS, "is_lead")
    }
    return {
        "upload_id": _count("upload"),
        "line": _count("line"),
        "customer_id": st.column_config.TextColumn(_col("record")),
        "source": st.column_config.TextColumn(_col("source")),
        **fields,
        **when_columns("created_at"),
    }


def member_columns() -> dict:
    """Column formats of the merged-records table."""
    return {
        "customer_id": st.column_config.TextColumn(_col("record")),
        "is_golden": st.column_config.CheckboxColumn(_col("is_golden")),
        "rule": st.column_config.TextColumn(_col("rule")),
        "score": st.column_config.NumberColumn(_col("score"), format="%.2f"),
        "linked_by": st.column_config.TextColumn(_col("linked_by")),
        **when_columns("linked_at"),
    }

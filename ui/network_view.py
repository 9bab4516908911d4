"""Network development page: cached acquisition-source and partner-channel frames, and charts.

Cached functions take `key` = (store path, data version, as_of, config JSON, channel,
segment, tier) — the global filters. The one pass over the orders (`purchase_history`) is
cached per store state and as-of date; the filters then only re-aggregate in memory. The
acquisition spend comes from Settings, read on every run (a save there does not bump the
data version) and passed to the cost functions as JSON, so a new spend shows at once.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from crm_core import store
from crm_core.i18n import translate
from crm_core.i18n.format import format_money, format_number
from crm_core.network import (
    acquisition_cost,
    acquisition_facts,
    partner_channels,
    purchase_history,
    retention_curves,
    source_performance,
    with_cost,
)
from crm_core.period import bucket_start
from crm_core.segment_config import SegmentConfig
from crm_core.settings import BusinessSettings, spend_frame
from ui import analysis, settings_view
from ui.context import lang, t
from ui.filters import Filters

Key = tuple[str, int, date, str, str, str, str]
COHORT = ("source", "cohort")
SPANS: tuple[int, ...] = (3, 6, 12, 24)
"""Months of partner-channel history the page offers."""


def key_of(f: Filters, db: str, version: int) -> Key:
    """The cache key of the page's global filters."""
    return (db, version, f.as_of, f.config_json, f.channel, f.segment, f.tier)


def settings_json(db: str) -> str:
    """The business settings in force as JSON (`ui.settings_view.current`)."""
    return settings_view.current(db).to_json()


@st.cache_resource(show_spinner=False, max_entries=4)
def history(db: str, version: int, as_of: date) -> pl.DataFrame:
    """`crm_core.network.purchase_history` at `as_of` (one pass over the orders)."""
    del version
    with store.connect(db) as con:
        return purchase_history(con, as_of)


@dataclass(frozen=True)
class Facts:
    """`acquisition_facts` of every customer and of those the global filters leave."""

    everyone: pl.DataFrame
    filtered: pl.DataFrame
    has_clv: bool


@st.cache_resource(show_spinner=False, max_entries=4)
def everyone(db: str, version: int, as_of: date, window_days: int) -> tuple[pl.DataFrame, bool]:
    """`acquisition_facts` of every customer, and whether the CLV model could be fitted."""
    summary = analysis.summary(db, version, as_of, window_days)
    clv = analysis.model_scores(db, version, as_of)
    return acquisition_facts(summary, history(db, version, as_of), clv, as_of), clv is not None


@st.cache_resource(show_spinner=False, max_entries=8)
def facts(key: Key, _subset: pl.DataFrame | None) -> Facts:
    """Acquisition facts; `_subset` (ids passing the filters, None = all) is implied by `key`."""
    db, version, as_of, config_json = key[:4]
    window = SegmentConfig.from_json(config_json).window_days
    all_facts, has_clv = everyone(db, version, as_of, window)
    if _subset is None:
        return Facts(all_facts, all_facts, has_clv)
    return Facts(all_facts, all_facts.join(_subset, on="customer_id", how="semi"), has_clv)


@st.cache_resource(show_spinner=False, max_entries=16)
def tables(key: Key, _subset: pl.DataFrame | None, settings: str) -> tuple[pl.DataFrame, ...]:
    """(per source, per source × cohort, retention curves): `crm_core.network` tables, with the
    spend columns of `acquisition_cost` computed on every customer of the source."""
    fr = facts(key, _subset)
    spend = spend_frame(BusinessSettings.from_json(settings))
    as_of = key[2]
    sources = with_cost(
        source_performance(fr.filtered), acquisition_cost(fr.everyone, spend, as_of)
    )
    cohort_cost = acquisition_cost(fr.everyone, spend, as_of, COHORT)
    cohorts = with_cost(source_performance(fr.filtered, COHORT), cohort_cost, COHORT)
    return sources, cohorts, retention_curves(fr.filtered, as_of)


@st.cache_resource(show_spinner=False, max_entries=8)
def partners(
    key: Key, _subset: pl.DataFrame | None, months: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`crm_core.network.partner_channels` over the `months` calendar months ending at as_of."""
    as_of = key[2]
    first = _months_back(bucket_start(as_of, "month"), months - 1)
    with store.connect(key[0]) as con:
        return partner_channels(con, first, as_of, _subset)


def _months_back(first_of_month: date, months: int) -> date:
    """The first day of the month `months` months before `first_of_month`."""
    index = first_of_month.year * 12 + first_of_month.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


# ---- labels -------------------------------------------------------------------------------


def source_label(code: str | None) -> str:
    """An acquisition source or sales channel as shown to the user (unknown codes as they are)."""
    if code is None:
        return t("page.network.total")
    key = f"page.network.source.{code}"
    text = translate(key, lang())
    return code if text == key else text


def _safe(text: object) -> str:
    return html.escape(str(text))


# ---- charts -------------------------------------------------------------------------------


def sources_chart(table: pl.DataFrame, names: dict[str, str]) -> go.Figure:
    """Customers brought per source (bars, left axis) and their average CLV (diamonds, right)."""
    labels = [_safe(source_label(s)) for s in table["source"]]
    fig = go.Figure()
    fig.add_bar(x=labels, y=table["customers"].to_list(), name=names["customers"])
    if table["avg_clv"].is_not_null().any():
        fig.add_scatter(
            x=labels, y=table["avg_clv"].to_list(), name=names["avg_clv"], yaxis="y2",
            mode="markers", marker={"symbol": "diamond", "size": 12},
        )  # fmt: skip
    fig.update_layout(
        yaxis={"title": names["customers"]},
        yaxis2={"title": names["avg_clv"], "overlaying": "y", "side": "right",
                "rangemode": "tozero", "tickprefix": "R$ "},
        legend={"orientation": "h", "y": 1.12}, margin={"t": 30}, height=380,
    )  # fmt: skip
    return fig


def curves_chart(curves: pl.DataFrame, x_title: str, y_title: str) -> go.Figure:
    """Retention curves: share of buyers purchasing k months after their first-purchase month."""
    fig = go.Figure()
    for (source,), part in curves.group_by("source", maintain_order=True):
        fig.add_scatter(
            x=part["period"].to_list(), y=part["share"].to_list(), mode="lines+markers",
            name=_safe(source_label(source)), marker={"size": 4},
        )  # fmt: skip
    fig.update_layout(xaxis_title=x_title, yaxis_title=y_title, yaxis_tickformat=".0%")
    return fig.update_layout(margin={"t": 10}, height=380)


def clv_cac_chart(table: pl.DataFrame, x_title: str, y_title: str, even: str) -> go.Figure:
    """CAC (x) against CLV per acquired customer (y) per source with spend; the diagonal is
    CLV = CAC (above it the predicted value exceeds what a customer cost)."""
    rows = table.filter(pl.col("cac").is_not_null())
    fig = go.Figure()
    top = max([*rows["cac"].to_list(), *rows["clv_per_acquired"].fill_null(0).to_list(), 1.0])
    fig.add_scatter(x=[0, top * 1.1], y=[0, top * 1.1], mode="lines", name=even,
                    line={"dash": "dot", "color": "grey"})  # fmt: skip
    fig.add_scatter(
        x=rows["cac"].to_list(), y=rows["clv_per_acquired"].to_list(), mode="markers+text",
        text=[_safe(source_label(s)) for s in rows["source"]], textposition="top center",
        marker={"size": 14}, showlegend=False,
    )  # fmt: skip
    fig.update_layout(xaxis_title=x_title, yaxis_title=y_title, margin={"t": 10}, height=380)
    return fig.update_layout(xaxis_tickprefix="R$ ", yaxis_tickprefix="R$ ")


def partner_chart(trend: pl.DataFrame, groups: dict[str, str], y_title: str) -> go.Figure:
    """Monthly net revenue, stacked: own channels and partner channels."""
    fig = go.Figure()
    for group, name in groups.items():
        part = trend.filter(pl.col("group") == group)
        fig.add_bar(x=part["month"].to_list(), y=part["revenue"].to_list(), name=name)
    fig.update_layout(barmode="stack", yaxis_title=y_title, yaxis_tickprefix="R$ ")
    return fig.update_layout(margin={"t": 10}, height=340, legend={"orientation": "h"})


# ---- tables -------------------------------------------------------------------------------

_SPEND_COLUMNS = ("spend", "cac", "clv_cac")
_SHOWN = (
    "customers", "buyers", "share_bought", "first_order_value", "retention_12m", "retention_base",
    "avg_clv", "revenue", "revenue_per_customer",
)  # fmt: skip


def shown(table: pl.DataFrame, by: tuple[str, ...] = ("source",)) -> pl.DataFrame:
    """A performance table for display: source labels, and the spend columns as text where
    "not provided" stands for a missing spend (never a number that was not entered)."""
    missing = t("page.network.not_provided")

    def text(column: str, fmt) -> pl.Series:
        values = [missing if v is None else fmt(v) for v in table[column].to_list()]
        return pl.Series(column, values, pl.String)

    money = lambda v: format_money(v, lang())  # noqa: E731
    ratio = lambda v: format_number(v, lang(), 2) + "×"  # noqa: E731
    out = table.with_columns(
        pl.Series("source", [source_label(s) for s in table["source"]], pl.String),
        text("spend", money), text("cac", money), text("clv_cac", ratio),
    )  # fmt: skip
    return out.select(*by, *_SHOWN, *_SPEND_COLUMNS)


def typed_column(kind: str, label: str, help_: str) -> st.column_config.Column:
    """A column format by kind: count, money (BRL), share (0–1 shown as %), points (a number
    already in percentage points), date, flag (checkbox) or text."""
    if kind == "count":
        return st.column_config.NumberColumn(label, help=help_, format="localized")
    if kind == "money":
        return st.column_config.NumberColumn(label, help=help_, format="R$ %.2f")
    if kind == "share":
        return st.column_config.NumberColumn(label, help=help_, format="percent")
    if kind == "points":
        return st.column_config.NumberColumn(label, help=help_, format="%+.1f%%")
    if kind == "date":
        return st.column_config.DateColumn(label, help=help_, format="YYYY-MM-DD")
    if kind == "flag":
        return st.column_config.CheckboxColumn(label, help=help_)
    return st.column_config.TextColumn(label, help=help_)


def _col(kind: str, name: str) -> st.column_config.Column:
    return typed_column(kind, t(f"page.network.col.{name}"), t(f"page.network.col.{name}.help"))


def source_columns() -> dict:
    """Column formats of the per-source and per-cohort tables."""
    kinds = {
        "source": "text", "customers": "count", "buyers": "count", "share_bought": "share",
        "first_order_value": "money", "retention_12m": "share", "retention_base": "count",
        "avg_clv": "money", "revenue": "money", "revenue_per_customer": "money",
        "spend": "text", "cac": "text", "clv_cac": "text",
    }  # fmt: skip
    columns = {name: _col(kind, name) for name, kind in kinds.items()}
    columns["cohort"] = st.column_config.DateColumn(
        t("page.network.col.cohort"), help=t("page.network.col.cohort.help"), format="YYYY-MM"
    )
    return columns


def channel_shown(table: pl.DataFrame) -> pl.DataFrame:
    """The partner/own channel table for display: group and channel labels."""
    groups = [
        t(f"page.network.group.{g}") if g else t("page.network.total") for g in table["group"]
    ]
    channels = [
        source_label(c) if c else (t("page.network.all_channels") if g else "")
        for g, c in zip(table["group"], table["channel"], strict=True)
    ]
    return table.with_columns(
        pl.Series("group", groups, pl.String), pl.Series("channel", channels, pl.String)
    )


def channel_columns() -> dict:
    """Column formats of the partner/own channel table."""
    kinds = {"group": "text", "channel": "text", "revenue": "money", "orders": "count",
             "customers": "count", "revenue_share": "share"}  # fmt: skip
    return {name: _col(kind, f"ch_{name}") for name, kind in kinds.items()}

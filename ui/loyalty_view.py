"""Loyalty & churn page: cached analytics under the global filters, and its charts.

Every cached function takes `key` = (store path, data version, as_of, config JSON, channel,
segment, tier): the page's global filters. Heavy frames are computed once per key; the
page's own widgets (signal lookback, survival dimension) only re-run the part they feed.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from crm_core import churn, store
from crm_core.loyalty import (
    churned_customers,
    dissolution_rate,
    dissolution_timeline,
    tier_pyramid,
)
from crm_core.relationship import type_counts
from crm_core.segment_config import SegmentConfig
from crm_core.survival import survival_curves
from ui import analysis
from ui.context import t
from ui.filters import Filters, row_mask

Key = tuple[str, int, date, str, str, str, str]

MAX_LOOKBACK = 720
"""Longest signal window the page offers (days)."""

DIMENSIONS: tuple[str, ...] = ("segment", "tier", "acquisition_channel", "main_channel")
"""Survival-curve groupings offered on the page."""


@dataclass(frozen=True)
class Frames:
    """Summary, segments/tiers, stages (with segment and tier) and CLV scores, filtered."""

    summary: pl.DataFrame
    segmented: pl.DataFrame
    staged: pl.DataFrame
    clv: pl.DataFrame | None
    mask: pl.Series
    churn_window_days: int


def key_of(f: Filters, db: str, version: int) -> Key:
    """The cache key of the page's global filters."""
    return (db, version, f.as_of, f.config_json, f.channel, f.segment, f.tier)


@st.cache_resource(show_spinner=False, max_entries=8)
def frames(key: Key) -> Frames:
    """The filtered analytics frames of `key` (see `Frames`)."""
    db, version, as_of, config_json = key[:4]
    config = SegmentConfig.from_json(config_json)
    summary = analysis.summary(db, version, as_of, config.window_days)
    segmented = analysis.segmented(db, version, as_of, config_json)
    staged = analysis.staged(db, version, as_of, config_json)
    clv = analysis.model_scores(db, version, as_of)
    keep = row_mask(summary, segmented, *key[4:])
    staged = staged.hstack(segmented.select("segment", "tier"))
    return Frames(
        summary.filter(keep), segmented.filter(keep), staged.filter(keep),
        None if clv is None else clv.select("customer_id", "clv"), keep, config.churn_window_days,
    )  # fmt: skip


@st.cache_resource(show_spinner=False, max_entries=8)
def pyramid(key: Key) -> pl.DataFrame:
    """`crm_core.loyalty.tier_pyramid` of the filtered customers."""
    fr = frames(key)
    return tier_pyramid(fr.segmented, fr.summary, fr.clv)


@st.cache_data(show_spinner=False, max_entries=16)
def rate(key: Key) -> dict[str, float | int]:
    """`crm_core.loyalty.dissolution_rate` of the filtered customers."""
    fr = frames(key)
    return dissolution_rate(fr.staged, fr.summary)


@st.cache_resource(show_spinner=False, max_entries=8)
def churned(key: Key) -> pl.DataFrame:
    """`crm_core.loyalty.churned_customers` of the filtered customers."""
    fr = frames(key)
    return churned_customers(fr.staged, fr.summary, fr.churn_window_days, fr.segmented)


@st.cache_resource(show_spinner=False, max_entries=8)
def timeline(key: Key) -> pl.DataFrame:
    """`crm_core.loyalty.dissolution_timeline` of the filtered churned customers."""
    return dissolution_timeline(churned(key))


@st.cache_resource(show_spinner=False, max_entries=8)
def signal_profile(key: Key) -> pl.DataFrame:
    """`crm_core.churn.signal_profile` (churned vs active buyers, up to `MAX_LOOKBACK` days):
    the one store query behind the signals; the lookback slider then only re-aggregates it."""
    fr = frames(key)
    with store.connect(key[0]) as con:
        return churn.signal_profile(
            con, churned(key), churn.active_buyers(fr.staged, fr.summary), key[2], MAX_LOOKBACK
        )


@st.cache_data(show_spinner=False, max_entries=8)
def drill_down(key: Key, top: int, n: int = 3) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The `top` most valuable churned customers with their touchpoint digest, and the
    `last_touchpoints` (n per kind) behind it."""
    who = churned(key).head(top)
    with store.connect(key[0]) as con:
        touch = churn.last_touchpoints(con, who.select("customer_id"), key[2], n)
    digest = churn.touchpoint_digest(touch)
    table = who.join(digest, on="customer_id", how="left", maintain_order="left")
    return table, touch


@st.cache_resource(show_spinner=False, max_entries=16)
def curves(key: Key, dimension: str) -> pl.DataFrame:
    """`crm_core.survival.survival_curves` of the filtered buyers by `dimension`."""
    fr = frames(key)
    return survival_curves(fr.summary, fr.staged, dimension, key[2], fr.churn_window_days)


@st.cache_resource(show_spinner=False, max_entries=8)
def relationship_mix(key: Key) -> pl.DataFrame:
    """`crm_core.relationship.type_counts` of the filtered customers."""
    db, version, as_of, config_json = key[:4]
    window = SegmentConfig.from_json(config_json).window_days
    typed = analysis.relationship(db, version, as_of, window)
    return type_counts(typed.filter(frames(key).mask))


# ---- charts -------------------------------------------------------------------------------


def _safe(text: object) -> str:
    """Customer- or analyst-supplied text for Plotly labels: HTML-escaped."""
    return html.escape(str(text))


def pyramid_chart(
    pyr: pl.DataFrame, labels: list[str], notes: list[str], counts: list[str]
) -> go.Figure:
    """Funnel-shaped bars, best tier on top: width = customers; the tier's value in its label."""
    ticks = [f"<b>{_safe(x)}</b><br>{_safe(n)}" for x, n in zip(labels, notes, strict=True)]
    fig = go.Figure(
        go.Funnel(
            y=ticks, x=pyr["customers"].to_list(), text=counts, textinfo="text",
            textposition="inside", hoverinfo="y",
        )
    )  # fmt: skip
    return fig.update_layout(margin={"l": 10, "r": 10, "t": 10, "b": 10}, height=340)


def timeline_chart(frame: pl.DataFrame, y_title: str) -> go.Figure:
    """Churned customers by month of their last purchase."""
    fig = go.Figure(go.Bar(x=frame["month"].to_list(), y=frame["customers"].to_list()))
    return fig.update_layout(yaxis_title=y_title, margin={"t": 10}, height=300)


def signals_chart(sig: pl.DataFrame, names: dict[str, str], groups: dict[str, str]) -> go.Figure:
    """Churned vs active bars for each rate signal, with the rate printed on the bar."""
    fig = go.Figure()
    for row in sig.iter_rows(named=True):
        values = [row[c] for c in names]
        fig.add_bar(
            name=groups[row["group"]], x=list(names.values()), y=values,
            text=[None if v is None else f"{v:.1%}" for v in values], textposition="outside",
        )  # fmt: skip
    fig.update_layout(barmode="group", yaxis_tickformat=".0%", margin={"t": 10}, height=320)
    return fig


def survival_chart(cur: pl.DataFrame, x_title: str, y_title: str, label) -> go.Figure:
    """Kaplan–Meier step curves, one line per group."""
    fig = go.Figure()
    for (group,), part in cur.group_by("group", maintain_order=True):
        fig.add_scatter(
            x=part["months"].to_list(), y=part["survival"].to_list(), mode="lines",
            line_shape="hv", name=_safe(label(group)),
        )  # fmt: skip
    fig.update_layout(xaxis_title=x_title, yaxis_title=y_title, yaxis_range=[0, 1.02])
    return fig.update_layout(yaxis_tickformat=".0%", margin={"t": 10}, height=380)


def mix_chart(mix: pl.DataFrame, labels: list[str]) -> go.Figure:
    """Relationship types as a donut."""
    fig = go.Figure(
        go.Pie(labels=[_safe(x) for x in labels], values=mix["customers"].to_list(), hole=0.5)
    )
    return fig.update_layout(margin={"t": 10, "b": 10}, height=320)


# ---- tables -------------------------------------------------------------------------------


def relabel(frame: pl.DataFrame, column: str, label) -> pl.DataFrame:
    """`frame` with the codes in `column` replaced by their display labels."""
    return frame.with_columns(pl.Series(column, [label(v) for v in frame[column]], pl.String))


def relabel_all(frame: pl.DataFrame, **labels) -> pl.DataFrame:
    """`relabel` for several columns at once (`column=label_function`); nulls stay null."""
    for column, label in labels.items():
        values = frame[column].to_list()
        frame = frame.with_columns(
            pl.Series(column, [None if v is None else label(v) for v in values], pl.String)
        )
    return frame


def _count(key: str) -> st.column_config.NumberColumn:
    return st.column_config.NumberColumn(t(key), format="localized")


def _money(key: str, help_key: str | None = None) -> st.column_config.NumberColumn:
    return st.column_config.NumberColumn(
        t(key), format="R$ %.2f", help=t(help_key) if help_key else None
    )


def _share(key: str, help_key: str | None = None) -> st.column_config.NumberColumn:
    return st.column_config.NumberColumn(
        t(key), format="percent", help=t(help_key) if help_key else None
    )


def pyramid_columns() -> dict:
    """Column formats of the tier pyramid table."""
    return {
        "tier": st.column_config.TextColumn(t("page.loyalty.col.tier")),
        "customers": _count("page.loyalty.col.customers"),
        "share": _share("page.loyalty.col.share", "page.loyalty.col.share.help"),
        "revenue": _money("page.loyalty.col.revenue", "page.loyalty.col.revenue.help"),
        "revenue_share": _share("page.loyalty.col.revenue_share"),
        "mean_revenue": _money("page.loyalty.col.mean_revenue"),
        "mean_clv": _money("page.loyalty.col.mean_clv", "page.loyalty.col.mean_clv.help"),
    }


def signal_columns() -> dict:
    """Column formats of the pre-churn signal table (definitions as help)."""
    rates = ("complaint_rate", "unresolved_rate", "low_csat_rate")
    config: dict = {
        "group": st.column_config.TextColumn(t("page.loyalty.col.group")),
        "customers": _count("page.loyalty.col.customers"),
        **{c: _share(f"page.loyalty.signal.{c}", f"page.loyalty.signal.{c}.help") for c in rates},
        "csat_respondents": _count("page.loyalty.signal.csat_respondents"),
        "nps_answers": _count("page.loyalty.signal.nps_answers"),
    }
    for name, fmt in (("mean_csat", "%.2f"), ("nps", "%.1f"), ("contacts_per_customer", "%.2f")):
        config[name] = st.column_config.NumberColumn(
            t(f"page.loyalty.signal.{name}"), format=fmt, help=t(f"page.loyalty.signal.{name}.help")
        )
    return config


def median_columns(group_title: str) -> dict:
    """Column formats of the median-lifetime table."""
    return {
        "group": st.column_config.TextColumn(group_title),
        "median_months": st.column_config.NumberColumn(
            t("page.loyalty.col.median_months"),
            format="%.1f",
            help=t("page.loyalty.col.median_months.help"),
        ),
    }


def churned_columns() -> dict:
    """Column formats of the churned-customer drill-down table."""
    text = st.column_config.TextColumn
    day = st.column_config.DateColumn
    return {
        "customer_id": text(t("page.loyalty.col.customer")),
        "last_purchase": day(t("page.loyalty.col.last_purchase")),
        "churn_day": day(
            t("page.loyalty.col.churn_day"), help=t("page.loyalty.col.churn_day.help")
        ),
        "days_since": _count("page.loyalty.col.days_since"),
        "purchase_days": _count("page.loyalty.col.purchase_days"),
        "revenue": _money("page.loyalty.col.revenue", "page.loyalty.col.revenue.help"),
        "reason": text(t("page.loyalty.col.reason")),
        "segment": text(t("page.loyalty.col.segment")),
        "tier": text(t("page.loyalty.col.tier")),
        "last_contact_day": day(t("page.loyalty.col.last_contact_day")),
        "last_contact_type": text(t("page.loyalty.col.last_contact_type")),
        "last_contact_outcome": text(t("page.loyalty.col.last_contact_outcome")),
        "last_feedback_day": day(t("page.loyalty.col.last_feedback_day")),
        "last_csat": _count("page.loyalty.col.last_csat"),
        "last_nps": _count("page.loyalty.col.last_nps"),
        "last_comment": text(t("page.loyalty.col.last_comment")),
    }


def touch_columns() -> dict:
    """Column formats of one customer's last touchpoints."""
    text = st.column_config.TextColumn
    return {
        "customer_id": None,
        "kind": text(t("page.loyalty.col.kind")),
        "day": st.column_config.DateColumn(t("page.loyalty.col.day")),
        "channel": text(t("page.loyalty.col.channel")),
        "type": text(t("page.loyalty.col.type_touch")),
        "outcome": text(t("page.loyalty.col.outcome")),
        "subject": text(t("page.loyalty.col.subject")),
        "csat": _count("page.loyalty.col.last_csat"),
        "nps": _count("page.loyalty.col.last_nps"),
        "comment": text(t("page.loyalty.col.last_comment")),
    }

"""Value proposition page: cached campaign-by-segment frames, the rules per segment, charts.

Cached functions take `key` = (store path, data version, as_of, config JSON, channel,
segment, tier) — the global filters. The sends and orders are read and tied to the
customer rows once per store state and as-of date (`campaign_inputs`); the window length and
the filters then only re-run the per-campaign pass. Rules and settings are read on every run
(a save on Customize or Settings does not bump the data version) and keyed by their JSON.
"""

from __future__ import annotations

import html
from datetime import date

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from crm_core import store
from crm_core.portfolio import customer_economics, portfolio, profitability, service_counts
from crm_core.proposition import (
    CampaignData,
    campaign_data,
    campaign_response,
    current_ruleset,
    pooled,
    segment_offers,
    with_service_cost,
)
from crm_core.segment_config import SegmentConfig
from crm_core.segments import segment_label
from crm_core.settings import BusinessSettings, has_service_costs, load_settings
from ui import analysis
from ui.context import lang, t
from ui.customize_view import assigned
from ui.filters import Filters
from ui.network_view import typed_column

Key = tuple[str, int, date, str, str, str, str]
WINDOWS: tuple[int, ...] = (7, 14, 30, 60, 90)
"""Measurement windows (days after the last send) the page offers."""
MEASURES: tuple[str, ...] = ("revenue_uplift", "purchase_uplift", "response_rate",
                             "revenue_per_contacted")  # fmt: skip
"""Measures the campaign × segment heat map can show."""
COST_MONTHS = 12
"""Months of cost to serve shown per segment (the Portfolio page's default window)."""


def key_of(f: Filters, db: str, version: int) -> Key:
    """The cache key of the page's global filters."""
    return (db, version, f.as_of, f.config_json, f.channel, f.segment, f.tier)


@st.cache_data(show_spinner=False, max_entries=4)
def current_inputs(db: str, config_version: str) -> tuple[str, str]:
    """(rule set in force, business settings), both as JSON, as of the saved
    configurations' fingerprint (`ui.context.config_version`)."""
    del config_version
    with store.connect(db) as con:
        return current_ruleset(con).to_json(), load_settings(con).to_json()


@st.cache_resource(show_spinner=False, max_entries=4)
def campaign_inputs(db: str, version: int, as_of: date, window_days: int) -> CampaignData:
    """`crm_core.proposition.campaign_data` over every customer of the summary (in its order)."""
    summary = analysis.summary(db, version, as_of, window_days)
    known = pl.min_horizontal("created_on", "first_purchase").alias("known_since")
    with store.connect(db) as con:
        return campaign_data(con, summary.select("customer_id", known), as_of)


@st.cache_resource(show_spinner=False, max_entries=16)
def response(key: Key, _subset: pl.DataFrame | None, days: int) -> pl.DataFrame:
    """`campaign_response` by segment under the filters (`_subset` is implied by `key`)."""
    db, version, as_of, config_json = key[:4]
    window = SegmentConfig.from_json(config_json).window_days
    summary = analysis.summary(db, version, as_of, window)
    segments = analysis.segmented(db, version, as_of, config_json)["segment"]
    scope = None
    if _subset is not None:
        scope = summary["customer_id"].is_in(_subset["customer_id"].implode())
    data = campaign_inputs(db, version, as_of, window)
    return campaign_response(data, segments, days, as_of, scope)


@st.cache_data(show_spinner=False, max_entries=32)
def pooled_by(key: Key, _subset: pl.DataFrame | None, days: int, by: str) -> pl.DataFrame:
    """`crm_core.proposition.pooled` of `response` by "segment", "campaign" or "all"."""
    return pooled(response(key, _subset, days), None if by == "all" else by)


@st.cache_resource(show_spinner=False, max_entries=4)
def service(db: str, version: int, as_of: date) -> pl.DataFrame:
    """`crm_core.portfolio.service_counts` of the `COST_MONTHS` months to as-of."""
    del version
    with store.connect(db) as con:
        return service_counts(con, as_of, COST_MONTHS)


@st.cache_resource(show_spinner=False, max_entries=8)
def offers(key: Key, rules_json: str, settings_json: str) -> pl.DataFrame:
    """`segment_offers` of the rules in force (the Customize page's cached assignment), with
    the segment's cost to serve per customer when costs are set in Settings."""
    table = segment_offers(assigned(key, rules_json))
    settings = BusinessSettings.from_json(settings_json)
    if not has_service_costs(settings):
        return table
    mine = assigned(key, rules_json).select("customer_id", "segment")
    served = portfolio(mine, service(key[0], key[1], key[2]))
    costs = profitability(customer_economics(served, settings), "segment")
    return with_service_cost(table, costs)


# ---- labels -------------------------------------------------------------------------------


def label(name: str | None) -> str:
    """A segment name as shown to the user."""
    return segment_label(name, lang()) if name else "—"


def _safe(text: object) -> str:
    return html.escape(str(text))


# ---- charts -------------------------------------------------------------------------------


def heatmap(table: pl.DataFrame, measure: str, title: str) -> go.Figure:
    """Campaigns (rows, latest on top) × segments (columns), coloured by `measure`."""
    campaigns = table.select("campaign", "first_day").unique().sort("first_day", "campaign")
    segments = sorted(table["segment"].unique().to_list())
    grid = campaigns.join(
        table.pivot(on="segment", index="campaign", values=measure), on="campaign", how="left"
    )
    z = [[row.get(s) for s in segments] for row in grid.iter_rows(named=True)]
    fig = go.Figure(
        go.Heatmap(
            z=z, x=[_safe(label(s)) for s in segments], y=[_safe(c) for c in grid["campaign"]],
            colorscale="RdBu" if measure.endswith("uplift") else "Blues", zmid=0
            if measure.endswith("uplift") else None, colorbar={"title": title},
            hoverongaps=False,
        )
    )  # fmt: skip
    height = max(320, 18 * grid.height + 120)
    return fig.update_layout(margin={"t": 10}, height=height, yaxis={"dtick": 1})


def groups_chart(table: pl.DataFrame, names: dict[str, str], y_title: str) -> go.Figure:
    """Per segment: revenue per contacted customer next to revenue per comparison customer."""
    x = [_safe(label(s)) for s in table["segment"]]
    fig = go.Figure()
    fig.add_bar(x=x, y=table["revenue_per_contacted"].to_list(), name=names["contacted"])
    fig.add_bar(x=x, y=table["revenue_per_comparison"].to_list(), name=names["comparison"])
    fig.update_layout(barmode="group", yaxis_title=y_title, yaxis_tickprefix="R$ ")
    fig.update_layout(legend={"orientation": "h", "y": 1.12}, xaxis_tickangle=-30)
    return fig.update_layout(margin={"t": 30}, height=380)


# ---- tables -------------------------------------------------------------------------------


def relabel(frame: pl.DataFrame, column: str = "segment") -> pl.DataFrame:
    """`frame` with segment names shown in the user's language."""
    return frame.with_columns(pl.Series(column, [label(v) for v in frame[column]], pl.String))


def _col(kind: str, name: str) -> st.column_config.Column:
    label_, help_ = t(f"page.proposition.col.{name}"), t(f"page.proposition.col.{name}.help")
    return typed_column(kind, label_, help_)


_RESPONSE = {
    "campaign": "text", "segment": "text", "campaigns": "count", "first_day": "date",
    "window_end": "date", "complete": "flag", "contacted": "count", "response_rate": "share",
    "conversion_rate": "share", "revenue_per_contacted": "money",
    "purchase_rate_contacted": "share", "comparison": "count", "revenue_per_comparison": "money",
    "purchase_rate_comparison": "share", "revenue_uplift": "money", "purchase_uplift": "points",
}  # fmt: skip


def response_shown(table: pl.DataFrame, first: tuple[str, ...]) -> pl.DataFrame:
    """The columns a response table shows, `first` leading; uplift in percentage points."""
    columns = [*first, *(c for c in _RESPONSE if c not in first and c in table.columns)]
    out = relabel(table) if "segment" in table.columns else table
    return out.select(columns).with_columns(pl.col("purchase_uplift") * 100)


def response_columns() -> dict:
    """Column formats of the response tables."""
    return {name: _col(kind, name) for name, kind in _RESPONSE.items()}


def offer_columns() -> dict:
    """Column formats of the proposition-per-segment table."""
    kinds = {"segment": "text", "rule": "text", "customers": "count", "share": "share",
             "priority": "count", "offer": "text", "channel": "text",
             "cost_to_serve_per_customer": "money"}  # fmt: skip
    return {name: _col(kind, f"offer_{name}") for name, kind in kinds.items()}

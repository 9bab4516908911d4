"""Interact page: cached touchpoint analytics under the global filters, and their charts.

Every cached function takes `key` = (store path, data version, as_of, config JSON, channel,
segment, tier, period start, period end). The period's interactions are read once per
period (`period_frame`) and restricted to the customers passing the filters; the page's own
widgets (chart dimension, path length, conversion window, attention rules) only re-run the
cheap aggregation they feed.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date, timedelta

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from crm_core import attention as att
from crm_core import interact as ix
from crm_core import interact_paths as paths_core
from crm_core import store
from crm_core.errors import VinculoError
from crm_core.period import Period
from crm_core.segment_config import SegmentConfig
from ui import analysis
from ui.context import customer_url, t
from ui.filters import Filters

Key = tuple[str, int, date, str, str, str, str, date, date]

LOOKBACK_DAYS = 90
"""Days between the two P(alive) dates of the attention list (as_of and as_of − 90)."""

SHOWN_ROWS = 1000
"""Attention-list rows drawn on the page (the download holds them all)."""


@dataclass(frozen=True)
class Scope:
    """Customers passing the channel/segment/tier filters: their summary facts and whether
    any filter is set (unfiltered = every customer not erased)."""

    customers: pl.DataFrame
    filtered: bool


def key_of(f: Filters, db: str, version: int) -> Key:
    """The cache key of the page's global filters."""
    return (db, version, f.as_of, f.config_json, f.channel, f.segment, f.tier,
            f.period.start, f.period.end)  # fmt: skip


def period_of(key: Key) -> Period:
    return Period(key[7], key[8])


@st.cache_resource(show_spinner=False, max_entries=4)
def period_frame(db: str, version: int, start: date, end: date) -> pl.DataFrame:
    """`crm_core.interact.period_interactions` of the period (every customer)."""
    del version
    with store.connect(db) as con:
        return ix.period_interactions(con, Period(start, end))


@st.cache_resource(show_spinner=False, max_entries=8)
def scope(key: Key) -> Scope:
    """The customers passing the filters (summary columns customer_id, account_manager,
    revenue)."""
    db, version, as_of, config_json, channel, segment, tier = key[:7]
    summary = analysis.summary(db, version, as_of, SegmentConfig.from_json(config_json).window_days)
    keep = pl.repeat(True, summary.height, dtype=pl.Boolean, eager=True)
    if channel:
        keep &= (summary["main_channel"] == channel).fill_null(False)
    if segment or tier:
        segmented = analysis.segmented(db, version, as_of, config_json)
        if segment:
            keep &= segmented["segment"].cast(pl.String) == segment
        if tier:
            keep &= segmented["tier"].cast(pl.String) == tier
    columns = summary.select("customer_id", "account_manager", "revenue")
    return Scope(columns.filter(keep), bool(channel or segment or tier))


@st.cache_resource(show_spinner=False, max_entries=8)
def interactions(key: Key) -> pl.DataFrame:
    """The period's interactions of the customers in scope."""
    frame = period_frame(key[0], key[1], key[7], key[8])
    sc = scope(key)
    return ix.restrict(frame, sc.customers if sc.filtered else None)


@st.cache_data(show_spinner=False, max_entries=32)
def over_time(key: Key, by: str) -> pl.DataFrame:
    """`crm_core.interact.interactions_over_time` by `by`."""
    return ix.interactions_over_time(interactions(key), period_of(key), by)


@st.cache_data(show_spinner=False, max_entries=16)
def contacts(key: Key) -> tuple[pl.DataFrame, dict]:
    """`contact_distribution` and `contact_stats` of the customers in scope."""
    counts = ix.contacts_per_customer(interactions(key), scope(key).customers)
    return ix.contact_distribution(counts), ix.contact_stats(counts)


@st.cache_resource(show_spinner=False, max_entries=8)
def last_contacts(db: str, version: int, as_of: date) -> pl.DataFrame:
    """`crm_core.interact.last_contacts` at `as_of` (every customer)."""
    del version
    with store.connect(db) as con:
        return ix.last_contacts(con, as_of)


def clv_scores(db: str, version: int, day: date) -> pl.DataFrame | None:
    """P(alive) and CLV per buyer at `day` (default model settings); None if unfittable."""
    fitted = analysis.clv_fit(db, version, day)
    return None if isinstance(fitted, VinculoError) else fitted.customers


@st.cache_resource(show_spinner=False, max_entries=8)
def recency(key: Key) -> tuple[pl.DataFrame, str]:
    """Customers in scope with `value` and days since last contact; the value's source
    ('clv' when the models could be fitted, else 'revenue')."""
    db, version, as_of = key[:3]
    customers = scope(key).customers.select("customer_id", "revenue")
    scores = clv_scores(db, version, as_of)
    if scores is None:
        values, source = customers.rename({"revenue": "value"}), "revenue"
    else:
        clv = scores.select("customer_id", value="clv")
        values = customers.select("customer_id").join(
            clv, on="customer_id", how="left", maintain_order="left"
        )
        source = "clv"
    return ix.contact_recency(values, last_contacts(db, version, as_of), as_of), source


@st.cache_data(show_spinner=False, max_entries=16)
def recency_value(key: Key) -> tuple[pl.DataFrame, str]:
    """`crm_core.interact.recency_value_bins` of the customers in scope, and the value source."""
    frame, source = recency(key)
    return ix.recency_value_bins(frame), source


@st.cache_data(show_spinner=False, max_entries=16)
def rates(key: Key) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`channel_rates` and `campaign_rates` of the period's interactions in scope."""
    frame = interactions(key)
    return ix.channel_rates(frame), ix.campaign_rates(frame)


@st.cache_resource(show_spinner=False, max_entries=8)
def runs(key: Key) -> pl.DataFrame:
    """`crm_core.interact_paths.channel_runs` with purchases from the period start to as_of."""
    db, as_of, start = key[0], key[2], key[7]
    with store.connect(db) as con:
        purchases = paths_core.purchases_between(con, start, max(as_of, start))
    return paths_core.channel_runs(interactions(key), purchases)


@st.cache_data(show_spinner=False, max_entries=32)
def sequences(key: Key, steps: int, within_days: int) -> tuple[pl.DataFrame, pl.DataFrame, dict]:
    """`channel_paths`, `channel_transitions` and `multichannel_share` of the runs."""
    r = runs(key)
    return (
        paths_core.channel_paths(r, steps, within_days),
        paths_core.channel_transitions(r, within_days),
        paths_core.multichannel_share(r),
    )


@st.cache_resource(show_spinner=False, max_entries=8)
def attention_facts(key: Key) -> tuple[pl.DataFrame, bool]:
    """`crm_core.attention.attention_facts` of the customers in scope (value percentiles over
    every customer), and whether CLV models could be fitted."""
    db, version, as_of = key[:3]
    everyone = analysis.summary(
        db, version, as_of, SegmentConfig.from_json(key[3]).window_days
    ).select("customer_id", owner="account_manager", revenue="revenue")
    now = clv_scores(db, version, as_of)
    before = None if now is None else clv_scores(db, version, as_of - timedelta(days=LOOKBACK_DAYS))
    values = att.customer_values(everyone, now, before)
    sc = scope(key)
    if sc.filtered:
        values = values.join(sc.customers.select("customer_id"), on="customer_id", how="semi")
    days = ix.contact_recency(values.select("customer_id"), last_contacts(db, version, as_of),
                              as_of)  # fmt: skip
    return att.attention_facts(values, days), now is not None


@st.cache_resource(show_spinner=False, max_entries=16)
def attention(key: Key, rules: att.AttentionRules) -> pl.DataFrame:
    """`crm_core.attention.attention_list` of the customers in scope under `rules`."""
    return att.attention_list(attention_facts(key)[0], rules)


# ---- charts -------------------------------------------------------------------------------


def _safe(text: object) -> str:
    """Customer- or analyst-supplied text for Plotly labels: HTML-escaped."""
    return html.escape(str(text))


def over_time_chart(frame: pl.DataFrame, label, y_title: str) -> go.Figure:
    """Stacked bars of interactions per bucket, one colour per value."""
    fig = go.Figure()
    for (value,), part in frame.group_by("value", maintain_order=True):
        fig.add_bar(x=part["bucket"].to_list(), y=part["interactions"].to_list(),
                    name=_safe(label(value)))  # fmt: skip
    fig.update_layout(barmode="stack", yaxis_title=y_title, margin={"t": 10}, height=340)
    return fig


def histogram_chart(dist: pl.DataFrame, x_title: str, y_title: str) -> go.Figure:
    """Customers per number of contacts (the last bar is 'cap or more')."""
    cap = int(dist["contacts"].max())  # type: ignore[arg-type]
    ticks = [str(n) if n < cap else f"{n}+" for n in dist["contacts"]]
    fig = go.Figure(go.Bar(x=ticks, y=dist["customers"].to_list()))
    fig.update_layout(xaxis_title=x_title, yaxis_title=y_title, margin={"t": 10}, height=300)
    return fig.update_xaxes(type="category")  # "10+" is a label, not a number


def heatmap_chart(
    cells: pl.DataFrame, x_labels: dict[str, str], y_labels: dict[int, str], titles: tuple
) -> go.Figure:
    """Customers per (days since last contact × value band) cell."""
    xs = [x for x in ix.RECENCY_BINS if x in set(cells["recency_bin"].cast(pl.String))]
    ys = sorted(y_labels)
    grid = {
        (r["recency_bin"], r["value_band"]): r["customers"] for r in cells.iter_rows(named=True)
    }
    z = [[grid.get((x, y), 0) for x in xs] for y in ys]
    fig = go.Figure(go.Heatmap(
        x=[x_labels[x] for x in xs], y=[y_labels[y] for y in ys], z=z, colorscale="Blues",
        text=z, texttemplate="%{text}", hovertemplate="%{x}<br>%{y}<br>%{z}<extra></extra>",
    ))  # fmt: skip
    fig.update_layout(xaxis_title=titles[0], yaxis_title=titles[1], margin={"t": 10}, height=380)
    return fig


def rates_chart(frame: pl.DataFrame, label, names: dict[str, str]) -> go.Figure:
    """Grouped bars: response and resolution rate per channel."""
    fig = go.Figure()
    channels = [_safe(label(c)) for c in frame["channel"]]
    for column, name in names.items():
        values = frame[column].to_list()
        fig.add_bar(x=channels, y=values, name=name, textposition="outside",
                    text=[None if v is None else f"{v:.0%}" for v in values])  # fmt: skip
    fig.update_layout(barmode="group", yaxis_tickformat=".0%", yaxis_range=[0, 1.1])
    return fig.update_layout(margin={"t": 10}, height=320)


def paths_chart(frame: pl.DataFrame, path_labels: list[str], x_title: str) -> go.Figure:
    """Horizontal bars: customers per path (most common on top), conversion in the label."""
    rates = [f"{r:.0%}" for r in frame["conversion_rate"]]
    fig = go.Figure(go.Bar(
        y=[_safe(p) for p in path_labels][::-1], x=frame["customers"].to_list()[::-1],
        orientation="h", text=rates[::-1], textposition="outside", cliponaxis=False,
    ))  # fmt: skip
    height = 120 + 24 * frame.height
    return fig.update_layout(xaxis_title=x_title, margin={"t": 10}, height=height)


def transitions_chart(frame: pl.DataFrame, label, titles: tuple[str, str]) -> go.Figure:
    """From-channel × to-channel matrix of transition counts; conversion in the hover."""
    names = sorted(set(frame["from_channel"]) | set(frame["to_channel"]))
    rows = {(r["from_channel"], r["to_channel"]): r for r in frame.iter_rows(named=True)}
    cell = [[rows.get((a, b)) for b in names] for a in names]
    z = [[r["transitions"] if r else 0 for r in line] for line in cell]
    rate = [[f"{r['conversion_rate']:.0%}" if r else "" for r in line] for line in cell]
    shown = [_safe(label(n)) for n in names]
    fig = go.Figure(go.Heatmap(
        x=shown, y=shown, z=z, customdata=rate, colorscale="Purples", text=z,
        texttemplate="%{text}", hovertemplate="%{y} → %{x}: %{z} (%{customdata})<extra></extra>",
    ))  # fmt: skip
    fig.update_layout(xaxis_title=titles[1], yaxis_title=titles[0], margin={"t": 10}, height=380)
    return fig.update_yaxes(autorange="reversed")


# ---- tables -------------------------------------------------------------------------------


def relabel(frame: pl.DataFrame, column: str, label) -> pl.DataFrame:
    """`frame` with the codes in `column` replaced by their display labels (nulls stay);
    `label` runs once per distinct code, not once per row."""
    codes = frame[column].cast(pl.String)
    mapping = {c: label(c) for c in codes.unique().drop_nulls().to_list()}
    return frame.with_columns(codes.replace_strict(mapping, default=None, return_dtype=pl.String))


def with_links(frame: pl.DataFrame) -> pl.DataFrame:
    """`frame` with a leading `customer` column: the link to each customer's 360 view."""
    links = [customer_url(c) for c in frame["customer_id"]]
    return frame.select(pl.Series("customer", links, pl.String), pl.all())


def _count(key: str, help_key: str | None = None) -> st.column_config.NumberColumn:
    return st.column_config.NumberColumn(
        t(key), format="localized", help=t(help_key) if help_key else None
    )


def _share(key: str, help_key: str | None = None) -> st.column_config.NumberColumn:
    return st.column_config.NumberColumn(
        t(key), format="percent", help=t(help_key) if help_key else None
    )


def _money(key: str, help_key: str | None = None) -> st.column_config.NumberColumn:
    return st.column_config.NumberColumn(
        t(key), format="R$ %.2f", help=t(help_key) if help_key else None
    )


def channel_columns() -> dict:
    """Column formats of the rates-by-channel table."""
    p = "page.interact.col."
    return {
        "channel": st.column_config.TextColumn(t(p + "channel")),
        "interactions": _count(p + "interactions"),
        "outbound": _count(p + "outbound", p + "outbound.help"),
        "responses": _count(p + "responses"),
        "response_rate": _share(p + "response_rate", p + "response_rate.help"),
        "conversions": _count(p + "conversions"),
        "conversion_rate": _share(p + "conversion_rate", p + "conversion_rate.help"),
        "cases": _count(p + "cases", p + "cases.help"),
        "resolved": _count(p + "resolved"),
        "resolution_rate": _share(p + "resolution_rate", p + "resolution_rate.help"),
    }


def campaign_columns() -> dict:
    """Column formats of the rates-by-campaign table."""
    p = "page.interact.col."
    return {
        "campaign": st.column_config.TextColumn(t(p + "campaign")),
        "channel": st.column_config.TextColumn(t(p + "channel")),
        "first_day": st.column_config.DateColumn(t(p + "first_day")),
        "last_day": st.column_config.DateColumn(t(p + "last_day")),
        "outbound": _count(p + "sent"),
        "responses": _count(p + "responses"),
        "response_rate": _share(p + "response_rate", p + "response_rate.help"),
        "conversions": _count(p + "conversions"),
        "conversion_rate": _share(p + "conversion_rate", p + "conversion_rate.help"),
    }


def path_columns() -> dict:
    """Column formats of the channel-path table."""
    p = "page.interact.col."
    return {
        "path": st.column_config.TextColumn(t(p + "path")),
        "steps": _count(p + "steps"),
        "customers": _count(p + "customers"),
        "converted": _count(p + "converted"),
        "conversion_rate": _share(p + "path_conversion", p + "path_conversion.help"),
    }


def attention_columns() -> dict:
    """Column formats of the attention list."""
    p = "page.interact.col."
    return {
        "customer": st.column_config.LinkColumn(
            t(p + "customer"), display_text=r"customer=([^&]+)", help=t(p + "customer.help")
        ),
        "customer_id": None,
        "owner": st.column_config.TextColumn(t(p + "owner"), help=t(p + "owner.help")),
        "value": _money(p + "value", p + "value.help"),
        "value_percentile": _share(p + "value_percentile", p + "value_percentile.help"),
        "p_alive_now": _share(p + "p_alive_now"),
        "p_alive_before": _share(p + "p_alive_before"),
        "p_alive_change": st.column_config.NumberColumn(
            t(p + "p_alive_change"), format="%+.2f", help=t(p + "p_alive_change.help")
        ),
        "last_contact": st.column_config.DateColumn(t(p + "last_contact")),
        "days_since_contact": _count(p + "days_since_contact"),
        "reason": st.column_config.TextColumn(t(p + "reason")),
    }

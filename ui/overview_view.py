"""Overview (KPI dashboard): cached KPI computations under the global filters, and its charts.

Every cached function takes `key` = (store path, data version, as_of, period start,
period end, config JSON, channel, segment, tier): the global filters. The headline
table, the trends of every KPI and each breakdown dimension are computed once per
key (several KPIs share one pass over the orders), so choosing another KPI on the
page only picks rows out of cached frames.
"""

from __future__ import annotations

from datetime import date

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from crm_core import store
from crm_core.cohorts import cohort_matrix, cohort_retention
from crm_core.i18n import translate
from crm_core.i18n.format import format_money, format_number, format_percent
from crm_core.kpis import (
    KPIS,
    contact_rate_by_channel,
    kpi_breakdowns,
    kpi_definition,
    kpi_table,
    kpi_trends,
)
from crm_core.period import Period
from crm_core.segment_config import SegmentConfig
from crm_core.segments import segment_label
from ui import analysis, filters
from ui.filters import Filters

Key = tuple[str, int, date, date, date, str, str, str, str]

HEADLINE: tuple[tuple[str, ...], ...] = (
    ("active_customers", "new_customers", "retention_rate", "churn_rate", "repeat_purchase_rate"),
    ("revenue", "aov", "avg_clv"),
    ("csat", "nps", "contact_rate"),
)
"""The headline cards, one row each: customers, value (wide cards for money), service."""

DIMENSIONS: tuple[str, ...] = ("segment", "tier", "stage", "main_channel")
"""Customer groupings of the breakdowns."""

TREND_MONTHS = 12
"""Calendar months the trend charts cover, ending with the KPI period's end."""


def key_of(f: Filters, db: str, version: int) -> Key:
    """The cache key of the global filters."""
    p = f.period
    return (db, version, f.as_of, p.start, p.end, f.config_json, f.channel, f.segment, f.tier)


def _filters(key: Key) -> Filters:
    return Filters(key[2], Period(key[3], key[4]), key[6], key[7], key[8], key[5])


def period_of(key: Key) -> Period:
    """The KPI period of `key`."""
    return Period(key[3], key[4])


def trend_window(end: date, months: int = TREND_MONTHS) -> tuple[date, date]:
    """The `months` calendar months ending with `end`'s month: (first day, `end`)."""
    index = end.year * 12 + end.month - 1 - (months - 1)
    return date(index // 12, index % 12 + 1, 1), end


@st.cache_resource(show_spinner=False, max_entries=16)
def subset(key: Key) -> pl.DataFrame | None:
    """`ui.filters.customer_subset` of the key's filters (None when unfiltered)."""
    return filters.customer_subset(_filters(key))


def clv_frame(key: Key) -> pl.DataFrame | None:
    """`customer_id, clv` from the CLV model fitted at as-of (None if it cannot be fitted)."""
    scores = analysis.model_scores(key[0], key[1], key[2])
    return None if scores is None else scores.select("customer_id", "clv")


@st.cache_data(show_spinner=False, max_entries=32)
def headline(key: Key) -> pl.DataFrame:
    """`crm_core.kpis.kpi_table` for the key's period, customers and CLV scores."""
    with store.connect(key[0]) as con:
        return kpi_table(con, period_of(key), subset(key), clv_frame(key))


@st.cache_data(show_spinner=False, max_entries=32)
def trends(key: Key) -> pl.DataFrame:
    """`crm_core.kpis.kpi_trends` of every KPI, by month over `trend_window(period end)`."""
    start, end = trend_window(key[4])
    with store.connect(key[0]) as con:
        return kpi_trends(con, list(KPIS), start, end, "month", subset(key), clv_frame(key))


def groups(key: Key, dimension: str) -> pl.DataFrame:
    """`customer_id, group` for a breakdown dimension (customers without a group left out)."""
    db, version, as_of, config_json = key[0], key[1], key[2], key[5]
    if dimension in ("segment", "tier"):
        frame = analysis.segmented(db, version, as_of, config_json).select("customer_id", dimension)
    elif dimension == "stage":
        frame = analysis.staged(db, version, as_of, config_json).select("customer_id", "stage")
    else:
        window = SegmentConfig.from_json(config_json).window_days
        frame = analysis.summary(db, version, as_of, window).select("customer_id", "main_channel")
    frame = frame.rename({frame.columns[1]: "group"})
    return frame.with_columns(pl.col("group").cast(pl.Utf8)).drop_nulls("group")


def group_order(key: Key, dimension: str) -> list[str]:
    """The natural display order of a dimension's groups (enum order; channels by name)."""
    db, version, as_of, config_json = key[0], key[1], key[2], key[5]
    if dimension in ("segment", "tier"):
        dtype = analysis.segmented(db, version, as_of, config_json).schema[dimension]
    elif dimension == "stage":
        dtype = analysis.staged(db, version, as_of, config_json).schema["stage"]
    else:
        return []
    return list(dtype.categories) if isinstance(dtype, pl.Enum) else []


_SEP = "\x1f"
"""Joins dimension and group in the combined breakdown query (never in a name)."""


@st.cache_data(show_spinner=False, max_entries=32)
def breakdowns(key: Key) -> pl.DataFrame:
    """`crm_core.kpis.kpi_breakdowns` of every KPI by every dimension over the period, in
    one query (groups of all dimensions stacked). Columns `dimension`, `kpi`, `group`,
    `value`; groups in their natural order within a dimension."""
    stacked = pl.concat(
        [groups(key, d).with_columns(group=pl.lit(d + _SEP) + pl.col("group")) for d in DIMENSIONS]
    )
    with store.connect(key[0]) as con:
        out = kpi_breakdowns(con, list(KPIS), period_of(key), stacked, subset(key), clv_frame(key))
    parts = pl.col("group").str.split_exact(_SEP, 1)
    out = out.with_columns(
        dimension=parts.struct.field("field_0"), group=parts.struct.field("field_1")
    )
    ranks = pl.DataFrame(
        [(d, g, i) for d in DIMENSIONS for i, g in enumerate(group_order(key, d))],
        schema={"dimension": pl.Utf8, "group": pl.Utf8, "rank": pl.Int64}, orient="row",
    )  # fmt: skip
    dims = pl.col("dimension").replace_strict({d: i for i, d in enumerate(DIMENSIONS)})
    return (
        out.join(ranks, on=["dimension", "group"], how="left")
        .sort(dims, "kpi", pl.col("rank").fill_null(len(ranks)), "group")
        .select("dimension", "kpi", "group", "value")
    )


@st.cache_data(show_spinner=False, max_entries=32)
def cohorts(key: Key) -> pl.DataFrame:
    """`crm_core.cohorts.cohort_retention` (monthly, customers) for the cohorts acquired
    in the trend window, activity up to the period's end."""
    start, end = trend_window(key[4])
    with store.connect(key[0]) as con:
        return cohort_retention(con, "month", "customers", start, end, subset(key))


@st.cache_data(show_spinner=False, max_entries=32)
def contact_rates(key: Key) -> pl.DataFrame:
    """`crm_core.kpis.contact_rate_by_channel` over the period."""
    with store.connect(key[0]) as con:
        return contact_rate_by_channel(con, period_of(key), subset(key))


# ---- formatting ------------------------------------------------------------------------------


SCORE_DECIMALS = {"contact_rate": 2}
"""Decimals of a plain-number KPI (default 1: NPS, CSAT mean)."""


def format_value(kpi: str, value: float | None, lang: str) -> str:
    """A KPI value as shown on its card: customers, money, % or a plain score."""
    unit = KPIS[kpi].unit
    if unit == "count":
        return format_number(value, lang)
    if unit == "money":
        return format_money(value, lang)
    if unit == "rate":
        return format_percent(value, lang)
    return format_number(value, lang, decimals=SCORE_DECIMALS.get(kpi, 1))


def month_label(day: date, lang: str) -> str:
    """A calendar month as shown on axes: `06/2026` (pt_BR) or `2026-06` (en)."""
    return day.strftime("%m/%Y") if lang == "pt_BR" else day.strftime("%Y-%m")


def _signed(text: str, change: float) -> str:
    """`text` with a plus sign for a rise (a fall already carries its minus sign)."""
    return f"+{text}" if change > 0 else text


def format_delta(kpi: str, change: float | None, change_pct: float | None, lang: str) -> str | None:
    """The change against the previous period as shown on a card: rates in percentage
    points, NPS in points, other scores as plain numbers, counts and money with the
    relative change (None: no base)."""
    if change is None:
        return None
    unit = KPIS[kpi].unit
    if unit == "rate":
        points = format_number(change * 100, lang, decimals=1)
        return _signed(translate("page.overview.pp", lang, value=points), change)
    if kpi == "nps":
        points = format_number(change, lang, decimals=1)
        return _signed(translate("page.overview.points", lang, value=points), change)
    if unit == "score":
        return _signed(format_number(change, lang, SCORE_DECIMALS.get(kpi, 1)), change)
    body = format_money(change, lang) if unit == "money" else format_number(change, lang)
    if change_pct is None:
        return _signed(body, change)
    return f"{_signed(body, change)} ({_signed(format_percent(change_pct, lang), change_pct)})"


def card_help(kpi: str, value: float | None, lang: str) -> str:
    """A card's hover text: the KPI's one-line definition (and why average CLV is missing)."""
    text = kpi_definition(kpi, lang)
    if KPIS[kpi].needs_clv and value is None:
        text += " " + translate("page.overview.clv_missing", lang)
    return text


def delta_style(kpi: str, change: float | None) -> dict[str, str]:
    """`st.metric` delta colour and arrow: red for a rise of a lower-is-better KPI
    (churn, contact rate); grey without an arrow when nothing changed."""
    if not change:
        return {"delta_color": "off", "delta_arrow": "off"}
    return {"delta_color": "normal" if KPIS[kpi].higher_is_better else "inverse"}


def group_label(dimension: str, group: str, lang: str) -> str:
    """A breakdown group as shown to the user (translated names; unknown ones unchanged)."""
    if dimension in ("segment", "tier"):
        return segment_label(group, lang)
    key = f"lifecycle.stage.{group}" if dimension == "stage" else f"page.overview.channel.{group}"
    text = translate(key, lang)
    return group if text == key else text


# ---- charts ------------------------------------------------------------------------------------


def _axis_format(kpi: str) -> dict[str, str]:
    return {"tickformat": ".0%"} if KPIS[kpi].unit == "rate" else {}


def trend_figure(trend: pl.DataFrame, kpi: str, lang: str) -> go.Figure:
    """Line of one KPI by month (`kpi_trend` rows); hover text in the user's locale."""
    text = [format_value(kpi, v, lang) for v in trend["value"]]
    months = [month_label(d, lang) for d in trend["bucket"]]
    fig = go.Figure(
        go.Scatter(
            x=trend["bucket"].to_list(), y=trend["value"].to_list(), mode="lines+markers",
            customdata=list(zip(months, text, strict=True)),
            hovertemplate="%{customdata[0]}: %{customdata[1]}<extra></extra>",
        )
    )  # fmt: skip
    fig.update_xaxes(tickvals=trend["bucket"].to_list(), ticktext=months)
    return fig.update_layout(margin={"t": 10, "b": 10}, yaxis=_axis_format(kpi), height=320)


def breakdown_figure(rows: pl.DataFrame, kpi: str, labels: list[str], lang: str) -> go.Figure:
    """Bars of one KPI per group (`kpi_breakdown` rows), values written in the locale."""
    text = [format_value(kpi, v, lang) for v in rows["value"]]
    fig = go.Figure(
        go.Bar(
            x=labels, y=rows["value"].to_list(), text=text, textposition="auto",
            hovertemplate="%{x}: %{text}<extra></extra>",
        )
    )  # fmt: skip
    return fig.update_layout(margin={"t": 10, "b": 10}, yaxis=_axis_format(kpi), height=300)


def cohort_figure(long: pl.DataFrame, lang: str, x_title: str) -> go.Figure:
    """Heatmap of `cohort_matrix(long)`: one row per acquisition month, share retained
    per month since acquisition, cells written as % in the locale."""
    matrix = cohort_matrix(long, "share")
    periods = [c for c in matrix.columns if c not in ("cohort", "cohort_size")]
    z = matrix.select(periods).rows()
    text = [[format_percent(v, lang, 0) if v is not None else "" for v in row] for row in z]
    cohorts_shown = [month_label(d, lang) for d in matrix["cohort"]]
    fig = go.Figure(
        go.Heatmap(
            z=z, x=[int(p) for p in periods], y=cohorts_shown, text=text,
            texttemplate="%{text}", colorscale="Blues", zmin=0, zmax=1,
            hovertemplate="%{y} · %{x}: %{text}<extra></extra>", colorbar={"tickformat": ".0%"},
        )
    )  # fmt: skip
    fig.update_yaxes(autorange="reversed", type="category")
    return fig.update_layout(margin={"t": 10, "b": 10}, height=420, xaxis_title=x_title)


def contact_figure(rates: pl.DataFrame, labels: list[str], lang: str) -> go.Figure:
    """Bars of contacts per active customer in each interaction channel."""
    text = [format_number(v, lang, decimals=2) for v in rates["contact_rate"]]
    fig = go.Figure(
        go.Bar(
            x=labels, y=rates["contact_rate"].to_list(), text=text, textposition="auto",
            hovertemplate="%{x}: %{text}<extra></extra>",
        )
    )  # fmt: skip
    return fig.update_layout(margin={"t": 10, "b": 10}, height=300)

"""Portfolio page: cached portfolio frames under the global filters, its charts and columns.

`key` = (store path, data version, as_of, config JSON, channel, segment, tier). The store
query (`service_counts`) is cached per (store, version, as_of, window); the join with the
filtered customers per (key, window); costs, quadrants and bins re-derive in memory when the
saved settings or the splits change (settings are read each run: saving them writes a
config version, not data, so the data version does not move).
"""

from __future__ import annotations

import html
import math
from datetime import date

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from crm_core import store
from crm_core.differentiate import Concentration
from crm_core.i18n.format import format_money, format_number
from crm_core.portfolio import (
    QUADRANTS,
    Splits,
    assign_quadrants,
    axis_position,
    customer_economics,
    matrix_bins,
    median_splits,
    portfolio,
    portfolio_totals,
    profitability,
    quadrant_customers,
    quadrant_summary,
    revenue_concentration,
    service_counts,
)
from crm_core.segment_config import SegmentConfig
from crm_core.segments import segment_label
from crm_core.settings import BusinessSettings
from ui import analysis, settings_view
from ui.context import config_version, customer_url, lang, t
from ui.filters import Filters

Key = tuple[str, int, date, str, str, str, str]
Cut = tuple[float, float]
"""Matrix splits as a cache key: (value, cost) in BRL."""
WINDOWS: tuple[int, ...] = (3, 6, 12, 24)
"""Window lengths (months) the page offers."""
SHOWN = 1000
"""Customers of a quadrant listed on the page (the download holds them all)."""


def key_of(f: Filters, db: str, version: int) -> Key:
    """The cache key of the page's global filters."""
    return (db, version, f.as_of, f.config_json, f.channel, f.segment, f.tier)


def current_settings(db: str) -> tuple[BusinessSettings, int]:
    """The latest saved business settings and their version (0: none saved)."""
    settings, versions = settings_view.latest(db, config_version())
    return settings, int(versions["version"].max() or 0)


@st.cache_resource(show_spinner=False, max_entries=4)
def counts(db: str, version: int, as_of: date, months: int) -> pl.DataFrame:
    """`crm_core.portfolio.service_counts` of the window."""
    del version
    with store.connect(db) as con:
        return service_counts(con, as_of, months)


@st.cache_resource(show_spinner=False, max_entries=4)
def served(key: Key, months: int) -> pl.DataFrame:
    """The served customers passing the global filters, with segment, tier and counts."""
    db, version, as_of, config_json, channel, segment, tier = key
    config = SegmentConfig.from_json(config_json)
    summary = analysis.summary(db, version, as_of, config.window_days)
    seg = analysis.segmented(db, version, as_of, config_json)
    frame = summary.select("customer_id", "main_channel").hstack(seg.select("segment", "tier"))
    keep = [
        pl.col(name).cast(pl.String) == value
        for name, value in (("main_channel", channel), ("segment", segment), ("tier", tier))
        if value
    ]
    customers = frame.filter(*keep).drop("main_channel") if keep else frame.drop("main_channel")
    return portfolio(customers, counts(db, version, as_of, months))


@st.cache_resource(show_spinner=False, max_entries=4)
def economics(key: Key, months: int, settings_json: str) -> pl.DataFrame:
    """`customer_economics` of the served customers under the settings."""
    return customer_economics(served(key, months), BusinessSettings.from_json(settings_json))


@st.cache_data(show_spinner=False, max_entries=16)
def totals(key: Key, months: int, settings_json: str) -> dict[str, float]:
    """`portfolio_totals` of the served customers."""
    return portfolio_totals(economics(key, months, settings_json))


@st.cache_data(show_spinner=False, max_entries=16)
def medians(key: Key, months: int, settings_json: str) -> tuple[float, float]:
    """The default splits (value, cost): medians of revenue and cost to serve."""
    splits = median_splits(economics(key, months, settings_json))
    return splits.value, splits.cost


@st.cache_resource(show_spinner=False, max_entries=8)
def quadrants(key: Key, months: int, settings_json: str, splits: Cut) -> pl.DataFrame:
    """The served customers with their quadrant at the splits (value, cost)."""
    return assign_quadrants(economics(key, months, settings_json), Splits(*splits))


@st.cache_data(show_spinner=False, max_entries=16)
def matrix(key: Key, months: int, settings_json: str, splits: Cut) -> tuple:
    """(`quadrant_summary`, `matrix_bins`) at the splits."""
    frame = quadrants(key, months, settings_json, splits)
    return quadrant_summary(frame), matrix_bins(frame)


@st.cache_resource(show_spinner=False, max_entries=8)
def members(key: Key, months: int, settings_json: str, splits: Cut, quadrant: str):
    """`quadrant_customers` of one quadrant (all of them, most revenue first)."""
    return quadrant_customers(quadrants(key, months, settings_json, splits), quadrant)


@st.cache_data(show_spinner=False, max_entries=16)
def by_group(key: Key, months: int, settings_json: str, by: str) -> pl.DataFrame:
    """`profitability` per segment or tier."""
    return profitability(economics(key, months, settings_json), by)


@st.cache_resource(show_spinner=False, max_entries=8)
def revenue_spread(key: Key, months: int) -> Concentration:
    """`revenue_concentration` of the served customers."""
    return revenue_concentration(served(key, months))


# ---- display helpers -----------------------------------------------------------------------


def label(name: str | None) -> str:
    """A segment or tier name in the user's language."""
    return "" if name is None else segment_label(name, lang())


def quadrant_label(code: str) -> str:
    return t(f"page.portfolio.quadrant.{code}")


def relabel(frame: pl.DataFrame, column: str, fn) -> pl.DataFrame:
    """`frame` with `column`'s values passed through `fn`, as text (a few rows only)."""
    values = [fn(v) for v in frame[column].cast(pl.String)]
    return frame.with_columns(pl.Series(column, values, dtype=pl.String))


def headline(totals: dict[str, float]) -> list[tuple[str, str, str]]:
    """(label, value, help) of the headline metrics: served customers, then each total."""
    cards = [(t("page.portfolio.metric.served"), format_number(totals["customers"], lang()),
              t("page.portfolio.metric.served.help"))]  # fmt: skip
    return cards + [
        (t(f"page.portfolio.col.{n}"), format_money(v, lang()), t(f"page.portfolio.col.{n}.help"))
        for n, v in totals.items()
        if n != "customers"
    ]


def with_actions(summary: pl.DataFrame) -> pl.DataFrame:
    """The quadrant summary with the quadrant named and its recommended action."""
    actions = [t(f"page.portfolio.action.{q}") for q in summary["quadrant"].cast(pl.String)]
    shown = relabel(summary, "quadrant", quadrant_label)
    return shown.insert_column(1, pl.Series("action", actions, dtype=pl.String))


def linked(frame: pl.DataFrame) -> pl.DataFrame:
    """The first `SHOWN` rows with a `customer` link to each one's 360 view, labels shown."""
    top = frame.head(SHOWN)
    links = pl.Series("customer", [customer_url(c) for c in top["customer_id"]], pl.String)
    shown = relabel(relabel(top, "segment", label), "tier", label).drop("quadrant")
    return shown.insert_column(0, links)


def _safe(text: object) -> str:
    return html.escape(str(text))


def _grid(bins: pl.DataFrame, size: int) -> tuple[list[list], list[list]]:
    """Counts (None when empty) and hover texts of a `matrix_bins` frame as size × size grids."""
    z: list[list] = [[None] * size for _ in range(size)]
    hover: list[list] = [[""] * size for _ in range(size)]
    for row in bins.iter_rows(named=True):  # at most size² cells, not customers
        z[row["y_bin"]][row["x_bin"]] = row["customers"]
        hover[row["y_bin"]][row["x_bin"]] = t(
            "page.portfolio.matrix.hover", customers=format_number(row["customers"], lang()),
            value=f"{format_money(row['x_low'], lang())} – {format_money(row['x_high'], lang())}",
            cost=f"{format_money(row['y_low'], lang())} – {format_money(row['y_high'], lang())}",
        )  # fmt: skip
    return z, hover


def _colour(z: list[list]) -> tuple[list[list], dict]:
    """Colour by log10(customers) (one dense cell would wash out the rest), with a colour bar
    labelled in customers."""
    logs = [[None if n is None else math.log10(n) for n in row] for row in z]
    top = max((n for row in z for n in row if n), default=1)
    ticks = [10**k for k in range(0, int(math.log10(top)) + 1)]
    bar = {"title": t("page.portfolio.col.customers"), "tickvals": [math.log10(n) for n in ticks],
           "ticktext": [format_number(n, lang()) for n in ticks]}  # fmt: skip
    return logs, bar


def _position(amount: float) -> float:
    """`axis_position` of one BRL amount on the matrix's log scale."""
    return float(pl.select(axis_position(pl.lit(float(amount)))).item())


def _ticks(low: float, high: float) -> dict:
    """Axis ticks at R$ 0, 1, 10, 100, … between two BRL amounts, labelled in BRL."""
    amounts = [0.0] + [10.0**k for k in range(0, 10) if 10.0**k <= high]
    shown = [a for a in amounts if a >= low]
    return {"tickvals": [_position(a) for a in shown],
            "ticktext": [f"R$ {format_number(a, lang())}" for a in shown]}  # fmt: skip


def matrix_chart(bins: pl.DataFrame, splits: Cut, size: int = 30) -> go.Figure:
    """Customers per cell of the value × cost grid (log axes labelled in BRL), the split lines
    and the quadrant names."""
    z, hover = _grid(bins, size)
    colour, bar = _colour(z)
    x0, x1 = _position(bins["x_low"].min()), _position(bins["x_high"].max())
    y0, y1 = _position(bins["y_low"].min()), _position(bins["y_high"].max())
    xs = [x0 + (i + 0.5) * (x1 - x0) / size for i in range(size)]
    ys = [y0 + (i + 0.5) * (y1 - y0) / size for i in range(size)]
    fig = go.Figure(
        go.Heatmap(
            x=xs, y=ys, z=colour, customdata=z, text=hover, hoverinfo="text",
            colorscale="Blues", colorbar=bar,
        )
    )  # fmt: skip
    fig.add_vline(x=_position(splits[0]), line={"dash": "dash", "color": "#d62728"})
    fig.add_hline(y=_position(splits[1]), line={"dash": "dash", "color": "#d62728"})
    corners = {"grow": (1, 0), "keep": (1, 1), "serve_cheaper": (0, 1), "re_evaluate": (0, 0)}
    for quadrant, (right, top) in corners.items():
        fig.add_annotation(
            x=0.99 if right else 0.01, y=0.99 if top else 0.01, xref="paper", yref="paper",
            text=f"<b>{_safe(quadrant_label(quadrant))}</b>", showarrow=False,
            xanchor="right" if right else "left", yanchor="top" if top else "bottom",
            bgcolor="rgba(255,255,255,0.8)",
        )  # fmt: skip
    fig.update_xaxes(
        title=t("page.portfolio.matrix.x"), **_ticks(bins["x_low"].min(), bins["x_high"].max())
    )
    fig.update_yaxes(
        title=t("page.portfolio.matrix.y"), **_ticks(bins["y_low"].min(), bins["y_high"].max())
    )
    fig.update_xaxes(automargin=True, showgrid=False)
    fig.update_yaxes(automargin=True, showgrid=False)
    return fig.update_layout(height=480, margin={"l": 10, "r": 10, "t": 10, "b": 10})


def profit_chart(table: pl.DataFrame, by: str) -> go.Figure:
    """Per segment (or tier): gross profit, cost to serve and profit; revenue without costs."""
    names = [_safe(label(x)) for x in table[by].cast(pl.String)]
    measures = ["gross_profit", "cost_to_serve", "profit"] if "profit" in table else ["revenue"]
    fig = go.Figure()
    for measure in measures:
        fig.add_bar(name=t(f"page.portfolio.col.{measure}"), x=names, y=table[measure].to_list())
    fig.update_layout(barmode="group", height=340, margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      yaxis_title="R$")  # fmt: skip
    return fig


# ---- column formats ------------------------------------------------------------------------


def _count(key: str) -> st.column_config.NumberColumn:
    return st.column_config.NumberColumn(t(key), format="localized")


def _money(key: str) -> st.column_config.NumberColumn:
    return st.column_config.NumberColumn(t(key), format="R$ %.2f", help=t(f"{key}.help"))


def _share(key: str) -> st.column_config.NumberColumn:
    return st.column_config.NumberColumn(t(key), format="percent")


def columns() -> dict:
    """Column formats of the portfolio tables."""
    p = "page.portfolio.col."
    return {
        "segment": st.column_config.TextColumn(t(p + "segment")),
        "tier": st.column_config.TextColumn(t(p + "tier")),
        "quadrant": st.column_config.TextColumn(t(p + "quadrant")),
        "action": st.column_config.TextColumn(t(p + "action")),
        "customer": st.column_config.LinkColumn(
            t(p + "customer"), display_text=r"customer=([^&]+)", help=t(p + "customer.help")
        ),
        "customer_id": None,
        "customers": _count(p + "customers"),
        "customer_share": _share(p + "customer_share"),
        "purchases": _count(p + "purchases"),
        "contacts": _count(p + "contacts"),
        "revenue_share": _share(p + "revenue_share"),
        **{c: _money(p + c) for c in ("revenue", "gross_profit", "cost_to_serve", "profit")},
        "profit_per_customer": _money(p + "profit_per_customer"),
    }


def quadrant_names() -> dict[str, str]:
    """Quadrant code → its name, in `QUADRANTS` order (for the picker)."""
    return {q: quadrant_label(q) for q in QUADRANTS}

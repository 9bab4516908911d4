"""Differentiate page: Plotly figures and table column formats.

Figures take frames from `crm_core.differentiate` / `crm_core.needs` and labels already in
the user's language; every label that can hold analyst- or customer-supplied text (segment,
tier and category names) is HTML-escaped before it reaches Plotly.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from crm_core.differentiate import Concentration
from crm_core.i18n.format import format_money, format_number, format_percent
from ui.context import lang, t

Label = Callable[[str], str]
_COLOURS = {"revenue": "#0068c9", "clv": "#ff2b2b"}
_MARGIN = {"l": 10, "r": 10, "t": 30, "b": 10}


def _safe(text: object) -> str:
    return html.escape(str(text))


def pareto_chart(conc: dict[str, Concentration], names: dict[str, str]) -> go.Figure:
    """Pareto curves (share of value held by the top x of buyers), the line of equality and
    a marker at each top share with its value share printed."""
    fig = go.Figure()
    fig.add_scatter(
        x=[0, 1], y=[0, 1], mode="lines", name=t("page.differentiate.pareto.equality"),
        line={"dash": "dot", "color": "grey"}, hoverinfo="skip",
    )  # fmt: skip
    for column, result in conc.items():
        fig.add_scatter(
            x=result.curve["customer_share"].to_list(), y=result.curve["value_share"].to_list(),
            mode="lines", name=names[column], legendgroup=column,
            line={"color": _COLOURS.get(column)},
        )  # fmt: skip
        top = result.top.drop_nulls()
        fig.add_scatter(
            x=top["customer_share"].to_list(), y=top["value_share"].to_list(),
            mode="markers+text", legendgroup=column, showlegend=False, textposition="middle right",
            text=[format_percent(v, lang()) for v in top["value_share"]], name=names[column],
            marker={"color": _COLOURS.get(column), "size": 9},
        )  # fmt: skip
    fig.update_layout(
        xaxis_title=t("page.differentiate.pareto.x"), yaxis_title=t("page.differentiate.pareto.y"),
        xaxis_tickformat=".0%", yaxis_tickformat=".0%", height=380, margin=_MARGIN,
    )  # fmt: skip
    return fig


def share_bars(table: pl.DataFrame, by: str, label: Label) -> go.Figure:
    """Per segment (or tier): its share of customers, of revenue and, with a model, of CLV —
    value out of proportion to size is what differentiation acts on."""
    names = [_safe(label(x)) for x in table[by].cast(pl.String)]
    fig = go.Figure()
    for column in ("share", "revenue_share", "clv_share"):
        if column in table.columns:
            fig.add_bar(
                name=t(f"page.differentiate.col.{column}"), x=names,
                y=table[column].fill_null(0).to_list(),
            )  # fmt: skip
    fig.update_layout(barmode="group", yaxis_tickformat=".0%", height=340, margin=_MARGIN)
    return fig


def rf_heatmap(grid: pl.DataFrame, label: Label) -> go.Figure:
    """Buyers per R (rows, 5 on top) × F (columns) cell; hover: revenue, mean CLV, segment."""
    size = {(r, f): n for r, f, n in grid.select("r_score", "f_score", "customers").iter_rows()}
    rows = grid.iter_rows(named=True)
    hover = {(row["r_score"], row["f_score"]): _cell_hover(row, label) for row in rows}
    z = [[size[(r, f)] for f in range(1, 6)] for r in range(1, 6)]
    fig = go.Figure(
        go.Heatmap(
            z=z, x=[f"F{f}" for f in range(1, 6)], y=[f"R{r}" for r in range(1, 6)],
            text=[[format_number(n, lang()) for n in line] for line in z],
            texttemplate="%{text}", colorscale="Blues",
            hovertext=[[hover[(r, f)] for f in range(1, 6)] for r in range(1, 6)],
            hoverinfo="text", colorbar={"title": t("page.differentiate.col.customers")},
        )
    )  # fmt: skip
    fig.update_layout(
        xaxis_title=t("page.differentiate.rf.x"), yaxis_title=t("page.differentiate.rf.y"),
        height=380, margin=_MARGIN,
    )  # fmt: skip
    return fig


def _cell_hover(row: dict, label: Label) -> str:
    parts = [
        f"R{row['r_score']} · F{row['f_score']}",
        t("page.differentiate.hover.customers", n=format_number(row["customers"], lang())),
        t("page.differentiate.hover.revenue", value=format_money(row["revenue"], lang())),
    ]
    if "mean_clv" in row:
        parts.append(t("page.differentiate.hover.mean_clv",
                       value=format_money(row["mean_clv"], lang())))  # fmt: skip
    if row.get("segment"):
        parts.append(_safe(label(row["segment"])))
    return "<br>".join(parts)


def value_treemap(tree: pl.DataFrame, value: str, label: Label) -> go.Figure:
    """Segments sized by their value (`clv` or `revenue`), each split into its tiers."""
    segments = tree.group_by("segment").agg(pl.col(value, "customers").sum()).sort("segment")
    ids = [f"s:{s}" for s in segments["segment"].cast(pl.String)]
    ids += [
        f"s:{s}/t:{x}" for s, x in tree.select(pl.col("segment", "tier").cast(pl.String)).rows()
    ]
    parents = [""] * segments.height + [f"s:{s}" for s in tree["segment"].cast(pl.String)]
    names = [_safe(label(s)) for s in segments["segment"].cast(pl.String)]
    names += [_safe(label(x)) for x in tree["tier"].cast(pl.String)]
    values = segments[value].to_list() + tree[value].to_list()
    counts = segments["customers"].to_list() + tree["customers"].to_list()
    hover = [
        f"{n}<br>{format_money(v, lang())}<br>"
        + t("page.differentiate.hover.customers", n=format_number(c, lang()))
        for n, v, c in zip(names, values, counts, strict=True)
    ]
    fig = go.Figure(
        go.Treemap(
            ids=ids, labels=names, parents=parents, values=values, branchvalues="total",
            hovertext=hover, hoverinfo="text", textinfo="label+percent root",
        )
    )  # fmt: skip
    return fig.update_layout(height=420, margin=_MARGIN)


def movement_heatmap(matrix: pl.DataFrame, label: Label) -> go.Figure:
    """Customers moving from each segment of A (rows) to each segment of B (columns)."""
    columns = matrix.columns[1:]
    z = [list(row) for row in matrix.select(columns).iter_rows()]
    fig = go.Figure(
        go.Heatmap(
            z=z, x=[_safe(label(c)) for c in columns],
            y=[_safe(label(s)) for s in matrix["segment"]], colorscale="Blues",
            text=[[format_number(n, lang()) for n in row] for row in z], texttemplate="%{text}",
            hovertemplate="%{y} → %{x}: %{text}<extra></extra>",
        )
    )  # fmt: skip
    fig.update_layout(
        xaxis_title=t("page.differentiate.compare.to"),
        yaxis_title=t("page.differentiate.compare.from"), yaxis_autorange="reversed",
        height=max(320, 34 * len(z) + 120), margin=_MARGIN,
    )  # fmt: skip
    return fig


def preference_heatmap(pref: pl.DataFrame, channel: Label) -> go.Figure:
    """Buyers per preferred category (rows) × preferred channel (columns)."""
    categories = sorted(pref["category"].unique().to_list())
    channels = sorted(pref["channel"].unique().to_list())
    cells = {(c, h): row for c, h, row in zip(
        pref["category"], pref["channel"], pref.iter_rows(named=True), strict=True)}  # fmt: skip
    z = [[cells[(c, h)]["customers"] if (c, h) in cells else 0 for h in channels]
         for c in categories]  # fmt: skip
    hover = [[_pref_hover(cells.get((c, h))) for h in channels] for c in categories]
    fig = go.Figure(
        go.Heatmap(
            z=z, x=[_safe(channel(h)) for h in channels], y=[_safe(c) for c in categories],
            text=[[format_number(n, lang()) for n in row] for row in z], texttemplate="%{text}",
            hovertext=hover, hoverinfo="text", colorscale="Greens",
        )
    )  # fmt: skip
    return fig.update_layout(height=max(300, 36 * len(categories) + 100), margin=_MARGIN)


def _pref_hover(row: dict | None) -> str:
    if row is None:
        return t("page.differentiate.hover.customers", n="0")
    parts = [
        f"{_safe(row['category'])} × {_safe(row['channel'])}",
        t("page.differentiate.hover.customers", n=format_number(row["customers"], lang())),
        t("page.differentiate.hover.revenue", value=format_money(row["revenue"], lang())),
    ]
    if "mean_clv" in row:
        parts.append(t("page.differentiate.hover.mean_clv",
                       value=format_money(row["mean_clv"], lang())))  # fmt: skip
    return "<br>".join(parts)


def tier_mix_bars(by_tier: pl.DataFrame, groups: dict[str, str], label: Label) -> go.Figure:
    """Each needs group's buyers split by value tier (stacked, shares of the group)."""
    tiers = [c for c in by_tier.columns if c not in ("needs_group", "total")]
    names = [_safe(groups.get(g, g)) for g in by_tier["needs_group"]]
    fig = go.Figure()
    for tier in tiers:
        share = (by_tier[tier] / by_tier["total"]).to_list()
        fig.add_bar(name=_safe(label(tier)), y=names, x=share, orientation="h")
    fig.update_layout(barmode="stack", xaxis_tickformat=".0%", yaxis_autorange="reversed",
                      legend_traceorder="normal",
                      height=max(300, 26 * len(names) + 100), margin=_MARGIN)  # fmt: skip
    return fig


# ---- column formats -------------------------------------------------------------------------


def _col(name: str) -> str:
    return t(f"page.differentiate.col.{name}")


def _help(name: str) -> str | None:
    key = f"page.differentiate.col.{name}.help"
    text = t(key)
    return None if text == key else text


def columns_for(frame: pl.DataFrame, counts: tuple[str, ...] = ()) -> dict:
    """Formats of every column of `frame` this page shows (counts, money, shares, names);
    `counts` names further count columns (one per segment or tier of a cross-tab)."""
    number, text = st.column_config.NumberColumn, st.column_config.TextColumn
    formats = {
        "localized": ("customers", "buyers", "customers_a", "customers_b", "change", "total"),
        "R$ %.2f": ("revenue", "clv", "mean_clv"),
        "percent": ("share", "revenue_share", "clv_share", "lapsed_share", "multichannel_share"),
        "%.2f": ("mean_categories",),
    }
    out: dict = {}
    for fmt, names in formats.items():
        for name in names:
            out[name] = number(_col(name), format=fmt, help=_help(name))
    for name in ("segment", "tier", "group", "category", "channel", "measure"):
        out[name] = text(_col(name), help=_help(name))
    out.update({name: number(name, format="localized") for name in counts})
    return {name: out[name] for name in frame.columns if name in out}

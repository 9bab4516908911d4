"""Data-quality page: cached checks and measures, the rows behind a number, charts, tables.

Every cached function takes `(db, version, scope)`: the store, its data version and the
global filters when they restrict the customers (`scope_of`; None = every customer). The
per-customer check frame (`crm_core.quality.customer_checks`, seconds on 1M customers) is
computed once per store version; measures, completeness, score and rows behind a number are
milliseconds over it.
"""

from __future__ import annotations

import html

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from crm_core import quality, store
from crm_core.i18n.format import format_number, format_percent
from ui import filters
from ui.context import customer_url, lang, t
from ui.filters import Filters

SHOWN_ROWS = 2000
"""Rows behind a number listed on the page (the downloads hold all of them)."""
PICKS: tuple[str, ...] = (*quality.ALL_MEASURES, *(f"missing_{f}" for f in quality.FIELDS))
"""Everything the rows picker offers: each measure, then each field's missing values."""
_SOURCE_PREFIX = "src:"


def scope_of(f: Filters) -> Filters | None:
    """The filters when they restrict the customers (channel, segment, tier), else None."""
    return f if f.is_filtered else None


@st.cache_resource(show_spinner=False, max_entries=2)
def _all_checks(db: str, version: int) -> pl.DataFrame:
    with store.connect(db) as con:
        return quality.customer_checks(con)


@st.cache_resource(show_spinner=False, max_entries=4)
def checks(db: str, version: int, scope: Filters | None) -> pl.DataFrame:
    """`customer_checks` of the store, restricted to the filtered customers when `scope`."""
    every = _all_checks(db, version)
    if scope is None:
        return every
    subset = filters.customer_subset(scope)
    return every.join(subset, on="customer_id", how="semi")


def customers(db: str, version: int, scope: Filters | None) -> int:
    """How many customer records the page counts (non-erased, within the filters)."""
    return checks(db, version, scope).height


@st.cache_data(show_spinner=False, max_entries=8)
def measures(db: str, version: int, scope: Filters | None) -> pl.DataFrame:
    """`crm_core.quality.quality_measures`."""
    return quality.quality_measures(checks(db, version, scope))


@st.cache_data(show_spinner=False, max_entries=8)
def measures_by_source(db: str, version: int, scope: Filters | None) -> pl.DataFrame:
    """`crm_core.quality.measures_by_source`."""
    return quality.measures_by_source(checks(db, version, scope))


@st.cache_data(show_spinner=False, max_entries=8)
def completeness(db: str, version: int, scope: Filters | None) -> pl.DataFrame:
    """`crm_core.quality.completeness`."""
    return quality.completeness(checks(db, version, scope))


@st.cache_data(show_spinner=False, max_entries=8)
def score(db: str, version: int, scope: Filters | None) -> dict[str, float | None]:
    """`crm_core.quality.quality_score` as `{dimension: score}`."""
    return dict(quality.quality_score(checks(db, version, scope)).iter_rows())


@st.cache_resource(show_spinner=False, max_entries=8)
def rows(
    db: str, version: int, scope: Filters | None, measure: str, source: str | None
) -> pl.DataFrame:
    """`crm_core.quality.rows_behind` one number (`PICKS`), optionally within one source."""
    return quality.rows_behind(checks(db, version, scope), measure, source=source)


@st.cache_data(show_spinner=False, max_entries=4)
def uploads(db: str, version: int) -> pl.DataFrame:
    """`crm_core.quality.upload_quality`."""
    with store.connect(db) as con:
        return quality.upload_quality(con)


# ---- labels --------------------------------------------------------------------------------


def measure_label(measure: str) -> str:
    """A measure of `PICKS` in the user's language."""
    if measure.startswith("missing_"):
        return t("quality.measure.missing", field=field_label(measure.removeprefix("missing_")))
    return t(f"quality.measure.{measure}")


def field_label(field: str) -> str:
    return t(f"quality.field.{field}")


def source_label(source: str | None) -> str:
    """A source code as shown (`None` = all sources, `unknown` = none recorded)."""
    if source is None:
        return t("quality.source.all")
    return t("quality.source.unknown") if source == "unknown" else source


def channel_label(channel: str) -> str:
    return t(f"customize.channel.{channel}")


# ---- charts --------------------------------------------------------------------------------


def _safe(text: object) -> str:
    """Source names come from uploaded files: HTML-escaped for Plotly labels."""
    return html.escape(str(text))


def completeness_heatmap(fill: pl.DataFrame) -> go.Figure:
    """Fields × sources (all sources last), colour = share filled, cell text = share and
    counts (filled / customers)."""
    sources = fill["source"].unique(maintain_order=True).to_list()
    fields = list(quality.FIELDS)
    z, text = [], []
    for field in fields:
        part = fill.filter(pl.col("field") == field)
        z.append(part["share"].to_list())
        text.append(
            [
                f"{format_percent(r['share'], lang())}<br>"
                f"{format_number(r['filled'], lang())} / {format_number(r['customers'], lang())}"
                for r in part.iter_rows(named=True)
            ]
        )
    fig = go.Figure(
        go.Heatmap(
            z=z, x=[_safe(source_label(s)) for s in sources], y=[field_label(f) for f in fields],
            text=text, texttemplate="%{text}",
            hovertemplate="%{y} · %{x}<br>%{text}<extra></extra>",
            colorscale="RdYlGn", zmin=0, zmax=1, colorbar={"tickformat": ".0%"},
        )
    )  # fmt: skip
    height = 120 + 44 * len(fields)
    return fig.update_layout(yaxis_autorange="reversed", margin={"t": 10}, height=height)


def consent_chart(table: pl.DataFrame) -> go.Figure:
    """Share of customers without a current consent, per channel (count on the bar)."""
    part = table.filter(pl.col("measure").is_in(quality.CONSENT_MEASURES))
    channels = [m.removeprefix("no_consent_") for m in part["measure"]]
    fig = go.Figure(
        go.Bar(
            x=[channel_label(c) for c in channels], y=part["share"].to_list(),
            text=[format_number(n, lang()) for n in part["customers"]], textposition="outside",
        )
    )  # fmt: skip
    return fig.update_layout(yaxis_tickformat=".0%", yaxis_range=[0, 1.1], margin={"t": 10},
                             height=300)  # fmt: skip


def trend_chart(trend: pl.DataFrame) -> go.Figure:
    """Per customer upload (oldest first): completeness and the invalid shares."""
    fig = go.Figure()
    x = [f"#{u} · {_safe(name)}" for u, name in trend.select("upload_id", "file_name").rows()]
    for column in ("completeness", "invalid_email", "invalid_phone", "invalid_document"):
        fig.add_scatter(
            x=x, y=trend[column].to_list(), mode="lines+markers",
            name=t(f"page.quality.trend.{column}"),
        )  # fmt: skip
    return fig.update_layout(yaxis_tickformat=".0%", margin={"t": 10}, height=320)


# ---- tables --------------------------------------------------------------------------------


def fill_table(fill: pl.DataFrame) -> pl.DataFrame:
    """Completeness as a grid: one row per field (`label`, code in `field`), one column per
    source (`src:<code>`, all sources last as `src:`), values = share filled."""
    grid = fill.with_columns(
        column=_SOURCE_PREFIX + pl.col("source").fill_null(""),
        field=pl.col("field").cast(pl.String),
    ).pivot("column", index="field", values="share", sort_columns=False)
    grid = grid.sort(pl.col("field").cast(pl.Enum(quality.FIELDS)))
    labels = pl.Series("label", [field_label(f) for f in grid["field"]], pl.String)
    return grid.insert_column(0, labels)


def fill_columns(grid: pl.DataFrame) -> dict:
    """Column formats of `fill_table`: fields by name, sources by label, shares as %."""
    config: dict = {
        "label": st.column_config.TextColumn(t("page.quality.col.field")),
        "field": None,
    }
    for column in grid.columns[2:]:
        source = column.removeprefix(_SOURCE_PREFIX) or None
        config[column] = st.column_config.ProgressColumn(
            source_label(source), format="percent", min_value=0, max_value=1
        )
    return config


def _follow(name: str, selection: tuple, pick) -> None:
    """Point the rows pickers at `pick()` (measure, source) when the selection of table
    `name` changed since the last run; an unchanged selection leaves the pickers alone."""
    seen = f"_{name}_seen"
    if selection and st.session_state.get(seen) != selection:
        st.session_state["quality_measure"], st.session_state["quality_source"] = pick()
    st.session_state[seen] = selection


def follow_fill_grid(event, grid: pl.DataFrame) -> None:
    """A clicked cell of the completeness grid picks that field's missing values in that
    source (the field's name: in all sources)."""
    cells = tuple(tuple(c) for c in event.selection.cells)

    def pick() -> tuple[str, str]:
        row, column = cells[0]
        source = (
            str(column).removeprefix(_SOURCE_PREFIX) if column.startswith(_SOURCE_PREFIX) else ""
        )
        return f"missing_{grid['field'][row]}", source

    _follow("quality_fill_grid", cells, pick)


def follow_measure_table(event, table: pl.DataFrame) -> None:
    """A clicked row of the measure table picks its measure, in all sources."""
    rows = tuple(event.selection.rows)
    _follow("quality_measure_table", rows, lambda: (table["measure"][rows[0]], ""))


def init_picks(sources: list[str]) -> None:
    """First values of the rows pickers: `?measure=` and `?source=` from the URL when valid
    (a shareable link to the rows behind a number), else invalid e-mails in all sources."""
    if st.session_state.get("quality_measure") not in PICKS:
        wanted = st.query_params.get("measure", "")
        st.session_state["quality_measure"] = wanted if wanted in PICKS else PICKS[0]
    if st.session_state.get("quality_source") not in ["", *sources]:
        wanted = st.query_params.get("source", "")
        st.session_state["quality_source"] = wanted if wanted in sources else ""


def relabel_status(trend: pl.DataFrame) -> pl.DataFrame:
    """The upload table with its status in the user's language."""
    labels = [t(f"page.quality.status.{s}") for s in trend["status"]]
    return trend.with_columns(pl.Series("status", labels, pl.String))


def measure_table(table: pl.DataFrame) -> pl.DataFrame:
    """The measures with their label (codes kept in `measure`)."""
    labels = [measure_label(m) for m in table["measure"]]
    return table.with_columns(label=pl.Series(labels, dtype=pl.String)).select(
        "label", "customers", "base", "share", "measure"
    )


def table_height(rows: int) -> int:
    """Pixel height showing `rows` rows and the header without a scroll bar."""
    return 35 * (rows + 1) + 3


def measure_columns() -> dict:
    return {
        "label": st.column_config.TextColumn(t("page.quality.col.measure")),
        "customers": st.column_config.NumberColumn(
            t("page.quality.col.customers"), format="localized"
        ),
        "base": st.column_config.NumberColumn(
            t("page.quality.col.base"), format="localized", help=t("page.quality.col.base.help")
        ),
        "share": st.column_config.NumberColumn(t("page.quality.col.share"), format="percent"),
        "measure": None,
    }


def shown_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """The first `SHOWN_ROWS` rows behind a number with a link to each customer's 360 view and
    labels for the source and the shared identity key."""
    head = frame.head(SHOWN_ROWS)
    head = head.with_columns(
        pl.Series("source", [source_label(s) for s in head["source"]], pl.String),
        pl.Series("link", [customer_url(c) for c in head["customer_id"]], pl.String),
    )
    if "duplicate_key" in head.columns:
        keys = [None if k is None else field_label(k) for k in head["duplicate_key"]]
        head = head.with_columns(pl.Series("duplicate_key", keys, pl.String))
    return head.select("link", *frame.columns)


def row_columns() -> dict:
    """Column formats of the rows behind a number."""
    text = st.column_config.TextColumn
    config: dict = {
        "link": st.column_config.LinkColumn(
            t("page.quality.col.link"), display_text=t("page.quality.open")
        ),
        "customer_id": text(t("page.quality.col.customer")),
        "name": text(field_label("name")),
        "source": text(t("page.quality.col.source")),
        "created_at": st.column_config.DatetimeColumn(t("page.quality.col.created_at")),
        "duplicate_key": text(t("page.quality.col.duplicate_key")),
        "shared_with": st.column_config.NumberColumn(
            t("page.quality.col.shared_with"), help=t("page.quality.col.shared_with.help")
        ),
    }
    for field in ("email", "phone", "document", "city", "zip"):
        config[field] = text(field_label(field))
    return config


def trend_columns() -> dict:
    share = st.column_config.NumberColumn
    return {
        "upload_id": st.column_config.NumberColumn(t("page.quality.col.upload")),
        "uploaded_at": st.column_config.DatetimeColumn(t("page.quality.col.uploaded_at")),
        "file_name": st.column_config.TextColumn(t("page.quality.col.file_name")),
        "status": st.column_config.TextColumn(t("page.quality.col.status")),
        "records": st.column_config.NumberColumn(t("page.quality.col.records"), format="localized"),
        **{
            c: share(t(f"page.quality.trend.{c}"), format="percent")
            for c in ("completeness", "invalid_email", "invalid_phone", "invalid_document")
        },
    }

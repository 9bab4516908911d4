"""Relationship management page: cached series under the global filters, targets, charts.

Every cached function takes `key` = (store path, data version, as_of, config JSON, channel,
segment, tier, frequency, periods). The series of every metric is computed once per key;
targets are read from the store on every run (saving settings does not bump the data
version) and compared in memory, so a new target or tolerance costs nothing.
"""

from __future__ import annotations

import html
from datetime import date, timedelta

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from crm_core import store
from crm_core.i18n.format import format_date, format_money, format_number, format_percent
from crm_core.kpis import kpi_definition, kpi_name
from crm_core.period import Period
from crm_core.relationship_mgmt import (
    METRICS,
    TargetRules,
    compare_to_targets,
    scorecard,
    tier_matrix,
    tier_movements,
)
from crm_core.relationship_series import Measures, relationship_series, series_window
from crm_core.segment_config import SegmentConfig
from crm_core.segments import segment_label
from crm_core.settings import TARGET_KPIS
from ui import analysis, filters, settings_view
from ui.context import lang, t
from ui.filters import Filters

Key = tuple[str, int, date, str, str, str, str, str, int]

FREQS: tuple[str, ...] = ("month", "week")
PERIODS = {"month": (3, 36, 12), "week": (4, 104, 13)}
"""Per frequency: fewest, most and default number of periods the page offers."""
STATUS_ICONS = {"on_track": "🟢", "behind": "🔴", "no_target": "⚪", "no_data": "⚪"}


def key_of(f: Filters, db: str, version: int, freq: str, periods: int) -> Key:
    """The cache key of the global filters and the page's period choice."""
    return (db, version, f.as_of, f.config_json, f.channel, f.segment, f.tier, freq, periods)


def _filters(key: Key) -> Filters:
    as_of = key[2]
    return Filters(as_of, Period(as_of, as_of), key[4], key[5], key[6], key[3])


@st.cache_resource(show_spinner=False, max_entries=16)
def subset(key: Key) -> pl.DataFrame | None:
    """`ui.filters.customer_subset` of the key's filters at as-of (None when unfiltered)."""
    return filters.customer_subset(_filters(key))


def nobody(key: Key) -> bool:
    """True when the channel/segment/tier filters leave no customer."""
    who = subset(key)
    return who is not None and who.height == 0


def clv_frame(key: Key) -> pl.DataFrame | None:
    """`customer_id, clv` of the CLV model fitted at as-of (None if it cannot be fitted)."""
    scores = analysis.model_scores(key[0], key[1], key[2])
    return None if scores is None else scores.select("customer_id", "clv")


@st.cache_data(show_spinner=False, max_entries=16)
def measures(key: Key) -> Measures:
    """`crm_core.relationship_series.relationship_series` over the key's periods."""
    start, end = series_window(key[2], key[7], key[8])  # type: ignore[arg-type]
    with store.connect(key[0]) as con:
        return relationship_series(con, start, end, key[7], subset(key), clv_frame(key))  # type: ignore[arg-type]


def last_period(key: Key) -> Period:
    """The latest period of the series (its days, clipped to as-of)."""
    series = measures(key).series
    last = series.filter(pl.col("bucket") == pl.col("bucket").max()).row(0, named=True)
    return Period(last["start"], last["end"])


def migration_dates(key: Key) -> tuple[date, date]:
    """The as-of dates compared for the last period: the day before it starts, its end."""
    period = last_period(key)
    return period.start - timedelta(days=1), period.end


@st.cache_resource(show_spinner=False, max_entries=8)
def migration(key: Key) -> tuple[pl.DataFrame, dict]:
    """`tier_matrix` and `tier_movements` between `migration_dates` for the filtered customers
    (tiers from `ui.analysis.segmented` at both dates, active segment configuration)."""
    db, version, _, config_json = key[:4]
    config = SegmentConfig.from_json(config_json)
    frames = [analysis.segmented(db, version, d, config_json) for d in migration_dates(key)]
    if (who := subset(key)) is not None:
        frames = [f.join(who, on="customer_id", how="semi") for f in frames]
    matrix = tier_matrix(*frames, (*config.tiers.names, config.no_purchase))
    return matrix, tier_movements(matrix, config.tiers.names)


def targets(db: str) -> dict[str, float]:
    """The KPI targets of the business settings in force (`ui.settings_view.current`)."""
    return settings_view.current(db).targets


def scored(
    key: Key, goals: dict[str, float], tolerance: float
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(`scorecard` of the last period, the whole series against the targets)."""
    rules = TargetRules(tolerance)
    series = measures(key).series
    card = scorecard(series, goals, rules, migration(key)[1]["upgrade_rate"])
    return card, compare_to_targets(series, goals, rules)


# ---- labels and formatting -------------------------------------------------------------------


def metric_name(metric: str) -> str:
    """A metric's display name (the KPI's own name for KPI-backed metrics)."""
    kpi = METRICS[metric].kpi
    return kpi_name(kpi, lang()) if kpi else t(f"page.relationships.metric.{metric}")


def metric_help(metric: str) -> str:
    """A metric's one-line definition."""
    kpi = METRICS[metric].kpi
    text = kpi_definition(kpi, lang()) if kpi else t(f"page.relationships.metric.{metric}.help")
    if METRICS[metric].additive:
        text += " " + t("page.relationships.prorated")
    return text


def format_value(metric: str, value: float | None) -> str:
    """A metric's value: customers, money, % or a plain score."""
    unit = METRICS[metric].unit
    if unit == "count":
        return format_number(value, lang())
    if unit == "money":
        return format_money(value, lang())
    if unit == "rate":
        return format_percent(value, lang())
    return format_number(value, lang(), decimals=1)


def format_gap(metric: str, gap: float | None, share: float | None) -> str:
    """The gap to target: rates in percentage points, others in their unit, with the gap %."""
    if gap is None:
        return "—"
    sign = "+" if gap > 0 else ""
    if METRICS[metric].unit == "rate":
        body = t("page.relationships.pp", value=format_number(gap * 100, lang(), decimals=1))
    else:
        body = format_value(metric, gap)
    pct = "" if share is None else f" ({'+' if share > 0 else ''}{format_percent(share, lang())})"
    return f"{sign}{body}{pct}"


def status_label(status: str) -> str:
    return f"{STATUS_ICONS[status]} {t(f'page.relationships.status.{status}')}"


def period_label(start: date, end: date, freq: str) -> str:
    """A bucket as shown: `06/2026` / `2026-06` for months, the first day for weeks."""
    if freq == "month":
        return start.strftime("%m/%Y") if lang() == "pt_BR" else start.strftime("%Y-%m")
    return format_date(start, lang())


def scorecard_table(card: pl.DataFrame) -> pl.DataFrame:
    """The scorecard with every value written in the user's language (text columns)."""
    rows = [
        {
            "stage": t(f"page.relationships.stage.{r['stage']}"),
            "metric": metric_name(r["metric"]),
            "actual": format_value(r["metric"], r["actual"]),
            "target": format_value(r["metric"], r["target"]),
            "gap": format_gap(r["metric"], r["gap"], r["gap_share"]),
            "status": status_label(r["status"]),
        }
        for r in card.iter_rows(named=True)  # one row per metric
    ]
    return pl.DataFrame(rows, schema=dict.fromkeys(("stage", "metric", "actual", "target",
                                                     "gap", "status"), pl.String))  # fmt: skip


def scorecard_columns() -> dict:
    names = ("stage", "metric", "actual", "target", "gap", "status")
    return {c: st.column_config.TextColumn(t(f"page.relationships.col.{c}")) for c in names}


def source_label(code: str) -> str:
    """An acquisition source code in the user's language (unknown codes as they are)."""
    if not code:
        return t("page.relationships.source.unknown")
    key = f"page.relationships.source.{code}"
    text = t(key)
    return code if text == key else text


def tier_label(name: str) -> str:
    return segment_label(name, lang())


# ---- rendering ---------------------------------------------------------------------------------


def metric_card(metric: str, rows: pl.DataFrame, freq: str) -> None:
    """One metric: its last value against target, status, and a small trend with the target."""
    last = rows.row(rows.height - 1, named=True)
    delta = None if last["gap"] is None else format_gap(metric, last["gap"], last["gap_share"])
    st.metric(
        metric_name(metric), format_value(metric, last["actual"]), delta=delta,
        delta_color="normal" if METRICS[metric].higher_is_better else "inverse",
        help=metric_help(metric),
    )  # fmt: skip
    if last["target"] is None:
        no_target(metric)
    else:
        st.caption(t("page.relationships.vs_target", target=format_value(metric, last["target"]),
                     status=status_label(last["status"])))  # fmt: skip
    st.plotly_chart(trend_figure(metric, rows, freq), key=f"rm_trend_{metric}")


def no_target(metric: str) -> None:
    """Say there is no target; link to Settings where one can be set."""
    if metric in TARGET_KPIS:
        st.caption(t("page.relationships.no_target"))
        st.page_link("pages/settings.py", label=t("page.relationships.set_target"),
                     icon=":material/settings:")  # fmt: skip
    else:
        st.caption(t("page.relationships.no_target_kind"))


def trend_figure(metric: str, rows: pl.DataFrame, freq: str) -> go.Figure:
    """Small line of the metric per period, the target as a dashed line when set."""
    labels = [period_label(s, e, freq) for s, e in zip(rows["start"], rows["end"], strict=True)]
    values = [format_value(metric, v) for v in rows["actual"]]
    fig = go.Figure(
        go.Scatter(
            x=labels, y=rows["actual"].to_list(), mode="lines+markers", name=metric_name(metric),
            customdata=values, hovertemplate="%{x}: %{customdata}<extra></extra>",
        )
    )  # fmt: skip
    if rows["target"].is_not_null().any():
        fig.add_scatter(
            x=labels, y=rows["target"].to_list(), mode="lines", name=t("page.relationships.target"),
            line={"dash": "dash", "color": "#de2d26"},
            customdata=[format_value(metric, v) for v in rows["target"]],
            hovertemplate="%{x}: %{customdata}<extra>" + html.escape(t("page.relationships.target"))
            + "</extra>",
        )  # fmt: skip
    axis = {"tickformat": ".0%"} if METRICS[metric].unit == "rate" else {}
    return fig.update_layout(height=200, margin={"t": 10, "b": 10, "l": 10, "r": 10},
                             showlegend=False, yaxis=axis)  # fmt: skip


def acquisition_figure(acq: pl.DataFrame, freq: str) -> go.Figure:
    """New customers per period, stacked by acquisition source."""
    fig = go.Figure()
    for (source,), part in acq.sort("source").group_by("source", maintain_order=True):
        labels = [period_label(s, e, freq) for s, e in zip(part["start"], part["end"], strict=True)]
        name = html.escape(source_label(source))
        fig.add_bar(x=labels, y=part["new_customers"].to_list(), name=name,
                    hovertemplate="%{x}: %{y}<extra>" + name + "</extra>")  # fmt: skip
    order = acq.sort("bucket")["start"].unique(maintain_order=True).to_list()
    fig.update_xaxes(categoryorder="array",
                     categoryarray=[period_label(d, d, freq) for d in order])  # fmt: skip
    return fig.update_layout(barmode="stack", height=320, margin={"t": 10, "b": 10})


def acquisition_table(acq: pl.DataFrame) -> pl.DataFrame:
    """The last period's new customers by source: label, customers, share, first-order value."""
    last = acq.filter(pl.col("bucket") == pl.col("bucket").max())
    total = last["new_customers"].sum()
    labels = {code: source_label(code) for code in last["source"].unique()}  # Streamlit thread
    return last.select(
        source=pl.col("source").replace_strict(labels, return_dtype=pl.String),
        new_customers="new_customers",
        share=pl.col("new_customers") / total if total else pl.lit(None, pl.Float64),
        first_order_value="first_order_value",
    )


def acquisition_columns() -> dict:
    c = st.column_config
    return {
        "source": c.TextColumn(t("page.relationships.col.source")),
        "new_customers": c.NumberColumn(t("page.relationships.col.new_customers"),
                                        format="localized"),
        "share": c.NumberColumn(t("page.relationships.col.share"), format="percent"),
        "first_order_value": c.NumberColumn(t("page.relationships.col.first_order_value"),
                                            format="R$ %.2f"),
    }  # fmt: skip


def moves_columns() -> dict:
    """Column headers of the stage transitions table (`crm_core.lifecycle.transitions`)."""
    c = st.column_config
    out: dict = {
        n: c.TextColumn(t(f"page.relationships.col.{n}")) for n in ("from_stage", "to_stage")
    }
    out["customers"] = c.NumberColumn(t("page.relationships.col.customers"), format="localized")
    return out


def matrix_table(matrix: pl.DataFrame) -> pl.DataFrame:
    """The tier movement matrix with tier names in the user's language."""
    labels = {c: tier_label(c) for c in matrix["tier"]}  # in Streamlit's thread (the language)
    shown = matrix.with_columns(pl.col("tier").replace_strict(labels, return_dtype=pl.String))
    return shown.rename({c: tier_label(c) for c in matrix.columns[1:]})

"""Payne & Frow processes page: the scorecard's parts from shared caches, charts and tables.

The parts are the frames other pages already cache (`ui.analysis` summary, segments and CLV
scores; the Interact page's period interactions; the Identity page's overview; the Quality
page's score), so a visit after those pages costs milliseconds. Keys: `Key` = (store,
data version, as_of, period start, period end, segment configuration JSON), and
the saved configurations' fingerprint (`ui.context.config_version`) for what lives in
`configs` (settings, rules, assessments): saving one does not bump the data version.
"""

from __future__ import annotations

import html
from datetime import date
from typing import Any

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from crm_core import store
from crm_core.assessments import load_assessment
from crm_core.customize import load_rules
from crm_core.i18n.format import format_date, format_money, format_number, format_percent
from crm_core.identity import MatchConfig
from crm_core.interact import channel_rates
from crm_core.kpi_defs import avg_clv
from crm_core.kpis import kpi_name
from crm_core.period import Period
from crm_core.processes import (
    COMPONENTS,
    Parts,
    ProcessConfig,
    channel_csat,
    inputs_of,
    process_scores,
    scorecard,
)
from crm_core.relationship_mgmt import METRICS, TargetRules, kpis_against_targets
from crm_core.segment_config import SegmentConfig
from crm_core.settings import load_settings
from ui import analysis, identity_view, interact_view, quality_view
from ui.context import STICKY_PARAMS, lang, t
from ui.filters import Filters

Key = tuple[str, int, date, date, date, str]

MIN_BASE = ProcessConfig().min_base
"""Smallest base (answers, outbound contacts) for a channel to count in the channel components."""

LIGHT_COLOURS = {"green": "green", "amber": "orange", "red": "red", "no_data": "gray"}
"""Markdown colour of each traffic light."""


def key_of(f: Filters, db: str, version: int) -> Key:
    """The cache key: store, data version, as-of date, KPI period, segment configuration."""
    return (db, version, f.as_of, f.period.start, f.period.end, f.config_json)


def _clv(key: Key) -> pl.DataFrame | None:
    scores = analysis.model_scores(key[0], key[1], key[2])
    return None if scores is None else scores.select("customer_id", "clv")


@st.cache_resource(show_spinner=False, max_entries=4)
def data_parts(key: Key) -> dict[str, Any]:
    """The parts read from the data (not from `configs`), from the shared caches."""
    db, version, as_of, start, end, config_json = key
    config, period = SegmentConfig.from_json(config_json), Period(start, end)
    ident = identity_view.overview(
        identity_view.key_of(db, version), MatchConfig.auto_threshold, MatchConfig.review_floor
    )
    clv = _clv(key)
    with store.connect(db) as con:
        csat = channel_csat(con, period)
        clv_before = None if clv is None else avg_clv(con, period.previous(), clv=clv)
    return {
        "config": config, "summary": analysis.summary(db, version, as_of, config.window_days),
        "segmented": analysis.segmented(db, version, as_of, config_json),
        "rates": channel_rates(interact_view.period_frame(db, version, start, end)),
        "duplicate_rate": float(ident["duplicate_rate"]),
        "quality": quality_view.score(db, version, None)["overall"],
        "csat": csat, "clv_before": clv_before,
    }  # fmt: skip


@st.cache_resource(show_spinner=False, max_entries=8)
def parts(key: Key, stamp: str) -> Parts:
    """`crm_core.processes.Parts`: the data parts plus what `configs` holds (settings and
    targets, rules, the latest assessments) as of `stamp`."""
    del stamp
    with store.connect(key[0]) as con:
        settings = load_settings(con)
        against = kpis_against_targets(con, Period(key[3], key[4]), settings, clv=_clv(key))
        saved = {
            "rules": len(load_rules(con).rules),
            "support": load_assessment(con, "support_conditions"),
            "qci": load_assessment(con, "qci"),
        }
    return Parts(settings=settings, against=against, **saved, **data_parts(key))


@st.cache_data(show_spinner=False, max_entries=8)
def card(key: Key, stamp: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`crm_core.processes.scorecard` and `process_scores` of the parts."""
    components = scorecard(inputs_of(parts(key, stamp)))
    return components, process_scores(components)


# ---- labels -----------------------------------------------------------------------------------


def process_label(process: str) -> str:
    return t(f"page.processes.process.{process}")


def component_label(component: str) -> str:
    """A component's name; assessment areas as "QCi: <area>" / "Support conditions: <area>"."""
    if "." in component:
        prefix, area = component.split(".", 1)
        return t(f"page.processes.area.{prefix}", area=t(f"assessment.area.{area}"))
    return t(f"page.processes.component.{component}")


def component_help(component: str) -> str:
    """A component's definition and normalisation."""
    if "." in component:
        return t("page.processes.area.help")
    span = format_percent(ProcessConfig().clv_trend_span, lang(), 0)
    return t(f"page.processes.component.{component}.help", span=span)


def page_label(page: str) -> str:
    return t("page.processes.open", page=t(f"page.{page}.title"))


def light_label(light: str) -> str:
    """The traffic light as coloured markdown, e.g. ":green[● Good]"."""
    return f":{LIGHT_COLOURS[light]}[● {t(f'page.processes.light.{light}')}]"


def format_value(value: float | None, unit: str) -> str:
    """A raw component value in its unit (module `crm_core.processes`, `Component.unit`)."""
    if value is None:
        return "—"
    if unit == "share":
        return format_percent(value, lang())
    if unit == "money":
        return format_money(value, lang())
    if unit == "change":
        return ("+" if value > 0 else "") + format_percent(value, lang())
    if unit == "count":
        return format_number(value, lang())
    return format_number(value, lang(), 1 if unit == "score" else 2)


def scope_dates(f: Filters) -> dict[str, str]:
    """The as-of date and the KPI period's ends, formatted for the scope caption."""
    return {"as_of": format_date(f.as_of, lang()), "start": format_date(f.period.start, lang()),
            "end": format_date(f.period.end, lang())}  # fmt: skip


def help_params() -> dict[str, str]:
    """Numbers the light and target captions quote: the light cut points and the tolerance."""
    scoring = ProcessConfig()
    return {"green": format_number(scoring.green, lang()),
            "amber": format_number(scoring.amber, lang()),
            "tolerance": format_percent(TargetRules().tolerance, lang(), 0)}  # fmt: skip


def link_params() -> dict[str, str]:
    """The language and global filters, carried by the page links."""
    return {n: st.query_params[n] for n in STICKY_PARAMS if n in st.query_params}


def pages_of(process: str) -> list[str]:
    """The pages a process's components link to, in component order, once each."""
    return list(dict.fromkeys(c.page for c in COMPONENTS if c.process == process))


# ---- charts and tables ------------------------------------------------------------------------


def radar_chart(scores: pl.DataFrame) -> go.Figure:
    """The five process scores on a 0–100 radar (an unscored process is a gap)."""
    labels = [html.escape(process_label(p)) for p in scores["process"]]
    values = scores["score"].to_list()
    fig = go.Figure(
        go.Scatterpolar(r=[*values, values[0]], theta=[*labels, labels[0]], fill="toself",
                        mode="lines+markers")
    )  # fmt: skip
    fig.update_layout(
        polar={"radialaxis": {"range": [0, 100], "tickvals": [0, 25, 50, 75, 100]}},
        margin={"t": 30, "b": 30}, height=440, showlegend=False,
    )  # fmt: skip
    return fig


def component_table(components: pl.DataFrame, process: str) -> pl.DataFrame:
    """A process's components as shown: `component` (name), `value` (formatted in its unit),
    `score` (0–100), `definition` (with the normalisation), `page` (where it is shown)."""
    mine = components.filter(pl.col("process") == process)
    rows = mine.select("component", "unit", "value", "score", "page").iter_rows()
    shown = [
        (component_label(c), format_value(v, u), s, component_help(c), t(f"page.{p}.title"))
        for c, u, v, s, p in rows
    ]  # a handful of components
    schema = {"component": pl.String, "value": pl.String, "score": pl.Float64,
              "definition": pl.String, "page": pl.String}  # fmt: skip
    return pl.DataFrame(shown, schema=schema, orient="row")


def component_columns() -> dict:
    return {
        "component": st.column_config.TextColumn(t("page.processes.col.component")),
        "value": st.column_config.TextColumn(t("page.processes.col.value"),
                                             help=t("page.processes.col.value.help")),
        "score": st.column_config.NumberColumn(t("page.processes.col.score"), format="%.1f",
                                               help=t("page.processes.col.score.help")),
        "definition": st.column_config.TextColumn(t("page.processes.col.definition"),
                                                  width="large"),
        "page": st.column_config.TextColumn(t("page.processes.col.page")),
    }  # fmt: skip


def targets_table(against: pl.DataFrame) -> pl.DataFrame:
    """`kpis_against_targets` with KPI names and statuses shown."""
    return against.with_columns(
        pl.Series("kpi", [kpi_name(METRICS[k].kpi or k, lang()) for k in against["kpi"]]),
        pl.Series("status", [t(f"page.processes.status.{s}") for s in against["status"]]),
    )


def targets_columns() -> dict:
    num = st.column_config.NumberColumn
    return {
        "kpi": st.column_config.TextColumn(t("page.processes.col.kpi")),
        "actual": num(t("page.processes.col.actual"), format="%.4g"),
        "target": num(t("page.processes.col.target"), format="%.4g"),
        "gap": num(t("page.processes.col.gap"), format="%.4g"),
        "gap_share": num(t("page.processes.col.gap_share"), format="percent"),
        "status": st.column_config.TextColumn(t("page.processes.col.status")),
    }


def channel_columns() -> dict:
    num = st.column_config.NumberColumn
    return {
        "channel": st.column_config.TextColumn(t("page.processes.col.channel")),
        "answers": num(t("page.processes.col.answers"), format="localized"),
        "csat": num(t("page.processes.col.csat"), format="percent"),
        "outbound": num(t("page.processes.col.outbound"), format="localized"),
        "responses": num(t("page.processes.col.responses"), format="localized"),
        "response_rate": num(t("page.processes.col.response_rate"), format="percent"),
    }

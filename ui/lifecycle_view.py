"""Lifecycle page helpers: cached staged frames, Plotly figures, the live rule editor."""

from __future__ import annotations

from datetime import date

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from crm_core import store
from crm_core.errors import VinculoError
from crm_core.i18n.format import format_number, format_percent
from crm_core.lifecycle import (
    FUNNEL_STAGES,
    NO_STAGE,
    STAGES,
    LifecycleRules,
    assign_stages,
    stage_counts,
    stage_mix_by_cohort,
    transitions,
)
from crm_core.lifecycle_report import count_change, restrict, with_p_alive, with_rules
from crm_core.segment_config import SegmentConfig
from crm_core.segment_store import save_config
from ui import analysis, filters
from ui.context import data_version, db, lang, t

STAGE_COLORS = {
    "exploration": "#9ecae1", "awareness": "#4292c6", "expansion": "#2171b5",
    "commitment": "#08306b", "dissolution": "#de2d26", NO_STAGE: "#bdbdbd",
}  # fmt: skip


def stage_label(stage: str) -> str:
    """A stage code in the user's language."""
    return t(f"lifecycle.stage.{stage}")


def with_stage_labels(frame: pl.DataFrame, *columns: str) -> pl.DataFrame:
    """`frame` with the stage codes of `columns` replaced by their labels."""
    labels = {s: stage_label(s) for s in (NO_STAGE, *STAGES)}
    return frame.with_columns(pl.col(c).replace_strict(labels) for c in columns)


@st.cache_resource(show_spinner=False, max_entries=8)
def scored_summary(db_path: str, version: int, as_of: date, window_days: int) -> pl.DataFrame:
    """The customer summary at `as_of` with the default CLV fit's P(alive) joined once."""
    base = analysis.summary(db_path, version, as_of, window_days)
    return with_p_alive(base, analysis.model_scores(db_path, version, as_of))


@st.cache_resource(show_spinner=False, max_entries=8)
def _base(db_path: str, version: int, f: filters.Filters) -> pl.DataFrame:
    base = scored_summary(db_path, version, f.as_of, f.config.window_days)
    return restrict(base, filters.customer_subset(f))


@st.cache_resource(show_spinner=False, max_entries=8)
def _stages(db_path: str, version: int, f: filters.Filters) -> pl.DataFrame:
    rules, churn = f.config.lifecycle, f.config.churn_window_days
    return assign_stages(_base(db_path, version, f), rules, churn)


@st.cache_resource(show_spinner=False, max_entries=16)
def _mix(db_path: str, version: int, f: filters.Filters, freq: str) -> pl.DataFrame:
    return stage_mix_by_cohort(_stages(db_path, version, f), _base(db_path, version, f), freq)


@st.cache_resource(show_spinner=False, max_entries=16)
def _moves(db_path: str, version: int, f: filters.Filters, start: date, end: date) -> pl.DataFrame:
    subset = filters.customer_subset(f)
    before, after = (
        restrict(analysis.staged(db_path, version, day, f.config_json), subset)
        for day in (start, end)
    )
    return transitions(before, after)


def lifecycle_base(f: filters.Filters) -> pl.DataFrame:
    """Summary + P(alive) at the filters' as-of date, restricted to the filtered customers."""
    return _base(db(), data_version(), f)


def saved_stages(f: filters.Filters) -> pl.DataFrame:
    """`crm_core.lifecycle.assign_stages` of `lifecycle_base(f)` under the saved rules."""
    return _stages(db(), data_version(), f)


def cohort_mix(f: filters.Filters, freq: str) -> pl.DataFrame:
    """`crm_core.lifecycle.stage_mix_by_cohort` of the filtered customers."""
    return _mix(db(), data_version(), f, freq)


def stage_moves(f: filters.Filters, start: date, end: date) -> pl.DataFrame:
    """`crm_core.lifecycle.transitions` of the filtered customers from `start` to `end`."""
    return _moves(db(), data_version(), f, start, end)


def keep_date_within(key: str, low: date, high: date) -> None:
    """Drop a date widget's remembered value once it falls outside [low, high] (e.g. after
    the global as-of date moved), so the widget starts again from its default."""
    chosen = st.session_state.get(key)
    if isinstance(chosen, date) and not low <= chosen <= high:
        del st.session_state[key]


def stage_metrics(counts: pl.DataFrame, config: SegmentConfig, change: dict | None = None) -> None:
    """One metric per stage (customers), with its definition on hover and the change if given."""
    params = config.lifecycle.to_dict()
    for col, row in zip(st.columns(len(STAGES)), counts.iter_rows(named=True), strict=True):
        stage, delta = row["stage"], None
        if change is not None:
            diff = change[stage]
            delta = ("+" if diff > 0 else "") + format_number(diff, lang())
        col.metric(
            stage_label(stage), format_number(row["customers"], lang()), delta=delta,
            delta_color="off" if not delta or delta == "0" else
            "inverse" if stage == "dissolution" else "normal",
            help=t(f"lifecycle.stage_help.{stage}", **params),
        )  # fmt: skip


def funnel_figure(funnel: pl.DataFrame) -> go.Figure:
    """Funnel of customers reached per live stage, conversion from the previous stage as text."""
    live = funnel.filter(pl.col("stage").is_in(FUNNEL_STAGES))
    text = [
        format_number(n, lang()) + ("" if c is None else f" · {format_percent(c, lang())}")
        for n, c in zip(live["reached"], live["conversion"], strict=True)
    ]
    fig = go.Figure(
        go.Funnel(
            y=[stage_label(s) for s in live["stage"]], x=live["reached"].to_list(),
            text=text, textinfo="text",
            marker={"color": [STAGE_COLORS[s] for s in live["stage"]]},
        )
    )  # fmt: skip
    return fig.update_layout(margin={"t": 10, "b": 10})


def cohort_mix_figure(mix: pl.DataFrame) -> go.Figure:
    """Stacked bars: share of each stage within each acquisition cohort."""
    fig = go.Figure()
    for stage in STAGES:
        part = mix.filter(pl.col("stage") == stage)
        fig.add_bar(
            x=part["cohort"].to_list(), y=part["share"].to_list(), name=stage_label(stage),
            marker_color=STAGE_COLORS[stage], customdata=part["customers"].to_list(),
            hovertemplate="%{x}<br>%{y:.1%} (%{customdata})<extra>" + stage_label(stage)
            + "</extra>",
        )  # fmt: skip
    return fig.update_layout(barmode="stack", yaxis_tickformat=".0%", margin={"t": 10})


def sankey_figure(moves: pl.DataFrame) -> go.Figure:
    """Sankey of `crm_core.lifecycle.transitions`: left nodes = first date, right = second."""
    order = (NO_STAGE, *STAGES)
    left = [s for s in order if s in set(moves["from_stage"])]
    right = [s for s in order if s in set(moves["to_stage"])]
    nodes = left + right
    fig = go.Figure(
        go.Sankey(
            node={"label": [stage_label(s) for s in nodes], "pad": 12,
                  "color": [STAGE_COLORS[s] for s in nodes]},
            link={"source": [left.index(s) for s in moves["from_stage"]],
                  "target": [len(left) + right.index(s) for s in moves["to_stage"]],
                  "value": moves["customers"].to_list()},
        )
    )  # fmt: skip
    return fig.update_layout(margin={"t": 10, "b": 10})


_RULE_SLIDERS: tuple[tuple[str, int, float, float, float], ...] = (
    ("exploration_days", 0, 0, 730, 1),
    ("commitment_min_tenure_days", 1, 0, 1825, 1),
    ("commitment_min_purchase_days", 2, 1, 52, 1),
    ("expansion_growth", 0, 0.0, 3.0, 0.05),
    ("p_alive_cutoff", 1, 0.0, 1.0, 0.01),
    ("churn_window_days", 2, 1, 1095, 1),
)
"""(threshold, column, minimum, maximum, step) of each rule slider; a saved value above the
maximum widens the slider."""


def _rule_inputs(rules: LifecycleRules, churn_window_days: int) -> tuple[LifecycleRules, int]:
    """One slider per rule threshold (keys `lc_<threshold>`), starting at the saved values."""
    saved = {**rules.to_dict(), "churn_window_days": churn_window_days}
    columns = st.columns(3)
    values = {}
    for name, column, low, high, step in _RULE_SLIDERS:
        start = type(low)(saved[name])
        values[name] = columns[column].slider(
            t(f"page.lifecycle.rule.{name}"), low, max(high, start), start, step,
            key=f"lc_{name}", help=t(f"page.lifecycle.rule.{name}.help"),
        )  # fmt: skip
    churn = int(values.pop("churn_window_days"))
    return LifecycleRules.from_dict(values), churn


@st.fragment
def rule_editor(f: filters.Filters) -> None:
    """Edit the stage rules and see the stage counts move live against the saved rules."""
    if message := st.session_state.pop("lc_saved_message", None):
        st.success(message)
    saved = f.config
    try:
        rules, churn = _rule_inputs(saved.lifecycle, saved.churn_window_days)
        edited = with_rules(saved, rules, churn)
    except VinculoError as exc:
        st.warning(exc.message(lang()))
        return
    # Only the edited rules are re-applied; the saved counts come from the cached stages.
    edited_counts = stage_counts(assign_stages(lifecycle_base(f), rules, churn))
    change = count_change(stage_counts(saved_stages(f)), edited_counts)
    counts = change.select("stage", customers="edited")
    stage_metrics(counts, edited, dict(zip(change["stage"], change["change"], strict=True)))
    if st.button(t("page.lifecycle.save"), key="lc_save", disabled=edited == saved,
                 help=t("page.lifecycle.save.help", name=saved.name)):  # fmt: skip
        try:
            with store.connect(db()) as con:
                version = save_config(con, edited, actor="app")
        except VinculoError as exc:  # e.g. the store is busy with an upload
            st.warning(exc.message(lang()))
            return
        analysis.saved_config_json.clear()
        st.session_state["lc_saved_message"] = t(
            "page.lifecycle.saved", name=edited.name, version=version
        )
        st.rerun(scope="app")

"""Global filters every page honours, kept in the URL so a view can be shared by link.

- `as_of` (`?as_of=YYYY-MM-DD`): the day at which customer states are computed
  (summary, segments, tiers, stages, CLV); default the last order's day.
- the KPI period (`?from=…&to=…`): the days the headline KPIs measure, compared
  with the period of equal length before; default the 30 days ending at `as_of`.
- `channel`, `segment`, `tier`: restrict to customers whose main sales channel,
  RFM segment or value tier is the one chosen.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl
import streamlit as st

from crm_core.period import Period
from crm_core.segment_config import SegmentConfig
from ui import analysis
from ui.context import config_version, data_version, db, lang, t

ALL = ""


@dataclass(frozen=True)
class Filters:
    """The sidebar's choices; `config_json` is the active segment configuration."""

    as_of: date
    period: Period
    channel: str
    segment: str
    tier: str
    config_json: str

    @property
    def config(self) -> SegmentConfig:
        return SegmentConfig.from_json(self.config_json)

    @property
    def is_filtered(self) -> bool:
        return bool(self.channel or self.segment or self.tier)


def _param_date(name: str, default: date) -> date:
    try:
        return date.fromisoformat(st.query_params.get(name, ""))
    except ValueError:
        return default


def _set_param(name: str, value: str) -> None:
    if value:
        st.query_params[name] = value
    elif name in st.query_params:
        del st.query_params[name]


def _choice(label: str, name: str, options: list[str], fmt=None) -> str:
    current = st.query_params.get(name, ALL)
    opts = [ALL, *options]
    index = opts.index(current) if current in opts else 0
    all_label = t("filter.all")
    picked = st.sidebar.selectbox(
        label, opts, index=index, key=f"filter_{name}_{lang()}",
        format_func=lambda v: all_label if v == ALL else (fmt(v) if fmt else v),
    )  # fmt: skip
    _set_param(name, picked)
    return picked


def sidebar_filters() -> Filters | None:
    """Draw the global filters in the sidebar; None when the store has no orders yet."""
    version = data_version()
    last = analysis.last_day(db(), version)
    if last is None:
        return None
    st.sidebar.subheader(t("filter.title"))
    as_of = st.sidebar.date_input(
        t("filter.as_of"), _param_date("as_of", last), max_value=last, key="filter_as_of",
        help=t("filter.as_of.help"),
    )  # fmt: skip
    _set_param("as_of", "" if as_of == last else as_of.isoformat())
    start_default = as_of - timedelta(days=29)
    chosen = st.sidebar.date_input(
        t("filter.period"),
        (_param_date("from", start_default), _param_date("to", as_of)),
        max_value=last, key="filter_period", help=t("filter.period.help"),
    )  # fmt: skip
    start, end = (chosen + (chosen[0],))[:2] if isinstance(chosen, tuple) else (chosen, chosen)
    _set_param("from", "" if start == start_default else start.isoformat())
    _set_param("to", "" if end == as_of else end.isoformat())

    config_json = analysis.saved_config_json(db(), config_version())
    config = SegmentConfig.from_json(config_json)
    base = analysis.summary(db(), version, as_of, config.window_days)
    channels = sorted(base["main_channel"].drop_nulls().unique().to_list())
    channel = _choice(t("filter.channel"), "channel", channels)
    segment = _choice(t("filter.segment"), "segment", list(config.segment_names))
    tier = _choice(t("filter.tier"), "tier", list(config.tiers.names))
    return Filters(as_of, Period(start, end), channel, segment, tier, config_json)


def customer_subset(filters: Filters) -> pl.DataFrame | None:
    """Customer ids passing the channel/segment/tier filters; None when unfiltered."""
    if not filters.is_filtered:
        return None
    version = data_version()
    config = filters.config
    frame = analysis.summary(db(), version, filters.as_of, config.window_days).select(
        "customer_id", "main_channel"
    )
    if filters.segment or filters.tier:
        seg = analysis.segmented(db(), version, filters.as_of, filters.config_json)
        frame = frame.join(seg.select("customer_id", "segment", "tier"), on="customer_id")
    if filters.channel:
        frame = frame.filter(pl.col("main_channel") == filters.channel)
    if filters.segment:
        frame = frame.filter(pl.col("segment").cast(pl.Utf8) == filters.segment)
    if filters.tier:
        frame = frame.filter(pl.col("tier").cast(pl.Utf8) == filters.tier)
    return frame.select("customer_id")


def row_mask(
    summary: pl.DataFrame, segmented: pl.DataFrame, channel: str, segment: str, tier: str
) -> pl.Series:
    """Rows passing the channel/segment/tier filters ("" = all); `summary` and `segmented`
    share one row order (the cached frames of `ui.analysis` do)."""
    keep = pl.repeat(True, summary.height, dtype=pl.Boolean, eager=True)
    if channel:
        keep &= (summary["main_channel"] == channel).fill_null(False)
    if segment:
        keep &= segmented["segment"].cast(pl.String) == segment
    if tier:
        keep &= segmented["tier"].cast(pl.String) == tier
    return keep


def remember(filters: Filters | None) -> None:
    """Called by `app.py` once per run, before the page runs."""
    st.session_state["_filters"] = filters


def current() -> Filters | None:
    """The filters `app.py` drew for this run; None when the store has no orders."""
    return st.session_state.get("_filters")


def require(empty_key: str = "empty.no_orders") -> Filters:
    """The filters of this run; on a store without orders, show `empty_key` and stop the page."""
    filters = current()
    if filters is None:
        st.info(t(empty_key))
        st.stop()
    return filters

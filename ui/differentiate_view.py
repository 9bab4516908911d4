"""Differentiate page: cached value frames, the threshold controls and the draft they edit.

Every cached function takes `key` = (store path, data version, as_of, recent window of the
active configuration): the page segments every customer at the as-of date (the channel,
segment and tier filters do not apply). The CLV-joined value base is built once per key; a
threshold move re-segments it in memory (`crm_core.segments.segment_values`) and aggregates
one value cube (`crm_core.differentiate.value_cube`), cached per draft configuration.

The draft lives in session state: `diff_loaded` (the configuration the draft started from:
the active one, or a saved version loaded into it), `diff_draft` (the draft as edited) and
one widget per threshold (keys `diff_*`), seeded from the draft.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import polars as pl
import streamlit as st

from crm_core import store
from crm_core.differentiate import (
    Concentration,
    absolute_tier_cuts,
    buyer_values,
    concentration,
    default_tier_shares,
    group_value,
    moved_customers,
    movement_matrix,
    rf_grid,
    size_comparison,
    value_base,
    value_cube,
    value_tree,
)
from crm_core.i18n.format import format_percent
from crm_core.needs import NeedsConfig, needs_by_tier, needs_groups, needs_profile
from crm_core.needs import preference_matrix as _preference_matrix
from crm_core.segment_config import RFMSettings, SegmentConfig, TierSettings
from crm_core.segment_store import list_configs, load_config
from crm_core.segments import segment_label, segment_values
from ui import analysis
from ui.context import lang, t
from ui.filters import Filters

Key = tuple[str, int, date, int]


def key_of(f: Filters, db: str, version: int) -> Key:
    """The cache key of the page: store, data version, as-of date, active recent window."""
    return (db, version, f.as_of, f.config.window_days)


def label(name: str | None) -> str:
    """A segment or tier name as shown (default names translated; made-up ones as typed)."""
    return "" if name is None else segment_label(name, lang())


# ---- cached frames ------------------------------------------------------------------------


@st.cache_resource(show_spinner=False, max_entries=4)
def base(key: Key) -> pl.DataFrame:
    """`crm_core.differentiate.value_base`: the summary joined once with the CLV scores."""
    db, version, as_of, window = key
    scores = analysis.model_scores(db, version, as_of)
    return value_base(analysis.summary(db, version, as_of, window), scores)


def has_clv(key: Key) -> bool:
    """True when the CLV model could be fitted (tiers and value then use CLV)."""
    return "clv" in base(key).columns


@st.cache_resource(show_spinner=False, max_entries=6)
def segmented(key: Key, config_json: str) -> pl.DataFrame:
    """`segment_values` of the value base under a configuration (a draft or a saved one)."""
    return segment_values(base(key), SegmentConfig.from_json(config_json))


@dataclass(frozen=True)
class Workbench:
    """Tables of one configuration: per segment, per tier, the R × F grid and the treemap."""

    segments: pl.DataFrame
    tiers: pl.DataFrame
    grid: pl.DataFrame
    tree: pl.DataFrame


@st.cache_resource(show_spinner=False, max_entries=8)
def workbench(key: Key, config_json: str) -> Workbench:
    """`group_value` by segment and tier, `rf_grid` and `value_tree` of one value cube."""
    config = SegmentConfig.from_json(config_json)
    cube = value_cube(base(key), segmented(key, config_json), config.churn_window_days)
    return Workbench(
        group_value(cube, "segment"), group_value(cube, "tier"), rf_grid(cube, config),
        value_tree(cube),
    )  # fmt: skip


@st.cache_resource(show_spinner=False, max_entries=4)
def concentrations(key: Key) -> dict[str, Concentration]:
    """`concentration` of the buyers' revenue and (with a model) CLV."""
    columns = ["revenue", "clv"] if has_clv(key) else ["revenue"]
    return {c: concentration(buyer_values(base(key), c)) for c in columns}


@dataclass(frozen=True)
class Comparison:
    """Two configurations side by side: sizes, movement matrix, customers who move (and
    their share of all customers)."""

    sizes: pl.DataFrame
    matrix: pl.DataFrame
    moved: int
    moved_share: float
    """`moved` over all customers, 0–1."""


@st.cache_resource(show_spinner=False, max_entries=8)
def comparison(key: Key, json_a: str, json_b: str) -> Comparison:
    """`size_comparison`, `movement_matrix` and `moved_customers` of A → B."""
    a, b = segmented(key, json_a), segmented(key, json_b)
    matrix = movement_matrix(a, b, ordered=True)
    sizes, moved = size_comparison(a, b, matrix), moved_customers(matrix)
    return Comparison(sizes, matrix, moved, moved / a.height if a.height else 0.0)


@st.cache_resource(show_spinner=False, max_entries=4)
def preference_matrix(key: Key) -> pl.DataFrame:
    """`crm_core.needs.preference_matrix`: buyers per preferred category × channel."""
    db, version, as_of, window = key
    groups = needs_groups(analysis.summary(db, version, as_of, window), NeedsConfig(min_share=0))
    return _preference_matrix(groups, base(key))


@st.cache_resource(show_spinner=False, max_entries=8)
def needs(key: Key, config: NeedsConfig, config_json: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`needs_profile` and `needs_by_tier` (tiers of `config_json`) of the needs groups."""
    db, version, as_of, window = key
    groups = needs_groups(analysis.summary(db, version, as_of, window), config)
    by_tier = needs_by_tier(groups, segmented(key, config_json), config)
    return needs_profile(groups, base(key), config), by_tier


@st.cache_data(show_spinner=False, max_entries=16)
def saved_versions(db: str, version: int, active_json: str) -> pl.DataFrame:
    """Every saved configuration version, newest first (`segment_store.list_configs`).

    Keyed on the active configuration too: any save makes its body the active one."""
    del version, active_json
    with store.connect(db) as con:
        return list_configs(con).sort("created_at", "version", descending=True)


@st.cache_data(show_spinner=False, max_entries=32)
def saved_json(db: str, version: int, name: str, number: int) -> str:
    """The JSON of one saved version (versions never change once written)."""
    del version
    with store.connect(db) as con:
        return load_config(con, name, number).to_json()


# ---- the draft and its controls -----------------------------------------------------------

DIMS = {"r": "recency_cuts", "f": "frequency_cuts", "m": "monetary_cuts"}
SCORES = {"r": (5, 4, 3, 2), "f": (2, 3, 4, 5), "m": (2, 3, 4, 5)}
"""The score each increasing cut point opens (recency: upper bounds of 5, 4, 3, 2)."""


def widget_values(config: SegmentConfig, key: Key) -> dict[str, Any]:
    """The value of every threshold widget for `config` (percentile and absolute tier cut
    points both, the mode not in use starting from the equivalent of the one in use)."""
    values: dict[str, Any] = {"diff_rfm_mode": config.rfm.mode}
    for dim, field in DIMS.items():
        for i, cut in enumerate(getattr(config.rfm, field)):
            # R and F are whole days/purchase days: ≤ x is ≤ ⌊x⌋, ≥ x is ≥ ⌈x⌉
            values[f"diff_{dim}_{i + 1}"] = {
                "r": lambda v: int(math.floor(v)), "f": lambda v: int(math.ceil(v)),
                "m": float,
            }[dim](cut)  # fmt: skip
    tiers = config.tiers
    count = len(tiers.names) - 1
    shares = tiers.cuts if tiers.mode == "percentile" else default_tier_shares(count)
    money = tiers.cuts if tiers.mode == "absolute" else absolute_tier_cuts(base(key), tiers)
    for i in range(count):
        values[f"diff_tier_pct_{i + 1}"] = round(shares[i] * 100, 4)
        values[f"diff_tier_abs_{i + 1}"] = float(money[i])
    values.update(diff_tier_mode=tiers.mode, diff_tier_value=tiers.value)
    values.update(diff_churn_window=config.churn_window_days, diff_window=config.window_days)
    return values


def widget_keys(config: SegmentConfig) -> list[str]:
    """Keys of every threshold widget for `config` (as `widget_values` fills them)."""
    cuts = [f"diff_{dim}_{i}" for dim in DIMS for i in range(1, 5)]
    tiers = [f"diff_tier_{kind}_{i}" for kind in ("pct", "abs")
             for i in range(1, len(config.tiers.names))]  # fmt: skip
    return ["diff_rfm_mode", "diff_tier_mode", "diff_tier_value", "diff_churn_window",
            "diff_window", *cuts, *tiers]  # fmt: skip


def load_into_draft(config_json: str, key: Key) -> None:
    """Make `config_json` the draft: every widget takes its value (call before they draw,
    e.g. in a button callback)."""
    config = SegmentConfig.from_json(config_json)
    st.session_state.update(widget_values(config, key))
    st.session_state.update(diff_loaded=config_json, diff_draft=config_json,
                            diff_save_name=config.name)  # fmt: skip


def init_draft(active_json: str, key: Key) -> SegmentConfig:
    """Start the draft from the active configuration; follow the active one when it changes
    (saved on another page) unless the draft has edits. Returns the configuration loaded."""
    state = st.session_state
    if state.get("diff_active") != active_json:
        untouched = state.get("diff_draft") in (None, state.get("diff_loaded"))
        state["diff_active"] = active_json
        if untouched:
            load_into_draft(active_json, key)
    draft = SegmentConfig.from_json(state["diff_draft"])
    if any(name not in state for name in widget_keys(draft)):  # dropped on a page change
        for name, value in widget_values(draft, key).items():
            state.setdefault(name, value)
    state.setdefault("diff_save_name", draft.name)
    return SegmentConfig.from_json(state["diff_loaded"])


def choices(name: str, options: tuple[str, ...]) -> Callable[[str], str]:
    """A widget's `format_func`: option → `page.differentiate.<name>.<option>`, translated
    now (a format function must not depend on the run it is called from)."""
    return {o: t(f"page.differentiate.{name}.{o}") for o in options}.__getitem__


def _cut_inputs(dim: str, disabled: bool) -> tuple[float, ...]:
    values = []
    for i, score in enumerate(SCORES[dim]):
        unit = {"step": 50.0, "min_value": 0.0, "format": "%.2f"} if dim == "m" else {
            "step": 1, "min_value": 0 if dim == "r" else 1}  # fmt: skip
        values.append(float(st.number_input(
            t(f"page.differentiate.cut.{dim}", score=score), key=f"diff_{dim}_{i + 1}",
            disabled=disabled, help=t(f"page.differentiate.cut.{dim}.help"), **unit,
        )))  # fmt: skip
    return tuple(values)


def rfm_inputs() -> RFMSettings:
    """RFM mode and the 4 + 4 + 4 cut points (disabled in quantile mode)."""
    mode = st.radio(
        t("page.differentiate.rfm_mode"), ["quantile", "thresholds"], key="diff_rfm_mode",
        format_func=choices("rfm_mode", ("quantile", "thresholds")), horizontal=True,
        help=t("page.differentiate.rfm_mode.help"),
    )  # fmt: skip
    columns = st.columns(3)
    cuts = {}
    for column, dim in zip(columns, DIMS, strict=True):
        with column:
            st.markdown(f"**{t(f'page.differentiate.dim.{dim}')}**")
            cuts[dim] = _cut_inputs(dim, disabled=mode == "quantile")
    return RFMSettings(mode, cuts["r"], cuts["f"], cuts["m"])


def tier_inputs(loaded: TierSettings, clv: bool) -> TierSettings:
    """Tier mode, the value ranked and one cut point per boundary, best tier first."""
    left, right = st.columns(2)
    mode = left.radio(
        t("page.differentiate.tier_mode"), ["percentile", "absolute"], key="diff_tier_mode",
        format_func=choices("tier_mode", ("percentile", "absolute")), horizontal=True,
        help=t("page.differentiate.tier_mode.help"),
    )  # fmt: skip
    value = right.radio(
        t("page.differentiate.tier_value"), ["auto", "clv", "revenue"], key="diff_tier_value",
        format_func=choices("tier_value", ("auto", "clv", "revenue")), horizontal=True,
        help=t("page.differentiate.tier_value.help",
              model=t("page.differentiate.model." + ("clv" if clv else "none"))),
    )  # fmt: skip
    count = len(loaded.names) - 1
    shares = _tier_cut_row(loaded.names, "pct", disabled=mode != "percentile")
    money = _tier_cut_row(loaded.names, "abs", disabled=mode != "absolute")
    cuts = tuple(round(x / 100, 6) for x in shares) if mode == "percentile" else money
    return replace(loaded, mode=mode, cuts=cuts[:count], value=value)


_TIER_BOUNDS: dict[str, dict[str, Any]] = {
    "pct": {"min_value": 0.1, "max_value": 99.9, "step": 1.0, "format": "%.1f"},
    "abs": {"min_value": 0.0, "step": 100.0, "format": "%.2f"},
}


def _tier_cut_row(names: tuple[str, ...], kind: str, disabled: bool) -> tuple[float, ...]:
    """One row of tier cut inputs, best tier first. Percentile ("pct"): cut i is the top
    share (%) that closes tier i. Absolute ("abs"): increasing cut j is the lowest value
    (BRL) of tier count − j, so the row shows them from the highest down."""
    count = len(names) - 1
    if count == 0:
        return ()
    columns = st.columns(count)
    values: dict[int, float] = {}
    for i in range(count):
        j = i if kind == "pct" else count - 1 - i  # the cut point behind column i
        values[j] = float(columns[i].number_input(
            t(f"page.differentiate.tier_{kind}", tier=label(names[i])),
            key=f"diff_tier_{kind}_{j + 1}", disabled=disabled,
            help=t(f"page.differentiate.tier_{kind}.help"), **_TIER_BOUNDS[kind],
        ))  # fmt: skip
    return tuple(values[j] for j in range(count))


def window_inputs() -> tuple[int, int]:
    """Churn window and recent window (days), as sliders."""
    left, right = st.columns(2)
    churn = left.slider(
        t("page.differentiate.churn_window"), 1, max(1095, st.session_state["diff_churn_window"]),
        step=1, key="diff_churn_window", help=t("page.differentiate.churn_window.help"),
    )  # fmt: skip
    window = right.slider(
        t("page.differentiate.window"), 7, max(730, st.session_state["diff_window"]), step=1,
        key="diff_window", help=t("page.differentiate.window.help"),
    )  # fmt: skip
    return int(churn), int(window)


def threshold_inputs(loaded: SegmentConfig, key: Key) -> SegmentConfig:
    """Every threshold widget; the draft they describe (raises `VinculoError` when invalid:
    cut points not increasing, say). The rules, names and life-cycle rules come from
    `loaded`."""
    st.markdown(f"##### {t('page.differentiate.rfm')}")
    rfm = rfm_inputs()
    st.markdown(f"##### {t('page.differentiate.tiers')}")
    tiers = tier_inputs(loaded.tiers, has_clv(key))
    st.markdown(f"##### {t('page.differentiate.windows')}")
    churn, window = window_inputs()
    draft = replace(loaded, rfm=rfm, tiers=tiers, churn_window_days=churn, window_days=window)
    st.session_state["diff_draft"] = draft.to_json()
    return draft


def compare_options(db: str, version: int, active_json: str) -> dict[str, tuple[str, int]]:
    """Configurations offered for comparison: option → (name, version); the draft and the
    active one are ("", 0) and ("", -1)."""
    saved = saved_versions(db, version, active_json)
    options = {"draft": ("", 0), "active": ("", -1)}
    for name, number in saved.select("name", "version").iter_rows():
        options[f"{number}:{name}"] = (name, int(number))
    return options


def config_json_of(
    option: str, options: dict[str, tuple[str, int]], f: Filters, db: str, version: int
) -> str:
    """The JSON of a comparison option: the draft, the active configuration or a version."""
    name, number = options[option]
    if number == 0:
        return st.session_state.get("diff_draft", f.config_json)
    if number < 0:
        return f.config_json
    return saved_json(db, version, name, number)


def load_saved(db: str, version: int, option: str, key: Key) -> None:
    """Button callback: load the saved version `option` ("version:name") into the draft."""
    number, name = option.split(":", 1)
    load_into_draft(saved_json(db, version, name, int(number)), key)


# ---- display helpers ---------------------------------------------------------------------


def relabel(frame: pl.DataFrame, **columns: Any) -> pl.DataFrame:
    """`frame` with each named column's values passed through its function, as text."""
    return frame.with_columns(
        pl.Series(name, [fn(v) for v in frame[name].cast(pl.String)], dtype=pl.String)
        for name, fn in columns.items()
    )


def concentration_table(conc: dict[str, Concentration]) -> pl.DataFrame:
    """Rows: Gini, then the value share of each top share; one column per value measured."""
    first = next(iter(conc.values()))
    measures = [t("page.differentiate.gini")] + [
        t("page.differentiate.top", share=format_percent(p, lang(), 0))
        for p in first.top["customer_share"]
    ]
    data: dict[str, list] = {"measure": measures}
    for column, result in conc.items():
        data[column] = [result.gini, *result.top["value_share"].to_list()]
    return pl.DataFrame(data, schema_overrides={c: pl.Float64 for c in conc})


def channel_label(code: str | None) -> str:
    """A sales-channel code in the user's language (codes the page does not know, as is)."""
    if code is None:
        return ""
    key = f"page.differentiate.channel.{code}"
    text = t(key)
    return code if text == key else text


def needs_labels(profile: pl.DataFrame, config: NeedsConfig) -> dict[str, str]:
    """Needs group → its label shown: "category × channel" with the channel translated."""
    out = {}
    for row in profile.iter_rows(named=True):  # one row per group, not per customer
        if row["needs_group"] == config.other:
            out[row["needs_group"]] = t("page.differentiate.needs.other")
        elif config.by == "channel":
            out[row["needs_group"]] = channel_label(row["channel"])
        elif config.by == "category":
            out[row["needs_group"]] = row["category"]
        else:
            out[row["needs_group"]] = f"{row['category']} × {channel_label(row['channel'])}"
    return out

"""Cached analytics for the pages, keyed on (store path, data version, inputs).

Big frames are held with `st.cache_resource` (shared, not copied per rerun:
Polars frames are immutable), small results with `st.cache_data`. Every key
includes the store's data version, so an upload or undo invalidates them.
A slider rerun that only changes a threshold reuses the cached summary and
model scores and re-segments in memory (`crm_core.segments`).
"""

from __future__ import annotations

from datetime import date

import polars as pl
import streamlit as st

from crm_core import store
from crm_core.clv import ClvResult, FittedModels, fit_models, score_fitted
from crm_core.errors import VinculoError
from crm_core.kpis import last_order_date
from crm_core.lifecycle import assign_stages
from crm_core.relationship import RelationshipRules, interaction_profile, relationship_types
from crm_core.segment_config import SegmentConfig
from crm_core.segment_store import latest_config
from crm_core.segments import segment_customers
from crm_core.summary import customer_summary


@st.cache_data(show_spinner=False, max_entries=16)
def last_day(db: str, version: int) -> date | None:
    """Local day of the latest order (the default as-of date)."""
    del version
    with store.connect(db) as con:
        return last_order_date(con)


@st.cache_data(show_spinner=False, max_entries=16)
def saved_config_json(db: str, config_version: str) -> str:
    """The latest saved segment configuration (or the default) as JSON; keyed on the
    configurations' fingerprint (`ui.context.config_version`), so a save by another user
    becomes active on this session's next run."""
    del config_version
    with store.connect(db) as con:
        config, _ = latest_config(con)
    return config.to_json()


@st.cache_resource(show_spinner=False, max_entries=8)
def summary(db: str, version: int, as_of: date, window_days: int) -> pl.DataFrame:
    """`crm_core.summary.customer_summary` at `as_of`."""
    del version
    with store.connect(db) as con:
        return customer_summary(con, as_of, window_days=window_days)


@st.cache_resource(show_spinner=False, max_entries=8)
def clv_models(
    db: str,
    version: int,
    calibration_end: date,
    time_unit: str = "week",
    holdout_end: date | None = None,
) -> FittedModels | VinculoError:
    """Both CLV models fitted at `calibration_end`, or the user error that stopped them."""
    del version
    try:
        with store.connect(db) as con:
            return fit_models(
                con, calibration_end=calibration_end, holdout_end=holdout_end, time_unit=time_unit
            )
    except VinculoError as exc:
        return exc


@st.cache_resource(show_spinner=False, max_entries=16)
def clv_fit(
    db: str,
    version: int,
    calibration_end: date,
    time_unit: str = "week",
    horizon: int = 12,
    discount_rate: float = 0.01,
    margin: float = 1.0,
    holdout_end: date | None = None,
) -> ClvResult | VinculoError:
    """Customers scored with the CLV terms; the fit itself is shared across terms."""
    fitted = clv_models(db, version, calibration_end, time_unit, holdout_end)
    if isinstance(fitted, VinculoError):
        return fitted
    try:
        return score_fitted(fitted, horizon=horizon, discount_rate=discount_rate, margin=margin)
    except VinculoError as exc:
        return exc


def model_scores(db: str, version: int, as_of: date) -> pl.DataFrame | None:
    """Per-customer P(alive) and CLV at `as_of` with default model settings; None if unfittable."""
    result = clv_fit(db, version, as_of)
    return None if isinstance(result, VinculoError) else result.customers


@st.cache_resource(show_spinner=False, max_entries=16)
def segmented(db: str, version: int, as_of: date, config_json: str) -> pl.DataFrame:
    """RFM scores, segment and tier per customer for a configuration."""
    config = SegmentConfig.from_json(config_json)
    base = summary(db, version, as_of, config.window_days)
    return segment_customers(base, config, model_scores(db, version, as_of))


@st.cache_resource(show_spinner=False, max_entries=16)
def staged(db: str, version: int, as_of: date, config_json: str) -> pl.DataFrame:
    """Life-cycle stage per customer for a configuration."""
    config = SegmentConfig.from_json(config_json)
    base = summary(db, version, as_of, config.window_days)
    return assign_stages(
        base, config.lifecycle, config.churn_window_days, model_scores(db, version, as_of)
    )


@st.cache_resource(show_spinner=False, max_entries=8)
def relationship(db: str, version: int, as_of: date, window_days: int) -> pl.DataFrame:
    """Relationship type per customer (default rules)."""
    with store.connect(db) as con:
        profile = interaction_profile(con, as_of)
    return relationship_types(summary(db, version, as_of, window_days), profile,
                              RelationshipRules())  # fmt: skip

"""What the Lifecycle page shows, as pure functions over the customer summary and stages.

Builds on `crm_core.lifecycle` (the Dwyer, Schurr & Oh 1987 stage rules): restricting the
summary to a customer subset (the global filters), attaching model P(alive) once so a
threshold change re-stages cheaply, and comparing the stage counts of an edited rule set
with those of the saved one.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import polars as pl

from crm_core.lifecycle import LifecycleRules, assign_stages, stage_counts
from crm_core.segment_config import SegmentConfig

TRANSITION_DAYS = 90
"""Default look-back, in days, of the transitions view (as_of − 90 days → as_of)."""


def restrict(frame: pl.DataFrame, customers: pl.DataFrame | None) -> pl.DataFrame:
    """Rows of `frame` whose `customer_id` is in `customers` (all rows when it is None).

    Order is kept, so a staged frame stays aligned with its summary.
    """
    if customers is None:
        return frame
    return frame.join(customers.select("customer_id"), on="customer_id", how="semi")


def with_p_alive(summary: pl.DataFrame, model: pl.DataFrame | None) -> pl.DataFrame:
    """The summary plus a `p_alive` column (0–1, null when unscored or without a model).

    `assign_stages` reads a summary's own `p_alive` when no model is given, so joining once
    here makes every later re-staging after a threshold change a pure column computation.
    """
    if model is None:
        return summary.with_columns(p_alive=pl.lit(None, dtype=pl.Float64))
    scores = model.select("customer_id", pl.col("p_alive").cast(pl.Float64))
    return summary.join(scores, on="customer_id", how="left", maintain_order="left")


def with_rules(
    config: SegmentConfig, rules: LifecycleRules, churn_window_days: int
) -> SegmentConfig:
    """`config` with its life-cycle rules and churn window (days) replaced; nothing else."""
    return replace(config, lifecycle=rules, churn_window_days=churn_window_days)


def count_change(saved: pl.DataFrame, edited: pl.DataFrame) -> pl.DataFrame:
    """Two `stage_counts` frames side by side: `stage`, `saved`, `edited` (customers, Int64)
    and `change` = edited − saved, in life-cycle order."""
    return (
        saved.select("stage", saved="customers")
        .join(edited.select("stage", edited="customers"), on="stage", maintain_order="left")
        .with_columns(change=pl.col("edited") - pl.col("saved"))
    )


def rule_change(
    summary: pl.DataFrame,
    saved: SegmentConfig,
    edited: SegmentConfig,
    model: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Customers per stage under the saved and the edited rules, and the difference.

    Both are `stage_counts(assign_stages(summary, …))` with each configuration's
    `lifecycle` rules and `churn_window_days`; the result is `count_change` of the two:
    `stage` (every stage in life-cycle order), `saved`, `edited`, `change`.
    """
    counts = [
        stage_counts(assign_stages(summary, c.lifecycle, c.churn_window_days, model))
        for c in (saved, edited)
    ]
    return count_change(*counts)


def transition_window(as_of: date, first_day: date | None, days: int = TRANSITION_DAYS) -> date:
    """Default first date of the transitions view: `as_of − days`, not before `first_day`."""
    start = as_of - timedelta(days=days)
    return max(start, first_day) if first_day is not None else start

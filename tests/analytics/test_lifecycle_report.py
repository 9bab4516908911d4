"""Lifecycle page figures: filtering, P(alive) attached once, saved vs edited rule counts."""

from __future__ import annotations

from datetime import date

import polars as pl

from crm_core.lifecycle import STAGES, LifecycleRules, assign_stages, stage_counts
from crm_core.lifecycle_report import (
    count_change,
    restrict,
    rule_change,
    transition_window,
    with_p_alive,
    with_rules,
)
from crm_core.segment_config import SegmentConfig
from tests.analytics.test_lifecycle import LEAD, LOYAL, summary_of


def test_restrict_keeps_order_and_none_keeps_all() -> None:
    frame = pl.DataFrame({"customer_id": ["c3", "c1", "c2"], "x": [3, 1, 2]})
    subset = pl.DataFrame({"customer_id": ["c2", "c3", "c9"]})
    assert restrict(frame, subset)["customer_id"].to_list() == ["c3", "c2"]
    assert restrict(frame, None).equals(frame)


def test_with_p_alive_joins_once_and_stages_like_a_model() -> None:
    summary = summary_of({}, {}, {})  # three awareness/steady buyers
    model = pl.DataFrame({"customer_id": ["c2", "c1"], "p_alive": [0.9, 0.1]})
    scored = with_p_alive(summary, model)
    assert scored["p_alive"].to_list() == [0.1, 0.9, None]
    rules = LifecycleRules()
    # c1's P(alive) 0.1 < 0.30 → dissolution; c3 unscored is no evidence → awareness.
    staged = assign_stages(scored, rules, 180)
    assert staged["stage"].cast(pl.String).to_list() == ["dissolution", "awareness", "awareness"]
    assert staged.equals(assign_stages(summary, rules, 180, model))
    assert with_p_alive(summary, None)["p_alive"].null_count() == 3


def test_with_rules_changes_only_the_lifecycle_rules_and_churn_window() -> None:
    saved = SegmentConfig(name="shop", window_days=90)
    rules = LifecycleRules(exploration_days=30)
    edited = with_rules(saved, rules, 60)
    assert (edited.lifecycle, edited.churn_window_days) == (rules, 60)
    assert (edited.name, edited.window_days, edited.rules) == ("shop", 90, saved.rules)


def test_rule_change_by_hand() -> None:
    # c1 awareness (steady repeat buyer, recency 30), c2 commitment (loyal, recency 30), c3 lead.
    summary = summary_of({}, LOYAL, LEAD)
    saved = SegmentConfig()  # churn window 180: nobody lapsed
    edited = with_rules(saved, saved.lifecycle, 30)  # recency 30 >= 30: both buyers lapse
    change = rule_change(summary, saved, edited)
    assert change["stage"].to_list() == list(STAGES)
    assert change["saved"].to_list() == [1, 1, 0, 1, 0]
    assert change["edited"].to_list() == [1, 0, 0, 0, 2]
    assert change["change"].to_list() == [0, -1, 0, -1, 2]


def test_transition_window_defaults_to_90_days_not_before_the_first_day() -> None:
    as_of = date(2026, 6, 30)
    assert transition_window(as_of, date(2020, 1, 1)) == date(2026, 4, 1)
    assert transition_window(as_of, date(2026, 5, 1)) == date(2026, 5, 1)
    assert transition_window(as_of, None, days=30) == date(2026, 5, 31)


def test_count_change_of_two_stage_counts() -> None:
    staged = pl.DataFrame(
        {"customer_id": ["a", "b", "c"], "stage": ["awareness"] * 2 + ["expansion"]}
    )
    moved = staged.with_columns(stage=pl.Series(["awareness", "dissolution", "dissolution"]))
    change = count_change(stage_counts(staged), stage_counts(moved))
    assert change.rows() == [
        ("exploration", 0, 0, 0),
        ("awareness", 2, 1, -1),
        ("expansion", 1, 0, -1),
        ("commitment", 0, 0, 0),
        ("dissolution", 0, 2, 2),
    ]

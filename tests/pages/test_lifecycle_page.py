"""Lifecycle page on the demo store: counts equal crm_core's; filters and rules move them."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from crm_core import store
from crm_core.clv import fit_clv
from crm_core.i18n import translate
from crm_core.i18n.format import format_number
from crm_core.kpis import last_order_date
from crm_core.lifecycle import STAGES, LifecycleRules, assign_stages, stage_counts, transitions
from crm_core.segment_config import SegmentConfig
from crm_core.segment_store import latest_config
from crm_core.summary import customer_summary
from tests.pages.conftest import open_page

PAGE = "pages/lifecycle.py"
CONFIG = SegmentConfig()


def staged_by_hand(db: Path, day: date, rules: LifecycleRules, churn: int, channel: str = ""):
    """Stages at `day` as the page defines them: summary + default CLV fit's P(alive)."""
    with store.connect(db) as con:
        summary = customer_summary(con, day, window_days=CONFIG.window_days)
        model = fit_clv(con, calibration_end=day).customers
    if channel:
        summary = summary.filter(pl.col("main_channel") == channel)
    return assign_stages(summary, rules, churn, model)


def expected_counts(db: Path, day: date, lang: str, **kwargs) -> list[tuple[str, str]]:
    staged = staged_by_hand(db, day, CONFIG.lifecycle, CONFIG.churn_window_days, **kwargs)
    counts = stage_counts(staged)
    return [
        (translate(f"lifecycle.stage.{s}", lang), format_number(n, lang))
        for s, n in zip(counts["stage"], counts["customers"], strict=True)
    ]


def shown_counts(at, start: int = 0) -> list[tuple[str, str]]:
    return [(m.label, m.value) for m in at.metric[start : start + len(STAGES)]]


def as_of(db: Path) -> date:
    with store.connect(db) as con:
        return last_order_date(con)


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_stage_counts_equal_crm_core(demo_db: Path, lang: str) -> None:
    at = open_page(PAGE, lang=lang)
    expected = expected_counts(demo_db, as_of(demo_db), lang)
    assert shown_counts(at) == expected
    assert shown_counts(at, len(STAGES)) == expected  # the editor starts at the saved rules
    assert at.title[0].value == translate("page.lifecycle.title", lang)


def test_a_channel_filter_in_the_url_changes_the_counts(demo_db: Path) -> None:
    at = open_page(PAGE, channel="app")
    expected = expected_counts(demo_db, as_of(demo_db), "en", channel="app")
    assert shown_counts(at) == expected
    assert expected != expected_counts(demo_db, as_of(demo_db), "en")


def test_transitions_table_equals_crm_core(demo_db: Path) -> None:
    at = open_page(PAGE)
    end = as_of(demo_db)
    rules, churn = CONFIG.lifecycle, CONFIG.churn_window_days
    moves = transitions(
        staged_by_hand(demo_db, end - timedelta(days=90), rules, churn),
        staged_by_hand(demo_db, end, rules, churn),
    )
    table = at.dataframe[0].value
    assert table["customers"].tolist() == moves["customers"].to_list()
    assert table.iloc[0, 0] == translate(f"lifecycle.stage.{moves['from_stage'][0]}", "en")


def test_rule_slider_changes_the_counts_live_and_saves_a_version(demo_db: Path) -> None:
    at = open_page(PAGE)
    day = as_of(demo_db)
    saved = stage_counts(staged_by_hand(demo_db, day, CONFIG.lifecycle, CONFIG.churn_window_days))
    edited = stage_counts(staged_by_hand(demo_db, day, CONFIG.lifecycle, 60))
    at.slider(key="lc_churn_window_days").set_value(60).run()
    assert not at.exception
    assert shown_counts(at) == expected_counts(demo_db, day, "en")  # saved counts stay
    editor = at.metric[len(STAGES) :]
    assert [m.value for m in editor] == [format_number(n, "en") for n in edited["customers"]]
    change = (edited["customers"] - saved["customers"]).to_list()
    assert change != [0] * len(STAGES)
    assert [m.delta for m in editor] == [("+" if d > 0 else "") + format_number(d, "en")
                                         for d in change]  # fmt: skip

    at.button(key="lc_save").click().run()
    assert not at.exception
    with store.connect(demo_db) as con:
        config, version = latest_config(con)
        events = con.execute(
            "SELECT actor FROM audit_log WHERE action = 'segments.config_saved'"
        ).fetchall()
    assert (config.churn_window_days, config.lifecycle, version) == (60, CONFIG.lifecycle, 1)
    assert events == [("app",)]
    assert at.success[0].value == 'Saved "default" version 1.'
    # A new session reads the saved rules (AppTest keeps the first run's filters, see conftest).
    assert shown_counts(open_page(PAGE)) == [(m.label, m.value) for m in editor]


def test_empty_store_shows_the_empty_state(empty_db: Path) -> None:
    at = open_page(PAGE, lang="pt_BR")
    assert at.info[0].value == translate("empty.no_orders", "pt_BR")
    assert not at.metric

"""Loyalty & churn page on the demo store: what it shows equals crm_core's numbers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from crm_core import store
from crm_core.churn import active_buyers, pre_churn_signals
from crm_core.clv import fit_clv
from crm_core.i18n.format import format_money, format_number, format_percent
from crm_core.lifecycle import assign_stages
from crm_core.loyalty import churned_customers, dissolution_rate, tier_pyramid
from crm_core.relationship import (
    RelationshipRules,
    interaction_profile,
    relationship_types,
    type_counts,
)
from crm_core.segment_store import latest_config
from crm_core.segments import segment_customers, segment_label
from crm_core.summary import customer_summary
from crm_core.survival import median_survival_months, survival_curves
from tests.pages.conftest import metric_values, open_page, rendered_table

PAGE = "pages/loyalty.py"


@dataclass
class Expected:
    summary: pl.DataFrame
    segmented: pl.DataFrame
    staged: pl.DataFrame
    clv: pl.DataFrame
    churn_window_days: int
    as_of: date


def _expected(db: Path, as_of: date) -> Expected:
    """The frames the page should read, computed with crm_core alone (same model settings)."""
    with store.connect(db) as con:
        config, _ = latest_config(con)
        summary = customer_summary(con, as_of, window_days=config.window_days)
        clv = fit_clv(con, calibration_end=as_of).customers
    segmented = segment_customers(summary, config, clv)
    staged = assign_stages(summary, config.lifecycle, config.churn_window_days, clv)
    staged = staged.hstack(segmented.select("segment", "tier"))
    clv = clv.select("customer_id", "clv")
    return Expected(summary, segmented, staged, clv, config.churn_window_days, as_of)


def _only_channel(exp: Expected, channel: str) -> Expected:
    """`exp` restricted to customers whose main sales channel is `channel` (the URL filter)."""
    keep = (exp.summary["main_channel"] == channel).fill_null(False)
    frames = (exp.summary.filter(keep), exp.segmented.filter(keep), exp.staged.filter(keep))
    return Expected(*frames, exp.clv, exp.churn_window_days, exp.as_of)


def _as_of(at) -> date:
    """The as-of date the page used (the demo's last order day by default)."""
    return at.session_state["_filters"].as_of


@pytest.fixture(scope="module")
def english(demo_template: Path, tmp_path_factory: pytest.TempPathFactory):
    """The page in English on a private demo copy, and crm_core's frames for it."""
    path = tmp_path_factory.mktemp("loyalty") / "crm.duckdb"
    path.write_bytes(demo_template.read_bytes())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CRM_DB", str(path))
        at = open_page(PAGE, lang="en")
        yield at, _expected(path, _as_of(at)), path


def test_metrics_and_pyramid_equal_crm_core(english) -> None:
    at, exp, _ = english
    rate = dissolution_rate(exp.staged, exp.summary)
    assert rate["churned"] > 0
    metrics = metric_values(at)
    assert metrics["Dissolved customers"] == format_number(rate["churned"], "en")
    assert metrics["Dissolution rate"] == format_percent(rate["rate"], "en")
    assert metrics["Buyers"] == format_number(rate["buyers"], "en")
    pyr = tier_pyramid(exp.segmented, exp.summary, exp.clv)
    shown = rendered_table(at, "tier", "revenue")
    assert shown["tier"].tolist() == [segment_label(x, "en") for x in pyr["tier"]]
    assert shown["customers"].tolist() == pyr["customers"].to_list()
    assert shown["revenue"].tolist() == pytest.approx(pyr["revenue"].to_list())
    assert shown["mean_clv"].tolist() == pytest.approx(pyr["mean_clv"].to_list())


def test_signals_show_more_complaints_among_the_churned(english) -> None:
    at, exp, path = english
    churned = churned_customers(exp.staged, exp.summary, exp.churn_window_days)
    with store.connect(path) as con:
        sig = pre_churn_signals(
            con, churned, active_buyers(exp.staged, exp.summary), exp.as_of, 360
        )
    shown = rendered_table(at, "group", "complaint_rate")
    assert shown["group"].tolist() == ["Dissolved", "Active"]
    for column in ("customers", "complaint_rate", "unresolved_rate", "low_csat_rate", "nps"):
        assert shown[column].tolist() == pytest.approx(sig[column].to_list()), column
    churned_rate, active_rate = shown["complaint_rate"].tolist()
    assert churned_rate > active_rate  # the demo plants complaints before drop-out
    low_churned, low_active = shown["low_csat_rate"].tolist()
    assert low_churned > low_active


def test_drill_down_lists_the_most_valuable_churned(english) -> None:
    at, exp, _ = english
    churned = churned_customers(exp.staged, exp.summary, exp.churn_window_days)
    shown = rendered_table(at, "customer_id", "churn_day", "last_comment")
    assert shown["customer_id"].tolist() == churned["customer_id"].head(500).to_list()
    assert shown["revenue"].tolist() == pytest.approx(churned["revenue"].head(500).to_list())
    assert shown["last_comment"].dropna().map(type).eq(str).all()
    touch = rendered_table(at, "customer_id", "kind", "comment")
    assert set(touch["customer_id"]) == {churned["customer_id"][0]}
    assert set(touch["kind"]) <= {"Interaction", "Survey answer"}


def test_survival_by_the_chosen_dimension(english) -> None:
    at, exp, _ = english
    for dimension in ("segment", "tier", "acquisition_channel"):
        at.selectbox(key="loyalty_dimension").set_value(dimension).run()
        assert not at.exception
        curves = survival_curves(
            exp.summary, exp.staged, dimension, exp.as_of, exp.churn_window_days
        )
        medians = median_survival_months(curves)
        shown = rendered_table(at, "group", "median_months")
        assert shown["group"].tolist() == [segment_label(g, "en") for g in medians["group"]]
        expected = medians["median_months"].fill_null(float("nan")).to_list()
        assert shown["median_months"].tolist() == pytest.approx(expected, nan_ok=True)


def test_lookback_slider_recomputes_signals(english) -> None:
    at, exp, path = english
    at.select_slider(key="loyalty_lookback").set_value(180).run()
    assert not at.exception
    churned = churned_customers(exp.staged, exp.summary, exp.churn_window_days)
    with store.connect(path) as con:
        sig = pre_churn_signals(
            con, churned, active_buyers(exp.staged, exp.summary), exp.as_of, 180
        )
    shown = rendered_table(at, "group", "complaint_rate")
    assert shown["complaint_rate"].tolist() == pytest.approx(sig["complaint_rate"].to_list())


def test_channel_in_the_url_changes_the_numbers(demo_db: Path) -> None:
    at = open_page(PAGE, lang="en", channel="app")
    everyone = _expected(demo_db, _as_of(at))
    exp = _only_channel(everyone, "app")
    rate = dissolution_rate(exp.staged, exp.summary)
    assert rate["buyers"] < dissolution_rate(everyone.staged, everyone.summary)["buyers"]
    metrics = metric_values(at)
    assert metrics["Buyers"] == format_number(rate["buyers"], "en")
    assert metrics["Dissolved customers"] == format_number(rate["churned"], "en")
    shown = rendered_table(at, "tier", "revenue")
    pyr = tier_pyramid(exp.segmented, exp.summary, exp.clv)
    assert shown["customers"].tolist() == pyr["customers"].to_list()


def test_portuguese(demo_db: Path) -> None:
    at = open_page(PAGE, lang="pt_BR")
    exp = _expected(demo_db, _as_of(at))
    rate = dissolution_rate(exp.staged, exp.summary)
    assert at.title[0].value == "Fidelidade e churn"
    metrics = metric_values(at)
    assert metrics["Taxa de dissolução"] == format_percent(rate["rate"], "pt_BR")
    assert "," in metrics["Taxa de dissolução"]
    assert rendered_table(at, "group", "complaint_rate")["group"].tolist() == [
        "Dissolvidos",
        "Ativos",
    ]


def _chart(at, trace_type: str) -> dict:
    """The first trace of type `trace_type` among the page's Plotly charts."""
    for chart in at.get("plotly_chart"):
        for trace in json.loads(chart.proto.spec)["data"]:
            if trace.get("type") == trace_type:
                return trace
    raise AssertionError(f"no {trace_type} chart")


def test_charts_show_the_pyramid_and_relationship_mix(english) -> None:
    at, exp, path = english
    pyr = tier_pyramid(exp.segmented, exp.summary, exp.clv)
    funnel = _chart(at, "funnel")
    assert funnel["x"] == pyr["customers"].to_list()
    for label, row in zip(funnel["y"], pyr.iter_rows(named=True), strict=True):
        assert label.startswith(f"<b>{segment_label(row['tier'], 'en')}</b><br>")
        assert f"{format_number(row['customers'], 'en')} customers" in label
        assert format_money(row["revenue"], "en") in label  # the value per tier
    with store.connect(path) as con:
        profile = interaction_profile(con, exp.as_of)
    mix = type_counts(relationship_types(exp.summary, profile, RelationshipRules()))
    pie = _chart(at, "pie")
    assert pie["values"] == mix["customers"].to_list()
    assert sum(pie["values"]) == exp.summary.height


def test_empty_store(empty_db: Path) -> None:
    at = open_page(PAGE, lang="en")
    assert not at.exception
    assert at.info and "No orders" in at.info[0].value
    assert not at.metric

"""Relationship management page on the demo store: what it shows equals crm_core's numbers,
with and without targets saved in the business settings."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from crm_core import store
from crm_core.clv import fit_clv
from crm_core.i18n import translate
from crm_core.i18n.format import format_money, format_number, format_percent
from crm_core.kpis import kpi_name, kpi_table, last_order_date
from crm_core.lifecycle import assign_stages, stage_counts, transitions
from crm_core.period import Period
from crm_core.relationship_mgmt import (
    METRICS,
    TargetRules,
    kpis_against_targets,
    scorecard,
    tier_matrix,
    tier_movements,
)
from crm_core.relationship_series import Measures, relationship_series, series_window
from crm_core.segment_store import latest_config
from crm_core.segments import segment_customers, segment_label
from crm_core.settings import BusinessSettings, save_settings
from crm_core.summary import customer_summary
from tests.pages.conftest import open_page

PAGE = "pages/relationships.py"


@dataclass
class Expected:
    as_of: date
    measures: Measures
    clv: pl.DataFrame
    moves: dict
    matrix: pl.DataFrame
    staged: dict[date, pl.DataFrame]


def _expected(db: Path, as_of: date, freq: str = "month", periods: int = 12,
              channel: str = "") -> Expected:  # fmt: skip
    """What the page should show, computed with crm_core alone (default model settings)."""
    start, end = series_window(as_of, freq, periods)
    with store.connect(db) as con:
        config, _ = latest_config(con)
        scores = {d: fit_clv(con, calibration_end=d).customers for d in (as_of,)}
        summary = customer_summary(con, as_of, window_days=config.window_days)
        subset = None
        if channel:
            subset = summary.filter(pl.col("main_channel") == channel).select("customer_id")
        clv = scores[as_of].select("customer_id", "clv")
        measures = relationship_series(con, start, end, freq, subset, clv)
        last = measures.series["start"].max()
        before = last - timedelta(days=1)
        scores[before] = fit_clv(con, calibration_end=before).customers
        frames, staged = [], {}
        for day in (before, as_of):
            base = customer_summary(con, day, window_days=config.window_days)
            seg, stg = (
                segment_customers(base, config, scores[day]),
                assign_stages(base, config.lifecycle, config.churn_window_days, scores[day]),
            )
            if subset is not None:
                seg, stg = (f.join(subset, on="customer_id", how="semi") for f in (seg, stg))
            frames.append(seg)
            staged[day] = stg
    matrix = tier_matrix(*frames, (*config.tiers.names, config.no_purchase))
    return Expected(as_of, measures, clv, tier_movements(matrix, config.tiers.names), matrix,
                    staged)  # fmt: skip


def _as_of(at) -> date:
    return at.session_state["_filters"].as_of


def _metrics(at) -> dict[str, tuple[str, str]]:
    return {m.label: (m.value, m.delta) for m in at.metric}


def _table(at, first_column: str):
    for frame in at.dataframe:
        if list(frame.value.columns)[:1] == [first_column]:
            return frame.value
    raise AssertionError(f"no table starting with {first_column}")


def _value(metric: str, value: float | None, lang: str) -> str:
    unit = METRICS[metric].unit
    if unit == "money":
        return format_money(value, lang)
    return format_percent(value, lang) if unit == "rate" else format_number(value, lang)


def _name(metric: str, lang: str) -> str:
    kpi = METRICS[metric].kpi
    return kpi_name(kpi, lang) if kpi else translate(f"page.relationships.metric.{metric}", lang)


def _charts(at) -> dict[str, list[dict]]:
    """Every Plotly chart's traces by the chart's key."""
    return {
        c.proto.id.rsplit("-", 1)[-1]: json.loads(c.proto.spec)["data"]
        for c in at.get("plotly_chart")
    }


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_scorecard_without_targets_equals_crm_core(demo_db: Path, lang: str) -> None:
    at = open_page(PAGE, lang=lang)
    exp = _expected(demo_db, _as_of(at))
    card = scorecard(exp.measures.series, {}, TargetRules(), exp.moves["upgrade_rate"])
    shown = _table(at, "stage")
    assert shown["metric"].tolist() == [_name(m, lang) for m in card["metric"]]
    assert shown["actual"].tolist() == [
        _value(m, v, lang) for m, v in zip(card["metric"], card["actual"], strict=True)
    ]
    no_target = translate("page.relationships.status.no_target", lang)
    assert all(s.endswith(no_target) for s in shown["status"])
    assert set(shown["target"]) == {"—"}
    assert at.title[0].value == translate("page.relationships.title", lang)
    metrics = _metrics(at)
    new = card.filter(pl.col("metric") == "new_customers")["actual"][0]
    assert new > 0
    assert metrics[_name("new_customers", lang)] == (format_number(new, lang), "")
    assert "settings" in [link.proto.page for link in at.get("page_link")]
    if lang == "pt_BR":
        assert "," in metrics[_name("revenue_per_active_customer", lang)][0]


def test_saved_targets_give_gaps_and_statuses(demo_db: Path) -> None:
    with store.connect(demo_db) as con:
        as_of = last_order_date(con)
    exp = _expected(demo_db, as_of)
    last = exp.measures.series.filter(pl.col("start") == pl.col("start").max())
    actual = dict(zip(last["metric"], last["actual"], strict=True))
    targets = {
        "new_customers": round(actual["new_customers"] * 2),  # far behind
        "retention_rate": round(actual["retention_rate"], 2),  # within 5 %
        "churn_rate": round(actual["churn_rate"] * 0.5, 3),  # far behind (lower is better)
        "net_revenue": 250000.0,  # monthly, pro-rated to the period's days
        "average_clv": 100.0,  # far ahead
    }
    with store.connect(demo_db) as con:
        save_settings(con, BusinessSettings(targets=targets), actor="test")
    at = open_page(PAGE, lang="en")
    assert _as_of(at) == as_of
    card = scorecard(exp.measures.series, targets, TargetRules(), exp.moves["upgrade_rate"])
    rows = {r["metric"]: r for r in card.iter_rows(named=True)}
    assert [rows[m]["status"] for m in targets] == [
        "behind", "on_track", "behind", rows["net_revenue"]["status"], "on_track",
    ]  # fmt: skip
    period = Period(last["start"][0], last["end"][0])
    assert rows["net_revenue"]["target"] == pytest.approx(250000 * period.days / 30)  # June
    shown = _table(at, "stage").set_index("metric")
    for metric, row in rows.items():
        name = _name(metric, "en")
        assert shown.loc[name, "target"] == _value(metric, row["target"], "en"), metric
        status = translate(f"page.relationships.status.{row['status']}", "en")
        assert shown.loc[name, "status"].endswith(status), metric
    assert shown.loc["New customers", "gap"] == (
        f"{format_number(rows['new_customers']['gap'], 'en')} "
        f"({format_percent(rows['new_customers']['gap_share'], 'en')})"
    )
    metrics = _metrics(at)
    assert metrics["Churn rate"][1].endswith(" pp (+" + format_percent(
        rows["churn_rate"]["gap_share"], "en") + ")")  # fmt: skip
    # The Payne & Frow API gives the same numbers for KPIs measured alike in both.
    with store.connect(demo_db) as con:
        api = kpis_against_targets(con, period, BusinessSettings(targets=targets), clv=exp.clv)
    api_rows = {r["kpi"]: r for r in api.iter_rows(named=True)}
    for kpi in ("new_customers", "net_revenue", "average_clv", "active_customers"):
        for column in ("actual", "target", "gap", "status"):
            assert api_rows[kpi][column] == pytest.approx(rows[kpi][column]), (kpi, column)


def test_trend_chart_carries_the_series_and_the_target_line(demo_db: Path) -> None:
    with store.connect(demo_db) as con:
        save_settings(con, BusinessSettings(targets={"new_customers": 300}), actor="test")
    at = open_page(PAGE, lang="en")
    exp = _expected(demo_db, _as_of(at))
    series = exp.measures.series.filter(pl.col("metric") == "new_customers")
    traces = _charts(at)
    line, target = traces["rm_trend_new_customers"]
    assert line["y"] == series["actual"].to_list()
    assert len(line["x"]) == 12
    days = [(e - s).days + 1 for s, e in zip(series["start"], series["end"], strict=True)]
    assert target["y"][:-1] == [300.0] * 11  # whole months
    assert target["y"][-1] == pytest.approx(300 * days[-1] / 30)
    bars = traces["rm_sources"]
    acq = exp.measures.acquisition
    assert sum(sum(b["y"]) for b in bars) == acq["new_customers"].sum()
    assert acq["new_customers"].sum() == series["actual"].sum()


def test_acquisition_tiers_and_lifecycle_equal_crm_core(demo_db: Path) -> None:
    at = open_page(PAGE, lang="en")
    exp = _expected(demo_db, _as_of(at))
    acq = exp.measures.acquisition.filter(pl.col("bucket") == pl.col("bucket").max())
    shown = _table(at, "source")
    assert shown["new_customers"].tolist() == acq["new_customers"].to_list()
    assert shown["first_order_value"].tolist() == pytest.approx(acq["first_order_value"].to_list())
    assert "Paid search" in shown["source"].tolist()
    matrix = _table(at, "tier")
    assert matrix["tier"].tolist() == [segment_label(x, "en") for x in exp.matrix["tier"]]
    assert matrix.drop(columns="tier").values.tolist() == [
        list(r) for r in exp.matrix.drop("tier").rows()
    ]
    metrics = _metrics(at)
    assert metrics["Upgraded"][0] == format_number(exp.moves["upgraded"], "en")
    assert metrics["Tier upgrade rate"][0] == format_percent(exp.moves["upgrade_rate"], "en")
    counts = stage_counts(exp.staged[exp.as_of])
    for stage, n in zip(counts["stage"], counts["customers"], strict=True):
        assert metrics[translate(f"lifecycle.stage.{stage}", "en")][0] == format_number(n, "en")
    before, after = sorted(exp.staged)
    moves = transitions(exp.staged[before], exp.staged[after])
    assert _table(at, "from_stage")["customers"].tolist() == moves["customers"].to_list()
    assert "lifecycle" in [link.proto.page for link in at.get("page_link")]


def test_weekly_periods_and_their_count(demo_db: Path) -> None:
    at = open_page(PAGE, lang="en")
    at.segmented_control(key="rm_freq").set_value("week").run()
    at.slider(key="rm_n_week").set_value(8).run()
    assert not at.exception
    exp = _expected(demo_db, _as_of(at), "week", 8)
    series = exp.measures.series.filter(pl.col("metric") == "active_customers")
    assert series.height == 8
    assert _metrics(at)["Active customers"][0] == format_number(series["actual"][-1], "en")
    line = _charts(at)["rm_trend_active_customers"][0]
    assert line["y"] == series["actual"].to_list()


def test_channel_in_the_url_restricts_the_customers(demo_db: Path) -> None:
    at = open_page(PAGE, lang="en", channel="app")
    exp = _expected(demo_db, _as_of(at), channel="app")
    everyone = _expected(demo_db, _as_of(at))
    mine, all_ = (
        e.measures.series.filter(pl.col("metric") == "active_customers")["actual"][-1]
        for e in (exp, everyone)
    )
    assert 0 < mine < all_
    assert _metrics(at)["Active customers"][0] == format_number(mine, "en")
    assert _table(at, "from_stage")["customers"].sum() == exp.staged[exp.as_of].height


def test_kpis_against_targets_on_the_demo(demo_db: Path) -> None:
    """The stable API on real data: KPI actuals equal kpi_table's."""
    period = Period(date(2026, 5, 1), date(2026, 5, 31))
    with store.connect(demo_db) as con:
        out = kpis_against_targets(con, period, BusinessSettings(targets={"csat": 0.8}))
        table = kpi_table(con, period)
    values = dict(zip(table["kpi"], table["value"], strict=True))
    rows = {r["kpi"]: r for r in out.iter_rows(named=True)}
    assert rows["net_revenue"]["actual"] == pytest.approx(values["revenue"])
    assert rows["retention_rate"]["actual"] == pytest.approx(values["retention_rate"])
    csat = rows["csat"]
    assert csat["gap"] == pytest.approx(values["csat"] - 0.8)
    assert csat["status"] == ("on_track" if values["csat"] >= 0.76 else "behind")


def test_empty_store_shows_the_empty_state(empty_db: Path) -> None:
    at = open_page(PAGE, lang="en")
    assert not at.metric
    assert at.info[0].value == translate("empty.no_orders", "en")


def test_filters_leaving_nobody_say_so(demo_db: Path) -> None:
    at = open_page(PAGE, lang="en", segment="Other")  # the catch-all is empty in the demo
    assert at.session_state["_filters"].segment == "Other"
    assert not at.metric
    assert at.info[0].value == translate("page.relationships.no_customers", "en")

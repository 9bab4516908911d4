"""Customer portfolio page on the demo store: what it shows equals crm_core's numbers."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from crm_core import store
from crm_core.clv import fit_clv
from crm_core.i18n.format import format_money, format_number, format_percent
from crm_core.portfolio import (
    QUADRANTS,
    Splits,
    assign_quadrants,
    customer_economics,
    median_splits,
    portfolio,
    profitability,
    quadrant_customers,
    quadrant_summary,
    revenue_concentration,
    service_counts,
)
from crm_core.segment_store import latest_config
from crm_core.segments import segment_customers, segment_label
from crm_core.settings import BusinessSettings, save_settings
from crm_core.summary import customer_summary
from tests.pages.conftest import metric_values, open_page

PAGE = "pages/portfolio.py"
SETTINGS = BusinessSettings(
    channel_costs={"email": 0.05, "phone": 6.5, "whatsapp": 0.4, "chat": 1.5, "visit": 25.0},
    order_cost=3.0,
    gross_margin=0.4,
)


def _economics(db: Path, as_of: date, months: int = 12, segment: str = "") -> pl.DataFrame:
    """The served customers' economics, computed with crm_core alone (same model settings)."""
    with store.connect(db) as con:
        config, _ = latest_config(con)
        summary = customer_summary(con, as_of, window_days=config.window_days)
        clv = fit_clv(con, calibration_end=as_of).customers
        counts = service_counts(con, as_of, months)
    seg = segment_customers(summary, config, clv).select("customer_id", "segment", "tier")
    if segment:
        seg = seg.filter(pl.col("segment").cast(pl.String) == segment)
    return customer_economics(portfolio(seg, counts), SETTINGS)


def _as_of(at) -> date:
    return at.session_state["_filters"].as_of


def _table(at, first_column: str):
    """The rendered table whose first column is `first_column` (st.dataframe has no key in
    the element tree)."""
    for frame in at.dataframe:
        if list(frame.value.columns)[:1] == [first_column]:
            return frame.value
    raise AssertionError(f"no table starting with {first_column}")


def _heatmap(at) -> dict:
    for chart in at.get("plotly_chart"):
        for trace in json.loads(chart.proto.spec)["data"]:
            if trace.get("type") == "heatmap":
                return trace
    raise AssertionError("no heatmap")


@pytest.fixture(scope="module")
def english(demo_template: Path, tmp_path_factory: pytest.TempPathFactory):
    """The page in English on a private demo copy with costs saved, and crm_core's frame."""
    path = tmp_path_factory.mktemp("portfolio") / "crm.duckdb"
    path.write_bytes(demo_template.read_bytes())
    with store.connect(path) as con:
        save_settings(con, SETTINGS, "ana")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CRM_DB", str(path))
        at = open_page(PAGE, lang="en")
        yield at, _economics(path, _as_of(at)), path


def test_headline_equals_crm_core(english) -> None:
    at, eco, _ = english
    metrics = metric_values(at)
    assert metrics["Served customers"] == format_number(eco.height, "en")
    for label, column in (
        ("Net revenue", "revenue"),
        ("Cost to serve", "cost_to_serve"),
        ("Gross profit", "gross_profit"),
        ("Customer profit", "profit"),
    ):
        assert metrics[label] == format_money(eco[column].sum(), "en"), label  # fmt: skip
    assert eco["cost_to_serve"].sum() > 0


def test_quadrants_at_the_medians(english) -> None:
    at, eco, _ = english
    placed = assign_quadrants(eco, median_splits(eco))
    summary = quadrant_summary(placed)
    shown = _table(at, "quadrant")
    assert shown["quadrant"].tolist() == ["Grow", "Keep", "Serve more cheaply", "Re-evaluate"]
    assert shown["customers"].tolist() == summary["customers"].to_list()
    assert shown["revenue"].tolist() == pytest.approx(summary["revenue"].to_list())
    assert shown["profit"].tolist() == pytest.approx(summary["profit"].to_list())
    assert sum(shown["customers"]) == eco.height
    heat = _heatmap(at)
    counts = [n for row in heat["customdata"] for n in row if n]  # colour: log10 of these
    assert sum(counts) == eco.height  # binned, every customer once
    grow = quadrant_customers(placed, "grow")
    members = _table(at, "customer")
    assert len(members) == min(grow.height, 1000)
    ids = members["customer"].str.extract(r"customer=([^&]+)")[0].tolist()
    assert ids == grow["customer_id"].head(1000).to_list()
    assert members["customer"][0].startswith("customers?")


def test_user_set_splits(english) -> None:
    at, eco, _ = english
    at.radio(key="portfolio_split_mode").set_value("custom").run()
    at.number_input(key="portfolio_split_value").set_value(1000.0)
    at.number_input(key="portfolio_split_cost").set_value(10.0).run()
    assert not at.exception
    summary = quadrant_summary(assign_quadrants(eco, Splits(1000.0, 10.0)))
    shown = _table(at, "quadrant")
    assert shown["customers"].tolist() == summary["customers"].to_list()
    at.selectbox(key="portfolio_quadrant").set_value("serve_cheaper").run()
    members = _table(at, "customer")
    assert len(members) == min(summary["customers"][2], 1000)
    at.radio(key="portfolio_split_mode").set_value("median").run()


def test_profitability_by_segment_and_tier(english) -> None:
    at, eco, _ = english
    for by in ("segment", "tier"):
        expected = profitability(eco, by)
        shown = _table(at, by)
        assert shown[by].tolist() == [segment_label(x, "en") for x in expected[by].cast(pl.String)]
        for column in ("customers", "revenue", "cost_to_serve", "profit", "profit_per_customer"):
            assert shown[column].tolist() == pytest.approx(expected[column].to_list()), column


def test_concentration(english) -> None:
    at, eco, _ = english
    spread = revenue_concentration(eco)
    metrics = metric_values(at)
    top = spread.top["value_share"].to_list()
    assert metrics["Top 1% of customers"] == format_percent(top[0], "en")
    assert metrics["Top 5% of customers"] == format_percent(top[1], "en")
    assert metrics["Top 20% of customers"] == format_percent(top[2], "en")
    assert metrics["Gini coefficient"] == format_number(spread.gini, "en", 2)


def test_shorter_window(english) -> None:
    at, _, path = english
    at.select_slider(key="portfolio_months").set_value(3).run()
    assert not at.exception
    eco = _economics(path, _as_of(at), months=3)
    assert metric_values(at)["Served customers"] == format_number(eco.height, "en")
    assert metric_values(at)["Cost to serve"] == format_money(eco["cost_to_serve"].sum(), "en")
    at.select_slider(key="portfolio_months").set_value(12).run()


def test_segment_in_the_url(demo_db: Path) -> None:
    with store.connect(demo_db) as con:
        save_settings(con, SETTINGS, "ana")
    at = open_page(PAGE, "en", segment="Champions")
    eco = _economics(demo_db, _as_of(at), segment="Champions")
    assert eco.height > 0
    assert metric_values(at)["Served customers"] == format_number(eco.height, "en")
    assert _table(at, "segment")["segment"].tolist() == ["Champions"]


def test_portuguese(demo_db: Path) -> None:
    with store.connect(demo_db) as con:
        save_settings(con, SETTINGS, "ana")
    at = open_page(PAGE, "pt_BR")
    eco = _economics(demo_db, _as_of(at))
    assert at.title[0].value == "Análise do portfólio de clientes"
    metrics = metric_values(at)
    assert metrics["Custo de atendimento"] == format_money(eco["cost_to_serve"].sum(), "pt_BR")
    assert "," in metrics["Custo de atendimento"]
    shown = _table(at, "quadrant")
    assert shown["quadrant"].tolist() == [
        "Crescer", "Manter", "Atender com menor custo", "Reavaliar",
    ]  # fmt: skip
    assert len(QUADRANTS) == len(shown)


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_without_costs_value_only_and_a_link_to_settings(demo_db: Path, lang: str) -> None:
    at = open_page(PAGE, lang)
    assert not at.exception
    assert at.info and at.get("page_link")[0].proto.page == "settings"
    traces = [tr["type"] for c in at.get("plotly_chart") for tr in json.loads(c.proto.spec)["data"]]
    assert "heatmap" not in traces and "bar" in traces  # no matrix without a cost axis
    table = _table(at, "segment")
    assert "profit" not in table.columns and "cost_to_serve" not in table.columns
    eco = _economics(demo_db, _as_of(at))  # who is served does not depend on costs
    expected = profitability(eco, "segment")
    assert table["customers"].tolist() == expected["customers"].to_list()
    assert table["revenue"].tolist() == pytest.approx(expected["revenue"].to_list())
    served = "Served customers" if lang == "en" else "Clientes atendidos"
    assert metric_values(at)[served] == format_number(eco.height, lang)
    assert len(at.metric) == 3 + 4  # served, revenue, gross profit; concentration 4


def test_empty_store(empty_db: Path) -> None:
    at = open_page(PAGE, lang="en")
    assert not at.exception
    assert at.info and "No orders" in at.info[0].value
    assert not at.metric

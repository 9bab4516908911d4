"""Network development page on the demo store: what it shows equals crm_core's numbers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from crm_core import store
from crm_core.clv import fit_clv
from crm_core.i18n.format import format_money, format_number, format_percent
from crm_core.network import (
    acquisition_cost,
    acquisition_facts,
    network_totals,
    partner_channels,
    purchase_history,
    retention_curves,
    source_performance,
)
from crm_core.segment_store import latest_config
from crm_core.segments import segment_customers
from crm_core.settings import BusinessSettings, SpendEntry, save_settings, spend_frame
from crm_core.summary import customer_summary
from tests.pages.conftest import metric_values, open_page

PAGE = "pages/network.py"
SPEND = (
    SpendEntry("paid_search", "2026-04", 9000.0),
    SpendEntry("paid_search", "2026-05", 6000.0),
    SpendEntry("referral", "2026-05", 1500.0),
)


@dataclass
class Expected:
    facts: pl.DataFrame
    summary: pl.DataFrame
    segmented: pl.DataFrame
    as_of: date


def _expected(db: Path, as_of: date) -> Expected:
    """The frames the page should read, computed with crm_core alone (same model settings)."""
    with store.connect(db) as con:
        config, _ = latest_config(con)
        summary = customer_summary(con, as_of, window_days=config.window_days)
        clv = fit_clv(con, calibration_end=as_of).customers
        history = purchase_history(con, as_of)
    facts = acquisition_facts(summary, history, clv, as_of)
    return Expected(facts, summary, segment_customers(summary, config, clv), as_of)


def _as_of(at) -> date:
    return at.session_state["_filters"].as_of


_TABLES = {"network_table": "source", "network_cohorts": "cohort", "network_channels": "group"}


def _table(at, key: str):
    """The rendered dataframe `key` (told apart by its first column: tables carry no id)."""
    for frame in at.dataframe:
        columns = list(frame.value.columns)
        if columns and columns[0] == _TABLES[key]:
            return frame.value
    raise AssertionError(f"no table {key}")


def _traces(at, chart_key: str) -> list[dict]:
    for chart in at.get("plotly_chart"):
        if chart_key in chart.proto.id:
            return json.loads(chart.proto.spec)["data"]
    raise AssertionError(f"no chart {chart_key}")


@pytest.fixture(scope="module")
def english(demo_template: Path, tmp_path_factory: pytest.TempPathFactory):
    """The page in English on a private demo copy (no spend entered), and crm_core's facts."""
    path = tmp_path_factory.mktemp("network") / "crm.duckdb"
    path.write_bytes(demo_template.read_bytes())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CRM_DB", str(path))
        at = open_page(PAGE, lang="en")
        yield at, _expected(path, _as_of(at)), path


def test_metrics_and_source_table_equal_crm_core(english) -> None:
    at, exp, _ = english
    totals = network_totals(exp.facts)
    metrics = metric_values(at)
    assert metrics["Customers brought"] == format_number(totals["customers"], "en")
    assert metrics["Share who bought"] == format_percent(totals["share_bought"], "en")
    assert metrics["12-month retention"] == format_percent(totals["retention_12m"], "en")
    sources = source_performance(exp.facts)
    assert sources.height == 9  # the demo's nine acquisition channels
    shown = _table(at, "network_table")
    assert shown["source"].tolist()[:2] == ["Organic search", "Social ads"]  # most customers first
    assert shown["customers"].tolist() == sources["customers"].to_list()
    assert shown["buyers"].tolist() == sources["buyers"].to_list()
    for column in ("share_bought", "first_order_value", "retention_12m", "avg_clv", "revenue"):
        assert shown[column].tolist() == pytest.approx(sources[column].to_list()), column
    assert set(shown["cac"]) == {"not provided"}  # nothing entered: no made-up cost


def test_no_spend_says_not_provided_and_links_to_settings(english) -> None:
    at, _, _ = english
    assert any("Acquisition spend: not provided" in i.value for i in at.info)
    assert not any("network_clv_cac" in c.proto.id for c in at.get("plotly_chart"))
    assert "settings" in [link.proto.page for link in at.get("page_link")]


def test_charts_show_customers_clv_and_retention_curves(english) -> None:
    at, exp, _ = english
    sources = source_performance(exp.facts)
    bars, clv = _traces(at, "network_sources_chart")
    assert bars["y"] == sources["customers"].to_list()
    assert clv["y"] == pytest.approx(sources["avg_clv"].to_list())
    curves = retention_curves(exp.facts, exp.as_of)
    traces = _traces(at, "network_curves")
    assert len(traces) == 9
    direct = curves.filter(pl.col("source") == "direct")
    assert traces[0]["name"] == "Direct"
    assert traces[0]["y"] == pytest.approx(direct["share"].to_list())
    assert traces[0]["y"][0] == 1.0  # month 0 is the first purchase itself


def test_cohort_picker_shows_one_source_by_month(english) -> None:
    at, exp, _ = english
    at.selectbox(key="network_cohort_source").set_value("referral").run()
    assert not at.exception
    cohorts = source_performance(exp.facts, ("source", "cohort")).filter(
        pl.col("source") == "referral"
    )
    shown = _table(at, "network_cohorts")
    assert shown["customers"].tolist() == cohorts["customers"].to_list()
    assert sum(shown["customers"]) == 420
    retention = cohorts["retention_12m"].fill_null(float("nan")).to_list()
    assert shown["retention_12m"].tolist() == pytest.approx(retention, nan_ok=True)


def test_partner_channels_section(english) -> None:
    at, exp, path = english
    at.select_slider(key="network_months").set_value(6).run()
    assert not at.exception
    with store.connect(path) as con:
        trend, table = partner_channels(con, date(2026, 1, 1), exp.as_of)
    partner = table.filter((pl.col("group") == "partner") & pl.col("channel").is_null()).row(
        0, named=True
    )
    metrics = metric_values(at)
    assert metrics["Partner revenue share"] == format_percent(partner["revenue_share"], "en")
    assert metrics["Revenue through partners"] == format_money(partner["revenue"], "en")
    shown = _table(at, "network_channels")
    assert shown["revenue"].tolist() == pytest.approx(table["revenue"].to_list())
    assert shown["channel"].tolist()[-3:] == ["Marketplace", "All channels", ""]
    own, part = _traces(at, "network_partner_chart")
    assert own["name"] == "Own channels" and len(own["y"]) == 6
    assert part["y"] == pytest.approx(
        trend.filter(pl.col("group") == "partner")["revenue"].to_list()
    )


def test_spend_gives_cac_and_clv_cac(demo_db: Path) -> None:
    with store.connect(demo_db) as con:
        save_settings(con, BusinessSettings(acquisition_spend=SPEND), actor="test")
    at = open_page(PAGE, lang="en")
    exp = _expected(demo_db, _as_of(at))
    spend = spend_frame(BusinessSettings(acquisition_spend=SPEND))
    cost = acquisition_cost(exp.facts, spend, exp.as_of)
    paid = cost.filter(pl.col("source") == "paid_search").row(0, named=True)
    acquired = exp.facts.filter(
        (pl.col("source") == "paid_search")
        & pl.col("cohort").is_in([date(2026, 4, 1), date(2026, 5, 1)])
    ).height
    assert paid["cac"] == pytest.approx(15000.0 / acquired)
    shown = _table(at, "network_table").set_index("source")
    assert shown.loc["Paid search", "cac"] == format_money(paid["cac"], "en")
    assert shown.loc["Paid search", "spend"] == format_money(15000.0, "en")
    assert (
        shown.loc["Referral", "clv_cac"]
        == format_number(cost.filter(pl.col("source") == "referral")["clv_cac"][0], "en", 2) + "×"
    )
    assert shown.loc["Direct", "cac"] == "not provided"
    scatter = _traces(at, "network_clv_cac")[1]
    assert scatter["x"] == pytest.approx(cost["cac"].to_list())
    assert scatter["text"] == ["Paid search", "Referral"]


def test_segment_filter_restricts_customers_not_cac(demo_db: Path) -> None:
    with store.connect(demo_db) as con:
        save_settings(con, BusinessSettings(acquisition_spend=SPEND), actor="test")
    at = open_page(PAGE, lang="en", segment="Champions")
    exp = _expected(demo_db, _as_of(at))
    champions = exp.segmented.filter(pl.col("segment").cast(pl.String) == "Champions")
    mine = exp.facts.join(champions.select("customer_id"), on="customer_id", how="semi")
    assert 0 < mine.height < exp.facts.height
    assert metric_values(at)["Customers brought"] == format_number(mine.height, "en")
    shown = _table(at, "network_table").set_index("source")
    cost = acquisition_cost(exp.facts, spend_frame(BusinessSettings(acquisition_spend=SPEND)),
                            exp.as_of)  # fmt: skip
    paid = cost.filter(pl.col("source") == "paid_search")["cac"][0]
    assert shown.loc["Paid search", "cac"] == format_money(paid, "en")  # all customers' CAC
    assert any("cannot be split by segment" in c.value for c in at.caption)


def test_portuguese(demo_db: Path) -> None:
    at = open_page(PAGE, lang="pt_BR")
    exp = _expected(demo_db, _as_of(at))
    assert at.title[0].value == "Desenvolvimento da rede"
    totals = network_totals(exp.facts)
    metrics = metric_values(at)
    assert metrics["Parcela que comprou"] == format_percent(totals["share_bought"], "pt_BR")
    assert "," in metrics["Parcela que comprou"]
    shown = _table(at, "network_table")
    assert "Busca orgânica" in shown["source"].tolist()
    assert set(shown["cac"]) == {"não informado"}


def test_empty_store(empty_db: Path) -> None:
    at = open_page(PAGE, lang="en")
    assert not at.exception
    assert at.info and "No orders" in at.info[0].value
    assert not at.metric


def test_store_with_one_customer_and_no_source(empty_db: Path) -> None:
    with store.connect(empty_db) as con:
        con.execute("INSERT INTO customers (customer_id, created_at) VALUES ('A', '2025-01-02')")
        con.execute(
            "INSERT INTO orders (order_id, customer_id, ordered_at, gross_amount, status) "
            "VALUES ('o1', 'A', '2025-01-05 10:00-03', 50, 'completed')"
        )
    at = open_page(PAGE, lang="en")
    assert not at.exception
    shown = _table(at, "network_table")
    assert shown["source"].tolist() == ["Unknown"]
    assert shown["first_order_value"].tolist() == [50.0]
    assert any("CLV model could not be fitted" in c.value for c in at.caption)

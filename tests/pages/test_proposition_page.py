"""Value proposition page on the demo store: what it shows equals crm_core's numbers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from crm_core import store
from crm_core.clv import fit_clv
from crm_core.customize import assign_actions, build_profile, default_ruleset
from crm_core.i18n.format import format_money, format_number, format_percent
from crm_core.lifecycle import assign_stages
from crm_core.portfolio import customer_economics, portfolio, profitability, service_counts
from crm_core.proposition import (
    CampaignData,
    campaign_data,
    campaign_response,
    pooled,
    segment_offers,
)
from crm_core.relationship import RelationshipRules, interaction_profile, relationship_types
from crm_core.segment_store import latest_config
from crm_core.segments import segment_customers, segment_label
from crm_core.settings import BusinessSettings, save_settings
from crm_core.summary import customer_summary
from tests.pages.conftest import metric_values, open_page, rendered_table

PAGE = "pages/proposition.py"


@dataclass
class Expected:
    data: CampaignData
    segments: pl.Series
    offers: pl.DataFrame
    assigned: pl.DataFrame
    as_of: date

    def response(self, days: int = 30, scope: pl.Series | None = None) -> pl.DataFrame:
        return campaign_response(self.data, self.segments, days, self.as_of, scope)


def _expected(db: Path, as_of: date) -> Expected:
    """The frames the page should read, computed with crm_core alone (same model settings)."""
    with store.connect(db) as con:
        config, _ = latest_config(con)
        summary = customer_summary(con, as_of, window_days=config.window_days)
        clv = fit_clv(con, calibration_end=as_of).customers
        known = pl.min_horizontal("created_on", "first_purchase").alias("known_since")
        data = campaign_data(con, summary.select("customer_id", known), as_of)
        typed = relationship_types(summary, interaction_profile(con, as_of), RelationshipRules())
    segmented = segment_customers(summary, config, clv)
    staged = assign_stages(summary, config.lifecycle, config.churn_window_days, clv)
    assigned = assign_actions(build_profile(segmented, staged, typed), default_ruleset())
    return Expected(data, segmented["segment"], segment_offers(assigned), assigned, as_of)


def _as_of(at) -> date:
    return at.session_state["_filters"].as_of


def _trace(at, chart_key: str, n: int = 0) -> dict:
    for chart in at.get("plotly_chart"):
        if chart_key in chart.proto.id:
            return json.loads(chart.proto.spec)["data"][n]
    raise AssertionError(f"no chart {chart_key}")


@pytest.fixture(scope="module")
def english(demo_template: Path, tmp_path_factory: pytest.TempPathFactory):
    """The page in English on a private demo copy, and crm_core's frames for it."""
    path = tmp_path_factory.mktemp("proposition") / "crm.duckdb"
    path.write_bytes(demo_template.read_bytes())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CRM_DB", str(path))
        at = open_page(PAGE, lang="en")
        yield at, _expected(path, _as_of(at))


def test_metrics_equal_crm_core(english) -> None:
    at, exp = english
    everything = pooled(exp.response(), None).row(0, named=True)
    assert everything["campaigns"] == 50  # the demo's calendar up to its as-of date
    metrics = metric_values(at)
    assert metrics["Campaigns"] == format_number(everything["campaigns"], "en")
    assert metrics["Contacts"] == format_number(everything["contacted"], "en")
    assert metrics["Response rate"] == format_percent(everything["response_rate"], "en")
    assert metrics["Revenue uplift per contact"] == format_money(everything["revenue_uplift"], "en")
    assert any("not randomised" in i.value for i in at.info)


def test_segment_table_and_chart(english) -> None:
    at, exp = english
    by_segment = pooled(exp.response(), "segment")
    shown = rendered_table(at, "segment", "campaigns", "revenue_uplift")
    assert shown["segment"].tolist() == [segment_label(s, "en") for s in by_segment["segment"]]
    assert shown["contacted"].tolist() == by_segment["contacted"].to_list()
    for column in ("response_rate", "revenue_per_contacted", "revenue_per_comparison",
                   "revenue_uplift"):  # fmt: skip
        expected = by_segment[column].fill_null(float("nan")).to_list()
        assert shown[column].tolist() == pytest.approx(expected, nan_ok=True), column
    uplift = (by_segment["purchase_uplift"] * 100).fill_null(float("nan")).to_list()
    assert shown["purchase_uplift"].tolist() == pytest.approx(uplift, nan_ok=True)  # in points
    bars = _trace(at, "prop_groups")
    assert bars["y"] == pytest.approx(by_segment["revenue_per_contacted"].to_list())


def test_detail_table_and_heatmap(english) -> None:
    at, exp = english
    table = exp.response()
    detail = rendered_table(at, "campaign", "segment", "comparison")
    assert len(detail) == table.height
    assert detail["contacted"].tolist() == table["contacted"].to_list()
    assert detail["revenue_per_contacted"].tolist() == pytest.approx(
        table["revenue_per_contacted"].to_list()
    )
    assert detail["complete"].tolist() == table["complete"].to_list()
    at.selectbox(key="prop_measure").set_value("response_rate").run()
    assert not at.exception
    heat = _trace(at, "prop_heatmap")
    row = heat["y"].index("Black Friday 2025")
    bf = table.filter(pl.col("campaign") == "Black Friday 2025")
    segments = sorted(table["segment"].unique().to_list())
    column = segments.index(bf["segment"][0])
    assert heat["z"][row][column] == pytest.approx(bf["response_rate"][0])


def test_window_slider_recomputes(english) -> None:
    at, exp = english
    at.select_slider(key="prop_days").set_value(60).run()
    assert not at.exception
    everything = pooled(exp.response(60), None).row(0, named=True)
    assert metric_values(at)["Revenue uplift per contact"] == format_money(
        everything["revenue_uplift"], "en"
    )
    shown = rendered_table(at, "segment", "campaigns")
    assert sum(shown["contacted"]) == everything["contacted"]


def test_offers_per_segment(english) -> None:
    at, exp = english
    shown = rendered_table(at, "segment", "rule", "offer")
    assert shown["customers"].tolist() == exp.offers["customers"].to_list()
    assert shown["rule"].tolist() == exp.offers["rule"].to_list()
    assert "cost_to_serve_per_customer" not in shown.columns  # no costs in Settings
    assert any("Cost to serve per segment: not provided" in c.value for c in at.caption)


def test_cost_to_serve_when_costs_are_set(demo_db: Path) -> None:
    settings = BusinessSettings(channel_costs={"email": 0.5, "phone": 6.0}, order_cost=2.0)
    with store.connect(demo_db) as con:
        save_settings(con, settings, actor="test")
    at = open_page(PAGE, lang="en")
    exp = _expected(demo_db, _as_of(at))
    with store.connect(demo_db) as con:
        counts = service_counts(con, exp.as_of, 12)
    served = portfolio(exp.assigned.select("customer_id", "segment"), counts)
    costs = profitability(customer_economics(served, settings), "segment")
    per = dict(zip(costs["segment"].cast(pl.String), costs["cost_to_serve"] / costs["customers"],
                   strict=True))  # fmt: skip
    shown = rendered_table(at, "segment", "rule", "cost_to_serve_per_customer")
    expected = [per[s] for s in exp.offers["segment"]]
    assert shown["cost_to_serve_per_customer"].tolist() == pytest.approx(expected)


def test_segment_filter(demo_db: Path) -> None:
    at = open_page(PAGE, lang="en", segment="Champions")
    exp = _expected(demo_db, _as_of(at))
    scope = exp.segments.cast(pl.String) == "Champions"
    table = exp.response(30, scope)
    assert set(table["segment"]) == {"Champions"}
    shown = rendered_table(at, "segment", "campaigns")
    assert shown["segment"].tolist() == [segment_label("Champions", "en")]
    assert shown["contacted"].tolist() == [table["contacted"].sum()]
    assert shown["revenue_uplift"].tolist() == pytest.approx(
        pooled(table, "segment")["revenue_uplift"].to_list()
    )


def test_portuguese(demo_db: Path) -> None:
    at = open_page(PAGE, lang="pt_BR")
    exp = _expected(demo_db, _as_of(at))
    assert at.title[0].value == "Desenvolvimento da proposta de valor"
    everything = pooled(exp.response(), None).row(0, named=True)
    metrics = metric_values(at)
    assert metrics["Taxa de resposta"] == format_percent(everything["response_rate"], "pt_BR")
    assert "," in metrics["Taxa de resposta"]
    shown = rendered_table(at, "segment", "campaigns")
    by_segment = pooled(exp.response(), "segment")
    assert shown["segment"].tolist() == [segment_label(s, "pt_BR") for s in by_segment["segment"]]
    assert any("não é aleatorizado" in i.value for i in at.info)


def test_empty_store(empty_db: Path) -> None:
    at = open_page(PAGE, lang="en")
    assert not at.exception
    assert at.info and "No orders" in at.info[0].value
    assert not at.metric


def test_store_without_campaigns(empty_db: Path) -> None:
    with store.connect(empty_db) as con:
        con.execute("INSERT INTO customers (customer_id, created_at) VALUES ('A', '2025-01-02')")
        con.execute(
            "INSERT INTO orders (order_id, customer_id, ordered_at, gross_amount, status) "
            "VALUES ('o1', 'A', '2025-01-05 10:00-03', 50, 'completed')"
        )
    at = open_page(PAGE, lang="en")
    assert not at.exception
    assert any("No campaign sends" in i.value for i in at.info)
    assert not at.metric
    assert rendered_table(at, "segment", "rule", "offer")["customers"].tolist() == [1]

"""KPI dashboard on the demo store: what it shows equals crm_core's numbers for the same filters."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from streamlit.proto.Metric_pb2 import Metric

from crm_core import store
from crm_core.clv import fit_clv
from crm_core.cohorts import cohort_matrix, cohort_retention
from crm_core.i18n import translate
from crm_core.i18n.format import format_money, format_number, format_percent
from crm_core.kpis import contact_rate_by_channel, kpi_breakdown, kpi_table, kpi_trend
from crm_core.lifecycle import assign_stages
from crm_core.period import Period
from crm_core.segment_store import latest_config
from crm_core.segments import segment_customers
from crm_core.summary import customer_summary
from tests.analytics.kpi_builders import build_hand_store
from tests.pages.conftest import open_page
from ui.overview_view import format_delta, month_label, trend_window

PAGE = "pages/overview.py"
NAMES = {
    "en": {"active_customers": "Active customers", "revenue": "Revenue",
           "aov": "Average order value", "retention_rate": "Retention rate",
           "churn_rate": "Churn rate", "avg_clv": "Average CLV", "nps": "NPS"},
    "pt_BR": {"active_customers": "Clientes ativos", "revenue": "Receita",
              "aov": "Ticket médio", "retention_rate": "Taxa de retenção",
              "churn_rate": "Taxa de churn", "avg_clv": "CLV médio", "nps": "NPS"},
}  # fmt: skip


def _metrics(at) -> dict[str, tuple[str, str | None]]:
    return {m.label: (m.value, m.delta) for m in at.metric}


def _charts(at) -> dict[str, dict]:
    """First trace of each Plotly chart, by the chart's key (suffix of its element id)."""
    out = {}
    for chart in at.get("plotly_chart"):
        name = chart.proto.id.rsplit("-", 1)[-1]
        out[name] = json.loads(chart.proto.spec)["data"][0]
    return out


def _clv(db: Path, as_of: date) -> pl.DataFrame:
    with store.connect(db) as con:
        return fit_clv(con, calibration_end=as_of).customers.select("customer_id", "clv")


def _table(db: Path, period: Period, clv: pl.DataFrame, customers=None) -> dict[str, dict]:
    with store.connect(db) as con:
        table = kpi_table(con, period, customers, clv)
    return {row["kpi"]: row for row in table.iter_rows(named=True)}


def _subset(db: Path, as_of: date, clv: pl.DataFrame, channel="", segment="") -> pl.DataFrame:
    """Customers of a channel or segment, computed with crm_core alone."""
    with store.connect(db) as con:
        config, _ = latest_config(con)
        summary = customer_summary(con, as_of, window_days=config.window_days)
    if channel:
        return summary.filter(pl.col("main_channel") == channel).select("customer_id")
    seg = segment_customers(summary, config, clv)
    return seg.filter(pl.col("segment").cast(pl.Utf8) == segment).select("customer_id")


def _check_cards(at, expected: dict[str, dict], lang: str) -> None:
    shown, names = _metrics(at), NAMES[lang]
    assert len(shown) == 11
    for kpi in ("active_customers",):
        assert shown[names[kpi]][0] == format_number(expected[kpi]["value"], lang)
    for kpi in ("revenue", "aov", "avg_clv"):
        assert shown[names[kpi]][0] == format_money(expected[kpi]["value"], lang)
    for kpi in ("retention_rate", "churn_rate"):
        assert shown[names[kpi]][0] == format_percent(expected[kpi]["value"], lang)
    assert shown["NPS"][0] == format_number(expected["nps"]["value"], lang, decimals=1)
    points = expected["retention_rate"]["change"] * 100
    text = f"{points:+.1f}" if lang == "en" else f"{points:+.1f}".replace(".", ",")
    assert shown[names["retention_rate"]][1] == text + (" pp" if lang == "en" else " p.p.")


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_cards_equal_kpi_table_in_the_locale(demo_db: Path, lang: str) -> None:
    at = open_page(PAGE, lang=lang)
    f = at.session_state["_filters"]
    clv = _clv(demo_db, f.as_of)
    expected = _table(demo_db, f.period, clv)
    _check_cards(at, expected, lang)
    revenue = _metrics(at)[NAMES[lang]["revenue"]][0]
    pattern = r"^R\$\d{1,3}(,\d{3})*\.\d{2}$" if lang == "en" else r"^R\$ \d{1,3}(\.\d{3})*,\d{2}$"
    assert pl.Series([revenue]).str.contains(pattern).item(), revenue
    churn = next(m for m in at.metric if m.label == NAMES[lang]["churn_rate"]).proto
    rising = expected["churn_rate"]["change"] > 0
    assert churn.direction == (Metric.MetricDirection.UP if rising else Metric.MetricDirection.DOWN)
    # churn is lower-is-better: a rise is red, a fall green
    assert churn.color == (Metric.MetricColor.RED if rising else Metric.MetricColor.GREEN)
    assert all(m.help for m in at.metric)


def test_card_hover_is_the_catalogue_definition(demo_db: Path) -> None:
    at = open_page(PAGE, lang="en")
    revenue = next(m for m in at.metric if m.label == "Revenue")
    assert revenue.help.startswith("Net sales of the period's orders")


def test_url_channel_changes_the_numbers_to_that_subset(demo_db: Path) -> None:
    at = open_page(PAGE, lang="en", channel="app")
    f = at.session_state["_filters"]
    clv = _clv(demo_db, f.as_of)
    expected = _table(demo_db, f.period, clv, _subset(demo_db, f.as_of, clv, channel="app"))
    everyone = _table(demo_db, f.period, clv)
    assert expected["revenue"]["value"] < everyone["revenue"]["value"]
    _check_cards(at, expected, "en")


def test_url_segment_changes_the_numbers_to_that_subset(demo_db: Path) -> None:
    at = open_page(PAGE, lang="pt_BR", segment="Champions")
    f = at.session_state["_filters"]
    clv = _clv(demo_db, f.as_of)
    champions = _subset(demo_db, f.as_of, clv, segment="Champions")
    expected = _table(demo_db, f.period, clv, champions)
    assert 0 < expected["active_customers"]["value"] < _table(demo_db, f.period, clv)[
        "active_customers"]["value"]  # fmt: skip
    _check_cards(at, expected, "pt_BR")


def test_url_period_changes_the_numbers(demo_db: Path) -> None:
    at = open_page(PAGE, lang="en", **{"from": "2026-03-01", "to": "2026-03-31"})
    f = at.session_state["_filters"]
    assert f.period == Period(date(2026, 3, 1), date(2026, 3, 31))
    clv = _clv(demo_db, f.as_of)
    expected = _table(demo_db, f.period, clv)
    _check_cards(at, expected, "en")
    default = _table(demo_db, Period(f.as_of - timedelta(days=29), f.as_of), clv)
    assert expected["revenue"]["value"] != default["revenue"]["value"]
    assert "2026-02-01 – 2026-02-28" in at.caption[1].value  # a whole month vs the month before


def test_charts_carry_crm_core_values(demo_db: Path) -> None:
    at = open_page(PAGE, lang="en")
    f = at.session_state["_filters"]
    start, end = trend_window(f.period.end)
    at.selectbox(key="overview_kpi").set_value("revenue").run()
    charts = _charts(at)
    with store.connect(demo_db) as con:
        trend = kpi_trend(con, "revenue", start, end)
        config, _ = latest_config(con)
        summary = customer_summary(con, f.as_of, window_days=config.window_days)
        groups = summary.select("customer_id", group="main_channel").drop_nulls()
        by_channel = kpi_breakdown(con, "revenue", f.period, groups)
        cohorts = cohort_matrix(cohort_retention(con, "month", "customers", start, end))
        contacts = contact_rate_by_channel(con, f.period)
        clv = fit_clv(con, calibration_end=f.as_of).customers
        stages = assign_stages(summary, config.lifecycle, config.churn_window_days, clv)
        stage_groups = stages.select("customer_id", group=pl.col("stage").cast(pl.Utf8))
        by_stage = kpi_breakdown(con, "revenue", f.period, stage_groups, None, clv)
    assert charts["overview_trend"]["y"] == trend["value"].to_list()
    assert len(charts["overview_trend"]["y"]) == 12
    bars = charts["overview_breakdown_main_channel"]
    assert bars["y"] == by_channel["value"].to_list()
    assert "Online store" in bars["x"] and "online_store" not in bars["x"]
    order = ["exploration", "awareness", "expansion", "commitment", "dissolution"]
    by_stage = by_stage.sort(pl.col("group").replace_strict({g: i for i, g in enumerate(order)}))
    assert charts["overview_breakdown_stage"]["y"] == by_stage["value"].to_list()
    assert charts["overview_breakdown_stage"]["x"][:2] == ["Exploration", "Awareness"]
    heat = charts["overview_cohorts"]
    assert heat["z"] == [list(r) for r in cohorts.drop("cohort", "cohort_size").rows()]
    assert heat["z"][0][0] == 1.0  # everyone buys in their acquisition month
    assert charts["overview_contact"]["y"] == contacts["contact_rate"].to_list()


def test_empty_store_shows_what_to_do(empty_db: Path) -> None:
    at = open_page(PAGE, lang="en")
    assert not at.metric
    assert "Upload" in at.info[0].value


@pytest.mark.parametrize(
    ("kpi", "change", "pct", "lang", "text"),
    [
        ("revenue", 1234.5, 0.125, "pt_BR", "+R$ 1.234,50 (+12,5%)"),
        ("revenue", -1234.5, -0.125, "en", "-R$1,234.50 (-12.5%)"),
        ("active_customers", 1200, None, "en", "+1,200"),
        ("retention_rate", -0.0217, -0.04, "pt_BR", "-2,2 p.p."),
        ("churn_rate", 0.0217, 0.04, "en", "+2.2 pp"),
        ("nps", 1.91, 0.4, "en", "+1.9 pts"),
        ("contact_rate", -0.771, -0.3, "pt_BR", "-0,77"),  # contacts per customer, not points
        ("revenue", None, None, "en", None),
    ],
)
def test_format_delta(kpi, change, pct, lang, text) -> None:
    assert format_delta(kpi, change, pct, lang) == text


def test_trend_window_is_twelve_calendar_months() -> None:
    assert trend_window(date(2026, 6, 29)) == (date(2025, 7, 1), date(2026, 6, 29))
    assert trend_window(date(2026, 12, 31)) == (date(2026, 1, 1), date(2026, 12, 31))
    assert trend_window(date(2026, 1, 15), 3) == (date(2025, 11, 1), date(2026, 1, 15))


@pytest.fixture
def hand_db(empty_db: Path) -> Path:
    """The hand-computed store of tests/analytics/kpi_builders.py (March 2024 vs February)."""
    with store.connect(empty_db) as con:
        build_hand_store(con)
        store.bump_data_version(con)
    return empty_db


def test_cards_on_a_hand_computed_store(hand_db: Path) -> None:
    """Golden values from the hand computation in tests/analytics/test_kpis.py's docstring."""
    at = open_page(PAGE, lang="pt_BR", **{"from": "2024-03-01", "to": "2024-03-31"})
    shown = _metrics(at)
    assert shown["Clientes ativos"] == ("5", "+1 (+25,0%)")
    assert shown["Clientes novos"] == ("3", "0 (0,0%)")
    new = next(m for m in at.metric if m.label == "Clientes novos").proto
    assert (new.direction, new.color) == (Metric.MetricDirection.NONE, Metric.MetricColor.GRAY)
    assert shown["Receita"] == ("R$ 350,00", "+R$ 20,00 (+6,1%)")  # 350 vs 330
    assert shown["Ticket médio"] == ("R$ 43,75", "-R$ 38,75 (-47,0%)")  # 43.75 vs 82.5
    assert shown["Taxa de retenção"] == ("50,0%", "-50,0 p.p.")  # 2/4 vs 1/1
    assert shown["Taxa de churn"] == ("50,0%", "+50,0 p.p.")
    assert shown["Taxa de recompra"] == ("60,0%", "+35,0 p.p.")  # 3/5 vs 1/4
    assert shown["CSAT"] == ("60,0%", "+60,0 p.p.")  # 3/5 vs 0/1
    assert shown["NPS"] == ("50,0", "+150,0 pts")  # 50 vs −100
    assert shown["Taxa de contato"] == ("1,20", "+0,95")  # 6/5 vs 1/4 contacts per customer
    contact = _charts(at)["overview_contact"]
    assert contact["x"] == ["E-mail", "Telefone", "WhatsApp"]
    assert contact["y"] == pytest.approx([0.6, 0.4, 0.2])  # 3, 2 and 1 contacts / 5 active
    clv = next(m for m in at.metric if m.label == "CLV médio")
    assert clv.value == "—"  # nine customers are too few to fit the CLV model
    assert clv.help.endswith(translate("page.overview.clv_missing", "pt_BR"))


def test_filters_leaving_nobody_say_so(demo_db: Path) -> None:
    at = open_page(PAGE, lang="en", segment="Other")  # the catch-all is empty in the demo
    assert at.session_state["_filters"].segment == "Other"
    assert not at.metric
    assert at.info[0].value == translate("page.overview.no_customers", "en")


def test_month_label_follows_the_language() -> None:
    assert month_label(date(2026, 6, 1), "pt_BR") == "06/2026"
    assert month_label(date(2026, 6, 1), "en") == "2026-06"

"""Interact page on the demo store: what it shows equals crm_core's numbers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from crm_core import store
from crm_core.attention import AttentionRules, attention_facts, attention_list, customer_values
from crm_core.clv import fit_clv
from crm_core.i18n.format import format_number, format_percent
from crm_core.interact import (
    campaign_rates,
    channel_rates,
    code_label,
    contact_distribution,
    contact_recency,
    contact_stats,
    contacts_per_customer,
    interactions_over_time,
    last_contacts,
    period_interactions,
    recency_value_bins,
    restrict,
)
from crm_core.interact_paths import channel_paths, channel_runs, purchases_between
from crm_core.period import Period
from crm_core.segment_store import latest_config
from crm_core.segments import segment_customers
from crm_core.summary import customer_summary
from tests.pages.conftest import open_page, rendered_table

PAGE = "pages/interact.py"


@dataclass
class Expected:
    """The frames the page should read, computed with crm_core alone."""

    as_of: date
    period: Period
    summary: pl.DataFrame
    frame: pl.DataFrame
    last: pl.DataFrame
    runs: pl.DataFrame
    now: pl.DataFrame
    before: pl.DataFrame


def _expected(db: Path, at) -> Expected:
    f = at.session_state["_filters"]
    with store.connect(db) as con:
        config, _ = latest_config(con)
        summary = customer_summary(con, f.as_of, window_days=config.window_days)
        frame = period_interactions(con, f.period)
        last = last_contacts(con, f.as_of)
        buys = purchases_between(con, f.period.start, max(f.as_of, f.period.start))
        now = fit_clv(con, calibration_end=f.as_of).customers
        before = fit_clv(con, calibration_end=f.as_of - timedelta(days=90)).customers
    runs = channel_runs(frame, buys)
    return Expected(f.as_of, f.period, summary, frame, last, runs, now, before)


def _charts(at) -> dict[str, list[dict]]:
    """Traces of each Plotly chart, by the chart's key."""
    return {
        chart.proto.id.rsplit("-", 1)[-1]: json.loads(chart.proto.spec)["data"]
        for chart in at.get("plotly_chart")
    }


def _attention(exp: Expected, rules: AttentionRules, scope: pl.DataFrame | None = None):
    everyone = exp.summary.select("customer_id", owner="account_manager", revenue="revenue")
    values = customer_values(everyone, exp.now, exp.before)
    if scope is not None:
        values = values.join(scope, on="customer_id", how="semi")
    days = contact_recency(values.select("customer_id"), exp.last, exp.as_of)
    return attention_list(attention_facts(values, days), rules)


@pytest.fixture(scope="module")
def english(demo_template: Path, tmp_path_factory: pytest.TempPathFactory):
    """The page in English over the first half of 2026, and crm_core's frames for it."""
    path = tmp_path_factory.mktemp("interact") / "crm.duckdb"
    path.write_bytes(demo_template.read_bytes())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CRM_DB", str(path))
        at = open_page(PAGE, lang="en", **{"from": "2026-01-01"})
        yield at, _expected(path, at)


def test_metrics_and_contact_histogram_equal_crm_core(english) -> None:
    at, exp = english
    assert exp.period.start == date(2026, 1, 1)
    counts = contacts_per_customer(exp.frame, exp.summary)
    stats = contact_stats(counts)
    assert stats["interactions"] > 1000 and 0 < stats["never_share"] < 1
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Interactions"] == format_number(stats["interactions"], "en")
    assert metrics["Customers contacted"] == format_number(stats["contacted"], "en")
    assert metrics["Contacts per customer"] == format_number(stats["mean"], "en", 2)
    assert metrics["Never contacted"] == format_percent(stats["never_share"], "en")
    hist = _charts(at)["interact_hist"][0]
    assert hist["y"] == contact_distribution(counts)["customers"].to_list()
    assert hist["x"][-1] == "10+"


def test_over_time_chart_by_channel_and_by_outcome(english) -> None:
    at, exp = english
    for by in ("channel", "outcome"):
        at.segmented_control(key="interact_by").set_value(by).run()
        assert not at.exception
        expected = interactions_over_time(exp.frame, exp.period, by)
        assert expected["bucket"].n_unique() == 27  # ISO weeks from Dec 29, 2025 to Jun 29, 2026
        traces = {tr["name"]: tr["y"] for tr in _charts(at)["interact_over_time"]}
        for (value,), part in expected.group_by("value", maintain_order=True):
            assert traces[code_label(by, value, "en")] == part["interactions"].to_list()
        assert sum(sum(y) for y in traces.values()) == exp.frame.height


def test_recency_value_heatmap_counts_every_customer(english) -> None:
    at, exp = english
    values = exp.summary.select("customer_id").join(
        exp.now.select("customer_id", value="clv"), on="customer_id", how="left",
        maintain_order="left",
    )  # fmt: skip
    cells = recency_value_bins(contact_recency(values, exp.last, exp.as_of))
    heat = _charts(at)["interact_recency"][0]
    assert sum(map(sum, heat["z"])) == exp.summary.height == cells["customers"].sum()
    top = cells.filter(pl.col("value_band") == 5, pl.col("recency_bin") == "0-7")["customers"]
    assert heat["z"][-1][0] == top.item()  # most valuable band, contacted within a week
    assert heat["x"][0] == "0–7" and heat["x"][-1] == "never"


def test_rates_tables_equal_crm_core(english) -> None:
    at, exp = english
    rates = channel_rates(exp.frame)
    shown = rendered_table(at, "channel", "response_rate", "resolution_rate")
    assert shown["channel"].tolist() == [code_label("channel", c, "en") for c in rates["channel"]]
    for column in ("interactions", "outbound", "responses", "cases", "resolved"):
        assert shown[column].tolist() == rates[column].to_list(), column
    expected = rates["response_rate"].fill_null(float("nan")).to_list()
    assert shown["response_rate"].tolist() == pytest.approx(expected, nan_ok=True)
    email = rates.filter(pl.col("channel") == "email").row(0, named=True)
    assert 0.05 < email["response_rate"] < 0.5  # campaign sends mostly go unanswered
    campaigns = campaign_rates(exp.frame)
    shown = rendered_table(at, "campaign", "response_rate")
    assert shown["campaign"].tolist() == campaigns["campaign"].to_list()
    assert shown["outbound"].tolist() == campaigns["outbound"].to_list()
    assert shown["response_rate"].tolist() == pytest.approx(campaigns["response_rate"].to_list())


def test_channel_paths_follow_the_sliders(english) -> None:
    at, exp = english
    for steps, within in ((3, 30), (2, 7)):
        at.slider(key="interact_steps").set_value(steps)
        at.slider(key="interact_within").set_value(within).run()
        assert not at.exception
        paths = channel_paths(exp.runs, steps, within).head(100)
        shown = rendered_table(at, "path", "conversion_rate")
        labels = [" → ".join(code_label("channel", c, "en") for c in p) for p in paths["path"]]
        assert shown["path"].tolist() == labels
        assert shown["customers"].tolist() == paths["customers"].to_list()
        assert shown["converted"].tolist() == paths["converted"].to_list()
        assert max(paths["steps"]) == steps
    assert _charts(at)["interact_transitions"][0]["type"] == "heatmap"


def test_attention_list_equals_crm_core_and_follows_the_sliders(english) -> None:
    at, exp = english
    rules = AttentionRules(0.80, 0.20, 90, 90)
    expected = _attention(exp, rules)
    assert expected.height > 50 and set(expected["reason"].cast(pl.String)) == {
        "falling", "uncontacted", "falling_uncontacted"}  # fmt: skip
    shown = rendered_table(at, "customer", "reason")
    assert shown["customer_id"].tolist() == expected["customer_id"].head(1000).to_list()
    assert shown["value"].tolist() == pytest.approx(expected["value"].head(1000).to_list())
    owners = expected["owner"].fill_null("Unassigned").head(1000).to_list()
    assert shown["owner"].tolist() == owners
    assert 0 < owners.count("Unassigned") < len(owners)  # some managed accounts, most not
    labels = {"falling": "P(alive) falling", "uncontacted": "Not contacted",
              "falling_uncontacted": "P(alive) falling, not contacted"}  # fmt: skip
    assert shown["reason"].tolist() == [labels[r] for r in expected["reason"].head(1000)]
    first = expected["customer_id"][0]
    assert shown["customer"].tolist()[0].startswith("customers?")
    assert shown["customer"].tolist()[0].endswith(f"customer={first}")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Customers needing attention"] == format_number(expected.height, "en")

    at.slider(key="interact_percentile").set_value(95)
    at.slider(key="interact_days").set_value(30).run()
    assert not at.exception
    tighter = _attention(exp, AttentionRules(0.95, 0.20, 30, 90))
    shown = rendered_table(at, "customer", "reason")
    assert shown["customer_id"].tolist() == tighter["customer_id"].head(1000).to_list()
    assert tighter.height != expected.height


def test_segment_filter_restricts_every_section(demo_db: Path) -> None:
    at = open_page(PAGE, lang="en", segment="Champions")
    assert not at.exception
    exp = _expected(demo_db, at)
    f = at.session_state["_filters"]
    with store.connect(demo_db) as con:
        config, _ = latest_config(con)
    segmented = segment_customers(exp.summary, config, exp.now)
    scope = exp.summary.filter(segmented["segment"].cast(pl.String) == "Champions")
    assert 0 < scope.height < exp.summary.height
    frame = restrict(exp.frame, scope)
    stats = contact_stats(contacts_per_customer(frame, scope))
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Interactions"] == format_number(stats["interactions"], "en")
    assert metrics["Customers contacted"] == format_number(stats["contacted"], "en")
    rates = channel_rates(frame)
    assert (
        rendered_table(at, "channel", "outbound")["outbound"].tolist()
        == rates["outbound"].to_list()
    )
    expected = _attention(exp, AttentionRules(), scope.select("customer_id"))
    shown = rendered_table(at, "customer", "reason")
    assert shown["customer_id"].tolist() == expected["customer_id"].head(1000).to_list()
    assert f.segment == "Champions"


def test_portuguese(demo_db: Path) -> None:
    at = open_page(PAGE, lang="pt_BR")
    exp = _expected(demo_db, at)
    assert at.title[0].value == "Interagir: pontos de contato"
    stats = contact_stats(contacts_per_customer(exp.frame, exp.summary))
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Contatos por cliente"] == format_number(stats["mean"], "pt_BR", 2)
    assert "," in metrics["Contatos por cliente"]
    shown = rendered_table(at, "customer", "reason")
    assert set(shown["reason"]) <= {"P(ativo) em queda", "Sem contato",
                                    "P(ativo) em queda, sem contato"}  # fmt: skip
    assert "E-mail" in rendered_table(at, "channel", "outbound")["channel"].tolist()


def test_store_without_interactions(demo_db: Path) -> None:
    with store.connect(demo_db) as con:
        con.execute("DELETE FROM interactions")
    at = open_page(PAGE, lang="en")
    assert not at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Interactions"] == "0"
    assert metrics["Never contacted"] == format_percent(1.0, "en")
    infos = [i.value for i in at.info]
    assert any("No interaction in the period" in i for i in infos)
    shown = rendered_table(at, "customer", "reason")
    assert all(r.endswith("ot contacted") for r in shown["reason"])  # every reason includes it


def test_empty_store(empty_db: Path) -> None:
    at = open_page(PAGE, lang="en")
    assert not at.exception
    assert at.title[0].value == "Interact: touchpoints"
    assert at.info and not at.dataframe

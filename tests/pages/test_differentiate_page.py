"""Differentiate page on the demo store: what it shows equals crm_core's numbers, and the
workbench edits, saves, loads and compares segment configurations."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from crm_core import store
from crm_core.clv import fit_clv
from crm_core.differentiate import value_base
from crm_core.i18n.format import format_number, format_percent
from crm_core.needs import NeedsConfig, needs_by_tier, needs_groups, needs_profile
from crm_core.segment_config import RFMSettings, SegmentConfig, TierSettings
from crm_core.segment_store import latest_config, list_configs, save_config
from crm_core.segments import (
    compare_segmentations,
    segment_customers,
    segment_label,
    segment_overview,
)
from crm_core.summary import customer_summary
from tests.pages.conftest import metric_values, open_page

PAGE = "pages/differentiate.py"


@dataclass
class Expected:
    config: SegmentConfig
    summary: pl.DataFrame
    clv: pl.DataFrame

    def segmented(self, config: SegmentConfig | None = None) -> pl.DataFrame:
        return segment_customers(self.summary, config or self.config, self.clv)


def _expected(db: Path, as_of: date) -> Expected:
    """What the page reads, computed with crm_core alone (same model settings)."""
    with store.connect(db) as con:
        config, _ = latest_config(con)
        summary = customer_summary(con, as_of, window_days=config.window_days)
        clv = fit_clv(con, calibration_end=as_of).customers.select("customer_id", "clv")
    return Expected(config, summary, clv)


def _table(at, first_column: str, *others: str):
    for frame in at.dataframe:
        columns = list(frame.value.columns)
        if columns and columns[0] == first_column and set(others) <= set(columns):
            return frame.value
    raise AssertionError(f"no table starting with {first_column}")


def _chart(at, key: str) -> dict:
    for chart in at.get("plotly_chart"):
        if chart.proto.id.endswith(key) or key in chart.proto.id:
            return json.loads(chart.proto.spec)
    raise AssertionError(f"no chart {key}")


def _as_of(at) -> date:
    return at.session_state["_filters"].as_of


def _check_segments(at, exp: Expected, config: SegmentConfig, lang: str = "en") -> None:
    """The page's segment table equals `segment_overview` of `segment_customers` under
    `config`, segment by segment; segments nobody falls in are listed with 0."""
    segmented = exp.segmented(config)
    overview = segment_overview(segmented, exp.summary, exp.clv)
    want = {row["segment"]: row for row in overview.iter_rows(named=True)}
    shown = _table(at, "segment", "lapsed_share")
    assert shown["segment"].tolist() == [segment_label(s, lang) for s in config.segment_names]
    for name, row in zip(config.segment_names, shown.itertuples(), strict=True):
        expected = want.get(name)
        assert row.customers == (expected["customers"] if expected else 0), name
        assert row.revenue == pytest.approx(expected["revenue"] if expected else 0.0), name
        if expected and expected["mean_clv"] is not None:
            assert row.mean_clv == pytest.approx(expected["mean_clv"]), name
    # lapsed: buyers without a purchase within the churn window, over the segment's buyers
    frame = segmented.select("segment").hstack(exp.summary.select("recency_days", "purchase_days"))
    lapsed = (
        frame.filter(pl.col("purchase_days") > 0)
        .group_by(pl.col("segment").cast(pl.String))
        .agg((pl.col("recency_days") >= config.churn_window_days).mean().alias("lapsed"))
    )
    for name, share in lapsed.iter_rows():
        row = shown[shown["segment"] == segment_label(name, lang)]
        assert row["lapsed_share"].iloc[0] == pytest.approx(share), name


@pytest.fixture(scope="module")
def english(demo_template: Path, tmp_path_factory: pytest.TempPathFactory):
    """The page in English on a private demo copy, and crm_core's frames for it."""
    path = tmp_path_factory.mktemp("differentiate") / "crm.duckdb"
    path.write_bytes(demo_template.read_bytes())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CRM_DB", str(path))
        at = open_page(PAGE, lang="en")
        yield at, _expected(path, _as_of(at))


def test_value_concentration_equals_the_textbook_gini(english) -> None:
    at, exp = english
    buyers = exp.summary.filter(pl.col("purchase_days") > 0).join(
        exp.clv, on="customer_id", how="left"
    )
    metrics = metric_values(at)
    shown = _table(at, "measure", "revenue")
    assert shown["measure"].tolist() == [
        "Gini coefficient", "Share held by the top 1%", "Share held by the top 5%",
        "Share held by the top 20%",
    ]  # fmt: skip
    for column, name in (("revenue", "Revenue"), ("clv", "CLV")):
        # buyers without a CLV score and negative values count as 0
        values = buyers[column].fill_null(0).clip(0).sort().to_numpy()
        n, total = values.size, values.sum()
        # G = 2·Σ i·v(i) / (n·Σv) − (n + 1)/n with v ascending, i = 1..n
        gini = 2 * np.sum(np.arange(1, n + 1) * values) / (n * total) - (n + 1) / n
        assert shown[column].iloc[0] == pytest.approx(gini)
        assert metrics[f"Gini — {name}"] == format_number(gini, "en", 2)
        # top 20 %: between the value share of ⌊0.2·n⌋ and of ⌊0.2·n⌋ + 1 best buyers
        best = np.cumsum(values[::-1]) / total
        whole = int(0.2 * n)
        assert best[whole - 1] <= shown[column].iloc[3] <= best[whole]
        assert metrics[f"Top 20 % hold — {name}"] == format_percent(shown[column].iloc[3], "en")


def test_segment_and_tier_tables_equal_crm_core(english) -> None:
    at, exp = english
    assert not at.exception
    _check_segments(at, exp, exp.config)
    tiers = _table(at, "tier", "customers")
    counts = exp.segmented()["tier"].cast(pl.String).value_counts()
    want = dict(counts.iter_rows())
    names = [*exp.config.tiers.names, exp.config.no_purchase]
    assert tiers["tier"].tolist() == [segment_label(n, "en") for n in names]
    assert tiers["customers"].tolist() == [want.get(n, 0) for n in names]


def test_rf_heatmap_counts_buyers_per_cell(english) -> None:
    at, exp = english
    scored = exp.segmented().filter(pl.col("r_score").is_not_null())
    cells = dict(((r, f), n) for r, f, n in scored.group_by("r_score", "f_score").len().rows())
    heatmap = _chart(at, "diff_rf")["data"][0]
    assert heatmap["type"] == "heatmap"
    assert heatmap["z"] == [[cells.get((r, f), 0) for f in range(1, 6)] for r in range(1, 6)]


def test_treemap_holds_every_buyers_value(english) -> None:
    at, exp = english
    tree = _chart(at, "diff_tree")["data"][0]
    roots = [v for v, parent in zip(tree["values"], tree["parents"], strict=True) if not parent]
    scored = exp.summary.filter(pl.col("purchase_days") > 0).join(exp.clv, on="customer_id")
    assert sum(roots) == pytest.approx(scored["clv"].sum())


def test_needs_groups_equal_crm_core(english) -> None:
    at, exp = english
    base = value_base(exp.summary, exp.clv)
    groups = needs_groups(exp.summary, NeedsConfig())
    profile = needs_profile(groups, base)
    shown = _table(at, "group", "multichannel_share")
    assert shown["customers"].tolist() == profile["customers"].to_list()
    assert shown["revenue"].tolist() == pytest.approx(profile["revenue"].to_list())
    assert shown["group"].tolist()[-1] == "Other (small groups)"
    assert "Online store" in " ".join(shown["group"])  # channel codes translated
    crosstab = _table(at, "group", "total")
    by_tier = needs_by_tier(groups, exp.segmented())
    assert crosstab["total"].tolist() == by_tier["total"].to_list()
    assert list(crosstab.columns)[1] == "Platinum"
    # min share 0: every category × channel pair is its own group
    at.slider(key="diff_needs_min_share").set_value(0.0).run()
    pairs = exp.summary.filter(pl.col("purchase_days") > 0).select("main_category", "main_channel")
    assert len(_table(at, "group", "multichannel_share")) == pairs.n_unique()


@pytest.fixture
def page(demo_db: Path):
    """A fresh page on a private demo copy (for tests that edit the draft or write)."""
    at = open_page(PAGE, lang="en")
    return at, _expected(demo_db, _as_of(at)), demo_db


def _check_matrix(at, a: pl.DataFrame, b: pl.DataFrame, config_b: SegmentConfig) -> None:
    """The movement table and heatmap equal `compare_segmentations(a, b)`, rows and columns
    in segment (rule) order."""
    matrix = compare_segmentations(a, b)
    moves = {(row[0], c): n for row in matrix.iter_rows() for c, n in zip(
        matrix.columns[1:], row[1:], strict=True)}  # fmt: skip
    shown = _table(at, "segment", "Champions")
    rows = shown["segment"].tolist()
    assert sorted(rows) == matrix["segment"].to_list()
    assert sorted(shown.columns[1:]) == matrix.columns[1:]
    for column in shown.columns[1:]:
        assert shown[column].tolist() == [moves[(r, column)] for r in rows], column
    assert list(shown.columns[1:]) == [n for n in config_b.segment_names if n in shown.columns]
    heatmap = _chart(at, "diff_movement")["data"][0]
    assert heatmap["z"] == [[moves[(r, c)] for c in shown.columns[1:]] for r in rows]


def _thresholds(config: SegmentConfig, **cuts: tuple[float, ...]) -> SegmentConfig:
    return replace(config, rfm=replace(config.rfm, mode="thresholds", **cuts))


def test_moving_a_cut_point_resegments_live(page) -> None:
    at, exp, _ = page
    at.radio(key="diff_rfm_mode").set_value("thresholds").run()
    at.number_input(key="diff_f_2").set_value(4).run()
    assert not at.exception
    draft = _thresholds(exp.config, frequency_cuts=(2.0, 4.0, 5.0, 8.0))
    assert SegmentConfig.from_json(at.session_state["diff_draft"]) == draft
    _check_segments(at, exp, draft)
    # the draft is compared with the active configuration by default
    _check_matrix(at, exp.segmented(), exp.segmented(draft), draft)
    moved = (
        exp.segmented()["segment"].cast(pl.String)
        != exp.segmented(draft)["segment"].cast(pl.String)
    ).sum()
    assert moved > 0
    assert metric_values(at)["Customers who change segment"] == format_number(moved, "en")


def test_churn_window_and_tier_cut_change_the_tables(page) -> None:
    at, exp, _ = page
    at.slider(key="diff_churn_window").set_value(60).run()
    at.number_input(key="diff_tier_pct_1").set_value(10.0).run()
    assert not at.exception
    draft = replace(
        exp.config, churn_window_days=60, tiers=replace(exp.config.tiers, cuts=(0.10, 0.20, 0.50))
    )
    assert SegmentConfig.from_json(at.session_state["diff_draft"]) == draft
    _check_segments(at, exp, draft)
    tiers = _table(at, "tier", "customers")
    platinum = (exp.segmented(draft)["tier"] == "platinum").sum()
    assert tiers["customers"].iloc[0] == platinum
    assert platinum > (exp.segmented()["tier"] == "platinum").sum()


def test_invalid_cut_points_warn_without_crashing(page) -> None:
    at, _, _ = page
    at.radio(key="diff_rfm_mode").set_value("thresholds").run()
    at.number_input(key="diff_f_2").set_value(1).run()  # F cuts 2, 1, 5, 8: not increasing
    assert not at.exception
    assert any("strictly increasing" in w.value for w in at.warning)
    assert not [b for b in at.button if b.key == "diff_save"]


def test_save_makes_the_draft_the_active_configuration(page) -> None:
    at, exp, db = page
    at.slider(key="diff_churn_window").set_value(90).run()
    at.text_input(key="diff_save_name").input("q3 campaign").run()
    at.button(key="diff_save").click().run()
    assert not at.exception
    draft = replace(exp.config, name="q3 campaign", churn_window_days=90)
    with store.connect(db) as con:
        saved, version = latest_config(con)
        rows = list_configs(con)
        audit = con.execute(
            "SELECT actor, action, target FROM audit_log WHERE action = 'segments.config_saved'"
        ).fetchall()
    assert (saved, version) == (draft, 1)
    assert rows.select("name", "version", "created_by").rows() == [("q3 campaign", 1, "admin")]
    assert audit == [("admin", "segments.config_saved", "q3 campaign")]
    assert at.success[0].value == (
        'Saved "q3 campaign" as version 1. It is now the active configuration on every page.'
    )
    # A new session uses it (AppTest keeps the first run's filters, see conftest).
    again = open_page(PAGE, lang="en")
    assert again.session_state["_filters"].config_json == draft.to_json()
    assert SegmentConfig.from_json(again.session_state["diff_draft"]) == draft
    assert again.slider(key="diff_churn_window").value == 90
    assert again.text_input(key="diff_save_name").value == "q3 campaign"


def test_load_restores_a_saved_version(demo_db: Path) -> None:
    first = _thresholds(SegmentConfig(name="alpha"), frequency_cuts=(2.0, 3.0, 6.0, 10.0))
    first = replace(first, tiers=TierSettings(mode="absolute", cuts=(100.0, 500.0, 2000.0)))
    second = replace(SegmentConfig(name="alpha"), churn_window_days=300)
    with store.connect(demo_db) as con:
        save_config(con, first, actor="test")
        save_config(con, second, actor="test")
    at = open_page(PAGE, lang="en")
    assert at.radio(key="diff_rfm_mode").value == "quantile"  # the draft starts from v2
    at.selectbox(key="diff_load_pick").set_value("1:alpha").run()
    at.button(key="diff_load").click().run()
    assert not at.exception
    assert SegmentConfig.from_json(at.session_state["diff_draft"]) == first
    assert at.radio(key="diff_rfm_mode").value == "thresholds"
    assert at.number_input(key="diff_f_3").value == 6
    assert at.number_input(key="diff_tier_abs_3").value == 2000.0
    assert at.slider(key="diff_churn_window").value == 180
    _check_segments(at, _expected(demo_db, _as_of(at)), first)


def test_compare_two_saved_versions(demo_db: Path) -> None:
    first = _thresholds(SegmentConfig(name="beta"))
    second = SegmentConfig(name="gamma", rfm=RFMSettings(mode="quantile"))
    with store.connect(demo_db) as con:
        save_config(con, first, actor="test")
        save_config(con, second, actor="test")
    at = open_page(PAGE, lang="en")
    at.selectbox(key="diff_compare_a").set_value("1:beta").run()
    at.selectbox(key="diff_compare_b").set_value("1:gamma").run()
    assert not at.exception
    exp = _expected(demo_db, _as_of(at))
    a, b = exp.segmented(first), exp.segmented(second)
    _check_matrix(at, a, b, second)
    moved = (a["segment"].cast(pl.String) != b["segment"].cast(pl.String)).sum()
    assert metric_values(at)["Customers who change segment"] == format_number(moved, "en")
    sizes = _table(at, "segment", "customers_a")
    champions = sizes[sizes["segment"] == "Champions"].iloc[0]
    assert champions["customers_a"] == (a["segment"] == "Champions").sum()
    assert champions["customers_b"] == (b["segment"] == "Champions").sum()


def test_portuguese(demo_db: Path) -> None:
    at = open_page(PAGE, lang="pt_BR")
    assert not at.exception
    assert at.title[0].value == "Diferenciar"
    exp = _expected(demo_db, _as_of(at))
    _check_segments(at, exp, exp.config, lang="pt_BR")
    gini = metric_values(at)["Gini — Receita"]
    assert "," in gini and "." not in gini
    assert at.radio(key="diff_rfm_mode").options == ["Quintis", "Meus pontos de corte"]
    assert _table(at, "group", "multichannel_share")["group"].tolist()[-1] == (
        "Outros (grupos pequenos)"
    )


def test_empty_store(empty_db: Path) -> None:
    at = open_page(PAGE, lang="en")
    assert not at.exception
    assert at.info and "No orders" in at.info[0].value
    assert not at.metric


def test_the_draft_survives_a_visit_to_another_page(page) -> None:
    at, exp, _ = page
    at.radio(key="diff_rfm_mode").set_value("thresholds").run()
    at.number_input(key="diff_m_4").set_value(9000.0).run()
    draft = at.session_state["diff_draft"]
    at.switch_page("pages/store.py").run()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert at.session_state["diff_draft"] == draft
    assert at.radio(key="diff_rfm_mode").value == "thresholds"
    assert at.number_input(key="diff_m_4").value == 9000.0
    _check_segments(at, exp, _thresholds(exp.config, monetary_cuts=(250.0, 750.0, 2000.0, 9000.0)))

"""Payne & Frow scorecard: each metric and normalisation by hand, then a tiny store end to end."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl
import pytest

from crm_core.assessments import Assessment, save_assessment
from crm_core.errors import VinculoError
from crm_core.period import Period
from crm_core.processes import (
    COMPONENTS,
    PROCESSES,
    Inputs,
    ProcessConfig,
    area_inputs,
    channel_csat,
    inputs_of,
    measure_parts,
    multichannel_share,
    normalise,
    on_target_share,
    process_scores,
    relative_change,
    response_balance,
    scorecard,
    segmented_share,
    spread,
)
from crm_core.segment_config import default_config
from crm_core.settings import BusinessSettings, save_settings

CONFIG = default_config()


def test_components_cover_the_five_processes_in_order() -> None:
    assert PROCESSES == (
        "strategy_development", "value_creation", "multichannel_integration",
        "performance_assessment", "information_management",
    )  # fmt: skip
    seen = list(dict.fromkeys(c.process for c in COMPONENTS))
    assert seen == list(PROCESSES)
    assert {c.key for c in COMPONENTS} >= {"qci.analysis_planning", "support.it_data"}


def test_segmented_share_counts_buyers_in_a_named_segment_with_a_tier() -> None:
    frame = pl.DataFrame(
        {
            "segment": ["Champions", "Other", "Lost", "No purchase", "Loyal"],
            "tier": ["gold", "silver", "bronze", "No purchase", None],
        }
    )
    # buyers: 4 (the "No purchase" row is not one); named with a tier: Champions, Lost → 2/4
    assert segmented_share(frame, CONFIG) == 0.5
    assert segmented_share(frame.filter(pl.col("segment") == "No purchase"), CONFIG) is None


def test_multichannel_share_of_buyers() -> None:
    summary = pl.DataFrame({"purchase_days": [3, 1, 2, 0, 5], "n_channels": [2, 1, 1, 0, 3]})
    assert multichannel_share(summary) == 0.5  # 2 of the 4 buyers
    assert multichannel_share(summary.filter(pl.col("purchase_days") == 0)) is None


def test_spread_and_balance_ignore_thin_channels() -> None:
    csat = pl.DataFrame(
        {"channel": ["app", "email", "sms"], "answers": [30, 50, 5], "csat": [0.9, 0.6, 0.1]}
    )
    assert spread(csat, "csat", "answers", 20) == pytest.approx(0.3)  # sms has too few answers
    assert spread(csat, "csat", "answers", 40) is None  # one channel left: no spread
    rates = pl.DataFrame(
        {"channel": ["email", "phone", "whatsapp", "chat"], "outbound": [100, 40, 3, 0],
         "response_rate": [0.1, 0.4, 0.9, None]}
    )  # fmt: skip
    assert response_balance(rates, 20) == pytest.approx(0.25)  # 0.1 / 0.4
    assert response_balance(rates, 50) is None
    zero = rates.with_columns(response_rate=pl.lit(0.0))
    assert response_balance(zero, 20) is None


def test_on_target_share_and_relative_change() -> None:
    against = pl.DataFrame(
        {"kpi": list("abcde"), "status": ["on_track", "behind", "no_target", "on_track", "no_data"]}
    )
    assert on_target_share(against) == (pytest.approx(2 / 3), 3)
    assert on_target_share(against.filter(pl.col("status") == "no_target")) == (None, 0)
    assert relative_change(110.0, 100.0) == pytest.approx(0.1)
    assert relative_change(90.0, -100.0) == pytest.approx(1.9)
    assert relative_change(None, 100.0) is None and relative_change(5.0, 0.0) is None


@pytest.mark.parametrize(
    ("key", "inputs", "expected"),
    [
        ("segmented_share", Inputs(segmented_share=0.8), 80.0),
        ("active_rules", Inputs(active_rules=4, segments=8), 50.0),
        ("active_rules", Inputs(active_rules=12, segments=8), 100.0),
        ("active_rules", Inputs(active_rules=3, segments=0), None),
        ("average_clv", Inputs(average_clv=600.0, clv_target=800.0), 75.0),
        ("average_clv", Inputs(average_clv=900.0, clv_target=800.0), 100.0),
        ("average_clv", Inputs(average_clv=600.0), None),  # no target: unscored
        ("clv_trend", Inputs(clv_trend=0.05), 75.0),  # span 0.10
        ("clv_trend", Inputs(clv_trend=-0.02), 40.0),
        ("clv_trend", Inputs(clv_trend=-0.5), 0.0),
        ("revenue_gini", Inputs(revenue_gini=0.65), 35.0),
        ("csat_spread", Inputs(csat_spread=0.12), 88.0),
        ("response_balance", Inputs(response_balance=0.25), 25.0),
        ("kpis_on_target", Inputs(kpis_on_target=0.6), 60.0),
        ("quality_score", Inputs(quality_score=0.9), 90.0),
        ("duplicate_rate", Inputs(duplicate_rate=0.04), 96.0),
        ("qci.proposition", Inputs(areas={"qci.proposition": 62.5}), 62.5),
        ("qci.proposition", Inputs(), None),
        ("multichannel_share", Inputs(), None),
    ],
)
def test_normalisation(key: str, inputs: Inputs, expected: float | None) -> None:
    got = normalise(key, inputs, ProcessConfig())
    assert got == (None if expected is None else pytest.approx(expected))


def test_process_scores_average_the_scored_components_and_light_them() -> None:
    inputs = Inputs(
        segmented_share=0.9, active_rules=10, segments=10,  # 90, 100
        revenue_gini=0.7, clv_trend=0.0,  # 30, 50; average CLV without target: unscored
        quality_score=0.5, duplicate_rate=0.3,  # 50, 70
        areas={"qci.analysis_planning": 50.0, "support.it_data": 0.0},
    )  # fmt: skip
    comps = scorecard(inputs)
    assert comps.columns == ["process", "component", "unit", "value", "score", "page"]
    assert comps.height == len(COMPONENTS)
    assert comps.filter(pl.col("component") == "active_rules")["page"].item() == "customize"
    scores = process_scores(comps)
    got = {r["process"]: r for r in scores.iter_rows(named=True)}
    assert got["strategy_development"]["score"] == pytest.approx(80.0)  # (90 + 100 + 50) / 3
    assert got["strategy_development"]["light"] == "green"
    assert got["value_creation"]["score"] == pytest.approx(40.0)  # (30 + 50) / 2
    assert (got["value_creation"]["scored"], got["value_creation"]["components"]) == (2, 4)
    assert got["value_creation"]["light"] == "amber"
    assert got["information_management"]["score"] == pytest.approx(40.0)  # (50 + 70 + 0) / 3
    assert got["multichannel_integration"]["light"] == "no_data"
    assert got["multichannel_integration"]["score"] is None
    strict = process_scores(comps, ProcessConfig(green=85.0, amber=45.0))
    assert strict["light"].to_list()[:2] == ["amber", "red"]


def test_bad_config_is_refused() -> None:
    with pytest.raises(VinculoError):
        ProcessConfig(green=30.0, amber=60.0)
    with pytest.raises(VinculoError):
        ProcessConfig(min_base=0)


def test_area_inputs_without_assessments_are_empty() -> None:
    areas = area_inputs(None, None)
    assert len(areas) == 12 and set(areas.values()) == {None}


# ---- a tiny store end to end ------------------------------------------------------------------

# (order_id, customer, local time, amount, sales channel)
ORDERS = [
    ("o1", "A", "2024-02-10 10:00", 100, "online_store"),
    ("o2", "A", "2024-03-05 10:00", 100, "app"),
    ("o3", "B", "2024-03-10 10:00", 100, "online_store"),
    ("o4", "C", "2024-02-20 10:00", 300, "app"),
]
# (customer, local time, channel, csat)
FEEDBACK = [
    ("A", "2024-03-06 10:00", "email", 5),
    ("B", "2024-03-11 10:00", "email", 2),
    ("C", "2024-03-12 10:00", "app", 4),
    ("C", "2024-03-13 10:00", "app", 5),
    ("A", "2024-03-14 10:00", "sms", 5),  # one answer: below the base of 2
    ("B", "2024-02-11 10:00", "sms", 1),  # February: outside the period
]
# (customer, local time, channel, outcome) — all outbound
OUTBOUND = [
    ("A", "2024-03-01 10:00", "email", "clicked"),
    ("B", "2024-03-01 10:00", "email", "delivered"),
    ("C", "2024-03-01 10:00", "email", "delivered"),
    ("A", "2024-03-02 10:00", "email", "opened"),
    ("A", "2024-03-03 10:00", "phone", "responded"),
    ("B", "2024-03-03 10:00", "phone", "no_answer"),
    ("C", "2024-03-04 10:00", "whatsapp", "converted"),  # one contact: below the base
]
CLV = pl.DataFrame({"customer_id": ["A", "B", "C"], "clv": [1000.0, 500.0, 600.0]})
MARCH = Period(date(2024, 3, 1), date(2024, 3, 31))


def _build(con: duckdb.DuckDBPyConnection) -> None:
    for c in ("A", "B", "C"):
        con.execute("INSERT INTO customers (customer_id) VALUES (?)", [c])
    for oid, c, at, amount, channel in ORDERS:
        con.execute(
            "INSERT INTO orders (order_id, customer_id, ordered_at, gross_amount, status, "
            "sales_channel) VALUES (?, ?, ?::TIMESTAMPTZ, ?, 'completed', ?)",
            [oid, c, at + "-03", amount, channel],
        )
    for n, (c, at, channel, score) in enumerate(FEEDBACK):
        con.execute(
            "INSERT INTO feedback (feedback_id, customer_id, answered_at, csat, channel) "
            "VALUES (?, ?, ?::TIMESTAMPTZ, ?, ?)",
            [f"f{n}", c, at + "-03", score, channel],
        )
    for n, (c, at, channel, outcome) in enumerate(OUTBOUND):
        con.execute(
            "INSERT INTO interactions (interaction_id, customer_id, occurred_at, channel, type, "
            "direction, outcome) VALUES (?, ?, ?::TIMESTAMPTZ, ?, 'campaign', 'outbound', ?)",
            [f"i{n}", c, at + "-03", channel, outcome],
        )
    # average CLV target 1000 (actual 750: behind), active customers 2 (actual 2: on track)
    targets = {"average_clv": 1000.0, "active_customers": 2.0}
    save_settings(con, BusinessSettings(targets=targets), "ana")
    qci = {"analysis_planning.value_known": 4, "analysis_planning.written_plan": 4,
           "proposition.tested": 2, "customer_experience.recognised": 5,
           "measuring_effect.profit_link": 3}  # fmt: skip
    save_assessment(con, Assessment("qci", qci), "ana")
    support = {"it_data.single_view": 1, "it_data.privacy": 3}
    save_assessment(con, Assessment("support_conditions", support), "ana")


def test_scorecard_on_a_tiny_store(con: duckdb.DuckDBPyConnection) -> None:
    _build(con)
    scoring = ProcessConfig(min_base=2)
    parts = measure_parts(con, date(2024, 3, 31), MARCH, CONFIG, CLV)
    csat = channel_csat(con, MARCH)
    assert csat.rows() == [("app", 2, 1.0), ("email", 2, 0.5), ("sms", 1, 1.0)]
    inputs = inputs_of(parts, scoring)
    comps = scorecard(inputs, scoring)
    value = dict(comps.select("component", "value").iter_rows())
    score = dict(comps.select("component", "score").iter_rows())

    assert value["active_rules"] == 10 and score["active_rules"] == pytest.approx(100 * 10 / 11)
    assert 0.0 <= value["segmented_share"] <= 1.0
    # active in March: A, B → CLV (1000 + 500) / 2 = 750; previous 31 days: A, C → 800
    assert value["average_clv"] == pytest.approx(750.0)
    assert score["average_clv"] == pytest.approx(75.0)  # 750 / 1000
    assert value["clv_trend"] == pytest.approx(-0.0625)  # (750 − 800) / 800
    assert score["clv_trend"] == pytest.approx(18.75)  # 50 + 50 · (−0.0625 / 0.10)
    # revenue 200, 100, 300: Gini = 2·(1·100 + 2·200 + 3·300) / (3·600) − 4/3 = 2/9
    assert value["revenue_gini"] == pytest.approx(2 / 9)
    assert value["multichannel_share"] == pytest.approx(1 / 3)  # only A used two channels
    assert value["csat_spread"] == pytest.approx(0.5)  # app 1.0 − email 0.5 (sms too thin)
    assert value["response_balance"] == pytest.approx(0.5)  # email 1/4 ÷ phone 1/2
    assert value["kpis_on_target"] == pytest.approx(0.5) and inputs.kpis_with_target == 2
    # no field filled (0), no e-mail/phone/document given (validity undefined), no consent (0),
    # no duplicate (1): (0 + 0 + 1) / 3
    assert value["quality_score"] == pytest.approx(1 / 3)
    assert value["duplicate_rate"] == 0.0
    assert value["qci.analysis_planning"] == 75.0 and value["support.it_data"] == 25.0

    got = dict(process_scores(comps, scoring).select("process", "score").iter_rows())
    assert got["value_creation"] == pytest.approx((75 + 18.75 + 700 / 9 + 25) / 4)
    assert got["multichannel_integration"] == pytest.approx((100 / 3 + 50 + 50 + 100) / 4)
    assert got["performance_assessment"] == pytest.approx(50.0)  # (50 + 50) / 2
    assert got["information_management"] == pytest.approx((100 / 3 + 100 + 25) / 3)
    strategy = (100 * value["segmented_share"] + 1000 / 11 + 75) / 3
    assert got["strategy_development"] == pytest.approx(strategy)


def test_scorecard_on_an_empty_store(con: duckdb.DuckDBPyConnection) -> None:
    parts = measure_parts(con, date(2024, 3, 31), MARCH, CONFIG, None)
    comps = scorecard(inputs_of(parts))
    scored = comps.filter(pl.col("score").is_not_null())["component"].to_list()
    # only what needs no data is scored: the built-in rules, and a store without duplicates
    assert set(scored) <= {"active_rules", "duplicate_rate"}
    assert process_scores(comps)["process"].to_list() == list(PROCESSES)

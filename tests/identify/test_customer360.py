"""Customer 360 on a tiny store: one golden record with a merged member, every fact by hand."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl
import pytest

from crm_core.customer360 import (
    analytics,
    current_consents_of,
    load_customer,
    next_best_action,
)
from crm_core.customize import Rule, RuleSet
from crm_core.errors import VinculoError
from crm_core.identity_merge import merge
from crm_core.lifecycle import assign_stages
from crm_core.relationship import RelationshipRules, interaction_profile, relationship_types
from crm_core.segment_config import default_config
from crm_core.segments import segment_customers
from crm_core.summary import customer_summary

AS_OF = date(2025, 6, 30)


def _insert(con: duckdb.DuckDBPyConnection, table: str, columns: str, rows: list[tuple]) -> None:
    marks = ", ".join("?" for _ in columns.split(","))
    con.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", [list(r) for r in rows])


@pytest.fixture
def store360(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """C1 (golden) with member C5, another customer C2, an erased C9; times in UTC-3."""
    person = "customer_id, name, email, city, created_at, erased_at, source"
    _insert(con, "customers", person, [
        ("C1", "Ana Souza", "ana@x.com", None, "2024-01-01 10:00-03", None, "crm"),
        ("C5", "Ana S.", "ana.s@y.com", "Recife", "2024-03-01 10:00-03", None, "shop"),
        ("C2", "Bruno Lima", "bruno@x.com", "Natal", "2024-01-02 10:00-03", None, "crm"),
        ("C9", "Gone", None, None, "2024-01-03 10:00-03", "2025-01-01 00:00-03", "crm"),
    ])  # fmt: skip
    _insert(con, "customer_records", "customer_id, name, email, created_at, source", [
        ("C1", "Ana Souza", "ana@x.com", "2024-01-01 10:00-03", "crm"),
        ("C1", "Ana Souza", None, "2024-02-01 10:00-03", "shop"),
        ("C5", "Ana S.", "ana.s@y.com", "2024-03-01 10:00-03", "shop"),
        ("C2", "Bruno Lima", "bruno@x.com", "2024-01-02 10:00-03", "crm"),
    ])  # fmt: skip
    order = "order_id, customer_id, ordered_at, gross_amount, refunded_amount, status"
    _insert(con, "orders", order, [
        ("O1", "C1", "2025-01-10 10:00-03", 100, 0, "completed"),
        ("O2", "C5", "2025-03-05 10:00-03", 50, 20, "partially_refunded"),
        ("O3", "C1", "2025-04-01 10:00-03", 80, 0, "cancelled"),
        ("O4", "C1", "2025-07-02 10:00-03", 999, 0, "completed"),  # after the as-of day
        ("O5", "C2", "2025-02-01 10:00-03", 10, 0, "completed"),
        ("O6", "C5", "2025-06-30 23:30-03", 20, 0, "completed"),  # local as-of day, UTC next day
    ])  # fmt: skip
    _insert(con, "interactions", "interaction_id, customer_id, occurred_at, channel, type", [
        ("I1", "C1", "2025-05-01 10:00-03", "email", "campaign"),
        ("I2", "C5", "2025-06-01 10:00-03", "phone", "support"),
        ("I3", "C1", "2025-08-01 10:00-03", "chat", "support"),
        ("I4", "C2", "2025-05-01 10:00-03", "email", "campaign"),
    ])  # fmt: skip
    _insert(con, "feedback", "feedback_id, customer_id, answered_at, csat, nps, comment", [
        ("F1", "C5", "2025-06-10 10:00-03", 2, None, "Demorou"),
        ("F2", "C1", "2025-02-01 10:00-03", None, 9, None),
        ("F3", "C2", "2025-02-01 10:00-03", 5, None, None),
    ])  # fmt: skip
    _insert(con, "consents", "customer_id, channel, granted, recorded_at, source", [
        ("C1", "email", True, "2025-01-01 10:00-03", "site"),
        ("C1", "email", False, "2025-03-01 10:00-03", "central"),  # later withdrawal
        ("C1", "sms", True, "2025-01-01 10:00-03", "site"),
        ("C1", "sms", False, "2025-01-01 10:00-03", "loja"),  # tie: the withdrawal wins
        ("C1", "whatsapp", False, "2025-01-01 10:00-03", "site"),
        ("C1", "whatsapp", True, "2025-02-01 10:00-03", "app"),  # re-granted
        ("C5", "email", True, "2025-05-01 10:00-03", "shop"),
        ("C5", "push", True, "2025-05-01 10:00-03", "app"),  # a channel rules do not use
        ("C2", "email", True, "2025-05-01 10:00-03", "site"),
    ])  # fmt: skip
    merge(con, ["C5"], "C1", "test")
    return con


def test_a_member_opens_its_golden_record(store360) -> None:
    one = load_customer(store360, "C5", AS_OF)
    assert (one.requested_id, one.golden_id) == ("C5", "C1")
    assert one.member_ids == ["C1", "C5"]
    assert one.members["is_golden"].to_list() == [True, False]
    assert one.members["rule"].to_list() == [None, "manual"]
    profile = one.profile.row(0, named=True)
    assert (profile["name"], profile["email"], profile["city"]) == ("Ana Souza", "ana@x.com",
                                                                     "Recife")  # fmt: skip
    assert profile["members"] == 2
    assert one.records["customer_id"].to_list() == ["C1", "C1", "C5"]
    assert one.records["source"].to_list() == ["crm", "shop", "shop"]


def test_facts_of_every_member_up_to_the_local_as_of_day(store360) -> None:
    one = load_customer(store360, "C1", AS_OF)
    orders = one.orders
    assert orders["order_id"].to_list() == ["O1", "O2", "O3", "O6"]
    assert orders["source_customer_id"].to_list() == ["C1", "C5", "C1", "C5"]
    assert orders["net_amount"].to_list() == [100.0, 30.0, 0.0, 20.0]
    assert orders["is_purchase"].to_list() == [True, True, False, True]
    assert orders["day"].to_list()[-1] == AS_OF
    assert one.interactions["interaction_id"].to_list() == ["I2", "I1"]  # newest first
    assert one.feedback["feedback_id"].to_list() == ["F1", "F2"]
    assert one.feedback["comment"].to_list() == ["Demorou", None]
    everything = load_customer(store360, "C1")
    assert everything.orders["order_id"].to_list() == ["O1", "O2", "O3", "O6", "O4"]


def test_consent_now_per_member_and_channel(store360) -> None:
    grid = current_consents_of(store360, ["C1", "C5"])
    status = {(r["customer_id"], r["channel"]): r["status"] for r in grid.iter_rows(named=True)}
    assert grid["channel"].to_list()[:6] == ["email", "sms", "whatsapp", "phone", "mail", "push"]
    assert grid.height == 12
    assert status[("C1", "email")] == "withdrawn"
    assert status[("C1", "sms")] == "withdrawn"  # tie
    assert status[("C1", "whatsapp")] == "granted"
    assert status[("C1", "phone")] == status[("C1", "mail")] == status[("C1", "push")] == "none"
    assert status[("C5", "email")] == status[("C5", "push")] == "granted"
    assert status[("C5", "sms")] == "none"
    source = grid.filter((pl.col("customer_id") == "C1") & (pl.col("channel") == "whatsapp"))
    assert source["source"].to_list() == ["app"]


def test_unknown_and_erased_ids_are_user_errors(store360) -> None:
    with pytest.raises(VinculoError) as unknown:
        load_customer(store360, "NOPE", AS_OF)
    assert unknown.value.key == "customers.unknown_customer"
    assert "NOPE" in unknown.value.message("en")
    with pytest.raises(VinculoError) as erased:
        load_customer(store360, "C9", AS_OF)
    assert erased.value.key == "customers.erased_customer"


def test_analytics_row_rolls_the_members_up(store360) -> None:
    config = default_config()
    summary = customer_summary(store360, AS_OF, window_days=config.window_days)
    segmented = segment_customers(summary, config)
    staged = assign_stages(summary, config.lifecycle, config.churn_window_days)
    typed = relationship_types(summary, interaction_profile(store360, AS_OF), RelationshipRules())
    row = analytics("C1", summary, segmented, staged, typed, None).row(0, named=True)
    assert row["orders"] == 3  # O1, O2, O6: purchases of C1 and C5; O3 cancelled, O4 later
    assert row["revenue"] == pytest.approx(150.0)  # 100 + (50 - 20) + 0 + 20
    assert row["last_purchase"] == AS_OF
    assert row["recency_days"] == 0
    assert isinstance(row["segment"], str) and isinstance(row["stage"], str)
    assert row["clv"] is None and row["p_alive"] is None  # no model


def _frames() -> tuple[pl.DataFrame, ...]:
    """Hand-made analytics frames for C1 and C2 (the shapes of the crm_core outputs)."""
    ids = ["C1", "C2"]
    summary = pl.DataFrame({
        "customer_id": ids, "orders": [3, 1], "revenue": [150.0, 10.0],
        "first_purchase": [date(2025, 1, 10), date(2025, 2, 1)],
        "last_purchase": [date(2025, 6, 30), date(2025, 2, 1)], "recency_days": [0, 149],
    })  # fmt: skip
    segmented = pl.DataFrame({
        "customer_id": ids, "r_score": [5, 2], "f_score": [4, 1], "m_score": [5, 1],
        "rfm_score": [545, 211], "segment": ["At Risk", "Lost"], "tier": ["gold", "bronze"],
    }).with_columns(pl.col("segment").cast(pl.Enum(["At Risk", "Lost"])))  # fmt: skip
    staged = pl.DataFrame({"customer_id": ids, "stage": ["expansion", "dissolution"],
                           "reason": ["order_growth", "lapsed"]})  # fmt: skip
    typed = pl.DataFrame({"customer_id": ids, "relationship_type": ["long_term", "transactional"],
                          "reason": ["regular_repeat", "single_purchase"]})  # fmt: skip
    scores = pl.DataFrame({"customer_id": ids, "clv": [321.5, 0.4], "p_alive": [0.9, 0.1]})
    return summary, segmented, staged, typed, scores


def test_analytics_reads_one_row_of_each_frame() -> None:
    row = analytics("C1", *_frames()).row(0, named=True)
    assert row == {
        "customer_id": "C1", "orders": 3, "revenue": 150.0, "first_purchase": date(2025, 1, 10),
        "last_purchase": date(2025, 6, 30), "recency_days": 0, "r_score": 5, "f_score": 4,
        "m_score": 5, "rfm_score": 545, "segment": "At Risk", "tier": "gold",
        "stage": "expansion", "stage_reason": "order_growth", "relationship_type": "long_term",
        "relationship_reason": "regular_repeat", "clv": 321.5, "p_alive": 0.9,
    }  # fmt: skip
    unscored = analytics("C1", *_frames()[:4], None)
    assert unscored["clv"].to_list() == [None]
    assert analytics("C9", *_frames()).height == 0


RULES = RuleSet("t", (
    Rule("win_back", 1, segments=("At Risk",), offer="Cupom", channel="email"),
    Rule("reward", 2, tiers=("gold",), offer="Pontos", channel="whatsapp"),
    Rule("catch_all", 9, offer="Newsletter", channel="mail"),
))  # fmt: skip


def _row(segment: str, tier: str) -> pl.DataFrame:
    return pl.DataFrame({"customer_id": ["C1"], "segment": [segment], "tier": [tier],
                         "stage": ["expansion"], "relationship_type": ["long_term"]})  # fmt: skip


@pytest.mark.parametrize(
    ("segment", "tier", "rule", "channel", "consent", "conflicts"),
    [("At Risk", "gold", "win_back", "email", "withdrawn", 2),
     ("Champions", "gold", "reward", "whatsapp", "granted", 1),
     ("Lost", "bronze", "catch_all", "mail", "none", 0)],
)  # fmt: skip
def test_next_best_action_and_its_consent(
    store360, segment, tier, rule, channel, consent, conflicts
) -> None:
    consents = current_consents_of(store360, ["C1", "C5"])
    nba = next_best_action(_row(segment, tier), RULES, consents).row(0, named=True)
    assert (nba["rule"], nba["channel"], nba["consent"]) == (rule, channel, consent)
    assert nba["conflicts"] == conflicts
    assert nba["contactable"] is (consent == "granted")
    sources = {"withdrawn": "central", "granted": "app", "none": None}  # the latest statement's
    assert nba["consent_source"] == sources[consent]


def test_no_matching_rule_means_no_action(store360) -> None:
    only = RuleSet("t", (Rule("win_back", 1, segments=("At Risk",), offer="Cupom"),))
    consents = current_consents_of(store360, ["C1"])
    nba = next_best_action(_row("Lost", "bronze"), only, consents).row(0, named=True)
    assert nba["rule"] is None and nba["consent"] is None and nba["contactable"] is False

"""Relationship types: the interaction profile on a tiny store, every type rule, invariants."""

from __future__ import annotations

from datetime import date
from typing import Any

import duckdb
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_core.errors import VinculoError
from crm_core.relationship import (
    REASONS,
    TYPES,
    RelationshipRules,
    interaction_profile,
    relationship_types,
    rule_table,
    type_counts,
)

RULES = RelationshipRules()

# ---- interaction_profile on a tiny store ---------------------------------------------------

CUSTOMERS = [  # (customer_id, account_manager, erased)
    ("a", "Ana Souza", False),
    ("b", None, False),
    ("c", "  ", False),
    ("d", "Bruno", True),
]

INTERACTIONS = [  # (occurred_at, customer, channel, type, direction, outcome)
    ("2024-06-01 12:00:00-03", "a", "phone", "support", "inbound", "resolved"),
    ("2024-06-02 12:00:00-03", "a", "email", "campaign", "outbound", "opened"),
    ("2024-06-03 12:00:00-03", "a", "email", "support", "outbound", "responded"),
    ("2024-06-04 12:00:00-03", "a", "sms", None, "outbound", "delivered"),  # sms: automated
    ("2024-06-10 12:00:00-03", "a", "web", None, "inbound", None),
    ("2024-06-11 12:00:00-03", "a", "community", "community_post", "inbound", None),
    ("2024-06-12 12:00:00-03", "a", "whatsapp", "complaint", "inbound", "unresolved"),
    ("2024-06-20 12:00:00-03", "a", "fax", None, None, None),
    # 22:00 on 30 June in São Paulo, already 1 July in UTC: inside the window
    ("2024-07-01 01:00:00+00", "a", "chat", "support", "inbound", "resolved"),
    # the window (as_of - 30, as_of] starts at local midnight of 1 June, inclusive
    ("2024-06-01 00:00:00-03", "a", "visit", "sales", "outbound", "converted"),
    ("2024-05-31 23:59:59-03", "a", "phone", "sales", "outbound", "no_answer"),
    # after as_of: ignored everywhere, even for last_contact
    ("2024-07-01 12:00:00-03", "a", "phone", "sales", "outbound", "converted"),
    ("2023-01-01 12:00:00-03", "b", "web", None, "inbound", None),
    ("2024-06-15 12:00:00-03", "d", "phone", "support", "inbound", "resolved"),
]


def load_tiny_store(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("SET TimeZone = 'America/Sao_Paulo'")
    for customer_id, manager, erased in CUSTOMERS:
        con.execute(
            "INSERT INTO customers (customer_id, account_manager, erased_at) "
            "VALUES (?, ?, CASE WHEN ? THEN now() END)",
            [customer_id, manager, erased],
        )
    for i, (at, customer, channel, kind, direction, outcome) in enumerate(INTERACTIONS):
        con.execute(
            "INSERT INTO interactions (interaction_id, customer_id, occurred_at, channel, type, "
            "direction, outcome) VALUES (?, ?, ?::TIMESTAMPTZ, ?, ?, ?, ?)",
            [f"i{i}", customer, at, channel, kind, direction, outcome],
        )


def test_interaction_profile_by_hand(con: duckdb.DuckDBPyConnection) -> None:
    load_tiny_store(con)
    con.execute("SELECT 1 UNION ALL SELECT 2").fetchone()  # left unread, as store helpers do
    profile = interaction_profile(con, date(2024, 6, 30), lookback_days=30)
    assert profile["customer_id"].to_list() == ["a", "b", "c"]  # d is erased
    a, b, c = profile.rows(named=True)
    assert a == {
        "customer_id": "a",
        "contacts": 10,
        "personal_contacts": 5,  # phone, support e-mail, whatsapp, chat, visit
        "self_service_contacts": 1,
        "automated_contacts": 2,  # e-mail campaign, sms
        "community_contacts": 1,
        "other_contacts": 1,  # fax
        "automated_engaged": 1,  # the opened campaign
        "inbound": 5,
        "outbound": 4,
        "complaints": 1,
        "has_account_manager": True,
        "last_contact": date(2024, 6, 30),
    }
    assert (b["contacts"], b["has_account_manager"], b["last_contact"]) == (
        0,
        False,
        date(2023, 1, 1),
    )
    assert (c["contacts"], c["has_account_manager"], c["last_contact"]) == (0, False, None)
    wider = interaction_profile(con, date(2024, 6, 30), lookback_days=31)
    assert wider["contacts"].to_list() == [11, 0, 0]
    assert wider["personal_contacts"].to_list() == [6, 0, 0]


def test_interaction_profile_rejects_empty_lookback(con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(VinculoError):
        interaction_profile(con, date(2024, 6, 30), lookback_days=0)


# ---- type rules on hand-built frames ---------------------------------------------------------

NO_CONTACT: dict[str, Any] = {
    "contacts": 0,
    "personal_contacts": 0,
    "self_service_contacts": 0,
    "automated_contacts": 0,
    "community_contacts": 0,
    "automated_engaged": 0,
    "has_account_manager": False,
}
REPEAT: dict[str, Any] = {"purchase_days": 2, "tenure_days": 100, "recency_days": 90}


def frames(summary_row: dict, contacts: dict) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One customer: a summary and a profile frame; `contacts` lists channel-group counts."""
    summary = pl.DataFrame(
        [{"customer_id": "c1", **summary_row}],
        schema={
            "customer_id": pl.String,
            "purchase_days": pl.Int64,
            "tenure_days": pl.Int64,
            "recency_days": pl.Int64,
        },
    )
    counts = {**NO_CONTACT, **contacts}
    groups = ("personal", "self_service", "automated", "community")
    counts["contacts"] = sum(counts[f"{g}_contacts"] for g in groups)
    return summary, pl.DataFrame([{"customer_id": "c1", **counts}])


def t(**kw: Any) -> dict[str, Any]:
    """Profile fields with channel groups by short name: t(personal=2) -> personal_contacts=2."""
    return {
        f"{k}_contacts" if k in {"personal", "self_service", "automated", "community"} else k: v
        for k, v in kw.items()
    }


@pytest.mark.parametrize(
    ("summary_row", "contacts", "expected", "reason"),
    [
        # dedicated: a named account manager and at least one personal contact
        (
            REPEAT,
            t(has_account_manager=True, personal=1),
            "dedicated_personal_assistance",
            "account_manager",
        ),
        (REPEAT, t(has_account_manager=True), "transactional", "irregular_repeat"),
        (
            REPEAT,
            t(has_account_manager=True, community=3, personal=1),
            "dedicated_personal_assistance",
            "account_manager",
        ),
        # communities: >= 30 % of at least 2 interactive contacts
        (REPEAT, t(community=1, self_service=2), "communities", "community_share"),
        (REPEAT, t(community=1, self_service=3), "self_service", "self_service_share"),
        (REPEAT, t(community=1), "transactional", "irregular_repeat"),  # 1 contact: too few
        # personal: >= 50 % of interactive contacts; campaign sends do not dilute it
        (REPEAT, t(personal=2, self_service=2), "personal_assistance", "personal_share"),
        (
            REPEAT,
            t(personal=2, automated=20, automated_engaged=5),
            "personal_assistance",
            "personal_share",
        ),
        (REPEAT, t(personal=1, self_service=2), "self_service", "self_service_share"),
        # automated: mostly automated, engaged with, and a repeat buyer
        (REPEAT, t(automated=4, automated_engaged=1), "automated_services", "automated_engaged"),
        (
            REPEAT,
            t(automated=2, self_service=2, automated_engaged=1),
            "automated_services",
            "automated_engaged",
        ),  # 2 of 4 contacts: the 50 % boundary; checked before self-service
        (
            REPEAT,
            t(automated=1, self_service=2, automated_engaged=1),
            "self_service",
            "self_service_share",
        ),  # 1 of 3
        (REPEAT, t(automated=4, automated_engaged=0), "transactional", "irregular_repeat"),
        (
            {"purchase_days": 1, "tenure_days": 10, "recency_days": 10},
            t(automated=4, automated_engaged=4),
            "transactional",
            "single_purchase",
        ),
        # self-service
        (REPEAT, t(self_service=2), "self_service", "self_service_share"),
        ({"purchase_days": 0}, t(self_service=5), "self_service", "self_service_share"),
        # long-term: 3+ purchase days over 6+ months (182.6 days), recency <= 2 x mean gap
        (
            {"purchase_days": 3, "tenure_days": 200, "recency_days": 10},
            {},
            "long_term",
            "regular_repeat",
        ),
        (
            {"purchase_days": 3, "tenure_days": 192, "recency_days": 10},
            {},
            "transactional",
            "irregular_repeat",
        ),  # span 182 days < 6 months
        (
            {"purchase_days": 3, "tenure_days": 400, "recency_days": 200},
            {},
            "long_term",
            "regular_repeat",
        ),  # span 200, gap 100, recency = 2 x gap
        (
            {"purchase_days": 3, "tenure_days": 401, "recency_days": 201},
            {},
            "transactional",
            "irregular_repeat",
        ),
        (
            {"purchase_days": 2, "tenure_days": 400, "recency_days": 10},
            {},
            "transactional",
            "irregular_repeat",
        ),  # only 2 purchase days
        # transactional
        (
            {"purchase_days": 0, "tenure_days": None, "recency_days": None},
            {},
            "transactional",
            "no_purchase",
        ),
        (
            {"purchase_days": 1, "tenure_days": 300, "recency_days": 300},
            {},
            "transactional",
            "single_purchase",
        ),
    ],
)
def test_each_type_rule(summary_row: dict, contacts: dict, expected: str, reason: str) -> None:
    summary, profile = frames(summary_row, contacts)
    typed = relationship_types(summary, profile, RULES)
    got = typed.select(pl.col("relationship_type", "reason").cast(pl.String)).row(0)
    assert got == (expected, reason)


def test_missing_profile_means_no_contacts_and_thresholds_are_data() -> None:
    summary, profile = frames({"purchase_days": 3, "tenure_days": 200, "recency_days": 10}, {})
    typed = relationship_types(summary, profile.clear(), RULES)
    assert typed["relationship_type"].cast(pl.String).to_list() == ["long_term"]
    stricter = RelationshipRules.from_dict({"long_term_min_purchase_days": 4})
    typed = relationship_types(summary, profile, stricter)
    assert typed["relationship_type"].cast(pl.String).to_list() == ["transactional"]


def test_rules_round_trip_and_validation() -> None:
    rules = RelationshipRules(min_contacts=5, personal_min_share=0.6)
    assert RelationshipRules.from_dict(rules.to_dict()) == rules
    with pytest.raises(VinculoError) as unknown:
        RelationshipRules.from_dict({"min_contact": 3})
    assert unknown.value.key == "relationship.unknown_rule"
    for bad in ({"personal_min_share": 1.2}, {"min_contacts": -1}, {"long_term_max_gap_ratio": 0}):
        with pytest.raises(VinculoError):
            RelationshipRules.from_dict(bad)
    summary, profile = frames(REPEAT, {})
    with pytest.raises(VinculoError) as missing:
        relationship_types(summary, profile.drop("automated_engaged"), RULES)
    assert "automated_engaged" in missing.value.message("pt_BR")


# ---- properties ------------------------------------------------------------------------------


@st.composite
def customers(draw: st.DrawFn) -> tuple[pl.DataFrame, pl.DataFrame]:
    n = draw(st.integers(0, 25))
    summary_rows, profile_rows = [], []
    for i in range(n):
        days = draw(st.integers(0, 6))
        tenure = draw(st.integers(0, 700)) if days else None
        summary_rows.append(
            {
                "customer_id": f"c{i}",
                "purchase_days": days,
                "tenure_days": tenure,
                "recency_days": draw(st.integers(0, tenure)) if days else None,
            }
        )
        groups = {
            g: draw(st.integers(0, 6))
            for g in ("personal", "self_service", "automated", "community")
        }
        profile_rows.append(
            {
                "customer_id": f"c{i}",
                "contacts": sum(groups.values()),
                **{f"{g}_contacts": v for g, v in groups.items()},
                "automated_engaged": draw(st.integers(0, groups["automated"])),
                "has_account_manager": draw(st.booleans()),
            }
        )
    schema = {
        "customer_id": pl.String,
        "purchase_days": pl.Int64,
        "tenure_days": pl.Int64,
        "recency_days": pl.Int64,
    }
    profile_schema = {
        "customer_id": pl.String,
        **{c: pl.Int64 for c in NO_CONTACT},
        "has_account_manager": pl.Boolean,
    }
    return (
        pl.DataFrame(summary_rows, schema=schema),
        pl.DataFrame(profile_rows, schema=profile_schema),
    )


@settings(max_examples=80, deadline=None)
@given(data=customers(), shuffle=st.randoms(use_true_random=False))
def test_every_customer_exactly_one_type(
    data: tuple[pl.DataFrame, pl.DataFrame], shuffle: Any
) -> None:
    summary, profile = data
    order = list(range(profile.height))
    shuffle.shuffle(order)
    typed = relationship_types(summary, profile, RULES)
    typed_shuffled = relationship_types(summary, profile[order], RULES)
    assert typed["customer_id"].to_list() == summary["customer_id"].to_list()
    assert typed["relationship_type"].null_count() == 0
    assert set(typed["relationship_type"].cast(pl.String)) <= set(TYPES)
    assert typed.equals(typed_shuffled)  # the join path agrees with the same-order path
    counts = type_counts(typed)
    assert counts["relationship_type"].to_list() == list(TYPES)
    assert counts["customers"].sum() == summary.height


@pytest.mark.parametrize("lang", ["pt_BR", "en"])
def test_rule_table_is_translated_with_thresholds(lang: str) -> None:
    table = rule_table(RelationshipRules(personal_min_share=0.6), lang)
    assert table["reason"].to_list() == list(REASONS)
    assert set(table["relationship_type"]) == set(TYPES)
    assert not any(text.startswith("relationship.") for text in table["description"])
    assert not any(text.startswith("relationship.") for text in table["type_label"])
    descriptions = dict(zip(table["reason"], table["description"], strict=True))
    assert "60%" in descriptions["personal_share"]

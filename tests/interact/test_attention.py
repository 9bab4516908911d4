"""Attention list: value percentiles, P(alive) drops, contact gaps and reason codes by hand."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from crm_core.attention import (
    AttentionRules,
    attention_facts,
    attention_list,
    customer_values,
    reason_counts,
    reason_label,
)
from crm_core.errors import VinculoError
from crm_core.interact import contact_recency

AS_OF = date(2026, 6, 30)

CUSTOMERS = pl.DataFrame({
    "customer_id": ["A", "B", "C", "D", "E", "F"],
    "owner": ["Ana", None, "Rui", None, None, None],
    "revenue": [500.0, 400.0, 300.0, 200.0, 100.0, 0.0],
})  # fmt: skip
NOW = pl.DataFrame({
    "customer_id": ["A", "B", "C", "D", "E"],
    "p_alive": [0.30, 0.90, 0.85, 0.20, 0.95],
    "clv": [100.0, 900.0, 800.0, 50.0, 10.0],
})  # fmt: skip
BEFORE = pl.DataFrame({  # E bought for the first time inside the lookback: no "before"
    "customer_id": ["A", "B", "C", "D"],
    "p_alive": [0.90, 0.95, 0.80, 0.80],
    "clv": [1000.0, 950.0, 700.0, 60.0],
})  # fmt: skip
LAST = pl.DataFrame({
    "customer_id": ["A", "B", "C", "D"],
    "last_contact": [date(2026, 6, 20), date(2026, 6, 25), date(2026, 1, 1), date(2026, 6, 1)],
})  # fmt: skip


def _facts(now=NOW, before=BEFORE) -> pl.DataFrame:
    values = customer_values(CUSTOMERS, now, before)
    return attention_facts(values, contact_recency(values.select("customer_id"), LAST, AS_OF))


def test_value_is_the_larger_clv_and_percentiles_rank_it() -> None:
    values = customer_values(CUSTOMERS, NOW, BEFORE)
    assert values["value"].to_list() == [1000.0, 950.0, 800.0, 60.0, 10.0, 0.0]
    # 5 customers with value > 0; A is the top (5/5), E the bottom (1/5); F has none
    shares = values["value_percentile"].to_list()
    assert shares[:5] == pytest.approx([1.0, 0.8, 0.6, 0.4, 0.2]) and shares[5] is None
    assert values["p_alive_before"].to_list()[4] is None


def test_reasons() -> None:
    rules = AttentionRules(min_value_percentile=0.4, min_p_alive_drop=0.2,
                           max_days_without_contact=90)  # fmt: skip
    out = attention_list(_facts(), rules)
    got = {r["customer_id"]: r["reason"] for r in out.iter_rows(named=True)}
    # A: 0.90 → 0.30 (−0.60), contacted 10 days ago → falling
    # B: −0.05, contacted → not listed; C: rising but 180 days without contact → uncontacted
    # D: −0.60 and last contact 29 days ago → falling; E below the percentile; F no value
    assert got == {"A": "falling", "C": "uncontacted", "D": "falling"}
    assert out["customer_id"].to_list() == ["A", "C", "D"]  # most valuable first
    a = out.row(0, named=True)
    assert a["owner"] == "Ana" and a["days_since_contact"] == 10
    assert a["p_alive_change"] == pytest.approx(-0.60)


def test_both_reasons_and_the_never_contacted() -> None:
    rules = AttentionRules(min_value_percentile=0.0, min_p_alive_drop=0.5,
                           max_days_without_contact=5)  # fmt: skip
    out = attention_list(_facts(), rules)
    got = {r["customer_id"]: r["reason"] for r in out.iter_rows(named=True)}
    # contacted within 5 days: only B (5 days ago); E was never contacted
    assert got == {"A": "falling_uncontacted", "C": "uncontacted", "D": "falling_uncontacted",
                   "E": "uncontacted"}  # fmt: skip
    assert out.filter(pl.col("customer_id") == "E")["days_since_contact"].to_list() == [None]
    counts = dict(reason_counts(out).iter_rows())
    assert counts == {"falling_uncontacted": 2, "falling": 0, "uncontacted": 2}


def test_without_models_value_is_revenue_and_only_contact_counts() -> None:
    out = attention_list(_facts(None, None), AttentionRules(min_value_percentile=0.6))
    # revenue percentiles: A 1.0, B 0.8, C 0.6; only C is 90+ days without contact
    assert out["customer_id"].to_list() == ["C"]
    assert out["reason"].to_list() == ["uncontacted"] and out["value"].to_list() == [300.0]
    assert out["p_alive_now"].to_list() == [None]


@pytest.mark.parametrize(
    "bad",
    [{"min_value_percentile": 1.5}, {"min_p_alive_drop": 0}, {"max_days_without_contact": 0},
     {"lookback_days": -1}],
)  # fmt: skip
def test_invalid_rules_are_user_errors(bad: dict) -> None:
    with pytest.raises(VinculoError) as exc:
        AttentionRules.from_dict(bad)
    assert exc.value.key == "interact.invalid_rule"
    assert "regra" in exc.value.message("pt_BR")


def test_rules_round_trip_and_unknown_keys() -> None:
    rules = AttentionRules(0.9, 0.3, 60, 90)
    assert AttentionRules.from_dict(rules.to_dict()) == rules
    with pytest.raises(VinculoError) as exc:
        AttentionRules.from_dict({"max_days": 3})
    assert exc.value.key == "interact.unknown_rule"


def test_reason_labels() -> None:
    assert reason_label("uncontacted", "en") == "Not contacted"
    assert reason_label("falling", "pt_BR") == "P(ativo) em queda"

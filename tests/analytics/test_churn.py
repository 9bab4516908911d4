"""Churn diagnostics on a tiny store: signal windows, rates, NPS, last touchpoints, by hand."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl
import pytest

from crm_core.churn import (
    active_buyers,
    last_touchpoints,
    pre_churn_signals,
    signal_profile,
    signals_at,
    touchpoint_digest,
)
from crm_core.errors import VinculoError

AS_OF = date(2026, 6, 30)

INTERACTIONS = [  # (id, customer, occurred_at, type, outcome)
    ("i1", "c1", "2026-03-15 12:00:00-03", "complaint", "unresolved"),
    # 23:00 on 31 March in São Paulo is 1 April in UTC: still the churn day, inside
    ("i2", "c1", "2026-03-31 23:00:00-03", "support", "resolved"),
    ("i3", "c1", "2026-03-01 12:00:00-03", "campaign", "opened"),  # window start: outside
    ("i4", "c1", "2026-07-05 12:00:00-03", "sales", "converted"),  # after as_of
    ("i5", "c2", "2026-04-01 09:00:00-03", "complaint", "resolved"),
    ("i6", "c2", "2026-05-15 09:00:00-03", "campaign", "delivered"),  # after its churn day
    ("i7", "a1", "2026-05-31 18:00:00-03", "complaint", "resolved"),  # window start: outside
    ("i8", "a1", "2026-06-10 10:00:00-03", "support", "unresolved"),
    ("i9", "a2", "2026-06-30 21:00:00-03", "campaign", "clicked"),
]

FEEDBACK = [  # (id, customer, answered_at, csat, nps, comment)
    ("f1", "c1", "2026-03-20 12:00:00-03", 2, 3, None),
    ("f2", "c1", "2026-02-01 12:00:00-03", 5, None, "Ótimo <b>atendimento</b>"),
    ("f3", "c2", "2026-04-10 12:00:00-03", 4, 9, "  "),
    ("f4", "a1", "2026-06-01 12:00:00-03", 5, 10, None),
    ("f5", "a1", "2026-06-20 12:00:00-03", 1, None, "Entrega atrasou"),
    ("f6", "a2", "2026-06-15 12:00:00-03", 4, None, None),
]


@pytest.fixture
def store_con(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    for row in INTERACTIONS:
        con.execute(
            "INSERT INTO interactions (interaction_id, customer_id, occurred_at, channel, type,"
            " outcome) VALUES (?, ?, ?::TIMESTAMPTZ, 'email', ?, ?)",
            list(row),
        )
    for row in FEEDBACK:
        con.execute(
            "INSERT INTO feedback (feedback_id, customer_id, answered_at, csat, nps, comment)"
            " VALUES (?, ?, ?::TIMESTAMPTZ, ?, ?, ?)",
            list(row),
        )
    return con


CHURNED = pl.DataFrame(
    {"customer_id": ["c1", "c2"], "churn_day": [date(2026, 3, 31), date(2026, 4, 30)]}
)
ACTIVE = pl.DataFrame({"customer_id": ["a1", "a2", "a3"]})


def test_signals_by_hand(store_con: duckdb.DuckDBPyConnection) -> None:
    out = pre_churn_signals(store_con, CHURNED, ACTIVE, AS_OF, lookback_days=30)
    churned, active = out.to_dicts()
    # Windows: c1 (1 Mar, 31 Mar], c2 (31 Mar, 30 Apr], actives (31 May, 30 Jun].
    # c1: i1 complaint unresolved, i2 support; f1 csat 2 nps 3 (detractor).
    # c2: i5 complaint; f3 csat 4 nps 9 (promoter).
    assert churned == {
        "group": "churned",
        "customers": 2,
        "complaint_rate": 1.0,  # c1 and c2
        "unresolved_rate": 0.5,  # c1
        "low_csat_rate": 0.5,  # c1 of the 2 respondents
        "mean_csat": 3.0,  # (2 + 4) / 2
        "nps": 0.0,  # 50 % promoters - 50 % detractors
        "contacts_per_customer": 1.5,  # 3 interactions / 2
        "csat_respondents": 2,
        "nps_answers": 2,
    }
    # a1: i8 support unresolved (i7 is on the window's open start); f4 csat 5 nps 10, f5 csat 1.
    # a2: i9 campaign; f6 csat 4. a3: nothing.
    assert active == {
        "group": "active",
        "customers": 3,
        "complaint_rate": 0.0,
        "unresolved_rate": pytest.approx(1 / 3),
        "low_csat_rate": 0.5,  # a1 of the 2 respondents
        "mean_csat": pytest.approx(10 / 3),  # (5 + 1 + 4) / 3
        "nps": 100.0,  # one promoter
        "contacts_per_customer": pytest.approx(2 / 3),
        "csat_respondents": 2,
        "nps_answers": 1,
    }


def test_one_profile_answers_every_lookback(store_con: duckdb.DuckDBPyConnection) -> None:
    profile = signal_profile(store_con, CHURNED, ACTIVE, AS_OF, max_lookback_days=60)
    assert profile.height == 2 * 60
    direct = pre_churn_signals(store_con, CHURNED, ACTIVE, AS_OF, lookback_days=30)
    assert signals_at(profile, 30).to_dicts() == direct.to_dicts()
    # 60 days: c1 (30 Jan, 31 Mar] adds i3 and f2 (CSAT 5); c2 (1 Mar, 30 Apr] is unchanged;
    # actives (1 May, 30 Jun] add a1's complaint i7 of 31 May.
    churned, active = signals_at(profile, 60).to_dicts()
    assert churned["contacts_per_customer"] == 2.0  # (3 + 1) / 2
    assert churned["mean_csat"] == pytest.approx(11 / 3)  # (2 + 5 + 4) / 3
    assert churned["low_csat_rate"] == 0.5
    assert active["complaint_rate"] == pytest.approx(1 / 3)
    assert active["contacts_per_customer"] == 1.0  # (2 + 1 + 0) / 3
    with pytest.raises(VinculoError):
        signals_at(profile, 61)


def test_signals_with_an_empty_group(store_con: duckdb.DuckDBPyConnection) -> None:
    out = pre_churn_signals(store_con, CHURNED.head(0), ACTIVE.head(1), AS_OF, 30)
    assert out["group"].to_list() == ["churned", "active"]
    assert out["customers"].to_list() == [0, 1]
    assert out["complaint_rate"].to_list() == [None, 0.0]
    assert out["nps"].to_list() == [None, 100.0]


def test_signals_reject_bad_lookback(store_con: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(VinculoError) as err:
        pre_churn_signals(store_con, CHURNED, ACTIVE, AS_OF, 0)
    assert err.value.key == "loyalty.bad_days"


def test_active_buyers_leave_out_leads_and_the_dissolved() -> None:
    staged = pl.DataFrame(
        {"customer_id": ["a", "b", "c"], "stage": ["awareness", "dissolution", "exploration"]}
    )
    summary = pl.DataFrame({"customer_id": ["a", "b", "c"], "purchase_days": [2, 1, 0]})
    assert active_buyers(staged, summary)["customer_id"].to_list() == ["a"]


def test_last_touchpoints_newest_first(store_con: duckdb.DuckDBPyConnection) -> None:
    ids = pl.DataFrame({"customer_id": ["c1", "c1", "zz"]})  # duplicates and unknowns are fine
    out = last_touchpoints(store_con, ids, AS_OF, n=2)
    rows = out.select("kind", "day", "type", "outcome", "csat", "nps", "comment").rows()
    # i4 is after as_of; of c1's interactions i2, i1 are the last two; feedback f1 then f2.
    assert rows == [
        ("interaction", date(2026, 3, 31), "support", "resolved", None, None, None),
        ("feedback", date(2026, 3, 20), None, None, 2, 3, None),
        ("interaction", date(2026, 3, 15), "complaint", "unresolved", None, None, None),
        ("feedback", date(2026, 2, 1), None, None, 5, None, "Ótimo <b>atendimento</b>"),
    ]
    assert out["customer_id"].unique().to_list() == ["c1"]


def test_touchpoint_digest(store_con: duckdb.DuckDBPyConnection) -> None:
    ids = pl.DataFrame({"customer_id": ["c1", "c2", "a3"]})
    digest = touchpoint_digest(last_touchpoints(store_con, ids, AS_OF, n=3))
    by = {row["customer_id"]: row for row in digest.iter_rows(named=True)}
    assert set(by) == {"c1", "c2"}  # a3 has no touchpoint
    assert by["c1"]["last_contact_day"] == date(2026, 3, 31)
    assert by["c1"]["last_contact_type"] == "support"
    assert (by["c1"]["last_csat"], by["c1"]["last_nps"]) == (2, 3)
    # the newest non-empty comment, kept as the customer wrote it (no HTML interpretation)
    assert by["c1"]["last_comment"] == "Ótimo <b>atendimento</b>"
    assert by["c2"]["last_contact_day"] == date(2026, 5, 15)
    assert by["c2"]["last_comment"] is None  # a blank comment is no comment

"""KPI definitions pinned on a hand-computed store (see kpi_builders.py for the rows).

Hand computation, March 2024 (local days, America/Sao_Paulo):
- purchases (completed / partially_refunded) in March: A o3+o4 (same day), B o6
  (Mar 31 23:30 local, April in UTC), D o9 (Mar 1 00:30) + o11, H o14, J o15+o16
  (same day). C's o8 is cancelled, E's o12 refunded, G's o13 pending.
  → active = {A, B, D, H, J} = 5
- first purchase ever in March: D, H, J (E's first is Feb 29 23:30 local) → new = 3
- revenue = 80 + 20 + 60 + 70 + 30 + 40 + 25 + 25 (+ 0 cancelled, 90−90 refunded,
  0 pending) = 350; purchase orders = 8 → AOV = 350 / 8 = 43.75
- February active = {A, B, C, E} (E locally Feb 29); of them active in March: A, B
  → retention = 2/4 = 0.5, churn = 0.5
- ≥ 2 purchase days up to Mar 31: A (Jan 15, Feb 10, Mar 5), B (Feb 20, Mar 31),
  D (Mar 1, Mar 20); not H (one day), not J (two orders, one day) → 3/5 = 0.6
- CLV frame A 100, B 200, D 300, Z 1000 (inactive); H, J absent → (100+200+300)/3 = 200
- CSAT answers in March 5, 4, 3, 2, 5 (f6 is Feb locally, f7 has none) → 3/5 = 0.6,
  mean 19/5 = 3.8; NPS answers 10, 9, 9, 7, 3, 10 → 100·(4 − 1)/6 = 50
- interactions in March: i1–i6 (i7 is April locally, i8 February) = 6 → 6/5 = 1.2;
  email 3/5 = 0.6, phone 2/5 = 0.4, whatsapp 1/5 = 0.2
February 2024: active {A, B, C, E} = 4; new {B, C, E} = 3; revenue 50 + 150 + 100 + 30
= 330; AOV 330/4 = 82.5; retention: January active {A} is active in Feb → 1.0, churn 0;
repeat: only A → 1/4 = 0.25; avg CLV of A, B (C, E absent) = 150; CSAT f6 = 1 → 0.0,
mean 1.0; NPS f6 = 0 → −100; contacts i8 → 1/4 = 0.25.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_core import store
from crm_core.errors import VinculoError
from crm_core.i18n import catalogue
from crm_core.kpis import (
    KPIS,
    contact_rate_by_channel,
    get_kpi,
    kpi_breakdown,
    kpi_breakdowns,
    kpi_definition,
    kpi_table,
    kpi_trend,
    kpi_trends,
    kpis_cli_payload,
    last_order_date,
)
from crm_core.period import Period
from tests.analytics.kpi_builders import build_hand_store, insert

MARCH = Period.month(2024, 3)
FEB = Period.month(2024, 2)
CLV = pl.DataFrame({"customer_id": ["A", "B", "D", "Z"], "clv": [100.0, 200.0, 300.0, 1000.0]})

MARCH_EXPECTED = {
    "active_customers": 5,
    "new_customers": 3,
    "revenue": 350.0,
    "aov": 43.75,
    "retention_rate": 0.5,
    "churn_rate": 0.5,
    "repeat_purchase_rate": 0.6,
    "avg_clv": 200.0,
    "csat": 0.6,
    "csat_mean": 3.8,
    "nps": 50.0,
    "contact_rate": 1.2,
}
FEB_EXPECTED = {
    "active_customers": 4,
    "new_customers": 3,
    "revenue": 330.0,
    "aov": 82.5,
    "retention_rate": 1.0,
    "churn_rate": 0.0,
    "repeat_purchase_rate": 0.25,
    "avg_clv": 150.0,
    "csat": 0.0,
    "csat_mean": 1.0,
    "nps": -100.0,
    "contact_rate": 0.25,
}


@pytest.fixture
def hand(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    build_hand_store(con)
    return con


def _call(con: duckdb.DuckDBPyConnection, key: str, period: Period, customers=None):
    kpi = KPIS[key]
    if kpi.needs_clv:
        return kpi.function(con, period, customers, clv=CLV)
    return kpi.function(con, period, customers)


def test_registry_covers_the_hand_computed_kpis() -> None:
    assert set(KPIS) == set(MARCH_EXPECTED) == set(FEB_EXPECTED)


@pytest.mark.parametrize("key", list(MARCH_EXPECTED))
def test_march_by_hand(hand: duckdb.DuckDBPyConnection, key: str) -> None:
    assert _call(hand, key, MARCH) == pytest.approx(MARCH_EXPECTED[key])


@pytest.mark.parametrize("key", list(FEB_EXPECTED))
def test_february_by_hand(hand: duckdb.DuckDBPyConnection, key: str) -> None:
    assert _call(hand, key, FEB) == pytest.approx(FEB_EXPECTED[key])


# Subset {A, C, D}: active A, D; new D; revenue A 100 + D 100; purchase orders 4;
# base Feb {A, C} → A retained; repeat A, D; CSAT A 5, C 3, D 2; NPS 10, 9, 7;
# interactions i1, i4, i5, i6 → 4 / 2.
SUBSET_EXPECTED = {
    "active_customers": 2,
    "new_customers": 1,
    "revenue": 200.0,
    "aov": 50.0,
    "retention_rate": 0.5,
    "churn_rate": 0.5,
    "repeat_purchase_rate": 1.0,
    "avg_clv": 200.0,  # A 100, D 300
    "csat": 1 / 3,
    "csat_mean": 10 / 3,
    "nps": 200 / 3,
    "contact_rate": 2.0,
}


@pytest.mark.parametrize("key", list(SUBSET_EXPECTED))
def test_customer_subset_by_hand(hand: duckdb.DuckDBPyConnection, key: str) -> None:
    subset = pl.DataFrame({"customer_id": ["A", "C", "D"], "segment": ["x", "y", "z"]})
    assert _call(hand, key, MARCH, subset) == pytest.approx(SUBSET_EXPECTED[key])


def test_kpi_table_on_a_subset_by_hand(hand: duckdb.DuckDBPyConnection) -> None:
    subset = pl.DataFrame({"customer_id": ["A", "C", "D"]})
    table = kpi_table(hand, MARCH, subset, clv=CLV)
    got = dict(zip(table["kpi"], table["value"], strict=True))
    assert got == pytest.approx(SUBSET_EXPECTED)


@pytest.mark.parametrize("key", list(KPIS))
def test_empty_store_gives_zero_or_none(con: duckdb.DuckDBPyConnection, key: str) -> None:
    value = _call(con, key, MARCH)
    assert value == KPIS[key].empty
    assert value in (0, 0.0, None)


def test_empty_subset_gives_zero_or_none(hand: duckdb.DuckDBPyConnection) -> None:
    empty = pl.DataFrame({"customer_id": []})
    assert [_call(hand, k, MARCH, empty) for k in KPIS] == [KPIS[k].empty for k in KPIS]


def test_no_previous_activity_means_no_retention(hand: duckdb.DuckDBPyConnection) -> None:
    january = Period.month(2024, 1)  # nobody bought in December
    assert KPIS["active_customers"].function(hand, january) == 1
    assert KPIS["retention_rate"].function(hand, january) is None
    assert KPIS["churn_rate"].function(hand, january) is None


def test_cancelled_refunded_pending_are_not_purchases(con: duckdb.DuckDBPyConnection) -> None:
    # Only non-purchases: a cancelled 40, a fully refunded 90 − 90, a pending 45, a failed 10.
    insert(
        con,
        orders=[
            ("x1", "A", "2024-03-10 09:00", 40, 0, "cancelled"),
            ("x2", "B", "2024-03-11 09:00", 90, 90, "refunded"),
            ("x3", "C", "2024-03-12 09:00", 45, 0, "pending"),
            ("x4", "D", "2024-03-13 09:00", 10, 0, "failed"),
        ],
    )
    got = {k: _call(con, k, MARCH) for k in ("active_customers", "new_customers", "revenue")}
    assert got == {"active_customers": 0, "new_customers": 0, "revenue": 0.0}
    assert KPIS["aov"].function(con, MARCH) is None


def test_local_day_boundary_follows_the_time_zone(hand: duckdb.DuckDBPyConnection) -> None:
    # São Paulo: E's first purchase (Feb 29 23:30 local) is February → new in March = D, H, J.
    assert KPIS["new_customers"].function(hand, MARCH) == 3
    # In UTC that order is March 1st 02:30 → E is new in March too; B's Mar 31 23:30
    # local order is April 1st, so B drops out of March's active customers.
    hand.execute("SET TimeZone = 'UTC'")
    assert KPIS["new_customers"].function(hand, MARCH) == 4
    assert KPIS["active_customers"].function(hand, MARCH) == 5  # A, D, E, H, J


def test_kpi_table_compares_with_the_previous_month(hand: duckdb.DuckDBPyConnection) -> None:
    table = kpi_table(hand, MARCH, clv=CLV)
    assert table.columns == ["kpi", "value", "previous", "change", "change_pct", "unit"]
    rows = {r["kpi"]: r for r in table.iter_rows(named=True)}
    assert list(rows) == list(KPIS)
    for key in KPIS:
        assert rows[key]["value"] == pytest.approx(MARCH_EXPECTED[key]), key
        assert rows[key]["previous"] == pytest.approx(FEB_EXPECTED[key]), key
    assert rows["revenue"]["change"] == pytest.approx(20.0)
    assert rows["revenue"]["change_pct"] == pytest.approx(20 / 330)
    assert rows["churn_rate"]["change_pct"] is None  # previous churn was 0
    assert rows["active_customers"]["unit"] == "count"


def test_kpi_table_without_clv_has_no_average_clv(hand: duckdb.DuckDBPyConnection) -> None:
    row = kpi_table(hand, MARCH).filter(pl.col("kpi") == "avg_clv").row(0, named=True)
    assert row["value"] is None and row["previous"] is None and row["change"] is None


def test_contact_rate_by_channel(hand: duckdb.DuckDBPyConnection) -> None:
    got = contact_rate_by_channel(hand, MARCH)
    assert got["channel"].to_list() == ["email", "phone", "whatsapp"]
    assert got["interactions"].to_list() == [3, 2, 1]
    assert got["contact_rate"].to_list() == pytest.approx([0.6, 0.4, 0.2])


# Trends: Jan / Feb / Mar 2024 by hand (January: A alone, no one in December).
TREND_EXPECTED = {
    "active_customers": [1, 4, 5],
    "new_customers": [1, 3, 3],
    "revenue": [100.0, 330.0, 350.0],
    "retention_rate": [None, 1.0, 0.5],
    "repeat_purchase_rate": [0.0, 0.25, 0.6],
}


@pytest.mark.parametrize("key", list(TREND_EXPECTED))
def test_monthly_trend_by_hand(hand: duckdb.DuckDBPyConnection, key: str) -> None:
    trend = kpi_trend(hand, key, date(2024, 1, 1), date(2024, 3, 31), "month")
    assert trend["bucket"].to_list() == [date(2024, m, 1) for m in (1, 2, 3)]
    assert trend["value"].to_list() == pytest.approx(TREND_EXPECTED[key])


@pytest.mark.parametrize("key", list(KPIS))
def test_weekly_trend_equals_the_kpi_of_each_week(hand: duckdb.DuckDBPyConnection, key) -> None:
    trend = kpi_trend(hand, key, date(2024, 2, 19), date(2024, 3, 31), "week", clv=CLV)
    assert len(trend) == 6 and trend["bucket"][0] == date(2024, 2, 19)  # Mondays
    for row in trend.iter_rows(named=True):
        expected = _call(hand, key, Period(row["start"], row["end"]))
        assert row["value"] == pytest.approx(expected), (key, row)


def test_trend_clips_the_first_and_last_buckets(hand: duckdb.DuckDBPyConnection) -> None:
    trend = kpi_trend(hand, "revenue", date(2024, 2, 20), date(2024, 3, 5), "month")
    # Feb 20–29: o5 150 + o10 30; Mar 1–5: o3 80 + o4 20 + o9 70.
    assert trend["bucket"].to_list() == [date(2024, 2, 1), date(2024, 3, 1)]
    assert trend["start"].to_list() == [date(2024, 2, 20), date(2024, 3, 1)]
    assert trend["value"].to_list() == pytest.approx([180.0, 170.0])


def test_clipped_trend_bucket_keeps_the_whole_previous_bucket_as_base(hand) -> None:
    # One bucket, Mar 10–31; base = all of February {A, B, C, E}. Active Mar 10–31:
    # B (31st), D (20th), H (12th) → retained: B → 1/4. Purchases between the month
    # start and the clipped start (A Mar 5, D Mar 1, J Mar 8) are in neither; were
    # they counted as base, it would read 2/7.
    trend = kpi_trend(hand, "retention_rate", date(2024, 3, 10), date(2024, 3, 31))
    assert trend["value"].to_list() == pytest.approx([0.25])


GROUPS = pl.DataFrame(
    {
        "customer_id": ["A", "B", "C", "D", "E", "H", "J", "F"],
        "group": ["gold", "gold", "silver", "silver", "silver", "bronze", "bronze", "lead"],
    }
)
# Groups bronze / gold / lead / silver, March, by hand: active H J | A B | – | D;
# revenue 40+50 | 100+60 | 0 | 100; Feb base: – | A B (both back) | – | C E (neither back).
BREAKDOWN_EXPECTED = {
    "active_customers": [2, 2, 0, 1],
    "new_customers": [2, 0, 0, 1],
    "revenue": [90.0, 160.0, 0.0, 100.0],
    "retention_rate": [None, 1.0, None, 0.0],
    "repeat_purchase_rate": [0.0, 1.0, None, 1.0],
}


@pytest.mark.parametrize("key", list(BREAKDOWN_EXPECTED))
def test_breakdown_by_hand(hand: duckdb.DuckDBPyConnection, key: str) -> None:
    got = kpi_breakdown(hand, key, MARCH, GROUPS)
    assert got["group"].to_list() == ["bronze", "gold", "lead", "silver"]
    assert got["value"].to_list() == pytest.approx(BREAKDOWN_EXPECTED[key])


def test_several_kpis_at_once_share_one_pass_and_agree(hand: duckdb.DuckDBPyConnection) -> None:
    # The shared path (one customer-bucket aggregate, one history scan for all KPIs)
    # against the same hand values as the one-KPI path.
    trends = kpi_trends(hand, list(TREND_EXPECTED), date(2024, 1, 1), date(2024, 3, 31))
    for key, expected in TREND_EXPECTED.items():
        assert trends.filter(pl.col("kpi") == key)["value"].to_list() == pytest.approx(expected)
    parts = kpi_breakdowns(hand, list(BREAKDOWN_EXPECTED), MARCH, GROUPS)
    for key, expected in BREAKDOWN_EXPECTED.items():
        got = parts.filter(pl.col("kpi") == key)
        assert got["group"].to_list() == ["bronze", "gold", "lead", "silver"]
        assert got["value"].to_list() == pytest.approx(expected), key
    weekly = kpi_trends(hand, list(KPIS), date(2024, 2, 19), date(2024, 3, 31), "week", clv=CLV)
    for key in KPIS:
        alone = kpi_trend(hand, key, date(2024, 2, 19), date(2024, 3, 31), "week", clv=CLV)
        shared = weekly.filter(pl.col("kpi") == key)["value"].to_list()
        assert shared == pytest.approx(alone["value"].to_list()), key


def test_unknown_kpi_and_frequency_are_user_errors(hand: duckdb.DuckDBPyConnection) -> None:
    with pytest.raises(VinculoError) as err:
        get_kpi("ebitda")
    assert err.value.key == "kpis.unknown_kpi"
    with pytest.raises(VinculoError) as err:
        kpi_trend(hand, "revenue", date(2024, 1, 1), date(2024, 3, 1), "day")  # type: ignore[arg-type]
    assert err.value.key == "kpis.bad_freq"
    with pytest.raises(VinculoError):
        kpi_breakdown(hand, "revenue", MARCH, pl.DataFrame({"customer_id": ["A"]}))


def test_every_kpi_has_name_definition_unit_in_both_languages() -> None:
    for lang in ("en", "pt_BR"):
        messages = catalogue(lang)
        for kpi in KPIS.values():
            for part in ("name", "definition", "unit"):
                assert messages.get(f"{kpi.i18n_key}.{part}"), (lang, kpi.key, part)
    assert kpi_definition("nps", "pt_BR") != kpi_definition("nps", "en")


def test_cli_payload_defaults_to_the_last_order_day(db_path: Path) -> None:
    with store.connect(db_path) as con:
        build_hand_store(con)
        assert last_order_date(con) == date(2024, 3, 31)  # o6, local time
    payload = kpis_cli_payload(db_path, None, period_days=31)
    json.dumps(payload)  # plain JSON types only
    assert payload["as_of"] == "2024-03-31"
    assert payload["period"] == {"start": "2024-03-01", "end": "2024-03-31"}
    assert payload["previous_period"] == {"start": "2024-02-01", "end": "2024-02-29"}
    revenue = payload["kpis"]["revenue"]
    assert (revenue["value"], revenue["previous"], revenue["change"]) == (350.0, 330.0, 20.0)
    assert revenue["definition"].startswith("Net sales")
    assert payload["kpis"]["avg_clv"]["value"] is None
    assert payload["contact_rate_by_channel"]["email"] == pytest.approx(0.6)


def test_cli_payload_on_an_empty_store(db_path: Path) -> None:
    payload = kpis_cli_payload(db_path, date(2024, 3, 31))
    assert payload["period"] == {"start": "2024-03-02", "end": "2024-03-31"}
    assert payload["kpis"]["active_customers"]["value"] == 0
    assert payload["kpis"]["retention_rate"]["value"] is None


@pytest.mark.parametrize(
    ("period", "previous"),
    [
        (Period.month(2024, 3), Period.month(2024, 2)),
        (
            Period(date(2024, 1, 1), date(2024, 3, 31)),
            Period(date(2023, 10, 1), date(2023, 12, 31)),
        ),
        (Period(date(2024, 3, 4), date(2024, 3, 10)), Period(date(2024, 2, 26), date(2024, 3, 3))),
        (Period(date(2024, 3, 2), date(2024, 3, 31)), Period(date(2024, 2, 1), date(2024, 3, 1))),
    ],
)
def test_previous_period(period: Period, previous: Period) -> None:
    assert period.previous() == previous
    assert period.is_whole_months() or period.previous().days == period.days


def test_bad_periods_are_user_errors() -> None:
    with pytest.raises(VinculoError):
        Period(date(2024, 3, 2), date(2024, 3, 1))
    with pytest.raises(VinculoError):
        Period.ending(date(2024, 3, 2), 0)


_ORDER = st.tuples(
    st.sampled_from("abcdef"),
    st.integers(0, 90),  # day offset from 2024-01-01
    st.integers(0, 23),
    st.sampled_from(["completed", "partially_refunded", "cancelled", "refunded", "pending"]),
)
_ANSWER = st.tuples(
    st.sampled_from("abcdef"),
    st.integers(0, 90),
    st.one_of(st.none(), st.integers(1, 5)),
    st.one_of(st.none(), st.integers(0, 10)),
)


def _random_store(orders, answers) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'America/Sao_Paulo'")
    store.migrate(con)
    day = lambda d, h=12: f"{date(2024, 1, 1) + timedelta(days=d)} {h:02d}:00"  # noqa: E731
    insert(
        con,
        orders=[(f"o{i}", c, day(d, h), 10.0 + i, 0.0, s) for i, (c, d, h, s) in enumerate(orders)],
        feedback=[(f"f{i}", c, day(d), cs, n) for i, (c, d, cs, n) in enumerate(answers)],
    )
    return con


@settings(max_examples=40, deadline=None)
@given(
    orders=st.lists(_ORDER, max_size=30),
    answers=st.lists(_ANSWER, max_size=10),
    start=st.integers(0, 80),
    days=st.integers(1, 40),
    labels=st.lists(st.sampled_from(["x", "y", "z"]), min_size=6, max_size=6),
)
def test_kpi_invariants(orders, answers, start: int, days: int, labels: list[str]) -> None:
    con = _random_store(orders, answers)
    first = date(2024, 1, 1) + timedelta(days=start)
    period = Period(first, first + timedelta(days=days - 1))
    table = {r["kpi"]: r["value"] for r in kpi_table(con, period).iter_rows(named=True)}
    retention, churn = table["retention_rate"], table["churn_rate"]
    assert (retention is None) == (churn is None)
    if retention is not None:
        assert retention + churn == pytest.approx(1.0)
    for key in ("retention_rate", "churn_rate", "repeat_purchase_rate", "csat"):
        assert table[key] is None or 0.0 <= table[key] <= 1.0, key
    assert table["nps"] is None or -100.0 <= table["nps"] <= 100.0
    assert table["new_customers"] <= table["active_customers"]
    groups = pl.DataFrame({"customer_id": list("abcdef"), "group": labels})
    for key in ("active_customers", "new_customers", "revenue"):
        parts = kpi_breakdown(con, key, period, groups)["value"].sum()
        assert parts == pytest.approx(table[key]), key
    con.close()

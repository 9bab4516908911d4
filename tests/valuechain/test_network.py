"""Network development on a tiny store whose every number is computed by hand.

Times are local wall-clock times in America/Sao_Paulo (UTC−3, no daylight saving since 2019).
As-of 2025-06-30 (a month's last day: June 2025 is the last complete month).

    customer source       created     purchases (net)                             notes
    A        referral     2024-01-10  01-15 100 · 2024-02-20 50 · 2025-01-05 80    month 12 bought
    B        referral     2024-01-20  2024-01-25 200−50 refund, same day 30       first order 150
    C        referral     2024-03-01  —                                           lead
    D        paid_search  2024-02-10  2024-02-11 60 · 2025-02-11 40               month 12 bought
    E        paid_search  2025-01-15  2025-01-20 70                               too recent for m12
    F        (none)       2024-05-05  2024-05-06 cancelled                        no purchase
    G        paid_search  2025-08-01  —                                           after as-of
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl
import pytest

from crm_core.cohorts import cohort_retention
from crm_core.network import (
    acquisition_cost,
    acquisition_facts,
    last_complete_month,
    month_index,
    network_totals,
    partner_channels,
    purchase_history,
    retention_curves,
    source_performance,
    with_cost,
)
from crm_core.summary import customer_summary

AS_OF = date(2025, 6, 30)
CUSTOMERS = [
    ("A", "referral", "2024-01-10 09:00"),
    ("B", "referral", "2024-01-20 09:00"),
    ("C", "referral", "2024-03-01 09:00"),
    ("D", "paid_search", "2024-02-10 09:00"),
    ("E", "paid_search", "2025-01-15 09:00"),
    ("F", None, "2024-05-05 09:00"),
    ("G", "paid_search", "2025-08-01 09:00"),
]
# (order_id, customer, local time, gross, refunded, status, sales channel)
ORDERS = [
    ("o1", "A", "2024-01-15 10:00", 100, 0, "completed", "online_store"),
    ("o2", "A", "2024-02-20 10:00", 50, 0, "completed", "marketplace"),
    ("o3", "A", "2025-01-05 10:00", 80, 0, "completed", "marketplace"),
    ("o4", "B", "2024-01-25 10:00", 200, 50, "partially_refunded", "online_store"),
    ("o5", "B", "2024-01-25 15:00", 30, 0, "completed", "online_store"),
    ("o6", "D", "2024-02-11 10:00", 60, 0, "completed", "app"),
    ("o7", "D", "2025-02-11 10:00", 40, 0, "completed", "app"),
    ("o8", "E", "2025-01-20 10:00", 70, 0, "completed", None),
    ("o9", "F", "2024-05-06 10:00", 90, 0, "cancelled", "online_store"),
]
CLV = pl.DataFrame({"customer_id": ["A", "B", "D"], "clv": [300.0, 100.0, 500.0]})


def _build(con: duckdb.DuckDBPyConnection) -> None:
    for cid, source, created in CUSTOMERS:
        con.execute(
            "INSERT INTO customers (customer_id, acquisition_channel, created_at, is_lead) "
            "VALUES (?, ?, ?::TIMESTAMPTZ, ?)",
            [cid, source, f"{created}-03", cid == "C"],
        )
    for oid, cid, ts, gross, refunded, status, channel in ORDERS:
        con.execute(
            "INSERT INTO orders (order_id, customer_id, ordered_at, gross_amount, refunded_amount,"
            " status, sales_channel) VALUES (?, ?, ?::TIMESTAMPTZ, ?, ?, ?, ?)",
            [oid, cid, f"{ts}-03", gross, refunded, status, channel],
        )


@pytest.fixture
def facts(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    _build(con)
    summary = customer_summary(con, AS_OF)
    return acquisition_facts(summary, purchase_history(con, AS_OF), CLV, AS_OF)


def _row(frame: pl.DataFrame, **keys) -> dict:
    mask = pl.all_horizontal(pl.col(k) == v for k, v in keys.items())
    rows = frame.filter(mask)
    assert rows.height == 1, rows
    return rows.row(0, named=True)


def test_month_helpers() -> None:
    assert month_index(date(2025, 1, 31)) - month_index(date(2024, 12, 1)) == 1
    assert last_complete_month(date(2025, 6, 30)) == month_index(date(2025, 6, 1))
    assert last_complete_month(date(2025, 6, 29)) == month_index(date(2025, 5, 1))


def test_purchase_history(con: duckdb.DuckDBPyConnection) -> None:
    _build(con)
    history = purchase_history(con, AS_OF).sort("customer_id")
    assert history["customer_id"].to_list() == ["A", "B", "D", "E"]  # F never purchased
    assert history["first_value"].to_list() == [100.0, 150.0, 60.0, 70.0]  # B: 200 − 50
    jan24 = month_index(date(2024, 1, 1))
    assert history["months"][0].to_list() == [jan24, jan24 + 1, jan24 + 12]
    assert history["months"][1].to_list() == [jan24]  # two orders, one month


def test_facts_cohorts_and_retention_flags(facts: pl.DataFrame) -> None:
    assert "G" not in facts["customer_id"].to_list()  # acquired after the as-of date
    f = _row(facts, customer_id="F")
    assert (f["source"], f["bought"], f["retained"]) == ("unknown", False, None)
    assert _row(facts, customer_id="A")["retained"] is True
    assert _row(facts, customer_id="B")["retained"] is False
    assert _row(facts, customer_id="E")["retained"] is None  # Jan 2026 not over yet
    assert _row(facts, customer_id="D")["cohort"] == date(2024, 2, 1)


def test_source_performance_by_hand(facts: pl.DataFrame) -> None:
    table = source_performance(facts)
    assert table["source"].to_list() == ["referral", "paid_search", "unknown"]
    referral = _row(table, source="referral")
    assert (referral["customers"], referral["buyers"]) == (3, 2)
    assert referral["share_bought"] == pytest.approx(2 / 3)
    assert referral["first_order_value"] == pytest.approx((100 + 150) / 2)
    assert (referral["retention_12m"], referral["retention_base"]) == (0.5, 2)
    assert referral["avg_clv"] == pytest.approx(200.0)  # (300 + 100) / 2 buyers scored
    assert referral["revenue"] == pytest.approx(230 + 180)
    paid = _row(table, source="paid_search")
    assert (paid["customers"], paid["first_order_value"]) == (2, 65.0)
    assert (paid["retention_12m"], paid["retention_base"]) == (1.0, 1)
    assert paid["avg_clv"] == pytest.approx(500.0)  # E is not scored
    unknown = _row(table, source="unknown")
    assert unknown["retention_12m"] is None and unknown["first_order_value"] is None


def test_by_cohort_and_totals(facts: pl.DataFrame) -> None:
    table = source_performance(facts, ("source", "cohort"))
    jan = _row(table, source="referral", cohort=date(2024, 1, 1))
    assert (jan["customers"], jan["buyers"], jan["retention_12m"]) == (2, 2, 0.5)
    assert _row(table, source="referral", cohort=date(2024, 3, 1))["share_bought"] == 0.0
    totals = network_totals(facts)
    assert (totals["customers"], totals["buyers"]) == (6, 4)
    assert totals["retention_12m"] == pytest.approx(2 / 3)  # A, D of A, B, D


SPEND = pl.DataFrame(
    {
        "source": ["paid_search", "paid_search", "referral", "events"],
        "month": ["2024-02", "2025-01", "2026-01", "2024-02"],
        "amount": [300.0, 100.0, 999.0, 50.0],
    }
)


def test_cac_with_spend(facts: pl.DataFrame) -> None:
    cost = acquisition_cost(facts, SPEND, AS_OF)
    assert cost["source"].to_list() == ["events", "paid_search"]  # referral's is after as-of
    paid = _row(cost, source="paid_search")
    assert (paid["spend"], paid["acquired_with_spend"]) == (400.0, 2)  # D (Feb 24), E (Jan 25)
    assert paid["cac"] == pytest.approx(200.0)
    assert paid["clv_per_acquired"] == pytest.approx(250.0)  # (500 + 0) / 2
    assert paid["clv_cac"] == pytest.approx(500 / 400)
    events = _row(cost, source="events")
    assert (events["acquired_with_spend"], events["cac"], events["clv_cac"]) == (0, None, 0.0)
    by_month = acquisition_cost(facts, SPEND, AS_OF, ("source", "cohort"))
    feb = _row(by_month, source="paid_search", cohort=date(2024, 2, 1))
    assert (feb["cac"], feb["clv_cac"]) == (300.0, pytest.approx(500 / 300))


def test_cac_without_spend_is_not_provided(facts: pl.DataFrame) -> None:
    empty = SPEND.clear()
    assert acquisition_cost(facts, empty, AS_OF).is_empty()
    table = with_cost(source_performance(facts), acquisition_cost(facts, empty, AS_OF))
    assert table["cac"].null_count() == table.height  # never a made-up number
    joined = with_cost(source_performance(facts), acquisition_cost(facts, SPEND, AS_OF))
    assert _row(joined, source="events")["customers"] == 0  # spend without customers is kept
    assert _row(joined, source="referral")["cac"] is None


def test_retention_curves_by_hand(facts: pl.DataFrame) -> None:
    curves = retention_curves(facts, AS_OF)
    paid = curves.filter(pl.col("source") == "paid_search")
    share = dict(zip(paid["period"], paid["share"], strict=True))
    base = dict(zip(paid["period"], paid["eligible"], strict=True))
    assert (share[0], base[0]) == (1.0, 2)
    assert (share[1], base[1]) == (0.0, 2)
    assert (share[6], base[6]) == (0.0, 1)  # E's 6th month (July 2025) is not over
    assert (share[12], base[12]) == (1.0, 1)
    assert paid["period"].max() == 16  # Feb 2024 + 16 = June 2025, the last complete month


def test_curves_agree_with_the_cohort_table(con: duckdb.DuckDBPyConnection) -> None:
    _build(con)
    facts = acquisition_facts(customer_summary(con, AS_OF), purchase_history(con, AS_OF), None,
                              AS_OF)  # fmt: skip
    mine = retention_curves(facts, AS_OF).filter(pl.col("source") == "referral")
    ids = pl.DataFrame({"customer_id": ["A", "B", "C"]})
    table = cohort_retention(con, "month", end=AS_OF, customers=ids)
    assert table["cohort"].unique().to_list() == [date(2024, 1, 1)]
    assert mine["share"].to_list() == pytest.approx(table["share"].to_list())


def test_partner_channels_by_hand(con: duckdb.DuckDBPyConnection) -> None:
    _build(con)
    trend, table = partner_channels(con, date(2025, 1, 1), AS_OF)
    partner = _row(table.filter(pl.col("channel").is_null()), group="partner")
    assert (partner["revenue"], partner["orders"], partner["customers"]) == (80.0, 1, 1)
    assert partner["revenue_share"] == pytest.approx(80 / 190)
    own = _row(table.filter(pl.col("channel").is_null()), group="own")
    assert (own["revenue"], own["customers"]) == (110.0, 2)
    assert _row(table, group="own", channel="unknown")["revenue"] == 70.0  # no sales channel
    assert trend.rows() == [
        (date(2025, 1, 1), "own", 70.0, 1, 1),
        (date(2025, 1, 1), "partner", 80.0, 1, 1),
        (date(2025, 2, 1), "own", 40.0, 1, 1),
    ]
    _, only_d = partner_channels(con, date(2025, 1, 1), AS_OF, pl.DataFrame({"customer_id": ["D"]}))
    assert only_d.filter(pl.col("group").is_null())["revenue"].to_list() == [40.0]
    assert "partner" not in only_d["group"].to_list()


def test_empty_store(con: duckdb.DuckDBPyConnection) -> None:
    history = purchase_history(con, AS_OF)
    assert history.is_empty()
    facts = acquisition_facts(customer_summary(con, AS_OF), history, None, AS_OF)
    assert source_performance(facts).is_empty()
    assert retention_curves(facts, AS_OF).is_empty()
    assert network_totals(facts)["customers"] == 0

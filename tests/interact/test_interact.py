"""Interactions over time, contacts per customer, recency × value and rates, by hand."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl
import pytest

from crm_core import interact as ix
from crm_core.identity_merge import merge, unmerge
from crm_core.period import Period
from tests.interact.builders import insert_interactions, interactions

JUNE = Period(date(2026, 6, 1), date(2026, 6, 21))  # three ISO weeks, Monday 1 to Sunday 21

ROWS = [
    # customer, local time, channel, type, direction, outcome, campaign
    ("A", "2026-06-01 09:00", "email", "campaign", "outbound", "delivered", "Jun"),
    ("A", "2026-06-02 09:00", "email", "campaign", "outbound", "opened", "Jun"),
    ("B", "2026-06-03 09:00", "email", "campaign", "outbound", "clicked", "Jun"),
    ("B", "2026-06-08 09:00", "email", "campaign", "outbound", "converted", "Jun"),
    ("C", "2026-06-09 09:00", "email", "campaign", "outbound", "responded", "Jun"),
    ("C", "2026-06-10 09:00", "email", "campaign", "outbound", None, "Jun"),  # no outcome
    ("A", "2026-06-14 23:30", "phone", "sales", "outbound", "no_answer", None),
    ("A", "2026-06-15 10:00", "phone", "sales", "outbound", "responded", None),
    ("B", "2026-06-16 10:00", "chat", "support", "inbound", "resolved", None),
    ("B", "2026-06-17 10:00", "phone", "complaint", "inbound", "unresolved", None),
    ("C", "2026-06-18 10:00", "chat", "support", "inbound", None, None),  # still open
    ("A", "2026-06-20 10:00", "whatsapp", "campaign", "outbound", "clicked", "Promo"),
]


@pytest.fixture
def frame() -> pl.DataFrame:
    return interactions(ROWS)


def test_weekly_buckets_by_channel(frame: pl.DataFrame) -> None:
    out = ix.interactions_over_time(frame, JUNE, "channel")
    weeks = [date(2026, 6, 1), date(2026, 6, 8), date(2026, 6, 15)]
    assert out["bucket"].unique().sort().to_list() == weeks
    got = {(r["bucket"], r["value"]): r["interactions"] for r in out.iter_rows(named=True)}
    # week 1: 3 e-mails; week 2: 3 e-mails + the Sunday-night call; week 3: the rest
    assert got[(weeks[0], "email")] == 3
    assert got[(weeks[1], "email")] == 3
    assert got[(weeks[1], "phone")] == 1
    assert got[(weeks[2], "phone")] == 2
    assert got[(weeks[2], "chat")] == 2
    assert got[(weeks[2], "whatsapp")] == 1
    assert got[(weeks[0], "chat")] == 0  # the grid is complete: zeros, not gaps
    assert out.height == 3 * 4
    assert out["interactions"].sum() == len(ROWS)


def test_monthly_buckets_and_unknown_values(frame: pl.DataFrame) -> None:
    year = Period(date(2026, 1, 1), date(2026, 12, 31))
    assert ix.bucket_freq(year) == "month"
    out = ix.interactions_over_time(frame, year, "outcome")
    assert out["bucket"].n_unique() == 12
    june = out.filter(pl.col("bucket") == date(2026, 6, 1))
    got = dict(zip(june["value"], june["interactions"], strict=True))
    assert got["unknown"] == 2 and got["clicked"] == 2 and got["responded"] == 2
    assert out.filter(pl.col("bucket") == date(2026, 5, 1))["interactions"].sum() == 0


@pytest.mark.parametrize(("days", "freq"), [(1, "week"), (182, "week"), (183, "month")])
def test_bucket_frequency_follows_period_length(days: int, freq: str) -> None:
    assert ix.bucket_freq(Period.ending(date(2026, 6, 30), days)) == freq


def test_contacts_per_customer_counts_the_uncontacted(frame: pl.DataFrame) -> None:
    customers = pl.DataFrame({"customer_id": ["A", "B", "C", "D"]})
    counts = ix.contacts_per_customer(frame, customers)
    assert counts["contacts"].to_list() == [5, 4, 3, 0]
    dist = ix.contact_distribution(counts, cap=4)
    assert dist["contacts"].to_list() == [0, 1, 2, 3, 4]
    assert dist["customers"].to_list() == [1, 0, 0, 1, 2]  # 4+ holds A (5) and B (4)
    assert dist["share"].to_list() == [0.25, 0, 0, 0.25, 0.5]
    stats = ix.contact_stats(counts)
    assert stats["customers"] == 4 and stats["contacted"] == 3 and stats["interactions"] == 12
    assert stats["mean"] == pytest.approx(3.0)  # 12 / 4
    assert stats["median"] == pytest.approx(3.5)  # (3 + 4) / 2
    assert stats["never_share"] == pytest.approx(0.25)


def test_contact_stats_without_customers() -> None:
    empty = pl.DataFrame({"customer_id": [], "contacts": []}, schema={
        "customer_id": pl.String, "contacts": pl.Int64})  # fmt: skip
    assert ix.contact_stats(empty)["never_share"] is None
    assert ix.contact_distribution(empty, cap=2)["customers"].to_list() == [0, 0, 0]


@pytest.mark.parametrize(
    ("days", "label"),
    [(0, "0-7"), (7, "0-7"), (8, "8-30"), (90, "31-90"), (181, "181-365"), (365, "181-365"),
     (366, "365+"), (None, "never")],
)  # fmt: skip
def test_recency_bins(days: int | None, label: str) -> None:
    frame = pl.DataFrame({"d": [days]}, schema={"d": pl.Int64})
    assert frame.select(ix.recency_bin(pl.col("d")).alias("d"))["d"].cast(pl.String)[0] == label


def test_recency_value_bins() -> None:
    values = pl.DataFrame({
        "customer_id": ["A", "B", "C", "D", "E", "F"],
        "value": [10.0, 20.0, 30.0, 40.0, 0.0, None],
    })  # fmt: skip
    last = pl.DataFrame({
        "customer_id": ["A", "B", "C", "D"],
        "last_contact": [date(2026, 6, 29), date(2026, 6, 1), date(2026, 6, 28), date(2025, 1, 1)],
    })  # fmt: skip
    rec = ix.contact_recency(values, last, date(2026, 6, 30))
    assert rec["days_since_contact"].to_list() == [1, 29, 2, 545, None, None]
    cells = ix.recency_value_bins(rec, bands=2)
    got = {(r["recency_bin"], r["value_band"]): r["customers"] for r in cells.iter_rows(named=True)}
    # positive values 10, 20 | 30, 40 → bands 1 | 2; zero and unknown → band 0
    assert got == {("0-7", 1): 1, ("0-7", 2): 1, ("8-30", 1): 1, ("365+", 2): 1, ("never", 0): 2}
    band2 = cells.filter(pl.col("value_band") == 2)
    assert band2["band_min"].to_list() == [30.0, 30.0] and band2["band_max"].to_list() == [40.0] * 2


def test_channel_rates_by_hand(frame: pl.DataFrame) -> None:
    rates = {r["channel"]: r for r in ix.channel_rates(frame).iter_rows(named=True)}
    email = rates["email"]
    # outbound with an outcome: delivered, opened, clicked, converted, responded (the 6th has none)
    assert (email["interactions"], email["outbound"], email["responses"]) == (6, 5, 3)
    assert email["response_rate"] == pytest.approx(3 / 5)
    assert email["conversion_rate"] == pytest.approx(1 / 5)
    assert email["cases"] == 0 and email["resolution_rate"] is None
    phone = rates["phone"]  # two sales calls (one answered) and an unresolved complaint
    assert (phone["outbound"], phone["responses"], phone["response_rate"]) == (2, 1, 0.5)
    assert (phone["cases"], phone["resolved"], phone["resolution_rate"]) == (1, 0, 0.0)
    chat = rates["chat"]  # one resolved, one still open (left out)
    assert (chat["cases"], chat["resolved"], chat["resolution_rate"]) == (1, 1, 1.0)
    assert chat["outbound"] == 0 and chat["response_rate"] is None
    assert ix.channel_rates(frame)["channel"][0] == "email"  # most interactions first


def test_campaign_rates_by_hand(frame: pl.DataFrame) -> None:
    rates = ix.campaign_rates(frame)
    assert rates["campaign"].to_list() == ["Promo", "Jun"]  # latest first send first
    jun = rates.row(1, named=True)
    assert (jun["channel"], jun["first_day"], jun["last_day"]) == (
        "email", date(2026, 6, 1), date(2026, 6, 10))  # fmt: skip
    assert (jun["outbound"], jun["responses"], jun["conversions"]) == (5, 3, 1)
    assert jun["response_rate"] == pytest.approx(0.6)
    promo = rates.row(0, named=True)
    assert (promo["channel"], promo["outbound"], promo["response_rate"]) == ("whatsapp", 1, 1.0)


def test_period_interactions_count_local_days(con: duckdb.DuckDBPyConnection) -> None:
    insert_interactions(con, [
        ("A", "2026-05-31 23:30", "email", "campaign", "outbound", "delivered", None),
        ("A", "2026-06-01 00:10", "email", "campaign", "outbound", "opened", None),
        ("B", "2026-06-21 23:50", "phone", "sales", "outbound", "responded", None),
        ("B", "2026-06-22 00:00", "phone", "sales", "outbound", "responded", None),
    ])  # fmt: skip
    frame = ix.period_interactions(con, JUNE)
    assert frame.columns == list(ix.INTERACTION_COLUMNS)
    assert sorted(frame["day"].to_list()) == [date(2026, 6, 1), date(2026, 6, 21)]
    last = ix.last_contacts(con, date(2026, 6, 21)).sort("customer_id")
    assert last.rows() == [("A", date(2026, 6, 1)), ("B", date(2026, 6, 21))]


def test_erased_customers_are_left_out(con: duckdb.DuckDBPyConnection) -> None:
    insert_interactions(con, [
        ("A", "2026-06-02 10:00", "email", "campaign", "outbound", "delivered", None),
        ("Z", "2026-06-02 10:00", "email", "campaign", "outbound", "delivered", None),
    ])  # fmt: skip
    con.execute("UPDATE customers SET erased_at = now() WHERE customer_id = 'Z'")
    assert ix.period_interactions(con, JUNE)["customer_id"].to_list() == ["A"]
    assert ix.last_contacts(con, date(2026, 6, 30))["customer_id"].to_list() == ["A"]


def test_code_labels() -> None:
    assert ix.code_label("channel", "visit", "pt_BR") == "Visita à loja"
    assert ix.code_label("outcome", "no_answer", "en") == "No answer"
    assert ix.code_label("channel", "telegram", "en") == "telegram"  # a source's own code


def test_merged_customers_count_under_their_golden_record(con: duckdb.DuckDBPyConnection) -> None:
    insert_interactions(con, [
        ("A", "2026-06-02 10:00", "email", "campaign", "outbound", "delivered", None),
        ("A2", "2026-06-20 10:00", "phone", "support", "inbound", "resolved", None),
    ])  # fmt: skip
    merge(con, ["A2"], "A", actor="test")
    assert ix.period_interactions(con, JUNE)["customer_id"].to_list() == ["A", "A"]
    assert ix.last_contacts(con, date(2026, 6, 30)).rows() == [("A", date(2026, 6, 20))]
    unmerge(con, "A2", actor="test")
    assert sorted(ix.period_interactions(con, JUNE)["customer_id"].to_list()) == ["A", "A2"]

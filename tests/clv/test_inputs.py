"""Transactions → frequency, recency, T, monetary: hand-built cases, Hardie's summary, the store."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from crm_core.clv import calibration_holdout, rfm_inputs, transactions_from_store
from crm_core.errors import VinculoError
from tests.clv.conftest import CALIBRATION_END, HOLDOUT_END


def tiny_transactions() -> pl.DataFrame:
    """Ann: two orders on 1 Jan, then 8 Jan, 22 Jan, and 10 Feb (after the cut-off).
    Bob: one order on 15 Jan. Cid: first order after the cut-off."""
    rows = [
        ("ann", date(2024, 1, 1), 10.0),
        ("ann", date(2024, 1, 1), 5.0),
        ("ann", date(2024, 1, 8), 20.0),
        ("ann", date(2024, 1, 22), 30.0),
        ("ann", date(2024, 2, 10), 40.0),
        ("bob", date(2024, 1, 15), 12.0),
        ("cid", date(2024, 2, 3), 99.0),
    ]
    return pl.DataFrame(rows, schema=["who", "when", "paid"], orient="row")


def test_rfm_inputs_by_hand_in_weeks_and_days():
    tx = tiny_transactions()
    cols = {"customer_col": "who", "date_col": "when", "amount_col": "paid"}
    weeks = rfm_inputs(tx, date(2024, 1, 31), "week", **cols)
    assert weeks["customer_id"].to_list() == ["ann", "bob"]  # cid is not yet a customer
    ann, bob = weeks.rows(named=True)
    # Ann: purchase days 1, 8, 22 Jan → x = 2, t_x = 21 days = 3 weeks, T = 30 days,
    # monetary = mean of the repeat days (20 + 30) / 2 = 25; the first day is excluded.
    assert (ann["frequency"], ann["recency"], ann["T"], ann["monetary"]) == pytest.approx(
        (2, 3.0, 30 / 7, 25.0)
    )
    assert (bob["frequency"], bob["recency"], bob["T"], bob["monetary"]) == pytest.approx(
        (0, 0.0, 16 / 7, 0.0)
    )
    days = rfm_inputs(tx, date(2024, 1, 31), "day", **cols)
    assert days.row(0, named=True)["recency"] == 21.0 and days.row(0, named=True)["T"] == 30.0


def test_calibration_holdout_counts_holdout_purchase_days():
    tx = tiny_transactions()
    frame = calibration_holdout(
        tx,
        date(2024, 1, 31),
        date(2024, 2, 29),
        "day",
        customer_col="who",
        date_col="when",
        amount_col="paid",
    )
    assert frame["holdout_frequency"].to_list() == [1, 0]
    assert frame["holdout_duration"].to_list() == [29.0, 29.0]


def test_bad_arguments_raise_user_errors():
    tx = tiny_transactions()
    with pytest.raises(VinculoError) as caught:
        rfm_inputs(tx, date(2024, 1, 31), "month", "who", "when", "paid")
    assert caught.value.key == "clv.bad_time_unit"
    with pytest.raises(VinculoError) as caught:
        rfm_inputs(tx, date(2024, 1, 31))
    assert caught.value.key == "clv.missing_column"
    with pytest.raises(VinculoError) as caught:
        calibration_holdout(tx, date(2024, 1, 31), date(2024, 1, 31), "day", "who", "when", "paid")
    assert caught.value.key == "clv.bad_period"


def test_cdnow_inputs_match_hardies_published_summary(cdnow, hardie_summary):
    ours = rfm_inputs(cdnow, CALIBRATION_END, "week")
    both = ours.join(hardie_summary, left_on="customer_id", right_on="ID", how="full")
    assert ours.height == hardie_summary.height == both.height == 2357
    assert (both["frequency"] == both["x"]).all()
    assert ((both["recency"] - both["t_x"]).abs() < 0.0051).all()
    assert ((both["T"] - both["T_right"]).abs() < 0.0051).all()
    assert ((both["monetary"] - both["zbar"]).abs() < 0.0051).all()


def test_cdnow_holdout_counts_by_plain_python(cdnow):
    frame = calibration_holdout(cdnow, CALIBRATION_END, HOLDOUT_END, "week")
    holdout_days: dict[int, set[date]] = {}
    for customer, day in zip(cdnow["customer_id"], cdnow["date"], strict=True):
        if CALIBRATION_END < day <= HOLDOUT_END:
            holdout_days.setdefault(customer, set()).add(day)
    assert frame["holdout_frequency"].sum() == sum(len(d) for d in holdout_days.values())
    assert frame["holdout_duration"][0] == 39.0  # weeks 40–78


def insert_orders(con, rows):
    """Orders as (order_id, customer_id, ordered_at ISO with offset, gross, refunded, status)."""
    for order_id, customer, at, gross, refunded, status in rows:
        con.execute(
            "INSERT INTO orders (order_id, customer_id, ordered_at, gross_amount, refunded_amount,"
            " status) VALUES (?, ?, CAST(? AS TIMESTAMPTZ), ?, ?, ?)",
            [order_id, customer, at, gross, refunded, status],
        ).fetchall()


def test_transactions_from_store_uses_business_days_and_net_purchases(con):
    insert_orders(
        con,
        [
            # 01:30 UTC on 2 Jan is 22:30 on 1 Jan in São Paulo (UTC−3): same day as o2.
            ("o1", "ann", "2024-01-02 01:30:00+00", 100.0, 0.0, "completed"),
            ("o2", "ann", "2024-01-01 10:00:00-03", 50.0, 20.0, "partially_refunded"),
            ("o3", "ann", "2024-01-05 10:00:00-03", 70.0, 0.0, "cancelled"),
            ("o4", "ann", "2024-01-06 10:00:00-03", 80.0, 80.0, "refunded"),
            ("o5", "bob", "2024-01-03 10:00:00-03", 40.0, 0.0, "completed"),
            ("o6", "bob", "2024-02-03 10:00:00-03", 40.0, 0.0, "completed"),
        ],
    )
    tx = transactions_from_store(con, date(2024, 1, 31))
    assert tx.rows() == [("ann", date(2024, 1, 1), 130.0), ("bob", date(2024, 1, 3), 40.0)]

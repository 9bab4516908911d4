"""Calibration/holdout check on CDNOW and on a hand-built case."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from crm_core.clv import BetaGeoModel, customer_days, holdout_check, tracking_curve
from tests.clv.conftest import CALIBRATION_END, HOLDOUT_END, PUBLISHED_BGNBD, sig_figs


@pytest.fixture(scope="module")
def cdnow_check(cdnow):
    return holdout_check(cdnow, CALIBRATION_END, HOLDOUT_END, "week")


def test_fit_inside_the_check_is_the_published_one(cdnow_check):
    model, _ = cdnow_check
    assert {k: sig_figs(v) for k, v in model.params_.items()} == {
        k: sig_figs(v) for k, v in PUBLISHED_BGNBD.items()
    }


def test_totals_and_frequency_buckets(cdnow_check, cdnow, hardie_summary):
    model, check = cdnow_check
    assert check.customers == 2357 and check.holdout_duration == 39.0
    table = check.by_frequency
    assert table["frequency_bucket"].to_list() == ["0", "1", "2", "3", "4", "5", "6", "7+"]
    assert table["customers"].sum() == 2357
    # Bucket sizes from Hardie's summary (independent of our input code).
    counts = hardie_summary.group_by(pl.col("x").clip(upper_bound=7)).len().sort("x")
    assert table["customers"].to_list() == counts["len"].to_list()
    # The total prediction is the sum of each customer's conditional expectation.
    direct = model.conditional_expected_purchases(
        39.0, hardie_summary["x"], hardie_summary["t_x"], hardie_summary["T"]
    ).sum()
    assert check.predicted_repeat_purchases == pytest.approx(direct, rel=1e-3)
    weighted_mean = (table["predicted_mean"] * table["customers"]).sum() / 2357
    assert weighted_mean * 2357 == pytest.approx(check.predicted_repeat_purchases)
    assert 0.7 < check.predicted_repeat_purchases / check.actual_repeat_purchases < 1.1


def test_tracking_curve_counts_and_predictions(cdnow_check, cdnow, hardie_summary):
    model, check = cdnow_check
    curve = check.tracking
    assert curve.height == 78 and curve["week_end"][38] == CALIBRATION_END
    assert curve["week_end"][-1] == HOLDOUT_END
    # Repeat purchase days by the end of the calibration = Σ x in Hardie's summary.
    assert curve["actual_cumulative"][38] == hardie_summary["x"].sum()
    assert curve["actual_cumulative"][-1] - curve["actual_cumulative"][38] == (
        check.actual_repeat_purchases
    )
    # Predicted: Σ over customers of E[X(week end − first purchase)], customer by customer.
    firsts = cdnow.group_by("customer_id").agg(pl.col("date").min())["date"]
    elapsed = np.array([(HOLDOUT_END - d).days / 7 for d in firsts])
    assert curve["predicted_cumulative"][-1] == pytest.approx(
        model.expected_purchases(elapsed).sum(), rel=1e-9
    )
    assert np.all(np.diff(curve["predicted_cumulative"].to_numpy()) > 0)


def test_tracking_curve_by_hand():
    days = customer_days(
        pl.DataFrame(
            {
                "customer_id": ["a", "a", "a", "b", "b"],
                "date": [
                    date(2024, 1, 1),
                    date(2024, 1, 3),
                    date(2024, 1, 9),
                    date(2024, 1, 8),
                    date(2024, 1, 15),
                ],
                "amount": [1.0] * 5,
            }
        )
    )
    model = BetaGeoModel()
    model.params_ = dict(PUBLISHED_BGNBD)
    curve = tracking_curve(model, days, date(2024, 1, 10), date(2024, 1, 16), "day")
    # Weeks: 1–7 Jan, 8–14 Jan, 15–16 Jan. Repeats: a on 3 and 9 Jan, b on 15 Jan.
    assert curve["week_end"].to_list() == [date(2024, 1, 7), date(2024, 1, 14), date(2024, 1, 16)]
    assert curve["actual_cumulative"].to_list() == [1, 2, 3]
    # a first bought on 1 Jan, b on 8 Jan: elapsed days at each week end.
    expected = [
        model.expected_purchases(6.0)[()] + 0.0,
        model.expected_purchases(13.0)[()] + model.expected_purchases(6.0)[()],
        model.expected_purchases(15.0)[()] + model.expected_purchases(8.0)[()],
    ]
    assert curve["predicted_cumulative"].to_list() == pytest.approx(expected)


def test_check_serialises_to_plain_json(cdnow_check):
    import json

    payload = cdnow_check[1].to_dict()
    assert (
        json.loads(json.dumps(payload))["actual_repeat_purchases"]
        == payload["actual_repeat_purchases"]
    )
    assert {"predicted_repeat_purchases", "by_frequency", "tracking"} <= payload.keys()

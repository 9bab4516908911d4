"""Discounted CLV: identities with the expected purchases, hand-computed discounting, units."""

from __future__ import annotations

import numpy as np
import pytest

from crm_core.clv import BetaGeoModel, customer_lifetime_value, discounted_purchases
from crm_core.clv.value import MONTH_DAYS
from crm_core.errors import VinculoError
from tests.clv.conftest import PUBLISHED_BGNBD

X = np.array([0.0, 1.0, 2.0, 7.0, 2.0, 0.0])
TX = np.array([0.0, 1.71, 30.43, 35.0, 30.43, 0.0])
T = np.array([38.86, 38.86, 38.86, 36.0, 38.86, 20.0])
WEEKS_PER_MONTH = MONTH_DAYS / 7


def model(alpha_scale: float = 1.0) -> BetaGeoModel:
    fitted = BetaGeoModel()
    fitted.params_ = {**PUBLISHED_BGNBD, "alpha": PUBLISHED_BGNBD["alpha"] * alpha_scale}
    return fitted


def test_undiscounted_clv_is_spend_times_expected_purchases_over_horizon():
    spend = np.array([30.0, 20.0, 25.0, 40.0, 25.0, 30.0])
    clv = customer_lifetime_value(model(), spend, X, TX, T, horizon_months=12, discount_rate=0.0)
    expected = model().conditional_expected_purchases(12 * WEEKS_PER_MONTH, X, TX, T)
    assert clv == pytest.approx(spend * expected, rel=1e-9)


def test_discounting_and_margin_by_hand_over_two_months():
    m = model()
    e1 = m.conditional_expected_purchases(WEEKS_PER_MONTH, X, TX, T)
    e2 = m.conditional_expected_purchases(2 * WEEKS_PER_MONTH, X, TX, T)
    by_hand = 0.4 * 50.0 * (e1 / 1.05 + (e2 - e1) / 1.05**2)
    clv = customer_lifetime_value(
        m, 50.0, X, TX, T, horizon_months=2, discount_rate=0.05, margin=0.4
    )
    assert clv == pytest.approx(by_hand, rel=1e-9)


def test_same_customers_in_days_give_the_same_value():
    # α is in the time unit: the same population in days has α × 7.
    in_weeks = discounted_purchases(model(), X, TX, T, time_unit="week")
    in_days = discounted_purchases(model(7.0), X, TX * 7, T * 7, time_unit="day")
    assert in_days == pytest.approx(in_weeks, rel=1e-9)


def test_higher_discount_rate_lowers_value_and_identical_customers_match():
    low = discounted_purchases(model(), X, TX, T, discount_rate=0.0)
    high = discounted_purchases(model(), X, TX, T, discount_rate=0.05)
    assert np.all(high < low) and np.all(high > 0)
    assert high[2] == high[4]  # customers 2 and 4 are identical


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"margin": 1.5}, "clv.bad_margin"),
        ({"discount_rate": -0.01}, "clv.bad_discount"),
        ({"horizon_months": 0}, "clv.bad_horizon"),
        ({"horizon_months": 2.5}, "clv.bad_horizon"),
        ({"time_unit": "month"}, "clv.bad_time_unit"),
    ],
)
def test_bad_terms_raise_user_errors(kwargs, key):
    with pytest.raises(VinculoError) as caught:
        customer_lifetime_value(model(), 10.0, X, TX, T, **kwargs)
    assert caught.value.key == key

"""BG/NBD: published CDNOW results, hand-checkable identities, errors and stability."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import check_grad
from scipy.special import hyp2f1

from crm_core.clv import BetaGeoModel
from crm_core.clv.bgnbd import _neg_loglik, _prepare
from crm_core.errors import VinculoError
from tests.clv.conftest import PUBLISHED_BGNBD, PUBLISHED_LL, sig_figs


def published_model() -> BetaGeoModel:
    model = BetaGeoModel()
    model.params_ = dict(PUBLISHED_BGNBD)
    return model


def test_fit_on_hardie_summary_reproduces_published_parameters(hardie_summary):
    model = BetaGeoModel().fit(hardie_summary["x"], hardie_summary["t_x"], hardie_summary["T"])
    assert model.params_ is not None
    for name, published in PUBLISHED_BGNBD.items():
        assert sig_figs(model.params_[name]) == sig_figs(published), name
        assert round(model.params_[name], 3) == published, name  # the published precision
    assert model.log_likelihood_ == pytest.approx(PUBLISHED_LL, abs=0.05)


def test_log_likelihood_at_published_parameters_is_published_value(hardie_summary):
    ll = published_model().log_likelihood(
        hardie_summary["x"], hardie_summary["t_x"], hardie_summary["T"]
    )
    # The published parameters are rounded to 3 decimals, so allow a little slack.
    assert ll.sum() == pytest.approx(PUBLISHED_LL, abs=0.1)


def test_golden_conditional_expectation_for_cdnow_customer():
    # FHL 2005: x = 2, t_x = 30.43, T = 38.86 weeks expects 1.226 purchases in 39 weeks.
    expected = published_model().conditional_expected_purchases(39, 2, 30.43, 38.86)
    assert expected[0] == pytest.approx(1.226, abs=5e-4)


def test_unconditional_expectation_matches_closed_form_by_hand():
    # E[X(t)] = (a+b-1)/(a-1) [1 - (α/(α+t))^r 2F1(r, b; a+b-1; t/(α+t))]  (FHL eq. 9),
    # evaluated here with the untransformed hypergeometric function.
    r, alpha, a, b = PUBLISHED_BGNBD.values()
    t = np.array([1.0, 39.0, 78.0])
    direct = (
        (a + b - 1)
        / (a - 1)
        * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))
    )
    assert published_model().expected_purchases(t) == pytest.approx(direct, rel=1e-10)
    assert published_model().expected_purchases(0.0) == pytest.approx(0.0, abs=1e-15)


@pytest.mark.parametrize("x", [1, 5, 20, 60])
def test_euler_form_equals_raw_formula_where_raw_is_finite(x):
    r, alpha, a, b = PUBLISHED_BGNBD.values()
    t, tx, T = 39.0, 0.8 * 38.86, 38.86
    z = t / (alpha + T + t)
    raw_growth = (
        (a + b + x - 1)
        / (a - 1)
        * (1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z))
    )
    alive = 1 / (1 + a / (b + x - 1) * ((alpha + T) / (alpha + tx)) ** (r + x))
    ours = published_model().conditional_expected_purchases(t, x, tx, T)
    assert ours[0] == pytest.approx(raw_growth * alive, rel=1e-8)


@pytest.mark.parametrize("T", [38.86, 500.0, 5000.0])
def test_large_frequency_stays_finite_and_sensible(T):
    model = published_model()
    x = np.array([100.0, 500.0, 2000.0])
    tx = T  # bought at the very end: almost surely alive
    expected = model.conditional_expected_purchases(52.0, x, tx, T)
    alive = model.probability_alive(x, tx, T)
    assert np.all(np.isfinite(expected)) and np.all(np.isfinite(alive))
    assert np.all(np.diff(expected) > 0)  # more past purchases, more future ones
    # A very active, recent customer buys at about (r+x)/(α+T) per week while alive.
    rate = (PUBLISHED_BGNBD["r"] + x) / (PUBLISHED_BGNBD["alpha"] + T)
    assert np.all(expected <= rate * 52.0 * 1.0001)


def test_fit_is_finite_with_very_frequent_buyers(hardie_summary):
    x = np.concatenate([hardie_summary["x"].to_numpy(), [400.0, 600.0]])
    tx = np.concatenate([hardie_summary["t_x"].to_numpy(), [38.5, 38.8]])
    T = np.concatenate([hardie_summary["T"].to_numpy(), [38.86, 38.86]])  # noqa: N806
    model = BetaGeoModel().fit(x, tx, T)
    assert model.log_likelihood_ is not None and np.isfinite(model.log_likelihood_)


def test_weights_give_the_same_fit_as_repeated_rows(hardie_summary):
    x, tx, T = (hardie_summary[c].to_numpy() for c in ("x", "t_x", "T"))  # noqa: N806
    doubled = BetaGeoModel().fit(np.tile(x, 2), np.tile(tx, 2), np.tile(T, 2))
    weighted = BetaGeoModel().fit(x, tx, T, weights=np.full(len(x), 2.0))
    assert doubled.params_ == pytest.approx(weighted.params_, rel=1e-4)
    assert doubled.log_likelihood_ == pytest.approx(weighted.log_likelihood_, rel=1e-8)


def test_analytic_gradient_matches_finite_differences(hardie_summary):
    data = _prepare(*(hardie_summary[c].to_numpy().astype(float) for c in ("x", "t_x", "T")), None)
    point = np.log([0.5, 3.0, 0.6, 2.0])
    error = check_grad(lambda p: _neg_loglik(p, data)[0], lambda p: _neg_loglik(p, data)[1], point)
    assert error < 1e-5


def test_unfitted_model_raises_clear_error():
    with pytest.raises(VinculoError) as caught:
        BetaGeoModel().probability_alive(1, 1.0, 2.0)
    assert caught.value.key == "clv.unfitted"
    assert "fit()" in caught.value.message("en")
    assert "ajustado" in caught.value.message("pt_BR")


@pytest.mark.parametrize(
    ("repeaters", "customers"),
    [(9, 100), (10, 1000)],  # fewer than 10 repeat buyers; fewer than 2 % of customers
)
def test_thin_data_raises_localized_error(repeaters, customers):
    x = np.zeros(customers)
    x[:repeaters] = 1
    tx = np.where(x > 0, 5.0, 0.0)
    with pytest.raises(VinculoError) as caught:
        BetaGeoModel().fit(x, tx, np.full(customers, 10.0))
    assert caught.value.key == "clv.thin_data"
    assert f"{repeaters} of {customers}" in caught.value.message("en")
    assert f"{repeaters} de {customers}" in caught.value.message("pt_BR")


@pytest.mark.parametrize(
    ("x", "tx", "T"),
    [
        ([-1], [0.0], [5.0]),
        ([1], [6.0], [5.0]),
        ([0], [2.0], [5.0]),
        ([1.5], [1.0], [5.0]),
        ([1, 2], [1.0], [5.0, 6.0, 7.0]),
        ([np.nan], [1.0], [5.0]),
    ],
)
def test_invalid_inputs_raise_user_errors(x, tx, T):  # noqa: N803
    with pytest.raises(VinculoError) as caught:
        published_model().probability_alive(x, tx, T)
    assert caught.value.key == "clv.bad_input"


@settings(max_examples=60, deadline=None)
@given(
    x=st.integers(0, 800),
    T=st.floats(0.5, 3000.0),
    share=st.floats(0.0, 1.0),
    t=st.floats(0.0, 500.0),
)
def test_probabilities_and_expectations_are_well_behaved(x, T, share, t):  # noqa: N803
    model = published_model()
    tx = T * share if x > 0 else 0.0
    alive = model.probability_alive(x, tx, T)[0]
    assert 0.0 <= alive <= 1.0
    if x == 0:
        assert alive == 1.0
    expected = model.conditional_expected_purchases(t, x, tx, T)[0]
    later = model.conditional_expected_purchases(t + 10.0, x, tx, T)[0]
    assert np.isfinite(expected) and expected >= -1e-12
    assert later >= expected - 1e-9


@settings(max_examples=40, deadline=None)
@given(x=st.integers(1, 300), T=st.floats(1.0, 2000.0), low=st.floats(0.0, 0.98))
def test_more_recent_last_purchase_means_more_likely_alive(x, T, low):  # noqa: N803
    model = published_model()
    early, late = model.probability_alive([x, x], [low * T, (low + 0.02) * T], T)
    assert late >= early

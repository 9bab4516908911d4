"""Parameter recovery: data simulated from known parameters is fitted back within sampling error.

Sampling error is the standard error from the observed information: the inverse
Hessian of the mean negative log-likelihood at the estimate, divided by n.
"""

from __future__ import annotations

import numpy as np
import pytest

from crm_core.clv import BetaGeoModel, GammaGammaModel
from crm_core.clv._base import inverse_hessian
from crm_core.clv.bgnbd import _neg_loglik as bgnbd_nll
from crm_core.clv.bgnbd import _prepare
from crm_core.clv.gamma_gamma import _assemble
from crm_core.clv.gamma_gamma import _neg_loglik as gg_nll
from crm_core.clv.simulate import simulate_bgnbd, simulate_spend

BGNBD = {"r": 0.5, "alpha": 6.0, "a": 0.7, "b": 2.5}
GG = {"p": 5.0, "q": 3.5, "gamma": 20.0}


def within_sampling_error(estimate: dict, truth: dict, hess_inv: np.ndarray, n: float) -> None:
    log_error = np.log(list(estimate.values())) - np.log(list(truth.values()))
    standard_error = np.sqrt(np.diag(hess_inv) / n)
    assert np.all(np.abs(log_error) < 4 * standard_error), (estimate, standard_error)


def simulated(customers: int, seed: int):
    rng = np.random.default_rng(seed)
    T = rng.integers(7, 365, customers) / 7.0  # noqa: N806
    x, tx = simulate_bgnbd(T, **BGNBD, rng=rng)
    return x, tx, T, simulate_spend(x, **GG, rng=rng)


@pytest.mark.parametrize("seed", [1, 2])
def test_bgnbd_recovers_simulated_parameters(seed):
    x, tx, T, _ = simulated(30_000, seed)  # noqa: N806
    model = BetaGeoModel().fit(x, tx, T)
    data = _prepare(x, tx, T, None)
    hess_inv = inverse_hessian(lambda p: bgnbd_nll(p, data), np.log(list(model.params_.values())))
    within_sampling_error(model.params_, BGNBD, hess_inv, len(x))


@pytest.mark.parametrize("seed", [1, 2])
def test_gamma_gamma_recovers_simulated_parameters(seed):
    x, _, _, m = simulated(30_000, seed)
    rep = x > 0
    model = GammaGammaModel().fit(x[rep], m[rep])
    data = _assemble(x[rep], m[rep], np.ones(rep.sum()))
    hess_inv = inverse_hessian(lambda p: gg_nll(p, data), np.log(list(model.params_.values())))
    within_sampling_error(model.params_, GG, hess_inv, rep.sum())


def test_simulated_purchases_match_the_model_mean():
    # E[X(T)] (FHL eq. 9) against the mean of 200,000 simulated customers, all with T = 52.
    rng = np.random.default_rng(7)
    x, _ = simulate_bgnbd(np.full(200_000, 52.0), **BGNBD, rng=rng)
    model = BetaGeoModel()
    model.params_ = dict(BGNBD)
    assert abs(x.mean() - model.expected_purchases(52.0)) < 4 * x.std() / np.sqrt(len(x))


@pytest.mark.slow
def test_large_fit_takes_the_warm_start_path_and_recovers():
    # Over 200,000 distinct rows the fit starts from a sample fit; it must still be the MLE.
    x, tx, T, m = simulated(600_000, 3)  # noqa: N806
    model = BetaGeoModel().fit(x, tx, T)
    data = _prepare(x, tx, T, None)
    log_params = np.log(list(model.params_.values()))
    assert np.max(np.abs(bgnbd_nll(log_params, data)[1])) < 1e-5  # gradient ≈ 0
    hess_inv = inverse_hessian(lambda p: bgnbd_nll(p, data), log_params)
    within_sampling_error(model.params_, BGNBD, hess_inv, len(x))
    rep = (x > 0) & (m > 0)
    spend = GammaGammaModel().fit(x[rep], m[rep])
    spend_data = _assemble(x[rep], m[rep], np.ones(rep.sum()))
    spend_log = np.log(list(spend.params_.values()))
    assert np.max(np.abs(gg_nll(spend_log, spend_data)[1])) < 1e-5

"""Gamma-Gamma: published CDNOW parameters, the hand-computed conditional mean, errors."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from crm_core.clv import GammaGammaModel, rfm_inputs
from crm_core.errors import VinculoError
from tests.clv.conftest import CALIBRATION_END, PUBLISHED_GG, sig_figs


def test_fit_on_hardie_summary_reproduces_published_parameters(hardie_summary):
    repeaters = hardie_summary.filter(pl.col("x") > 0)
    assert repeaters.height == 946  # the 946 repeat buyers of FHL's spend model
    model = GammaGammaModel().fit(repeaters["x"], repeaters["zbar"])
    assert model.params_ is not None
    for name, published in PUBLISHED_GG.items():
        assert sig_figs(model.params_[name]) == sig_figs(published), name


def test_fit_on_raw_cdnow_transactions_reproduces_published_parameters(cdnow):
    inputs = rfm_inputs(cdnow, CALIBRATION_END, "week").filter(pl.col("frequency") > 0)
    model = GammaGammaModel().fit(inputs["frequency"], inputs["monetary"])
    assert model.params_ is not None
    for name, published in PUBLISHED_GG.items():
        assert sig_figs(model.params_[name]) == sig_figs(published), name


def test_conditional_expected_spend_by_hand():
    model = GammaGammaModel()
    model.params_ = {"p": 6.0, "q": 4.0, "gamma": 15.0}
    # (γ + x m̄) p / (p x + q − 1): x = 2, m̄ = 30 → (15 + 60)·6 / (12 + 3) = 30.
    # x = 0 → population mean pγ/(q − 1) = 90 / 3 = 30 as well; x = 1, m̄ = 50 → 65·6/9.
    spend = model.conditional_expected_average_profit([2, 0, 1], [30.0, 0.0, 50.0])
    assert spend == pytest.approx([30.0, 30.0, 65 * 6 / 9])
    assert model.mean_spend() == pytest.approx(30.0)


def test_expected_spend_moves_from_population_mean_towards_own_mean():
    model = GammaGammaModel()
    model.params_ = dict(PUBLISHED_GG)
    x = np.array([1, 5, 50, 500])
    spend = model.conditional_expected_average_profit(x, np.full(4, 100.0))
    assert np.all(np.diff(spend) > 0) and spend[-1] < 100.0 and spend[-1] > 99.0


@pytest.mark.parametrize(
    ("x", "m", "key"),
    [
        ([1, 2, 0] * 5, [10.0, 20.0, 5.0] * 5, "clv.spend_needs_repeaters"),
        ([1, 2, 3] * 5, [10.0, 0.0, 5.0] * 5, "clv.nonpositive_spend"),
        ([1, 2, 3] * 5, [10.0, -3.0, 5.0] * 5, "clv.nonpositive_spend"),
        ([1, 2, 3], [10.0, 20.0, 5.0], "clv.thin_spend"),
    ],
)
def test_bad_spend_data_raises_clear_error(x, m, key):
    with pytest.raises(VinculoError) as caught:
        GammaGammaModel().fit(x, m)
    assert caught.value.key == key
    assert caught.value.message("pt_BR") != key


def test_unfitted_model_raises_clear_error():
    with pytest.raises(VinculoError) as caught:
        GammaGammaModel().conditional_expected_average_profit([1], [10.0])
    assert caught.value.key == "clv.unfitted"

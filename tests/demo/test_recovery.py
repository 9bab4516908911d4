"""An independent estimator recovers the demo's true BG/NBD and Gamma-Gamma parameters.

The estimators are the app's own maximum-likelihood fits (`crm_core.clv`);
the golden values are the generator's true parameters (`DemoParams`).
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from crm_core.clv.bgnbd import BetaGeoModel
from crm_core.clv.gamma_gamma import GammaGammaModel
from crm_core.demo.params import DemoParams
from crm_core.demo.process import simulate_purchases


@pytest.mark.slow
def test_bg_nbd_and_gamma_gamma_fits_recover_the_truth() -> None:
    params = DemoParams()
    rng = np.random.default_rng(21)
    n = 30_000
    acquired = rng.uniform(0, params.history_days, n)
    history = simulate_purchases(acquired, np.ones(n, bool), np.zeros(n, bool), params, rng)
    tenure = params.history_days - acquired
    recency = np.where(history.n_repeat > 0, history.last_order - acquired, 0.0)
    fitted = BetaGeoModel().fit(history.n_repeat, recency, tenure).params_
    assert fitted is not None
    for name, truth in (("r", params.r), ("alpha", params.alpha), ("a", params.a), ("b", params.b)):
        assert fitted[name] == pytest.approx(truth, rel=0.15), name
    repeat = (
        pl.DataFrame({"p": history.order_person, "k": history.order_rank, "v": history.order_value})
        .filter(pl.col("k") > 0)
        .group_by("p")
        .agg(x=pl.len(), m=pl.col("v").mean())
    )
    spend = GammaGammaModel().fit(repeat["x"].to_numpy(), repeat["m"].to_numpy()).params_
    assert spend is not None
    for name, truth in (("p", params.gg_p), ("q", params.gg_q), ("gamma", params.gg_gamma)):
        assert spend[name] == pytest.approx(truth, rel=0.15), name

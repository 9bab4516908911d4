"""Fitting once and scoring with other CLV terms gives what a full refit gives."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from crm_core import store
from crm_core.clv import fit_clv, fit_models, score_fitted
from crm_core.demo import build_demo


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clvsplit") / "crm.duckdb"
    build_demo(path, customers=1500, seed=9, as_of=date(2026, 6, 30))
    return path


@pytest.mark.parametrize(("horizon", "discount", "margin"), [(12, 0.01, 1.0), (36, 0.02, 0.4)])
def test_score_fitted_equals_fit_clv(demo: Path, horizon: int, discount: float, margin: float):
    with store.connect(demo) as con:
        fitted = fit_models(con, calibration_end=date(2026, 3, 31), time_unit="week")
        full = fit_clv(con, calibration_end=date(2026, 3, 31), horizon=horizon,
                       discount_rate=discount, margin=margin)  # fmt: skip
    scored = score_fitted(fitted, horizon=horizon, discount_rate=discount, margin=margin)
    assert scored.bgnbd == pytest.approx(full.bgnbd)
    assert scored.customers["clv"].to_list() == pytest.approx(full.customers["clv"].to_list())
    assert scored.horizon_months == horizon


def test_longer_horizon_means_more_value(demo: Path) -> None:
    with store.connect(demo) as con:
        fitted = fit_models(con, calibration_end=date(2026, 3, 31))
    short = score_fitted(fitted, horizon=6).customers["clv"].sum()
    long = score_fitted(fitted, horizon=24).customers["clv"].sum()
    assert long > short > 0

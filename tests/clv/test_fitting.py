"""The shared optimiser: it raises instead of returning a fit it cannot stand behind."""

from __future__ import annotations

import numpy as np
import pytest

from crm_core.clv._base import maximise
from crm_core.errors import VinculoError


def quadratic(centre: np.ndarray):
    def objective(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        return float(np.sum((log_params - centre) ** 2)), 2 * (log_params - centre)

    return objective


def test_finds_the_optimum():
    est = maximise("test", ("u", "v"), quadratic(np.log([2.0, 0.5])), np.array([1.0, 1.0]))
    assert est == pytest.approx([2.0, 0.5], rel=1e-6)


def test_estimate_beyond_the_plausible_range_is_degenerate():
    with pytest.raises(VinculoError) as caught:
        maximise("test", ("u", "v"), quadratic(np.array([0.0, 20.0])), np.array([1.0, 1.0]))
    assert caught.value.key == "clv.degenerate" and caught.value.params["param"] == "v"


def test_non_finite_likelihood_does_not_converge():
    def broken(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        return float("nan"), np.full_like(log_params, np.nan)

    with pytest.raises(VinculoError) as caught:
        maximise("test", ("u",), broken, np.array([1.0]))
    assert caught.value.key == "clv.not_converged"


def test_wrong_gradient_does_not_pass_as_converged():
    def lying(log_params: np.ndarray) -> tuple[float, np.ndarray]:
        return float(np.sum((log_params - 1.0) ** 2)), np.ones_like(log_params)

    with pytest.raises(VinculoError) as caught:
        maximise("test", ("u",), lying, np.array([1.0]))
    assert caught.value.key in {"clv.not_converged", "clv.degenerate"}

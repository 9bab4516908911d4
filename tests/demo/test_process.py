"""The purchase process recovers its own BG/NBD and Gamma-Gamma parameters."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from crm_core.demo.params import DemoParams
from crm_core.demo.process import (
    expected_repeat_purchases,
    repeat_purchase_times,
    simulate_purchases,
)


def test_expectation_reduces_to_the_hand_formula_for_fixed_rates() -> None:
    # λ fixed (Gamma with huge shape and rate, mean 0.05/day) and p fixed (Beta
    # concentrated at 0.1): E[X(t)] = (1/p)(1 − e^{−λpt}) = 10(1 − e^{−1.5}) = 7.7687 at t = 300.
    params = DemoParams(r=1e7, alpha=2e8, a=1e6, b=9e6)
    assert expected_repeat_purchases(np.array([300.0]), params)[0] == pytest.approx(
        10 * (1 - np.exp(-1.5)), rel=1e-3
    )


def test_expectation_at_zero_and_growth() -> None:
    values = expected_repeat_purchases(np.array([0.0, 30.0, 365.0, 1000.0]), DemoParams())
    assert values[0] == pytest.approx(0.0, abs=1e-12)
    assert np.all(np.diff(values) > 0)


def test_fixed_rates_match_the_exact_mean_of_min_poisson_geometric() -> None:
    # E[min(N, J)] = Σ_k P(N ≥ k) P(J ≥ k), N ~ Poisson(15), J ~ Geometric(0.1): 7.7687.
    rng = np.random.default_rng(3)
    n = 100_000
    n_repeat, dropped, offsets = repeat_purchase_times(
        np.full(n, 300.0), np.full(n, 0.05), np.full(n, 0.1), rng
    )
    assert n_repeat.mean() == pytest.approx(7.7687, abs=4 * n_repeat.std() / np.sqrt(n))
    assert offsets.min() > 0 and offsets.max() < 300
    assert len(offsets) == n_repeat.sum()
    assert not dropped[n_repeat == 0].any()


def test_purchase_times_are_uniform_order_statistics() -> None:
    # With no dropout (p ≈ 0), repeat purchase times of a Poisson process over
    # (0, T) are uniform: mean T/2, and each person's times are increasing.
    rng = np.random.default_rng(4)
    n = 20_000
    n_repeat, _, offsets = repeat_purchase_times(
        np.full(n, 100.0), np.full(n, 0.1), np.full(n, 1e-12), rng
    )
    assert offsets.mean() == pytest.approx(50.0, abs=0.5)
    assert n_repeat.mean() == pytest.approx(10.0, abs=0.1)
    person = np.repeat(np.arange(n), n_repeat)
    same = np.diff(person) == 0
    assert np.all(np.diff(offsets)[same] > 0)


@pytest.mark.slow
def test_population_mean_matches_bg_nbd_expectation_over_its_tenures() -> None:
    params = DemoParams()
    rng = np.random.default_rng(5)
    n = 20_000
    acquired = rng.uniform(0, params.history_days, n)
    history = simulate_purchases(acquired, np.ones(n, bool), np.zeros(n, bool), params, rng)
    expected = expected_repeat_purchases(params.history_days - acquired, params).mean()
    standard_error = history.n_repeat.std() / np.sqrt(n)
    assert history.n_repeat.mean() == pytest.approx(expected, abs=4 * standard_error)
    assert 0.1 < (history.n_repeat == 0).mean() < 0.35  # many never come back
    assert np.quantile(history.n_repeat, 0.9) > 3 * np.median(history.n_repeat)  # a core


@pytest.mark.slow
def test_order_values_follow_gamma_gamma() -> None:
    # E[z] = p·γ/(q − 1) = 4 · 130 / 3 = 173.33 BRL per order.
    params = DemoParams()
    rng = np.random.default_rng(6)
    n = 30_000
    history = simulate_purchases(
        rng.uniform(0, 1095, n), np.ones(n, bool), np.zeros(n, bool), params, rng
    )
    per_person = (
        pl.DataFrame({"person": history.order_person, "value": history.order_value})
        .group_by("person")
        .agg(pl.col("value").first())
    )
    assert per_person["value"].mean() == pytest.approx(173.33, rel=0.05)
    assert np.all(history.order_value >= 1.0)
    assert np.allclose(history.order_value, np.round(history.order_value, 2))


def test_leads_have_no_orders_and_everyone_else_starts_at_acquisition() -> None:
    rng = np.random.default_rng(8)
    acquired = np.array([10.0, 20.0, 30.0])
    buyer = np.array([True, False, True])
    history = simulate_purchases(acquired, buyer, np.zeros(3, bool), DemoParams(), rng)
    assert 1 not in set(history.order_person)
    firsts = history.order_time[history.order_rank == 0]
    assert firsts.tolist() == [10.0, 30.0]
    assert np.isnan(history.last_order[1])

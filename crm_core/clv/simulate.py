"""Draw customers from the BG/NBD and Gamma-Gamma models (vectorised, no loops).

Used to check that the fits recover known parameters and to benchmark them.
Each customer's first purchase is at time 0 and the observation ends at T.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from crm_core.clv._base import FloatArray


def simulate_bgnbd(
    T: ArrayLike,  # noqa: N803
    r: float,
    alpha: float,
    a: float,
    b: float,
    rng: np.random.Generator,
) -> tuple[FloatArray, FloatArray]:
    """(frequency, recency) for customers observed for T units each.

    λ ~ Gamma(r, rate α), p ~ Beta(a, b). The customer makes J repeat purchases
    before dropping out, P(J = j) = (1−p)^(j−1) p. With N ~ Poisson(λT) arrivals
    in (0, T]: if N < J, x = N and t_x is the largest of N uniforms on (0, T];
    otherwise x = J and t_x is the J-th of N ordered uniforms,
    T · Beta(J, N − J + 1).
    """
    age = np.asarray(T, dtype=np.float64)
    n = age.size
    lam = rng.gamma(r, 1.0 / alpha, n)
    p = rng.beta(a, b, n)
    arrivals = rng.poisson(lam * age)
    lifetime_purchases = rng.geometric(p)
    dropped = arrivals >= lifetime_purchases
    x = np.where(dropped, lifetime_purchases, arrivals)
    k = np.maximum(x, 1)
    rest = np.where(dropped, arrivals - lifetime_purchases + 1, 1)
    share = rng.beta(k, rest)
    recency = np.where(x > 0, age * share, 0.0)
    return x.astype(np.float64), recency


def simulate_spend(
    frequency: ArrayLike,
    p: float,
    q: float,
    gamma: float,
    rng: np.random.Generator,
) -> FloatArray:
    """Mean spend of each customer's x purchases (0 when x = 0).

    ν ~ Gamma(q, rate γ); each spend ~ Gamma(p, rate ν), so the sum of x spends
    is Gamma(px, rate ν).
    """
    x = np.asarray(frequency, dtype=np.float64)
    nu = rng.gamma(q, 1.0 / gamma, x.size)
    shape = np.where(x > 0, p * x, 1.0)
    total = rng.gamma(shape, 1.0 / nu)
    return np.where(x > 0, total / np.maximum(x, 1.0), 0.0)

"""The purchase process: BG/NBD purchase times with Gamma-Gamma spend.

Per buying person (see `params.DemoParams` for the distributions): the first
order is at acquisition (time 0 of the person's history); repeat orders follow
a Poisson process of rate λ; after each repeat order the person drops out with
probability p. Observed over a tenure of T days, the number of repeat orders is
`X = min(N, J)` with `N ~ Poisson(λT)` (purchases if alive throughout) and
`J ~ Geometric(p)` on {1, 2, …} (repeat orders until dropout). Given N, the
purchase times of a Poisson process are N sorted uniforms on (0, T); the first
X of them are drawn without the other N − X through exponential spacings:
`U(j) = S_j / (S_X + G)`, `S_j` the cumulative sum of j Exp(1) and
`G ~ Gamma(N + 1 − X)`. Everything is vectorised over people and orders.

Each order also carries an *incident* flag (a late delivery, a broken item, a
billing error): 3 % of orders, 12 % of the second-to-last and 35 % of the last
order of a person who drops out. Incidents drive complaints, refunds and low
satisfaction in `touchpoints`, so churn diagnostics find a true signal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crm_core.demo.params import DemoParams

SALES_CHANNELS = ("online_store", "app", "marketplace", "physical_store")
SALES_CHANNEL_WEIGHTS = (0.40, 0.25, 0.20, 0.15)
CATEGORIES = (
    "Eletrônicos",
    "Moda",
    "Casa e Decoração",
    "Beleza e Saúde",
    "Esporte e Lazer",
    "Livros e Papelaria",
    "Mercado",
    "Brinquedos e Bebês",
)
CATEGORY_WEIGHTS = (0.18, 0.20, 0.14, 0.13, 0.10, 0.07, 0.11, 0.07)


@dataclass
class PurchaseHistory:
    """Truth of the simulated process, one entry per person or per order.

    Times are local days since the history's start (see `clock`).
    """

    lam: np.ndarray  # purchase rate while alive, per day (person)
    p: np.ndarray  # dropout probability after each repeat purchase (person)
    nu: np.ndarray  # Gamma-Gamma rate of the person's order values
    n_repeat: np.ndarray  # X: repeat orders observed before the end (person)
    dropped: np.ndarray  # True when the person dropped out before the end
    last_order: np.ndarray  # time of the person's last order (NaN for leads)
    order_person: np.ndarray  # person of each order
    order_time: np.ndarray  # time of each order
    order_rank: np.ndarray  # 0 = acquisition order, 1.. = repeats
    order_value: np.ndarray  # BRL, 2 decimals
    order_incident: np.ndarray  # bool


def repeat_purchase_times(
    tenure: np.ndarray, lam: np.ndarray, p: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Repeat purchases under BG/NBD over each person's tenure (days).

    Returns `(n_repeat, dropped, offsets)`: X per person, whether the person
    dropped out (J ≤ N) and the offsets (days after acquisition) of all repeat
    purchases, grouped by person in person order.
    """
    n_alive = rng.poisson(lam * tenure)
    until_dropout = rng.geometric(np.clip(p, 1e-9, 1.0))
    n_repeat = np.minimum(n_alive, until_dropout)
    dropped = until_dropout <= n_alive
    spacing = np.cumsum(rng.exponential(size=int(n_repeat.sum())))
    ends = np.cumsum(n_repeat)
    before = np.concatenate([[0.0], spacing])[ends - n_repeat]
    group_sum = np.repeat(before, n_repeat)
    s_j = spacing - group_sum
    s_last = np.concatenate([[0.0], spacing])[ends] - before
    rest = rng.gamma(np.maximum(n_alive - n_repeat + 1, 1).astype(float))
    scale = np.repeat(tenure / (s_last + rest), n_repeat)
    return n_repeat, dropped, s_j * scale


def simulate_purchases(
    acquired: np.ndarray,
    is_buyer: np.ndarray,
    is_company: np.ndarray,
    params: DemoParams,
    rng: np.random.Generator,
) -> PurchaseHistory:
    """Draw latent traits and every order of every person (leads buy nothing)."""
    n = len(acquired)
    lam = rng.gamma(params.r, 1.0 / params.alpha, size=n)
    p = rng.beta(params.a, params.b, size=n)
    gamma_rate = np.where(is_company, params.gg_gamma * params.b2b_spend_factor, params.gg_gamma)
    nu = rng.gamma(params.gg_q, 1.0 / gamma_rate)
    tenure = np.where(is_buyer, params.history_days - acquired, 0.0)
    n_repeat, dropped, offsets = repeat_purchase_times(tenure, lam, p, rng)
    dropped &= is_buyer
    n_orders = n_repeat + is_buyer
    person = np.repeat(np.arange(n), n_orders)
    rank = np.arange(len(person)) - np.repeat(np.cumsum(n_orders) - n_orders, n_orders)
    time = acquired[person]
    time[rank > 0] += offsets
    value = np.round(rng.gamma(params.gg_p, 1.0 / nu[person]), 2)
    value = np.maximum(value, 1.0)
    last_order = np.full(n, np.nan)
    last_order[n_orders > 0] = time[np.cumsum(n_orders)[n_orders > 0] - 1]
    from_end = np.repeat(n_orders, n_orders) - 1 - rank
    incident_p = np.where(dropped[person] & (from_end == 0), 0.35, 0.03)
    incident_p = np.where(dropped[person] & (from_end == 1), 0.12, incident_p)
    return PurchaseHistory(
        lam=lam,
        p=p,
        nu=nu,
        n_repeat=n_repeat,
        dropped=dropped,
        last_order=last_order,
        order_person=person,
        order_time=time,
        order_rank=rank,
        order_value=value,
        order_incident=rng.random(len(person)) < incident_p,
    )


def expected_repeat_purchases(t: np.ndarray, params: DemoParams) -> np.ndarray:
    """E[X(t)] under BG/NBD (Fader, Hardie & Lee 2005, eq. 9), t in days.

    `(a+b−1)/(a−1) · [1 − (α/(α+t))^r · 2F1(r, b; a+b−1; t/(α+t))]`.
    """
    from scipy.special import hyp2f1

    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    t = np.asarray(t, dtype=float)
    head = (a + b - 1) / (a - 1)
    return head * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))

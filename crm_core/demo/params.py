"""The demo generator's parameters: the true values behind the seeded data.

The purchase process is the BG/NBD model (Fader, Hardie & Lee 2005, "Counting
your customers the easy way") with Gamma-Gamma spend (Fader, Hardie & Lee 2005,
"RFM and CLV"; Colombo & Jiang 1999). Time unit: **days**; money: **BRL**.

- Purchase rate while alive: λ ~ Gamma(shape `r`, rate `alpha`) per day.
- After each *repeat* purchase the customer drops out with probability
  p ~ Beta(`a`, `b`) (the acquisition purchase at time 0 is not followed by a
  dropout chance, as in BG/NBD).
- Spend per order: z ~ Gamma(shape `gg_p`, rate ν), ν ~ Gamma(shape `gg_q`,
  rate `gg_gamma`); mean order value E[z] = `gg_p * gg_gamma / (gg_q - 1)`
  (≈ R$ 173 with the defaults). Companies spend `b2b_spend_factor` times more
  (their ν rate is `gg_gamma * b2b_spend_factor`).

With the defaults, a customer acquired on a day drawn from the growing
acquisition curve over `history_days` (mean tenure ≈ 470 days) makes on
average ≈ 10.2 orders (1 + E[X(T)]); ≈ 18 % never buy again within the
window, and a committed core of frequent, long-lived buyers carries the mean.
Including leads (no orders) and the failed/cancelled attempts, the store holds
≈ 10 orders per customer id.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DemoParams:
    """True parameters of the demo's population (see the module docstring)."""

    history_days: int = 1095
    """Length of the simulated history, days before `as_of` (3 years)."""
    r: float = 0.35
    alpha: float = 2.0
    a: float = 1.5
    b: float = 12.0
    gg_p: float = 4.0
    gg_q: float = 4.0
    gg_gamma: float = 130.0
    b2b_spend_factor: float = 5.0
    acquisition_growth: float = 1.5
    """Acquisitions per day grow linearly to (1 + growth) × the first day's level."""
    lead_share: float = 0.08
    """Share of people who registered but never bought (`is_lead`)."""
    company_share: float = 0.05
    """Share of people that are companies (CNPJ, larger orders)."""
    duplicate_share: float = 0.025
    """Share of customer ids that are a second id of an existing person."""
    failed_share: float = 0.02
    """Extra failed-payment attempts, as a share of real purchases."""
    cancelled_share: float = 0.03
    """Extra cancelled orders, as a share of real purchases."""
    refunded_share: float = 0.015
    partial_refund_share: float = 0.025
    order_items_max_customers: int = 50_000
    """Line items are generated only up to this many customers (they would
    dominate build time and size at 1M customers; orders keep `items`)."""

    @property
    def mean_order_value(self) -> float:
        """E[z] in BRL for individuals under Gamma-Gamma: p·γ/(q−1)."""
        return self.gg_p * self.gg_gamma / (self.gg_q - 1)

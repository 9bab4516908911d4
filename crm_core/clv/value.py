"""Predicted customer lifetime value over a horizon, discounted.

The `lifetimes` approach (`customer_lifetime_value`): split the horizon into
months, take the purchases BG/NBD expects in each month (the difference of
cumulative conditional expectations), value each at the Gamma-Gamma expected
spend times the margin, and discount month m by (1 + d)^m:

    CLV_i = margin · E[Z_i] · Σ_{m=1..H} (E[Y_i(m)] − E[Y_i(m−1)]) / (1 + d)^m

Units: the horizon H is in months of 365.25/12 days, converted to the model's
time unit; d is the discount rate per month (0.01 = 1 % a month); margin is
the share of spend kept as profit (0–1); CLV is in the spend's currency.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import polars as pl
from numpy.typing import ArrayLike

from crm_core.clv._base import FloatArray, as_array, unit_days
from crm_core.clv.bgnbd import BetaGeoModel
from crm_core.errors import VinculoError

MONTH_DAYS = 365.25 / 12
"""Length of the CLV month, in days."""


def check_clv_terms(horizon_months: int, discount_rate: float, margin: float) -> None:
    """Horizon ≥ 1 whole month, discount rate ≥ 0, margin in 0–1; else a user error."""
    if int(horizon_months) != horizon_months or horizon_months < 1:
        raise VinculoError("clv.bad_horizon", value=horizon_months)
    if not 0.0 <= discount_rate < 10.0:
        raise VinculoError("clv.bad_discount", value=discount_rate)
    if not 0.0 <= margin <= 1.0:
        raise VinculoError("clv.bad_margin", value=margin)


def distinct_pairs(x: FloatArray, T: FloatArray) -> tuple[FloatArray, FloatArray, np.ndarray]:  # noqa: N803
    """Distinct (x, T) pairs and, per customer, the index of its pair."""
    frame = pl.DataFrame({"x": x, "T": T})
    distinct = frame.unique().with_row_index("pair")
    index = frame.join(distinct, on=["x", "T"], how="left", maintain_order="left")["pair"]
    return distinct["x"].to_numpy(), distinct["T"].to_numpy(), index.to_numpy()


class HorizonForecast(NamedTuple):
    """Per-customer forecasts over a horizon (see `horizon_purchases`)."""

    p_alive: FloatArray
    expected_purchases: FloatArray
    discounted_purchases: FloatArray


def horizon_purchases(
    model: BetaGeoModel,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803
    *,
    time_unit: str = "week",
    horizon_months: int = 12,
    discount_rate: float = 0.01,
) -> HorizonForecast:
    """Per customer: P(alive), expected purchases in the next `horizon_months`
    months, and the same discounted, Σ_m (E[Y(m)] − E[Y(m−1)]) / (1+d)^m.

    The hypergeometric part of E[Y(t)] depends on (x, T) only, so it is
    evaluated once per distinct pair and month rather than once per customer
    and month.
    """
    x, tx, age = (
        as_array(n, v) for n, v in (("frequency", frequency), ("recency", recency), ("T", T))
    )
    check_clv_terms(horizon_months, discount_rate, 1.0)
    month = MONTH_DAYS / unit_days(time_unit)
    ux, uT, index = distinct_pairs(x, age)  # noqa: N806
    months = np.arange(1, int(horizon_months) + 1, dtype=np.float64)
    survival = model.survival_term(months[None, :] * month, ux[:, None], uT[:, None])
    survival = np.hstack([np.ones((len(ux), 1)), survival])
    discount = (1.0 + discount_rate) ** -months
    per_pair = np.einsum("ij,j->i", survival[:, :-1] - survival[:, 1:], discount)
    alive = model.probability_alive(x, tx, age)
    scale = model.growth_factor(x) * alive
    return HorizonForecast(alive, scale * (1.0 - survival[index, -1]), scale * per_pair[index])


def discounted_purchases(
    model: BetaGeoModel,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803
    *,
    time_unit: str = "week",
    horizon_months: int = 12,
    discount_rate: float = 0.01,
) -> FloatArray:
    """Σ_m (E[Y(m)] − E[Y(m−1)]) / (1+d)^m per customer: discounted expected purchases."""
    return horizon_purchases(
        model,
        frequency,
        recency,
        T,
        time_unit=time_unit,
        horizon_months=horizon_months,
        discount_rate=discount_rate,
    ).discounted_purchases


def customer_lifetime_value(
    model: BetaGeoModel,
    expected_spend: ArrayLike,
    frequency: ArrayLike,
    recency: ArrayLike,
    T: ArrayLike,  # noqa: N803
    *,
    time_unit: str = "week",
    horizon_months: int = 12,
    discount_rate: float = 0.01,
    margin: float = 1.0,
) -> FloatArray:
    """Predicted CLV per customer, in currency (see the module docstring)."""
    check_clv_terms(horizon_months, discount_rate, margin)
    purchases = discounted_purchases(
        model,
        frequency,
        recency,
        T,
        time_unit=time_unit,
        horizon_months=horizon_months,
        discount_rate=discount_rate,
    )
    return margin * as_array("expected_spend", expected_spend) * purchases

"""Gamma-Gamma: the model of average spend per purchase.

Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves for customer
base analysis", Journal of Marketing Research 42(4), 415–430; and Fader &
Hardie (2013), "The Gamma-Gamma model of monetary value".

Each purchase's spend z ~ Gamma(shape p, rate ν); across customers
ν ~ Gamma(shape q, rate γ). Spend is assumed independent of purchase
frequency. Inputs are repeat customers only: frequency x > 0 and the mean
spend m̄ of their x repeat purchases (> 0, in currency). γ is in currency;
p and q are unitless.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import digamma, gammaln

from crm_core.clv._base import (
    WARM_START_ROWS,
    FloatArray,
    as_array,
    check_weights,
    dot,
    maximise_warm,
    require_fitted,
)
from crm_core.errors import VinculoError

MODEL = "Gamma-Gamma"
PARAMS = ("p", "q", "gamma")


@dataclass(frozen=True)
class _Spend:
    """Repeat customers' frequency x, mean spend m̄ and weight w, with fixed sums."""

    xm: FloatArray  # x · m̄
    w: FloatArray
    wx: FloatArray  # w · x
    ux: FloatArray  # distinct x
    wux: FloatArray  # total weight per distinct x
    const_p: float  # Σ w x (ln m̄ + ln x), the coefficient of p
    const: float  # −Σ w ln m̄
    total: float
    mean_spend: float  # Σ w m̄ / Σ w

    def subsample(self, rows: int, rng: np.random.Generator) -> _Spend:
        """About `rows` customers drawn at random, weights scaled to keep the total."""
        keep = rng.random(len(self.w)) < rows / len(self.w)
        x = self.wx[keep] / self.w[keep]
        w = self.w[keep] * self.total / self.w[keep].sum()
        return _assemble(x, self.xm[keep] / x, w)


def _assemble(x: FloatArray, m: FloatArray, w: FloatArray) -> _Spend:
    ux, inverse = np.unique(x, return_inverse=True)
    log_m = np.log(m)
    wx = w * x
    return _Spend(
        xm=x * m,
        w=w,
        wx=wx,
        ux=ux,
        wux=np.bincount(inverse, weights=w, minlength=len(ux)),
        const_p=dot(wx, log_m + np.log(x)),
        const=-dot(w, log_m),
        total=float(w.sum()),
        mean_spend=dot(w, m) / float(w.sum()),
    )


def _neg_loglik(log_params: FloatArray, d: _Spend) -> tuple[float, FloatArray]:
    """Mean negative log-likelihood of the mean spends m̄ and its gradient.

    ln f(m̄ | x) = ln Γ(px+q) − ln Γ(px) − ln Γ(q) + q ln γ + (px−1) ln m̄
                 + px ln x − (px+q) ln(γ + x m̄)
    Terms in x alone are evaluated once per distinct x; only ln(γ + x m̄)
    needs a pass over the customers.
    """
    p, q, gamma = np.exp(log_params)
    n, pux = d.total, p * d.ux
    log_g = np.log(gamma + d.xm)
    inv_g = 1.0 / (gamma + d.xm)
    psi_pxq = digamma(pux + q)
    ll = dot(d.wux, gammaln(pux + q) - gammaln(pux)) + p * d.const_p + d.const
    ll += n * (q * np.log(gamma) - gammaln(q)) - p * dot(d.wx, log_g) - q * dot(d.w, log_g)
    g_p = dot(d.wux, d.ux * (psi_pxq - digamma(pux))) + d.const_p - dot(d.wx, log_g)
    g_q = dot(d.wux, psi_pxq) - dot(d.w, log_g) + n * (np.log(gamma) - digamma(q))
    g_gamma = n * q / gamma - p * dot(d.wx, inv_g) - q * dot(d.w, inv_g)
    grad = np.array([g_p * p, g_q * q, g_gamma * gamma])
    return -ll / n, -grad / n


class GammaGammaModel:
    """Gamma-Gamma spend model; `fit()` returns self, fitted values end in `_`."""

    def __init__(self, min_customers: int = 10) -> None:
        self.min_customers = min_customers
        self.params_: dict[str, float] | None = None
        self.log_likelihood_: float | None = None

    def fit(
        self,
        frequency: ArrayLike,
        monetary_value: ArrayLike,
        weights: ArrayLike | None = None,
    ) -> GammaGammaModel:
        """Maximum-likelihood (p, q, γ) from repeat customers' frequency and mean spend."""
        x, m = _checked(frequency, monetary_value)
        w = check_weights(weights, len(x))
        if x.size and np.any(x <= 0):
            raise VinculoError("clv.spend_needs_repeaters", count=int(np.sum(x <= 0)))
        if np.any(m <= 0):
            raise VinculoError("clv.nonpositive_spend", count=int(np.sum(m <= 0)))
        customers = len(x) if w is None else float(w.sum())
        if customers < self.min_customers:
            raise VinculoError(
                "clv.thin_spend", model=MODEL, count=int(customers), minimum=self.min_customers
            )
        data = _assemble(x, m, np.ones_like(x) if w is None else w)
        sample = None
        if len(x) > WARM_START_ROWS:
            rows = data.subsample(WARM_START_ROWS // 2, np.random.default_rng(0))
            sample = lambda lp: _neg_loglik(lp, rows)  # noqa: E731
        objective = lambda lp: _neg_loglik(lp, data)  # noqa: E731
        est = maximise_warm(MODEL, PARAMS, objective, sample, _start(data))
        if est[1] <= 1.0:
            raise VinculoError("clv.heavy_tail", q=float(est[1]))
        self.params_ = dict(zip(PARAMS, map(float, est), strict=True))
        self.log_likelihood_ = float(-objective(np.log(est))[0] * data.total)
        return self

    def _params(self) -> tuple[float, float, float]:
        require_fitted(self, MODEL)
        assert self.params_ is not None
        return self.params_["p"], self.params_["q"], self.params_["gamma"]

    def mean_spend(self) -> float:
        """Population mean spend per purchase, pγ/(q−1), in currency."""
        p, q, gamma = self._params()
        return p * gamma / (q - 1.0)

    def conditional_expected_average_profit(
        self, frequency: ArrayLike, monetary_value: ArrayLike
    ) -> FloatArray:
        """E[Z | x, m̄] = (γ + x m̄) p / (px + q − 1), in currency (FHL 2005 iso-value, eq. 5).

        A weighted average of the population mean pγ/(q−1) and the customer's
        own mean m̄, the weight on m̄ growing with x; customers with x = 0 get
        the population mean.
        """
        p, q, gamma = self._params()
        x, m = _checked(frequency, monetary_value)
        m = np.where(x > 0, m, 0.0)
        return (gamma + x * m) * p / (p * x + q - 1.0)


def _checked(frequency: ArrayLike, monetary_value: ArrayLike) -> tuple[FloatArray, FloatArray]:
    x, m = as_array("frequency", frequency), as_array("monetary_value", monetary_value)
    try:
        x, m = (np.array(a) for a in np.broadcast_arrays(x, m))
    except ValueError as exc:
        raise VinculoError(
            "clv.bad_input", name="frequency/monetary", detail="lengths differ"
        ) from exc
    if np.any(x < 0):
        raise VinculoError("clv.bad_input", name="frequency", detail="must be ≥ 0")
    return x, m


def _start(d: _Spend) -> FloatArray:
    """Start at p = 1, q = 3 and γ = 2 × mean spend, so that pγ/(q−1) = mean spend."""
    return np.array([1.0, 3.0, 2.0 * d.mean_spend])

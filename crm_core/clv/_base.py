"""Plumbing shared by the CLV models: input checks, row grouping, the optimiser.

The models maximise their likelihood over the logarithm of their parameters
(so every parameter stays positive) with L-BFGS-B and an analytic gradient.
A fit that stops without converging, or whose estimate runs to the edge of the
search box, raises a `VinculoError` rather than returning a wrong number.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import ArrayLike, NDArray
from scipy.optimize import minimize

from crm_core.errors import VinculoError

FloatArray = NDArray[np.float64]

TIME_UNIT_DAYS: dict[str, int] = {"day": 1, "week": 7}
"""Length of each supported time unit, in days."""


def dot(u: FloatArray, v: FloatArray) -> float:
    """Σ u·v for 1-D arrays.

    `np.einsum` rather than `np.dot`: the latter calls multi-threaded BLAS,
    which on a busy two-core machine runs tens of times slower for vectors.
    """
    return float(np.einsum("i,i->", u, v))


LOG_BOUND = np.log(1e6)
"""Estimates outside [1e-6, 1e6] are degenerate (the data do not identify them)."""


def unit_days(time_unit: str) -> int:
    """Days in `time_unit` ("day" or "week"); anything else is a user error."""
    if time_unit not in TIME_UNIT_DAYS:
        raise VinculoError("clv.bad_time_unit", value=time_unit, allowed=", ".join(TIME_UNIT_DAYS))
    return TIME_UNIT_DAYS[time_unit]


def as_array(name: str, values: ArrayLike) -> FloatArray:
    """`values` as a 1-D float64 array; NaN or infinity is a user error."""
    if isinstance(values, pl.Series):
        values = values.to_numpy()
    array = np.atleast_1d(np.asarray(values, dtype=np.float64))
    if array.ndim != 1:
        raise VinculoError("clv.bad_input", name=name, detail="expected one value per customer")
    if not np.all(np.isfinite(array)):
        raise VinculoError("clv.bad_input", name=name, detail="missing or infinite values")
    return array


def check_rfm(frequency: FloatArray, recency: FloatArray, T: FloatArray) -> None:  # noqa: N803
    """Frequency, recency and age must line up and obey 0 ≤ recency ≤ T, frequency ≥ 0."""
    if not (len(frequency) == len(recency) == len(T)):
        raise VinculoError("clv.bad_input", name="frequency/recency/T", detail="lengths differ")
    if np.any(frequency < 0) or np.any(frequency != np.floor(frequency)):
        raise VinculoError("clv.bad_input", name="frequency", detail="must be whole numbers ≥ 0")
    if np.any(recency < 0) or np.any(recency > T):
        raise VinculoError("clv.bad_input", name="recency", detail="must lie between 0 and T")
    if np.any((frequency == 0) & (recency != 0)):
        raise VinculoError("clv.bad_input", name="recency", detail="must be 0 when frequency is 0")


def group_rows(
    columns: dict[str, FloatArray], weights: FloatArray | None
) -> tuple[dict[str, FloatArray], FloatArray]:
    """Collapse identical rows into one row with a weight (the number of customers).

    The likelihood of identical customers is identical, so fitting on distinct
    rows with weights gives the same estimate for a fraction of the work.
    """
    frame = pl.DataFrame(columns).with_columns(
        _w=pl.Series(weights) if weights is not None else pl.lit(1.0)
    )
    grouped = frame.group_by(list(columns)).agg(pl.col("_w").sum())
    return {name: grouped[name].to_numpy() for name in columns}, grouped["_w"].to_numpy()


def check_weights(weights: ArrayLike | None, n: int) -> FloatArray | None:
    """Weights must be one non-negative number per customer."""
    if weights is None:
        return None
    array = as_array("weights", weights)
    if len(array) != n or np.any(array < 0):
        raise VinculoError("clv.bad_input", name="weights", detail="one weight ≥ 0 per customer")
    return array


Objective = Callable[[FloatArray], tuple[float, FloatArray]]
"""Mean negative log-likelihood and its gradient, as functions of the log-parameters."""


def maximise(
    model: str,
    names: Sequence[str],
    neg_loglik: Objective,
    start: FloatArray,
    hess_inv: FloatArray | None = None,
) -> FloatArray:
    """Parameters (not logged) maximising the likelihood, starting from `start`.

    BFGS over the log-parameters; an inverse Hessian `hess_inv` (from a fit on
    a sample) seeds it so that it converges in a handful of evaluations from a
    nearby start. An estimate outside [1e-6, 1e6] is degenerate: the data do not
    pin that parameter down.
    """
    # BFGS rather than L-BFGS-B: with a handful of parameters its pure-numpy
    # steps cost microseconds, while L-BFGS-B's compiled steps call threaded
    # BLAS and slow to milliseconds on a busy machine. Bounds are checked after.
    result = minimize(
        neg_loglik,
        np.log(start),
        jac=True,
        method="BFGS",
        options={
            "maxiter": 500,
            "gtol": 1e-6,
            **({} if hess_inv is None else {"hess_inv0": hess_inv}),
        },
    )
    if not np.all(np.isfinite(result.x)) or not np.isfinite(result.fun):
        raise VinculoError("clv.not_converged", model=model, detail="non-finite likelihood")
    # Line searches may stop "abnormally" or with "precision loss" at the
    # optimum; accept that only when the gradient there is negligible.
    if not result.success and np.max(np.abs(result.jac)) > 1e-5:
        raise VinculoError("clv.not_converged", model=model, detail=str(result.message))
    for name, value in zip(names, result.x, strict=True):
        if abs(value) >= LOG_BOUND:
            raise VinculoError(
                "clv.degenerate", model=model, param=name, value=float(np.exp(value))
            )
    return np.exp(result.x)


def inverse_hessian(
    neg_loglik: Objective, log_params: FloatArray, step: float = 1e-4
) -> FloatArray | None:
    """Inverse Hessian at `log_params` by central differences of the gradient.

    None when the likelihood is not locally concave there.
    """
    k = len(log_params)
    hessian = np.empty((k, k))
    for i in range(k):
        shift = np.zeros(k)
        shift[i] = step
        hessian[:, i] = (neg_loglik(log_params + shift)[1] - neg_loglik(log_params - shift)[1]) / (
            2 * step
        )
    hessian = (hessian + hessian.T) / 2
    if not np.all(np.isfinite(hessian)) or np.min(np.linalg.eigvalsh(hessian)) <= 0:
        return None
    inverse = np.linalg.inv(hessian)
    return (inverse + inverse.T) / 2


def maximise_warm(
    model: str,
    names: Sequence[str],
    full: Objective,
    sample: Objective | None,
    start: FloatArray,
) -> FloatArray:
    """Maximise `full`; when a `sample` objective is given, fit it first for the start.

    The mean log-likelihood of a random sample has nearly the same optimum and
    curvature as the full data's, so its estimate and inverse Hessian let the
    full fit converge in a few evaluations of the (expensive) full likelihood.
    """
    if sample is None:
        return maximise(model, names, full, start)
    rough = maximise(model, names, sample, start)
    hess_inv = inverse_hessian(sample, np.log(rough))
    return maximise(model, names, full, rough, hess_inv)


WARM_START_ROWS = 200_000
"""Above this many rows, a fit on a random sample of half as many gives the start."""


def require_fitted(model: Any, name: str) -> None:
    """Using a model before `fit()` is a user error with a clear message."""
    if getattr(model, "params_", None) is None:
        raise VinculoError("clv.unfitted", model=name)

"""Benchmark: BG/NBD + Gamma-Gamma fit and scoring of N customers.

Times our implementation (`crm_core.clv`: fit both models, then P(alive),
expected purchases, expected spend and 12-month discounted CLV for every
customer) against a straightforward pandas/scipy implementation of the same
likelihoods, as a data scientist typically writes it: one row per customer
(no grouping), pandas column expressions, `scipy.optimize.minimize` with its
default method and finite-difference gradients, and the CLV loop of the
`lifetimes` package (conditional expectation with the raw hypergeometric
function, month by month).

Inputs (frequency, recency, T in weeks, monetary) are simulated from known
BG/NBD and Gamma-Gamma parameters, with purchase times rounded to whole days
as real data are. Ends with one line of JSON:
{"customers", "fit_score_s", "reference_s", "ratio", ...}.

    .venv/bin/python bench/clv.py --customers 1000000
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
from scipy.optimize import minimize
from scipy.special import gammaln, hyp2f1

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crm_core.clv import BetaGeoModel, GammaGammaModel, score_customers  # noqa: E402
from crm_core.clv.simulate import simulate_bgnbd, simulate_spend  # noqa: E402

TRUE_BGNBD = {"r": 0.8, "alpha": 6.0, "a": 0.8, "b": 3.0}  # weeks
TRUE_GG = {"p": 6.0, "q": 4.0, "gamma": 15.0}
HORIZON_MONTHS, DISCOUNT, WEEKS_PER_MONTH = 12, 0.01, 365.25 / 12 / 7


def simulated_inputs(customers: int, seed: int = 0) -> pl.DataFrame:
    """`customer_id, frequency, recency, T, monetary` for customers first seen over two years."""
    rng = np.random.default_rng(seed)
    age_days = rng.integers(1, 731, customers).astype(np.float64)
    x, recency = simulate_bgnbd(age_days / 7.0, **TRUE_BGNBD, rng=rng)
    recency = np.floor(recency * 7.0) / 7.0  # purchase days, not instants
    monetary = simulate_spend(x, **TRUE_GG, rng=rng)
    return pl.DataFrame(
        {
            "customer_id": np.arange(customers),
            "frequency": x.astype(np.int64),
            "recency": recency,
            "T": age_days / 7.0,
            "monetary": np.round(monetary, 2),
        }
    )


def ours(inputs: pl.DataFrame, time_unit: str = "week") -> tuple[pl.DataFrame, dict[str, Any]]:
    """Fit both models and score every customer with `crm_core.clv`."""
    bgnbd = BetaGeoModel().fit(inputs["frequency"], inputs["recency"], inputs["T"])
    spenders = inputs.filter((pl.col("frequency") > 0) & (pl.col("monetary") > 0))
    gamma_gamma = GammaGammaModel().fit(spenders["frequency"], spenders["monetary"])
    scores = score_customers(inputs, bgnbd, gamma_gamma, time_unit, HORIZON_MONTHS, DISCOUNT)
    return scores, {**(bgnbd.params_ or {}), **(gamma_gamma.params_ or {})}


# --- the reference: a straightforward pandas/scipy version -----------------------------------


def _ref_bgnbd_nll(log_params: np.ndarray, df: pd.DataFrame) -> float:
    r, alpha, a, b = np.exp(log_params)
    x, tx, T = df["frequency"], df["recency"], df["T"]  # noqa: N806
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = gammaln(a + b) + gammaln(b + x) - gammaln(b) - gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + T)
    a4 = np.log(a) - np.log(b + np.maximum(x, 1) - 1) - (r + x) * np.log(tx + alpha)
    top = np.maximum(a3, a4)
    ll = a1 + a2 + np.log(np.exp(a3 - top) + np.exp(a4 - top) * (x > 0)) + top
    return -ll.mean()


def _ref_gg_nll(log_params: np.ndarray, df: pd.DataFrame) -> float:
    p, q, v = np.exp(log_params)
    x, m = df["frequency"], df["monetary"]
    ll = (
        gammaln(p * x + q)
        - gammaln(p * x)
        - gammaln(q)
        + q * np.log(v)
        + (p * x - 1) * np.log(m)
        + (p * x) * np.log(x)
        - (p * x + q) * np.log(x * m + v)
    )
    return -ll.mean()


def _ref_expected(t: float, df: pd.DataFrame, r: float, alpha: float, a: float, b: float):
    x, tx, T = df["frequency"], df["recency"], df["T"]  # noqa: N806
    hyp = hyp2f1(r + x, b + x, a + b + x - 1, t / (alpha + T + t))
    first = (a + b + x - 1) / (a - 1)
    second = 1 - hyp * ((alpha + T) / (alpha + t + T)) ** (r + x)
    alive = 1 + (x > 0) * (a / (b + x - 1)) * ((alpha + T) / (alpha + tx)) ** (r + x)
    return first * second / alive


def reference(inputs: pl.DataFrame) -> dict[str, float]:
    """The same fit and scoring, written the straightforward way."""
    df = inputs.to_pandas()
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        bg = minimize(_ref_bgnbd_nll, np.zeros(4), args=(df,)).x
        r, alpha, a, b = np.exp(bg)
        rep = df[(df["frequency"] > 0) & (df["monetary"] > 0)]
        p, q, v = np.exp(minimize(_ref_gg_nll, np.zeros(3), args=(rep,)).x)
        x, tx, T = df["frequency"], df["recency"], df["T"]  # noqa: N806
        df["p_alive"] = 1 / (
            1 + (x > 0) * (a / (b + x - 1)) * ((alpha + T) / (alpha + tx)) ** (r + x)
        )
        df["expected_spend"] = (v + x * df["monetary"]) * p / (p * x + q - 1)
        df["clv"] = 0.0
        for month in range(1, HORIZON_MONTHS + 1):
            t = month * WEEKS_PER_MONTH
            step = _ref_expected(t, df, r, alpha, a, b) - _ref_expected(
                t - WEEKS_PER_MONTH, df, r, alpha, a, b
            )
            df["clv"] += df["expected_spend"] * step / (1 + DISCOUNT) ** month
    return {"r": r, "alpha": alpha, "a": a, "b": b, "p": p, "q": q, "gamma": v}


def bench_clv(inputs: pl.DataFrame, *, with_reference: bool = True, repeat: int = 3) -> dict:
    """Time our fit + scoring of `inputs` (best of `repeat`) and, once, the reference.

    `inputs` has frequency, recency, T (weeks) and monetary per customer, e.g.
    from `crm_core.clv.rfm_inputs` on store data. Returns seconds and the ratio
    reference / ours.
    """
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        scores, params = ours(inputs)
        times.append(time.perf_counter() - start)
    result: dict[str, Any] = {
        "customers": inputs.height,
        "fit_score_s": round(min(times), 3),
        "params": {k: round(v, 4) for k, v in params.items()},
        "finite_scores": bool(np.isfinite(scores["clv"].to_numpy()).all()),
    }
    if with_reference:
        start = time.perf_counter()
        ref_params = reference(inputs)
        result["reference_s"] = round(time.perf_counter() - start, 3)
        result["ratio"] = round(result["reference_s"] / result["fit_score_s"], 1)
        result["reference_params"] = {k: round(float(v), 4) for k, v in ref_params.items()}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=3, help="runs of ours; the best counts")
    parser.add_argument("--no-reference", action="store_true", help="skip the slow reference")
    args = parser.parse_args()
    start = time.perf_counter()
    inputs = simulated_inputs(args.customers, args.seed)
    simulate_s = time.perf_counter() - start
    result = bench_clv(inputs, with_reference=not args.no_reference, repeat=args.repeat)
    print(f"{'step':<44}{'seconds':>10}")
    print(f"{'simulate inputs (not timed below)':<44}{simulate_s:>10.3f}")
    print(f"{'ours: fit BG/NBD + Gamma-Gamma, score all':<44}{result['fit_score_s']:>10.3f}")
    if "reference_s" in result:
        print(f"{'reference: pandas/scipy, same work':<44}{result['reference_s']:>10.3f}")
        print(f"{'ratio reference / ours':<44}{result['ratio']:>10.1f}")
        print(f"reference params: {result['reference_params']}")
    print(f"true params: {TRUE_BGNBD | TRUE_GG}")
    print(f"our params:  {result['params']}")
    summary = {
        k: result[k] for k in ("customers", "fit_score_s", "reference_s", "ratio") if k in result
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()

"""RFM scores (Hughes 1994) as Polars expressions over the customer summary.

Dimensions, from `crm_core.summary.customer_summary`: R = `recency_days` (days since the last
purchase; fewer is better), F = `purchase_days` (distinct purchase days), M = `revenue`
(net BRL to date). Only customers with at least one purchase (`purchase_days > 0`) are
scored; the others get null scores.

Quantile mode — rank-based quintiles with ties kept together. For a customer with value v
among the n scored customers, let p = (number of scored customers with a strictly *worse*
value) / n, in [0, 1). The score is 1 + ⌊5·p⌋. Equal values therefore always get equal
scores, the score never decreases as the value improves, and n distinct values split into
five groups of (nearly) equal size. A value shared by many customers (most customers buy
on one day only) takes one score for all of them, so quintiles can be uneven; that is the
price of never splitting ties arbitrarily (`pandas.qcut` on a `rank(method="first")`
would split them by row order).

Quantile scores are computed without ranking a million rows: with a₀ ≤ … ≤ aₙ₋₁ the
sorted scored values and Jₖ = ⌈k·n/5⌉ (k = 1..4), p ≥ k/5 holds exactly when
v > a(Jₖ − 1) (higher is better) or v < a(n − Jₖ) (lower is better). The four order
statistics are found by selection (`quantile(..., "lower")`), then each score is 1 plus the
number of them the value beats — the same comparisons as thresholds mode.

Thresholds mode — see `crm_core.segment_config` for the cut point conventions.

The RFM score is the three digits R·100 + F·10 + M (e.g. 545), an integer so it sorts.
"""

from __future__ import annotations

import polars as pl

from crm_core.segment_config import RFMSettings, SegmentConfig

SCORE_DTYPE = pl.Int8
DIMENSIONS = {"r": "recency_days", "f": "purchase_days", "m": "revenue"}


def scored() -> pl.Expr:
    """True for customers who get RFM scores: at least one purchase day."""
    return pl.col("purchase_days").fill_null(0) > 0


def order_statistic(column: str, index: int, n: int) -> pl.Expr:
    """The `index`-th smallest (0-based) of the n values of `column`, by selection.

    Apply it to a frame holding only the scored customers (n rows).
    """
    q = min(max((index + 0.5) / (n - 1), 0.0), 1.0) if n > 1 else 1.0
    return pl.col(column).cast(pl.Float64).quantile(q, "lower")


def quantile_cut_values(summary: pl.DataFrame) -> dict[str, list[float]]:
    """Per dimension, the four order statistics the quantile scores compare against.

    R: a(n − Jₖ) for k = 1..4 (a customer beats one when its recency is strictly lower);
    F and M: a(Jₖ − 1) (beaten when the value is strictly higher). Empty lists when no
    customer has a purchase.
    """
    n = int(summary.select(scored().sum()).item() or 0)
    if n == 0:
        return {dim: [] for dim in DIMENSIONS}
    exprs = []
    for dim, column in DIMENSIONS.items():
        for k in range(1, 5):
            j = (k * n + 4) // 5  # ⌈k·n/5⌉ in integers
            index = n - j if dim == "r" else j - 1
            exprs.append(order_statistic(column, index, n).alias(f"{dim}{k}"))
    buyers = summary.select(list(DIMENSIONS.values())).filter(scored())  # numbers only: cheap
    row = buyers.select(exprs).row(0, named=True)
    return {dim: [row[f"{dim}{k}"] for k in range(1, 5)] for dim in DIMENSIONS}


def count_chain(conditions: list[pl.Expr], base: int) -> pl.Expr:
    """`base` + how many of `conditions` hold, given that each implies the ones before it
    (easiest first), as one when-chain (cheaper than summing booleans); null for customers
    without a purchase."""
    chain = pl.when(~scored()).then(pl.lit(None, SCORE_DTYPE))
    for count in range(len(conditions), 0, -1):
        chain = chain.when(conditions[count - 1]).then(pl.lit(base + count, SCORE_DTYPE))
    return chain.otherwise(pl.lit(base, SCORE_DTYPE))


def score_expressions(settings: RFMSettings, summary: pl.DataFrame) -> list[pl.Expr]:
    """Expressions for `r_score`, `f_score`, `m_score` (Int8, null when not scored).

    Each is 1 + the number of cut values the customer beats; the conditions are listed
    easiest first, so each implies the previous ones. Quantile mode reads its four order
    statistics per dimension from `summary` first.
    """
    out = []
    if settings.mode == "quantile":
        values = quantile_cut_values(summary)
        for dim, column in DIMENSIONS.items():
            value = pl.col(column)
            if dim == "r":
                beats = [value < cut for cut in values[dim]]
            else:
                beats = [value > cut for cut in values[dim]]
            out.append(count_chain(beats, base=1).alias(f"{dim}_score"))
        return out
    cuts = {"r": settings.recency_cuts, "f": settings.frequency_cuts, "m": settings.monetary_cuts}
    for dim, column in DIMENSIONS.items():
        value = pl.col(column)
        if dim == "r":  # cut points are inclusive upper bounds of scores 5, 4, 3, 2
            beats = [value <= cut for cut in reversed(cuts[dim])]
        else:  # inclusive lower bounds of scores 2, 3, 4, 5
            beats = [value >= cut for cut in cuts[dim]]
        out.append(count_chain(beats, base=1).alias(f"{dim}_score"))
    return out


def rfm_code() -> pl.Expr:
    """The three-digit RFM score R·100 + F·10 + M (Int16), null when not scored."""
    r, f, m = (pl.col(f"{d}_score").cast(pl.Int16) for d in "rfm")
    return (r * 100 + f * 10 + m).alias("rfm_score")


def segment_lookup(config: SegmentConfig) -> dict[int, str]:
    """Every one of the 125 RFM scores mapped to its segment (first matching rule wins)."""
    return {
        r * 100 + f * 10 + m: config.segment_of(r, f, m)
        for r in range(1, 6)
        for f in range(1, 6)
        for m in range(1, 6)
    }


def segment_dtype(config: SegmentConfig) -> pl.Enum:
    """`pl.Enum` of every segment label, in rule order, then catch-all, then no purchase."""
    return pl.Enum(config.segment_names)


def segment_expression(config: SegmentConfig) -> pl.Expr:
    """`segment` (`segment_dtype`): the rule map applied to `rfm_score`; `no_purchase` when
    unscored. A gather from a 556-entry table indexed by the score (0 = unscored)."""
    lookup = segment_lookup(config)
    table = pl.Series(
        [lookup.get(code, config.no_purchase) for code in range(556)], dtype=segment_dtype(config)
    )
    return pl.lit(table).gather(pl.col("rfm_score").fill_null(0)).alias("segment")

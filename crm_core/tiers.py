"""Value tiers (Lovelock & Wirtz's customer pyramid: platinum, gold, silver, bronze …).

Customers with at least one purchase are tiered on a value column: `clv` when model outputs
are given (`value="auto"` or `"clv"`), else `revenue` (historic value, BRL). Customers
without a purchase get the configuration's `no_purchase` label instead of a tier.

- *percentile*: with p = share of tiered customers whose value is strictly higher (0 for the
  best), a customer is in tier i (0 = first name) where i = number of cut points ≤ p. With
  cuts (0.05, 0.20, 0.50): the top 5 % are platinum, the next 15 % gold, the next 30 %
  silver, the rest bronze. Equal values always share a tier.
- *absolute*: increasing cut points in the value's unit; a value ≥ the highest cut point is
  in the first tier, below the lowest one in the last.

A customer whose value is null (e.g. no CLV score) falls in the last tier.
"""

from __future__ import annotations

import math

import polars as pl

from crm_core.errors import VinculoError
from crm_core.rfm import order_statistic, scored
from crm_core.segment_config import TierSettings


def tier_value_column(settings: TierSettings, has_clv: bool) -> str:
    """The column tiers rank on: `clv` or `revenue` (see the module docstring)."""
    if settings.value == "clv" and not has_clv:
        raise VinculoError("segments.no_clv")
    if settings.value == "revenue" or not has_clv:
        return "revenue"
    return "clv"


def tier_cut_values(settings: TierSettings, summary: pl.DataFrame, column: str) -> list[float]:
    """Percentile mode: the order statistics a(n − J), J = ⌈c·n⌉, one per cut point c.

    p ≥ c ⟺ at least J values are strictly higher ⟺ v < a(n − J) (`rfm.quantile_score`
    uses the same identity), so a tier is a count of comparisons with these values.
    """
    n = int(summary.select(scored().sum()).item() or 0)
    if n == 0:
        return []
    exprs = []
    for i, cut in enumerate(settings.cuts):
        j = math.ceil(round(cut * n, 9))
        exprs.append(order_statistic(column, n - j, n).alias(str(i)))
    buyers = summary.select(column, "purchase_days").filter(scored())  # numbers only: cheap
    return list(buyers.select(exprs).row(0))


def tier_index(settings: TierSettings, summary: pl.DataFrame, column: str) -> pl.Expr:
    """Index of the tier (0 = first name) of every scored customer; null for the others.

    One when-chain: customers without a purchase → null, a null value → the last tier, then
    the hardest condition first (below the smallest cut value / at or above the highest cut
    point).
    """
    last = len(settings.names) - 1
    value = pl.col(column)
    chain = pl.when(~scored()).then(pl.lit(None, pl.Int8))
    chain = chain.when(value.is_null()).then(pl.lit(last, pl.Int8))
    if settings.mode == "percentile":
        # index = number of cut values the customer is below; they do not increase.
        cut_values = tier_cut_values(settings, summary, column)
        for index in range(len(cut_values), 0, -1):
            chain = chain.when(value < cut_values[index - 1]).then(pl.lit(index, pl.Int8))
        return chain.otherwise(pl.lit(0, pl.Int8))
    for reached in range(len(settings.cuts), 0, -1):
        chain = chain.when(value >= settings.cuts[reached - 1]).then(
            pl.lit(last - reached, pl.Int8)
        )
    return chain.otherwise(pl.lit(last, pl.Int8))


def tier_expression(
    settings: TierSettings, summary: pl.DataFrame, column: str, no_purchase: str
) -> pl.Expr:
    """`tier` (`tier_dtype`): the tier name of every customer, `no_purchase` when unscored.

    `summary` must hold `column` (percentile mode reads its cut values from it).
    """
    table = pl.Series([*settings.names, no_purchase], dtype=tier_dtype(settings, no_purchase))
    index = tier_index(settings, summary, column).fill_null(len(settings.names))
    return pl.lit(table).gather(index).alias("tier")


def tier_dtype(settings: TierSettings, no_purchase: str) -> pl.Enum:
    """`pl.Enum` of the tier names, best first, then the no-purchase label."""
    return pl.Enum([*settings.names, no_purchase])

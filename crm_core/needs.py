"""Needs-based differentiation (Peppers & Rogers' IDIC, step 2): customers grouped by what
they buy and where they buy it, next to their value.

Read from the customer summary (`crm_core.summary.customer_summary`), buyers only (at least
one purchase day; customers without a purchase have revealed no need and get no group):

- *preferred category* = `main_category`, the category with most purchases; *preferred
  channel* = `main_channel`, the sales channel with most purchases (ties go to the
  alphabetically first; `UNKNOWN` when the orders do not say);
- *mix*: `n_categories` / `n_channels`, the distinct categories / channels bought from; a
  *multichannel* buyer has bought through two channels or more.
- *needs group*: the preferred category × preferred channel pair (or one of the two, see
  `NeedsConfig.by`). A pair held by fewer than `min_share` of the buyers is folded into
  `NeedsConfig.other`, so the groups stay few enough to act on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import polars as pl

from crm_core.errors import VinculoError

NeedsBy = Literal["category_channel", "category", "channel"]
UNKNOWN = "unknown"
"""Preferred category or channel of a buyer whose orders record none."""
SEPARATOR = " × "

_SUMMARY = ("customer_id", "purchase_days", "main_category", "main_channel", "n_categories",
            "n_channels")  # fmt: skip
_OUT = ("customer_id", "category", "channel", "n_categories", "n_channels", "needs_group")


@dataclass(frozen=True)
class NeedsConfig:
    """How needs groups are formed.

    - `by`: the pair category × channel, or the category or the channel alone;
    - `min_share`: a group held by fewer than this share of the buyers (0–1, below 1) is
      folded into `other` (0 keeps every group);
    - `other`: the label of the folded groups.
    """

    by: NeedsBy = "category_channel"
    min_share: float = 0.02
    other: str = "other"

    def __post_init__(self) -> None:
        if self.by not in ("category_channel", "category", "channel"):
            raise VinculoError("needs.bad_by", value=self.by)
        if not 0.0 <= self.min_share < 1.0:
            raise VinculoError("needs.bad_min_share", value=self.min_share)
        if not self.other.strip():
            raise VinculoError("needs.empty_other")


_DIMENSIONS: dict[str, tuple[str, ...]] = {
    "category_channel": ("category", "channel"),
    "category": ("category",),
    "channel": ("channel",),
}


def _codes(frame: pl.DataFrame, dims: tuple[str, ...]) -> tuple[pl.Expr, list[str]]:
    """An integer code per buyer's preference pair (mixed radix over the sorted values of
    each dimension) and the label of every code ("category × channel"): grouping on small
    integers instead of a million strings."""
    code: pl.Expr = pl.lit(0, pl.Int64)
    labels = [""]
    for dim in dims:
        values = frame[dim].drop_nulls().unique().sort()
        physical = pl.col(dim).cast(pl.Enum(values)).to_physical().cast(pl.Int64)
        code = code * len(values) + physical
        labels = [f"{a}{SEPARATOR}{v}" if a else v for a in labels for v in values]
    return code, labels


def needs_groups(summary: pl.DataFrame, config: NeedsConfig | None = None) -> pl.DataFrame:
    """One row per summary row, same order: `customer_id`, `category` and `channel` (the
    preferences; null for customers without a purchase), `n_categories`, `n_channels` and
    `needs_group`: a `pl.Enum` of the groups, largest first and `config.other` last (it is
    there only when something was folded); null for customers without a purchase."""
    config = config or NeedsConfig()
    buyer = pl.col("purchase_days").fill_null(0) > 0
    frame = summary.select(_SUMMARY).with_columns(
        pl.when(buyer).then(pl.col("main_category").fill_null(UNKNOWN)).alias("category"),
        pl.when(buyer).then(pl.col("main_channel").fill_null(UNKNOWN)).alias("channel"),
    )
    if frame.select(buyer.sum()).item() == 0:
        return frame.select(*_OUT[:-1], pl.lit(None, pl.Enum([])).alias("needs_group"))
    code, labels = _codes(frame, _DIMENSIONS[config.by])
    frame = frame.with_columns(code.alias("code"))
    sizes = (
        frame.filter(buyer).group_by("code").len().sort(["len", "code"], descending=[True, False])
    )
    kept = sizes.filter(pl.col("len") >= config.min_share * sizes["len"].sum())["code"].to_list()
    names = [labels[c] for c in kept]
    if len(kept) < sizes.height:
        names.append(config.other)
    dtype = pl.Enum(list(dict.fromkeys(names)))  # a category named like `other` joins it
    other = None if len(kept) == sizes.height else config.other
    table = pl.Series([other] * len(labels), dtype=dtype).scatter(kept, [labels[c] for c in kept])
    group = pl.when(buyer).then(pl.lit(table).gather(pl.col("code").fill_null(0)))
    return frame.select(*_OUT[:-1], group.alias("needs_group"))


def _with_values(groups: pl.DataFrame, base: pl.DataFrame) -> pl.DataFrame:
    """`groups` with `revenue` (and `clv`) of `base`: side by side when both list the same
    customers in the same order (both made from one summary), else by a join. Buyers only."""
    columns = ["revenue", *(["clv"] if "clv" in base.columns else [])]
    if groups.height == base.height and groups["customer_id"].equals(base["customer_id"]):
        frame = groups.hstack(base.select(columns))
    else:
        frame = groups.join(base.select("customer_id", *columns), on="customer_id", how="left",
                            maintain_order="left")  # fmt: skip
    return frame.filter(pl.col("needs_group").is_not_null())


def _other_last(config: NeedsConfig, size: str) -> dict:
    """Sort arguments: largest group first, the folded group last, then by name."""
    folded = pl.col("needs_group") == config.other
    return {"by": [folded, pl.col(size), pl.col("needs_group")], "descending": [False, True, False]}


def needs_profile(
    groups: pl.DataFrame, base: pl.DataFrame, config: NeedsConfig | None = None
) -> pl.DataFrame:
    """Per needs group, largest first and `config.other` last.

    Columns: `needs_group`, `category` and `channel` (the group's preferences; null for the
    folded group and for the dimension not grouped on), `customers`, `share` (of buyers,
    0–1), `revenue` (BRL), `revenue_share` (0–1), `multichannel_share` (buyers who bought
    through two channels or more, 0–1), `mean_categories` (distinct categories bought) and,
    when `base` (e.g. `crm_core.differentiate.value_base`) has `clv`: `clv` (sum, BRL) and
    `mean_clv` (over scored buyers).
    """
    config = config or NeedsConfig()
    frame = _with_values(groups, base)
    aggs = [
        pl.len().cast(pl.Int64).alias("customers"),
        pl.col("revenue").sum(),
        (pl.col("n_channels").fill_null(0) >= 2).mean().alias("multichannel_share"),
        pl.col("n_categories").mean().cast(pl.Float64).alias("mean_categories"),
        pl.col("category").first(),
        pl.col("channel").first(),
    ]
    money = ["clv", "mean_clv"] if "clv" in frame.columns else []
    if money:
        aggs += [pl.col("clv").sum().alias("clv"), pl.col("clv").mean().alias("mean_clv")]
    folded = pl.col("needs_group") == config.other
    out = (
        frame.group_by("needs_group")
        .agg(aggs)
        .with_columns(pl.col("needs_group").cast(pl.String))
        .with_columns(
            pl.when(~folded & pl.lit(config.by != "channel")).then(pl.col("category")),
            pl.when(~folded & pl.lit(config.by != "category")).then(pl.col("channel")),
            _share("customers", "share"),
            _share("revenue", "revenue_share"),
        )
    )
    return out.sort(**_other_last(config, "customers")).select(
        "needs_group", "category", "channel", "customers", "share", "revenue", "revenue_share",
        "multichannel_share", "mean_categories", *money,
    )  # fmt: skip


def _share(column: str, alias: str) -> pl.Expr:
    """`column` over its total (null when the total is 0)."""
    total = pl.col(column).sum()
    return pl.when(total != 0).then(pl.col(column) / total).alias(alias)


def preference_matrix(groups: pl.DataFrame, base: pl.DataFrame) -> pl.DataFrame:
    """Buyers per preferred category × preferred channel, before any folding: `category`,
    `channel`, `customers`, `share` (of buyers, 0–1), `revenue` (BRL) and, when `base` has
    `clv`, `mean_clv`; only pairs with buyers, by category then channel."""
    frame = _with_values(groups, base)
    aggs = [pl.len().cast(pl.Int64).alias("customers"), pl.col("revenue").sum()]
    if "clv" in frame.columns:
        aggs.append(pl.col("clv").mean().alias("mean_clv"))
    out = frame.group_by("category", "channel").agg(aggs).sort("category", "channel")
    return out.with_columns(_share("customers", "share"))


def needs_by_tier(
    groups: pl.DataFrame, segmented: pl.DataFrame, config: NeedsConfig | None = None
) -> pl.DataFrame:
    """Cross-tab of needs group × value tier, buyers only (`segmented` rows aligned with
    `groups`: both from one summary). One row per needs group (largest first, `config.other`
    last), one Int64 column per tier present (the tier Enum's order, best first), `total`."""
    config = config or NeedsConfig()
    tiers = segmented["tier"]
    names = tiers.dtype.categories.to_list() if isinstance(tiers.dtype, pl.Enum) else None
    frame = groups.select("needs_group").hstack([tiers.alias("tier")])
    counts = frame.filter(pl.col("needs_group").is_not_null()).group_by("needs_group", "tier")
    counts = counts.len().with_columns(pl.col("needs_group", "tier").cast(pl.String))
    wide = counts.pivot(on="tier", index="needs_group", values="len")
    present = [c for c in wide.columns if c != "needs_group"]
    order = [n for n in (names or sorted(present)) if n in present]
    wide = wide.select("needs_group", *[pl.col(c).fill_null(0).cast(pl.Int64) for c in order])
    total = pl.sum_horizontal(order) if order else pl.lit(0, pl.Int64)
    return wide.with_columns(total.alias("total")).sort(**_other_last(config, "total"))

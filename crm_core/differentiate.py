"""Differentiate (Peppers & Rogers' IDIC, step 2): how customers differ in value.

The numbers behind the Differentiate page, pure Polars over frames that share the customer
summary's row order, so a threshold change re-aggregates in memory without a join.

- `value_base(summary, clv)`: per customer `customer_id, recency_days` (days since the last
  purchase), `purchase_days` (distinct purchase days), `revenue` (net BRL to date) and, when
  model outputs are given, `clv` (the BG/NBD × Gamma-Gamma discounted CLV, BRL; null for a
  customer without a score). Built once; `crm_core.segments.segment_values` re-segments it.
- *Buyers* are customers with at least one purchase day: the ones RFM scores and tiers rank.
- `group_value`: size and value of every segment (or tier) — customers, revenue, CLV, and
  the share of its buyers who *lapsed* (no purchase within the churn window).
- `rf_grid`: buyers per (R score, F score) cell — the R × F heatmap.
- `value_tree`: buyers, revenue and CLV per segment and tier — the treemap.
- `concentration`: how unequally value is spread over buyers (Lorenz 1905; Gini 1912).
  Sort buyers by value, most valuable first. The *Pareto curve* P(x) is the share of total
  value held by the top share x of buyers; the *Lorenz curve* sorts them least valuable
  first, L(x) = 1 − P(1 − x). The *top-p share* is P(p), read off the curve by linear
  interpolation (⌊p·n⌋ whole buyers plus that fraction of the next). The *Gini
  coefficient* is G = 1 − 2·(area under the Lorenz curve): 0 when every buyer holds the
  same value, (n − 1)/n when one holds it all. With the trapezoid rule over the n points
  Lₖ = (v₍₁₎ + … + v₍ₖ₎)/Σv, G = 1 − (2/n)·ΣLₖ + 1/n, which equals the textbook
  (2·Σ k·v₍ₖ₎)/(n·Σv) − (n + 1)/n with v₍₁₎ ≤ … ≤ v₍ₙ₎. Negative values (net refunds)
  count as 0, as do missing ones (no CLV score).
- `movement_matrix` / `size_comparison` / `moved_customers`: two segmentations side by side.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from crm_core.segment_config import SegmentConfig, TierSettings
from crm_core.segments import compare_segmentations
from crm_core.tiers import tier_cut_values, tier_value_column

VALUE_COLUMNS = ("customer_id", "recency_days", "purchase_days", "revenue")
TOP_SHARES: tuple[float, ...] = (0.01, 0.05, 0.20)
"""Top shares of buyers whose value share the page marks (1 %, 5 %, 20 %)."""


def value_base(summary: pl.DataFrame, clv: pl.DataFrame | None = None) -> pl.DataFrame:
    """`VALUE_COLUMNS` of `summary` (same rows, same order), plus `clv` when `clv` is given.

    `clv` has `customer_id, clv`; customers it does not score get a null CLV. Without model
    outputs there is no `clv` column, so tiers rank on revenue. The result is contiguous.
    """
    frame = summary.select(VALUE_COLUMNS)
    if clv is not None:
        values = clv.select("customer_id", pl.col("clv").cast(pl.Float64))
        frame = frame.join(values, on="customer_id", how="left", maintain_order="left")
    return frame.rechunk()


def _buyer() -> pl.Expr:
    return pl.col("purchase_days").fill_null(0) > 0


def _attach(base: pl.DataFrame, segmented: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
    """`columns` of `segmented` next to `base`: side by side when both hold the same customers
    in the same order (a segmentation of `base`), else by a join on `customer_id`."""
    if base.height == segmented.height and base["customer_id"].equals(segmented["customer_id"]):
        return base.hstack(segmented.select(columns))
    picked = segmented.select("customer_id", *columns)
    return base.join(picked, on="customer_id", how="left", maintain_order="left")


def value_cube(
    base: pl.DataFrame, segmented: pl.DataFrame, churn_window_days: int = 180
) -> pl.DataFrame:
    """Customers and value per (R score, F score, segment, tier): one pass over the customers,
    from which `group_value`, `rf_grid` and `value_tree` aggregate a few hundred rows.

    `segmented` is a segmentation of `base` (`segment_values` / `segment_customers`). Columns:
    `r_score, f_score` (null without a purchase), `segment`, `tier` (their Enums),
    `customers`, `buyers`, `lapsed` (buyers with recency_days ≥ `churn_window_days`: no
    purchase within the churn window), `revenue` (BRL) and, when `base` has `clv`: `clv`
    (sum, BRL) and `scored` (customers with a CLV).
    """
    frame = _attach(base, segmented, ["r_score", "f_score", "segment", "tier"])
    aggs = [
        pl.len().cast(pl.Int64).alias("customers"),
        _buyer().sum().cast(pl.Int64).alias("buyers"),
        (_buyer() & (pl.col("recency_days") >= churn_window_days)).sum().cast(pl.Int64)
        .alias("lapsed"),
        pl.col("revenue").sum().cast(pl.Float64),
    ]  # fmt: skip
    if "clv" in frame.columns:
        aggs += [pl.col("clv").sum().alias("clv"), pl.col("clv").count().cast(pl.Int64)
                 .alias("scored")]  # fmt: skip
    keys = ["r_score", "f_score", "segment", "tier"]
    if not all(isinstance(frame[c].dtype, pl.Enum) for c in keys[2:]):
        return frame.group_by(keys).agg(aggs)
    # Group on one integer (mixed radix over R, F and the Enums' physical codes), not four
    # columns: about twice as fast at a million customers; decoded on the few groups.
    segments, tiers = (frame[c].dtype.categories for c in keys[2:])  # type: ignore[attr-defined]
    score = [pl.col(c).fill_null(0).cast(pl.Int32) for c in keys[:2]]
    code = ((score[0] * 6 + score[1]) * len(segments) + pl.col("segment").to_physical()) * len(
        tiers
    ) + pl.col("tier").to_physical()
    cube = frame.group_by(code.alias("code")).agg(aggs)
    rest, tier = pl.col("code") // len(tiers), pl.col("code") % len(tiers)
    rest, segment = rest // len(segments), rest % len(segments)
    decoded = [
        pl.when(rest >= 6).then(rest // 6).cast(pl.Int8).alias("r_score"),
        pl.when(rest >= 6).then(rest % 6).cast(pl.Int8).alias("f_score"),
        pl.lit(segments.cast(frame["segment"].dtype)).gather(segment).alias("segment"),
        pl.lit(tiers.cast(frame["tier"].dtype)).gather(tier).alias("tier"),
    ]
    return cube.select(*decoded, pl.exclude("code"))


def _sums(cube: pl.DataFrame) -> list[str]:
    extra = ["clv", "scored"] if "clv" in cube.columns else []
    return ["customers", "buyers", "lapsed", "revenue", *extra]


def _mean_clv() -> pl.Expr:
    return pl.when(pl.col("scored") > 0).then(pl.col("clv") / pl.col("scored")).alias("mean_clv")


def _labels(series: pl.Series) -> pl.DataFrame:
    """Every label of a segment/tier column in display order (the Enum's order, else sorted)."""
    if isinstance(series.dtype, pl.Enum):
        names = series.dtype.categories
    else:
        names = series.drop_nulls().unique().sort()
    return pl.DataFrame({series.name: names}).cast({series.name: series.dtype})


def group_value(cube: pl.DataFrame, by: str = "segment") -> pl.DataFrame:
    """Size and value of every label of `by` (`segment` or `tier`) in a `value_cube`.

    One row per label, zeros included, in the Enum's order (rule order; tiers best first):
    `customers`, `share` (of all customers, 0–1), `revenue` (BRL), `revenue_share` (0–1),
    `buyers`, `lapsed_share` (lapsed buyers over buyers, 0–1; null without buyers) and, when
    the cube has `clv`: `clv` (sum, BRL), `clv_share` (0–1) and `mean_clv` (BRL, over the
    customers with a CLV; null when none). A share is null when its total is 0.
    """
    sums = _sums(cube)
    totals = cube.group_by(by).agg(pl.col(sums).sum())
    out = _labels(cube[by]).join(totals, on=by, how="left").with_columns(pl.col(sums).fill_null(0))
    shares = [_share("customers", "share"), _share("revenue", "revenue_share")]
    money = ["clv", "clv_share", "mean_clv"] if "clv" in sums else []
    if money:
        shares += [_share("clv", "clv_share"), _mean_clv()]
    lapsed = pl.when(pl.col("buyers") > 0).then(pl.col("lapsed") / pl.col("buyers"))
    out = out.with_columns(*shares, lapsed.alias("lapsed_share"))
    columns = [by, "customers", "share", "revenue", "revenue_share", "buyers", "lapsed_share"]
    return out.select(columns + money)


def _share(column: str, alias: str) -> pl.Expr:
    """`column` over its total (null when the total is 0)."""
    total = pl.col(column).sum()
    return pl.when(total != 0).then(pl.col(column) / total).alias(alias)


def rf_grid(cube: pl.DataFrame, config: SegmentConfig | None = None) -> pl.DataFrame:
    """Buyers per R × F score cell of a `value_cube`: all 25 cells, R then F ascending.

    Columns `r_score, f_score` (1–5), `customers` (0 in an empty cell), `revenue` (BRL),
    `mean_clv` (when the cube has `clv`; null in an empty cell) and, with `config`,
    `segment`: the cell's segment when every M score maps it to the same one (the default
    grid ignores M), else null.
    """
    sums = _sums(cube)
    counts = cube.filter(pl.col("r_score").is_not_null()).group_by("r_score", "f_score")
    counts = counts.agg(pl.col(sums).sum())
    scores = pl.Series(range(1, 6), dtype=cube["r_score"].dtype)
    cells = pl.DataFrame({"r_score": scores}).join(pl.DataFrame({"f_score": scores}), how="cross")
    out = cells.join(counts, on=["r_score", "f_score"], how="left").with_columns(
        pl.col(sums).fill_null(0)
    )
    money = [_mean_clv()] if "clv" in sums else []
    out = out.sort("r_score", "f_score").select("r_score", "f_score", "customers", "revenue",
                                                *money)  # fmt: skip
    if config is None:
        return out
    names = []
    for r, f in out.select("r_score", "f_score").iter_rows():  # 25 cells, not customers
        found = {config.segment_of(r, f, m) for m in range(1, 6)}
        names.append(found.pop() if len(found) == 1 else None)
    return out.with_columns(pl.Series("segment", names, dtype=pl.String))


def value_tree(cube: pl.DataFrame) -> pl.DataFrame:
    """Buyers per (segment, tier) pair of a `value_cube` that has any: `segment, tier,
    customers, revenue` (BRL) and `clv` (sum, BRL; when the cube has it), in segment then
    tier order."""
    money = ["clv"] if "clv" in cube.columns else []
    buyers = cube.filter(pl.col("r_score").is_not_null())
    out = buyers.group_by("segment", "tier").agg(pl.col("buyers", "revenue", *money).sum())
    return out.rename({"buyers": "customers"}).sort("segment", "tier")


def buyer_values(base: pl.DataFrame, column: str) -> pl.Series:
    """`column` (`revenue` or `clv`) of the buyers: the values `concentration` ranks."""
    return base.filter(_buyer())[column]


@dataclass(frozen=True)
class Concentration:
    """How unequally a value is spread over customers (see the module docstring).

    `customers`: how many were ranked; `total`: their value (negatives and nulls as 0);
    `gini`: the Gini coefficient (0–1; null when the total is 0); `curve`: the Pareto curve
    sampled at evenly spaced customer counts, `customer_share, value_share` (0–1, from
    (0, 0) to (1, 1)); `top`: `customer_share, value_share` at each requested top share.
    """

    customers: int
    total: float
    gini: float | None
    curve: pl.DataFrame
    top: pl.DataFrame


def concentration(
    values: pl.Series, shares: tuple[float, ...] = TOP_SHARES, points: int = 200
) -> Concentration:
    """Pareto curve, top-p shares and Gini coefficient of `values` (one per customer).

    The curve holds at most `points` + 1 points (customer counts round(i·n/points)), each
    exact; the top shares are interpolated as the module docstring defines.
    """
    v = np.sort(np.clip(values.cast(pl.Float64).fill_null(0.0).to_numpy(), 0.0, None))
    n, total = v.size, float(v.sum())
    if n == 0 or total <= 0:
        empty = pl.DataFrame(schema={"customer_share": pl.Float64, "value_share": pl.Float64})
        top = pl.DataFrame({"customer_share": list(shares)}).with_columns(
            value_share=pl.lit(None, pl.Float64)
        )
        return Concentration(n, total, None, empty, top)
    lorenz = np.cumsum(v) / total  # L_k, least valuable first
    gini = 1.0 - 2.0 * float(lorenz.sum()) / n + 1.0 / n
    held = np.concatenate(([0.0], np.cumsum(v[::-1]) / total))  # P(k/n), k = 0..n
    ranks = np.unique(np.rint(np.linspace(0, n, points + 1)).astype(np.int64))
    curve = pl.DataFrame({"customer_share": ranks / n, "value_share": held[ranks]})
    top = [_interpolate(held, n, share) for share in shares]
    return Concentration(
        n, total, min(max(gini, 0.0), 1.0), curve,
        pl.DataFrame({"customer_share": list(shares), "value_share": top}),
    )  # fmt: skip


def _interpolate(held: np.ndarray, n: int, share: float) -> float:
    """P(share): the value share of the top ⌊share·n⌋ buyers plus the fraction of the next."""
    k = min(max(share, 0.0), 1.0) * n
    whole = min(math.floor(k), n)
    if whole == n:
        return float(held[n])
    return float(held[whole] + (k - whole) * (held[whole + 1] - held[whole]))


def absolute_tier_cuts(base: pl.DataFrame, settings: TierSettings) -> tuple[float, ...]:
    """Increasing value cut points (BRL, whole numbers) giving about the tiers that the
    percentile cut points of `settings` give on `base` today: a starting point when an
    analyst switches tiers to absolute mode. Ties are pushed 1 BRL apart; with no buyers,
    1, 2, 3, … BRL."""
    count = len(settings.names) - 1
    column = tier_value_column(settings, "clv" in base.columns)
    shares = settings.cuts if settings.mode == "percentile" else default_tier_shares(count)
    percentile = TierSettings(settings.names, "percentile", shares, settings.value)
    found = sorted(tier_cut_values(percentile, base.filter(_buyer()), column))
    cuts: list[float] = []
    for value in found or [float(i) for i in range(1, count + 1)]:
        value = float(round(value or 0.0))
        cuts.append(max(value, cuts[-1] + 1.0) if cuts else max(value, 1.0))
    return tuple(cuts)


def default_tier_shares(count: int) -> tuple[float, ...]:
    """Percentile cut points for `count` cuts: the default (5 %, 20 %, 50 %) for three,
    else evenly spaced top shares (i / (count + 1))."""
    default = TierSettings().cuts
    if count == len(default):
        return default
    return tuple(round(i / (count + 1), 4) for i in range(1, count + 1))


# ---- two segmentations side by side --------------------------------------------------------


def movement_matrix(a: pl.DataFrame, b: pl.DataFrame, ordered: bool = False) -> pl.DataFrame:
    """`crm_core.segments.compare_segmentations(a, b)`, without its join when `a` and `b`
    segment the same customers in the same order (two configurations of one summary).

    One row per segment of `a` (`segment`), one Int64 column per segment of `b`: how many
    customers move from the row's segment to the column's. Rows and columns are sorted by
    name, or with `ordered` in each side's segment order (the Enum's: rule order).
    """
    aligned = a.height == b.height and a["customer_id"].equals(b["customer_id"])
    matrix = _movement(a, b) if aligned else compare_segmentations(a, b)
    if not ordered:
        return matrix
    rows = [x for x in _labels(a["segment"])["segment"].cast(pl.String) if x in matrix["segment"]]
    columns = [x for x in _labels(b["segment"])["segment"].cast(pl.String) if x in matrix.columns]
    order = pl.DataFrame({"segment": rows}).with_row_index("position")
    return matrix.join(order, on="segment").sort("position").select("segment", *columns)


def _movement(a: pl.DataFrame, b: pl.DataFrame) -> pl.DataFrame:
    """The movement matrix of two aligned segmentations (rows side by side), sorted."""
    pairs = (
        pl.DataFrame({"from": a["segment"], "to": b["segment"]})
        .group_by("from", "to")
        .len()
        .cast({"from": pl.String, "to": pl.String})
    )
    targets = sorted(pairs["to"].unique().to_list())
    wide = pairs.pivot(on="to", index="from", values="len").fill_null(0)
    return wide.select(
        pl.col("from").alias("segment"), *[pl.col(t).cast(pl.Int64) for t in targets]
    ).sort("segment")


def moved_customers(matrix: pl.DataFrame) -> int:
    """Customers of a `movement_matrix` whose segment name differs between the two sides
    (everyone off the diagonal of equal names)."""
    total = sum(int(matrix[c].sum()) for c in matrix.columns[1:])
    stayed = sum(
        int(count)
        for name, *row in matrix.iter_rows()  # one row per segment, not per customer
        for column, count in zip(matrix.columns[1:], row, strict=True)
        if column == name
    )
    return total - stayed


def size_comparison(
    a: pl.DataFrame, b: pl.DataFrame, matrix: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Customers per segment under `a` and under `b`, side by side.

    Columns `segment` (String; `a`'s labels in its order, then labels only `b` has),
    `customers_a`, `customers_b` (0 when the label is absent) and `change` (b − a). Given
    `movement_matrix(a, b)` of two segmentations of the same customers, the sizes are its
    row and column sums (no pass over the customers).
    """
    order = [*_labels(a["segment"])["segment"].cast(pl.String).to_list()]
    order += [x for x in _labels(b["segment"])["segment"].cast(pl.String) if x not in order]
    if matrix is not None and a.height == b.height:
        targets = matrix.columns[1:]
        size_a = matrix.select("segment", pl.sum_horizontal(targets).alias("customers_a"))
        size_b = pl.DataFrame(
            {"segment": targets, "customers_b": [int(matrix[c].sum()) for c in targets]},
            schema_overrides={"customers_b": pl.Int64},
        )
        sizes = [size_a.with_columns(pl.col("customers_a").cast(pl.Int64)), size_b]
    else:
        sizes = [
            frame.group_by("segment")
            .agg(pl.len().cast(pl.Int64).alias(alias))
            .with_columns(pl.col("segment").cast(pl.String))
            for frame, alias in ((a, "customers_a"), (b, "customers_b"))
        ]
    out = pl.DataFrame({"segment": order}).join(sizes[0], on="segment", how="left")
    out = out.join(sizes[1], on="segment", how="left").fill_null(0)
    return out.with_columns((pl.col("customers_b") - pl.col("customers_a")).alias("change"))

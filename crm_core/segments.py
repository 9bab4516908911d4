"""RFM segments and value tiers from the cached customer summary.

`segment_customers(summary, config, clv)` is pure Polars: changing a threshold in the
`SegmentConfig` re-segments the summary already in memory without touching the store (a
few when-chains and one gather; about 30 ms of CPU at a million customers with cut points,
70 ms in quantile mode, which first finds twelve order statistics by selection).
Definitions of the scores, the segment map and the tiers live in `crm_core.rfm`,
`crm_core.tiers` and `crm_core.segment_config`; storing configurations in
`crm_core.segment_store`.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from crm_core import store
from crm_core.errors import VinculoError
from crm_core.i18n import translate
from crm_core.rfm import rfm_code, score_expressions, segment_expression
from crm_core.segment_config import (
    DEFAULT_RULES,
    RFMSettings,
    SegmentConfig,
    SegmentRule,
    TierSettings,
    default_config,
)
from crm_core.segment_store import latest_config, list_configs, load_config, save_config
from crm_core.summary import customer_summary, query_frame
from crm_core.tiers import tier_expression, tier_value_column

__all__ = [
    "DEFAULT_RULES",
    "RFMSettings",
    "SegmentConfig",
    "SegmentRule",
    "TierSettings",
    "compare_segmentations",
    "default_config",
    "latest_config",
    "list_configs",
    "load_config",
    "save_config",
    "segment_customers",
    "segment_label",
    "segment_overview",
    "segment_values",
    "segments_cli_payload",
]

SEGMENTED_COLUMNS = ("customer_id", "r_score", "f_score", "m_score", "rfm_score", "segment", "tier")
_NEEDED = ("customer_id", "recency_days", "purchase_days", "revenue")


def _require(frame: pl.DataFrame, columns: tuple[str, ...], what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise VinculoError("segments.missing_columns", frame=what, columns=", ".join(missing))


def segment_customers(
    summary: pl.DataFrame, config: SegmentConfig, clv: pl.DataFrame | None = None
) -> pl.DataFrame:
    """RFM scores, segment and value tier of every customer of `summary`.

    `summary` has (at least) `customer_id, recency_days, purchase_days, revenue`; `clv`,
    when given, has `customer_id, clv` (model outputs) and tiers rank on it unless the
    config says `value="revenue"`. Returns one row per summary row, same order:
    `customer_id, r_score, f_score, m_score` (Int8, 1–5, null without a purchase),
    `rfm_score` (Int16, R·100 + F·10 + M), `segment` (`pl.Enum` of
    `config.segment_names`, in rule order) and `tier` (`pl.Enum` of the tier names, best
    first), both `config.no_purchase` for customers without a purchase. Cast them to String
    to compare frames made with different configurations.
    """
    _require(summary, _NEEDED, "summary")
    frame = summary.select(_NEEDED)
    if clv is not None:
        _require(clv, ("customer_id", "clv"), "clv")
        values = clv.select("customer_id", pl.col("clv").cast(pl.Float64))
        frame = frame.join(values, on="customer_id", how="left", maintain_order="left")
    return segment_values(frame, config)


def segment_values(values: pl.DataFrame, config: SegmentConfig) -> pl.DataFrame:
    """`segment_customers` of a frame that already holds the model's CLV, if any.

    `values` has `customer_id, recency_days, purchase_days, revenue` and, optionally, `clv`
    (BRL, null where a customer has no score): the summary joined once with the model
    outputs (`crm_core.differentiate.value_base`). Tiers rank on `clv` when the column is
    there, exactly as `segment_customers(summary, config, clv)` does; re-segmenting with
    another configuration then skips the join (a threshold slider on the Differentiate
    page). Returns the frame `segment_customers` documents, in the same row order.
    """
    _require(values, _NEEDED, "values")
    has_clv = "clv" in values.columns
    frame = values.select(*_NEEDED, *([pl.col("clv").cast(pl.Float64)] if has_clv else []))
    column = tier_value_column(config.tiers, has_clv)
    # Work on contiguous numeric columns: a frame straight from DuckDB comes in chunks, and
    # selections and gathers over chunked columns cost several times more.
    numbers = frame.drop("customer_id")
    if numbers.n_chunks() > 1:
        numbers = numbers.rechunk()
    scores = score_expressions(config.rfm, numbers)
    tier = tier_expression(config.tiers, numbers, column, config.no_purchase)
    out = (
        numbers.lazy()
        .with_columns(scores)
        .with_columns(rfm_code(), tier)
        .with_columns(segment_expression(config))
        .select(SEGMENTED_COLUMNS[1:])
        .collect()
    )
    return out.insert_column(0, frame["customer_id"])


def segment_overview(
    segmented: pl.DataFrame, summary: pl.DataFrame, clv: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Per segment: size and value, largest segment first.

    Columns: `segment`, `customers`, `share` (of all customers, 0–1), `revenue` (BRL),
    `revenue_share` (0–1; null when total revenue is 0), `mean_recency_days`,
    `mean_purchase_days` (frequency), `mean_revenue` (monetary, BRL) and, when `clv` is
    given, `mean_clv`. Recency means are over customers with a purchase only.
    """
    _require(segmented, ("customer_id", "segment"), "segmented")
    _require(summary, _NEEDED, "summary")
    frame = segmented.select("customer_id", "segment").join(
        summary.select(_NEEDED), on="customer_id", how="left"
    )
    aggs = [
        pl.len().cast(pl.Int64).alias("customers"),
        pl.col("revenue").sum().alias("revenue"),
        pl.col("recency_days").mean().alias("mean_recency_days"),
        pl.col("purchase_days").mean().alias("mean_purchase_days"),
        pl.col("revenue").mean().alias("mean_revenue"),
    ]
    if clv is not None:
        _require(clv, ("customer_id", "clv"), "clv")
        frame = frame.join(clv.select("customer_id", "clv"), on="customer_id", how="left")
        aggs.append(pl.col("clv").mean().alias("mean_clv"))
    total_revenue = frame["revenue"].sum()
    out = frame.group_by("segment").agg(aggs).sort("customers", "segment", descending=[True, False])
    return out.with_columns(
        (pl.col("customers") / frame.height).alias("share"),
        (pl.col("revenue") / total_revenue if total_revenue else pl.lit(None, pl.Float64)).alias(
            "revenue_share"
        ),
    ).select("segment", "customers", "share", "revenue", "revenue_share", *_mean_columns(clv))


def _mean_columns(clv: pl.DataFrame | None) -> list[str]:
    names = ["mean_recency_days", "mean_purchase_days", "mean_revenue"]
    return [*names, "mean_clv"] if clv is not None else names


def compare_segmentations(a: pl.DataFrame, b: pl.DataFrame) -> pl.DataFrame:
    """How many customers move from each segment of `a` to each segment of `b`.

    Both frames have `customer_id, segment`; customers in only one of them are left out.
    Returns one row per segment of `a` (`segment`, sorted) and one Int64 column per segment
    of `b` (sorted), holding counts (0 where nobody moves); the diagonal is who stays.
    """
    _require(a, ("customer_id", "segment"), "a")
    _require(b, ("customer_id", "segment"), "b")
    pairs = (
        a.select("customer_id", pl.col("segment").cast(pl.String).alias("from"))
        .join(
            b.select("customer_id", pl.col("segment").cast(pl.String).alias("to")),
            on="customer_id",
        )
        .group_by("from", "to")
        .len()
    )
    targets = sorted(pairs["to"].unique().to_list())
    wide = pairs.pivot(on="to", index="from", values="len").fill_null(0)
    wide = wide.with_columns([pl.lit(0, pl.UInt32).alias(t) for t in targets if t not in wide])
    return wide.select(
        pl.col("from").alias("segment"), *[pl.col(t).cast(pl.Int64) for t in targets]
    ).sort("segment")


def segment_label(name: str, lang: str = "pt_BR") -> str:
    """A default segment or tier name in `lang`; names an analyst made up stay as they are."""
    key = f"segments.label.{name}"
    text = translate(key, lang)
    return name if text == key else text


def _default_as_of(con: Any) -> date:
    """The local date of the latest order, or today (business time zone) with no orders."""
    row = query_frame(con, "SELECT coalesce(max(ordered_at::DATE), current_date) AS d FROM orders")
    return row["d"][0]


def _sizes(frame: pl.DataFrame, column: str, order: tuple[str, ...]) -> list[dict[str, Any]]:
    sizes = frame.group_by(column).agg(pl.len().alias("customers"), pl.col("revenue").sum())
    rows = {row[column]: row for row in sizes.iter_rows(named=True)}
    total = max(frame.height, 1)
    return [
        {
            column: name,
            "customers": int(rows[name]["customers"]) if name in rows else 0,
            "share": round(int(rows[name]["customers"]) / total, 6) if name in rows else 0.0,
            "revenue": round(float(rows[name]["revenue"]), 2) if name in rows else 0.0,
        }
        for name in order
    ]


def segments_cli_payload(db: str | None, config_file: str | None, as_of: date | None) -> dict:
    """`python -m crm_core segments --json`: the config used, sizes per segment and tier.

    The config comes from `config_file` (JSON, as written by `SegmentConfig.to_json`) when
    given, else the latest saved one, else the default. `as_of` defaults to the local date
    of the latest order. Sizes list every possible label, zeros included. Tiers rank on
    revenue here (no model is fitted); a config that insists on CLV is refused.
    """
    if config_file:
        try:
            text = Path(config_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise VinculoError("segments.config_file", path=config_file, detail=str(exc)) from None
        config, source, version = SegmentConfig.from_json(text), "file", None
    with store.connect(db) as con:
        if not config_file:
            config, version = latest_config(con)
            source = "saved" if version else "default"
        day = as_of or _default_as_of(con)
        summary = customer_summary(con, day, window_days=config.window_days)
    segmented = segment_customers(summary, config).with_columns(summary["revenue"])
    scored = segmented.filter(pl.col("r_score").is_not_null())
    return {
        "as_of": day.isoformat(),
        "config_source": source,
        "config_version": version,
        "config": config.to_dict(),
        "totals": {
            "customers": segmented.height,
            "scored_customers": scored.height,
            "no_purchase": segmented.height - scored.height,
            "revenue": round(float(segmented["revenue"].sum()), 2),
        },
        "segments": _sizes(segmented, "segment", config.segment_names),
        "tiers": _sizes(segmented, "tier", (*config.tiers.names, config.no_purchase)),
    }

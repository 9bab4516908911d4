"""Relationship management (Buttle's CRM value chain, stage 5) measured against targets.

Buttle's fifth primary stage manages the customer life cycle: **acquisition**, **retention**
and **development**. Each stage is read per calendar period (`crm_core.relationship_series`
measures the series) and compared with the target the user set on the Settings page
(`crm_core.settings`, `BusinessSettings.targets`). `METRICS` lists every metric: KPI-backed
ones keep the definitions of `crm_core.kpi_defs`; first-order value, revenue per active
customer and cross-buying are defined in `crm_core.relationship_series`; **tier upgrades**
compare value tiers (`crm_core.tiers`, best first) at two as-of dates (`tier_movements`).

Targets — one number per metric id and per period:

- counts and money that add up over days (`new_customers`, `net_revenue`) are set **per
  calendar month** and pro-rated to other periods by `month_share` (a whole month counts 1,
  June 1–15 counts 0.5, an ISO week about 0.23);
- every other target (rates, averages, active customers, scores) applies as set, whatever
  the period's length.

Gap = actual − target (in the metric's unit; rate points for rates); gap share = gap /
|target| (None when the target is 0). Status: ``on_track`` when the actual is no worse than
the target by more than `TargetRules.tolerance` × |target| (worse = lower for a
higher-is-better metric, higher for churn), ``behind`` otherwise, ``no_target`` without a
target and ``no_data`` when the actual cannot be measured.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

import duckdb
import polars as pl

from crm_core.errors import VinculoError
from crm_core.kpi_defs import KPIS, Subset
from crm_core.kpis import kpi_table
from crm_core.period import Period
from crm_core.segments import compare_segmentations
from crm_core.settings import MONTHLY_TARGETS, TARGET_KPI_IDS, TARGET_KPIS, BusinessSettings

Stage = Literal["acquisition", "retention", "development", "satisfaction"]
STAGES: tuple[str, ...] = ("acquisition", "retention", "development")
"""Buttle's relationship-management stages, in page order (satisfaction is scored elsewhere)."""
STATUSES: tuple[str, ...] = ("on_track", "behind", "no_target", "no_data")


@dataclass(frozen=True)
class Metric:
    """One relationship metric: its stage, unit, direction and where its value comes from.

    `kpi`: the `crm_core.kpi_defs.KPIS` key computing it (None: defined in
    `crm_core.relationship_series` or here); `additive`: its target is set per calendar month
    and pro-rated (`month_share`; `crm_core.settings.MONTHLY_TARGETS`).
    """

    key: str
    stage: Stage
    unit: Literal["count", "money", "rate", "score"]
    higher_is_better: bool = True
    kpi: str | None = None
    additive: bool = False


def _kpi(key: str, stage: Stage) -> Metric:
    """A metric a target can be set for, computed by the KPI Settings names for it."""
    d = KPIS[TARGET_KPI_IDS[key]]
    return Metric(key, stage, d.unit, d.higher_is_better, d.key, key in MONTHLY_TARGETS)


METRICS: dict[str, Metric] = {
    m.key: m
    for m in (
        _kpi("new_customers", "acquisition"),
        Metric("first_order_value", "acquisition", "money"),
        _kpi("active_customers", "retention"),
        _kpi("retention_rate", "retention"),
        _kpi("churn_rate", "retention"),
        _kpi("repeat_purchase_rate", "retention"),
        _kpi("net_revenue", "development"),
        Metric("revenue_per_active_customer", "development", "money"),
        Metric("cross_buying_rate", "development", "rate"),
        _kpi("average_clv", "development"),
        Metric("tier_upgrade_rate", "development", "rate"),
        _kpi("csat", "satisfaction"),
        _kpi("nps", "satisfaction"),
    )
}
"""Every metric by id, in page order. Where a target can be set, the id is the target id of
`crm_core.settings.TARGET_KPIS` (`net_revenue` = KPI `revenue`, `average_clv` = `avg_clv`:
`TARGET_KPI_IDS`)."""

SERIES_METRICS: tuple[str, ...] = tuple(
    k for k, m in METRICS.items() if m.stage in STAGES and k != "tier_upgrade_rate"
)
"""Metrics measured per period (`crm_core.relationship_series`; tier upgrades need two
as-of dates)."""


@dataclass(frozen=True)
class TargetRules:
    """How strictly actuals are held to targets: `tolerance` = share of |target| (0–1) an
    actual may fall short of it (exceed it, for lower-is-better metrics) and still be on track."""

    tolerance: float = 0.05

    def __post_init__(self) -> None:
        if not 0.0 <= self.tolerance <= 1.0:
            raise VinculoError("relationships.bad_tolerance", value=self.tolerance)


# ---- periods and targets -----------------------------------------------------------------------


def month_share(period: Period) -> float:
    """How many calendar months `period` covers: the sum, over the months it touches, of its
    days in that month / the month's days (1.0 for a whole month, 0.5 for June 1–15)."""
    share, day = 0.0, period.start
    while day <= period.end:
        length = calendar.monthrange(day.year, day.month)[1]
        last = min(period.end, day.replace(day=length))
        share += ((last - day).days + 1) / length
        day = last + timedelta(days=1)
    return share


def period_target(metric: str, target: float | None, period: Period) -> float | None:
    """`target` as it applies to `period`: pro-rated by `month_share` for additive metrics."""
    if target is None:
        return None
    return target * month_share(period) if METRICS[metric].additive else float(target)


def compare_to_targets(
    actuals: pl.DataFrame, targets: dict[str, float], rules: TargetRules = TargetRules()
) -> pl.DataFrame:
    """`actuals` (`metric`, `start`, `end`, `actual`, any other columns) with `target` (as it
    applies to the row's period), `gap`, `gap_share` and `status` added (module docstring)."""
    unknown = [m for m in actuals["metric"].unique().to_list() if m not in METRICS]
    if unknown:
        raise VinculoError("relationships.unknown_metric", names=", ".join(sorted(unknown)))
    rows = actuals.select("metric", "start", "end").iter_rows()  # metrics × periods, not customers
    target = [period_target(m, targets.get(m), Period(s, e)) for m, s, e in rows]
    better = [METRICS[m].higher_is_better for m in actuals["metric"]]
    out = actuals.with_columns(
        target=pl.Series(target, dtype=pl.Float64), _better=pl.Series(better, dtype=pl.Boolean)
    ).with_columns(gap=pl.col("actual") - pl.col("target"))
    slack = rules.tolerance * pl.col("target").abs()
    fine = (
        pl.when(pl.col("_better")).then(pl.col("gap") >= -slack).otherwise(pl.col("gap") <= slack)
    )
    status = (
        pl.when(pl.col("target").is_null())
        .then(pl.lit("no_target"))
        .when(pl.col("actual").is_null())
        .then(pl.lit("no_data"))
        .when(fine)
        .then(pl.lit("on_track"))
        .otherwise(pl.lit("behind"))
    )
    share = pl.when(pl.col("target") != 0).then(pl.col("gap") / pl.col("target").abs())
    return out.with_columns(gap_share=share, status=status).drop("_better")


def scorecard(
    series: pl.DataFrame,
    targets: dict[str, float],
    rules: TargetRules = TargetRules(),
    tier_upgrade_rate: float | None = None,
) -> pl.DataFrame:
    """The last period of `relationship_series(...).series` (plus `tier_upgrade_rate`,
    measured over that period, when given) against `targets`: `stage`, `metric`, `start`,
    `end`, `actual`, `target`, `gap`, `gap_share`, `status` (`compare_to_targets`), in
    `METRICS` order."""
    last = series.filter(pl.col("bucket") == pl.col("bucket").max()).drop("bucket")
    if tier_upgrade_rate is not None and last.height:
        tier = last.head(1).with_columns(metric=pl.lit("tier_upgrade_rate"),
                                         actual=pl.lit(tier_upgrade_rate, pl.Float64))  # fmt: skip
        last = pl.concat([last, tier])
    stages = [METRICS[m].stage for m in last["metric"]]
    out = compare_to_targets(last, targets, rules).with_columns(
        stage=pl.Series(stages, dtype=pl.String)
    )
    order = pl.col("metric").replace_strict({m: i for i, m in enumerate(METRICS)})
    return out.sort(order).select("stage", "metric", "start", "end", "actual", "target", "gap",
                                  "gap_share", "status")  # fmt: skip


def kpis_against_targets(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    settings: BusinessSettings,
    customers: Subset = None,
    clv: pl.DataFrame | None = None,
    rules: TargetRules = TargetRules(),
) -> pl.DataFrame:
    """Every KPI a target can be set for (`crm_core.settings.TARGET_KPIS`, in that order),
    measured over `period` and compared with `settings.targets` — Payne & Frow's performance
    assessment. Stable API, one row per KPI:

    - `kpi` (String): the target id (`net_revenue`, `average_clv` … as in Settings);
    - `actual` (Float64): `crm_core.kpis.kpi_table(con, period, customers, clv)`'s value
      (null when it cannot be measured, e.g. average CLV without a `clv` frame);
    - `target` (Float64): the target as it applies to `period` (`period_target`), null if unset;
    - `gap` = actual − target, `gap_share` = gap / |target| (Float64, null without both);
    - `status` (String): on_track | behind | no_target | no_data (see `TargetRules`).

    Units and directions per id: `METRICS[kpi]`.
    """
    table = kpi_table(con, period, customers, clv)
    values = dict(zip(table["kpi"], table["value"], strict=True))
    actuals = pl.DataFrame(
        {
            "metric": list(TARGET_KPIS),
            "start": [period.start] * len(TARGET_KPIS),
            "end": [period.end] * len(TARGET_KPIS),
            "actual": [values.get(METRICS[k].kpi or k) for k in TARGET_KPIS],
        },
        schema={"metric": pl.String, "start": pl.Date, "end": pl.Date, "actual": pl.Float64},
    )
    out = compare_to_targets(actuals, settings.targets, rules)
    return out.select(pl.col("metric").alias("kpi"), "actual", "target", "gap", "gap_share",
                      "status")  # fmt: skip


# ---- value-tier migration -----------------------------------------------------------------------


def tier_matrix(before: pl.DataFrame, after: pl.DataFrame, order: tuple[str, ...]) -> pl.DataFrame:
    """Customers moving from each value tier at a first as-of date (`before`, rows) to each
    tier at a second one (`after`, columns): `crm_core.segments.compare_segmentations` of the
    `tier` columns, rows and columns in `order` (tiers best first, then the no-purchase
    label), every one present (zeros), then any other label. Row label column: `tier`."""
    pairs = [
        f.select("customer_id", segment=pl.col("tier").cast(pl.String)) for f in (before, after)
    ]
    matrix = compare_segmentations(*pairs).rename({"segment": "tier"})
    seen = set(matrix["tier"]) | set(matrix.columns[1:])
    labels = [*order, *sorted(seen - set(order))]
    matrix = matrix.with_columns(pl.lit(0, pl.Int64).alias(c) for c in labels if c not in matrix)
    rows = pl.DataFrame({"tier": labels}, schema={"tier": pl.String})
    full = rows.join(matrix, on="tier", how="left", maintain_order="left")
    return full.select("tier", *[pl.col(c).fill_null(0) for c in labels])


def tier_movements(matrix: pl.DataFrame, tiers: tuple[str, ...]) -> dict[str, float | int | None]:
    """Counts of a `tier_matrix` by kind of move; `tiers` = the tier names, best first (any
    other label, e.g. "No purchase", is untiered).

    `stayed`, `upgraded` (to a better tier), `downgraded` (to a worse one), `left` (tiered →
    untiered), `tiered_before` (their sum: customers tiered at the first date), `entered`
    (untiered → tiered: first purchase in between), `upgrade_rate` = upgraded / tiered_before
    and `downgrade_rate` = downgraded / tiered_before (0–1; None when nobody was tiered).
    """
    rank = {name: i for i, name in enumerate(tiers)}
    long = matrix.unpivot(index="tier", variable_name="to", value_name="n").with_columns(
        a=pl.col("tier").replace_strict(rank, default=None, return_dtype=pl.Int64),
        b=pl.col("to").replace_strict(rank, default=None, return_dtype=pl.Int64),
    )
    a, b, n = pl.col("a"), pl.col("b"), pl.col("n")
    moves = long.select(
        stayed=n.filter(a == b).sum(), upgraded=n.filter(b < a).sum(),
        downgraded=n.filter(b > a).sum(), left=n.filter(a.is_not_null() & b.is_null()).sum(),
        entered=n.filter(a.is_null() & b.is_not_null()).sum(),
    ).row(0, named=True)  # fmt: skip
    out: dict[str, float | int | None] = {k: int(v or 0) for k, v in moves.items()}
    base = int(out["stayed"] + out["upgraded"] + out["downgraded"] + out["left"])  # type: ignore[operator]
    out["tiered_before"] = base
    out["upgrade_rate"] = out["upgraded"] / base if base else None  # type: ignore[operator]
    out["downgrade_rate"] = out["downgraded"] / base if base else None  # type: ignore[operator]
    return out

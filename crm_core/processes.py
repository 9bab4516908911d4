"""Payne & Frow's five cross-functional CRM processes as a scorecard of live metrics.

Payne & Frow (2005) frame CRM strategy as five processes: **strategy development**,
**value creation**, **multichannel integration**, **performance assessment** and
**information management**. Each process is scored 0–100 here from *components*: metrics
the app computes from the store (their definitions live in the modules named below) and the
related area scores of the self-assessments (`crm_core.assessments`, already 0–100).

Components, raw values and their normalisation to 0–100 (`normalise`; v = raw value):

- strategy development
  - `segmented_share`: share of buyers (customers with a purchase) whose RFM segment is
    one of the configuration's named segments (not the catch-all) and who have a value tier
    (`crm_core.segments`); score 100·v.
  - `active_rules`: rules in the Customize rule set in use ("default": the latest saved
    version, else the built-in rules; `crm_core.customize.load_rules`); score
    100·min(1, v / s) where s = the named segments of the configuration (one rule per
    segment scores 100).
  - `qci.analysis_planning` (QCi area score).
- value creation
  - `average_clv`: average CLV of the period's active customers (KPI `avg_clv`, BRL);
    score 100·min(1, v / target) with the Settings target `average_clv`; unscored without
    a target.
  - `clv_trend`: relative change of that average against the previous period of equal
    length (same CLV model; 0.05 = +5 %); score 50 + 50·clip(v / span, −1, 1), span =
    `ProcessConfig.clv_trend_span` (−span or worse → 0, flat → 50, +span or better → 100).
  - `revenue_gini`: Gini coefficient of the buyers' net revenue to date
    (`crm_core.differentiate.concentration`); score 100·(1 − v): revenue spread over many
    customers scores higher than revenue resting on a few.
  - `qci.proposition`.
- multichannel integration
  - `multichannel_share`: share of buyers who bought through two or more sales channels up
    to the as-of date (`n_channels` of `crm_core.summary`); score 100·v.
  - `csat_spread`: highest minus lowest CSAT (share of answers 4–5, `crm_core.kpi_defs.csat`)
    across the feedback channels with at least `min_base` answers in the period; score
    100·(1 − v). Unscored with fewer than two such channels.
  - `response_balance`: lowest ÷ highest outbound response rate
    (`crm_core.interact.channel_rates`) across the channels with at least `min_base`
    outbound contacts with an outcome in the period; score 100·v (1 = every channel gets
    answered alike). Unscored with fewer than two such channels.
  - `qci.customer_experience`.
- performance assessment
  - `kpis_on_target`: share of the KPIs with a target (Settings) and a measured value that
    are on track (`crm_core.relationship_mgmt.kpis_against_targets`); score 100·v;
    unscored when no target is set.
  - `qci.measuring_effect`.
- information management
  - `quality_score`: the data-quality score (`crm_core.quality.quality_score`, overall,
    0–1); score 100·v.
  - `duplicate_rate`: share of golden records that are still duplicates, as the Identity page
    shows it (`crm_core.identity_review.resolution_overview`, default thresholds); score
    100·(1 − v).
  - `support.it_data` (support-conditions area score).

A process's score is the mean of its components' scores that exist (None when none does);
its traffic light is green at `ProcessConfig.green` or above, amber at `amber` or above, red
below, grey (`no_data`) without a score. The scorecard measures the whole customer base at
the as-of date and over the KPI period.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import duckdb
import polars as pl

from crm_core import assessments
from crm_core.customize import load_rules
from crm_core.differentiate import buyer_values, concentration, value_base
from crm_core.errors import VinculoError
from crm_core.identity import candidate_pairs, record_ranking
from crm_core.identity_review import resolution_overview
from crm_core.interact import channel_rates, period_interactions
from crm_core.kpi_defs import avg_clv
from crm_core.kpi_query import midnight
from crm_core.period import Period
from crm_core.quality import customer_checks, quality_score
from crm_core.relationship_mgmt import kpis_against_targets
from crm_core.segment_config import SegmentConfig
from crm_core.segments import segment_customers
from crm_core.settings import BusinessSettings, load_settings
from crm_core.summary import customer_summary, query_frame

PROCESSES: tuple[str, ...] = (
    "strategy_development", "value_creation", "multichannel_integration",
    "performance_assessment", "information_management",
)  # fmt: skip


@dataclass(frozen=True)
class Component:
    """One scored part of a process: its id, unit of the raw value and the page showing it.

    Units: `share` (0–1), `count`, `money` (BRL), `change` (relative, 0.05 = +5 %), `index`
    (a 0–1 index such as Gini), `score` (an assessment area score, 0–100).
    """

    key: str
    process: str
    unit: str
    page: str


COMPONENTS: tuple[Component, ...] = (
    Component("segmented_share", "strategy_development", "share", "differentiate"),
    Component("active_rules", "strategy_development", "count", "customize"),
    Component("qci.analysis_planning", "strategy_development", "score", "assessments"),
    Component("average_clv", "value_creation", "money", "clv"),
    Component("clv_trend", "value_creation", "change", "clv"),
    Component("revenue_gini", "value_creation", "index", "differentiate"),
    Component("qci.proposition", "value_creation", "score", "assessments"),
    Component("multichannel_share", "multichannel_integration", "share", "overview"),
    Component("csat_spread", "multichannel_integration", "share", "overview"),
    Component("response_balance", "multichannel_integration", "index", "interact"),
    Component("qci.customer_experience", "multichannel_integration", "score", "assessments"),
    Component("kpis_on_target", "performance_assessment", "share", "relationships"),
    Component("qci.measuring_effect", "performance_assessment", "score", "assessments"),
    Component("quality_score", "information_management", "share", "quality"),
    Component("duplicate_rate", "information_management", "share", "identity"),
    Component("support.it_data", "information_management", "score", "assessments"),
)
"""Every component, grouped by process in `PROCESSES` order (module docstring)."""


@dataclass(frozen=True)
class ProcessConfig:
    """Thresholds of the scorecard: traffic-light cut points (0–100), the smallest base for a
    channel to count (answers or outbound contacts) and the CLV-trend span (relative change
    scoring 0 or 100)."""

    green: float = 70.0
    amber: float = 40.0
    min_base: int = 20
    clv_trend_span: float = 0.10

    def __post_init__(self) -> None:
        if not 0.0 <= self.amber <= self.green <= 100.0 or self.min_base < 1:
            raise VinculoError("processes.bad_config")
        if self.clv_trend_span <= 0:
            raise VinculoError("processes.bad_config")


@dataclass(frozen=True)
class Inputs:
    """The raw value of every component (None = cannot be measured), the counts a
    normalisation needs (`segments`, `kpis_with_target`) and the CLV target (None: unset).
    `areas`: assessment area scores keyed `qci.<area>` / `support.<area>` (0–100)."""

    segmented_share: float | None = None
    active_rules: int | None = None
    segments: int = 0
    average_clv: float | None = None
    clv_target: float | None = None
    clv_trend: float | None = None
    revenue_gini: float | None = None
    multichannel_share: float | None = None
    csat_spread: float | None = None
    response_balance: float | None = None
    kpis_on_target: float | None = None
    kpis_with_target: int = 0
    quality_score: float | None = None
    duplicate_rate: float | None = None
    areas: dict[str, float | None] = field(default_factory=dict)

    def raw(self, key: str) -> float | None:
        """The raw value of component `key`."""
        value = self.areas.get(key) if "." in key else getattr(self, key)
        return None if value is None else float(value)


# ---- raw metrics from frames ----------------------------------------------------------------


def segmented_share(segmented: pl.DataFrame, config: SegmentConfig) -> float | None:
    """Share (0–1) of buyers (segment ≠ `config.no_purchase`) in a named segment (a rule's,
    not `config.catch_all`) with a tier; None without buyers."""
    seg, tier = pl.col("segment").cast(pl.String), pl.col("tier").cast(pl.String)
    buyers = segmented.filter(seg != config.no_purchase)
    if buyers.height == 0:
        return None
    named = (seg != config.catch_all) & tier.is_not_null() & (tier != config.no_purchase)
    return float(buyers.select(named.mean()).item())


def multichannel_share(summary: pl.DataFrame) -> float | None:
    """Share (0–1) of buyers (`purchase_days` > 0) with `n_channels` ≥ 2; None without buyers."""
    buyers = summary.filter(pl.col("purchase_days") > 0)
    return (
        float(buyers.select((pl.col("n_channels") >= 2).mean()).item()) if buyers.height else None
    )


def channel_csat(con: duckdb.DuckDBPyConnection, period: Period) -> pl.DataFrame:
    """CSAT per feedback channel over `period`'s local days (`feedback_facts`, answers with a
    CSAT): `channel` ("unknown" when missing), `answers`, `csat` (share of 4–5, 0–1)."""
    start, end = midnight(period.start), midnight(period.end + timedelta(days=1))
    sql = f"""SELECT coalesce(channel, 'unknown') AS channel, count(*) AS answers,
            avg((csat >= 4)::DOUBLE) AS csat
        FROM feedback_facts
        WHERE csat IS NOT NULL AND answered_at >= {start} AND answered_at < {end}
        GROUP BY ALL ORDER BY channel"""
    return query_frame(con, sql)


def spread(frame: pl.DataFrame, value: str, base: str, min_base: int) -> float | None:
    """max − min of `value` over the rows with `base` ≥ `min_base` and a value; None with
    fewer than two such rows."""
    kept = frame.filter((pl.col(base) >= min_base) & pl.col(value).is_not_null())[value]
    return float(kept.max() - kept.min()) if kept.len() >= 2 else None  # type: ignore[operator]


def response_balance(rates: pl.DataFrame, min_base: int) -> float | None:
    """Lowest ÷ highest `response_rate` of `channel_rates` rows with `outbound` ≥ `min_base`;
    None with fewer than two such channels or when the highest is 0."""
    kept = rates.filter((pl.col("outbound") >= min_base) & pl.col("response_rate").is_not_null())
    top = kept["response_rate"].max() if kept.height >= 2 else None
    return float(kept["response_rate"].min() / top) if top else None  # type: ignore[operator]


def on_target_share(against: pl.DataFrame) -> tuple[float | None, int]:
    """Share of `kpis_against_targets` rows on track among those on track or behind, and how
    many those are (None, 0 when no KPI has both a target and a value)."""
    judged = against.filter(pl.col("status").is_in(["on_track", "behind"]))
    if judged.height == 0:
        return None, 0
    return float((judged["status"] == "on_track").mean()), judged.height  # type: ignore[arg-type]


def relative_change(value: float | None, previous: float | None) -> float | None:
    """(value − previous) / |previous|; None when either is missing or previous is 0."""
    if value is None or not previous:
        return None
    return (value - previous) / abs(previous)


def area_inputs(
    support: assessments.Assessment | None, qci: assessments.Assessment | None
) -> dict[str, float | None]:
    """`Inputs.areas` from the latest assessments (areas of a missing assessment: None)."""
    out: dict[str, float | None] = {}
    for prefix, kind, taken in (("support", "support_conditions", support), ("qci", "qci", qci)):
        scores = taken.area_scores() if taken else dict.fromkeys(assessments.areas(kind))
        out.update({f"{prefix}.{area}": score for area, score in scores.items()})
    return out


# ---- scoring ----------------------------------------------------------------------------------


def _clip(x: float) -> float:
    return min(max(x, 0.0), 100.0)


def normalise(key: str, inputs: Inputs, config: ProcessConfig) -> float | None:
    """Component `key`'s score 0–100 (module docstring); None when it cannot be scored."""
    v = inputs.raw(key)
    if v is None:
        return None
    if "." in key or key in ("segmented_share", "multichannel_share", "quality_score",
                             "response_balance", "kpis_on_target"):  # fmt: skip
        return _clip(v if "." in key else 100.0 * v)
    if key in ("revenue_gini", "csat_spread", "duplicate_rate"):
        return _clip(100.0 * (1.0 - v))
    if key == "active_rules":
        return _clip(100.0 * v / inputs.segments) if inputs.segments else None
    if key == "average_clv":
        return _clip(100.0 * v / inputs.clv_target) if inputs.clv_target else None
    if key == "clv_trend":
        return _clip(50.0 + 50.0 * v / config.clv_trend_span)
    raise VinculoError("processes.unknown_component", name=key)


def scorecard(inputs: Inputs, config: ProcessConfig = ProcessConfig()) -> pl.DataFrame:
    """One row per component, in `COMPONENTS` order: `process, component, unit, value` (raw,
    in its unit), `score` (0–100, null when unscored), `page` (the page showing it)."""
    rows = [
        (c.process, c.key, c.unit, inputs.raw(c.key), normalise(c.key, inputs, config), c.page)
        for c in COMPONENTS
    ]
    schema = {"process": pl.String, "component": pl.String, "unit": pl.String,
              "value": pl.Float64, "score": pl.Float64, "page": pl.String}  # fmt: skip
    return pl.DataFrame(rows, schema=schema, orient="row")


def light(score: pl.Expr, config: ProcessConfig) -> pl.Expr:
    """Traffic light of a 0–100 score: green / amber / red, `no_data` when null."""
    return (
        pl.when(score.is_null()).then(pl.lit("no_data"))
        .when(score >= config.green).then(pl.lit("green"))
        .when(score >= config.amber).then(pl.lit("amber"))
        .otherwise(pl.lit("red"))
    )  # fmt: skip


def process_scores(
    components: pl.DataFrame, config: ProcessConfig = ProcessConfig()
) -> pl.DataFrame:
    """Per process, in `PROCESSES` order: `process`, `score` (mean of its component scores
    that exist, 0–100; null when none does), `light`, `scored` and `components` (counts)."""
    order = pl.DataFrame({"process": list(PROCESSES)})
    agg = components.group_by("process").agg(
        score=pl.col("score").mean(), scored=pl.col("score").count().cast(pl.Int64),
        components=pl.len().cast(pl.Int64),
    )  # fmt: skip
    joined = order.join(agg, on="process", how="left", maintain_order="left")
    return joined.with_columns(light=light(pl.col("score"), config)).select(
        "process", "score", "light", "scored", "components"
    )


# ---- the whole scorecard from the store ------------------------------------------------------


@dataclass(frozen=True)
class Parts:
    """What the components are measured from, each the output of the function named:
    `summary` (`customer_summary` at as-of), `segmented` (`segment_customers`), `rules`
    (rules in `load_rules`), `against` (`kpis_against_targets` over the period),
    `clv_before` (`avg_clv` of the previous period), `csat` (`channel_csat`), `rates`
    (`channel_rates` of the period's interactions), `duplicate_rate` (Identity page
    overview), `quality` (overall `quality_score`), the latest assessments."""

    config: SegmentConfig
    summary: pl.DataFrame
    segmented: pl.DataFrame
    rules: int
    settings: BusinessSettings
    against: pl.DataFrame
    clv_before: float | None
    csat: pl.DataFrame
    rates: pl.DataFrame
    duplicate_rate: float | None
    quality: float | None
    support: assessments.Assessment | None
    qci: assessments.Assessment | None


def inputs_of(parts: Parts, scoring: ProcessConfig = ProcessConfig()) -> Inputs:
    """Every component's raw value from `parts` (module docstring)."""
    on_target, judged = on_target_share(parts.against)
    clv_now = parts.against.filter(pl.col("kpi") == "average_clv")["actual"].item()
    return Inputs(
        segmented_share=segmented_share(parts.segmented, parts.config),
        active_rules=parts.rules, segments=len(parts.config.rules),
        average_clv=clv_now, clv_target=parts.settings.targets.get("average_clv"),
        clv_trend=relative_change(clv_now, parts.clv_before),
        revenue_gini=concentration(buyer_values(value_base(parts.summary), "revenue")).gini,
        multichannel_share=multichannel_share(parts.summary),
        csat_spread=spread(parts.csat, "csat", "answers", scoring.min_base),
        response_balance=response_balance(parts.rates, scoring.min_base),
        kpis_on_target=on_target, kpis_with_target=judged,
        quality_score=parts.quality, duplicate_rate=parts.duplicate_rate,
        areas=area_inputs(parts.support, parts.qci),
    )  # fmt: skip


def store_parts(
    con: duckdb.DuckDBPyConnection, period: Period, clv: pl.DataFrame | None
) -> dict[str, Any]:
    """The parts read from the store alone (no customer summary): `rules`, `settings`,
    `against`, `clv_before`, `csat`, the latest `support` and `qci` assessments."""
    settings = load_settings(con)
    return {
        "rules": len(load_rules(con).rules),
        "settings": settings,
        "against": kpis_against_targets(con, period, settings, clv=clv),
        "clv_before": avg_clv(con, period.previous(), clv=clv) if clv is not None else None,
        "csat": channel_csat(con, period),
        "support": assessments.load_assessment(con, "support_conditions"),
        "qci": assessments.load_assessment(con, "qci"),
    }


def measure_parts(
    con: duckdb.DuckDBPyConnection,
    as_of: date,
    period: Period,
    config: SegmentConfig,
    clv: pl.DataFrame | None,
) -> Parts:
    """Every part measured on the store (the whole customer base) at `as_of` and over
    `period`; `clv`: the CLV model's `customer_id, clv` at `as_of` (None: unfitted)."""
    summary = customer_summary(con, as_of, window_days=config.window_days)
    ident = resolution_overview(con, candidate_pairs(con), record_ranking(con))
    return Parts(
        config=config, summary=summary, segmented=segment_customers(summary, config, clv),
        rates=channel_rates(period_interactions(con, period)),
        duplicate_rate=float(ident["duplicate_rate"]),
        quality=dict(quality_score(customer_checks(con)).iter_rows())["overall"],
        **store_parts(con, period, clv),
    )  # fmt: skip

"""Retention (survival) curves: Kaplan–Meier estimate of P(still active) by tenure.

Kaplan, E. L. & Meier, P. (1958), "Nonparametric estimation from incomplete observations",
*Journal of the American Statistical Association* 53(282), 457-481.

Each buyer (≥ 1 purchase day) is followed from its first purchase day:
- a *churned* customer (life-cycle stage `dissolution`, see `crm_core.loyalty`) has an event
  at its churn day = last purchase + churn window, capped at the as-of date;
- every other buyer is *censored* at the as-of date (still active when last seen).
Duration d = event or censoring day − first purchase day, in days. At every distinct duration
t_i with d_i events and n_i customers still at risk (duration ≥ t_i; a customer censored at
t_i counts as at risk there), the estimate is S(t) = Π_{t_i ≤ t} (1 − d_i / n_i).
Months are days / 30.4375 (mean Gregorian month).

Because churn is only declared after a full churn window without purchases, no customer can
churn before `churn_window_days` of tenure: the curves start flat.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from crm_core.errors import VinculoError
from crm_core.loyalty import CHURNED_STAGE, beside

DAYS_PER_MONTH = 30.4375
"""Mean Gregorian month length in days (365.25 / 12)."""

SURVIVAL_COLUMNS: tuple[str, ...] = (
    "group",
    "days",
    "months",
    "at_risk",
    "events",
    "censored",
    "survival",
)


def durations(
    summary: pl.DataFrame,
    staged: pl.DataFrame,
    group_col: str,
    as_of: date,
    churn_window_days: int,
) -> pl.DataFrame:
    """Per buyer: `group` (String, null group → "—"), `days` (Int64 duration), `churned`.

    `group_col` is read from `staged` when it has that column, else from `summary`.
    """
    if churn_window_days < 1:
        raise VinculoError("loyalty.bad_days", name="churn_window_days", value=churn_window_days)
    source = staged if group_col in staged.columns else summary
    if group_col not in source.columns:
        raise VinculoError("loyalty.missing_columns", what="summary", columns=group_col)
    groups = source.select("customer_id", group=pl.col(group_col).cast(pl.String))
    facts = summary.select("customer_id", "first_purchase", "last_purchase", "purchase_days")
    stages = staged.select("customer_id", churned=pl.col("stage").cast(pl.String) == CHURNED_STAGE)
    frame = beside(beside(facts, stages, ["churned"]), groups, ["group"])
    end = pl.min_horizontal(
        pl.col("last_purchase") + timedelta(days=churn_window_days), pl.lit(as_of)
    )
    stop = pl.when(pl.col("churned")).then(end).otherwise(pl.lit(as_of))
    return frame.filter(pl.col("purchase_days") >= 1).select(
        pl.col("group").fill_null("—"),
        days=(stop - pl.col("first_purchase")).dt.total_days().cast(pl.Int64),
        churned=pl.col("churned"),
    )


def kaplan_meier(frame: pl.DataFrame) -> pl.DataFrame:
    """Kaplan–Meier curves of `frame` (`group`, `days`, `churned`), one step per distinct time.

    Columns (`SURVIVAL_COLUMNS`): `group`, `days`, `months`, `at_risk` (n_i), `events` (d_i),
    `censored` (censored at t_i), `survival` (S(t_i), 0–1, non-increasing within a group).
    Each group starts with a row at 0 days with S = 1 unless it has a time-0 row already.
    Vectorised: one group-by on (group, days), reverse cumulative sums, cumulative products.
    """
    steps = (
        frame.group_by("group", "days")
        .agg(
            events=pl.col("churned").sum().cast(pl.Int64),
            censored=(~pl.col("churned")).sum().cast(pl.Int64),
        )
        .sort("group", "days")
        .with_columns(
            at_risk=(pl.col("events") + pl.col("censored"))
            .reverse()
            .cum_sum()
            .reverse()
            .over("group")
        )
        .with_columns(
            survival=(1.0 - pl.col("events") / pl.col("at_risk")).cum_prod().over("group")
        )
    )
    starts = (
        steps.group_by("group")
        .agg(at_risk=pl.col("at_risk").max(), first=pl.col("days").min())
        .filter(pl.col("first") > 0)
        .select(
            "group",
            days=pl.lit(0, pl.Int64),
            events=pl.lit(0, pl.Int64),
            censored=pl.lit(0, pl.Int64),
            at_risk="at_risk",
            survival=pl.lit(1.0),
        )
    )
    return (
        pl.concat([starts, steps.select(starts.columns)])
        .sort("group", "days")
        .with_columns(months=pl.col("days") / DAYS_PER_MONTH)
        .select(SURVIVAL_COLUMNS)
    )


def survival_curves(
    summary: pl.DataFrame,
    staged: pl.DataFrame,
    group_col: str,
    as_of: date,
    churn_window_days: int = 180,
) -> pl.DataFrame:
    """Kaplan–Meier P(still active) vs months since the first purchase, per `group_col` value.

    `summary` is `customer_summary` output, `staged` has `customer_id, stage` (and possibly
    `group_col`, e.g. `segment` or `tier` joined in); `group_col` can also be a summary column
    (`acquisition_channel`, `main_channel`). See the module docstring for the definitions;
    columns are `SURVIVAL_COLUMNS`, sorted by group then time.
    """
    return kaplan_meier(durations(summary, staged, group_col, as_of, churn_window_days))


def median_survival_months(curves: pl.DataFrame) -> pl.DataFrame:
    """Per group: the first time (months) at which S(t) ≤ 0.5; null when never reached."""
    reached = (
        curves.filter(pl.col("survival") <= 0.5)
        .group_by("group")
        .agg(median_months=pl.col("months").min())
    )
    return (
        curves.select("group")
        .unique(maintain_order=True)
        .join(reached, on="group", how="left", maintain_order="left")
    )


def curve_steps(curves: pl.DataFrame) -> pl.DataFrame:
    """The rows of `survival_curves` output where a curve changes, plus each group's first and
    last row: enough to draw the same step curve with far fewer points."""
    first = pl.col("days") == pl.col("days").min().over("group")
    last = pl.col("days") == pl.col("days").max().over("group")
    return curves.filter((pl.col("events") > 0) | first | last)

"""KPIs for the dashboard and the command line: headline table, trends, breakdowns.

The definitions live in `crm_core.kpi_defs` (one function each, docstring =
definition) and are re-exported here. This module asks the registry `KPIS`
for them so pages never hard-code a list:

- `kpi_table(con, period)`: every KPI for the period and the period of equal
  length just before it, with the change (headline cards);
- `kpi_trend(con, kpi, start, end, freq)`: one KPI per calendar month or week,
  one query for all buckets;
- `kpi_breakdown(con, kpi, period, groups)`: one KPI per customer group
  (segment, tier, stage, channel …), one query for all groups;
- `kpi_trends` / `kpi_breakdowns`: the same for several KPIs, sharing one
  per-customer pass over the orders;
- `kpis_cli_payload(db, as_of, period_days)`: what `python -m crm_core kpis --json` prints.

Names, one-line definitions and units for the UI are in `i18n/{en,pt_BR}/kpis.json`
under `kpi.<key>.name|definition|unit`.
"""

from __future__ import annotations

from datetime import date
from os import PathLike
from typing import Any

import duckdb
import polars as pl

from crm_core import store
from crm_core.errors import VinculoError
from crm_core.i18n import translate
from crm_core.kpi_defs import (
    KPIS,
    KpiDef,
    Subset,
    Value,
    active_customers,
    aov,
    avg_clv,
    churn_rate,
    contact_rate,
    contact_rate_by_channel,
    csat,
    csat_mean,
    new_customers,
    nps,
    repeat_purchase_rate,
    retention_rate,
    revenue,
)
from crm_core.kpi_query import Grain, registered, run, scalar
from crm_core.period import Freq, Period, bucket_start, check_freq

__all__ = [
    "KPIS",
    "KpiDef",
    "Period",
    "active_customers",
    "aov",
    "avg_clv",
    "churn_rate",
    "contact_rate",
    "contact_rate_by_channel",
    "csat",
    "csat_mean",
    "get_kpi",
    "kpi_breakdown",
    "kpi_breakdowns",
    "kpi_definition",
    "kpi_name",
    "kpi_table",
    "kpi_trend",
    "kpi_trends",
    "kpis_cli_payload",
    "last_order_date",
    "new_customers",
    "nps",
    "repeat_purchase_rate",
    "retention_rate",
    "revenue",
]


def get_kpi(key: str) -> KpiDef:
    """The registry entry for `key`, or a user-facing error naming the known keys."""
    if key not in KPIS:
        raise VinculoError("kpis.unknown_kpi", kpi=key, known=", ".join(KPIS))
    return KPIS[key]


def kpi_name(key: str, lang: str = "en") -> str:
    """The KPI's display name in `lang`."""
    return translate(f"{get_kpi(key).i18n_key}.name", lang)


def kpi_definition(key: str, lang: str = "en") -> str:
    """The KPI's one-line definition in `lang` (the dashboard's hover text)."""
    return translate(f"{get_kpi(key).i18n_key}.definition", lang)


def _grid(
    con: duckdb.DuckDBPyConnection,
    kpis: list[KpiDef],
    grain: Grain,
    customers: Subset,
    groups: pl.DataFrame | None = None,
    clv: pl.DataFrame | None = None,
) -> dict[str, dict[tuple[str | None, int], Value]]:
    """Per KPI, {(group, bucket index): value}: one query per KPI, frames registered once.

    When several KPIs read the orders, their per-customer, per-bucket aggregate
    is computed once and shared, and so is the scan of the history for fresh
    customers (first purchase in the buckets); a complement KPI (churn) is
    derived from the KPI it complements instead of being queried again.
    """
    with registered(con, grain, customers=customers, groups=groups, clv=clv) as q:
        if sum(kpi.uses_cb for kpi in kpis) < 2:
            return _run_all(con, kpis, q)
        buckets = run(con, f"SELECT * FROM {q.customer_buckets()}")
        with registered(con, q, cb=buckets) as shared:
            if sum(kpi.uses_fresh for kpi in kpis) < 2:
                return _run_all(con, kpis, shared)
            fresh = run(con, f"WITH {shared.cb_cte()} {shared.fresh_ids()}")
            with registered(con, shared, fresh=fresh) as both:
                return _run_all(con, kpis, both)


def _run_all(
    con: duckdb.DuckDBPyConnection, kpis: list[KpiDef], q: Grain
) -> dict[str, dict[tuple[str | None, int], Value]]:
    out: dict[str, dict[tuple[str | None, int], Value]] = {}
    for kpi in kpis:
        if kpi.needs_clv and q.clv is None:
            out[kpi.key] = {}
        elif kpi.complement_of in out:
            base = out[kpi.complement_of]  # type: ignore[index]
            out[kpi.key] = {key: None if v is None else 1 - v for key, v in base.items()}
        else:
            rows = run(con, kpi.sql(q))
            out[kpi.key] = {(g, k): v for g, k, v in rows.select("g", "k", "value").iter_rows()}
    return out


def _change(value: Value, previous: Value) -> tuple[float | None, float | None]:
    if value is None or previous is None:
        return None, None
    change = float(value) - float(previous)
    return change, (change / abs(float(previous)) if previous else None)


def kpi_table(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    customers: Subset = None,
    clv: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Every KPI of `KPIS` for `period` and for `period.previous()`.

    Both periods come from the same query per KPI (two buckets), over one shared
    per-customer aggregate of the orders and one shared scan of the history.

    Columns: `kpi` (registry key), `value`, `previous`, `change` (value −
    previous, in the KPI's unit: rate points for rates), `change_pct` (change /
    |previous|; null when previous is 0 or null), `unit`. Values are Float64;
    null where a ratio has nothing to measure.
    """
    values = _grid(con, list(KPIS.values()), Grain.pair(period), customers, clv=clv)
    rows = []
    for key, kpi in KPIS.items():
        got = values[key]
        value, previous = kpi.cast(got.get((None, 1))), kpi.cast(got.get((None, 0)))
        change, change_pct = _change(value, previous)
        rows.append((key, value, previous, change, change_pct, kpi.unit))
    schema = {
        "kpi": pl.Utf8,
        "value": pl.Float64,
        "previous": pl.Float64,
        "change": pl.Float64,
        "change_pct": pl.Float64,
        "unit": pl.Utf8,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def kpi_trend(
    con: duckdb.DuckDBPyConnection,
    kpi: str,
    start: date,
    end: date,
    freq: Freq = "month",
    customers: Subset = None,
    clv: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One KPI per calendar bucket (month, or ISO week from Monday) over start … end.

    One query for all buckets. The first and last buckets are clipped to
    start/end (a month-to-date is its days so far); retention's base for a
    bucket is the whole calendar bucket before it. Columns: `bucket` (calendar
    start of the bucket), `start`, `end` (its days, clipped), `value` (Float64).
    """
    trends = kpi_trends(con, [kpi], start, end, freq, customers, clv)
    return trends.drop("kpi")


def kpi_trends(
    con: duckdb.DuckDBPyConnection,
    kpis: list[str],
    start: date,
    end: date,
    freq: Freq = "month",
    customers: Subset = None,
    clv: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """`kpi_trend` for several KPIs at once, sharing one pass over the orders.

    Long format: `kpi`, `bucket`, `start`, `end`, `value` (KPIs in the given order).
    """
    definitions = [get_kpi(key) for key in kpis]
    grain = Grain.calendar(start, end, check_freq(freq))
    got = _grid(con, definitions, grain, customers, clv=clv)
    n = len(grain.periods)
    return pl.DataFrame(
        {
            "kpi": [d.key for d in definitions for _ in range(n)],
            "bucket": [bucket_start(p.start, freq) for p in grain.periods] * len(definitions),
            "start": [p.start for p in grain.periods] * len(definitions),
            "end": [p.end for p in grain.periods] * len(definitions),
            "value": [d.cast(got[d.key].get((None, k))) for d in definitions for k in range(n)],
        },
        schema=_TREND_SCHEMA,
    )


_TREND_SCHEMA = {
    "kpi": pl.Utf8,
    "bucket": pl.Date,
    "start": pl.Date,
    "end": pl.Date,
    "value": pl.Float64,
}


def kpi_breakdown(
    con: duckdb.DuckDBPyConnection,
    kpi: str,
    period: Period,
    groups: pl.DataFrame,
    customers: Subset = None,
    clv: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One KPI per customer group over `period`, one query for all groups.

    `groups` has `customer_id` and `group` (segment, tier, stage, channel …;
    cast to text); customers absent from it are left out, a customer in two
    groups counts in both. Columns: `group` (every distinct group of `groups`,
    sorted), `value` (Float64; the KPI's empty value for a group without data).
    """
    return kpi_breakdowns(con, [kpi], period, groups, customers, clv).drop("kpi")


def kpi_breakdowns(
    con: duckdb.DuckDBPyConnection,
    kpis: list[str],
    period: Period,
    groups: pl.DataFrame,
    customers: Subset = None,
    clv: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """`kpi_breakdown` for several KPIs at once, sharing one pass over the orders.

    Long format: `kpi`, `group`, `value`.
    """
    definitions = [get_kpi(key) for key in kpis]
    got = _grid(con, definitions, Grain.single(period), customers, groups=groups, clv=clv)
    names = groups.get_column("group").cast(pl.Utf8).unique().sort(nulls_last=True).to_list()
    return pl.DataFrame(
        {
            "kpi": [d.key for d in definitions for _ in names],
            "group": names * len(definitions),
            "value": [d.cast(got[d.key].get((g, 0))) for d in definitions for g in names],
        },
        schema={"kpi": pl.Utf8, "group": pl.Utf8, "value": pl.Float64},
    )


def last_order_date(con: duckdb.DuckDBPyConnection) -> date | None:
    """Local day of the latest order in the store; None when there are no orders."""
    return scalar(con, "SELECT max(ordered_at)::DATE FROM orders")  # type: ignore[return-value]


def kpis_cli_payload(
    db: str | PathLike[str] | None,
    as_of: date | None,
    period_days: int = 30,
    lang: str = "en",
) -> dict[str, Any]:
    """What `python -m crm_core kpis --json` prints.

    `as_of` defaults to the last order's local day (today for an empty store);
    the period is `(as_of − period_days, as_of]`, compared with the
    `period_days` before it. Every KPI with value, previous, change,
    change_pct, unit, name and definition (in `lang`), plus the contact rate
    per channel.
    """
    with store.connect(db) as con:
        as_of = as_of or last_order_date(con) or date.today()
        period = Period.ending(as_of, period_days)
        table = kpi_table(con, period)
        channels = contact_rate_by_channel(con, period)
    previous = period.previous()
    return {
        "as_of": as_of.isoformat(),
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat()},
        "previous_period": {"start": previous.start.isoformat(), "end": previous.end.isoformat()},
        "kpis": {
            row["kpi"]: {
                **{k: row[k] for k in ("value", "previous", "change", "change_pct", "unit")},
                "name": kpi_name(row["kpi"], lang),
                "definition": kpi_definition(row["kpi"], lang),
            }
            for row in table.iter_rows(named=True)
        },
        "contact_rate_by_channel": {
            row["channel"]: row["contact_rate"] for row in channels.iter_rows(named=True)
        },
    }

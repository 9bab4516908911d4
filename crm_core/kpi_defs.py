"""KPI definitions: one function each, its docstring the definition, its SQL beside it.

Every KPI takes `(con, period, customers: Subset = None)`: `period` is a closed range of
local days (`crm_core.period.Period`), `customers` an optional frame with a
`customer_id` column — the subset left by the global filters (segment, tier,
stage, channel) — semi-joined in DuckDB. Each KPI is ONE query over the
`order_facts` view (purchase = `is_purchase`, i.e. completed or partially
refunded; revenue = `net_amount`, i.e. gross − refunded, 0 for cancelled,
failed and pending orders; refunds count on the order's day), `feedback` and
`interactions`. The same query, written against a `Grain`, also gives trends
(one query for all buckets) and breakdowns (one query for all groups): see
`crm_core.kpi_query`. Orders of erased customers still count: erasure removes
personal data, not the sale.

Rates are fractions 0–1 (the UI shows them as %), NPS is −100…100, money is BRL.
Ratios with an empty denominator are None (nothing to measure), never 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import duckdb
import polars as pl

from crm_core.kpi_query import Grain, registered, run
from crm_core.period import Period

Unit = Literal["count", "money", "rate", "score"]
Value = int | float | None
Subset = pl.DataFrame | None
"""An optional frame with `customer_id`: the customers the global filters leave."""


def _active_sql(q: Grain) -> str:
    return f"""WITH {q.cb_cte()}
        SELECT g, k, count(*) AS value FROM cb WHERE k >= 0 AND purchases > 0 GROUP BY ALL"""


def active_customers(
    con: duckdb.DuckDBPyConnection, period: Period, customers: Subset = None
) -> int:
    """Active customers: distinct customers with at least one purchase order on a
    local day of the period. Unit: customers (count)."""
    return _value(con, "active_customers", period, customers)  # type: ignore[return-value]


def _new_sql(q: Grain) -> str:
    return f"""WITH {q.cb_cte()}
        SELECT g, k, count(*) AS value FROM (
            SELECT g, customer_id, min(k) AS k FROM cb
            SEMI JOIN ({q.fresh_ids()}) f ON f.customer_id = cb.customer_id
            WHERE k >= 0 AND purchases > 0 GROUP BY ALL)
        GROUP BY ALL"""


def new_customers(con: duckdb.DuckDBPyConnection, period: Period, customers: Subset = None) -> int:
    """New customers: customers whose first purchase ever (over the whole order
    history) falls on a day of the period. Unit: customers (count)."""
    return _value(con, "new_customers", period, customers)  # type: ignore[return-value]


def _revenue_sql(q: Grain) -> str:
    return f"""SELECT g, {q.k("ts")} AS k, sum(net_amount)::DOUBLE AS value
        FROM ({q.orders()}) GROUP BY ALL"""


def revenue(con: duckdb.DuckDBPyConnection, period: Period, customers: Subset = None) -> float:
    """Revenue: sum of `net_amount` of the orders placed in the period (gross −
    refunded; cancelled, failed and pending orders bring 0). Unit: BRL."""
    return _value(con, "revenue", period, customers)  # type: ignore[return-value]


def _aov_sql(q: Grain) -> str:
    return f"""SELECT g, {q.k("ts")} AS k,
            sum(net_amount)::DOUBLE / nullif(count(*) FILTER (is_purchase), 0) AS value
        FROM ({q.orders()}) GROUP BY ALL"""


def aov(con: duckdb.DuckDBPyConnection, period: Period, customers: Subset = None) -> float | None:
    """Average order value: the period's revenue / its number of purchase orders
    (as in the customer summary). Unit: BRL per order; None without purchases."""
    return _value(con, "aov", period, customers)  # type: ignore[return-value]


def _retention_sql(q: Grain, *, churn: bool = False) -> str:
    ratio = "count(c.customer_id)::DOUBLE / count(*)"
    return f"""WITH {q.cb_cte()},
        act AS (SELECT g, customer_id, k FROM cb WHERE purchases > 0)
        SELECT a.g, a.k + 1 AS k, {"1 - " if churn else ""}{ratio} AS value
        FROM act a LEFT JOIN act c ON c.customer_id = a.customer_id
            AND c.g IS NOT DISTINCT FROM a.g AND c.k = a.k + 1
        WHERE a.k + 1 < {len(q.periods)} GROUP BY ALL"""


def retention_rate(
    con: duckdb.DuckDBPyConnection, period: Period, customers: Subset = None
) -> float | None:
    """Retention rate: of the customers active (≥ 1 purchase) in the previous
    period of equal length (`Period.previous()`), the share also active in this
    one. Unit: fraction 0–1; None when nobody was active in the previous period."""
    return _value(con, "retention_rate", period, customers)  # type: ignore[return-value]


def churn_rate(
    con: duckdb.DuckDBPyConnection, period: Period, customers: Subset = None
) -> float | None:
    """Churn rate: 1 − retention rate, on the same base (customers active in the
    previous period who made no purchase in this one). Unit: fraction 0–1; None
    when nobody was active in the previous period."""
    return _value(con, "churn_rate", period, customers)  # type: ignore[return-value]


def _repeat_sql(q: Grain) -> str:
    # Every active customer with a purchase before the buckets is a repeat buyer.
    # A fresh one (first purchase in the buckets) is not, at bucket k, when all
    # their purchases up to k fall on one local day: first day = last day in k.
    # (Less than 25 hours apart is checked first, so few rows pay for the
    # time-zone-aware cast to a local day.)
    return f"""WITH {q.cb_cte()},
        act AS (SELECT * FROM cb WHERE k >= 0 AND purchases > 0),
        firsts AS (
            SELECT g, customer_id, min(first_ts) AS first_ts FROM act
            SEMI JOIN ({q.fresh_ids()}) f ON f.customer_id = act.customer_id
            GROUP BY ALL),
        single AS (
            SELECT a.g, a.k, count(*) AS n FROM act a
            JOIN firsts f ON f.customer_id = a.customer_id AND f.g IS NOT DISTINCT FROM a.g
            WHERE epoch(a.last_ts) - epoch(f.first_ts) < 90000
                AND f.first_ts::DATE = a.last_ts::DATE
            GROUP BY ALL)
        SELECT a.g, a.k, 1 - coalesce(any_value(s.n), 0)::DOUBLE / count(*) AS value
        FROM act a LEFT JOIN single s ON s.g IS NOT DISTINCT FROM a.g AND s.k = a.k
        GROUP BY a.g, a.k"""


def repeat_purchase_rate(
    con: duckdb.DuckDBPyConnection, period: Period, customers: Subset = None
) -> float | None:
    """Repeat purchase rate: of the period's active customers, the share with
    purchases on ≥ 2 distinct local days over their history up to the period's
    end — the first purchase may lie before the period (Shopify's "returning
    customer rate" variant, not the stricter one with both purchases inside the
    period), counted in purchase days as BG/NBD does (Fader, Hardie & Lee 2005),
    so two orders on one day are one purchase. Unit: fraction 0–1; None when
    nobody was active."""
    return _value(con, "repeat_purchase_rate", period, customers)  # type: ignore[return-value]


def _avg_clv_sql(q: Grain) -> str:
    return f"""WITH {q.cb_cte()}
        SELECT a.g, a.k, avg(c.clv) AS value FROM cb a
        JOIN {q.clv} c ON c.customer_id = a.customer_id
        WHERE a.k >= 0 AND a.purchases > 0 GROUP BY ALL"""


def avg_clv(
    con: duckdb.DuckDBPyConnection,
    period: Period,
    customers: Subset = None,
    clv: pl.DataFrame | None = None,
) -> float | None:
    """Average CLV: mean of `clv` (a CLV model's frame `customer_id, clv`) over the
    period's active customers found in it. Unit: BRL per customer; None without
    a CLV frame or when no active customer has a CLV."""
    return _value(con, "avg_clv", period, customers, clv=clv)  # type: ignore[return-value]


def _csat_sql(q: Grain) -> str:
    return f"""SELECT g, {q.k("ts")} AS k, avg((csat >= 4)::DOUBLE) AS value
        FROM ({q.feedback()}) WHERE csat IS NOT NULL GROUP BY ALL"""


def csat(con: duckdb.DuckDBPyConnection, period: Period, customers: Subset = None) -> float | None:
    """CSAT: share of the period's CSAT answers (1–5 scale) that are 4 or 5
    ("satisfied" or better, the usual top-two-box). Unit: fraction 0–1; None
    without answers."""
    return _value(con, "csat", period, customers)  # type: ignore[return-value]


def _csat_mean_sql(q: Grain) -> str:
    return f"""SELECT g, {q.k("ts")} AS k, avg(csat)::DOUBLE AS value
        FROM ({q.feedback()}) WHERE csat IS NOT NULL GROUP BY ALL"""


def csat_mean(
    con: duckdb.DuckDBPyConnection, period: Period, customers: Subset = None
) -> float | None:
    """CSAT mean: mean of the period's CSAT answers. Unit: score 1–5; None without answers."""
    return _value(con, "csat_mean", period, customers)  # type: ignore[return-value]


def _nps_sql(q: Grain) -> str:
    return f"""SELECT g, {q.k("ts")} AS k,
            100.0 * (count(*) FILTER (nps >= 9) - count(*) FILTER (nps <= 6)) / count(*) AS value
        FROM ({q.feedback()}) WHERE nps IS NOT NULL GROUP BY ALL"""


def nps(con: duckdb.DuckDBPyConnection, period: Period, customers: Subset = None) -> float | None:
    """Net Promoter Score: % promoters (9–10) − % detractors (0–6) among the
    period's NPS answers (Reichheld 2003). Unit: score −100…100; None without answers."""
    return _value(con, "nps", period, customers)  # type: ignore[return-value]


def _contact_rate_sql(q: Grain) -> str:
    return f"""WITH {q.cb_cte()},
        a AS (SELECT g, k, count(*) AS n FROM cb WHERE k >= 0 AND purchases > 0 GROUP BY ALL),
        i AS (SELECT g, {q.k("ts")} AS k, count(*) AS n FROM ({q.interactions()}) GROUP BY ALL)
        SELECT a.g, a.k, coalesce(i.n, 0)::DOUBLE / a.n AS value
        FROM a LEFT JOIN i ON i.g IS NOT DISTINCT FROM a.g AND i.k = a.k"""


def contact_rate(
    con: duckdb.DuckDBPyConnection, period: Period, customers: Subset = None
) -> float | None:
    """Contact rate: interactions logged in the period (any channel, with any
    customer in scope, leads included) per active customer of the period. Unit:
    interactions per active customer; None when nobody was active. Per channel:
    `contact_rate_by_channel`."""
    return _value(con, "contact_rate", period, customers)  # type: ignore[return-value]


def contact_rate_by_channel(
    con: duckdb.DuckDBPyConnection, period: Period, customers: Subset = None
) -> pl.DataFrame:
    """Contact rate per interaction channel: the period's interactions in that
    channel per active customer of the period. Columns `channel`, `interactions`,
    `active_customers`, `contact_rate` (null when nobody was active)."""
    with registered(con, Grain.single(period), customers=customers) as q:
        return run(
            con,
            f"""WITH a AS (SELECT count(DISTINCT customer_id) AS n
                    FROM ({q.orders(purchases=True)}))
            SELECT channel, count(*) AS interactions, any_value(a.n) AS active_customers,
                count(*)::DOUBLE / nullif(any_value(a.n), 0) AS contact_rate
            FROM ({q.interactions()}) i, a GROUP BY channel ORDER BY channel""",
        )


@dataclass(frozen=True)
class KpiDef:
    """One KPI in the registry: how to compute it and how to show it.

    `uses_cb` / `uses_fresh`: its query reads `Grain.customer_buckets()` /
    `Grain.fresh_ids()` (callers computing several KPIs precompute them once);
    `complement_of`: the KPI equals 1 − that KPI on the same base, so a caller
    that has it need not query again.
    """

    key: str
    function: Callable[..., Value]
    sql: Callable[[Grain], str]
    unit: Unit
    higher_is_better: bool
    i18n_key: str
    empty: Value = None
    needs_clv: bool = False
    uses_fresh: bool = False
    complement_of: str | None = None
    uses_cb: bool = True

    def cast(self, value: object) -> Value:
        """A query's value as the KPI's Python type (`empty` when missing)."""
        if value is None:
            return self.empty
        return int(value) if self.unit == "count" else float(value)  # type: ignore[arg-type]


def _def(
    key: str,
    fn: Callable[..., Value],
    sql: Callable[[Grain], str],
    unit: Unit,
    better: bool = True,
    empty: Value = None,
    **flags: bool | str,
) -> KpiDef:
    return KpiDef(key, fn, sql, unit, better, f"kpi.{key}", empty, **flags)  # type: ignore[arg-type]


KPIS: dict[str, KpiDef] = {
    d.key: d
    for d in (
        _def("active_customers", active_customers, _active_sql, "count", empty=0),
        _def("new_customers", new_customers, _new_sql, "count", empty=0, uses_fresh=True),
        _def("revenue", revenue, _revenue_sql, "money", empty=0.0, uses_cb=False),
        _def("aov", aov, _aov_sql, "money", uses_cb=False),
        _def("retention_rate", retention_rate, _retention_sql, "rate"),
        _def(
            "churn_rate",
            churn_rate,
            lambda q: _retention_sql(q, churn=True),
            "rate",
            False,
            complement_of="retention_rate",
        ),
        _def("repeat_purchase_rate", repeat_purchase_rate, _repeat_sql, "rate", uses_fresh=True),
        _def("avg_clv", avg_clv, _avg_clv_sql, "money", needs_clv=True),
        _def("csat", csat, _csat_sql, "rate", uses_cb=False),
        _def("csat_mean", csat_mean, _csat_mean_sql, "score", uses_cb=False),
        _def("nps", nps, _nps_sql, "score", uses_cb=False),
        _def("contact_rate", contact_rate, _contact_rate_sql, "score", False),
    )
}
"""Every scalar KPI, in dashboard order. Units: count (customers), money (BRL), rate
(fraction 0–1), score (a plain number: NPS, CSAT mean, contacts per customer).
Churn and contact rate: lower is better (contacts cost money to serve)."""


def evaluate(
    con: duckdb.DuckDBPyConnection,
    kpi: KpiDef,
    grain: Grain,
    *,
    customers: pl.DataFrame | None = None,
    groups: pl.DataFrame | None = None,
    clv: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Rows (g, k, value) of one KPI over a grain — one query, buckets/groups
    without data absent (callers fill them with `kpi.empty`)."""
    if kpi.needs_clv and clv is None:
        return pl.DataFrame(schema={"g": pl.Utf8, "k": pl.Int64, "value": pl.Float64})
    with registered(con, grain, customers=customers, groups=groups, clv=clv) as q:
        return run(con, kpi.sql(q))


def _value(
    con: duckdb.DuckDBPyConnection,
    key: str,
    period: Period,
    customers: pl.DataFrame | None,
    clv: pl.DataFrame | None = None,
) -> Value:
    kpi = KPIS[key]
    rows = evaluate(con, kpi, Grain.single(period), customers=customers, clv=clv)
    values = rows.filter(pl.col("k") == 0)["value"].to_list()
    return kpi.cast(values[0] if values else None)

"""The SQL scaffolding every KPI query shares: time buckets, customer scope, groups.

Each KPI is ONE DuckDB query written against a `Grain`, and returns rows
`(g, k, value)`: `k` is the index of the time bucket (0 … n−1) and `g` the
customer group (NULL when there are no groups). The same query answers the
three questions the dashboard asks:

- a value for one period: one bucket, no groups;
- a trend: n calendar buckets, still one query;
- a breakdown: one bucket, `g` from a registered (customer_id, group) frame;
- the headline cards: two buckets (the previous period and this one).

Optional frames (the customer subset of the global filters, the groups, a CLV
frame) are registered on the connection under unique names for the duration
of the query and semi-joined in DuckDB. Days are local days of the
connection's `TimeZone`: range filters and bucket indexes compare the raw
`TIMESTAMPTZ` with local midnights (constants), so DuckDB can prune row groups
and no row pays for a time-zone-aware cast.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Literal

import duckdb
import polars as pl

from crm_core.errors import VinculoError
from crm_core.period import Freq, Period, bucket_period, bucket_start, buckets

Since = Literal["buckets", "lead_in"]
_ORDER_TS = "ordered_at"


def midnight(day: date) -> str:
    """SQL: the local midnight starting `day` (a TIMESTAMPTZ in the connection's zone)."""
    return f"CAST(DATE '{day}' AS TIMESTAMPTZ)"


@dataclass(frozen=True)
class Grain:
    """How one KPI query slices time (`periods`) and customers (scope, groups).

    `periods` are consecutive; `lead_in` is the period just before the first
    (k = −1: retention's base for bucket 0); `freq` records calendar buckets.
    `scope`, `groups`, `clv` name registered views; `cb` and `fresh` optionally
    name precomputed `customer_buckets()` and `fresh_ids()`, so that several
    KPIs share one pass over the orders and one over the history.
    """

    periods: tuple[Period, ...]
    lead_in: Period
    freq: Freq | None = None
    scope: str | None = None
    groups: str | None = None
    clv: str | None = None
    fresh: str | None = None
    cb: str | None = None

    @classmethod
    def single(cls, period: Period) -> Grain:
        """One period; retention's base is `period.previous()`."""
        return cls((period,), period.previous())

    @classmethod
    def pair(cls, period: Period) -> Grain:
        """The previous period (k = 0) and `period` (k = 1), for headline cards."""
        before = period.previous()
        return cls((before, period), before.previous())

    @classmethod
    def calendar(cls, start: date, end: date, freq: Freq) -> Grain:
        """Calendar buckets over start … end (ends clipped); lead-in = the whole bucket before."""
        if end < start:
            raise VinculoError("kpis.bad_period", start=start, end=end)
        parts = tuple(buckets(start, end, freq))
        return cls(parts, bucket_period(bucket_start(start, freq) - timedelta(days=1), freq), freq)

    @property
    def lo(self) -> date:
        """First day of the first bucket."""
        return self.periods[0].start

    @property
    def hi(self) -> date:
        """Last day of the last bucket."""
        return self.periods[-1].end

    def k(self, ts: str) -> str:
        """SQL: bucket index of the instant `ts`; −1 before the first bucket.

        A balanced CASE tree over the buckets' first local midnights (constants),
        so no row pays for a time-zone-aware cast to a local day, and a trend of
        150 weeks costs eight comparisons per row.
        """
        starts = [midnight(p.start) for p in self.periods]

        def node(i: int, j: int) -> str:  # the index in i..j, given ts >= starts[i]
            if i == j:
                return str(i)
            m = (i + j + 1) // 2
            return f"CASE WHEN {ts} >= {starts[m]} THEN {node(m, j)} ELSE {node(i, m - 1)} END"

        return f"(CASE WHEN {ts} < {starts[0]} THEN -1 ELSE {node(0, len(starts) - 1)} END)"

    def _frame(self, table: str, ts: str, cols: str, lo: date | None, where: str = "") -> str:
        """SQL: rows of `table` in scope with instant `ts`, local day `d` in [lo, hi], group `g`.

        Queries that only compare instants use `ts`, so DuckDB skips the
        (time-zone aware, hence costly) cast to a local day for those rows.
        """
        joins, group = "", "NULL::VARCHAR"
        if self.scope:
            joins += f" SEMI JOIN {self.scope} s ON s.customer_id = t.customer_id"
        if self.groups:
            joins += f" JOIN {self.groups} gr ON gr.customer_id = t.customer_id"
            group = "gr.grp"
        lower = f"t.{ts} >= {midnight(lo)} AND " if lo else ""
        upper = f"t.{ts} < {midnight(self.hi + timedelta(days=1))}"
        return (
            f"SELECT t.customer_id, {group} AS g, t.{ts} AS ts, t.{ts}::DATE AS d, {cols} "
            f"FROM {table} t{joins} WHERE {lower}{upper}{where}"
        )

    def orders(self, *, since: Since = "buckets", purchases: bool = False) -> str:
        """SQL: orders in scope: `customer_id, g, ts, d, net_amount, is_purchase`.

        `since`: "buckets" = from the first bucket; "lead_in" = the lead-in and
        the buckets (skipping any days between them).
        """
        where = " AND t.is_purchase" if purchases else ""
        lo = self.lo
        if since == "lead_in":
            lo = self.lead_in.start
            where += f" AND (t.{_ORDER_TS} >= {midnight(self.lo)} "
            where += f"OR t.{_ORDER_TS} < {midnight(self.lead_in.end + timedelta(days=1))})"
        return self._frame("order_facts", _ORDER_TS, "t.net_amount, t.is_purchase", lo, where)

    def customer_buckets(self) -> str:
        """SQL relation: one row per (group, customer, bucket k ≥ −1) with any order.

        Columns `g, customer_id, k, purchases` (purchase orders), `net` (sum of
        `net_amount` of all orders, BRL), `first_ts`, `last_ts` (first and last
        purchase instants in the bucket; null without purchases). The
        customer-level KPIs are small queries over this relation.
        """
        if self.cb:
            return self.cb
        return f"""(SELECT g, customer_id, {self.k("ts")} AS k,
                count(*) FILTER (is_purchase) AS purchases, sum(net_amount)::DOUBLE AS net,
                min(ts) FILTER (is_purchase) AS first_ts, max(ts) FILTER (is_purchase) AS last_ts
            FROM ({self.orders(since="lead_in")}) GROUP BY 1, 2, 3)"""

    def cb_cte(self) -> str:
        """SQL: the CTE `cb` = `customer_buckets()`, computed once per query."""
        if self.cb:
            return f"cb AS (SELECT * FROM {self.cb})"
        return f"cb AS MATERIALIZED {self.customer_buckets()}"

    def fresh_ids(self) -> str:
        """SQL: ids of customers in scope whose first purchase ever is in the buckets.

        The buckets' buyers (from the CTE `cb`, which the query must define)
        anti-joined with every purchase before the buckets; DuckDB builds the
        hash table on the buyers and only probes the history.
        """
        if self.fresh:
            return f"SELECT customer_id FROM {self.fresh}"
        buyers = "SELECT DISTINCT customer_id FROM cb WHERE k >= 0 AND purchases > 0"
        before = (
            f"SELECT t.customer_id FROM order_facts t "
            f"WHERE t.is_purchase AND t.{_ORDER_TS} < {midnight(self.lo)}"
        )
        return f"SELECT b.customer_id FROM ({buyers}) b ANTI JOIN ({before}) h USING (customer_id)"

    def ungrouped(self) -> Grain:
        """The same grain without groups (per-customer facts)."""
        return replace(self, groups=None)

    def feedback(self) -> str:
        """SQL: survey answers in scope in the buckets (`customer_id, g, d, csat, nps`)."""
        return self._frame("feedback_facts", "answered_at", "t.csat, t.nps", self.lo)

    def interactions(self) -> str:
        """SQL: interactions in scope in the buckets (`customer_id, g, d, channel`)."""
        return self._frame("interaction_facts", "occurred_at", "t.channel", self.lo)


def _normalise(kind: str, frame: pl.DataFrame) -> pl.DataFrame:
    if "customer_id" not in frame.columns:
        raise VinculoError("kpis.missing_column", frame=kind, column="customer_id")
    ids = pl.col("customer_id").cast(pl.Utf8)
    if kind in ("scope", "fresh"):
        return frame.select(ids).unique()
    if kind == "cb":
        return frame
    if kind == "groups":
        if "group" not in frame.columns:
            raise VinculoError("kpis.missing_column", frame=kind, column="group")
        return frame.select(ids, pl.col("group").cast(pl.Utf8).alias("grp")).unique()
    if "clv" not in frame.columns:
        raise VinculoError("kpis.missing_column", frame=kind, column="clv")
    clv = pl.col("clv").cast(pl.Float64)
    return frame.select(ids, clv).unique(subset="customer_id", keep="first")


@contextmanager
def registered(
    con: duckdb.DuckDBPyConnection,
    grain: Grain,
    *,
    customers: pl.DataFrame | None = None,
    groups: pl.DataFrame | None = None,
    clv: pl.DataFrame | None = None,
    fresh: pl.DataFrame | None = None,
    cb: pl.DataFrame | None = None,
) -> Iterator[Grain]:
    """`grain` with the given frames registered as views (unregistered on exit)."""
    names: dict[str, str] = {}
    con.complete()
    try:
        frames = (
            ("scope", customers),
            ("groups", groups),
            ("clv", clv),
            ("fresh", fresh),
            ("cb", cb),
        )
        for kind, frame in frames:
            if frame is None:
                continue
            name = f"_kpi_{kind}_{uuid.uuid4().hex[:12]}"
            con.register(name, _normalise(kind, frame))
            names[kind] = name
        yield replace(grain, **names)
    finally:
        for name in names.values():
            con.unregister(name)


def run(con: duckdb.DuckDBPyConnection, sql: str) -> pl.DataFrame:
    """Run one read-only query; its rows as a Polars frame.

    DuckDB 2 refuses `con.sql()` while an earlier `con.execute()` result is
    unread (the store's helpers leave one after `fetchone()`); `complete()`
    runs it to its end first.
    """
    con.complete()
    return con.sql(sql).pl()


def scalar(con: duckdb.DuckDBPyConnection, sql: str) -> object:
    """The single value of a one-row, one-column query."""
    con.complete()
    rows = con.sql(sql).fetchall()
    return rows[0][0] if rows else None

"""Value proposition development (Buttle's CRM value chain, stage 4): offers and campaigns by
segment, and what each segment is offered today.

Buttle's fourth stage designs distinctive value per segment from what the first three
stages learnt. Here: how each segment answered the campaigns it received, measured against
comparable customers who did not receive them, and which next-best-action rules
(`crm_core.customize`) currently shape its offer.

Definitions (money in BRL; days are local calendar days; only facts up to `as_of` count):

- A *send* is an interaction with `type = 'campaign'` and a campaign name. A customer is
  *contacted* by a campaign when they have at least one send of it (several sends of one
  campaign count once); the campaign's *first* and *last send days* are the earliest and
  latest local days of its sends.
- *Response rate* (0–1): contacted customers with at least one send whose outcome is in
  `crm_core.interact.RESPONSE_OUTCOMES` (clicked, responded, converted) ÷ contacted
  customers. *Conversion rate*: the same with outcome "converted". (The Interact page counts
  sends; this page counts customers, so a customer sent a campaign twice counts once.)
- *Window*: from the first send day through `days` days after the last send day, i.e. the
  local days first … last + days − 1 (for a one-day campaign: the send day and the next
  `days` − 1 days), cut at `as_of` (`complete` is False while the window is still open).
- *Revenue per customer*: net revenue (orders minus refunds, cancelled = 0) of the group's
  customers in the window ÷ customers in the group. *Purchase rate*: share of the group with
  at least one purchase in the window.
- *Comparison group*: customers of the same segment, known before the first send day (record
  created or first purchase before it), not contacted by that campaign, measured over the
  same window. It is *not randomised*: the campaign chose whom to contact (consent, activity),
  so the difference is an association, not a proven effect.
- *Uplift*: contacted minus comparison, in revenue per customer (BRL) and in purchase rate
  (percentage points as a 0–1 difference); null when the comparison group is empty.
- Segments are those at `as_of` (the global segment configuration), not at send time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import numpy as np
import polars as pl

from crm_core.customize import RuleSet, default_ruleset, list_rules, load_rules
from crm_core.errors import VinculoError
from crm_core.interact import INTERACTION_SOURCE, RESPONSE_OUTCOMES
from crm_core.kpi_query import midnight
from crm_core.summary import query_frame

DEFAULT_DAYS = 30
"""Default measurement window after the last send (days)."""

NO_RULE = "—"
"""Rule name shown for customers no rule gives an action to."""

_SENDS_SQL = f"""
SELECT campaign::VARCHAR AS campaign, customer_id::VARCHAR AS customer_id,
       min(occurred_at)::DATE AS sent_day,
       bool_or(list_contains($responses, outcome)) AS responded,
       bool_or(outcome = 'converted') AS converted
FROM {INTERACTION_SOURCE}
WHERE type = 'campaign' AND campaign IS NOT NULL AND occurred_at < {{until}}
GROUP BY ALL
"""

_ORDERS_SQL = """
SELECT customer_id::VARCHAR AS customer_id, ordered_at::DATE AS day,
       net_amount::DOUBLE AS net, is_purchase
FROM order_facts WHERE ordered_at >= {since} AND ordered_at < {until}
ORDER BY day
"""


def campaign_sends(con: duckdb.DuckDBPyConnection, as_of: date) -> pl.DataFrame:
    """One row per (campaign, contacted customer) up to `as_of`: `campaign`, `customer_id`
    (golden record), `sent_day` (first send's local day), `responded`, `converted`."""
    sql = _SENDS_SQL.format(until=midnight(as_of + timedelta(days=1)))
    frame = query_frame(con, sql, {"responses": list(RESPONSE_OUTCOMES)})
    return frame.cast({"sent_day": pl.Date, "responded": pl.Boolean, "converted": pl.Boolean})


def campaign_orders(
    con: duckdb.DuckDBPyConnection, sends: pl.DataFrame, as_of: date
) -> pl.DataFrame:
    """Orders that can fall in a campaign window (from the first send day up to `as_of`):
    `customer_id`, `day` (local), `net` (BRL), `is_purchase`; sorted by day."""
    schema = {
        "customer_id": pl.String,
        "day": pl.Date,
        "net": pl.Float64,
        "is_purchase": pl.Boolean,
    }
    if sends.is_empty():
        return pl.DataFrame(schema=schema)
    sql = _ORDERS_SQL.format(
        since=midnight(sends["sent_day"].min()),
        until=midnight(as_of + timedelta(days=1)),  # type: ignore[arg-type]
    )
    return query_frame(con, sql).cast(schema)  # type: ignore[arg-type]


def campaign_windows(sends: pl.DataFrame, days: int, as_of: date) -> pl.DataFrame:
    """Per campaign: `first_day`, `last_day` (send days), `window_end` (last day measured,
    inclusive) and `complete` (the whole window is before `as_of`); by first day."""
    if days < 1:
        raise VinculoError("proposition.bad_days", days=days)
    full_end = pl.col("last_day") + pl.duration(days=days - 1)
    return (
        sends.group_by("campaign")
        .agg(first_day=pl.col("sent_day").min(), last_day=pl.col("sent_day").max())
        .with_columns(
            window_end=pl.min_horizontal(full_end, pl.lit(as_of)), complete=full_end <= as_of
        )
        .sort("first_day", "campaign")
    )


_EPOCH = date(1970, 1, 1)
_NEVER = np.iinfo(np.int32).max

_SUMS = (
    "contacted", "responded", "converted", "revenue_contacted", "buyers_contacted",
    "comparison", "revenue_comparison", "buyers_comparison",
)  # fmt: skip


@dataclass(frozen=True)
class CampaignData:
    """Sends and orders indexed by the rows of a fixed population (`campaign_data`).

    `known` holds, per population row, the day the customer was first known (days since
    1970-01-01; never known = int32 max). `sends` has `campaign, idx, sent_day, responded,
    converted`; the order arrays (`day`, `idx`, `net`, `purchase`) are sorted by day.
    """

    known: np.ndarray
    sends: pl.DataFrame
    day: np.ndarray
    idx: np.ndarray
    net: np.ndarray
    purchase: np.ndarray


def index_campaign_data(
    sends: pl.DataFrame, orders: pl.DataFrame, customers: pl.DataFrame
) -> CampaignData:
    """`campaign_sends` and `campaign_orders` tied to the rows of `customers` (`customer_id`,
    `known_since`: Date the customer was first known, null if never); sends and orders of
    customers outside it are dropped. The one costly join, done once per store state."""
    ids = customers.select(pl.col("customer_id").cast(pl.String)).with_row_index("idx")
    o = orders.join(ids, on="customer_id", how="inner", maintain_order="left")
    sent = sends.join(ids, on="customer_id", how="inner", maintain_order="left")
    known = customers["known_since"].cast(pl.Int32).fill_null(_NEVER).to_numpy()
    return CampaignData(
        known=known, sends=sent.drop("customer_id"),
        day=o["day"].cast(pl.Int32).to_numpy(), idx=o["idx"].cast(pl.Int64).to_numpy(),
        net=o["net"].to_numpy(), purchase=o["is_purchase"].to_numpy(),
    )  # fmt: skip


def campaign_data(
    con: duckdb.DuckDBPyConnection, customers: pl.DataFrame, as_of: date
) -> CampaignData:
    """`index_campaign_data` of the store's sends and orders up to `as_of`."""
    sends = campaign_sends(con, as_of)
    return index_campaign_data(sends, campaign_orders(con, sends, as_of), customers)


def _one_campaign(
    window: dict, sent: pl.DataFrame, data: CampaignData, seg: np.ndarray, k: int
) -> dict[str, np.ndarray]:
    """Per-segment sums for one campaign (arrays indexed by segment code; code −1 = out of
    scope, left out of both groups)."""
    n = len(seg)
    lo = (window["first_day"] - _EPOCH).days  # Polars dates count days from 1970-01-01
    hi = (window["window_end"] - _EPOCH).days + 1
    a, b = np.searchsorted(data.day, np.array([lo, hi], dtype=data.day.dtype))
    idx = data.idx[a:b]
    revenue = np.bincount(idx, weights=data.net[a:b], minlength=n)
    bought = np.zeros(n, dtype=bool)
    bought[idx[data.purchase[a:b]]] = True
    who = sent["idx"].to_numpy()
    keep = seg[who] >= 0
    contacted = np.zeros(n, dtype=bool)
    contacted[who[keep]] = True
    comparison = (data.known < lo) & ~contacted & (seg >= 0)

    def per_segment(mask: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
        w = None if weights is None else weights[mask]
        return np.bincount(seg[mask], weights=w, minlength=k)

    def flagged(column: str) -> np.ndarray:
        return np.bincount(seg[who[keep & sent[column].to_numpy()]], minlength=k)

    return {
        "contacted": per_segment(contacted), "responded": flagged("responded"),
        "converted": flagged("converted"), "revenue_contacted": per_segment(contacted, revenue),
        "buyers_contacted": per_segment(contacted & bought), "comparison": per_segment(comparison),
        "revenue_comparison": per_segment(comparison, revenue),
        "buyers_comparison": per_segment(comparison & bought),
    }  # fmt: skip


def campaign_response(
    data: CampaignData,
    segments: pl.Series,
    days: int,
    as_of: date,
    scope: pl.Series | None = None,
) -> pl.DataFrame:
    """Per campaign × segment: reach, response and revenue against the comparison group.

    `segments` gives each population row of `data` its segment; `scope` (Boolean, same
    length; None = everyone) keeps the customers the global filters leave, in both groups.
    Columns: the `campaign_windows` columns, `segment`, the sums `contacted, responded,
    converted, revenue_contacted, buyers_contacted, comparison, revenue_comparison,
    buyers_comparison` and the rates of `with_rates`. Rows with nobody contacted are left
    out. One vectorised pass per campaign (a loop over campaigns, never over customers).
    """
    windows = campaign_windows(data.sends, days, as_of)
    labels = segments.cast(pl.String).fill_null("unknown")
    names = labels.unique().sort().to_list()
    codes = labels.replace_strict(names, list(range(len(names))), return_dtype=pl.Int32)
    if scope is not None:
        codes = pl.select(pl.when(scope).then(codes).otherwise(-1)).to_series()
    seg = codes.to_numpy()
    by_campaign = data.sends.partition_by("campaign", as_dict=True)
    parts = []
    for window in windows.iter_rows(named=True):  # one pass per campaign
        sums = _one_campaign(window, by_campaign[(window["campaign"],)], data, seg, len(names))
        parts.append(pl.DataFrame({"campaign": window["campaign"], "segment": names, **sums}))
    if not parts:
        return with_rates(_empty(windows))
    table = pl.concat(parts).filter(pl.col("contacted") > 0)
    table = windows.join(table, on="campaign", how="inner", maintain_order="left")
    return with_rates(table.cast({c: pl.Int64 for c in _SUMS if not c.startswith("revenue")}))


def _empty(windows: pl.DataFrame) -> pl.DataFrame:
    counts = {c: pl.Float64 if c.startswith("revenue") else pl.Int64 for c in _SUMS}
    return pl.DataFrame(schema={**windows.schema, "segment": pl.String, **counts})


def with_rates(table: pl.DataFrame) -> pl.DataFrame:
    """Add the rates of the module docstring to a frame holding the `_SUMS` columns:
    `response_rate, conversion_rate, revenue_per_contacted, purchase_rate_contacted,
    revenue_per_comparison, purchase_rate_comparison` and the uplifts `revenue_uplift`
    (BRL per customer) and `purchase_uplift` (0–1 difference); null without a comparison."""
    per, other = pl.col("contacted"), pl.col("comparison")
    has = other > 0
    table = table.with_columns(
        response_rate=pl.col("responded") / per,
        conversion_rate=pl.col("converted") / per,
        revenue_per_contacted=pl.col("revenue_contacted") / per,
        purchase_rate_contacted=pl.col("buyers_contacted") / per,
        revenue_per_comparison=pl.when(has).then(pl.col("revenue_comparison") / other),
        purchase_rate_comparison=pl.when(has).then(pl.col("buyers_comparison") / other),
    )  # fmt: skip
    return table.with_columns(
        revenue_uplift=pl.col("revenue_per_contacted") - pl.col("revenue_per_comparison"),
        purchase_uplift=pl.col("purchase_rate_contacted") - pl.col("purchase_rate_comparison"),
    )


def pooled(table: pl.DataFrame, by: str | None) -> pl.DataFrame:
    """`campaign_response` pooled by "segment" (over campaigns), "campaign" (over segments) or
    over every row (`by=None`: one row, `segment` "all").

    Counts add up (`contacted` then counts contacts: a customer reached by three campaigns
    counts three times); rates are recomputed from the sums; `revenue_uplift` and
    `purchase_uplift` are the means of the rows' uplifts weighted by contacted customers, over
    the rows that have a comparison group — by campaign, a segment-matched comparison.
    Also `campaigns` (rows pooled); by segment in segment order, by campaign in send order.
    """
    if by is None:
        table = table.with_columns(segment=pl.lit("all"))
    key = by or "segment"
    weight = pl.when(pl.col("comparison") > 0).then(pl.col("contacted"))
    out = table.group_by(key, maintain_order=True).agg(
        pl.col("campaign").n_unique().alias("campaigns"),
        *(pl.col(c).sum() for c in _SUMS),
        (pl.col("revenue_uplift") * weight).sum().alias("_ru"),
        (pl.col("purchase_uplift") * weight).sum().alias("_pu"),
        weight.sum().alias("_w"),
    )
    if by == "segment":
        out = out.sort("segment")
    rates = with_rates(out).drop("revenue_uplift", "purchase_uplift")
    has = pl.col("_w") > 0
    return rates.with_columns(
        revenue_uplift=pl.when(has).then(pl.col("_ru") / pl.col("_w")),
        purchase_uplift=pl.when(has).then(pl.col("_pu") / pl.col("_w")),
    ).drop("_ru", "_pu", "_w")


# ---- the current proposition: Customize rules per segment ---------------------------------


def current_ruleset(con: duckdb.DuckDBPyConnection) -> RuleSet:
    """The rule set in force: the most recently saved version of any name (as the Customize
    page opens it), or the built-in default when none was saved."""
    history = list_rules(con)
    if history.is_empty():
        return default_ruleset()
    newest = history.sort("created_at", descending=True).row(0, named=True)
    return load_rules(con, newest["name"], int(newest["version"]))


def segment_offers(assigned: pl.DataFrame) -> pl.DataFrame:
    """Which rule gives each segment its offer: per `segment` and winning `rule` (`NO_RULE`
    for customers no rule matches), `customers`, `share` of the segment (0–1), `priority`,
    `offer`, `channel`. `assigned` is `crm_core.customize.assign_actions`' output. Sorted by
    segment, then customers (most first)."""
    plain = assigned.select(
        pl.col("segment").cast(pl.String), pl.col("rule").fill_null(NO_RULE),
        "priority", "offer", "channel",
    )  # fmt: skip
    table = plain.group_by("segment", "rule").agg(
        customers=pl.len(), priority=pl.col("priority").first(),
        offer=pl.col("offer").first(), channel=pl.col("channel").first(),
    )  # fmt: skip
    table = table.with_columns(
        share=pl.col("customers") / pl.col("customers").sum().over("segment")
    )
    return table.select(
        "segment", "rule", "customers", "share", "priority", "offer", "channel"
    ).sort(["segment", "customers", "rule"], descending=[False, True, False])


def with_service_cost(offers: pl.DataFrame, costs: pl.DataFrame) -> pl.DataFrame:
    """`segment_offers` with `cost_to_serve_per_customer`: the segment's cost to serve ÷ its
    served customers (BRL), from `crm_core.portfolio.profitability` by segment (`costs`)."""
    per = costs.select(
        pl.col("segment").cast(pl.String),
        cost_to_serve_per_customer=pl.col("cost_to_serve") / pl.col("customers"),
    )
    return offers.join(per, on="segment", how="left", maintain_order="left")

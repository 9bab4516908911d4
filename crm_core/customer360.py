"""Customer 360 (IDIC "Identify"): everything known about one customer, in one place.

A customer is shown as its **golden record** (`crm_core.identity_merge`): asking for a member
opens the golden record it was merged into, and the facts below cover all of its members (the
golden record included) that have not been erased, as the golden-level views do
(`order_facts`, `interaction_facts`, `feedback_facts`: `customer_id` is the golden record's,
`source_customer_id` the record a source gave).

- **Profile**: `golden_profiles` survivorship (the golden record's own value, else the newest
  member's), computed over the members alone (`directory.golden_profiles_of`).
- **Members**: each member id with how it was linked (rule, score, when, by whom; null for
  the golden record itself); **source records**: every `customer_records` row of a member.
- **Consent now**, per member and channel (`customize.CHANNELS` first): the current consent
  of `targeting.CURRENT_CONSENTS_SQL` (latest statement wins, a withdrawal wins a tie);
  `status` is granted | withdrawn | none (nothing recorded). Consent ignores the as-of date:
  it is the position today. Target lists read the golden record's own consent, and so does
  the next best action's consent check.
- **Purchases, interactions, feedback** up to the as-of day (local days, as in
  `crm_core.summary`): every order (status, gross and net amounts in BRL, sales channel,
  category), every contact, every survey answer (CSAT 1–5, NPS 0–10, comment), newest
  contacts and answers first.
- **Analytics** (`analytics`): the golden record's row of the frames the other pages use
  (summary, segments and tiers, life-cycle stage, relationship type, CLV scores), so the 360
  agrees with them; `next_best_action` applies the Customize rules (`crm_core.customize`)
  to its labels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from crm_core.customize import CHANNELS as ACTION_CHANNELS
from crm_core.customize import PROFILE_COLUMNS, RuleSet, assign_actions, build_profile
from crm_core.directory import golden_profiles_of
from crm_core.errors import VinculoError
from crm_core.summary import query_frame
from crm_core.targeting import CURRENT_CONSENTS_SQL

_IDS = "customer_id IN (SELECT unnest($ids::VARCHAR[]))"
_UNTIL = "($as_of + 1)::TIMESTAMP::TIMESTAMPTZ"  # local midnight after the as-of day
_FOREVER = date(9999, 12, 30)

_WHO_SQL = """
SELECT c.erased_at IS NOT NULL AS erased, coalesce(l.golden_id, c.customer_id) AS golden_id
FROM customers c
LEFT JOIN (SELECT customer_id, golden_id FROM identity_links WHERE unlinked_at IS NULL) l
  USING (customer_id)
WHERE c.customer_id = $id
"""
_MEMBERS_SQL = """
WITH l AS (SELECT * FROM identity_links WHERE unlinked_at IS NULL AND golden_id = $golden)
SELECT c.customer_id, c.customer_id = $golden AS is_golden, l.rule, l.score, l.linked_at,
       l.linked_by
FROM customers c LEFT JOIN l USING (customer_id)
WHERE c.erased_at IS NULL AND c.customer_id IN (SELECT $golden UNION ALL SELECT customer_id FROM l)
ORDER BY is_golden DESC, c.customer_id
"""
_RECORDS_SQL = f"SELECT * FROM customer_records WHERE {_IDS} ORDER BY created_at, customer_id"
# list_contains (not IN a subquery) lets DuckDB push the filter below the window function.
_CONSENTS_SQL = (
    f"SELECT * FROM ({CURRENT_CONSENTS_SQL}) WHERE list_contains($ids::VARCHAR[], customer_id)"
)
_SOURCE = "source_customer_id IN (SELECT unnest($ids::VARCHAR[]))"
_ORDERS_SQL = f"""
SELECT order_id, source_customer_id, ordered_at, ordered_at::DATE AS day, status,
       gross_amount::DOUBLE AS gross_amount, discount_amount::DOUBLE AS discount_amount,
       refunded_amount::DOUBLE AS refunded_amount, net_amount::DOUBLE AS net_amount,
       is_purchase, sales_channel, category, items, currency
FROM order_facts WHERE {_SOURCE} AND ordered_at < {_UNTIL}
ORDER BY ordered_at, order_id
"""
_INTERACTIONS_SQL = f"""
SELECT interaction_id, source_customer_id, occurred_at, channel, type, direction, outcome,
       campaign, owner, subject
FROM interaction_facts WHERE {_SOURCE} AND occurred_at < {_UNTIL}
ORDER BY occurred_at DESC, interaction_id
"""
_FEEDBACK_SQL = f"""
SELECT feedback_id, source_customer_id, answered_at, csat, nps, comment, survey, channel
FROM feedback_facts WHERE {_SOURCE} AND answered_at < {_UNTIL}
ORDER BY answered_at DESC, feedback_id
"""

ANALYTICS_COLUMNS: tuple[str, ...] = (
    "customer_id", "orders", "revenue", "first_purchase", "last_purchase", "recency_days",
    "r_score", "f_score", "m_score", "rfm_score", "segment", "tier", "stage", "stage_reason",
    "relationship_type", "relationship_reason", "clv", "p_alive",
)  # fmt: skip
_SCORES = pl.DataFrame(schema={"customer_id": pl.String, "clv": pl.Float64, "p_alive": pl.Float64})


@dataclass(frozen=True)
class Customer360:
    """One golden record and its facts (module docstring); frames sorted as shown."""

    requested_id: str
    golden_id: str
    profile: pl.DataFrame
    members: pl.DataFrame
    records: pl.DataFrame
    consents: pl.DataFrame
    orders: pl.DataFrame
    interactions: pl.DataFrame
    feedback: pl.DataFrame

    @property
    def member_ids(self) -> list[str]:
        """The golden record's id first, then the other members' ids."""
        return self.members["customer_id"].to_list()


def golden_id_of(con: duckdb.DuckDBPyConnection, customer_id: str) -> str:
    """The golden record `customer_id` belongs to (itself when not merged).

    Raises `VinculoError("customers.unknown_customer")` for an id not in the store and
    `VinculoError("customers.erased_customer")` for an erased customer.
    """
    found = query_frame(con, _WHO_SQL, {"id": customer_id})
    if found.height == 0:
        raise VinculoError("customers.unknown_customer", id=customer_id)
    if found["erased"][0]:
        raise VinculoError("customers.erased_customer", id=customer_id)
    return str(found["golden_id"][0])


def current_consents_of(con: duckdb.DuckDBPyConnection, member_ids: Sequence[str]) -> pl.DataFrame:
    """Consent now (module docstring) of every member and channel: `customer_id, channel,
    status, recorded_at, source`, members in `member_ids` order, the channels of
    `customize.CHANNELS` first (status none when nothing is recorded), then any other."""
    now = query_frame(con, _CONSENTS_SQL, {"ids": list(member_ids)})
    extra = sorted(set(now["channel"].to_list()) - set(ACTION_CHANNELS))
    grid = pl.DataFrame({"customer_id": list(member_ids)}).join(
        pl.DataFrame({"channel": [*ACTION_CHANNELS, *extra]}), how="cross"
    )
    status = (
        pl.when(pl.col("granted"))
        .then(pl.lit("granted"))
        .when(pl.col("granted").not_())
        .then(pl.lit("withdrawn"))
        .otherwise(pl.lit("none"))
    )
    return grid.join(now, on=["customer_id", "channel"], how="left", maintain_order="left").select(
        "customer_id", "channel", status.alias("status"), "recorded_at", "source"
    )


def load_customer(
    con: duckdb.DuckDBPyConnection, customer_id: str, as_of: date | None = None
) -> Customer360:
    """Everything about `customer_id`'s golden record (module docstring), facts up to the
    local day `as_of` (all of them when None). Raises what `golden_id_of` raises."""
    golden = golden_id_of(con, customer_id)
    members = query_frame(con, _MEMBERS_SQL, {"golden": golden})
    ids = members["customer_id"].to_list()
    params = {"ids": ids, "as_of": as_of or _FOREVER}
    return Customer360(
        requested_id=customer_id,
        golden_id=golden,
        profile=golden_profiles_of(con, ids),
        members=members,
        records=query_frame(con, _RECORDS_SQL, {"ids": ids}),
        consents=current_consents_of(con, ids),
        orders=query_frame(con, _ORDERS_SQL, params),
        interactions=query_frame(con, _INTERACTIONS_SQL, params),
        feedback=query_frame(con, _FEEDBACK_SQL, params),
    )


def _rows(frame: pl.DataFrame, customer_id: str) -> pl.DataFrame:
    return frame.filter(pl.col("customer_id") == customer_id)


def _reason(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    return frame.select("customer_id", pl.col("reason").cast(pl.String).alias(name))


def analytics(
    golden_id: str,
    summary: pl.DataFrame,
    segmented: pl.DataFrame,
    staged: pl.DataFrame,
    typed: pl.DataFrame,
    scores: pl.DataFrame | None,
) -> pl.DataFrame:
    """The golden record's analytics row (none when it is not in `summary`).

    Inputs are the whole-store frames the other pages read: `customer_summary`,
    `segment_customers`, `assign_stages`, `relationship_types` and the CLV scores
    (`customer_id, clv, p_alive`; None when the models could not be fitted). Columns
    `ANALYTICS_COLUMNS`: `orders` (purchases), `revenue` (net, BRL), purchase dates,
    `recency_days` (as-of − last purchase, days), RFM scores, the labels as text
    (`customize.build_profile`), `stage_reason` and `relationship_reason` as codes, `clv`
    (BRL) and `p_alive` (0–1), null when not scored.
    """
    seg, stg, typ = (_rows(f, golden_id) for f in (segmented, staged, typed))
    scored = _SCORES if scores is None else _rows(scores, golden_id).select(_SCORES.columns)
    frame = (
        _rows(summary, golden_id)
        .join(seg.drop("segment", "tier"), on="customer_id", how="left")
        .join(build_profile(seg, stg, typ), on="customer_id", how="left")
        .join(_reason(stg, "stage_reason"), on="customer_id", how="left")
        .join(_reason(typ, "relationship_reason"), on="customer_id", how="left")
        .join(scored, on="customer_id", how="left")
    )
    return frame.select(ANALYTICS_COLUMNS)


def next_best_action(row: pl.DataFrame, ruleset: RuleSet, consents: pl.DataFrame) -> pl.DataFrame:
    """The next best action of the `analytics` row: `assign_actions` under `ruleset`, one
    row with `customer_id, rule, priority, offer, message, channel, owner, conflicts,
    matched_rules` (null rule when no rule matches), plus that customer's current consent
    for the chosen channel in `consents`: `consent` (granted | withdrawn | none; null without
    an action), `consent_recorded_at`, `consent_source`, and `contactable` (True only when
    the consent is granted, as the rule's target list requires)."""
    action = assign_actions(row.select(PROFILE_COLUMNS), ruleset)
    status = consents.select(
        "customer_id", "channel", consent="status", consent_recorded_at="recorded_at",
        consent_source="source",
    )  # fmt: skip
    return (
        action.drop(PROFILE_COLUMNS[1:])
        .join(status, on=["customer_id", "channel"], how="left", maintain_order="left")
        .with_columns(
            consent=pl.when(pl.col("rule").is_not_null()).then(pl.col("consent").fill_null("none"))
        )
        .with_columns(contactable=(pl.col("consent") == "granted").fill_null(False))
    )

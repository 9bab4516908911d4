"""Types of relationship per customer, from interactions and purchase regularity.

The seven types of the domain brief (after the usual textbook list, e.g. Osterwalder & Pigneur's
customer-relationship categories and Buttle's transactional/relational distinction):
**transactional** (no real relationship), **long-term** (a recurring customer),
**personal assistance** (a person helps: phone, WhatsApp, chat, visit, e-mail),
**dedicated personal assistance** (a named account manager), **self-service** (web, app),
**automated services** (self-service that recognises and personalises: campaigns the customer
engages with) and **communities** (user communities, peer help).

Contacts are grouped by channel (`interaction_profile`), in this order:
community = channel 'community' or type 'community_post'; self-service = channel 'web' or 'app';
automated = any contact of type 'campaign', and every SMS; personal = phone, whatsapp, chat,
visit, and e-mail that is not a campaign (support, sales, complaint: a person wrote it);
anything else is 'other'. *Interactive* contacts are all contacts minus automated ones:
campaign sends are one-way broadcasts, so they do not say who serves the customer, and without
this a newsletter list would drown every phone call.

Rules (`RelationshipRules`), first match wins; every customer gets exactly one type:

1. **dedicated_personal_assistance** — a named account manager and personal contacts >=
   `dedicated_min_personal_contacts` (reason `account_manager`).
2. **communities** — interactive contacts >= `min_contacts` and community / interactive >=
   `community_min_share` (reason `community_share`).
3. **personal_assistance** — interactive contacts >= `min_contacts` and personal / interactive
   >= `personal_min_share` (reason `personal_share`).
4. **automated_services** — automated / all contacts >= `automated_min_share`, engaged automated
   contacts (opened, clicked, responded, converted) >= `automated_min_engaged`, and a repeat
   buyer (purchase_days >= 2) (reason `automated_engaged`).
5. **self_service** — interactive contacts >= `min_contacts` and self-service / interactive >=
   `self_service_min_share` (reason `self_service_share`).
6. **long_term** — purchase_days >= `long_term_min_purchase_days`, first-to-last purchase span
   >= `long_term_min_months` (months of 30.4375 days), and still on rhythm: recency_days <=
   `long_term_max_gap_ratio` x the mean gap between purchase days (reason `regular_repeat`).
7. **transactional** — everything else (reasons `no_purchase`, `single_purchase`,
   `irregular_repeat`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import date, timedelta
from typing import Any

import duckdb
import polars as pl

from crm_core.errors import VinculoError
from crm_core.i18n import translate
from crm_core.thresholds import numeric_from_dict

TYPES: tuple[str, ...] = (
    "transactional",
    "long_term",
    "personal_assistance",
    "dedicated_personal_assistance",
    "self_service",
    "automated_services",
    "communities",
)
"""Relationship types, in the order of the domain brief."""

REASONS: tuple[str, ...] = (
    "account_manager",
    "community_share",
    "personal_share",
    "automated_engaged",
    "self_service_share",
    "regular_repeat",
    "no_purchase",
    "single_purchase",
    "irregular_repeat",
)
"""Reason codes, one per rule branch, in evaluation order."""

_TYPE_OF_REASON: dict[str, str] = {
    "account_manager": "dedicated_personal_assistance",
    "community_share": "communities",
    "personal_share": "personal_assistance",
    "automated_engaged": "automated_services",
    "self_service_share": "self_service",
    "regular_repeat": "long_term",
    "no_purchase": "transactional",
    "single_purchase": "transactional",
    "irregular_repeat": "transactional",
}

TYPE_DTYPE = pl.Enum(TYPES)
REASON_DTYPE = pl.Enum(REASONS)

PROFILE_COLUMNS: tuple[str, ...] = (
    "customer_id",
    "contacts",
    "personal_contacts",
    "self_service_contacts",
    "automated_contacts",
    "community_contacts",
    "automated_engaged",
    "has_account_manager",
)
"""Interaction-profile columns the type rules read."""

SUMMARY_COLUMNS: tuple[str, ...] = ("customer_id", "purchase_days", "tenure_days", "recency_days")
"""Summary columns the type rules read."""

DAYS_PER_MONTH = 30.4375
"""Mean Gregorian month length in days (365.25 / 12)."""


@dataclass(frozen=True)
class RelationshipRules:
    """Thresholds of the relationship-type rules (see the module docstring).

    Shares are 0-1; counts are contacts within the profile's lookback or distinct purchase days.
    """

    dedicated_min_personal_contacts: int = 1
    min_contacts: int = 2
    community_min_share: float = 0.30
    personal_min_share: float = 0.50
    automated_min_share: float = 0.50
    automated_min_engaged: int = 1
    self_service_min_share: float = 0.50
    long_term_min_purchase_days: int = 3
    long_term_min_months: float = 6.0
    long_term_max_gap_ratio: float = 2.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            bad = value < 0 or (f.name.endswith("_share") and value > 1)
            if bad or (f.name == "long_term_max_gap_ratio" and value <= 0):
                raise VinculoError("relationship.invalid_rule", name=f.name, value=value)

    def to_dict(self) -> dict[str, Any]:
        """The rules as a plain JSON-serialisable dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RelationshipRules:
        """Rules from a dict; missing keys take the defaults, unknown keys are an error."""
        return numeric_from_dict(cls, data, "relationship")


# Interactions are filtered on the instant rather than by casting every row to a local date:
# DATE -> TIMESTAMPTZ gives local midnight in the connection's TimeZone (the business time
# zone). They are aggregated before the join with `golden_customers`; `interaction_facts`
# files a merged record's contacts under its golden record (see `schema.V3`).
_PROFILE_SQL = """
WITH contact AS (
    SELECT customer_id, occurred_at, direction, type,
        CASE
            WHEN channel = 'community' OR type = 'community_post' THEN 'community'
            WHEN channel IN ('web', 'app') THEN 'self_service'
            WHEN type = 'campaign' OR channel = 'sms' THEN 'automated'
            WHEN channel IN ('phone', 'whatsapp', 'chat', 'visit', 'email') THEN 'personal'
            ELSE 'other'
        END AS channel_group,
        outcome IN ('opened', 'clicked', 'responded', 'converted') AS engaged,
        occurred_at >= $window_start::DATE::TIMESTAMPTZ AS recent
    FROM interaction_facts
    WHERE occurred_at < $window_end::DATE::TIMESTAMPTZ
), per_customer AS (
    SELECT customer_id,
        count(*) FILTER (recent) AS contacts,
        count(*) FILTER (recent AND channel_group = 'personal') AS personal_contacts,
        count(*) FILTER (recent AND channel_group = 'self_service') AS self_service_contacts,
        count(*) FILTER (recent AND channel_group = 'automated') AS automated_contacts,
        count(*) FILTER (recent AND channel_group = 'community') AS community_contacts,
        count(*) FILTER (recent AND channel_group = 'other') AS other_contacts,
        count(*) FILTER (recent AND channel_group = 'automated' AND engaged)
            AS automated_engaged,
        count(*) FILTER (recent AND direction = 'inbound') AS inbound,
        count(*) FILTER (recent AND direction = 'outbound') AS outbound,
        count(*) FILTER (recent AND type = 'complaint') AS complaints,
        max(occurred_at) AS last_at
    FROM contact
    GROUP BY customer_id
)
SELECT c.customer_id, COLUMNS(p.* EXCLUDE (customer_id, last_at)),
    coalesce(trim(c.account_manager), '') <> '' AS has_account_manager,
    p.last_at::DATE AS last_contact
FROM golden_customers c
LEFT JOIN per_customer p ON p.customer_id = c.customer_id
WHERE c.erased_at IS NULL
ORDER BY c.customer_id
"""

_COUNT_COLUMNS: tuple[str, ...] = (
    "contacts",
    "personal_contacts",
    "self_service_contacts",
    "automated_contacts",
    "community_contacts",
    "other_contacts",
    "automated_engaged",
    "inbound",
    "outbound",
    "complaints",
)


def interaction_profile(
    con: duckdb.DuckDBPyConnection, as_of: date, lookback_days: int = 365
) -> pl.DataFrame:
    """Per-customer contact facts at `as_of`, one row per non-erased golden record (zeros if
    none; a golden record's contacts include those of the records merged into it).

    Counts (Int64) are of interactions whose local date is in (as_of - lookback_days, as_of]:
    `contacts` (all), `personal_contacts`, `self_service_contacts`, `automated_contacts`,
    `community_contacts`, `other_contacts` (the channel groups of the module docstring; they
    sum to `contacts`), `automated_engaged` (automated contacts opened, clicked, responded to
    or converted), `inbound`, `outbound`, `complaints` (type 'complaint').
    `has_account_manager` (Boolean): the customer record names an account manager.
    `last_contact` (Date): the latest contact on or before as_of, at any time (null if none).
    """
    if lookback_days < 1:
        raise VinculoError("relationship.invalid_rule", name="lookback_days", value=lookback_days)
    params = {
        "window_end": as_of + timedelta(days=1),
        "window_start": as_of + timedelta(days=1 - lookback_days),
    }
    con.complete()  # DuckDB 2: an unread execute() result (store helpers) would block con.sql
    profile = con.sql(_PROFILE_SQL, params=params).pl()
    return profile.with_columns(pl.col(_COUNT_COLUMNS).fill_null(0))


def _profile_facts(summary: pl.DataFrame, profile: pl.DataFrame) -> pl.DataFrame:
    """Summary rule columns joined with the profile's (zeros for customers without a row)."""
    facts = summary.select(SUMMARY_COLUMNS)
    contacts = profile.select(PROFILE_COLUMNS)
    if contacts["customer_id"].equals(facts["customer_id"]):
        joined = facts.hstack(contacts.drop("customer_id"))
    else:
        joined = facts.join(contacts, on="customer_id", how="left", maintain_order="left")
    counts = [c for c in PROFILE_COLUMNS[1:] if c != "has_account_manager"]
    return joined.with_columns(
        pl.col(counts).fill_null(0),
        pl.col("has_account_manager").fill_null(False),
        pl.col("purchase_days").fill_null(0),
    )


def _share(part: str, whole: pl.Expr) -> pl.Expr:
    return pl.when(whole > 0).then(pl.col(part) / whole).otherwise(0.0)


def _reason(code: str) -> pl.Expr:
    return pl.lit(code, dtype=REASON_DTYPE)


def _reason_expr(rules: RelationshipRules) -> pl.Expr:
    """The first matching rule's reason code, as one vectorised `pl.when` chain."""
    interactive = pl.col("contacts") - pl.col("automated_contacts")
    enough = interactive >= rules.min_contacts
    days = pl.col("purchase_days")
    span = pl.col("tenure_days") - pl.col("recency_days")
    mean_gap = span / (days - 1).clip(lower_bound=1)
    return (
        pl.when(
            pl.col("has_account_manager")
            & (pl.col("personal_contacts") >= rules.dedicated_min_personal_contacts)
        )
        .then(_reason("account_manager"))
        .when(enough & (_share("community_contacts", interactive) >= rules.community_min_share))
        .then(_reason("community_share"))
        .when(enough & (_share("personal_contacts", interactive) >= rules.personal_min_share))
        .then(_reason("personal_share"))
        .when(
            (_share("automated_contacts", pl.col("contacts")) >= rules.automated_min_share)
            & (pl.col("automated_contacts") > 0)
            & (pl.col("automated_engaged") >= rules.automated_min_engaged)
            & (days >= 2)
        )
        .then(_reason("automated_engaged"))
        .when(
            enough & (_share("self_service_contacts", interactive) >= rules.self_service_min_share)
        )
        .then(_reason("self_service_share"))
        .when(
            (days >= max(rules.long_term_min_purchase_days, 2))
            & (span >= rules.long_term_min_months * DAYS_PER_MONTH)
            & (pl.col("recency_days") <= rules.long_term_max_gap_ratio * mean_gap)
        )
        .then(_reason("regular_repeat"))
        .when(days == 0)
        .then(_reason("no_purchase"))
        .when(days == 1)
        .then(_reason("single_purchase"))
        .otherwise(_reason("irregular_repeat"))
    )


def relationship_types(
    summary: pl.DataFrame, profile: pl.DataFrame, rules: RelationshipRules
) -> pl.DataFrame:
    """Relationship type of every customer of `summary`.

    `summary` has the contract columns of `customer_summary` (at least `SUMMARY_COLUMNS`);
    `profile` is `interaction_profile`'s output (customers missing from it count as no
    contacts). Returns `customer_id, relationship_type, reason`, one row per summary row in
    the same order; `relationship_type` is an Enum of `TYPES`, `reason` an Enum of `REASONS`.
    """
    for frame, needed, what in (
        (summary, SUMMARY_COLUMNS, "summary"),
        (profile, PROFILE_COLUMNS, "profile"),
    ):
        missing = [c for c in needed if c not in frame.columns]
        if missing:
            raise VinculoError(
                "relationship.missing_columns", what=what, columns=", ".join(missing)
            )
    type_of = pl.Series([_TYPE_OF_REASON[r] for r in REASONS], dtype=TYPE_DTYPE)
    return (
        _profile_facts(summary, profile)
        .select("customer_id", reason=_reason_expr(rules))
        .select(
            "customer_id",
            pl.lit(type_of).gather(pl.col("reason").to_physical()).alias("relationship_type"),
            "reason",
        )
    )


def type_counts(typed: pl.DataFrame) -> pl.DataFrame:
    """Customers per relationship type: `relationship_type` (String), `customers`, `share` (0-1).

    One row per type of `TYPES`, zeros included, in the brief's order.
    """
    total = typed.height
    counts = (
        typed.group_by("relationship_type")
        .agg(customers=pl.len().cast(pl.Int64))
        .with_columns(pl.col("relationship_type").cast(pl.String))
    )
    return (
        pl.DataFrame({"relationship_type": pl.Series(TYPES, dtype=pl.String)})
        .join(counts, on="relationship_type", how="left", maintain_order="left")
        .with_columns(pl.col("customers").fill_null(0))
        .with_columns(share=pl.col("customers") / total if total else pl.lit(0.0))
    )


def rule_table(rules: RelationshipRules, lang: str = "pt_BR") -> pl.DataFrame:
    """The type rules as shown to users, in evaluation order, with the current thresholds.

    Columns: `reason` (code), `relationship_type` (code), `type_label` and `description`
    (in `lang`).
    """
    params = rules.to_dict()
    types = [_TYPE_OF_REASON[r] for r in REASONS]
    return pl.DataFrame(
        {
            "reason": list(REASONS),
            "relationship_type": types,
            "type_label": [translate(f"relationship.type.{t}", lang) for t in types],
            "description": [translate(f"relationship.reason.{r}", lang, **params) for r in REASONS],
        }
    )

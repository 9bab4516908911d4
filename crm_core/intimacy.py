"""Customer intimacy (Buttle's CRM value chain, stage 2): what the firm knows about each
customer, where it learnt it and what it learnt lately.

Customers are the non-erased golden records (`golden_customers`), as in the customer summary;
facts (orders, interactions, answers) roll up to the golden id through the fact views.

Touchpoints (`touchpoint_capture`, `record_capture`)
- A *touchpoint* is a source of knowledge: orders by sales channel, interactions by channel,
  survey answers by channel, consent records by source, and customer records by source (the
  latter straight from `crm_core.quality`: completeness per field and source).
- Per touchpoint: `records` (rows up to the as-of day; customer records: records as stored),
  `customers` (distinct golden records reached), `coverage` = customers ÷ the customers counted
  (0–1), `per_customer` = records ÷ customers, `latest` = local day of the newest row.
- Per touchpoint and field (`KIND_FIELDS`): `share` = rows with the field filled ÷ rows (0–1).
  *Filled* = not null and, for text, not blank after trimming (quality's definition);
  `products` = the order has at least one product line (`order_items`).

Profile completeness (`profile_completeness`)
- A profile has `ProfileSpec.areas`, each a set of fields: contact (name, e-mail, phone,
  document, ZIP), demographics (birth date, gender, city, state), preferences (a purchase
  naming a category; one naming a sales channel), consent (a consent decision — granted or
  refused — recorded on any channel) and feedback (a survey answer).
- A contact or demographic field is *known* when any record of the golden record's members
  fills it (as the store holds them now; a customer file has no date per field); a preference,
  consent or feedback field when its first fact falls on or before the as-of day.
- Area score = share of its fields known (0–1); **completeness** = mean of the area scores
  (0–1), so each area weighs the same whatever its number of fields.

Changes (`profile_changes`, `activity_changes`; pairs of periods, `Period.previous()`)
- *New customers known*: customers created (local day of `created_at`) in the period.
- *Profiles enriched*: customers created before the period who got at least one profile field
  known for the first time in it; *fields filled in*: how many such (customer, field) firsts.
  A contact field counts on the day of the upload that first filled it (a record without an
  upload: the customer's creation day); the others on the day of their first fact.
- *New consents*: consent rows granting a channel whose previous state was not granted (none
  or refused); *withdrawals*: rows refusing a channel whose previous state was granted.
- *Interactions logged*: interaction rows in the period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import polars as pl

from crm_core.errors import VinculoError
from crm_core.kpi_query import Grain, midnight, registered, run
from crm_core.period import Period
from crm_core.quality import FIELDS as RECORD_FIELDS

KINDS: tuple[str, ...] = ("orders", "interactions", "feedback", "consents", "customers")
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "orders": ("category", "items", "products"),
    "interactions": ("type", "direction", "outcome", "campaign", "owner", "subject"),
    "feedback": ("csat", "nps", "comment", "survey"),
    "consents": (),
    "customers": RECORD_FIELDS,
}
"""The fields whose fill share is measured per touchpoint kind."""
PERSON_FIELDS: tuple[str, ...] = (
    "name", "email", "phone", "document", "zip", "birth_date", "gender", "city", "state",
)  # fmt: skip
FACT_FIELDS: tuple[str, ...] = ("category", "channel", "consent", "feedback")
PROFILE_FIELDS: tuple[str, ...] = (*PERSON_FIELDS, *FACT_FIELDS)
UNKNOWN = "unknown"
_EPOCH = "TIMESTAMPTZ '1900-01-01 12:00:00+00'"  # "known, day not recorded": before any period


@dataclass(frozen=True)
class ProfileSpec:
    """Profile areas and their fields (from `PROFILE_FIELDS`), as data."""

    areas: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("contact", ("name", "email", "phone", "document", "zip")),
        ("demographics", ("birth_date", "gender", "city", "state")),
        ("preferences", ("category", "channel")),
        ("consent", ("consent",)),
        ("feedback", ("feedback",)),
    )

    def __post_init__(self) -> None:
        unknown = [f for f in self.fields if f not in PROFILE_FIELDS]
        if unknown or not self.areas or any(not fs for _, fs in self.areas):
            raise VinculoError("intimacy.bad_profile", fields=", ".join(unknown) or "-")

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(f for _, fs in self.areas for f in fs)

    @property
    def area_names(self) -> tuple[str, ...]:
        return tuple(a for a, _ in self.areas)


def _filled(column: str) -> str:
    return f"nullif(trim({column}::VARCHAR), '') IS NOT NULL"


def _scoped(q: Grain) -> str:
    """SQL joins keeping rows `t` of live golden customers (and of the scope, if any)."""
    live = "SELECT customer_id FROM golden_customers WHERE erased_at IS NULL"
    joins = f" SEMI JOIN ({live}) g ON g.customer_id = t.customer_id"
    if q.scope:
        joins += f" SEMI JOIN {q.scope} s ON s.customer_id = t.customer_id"
    return joins


# ---- data captured per touchpoint -------------------------------------------------------------

_LINKS = "SELECT customer_id, golden_id FROM identity_links WHERE unlinked_at IS NULL"
_GOLDEN_CONSENTS = f"""(SELECT k.* REPLACE (coalesce(l.golden_id, k.customer_id) AS customer_id)
    FROM consents k LEFT JOIN ({_LINKS}) l ON l.customer_id = k.customer_id)"""
"""Consent rows under the golden id (consents are stored under the id they were given for)."""
_FACTS: dict[str, tuple[str, str, str]] = {
    "orders": ("order_facts", "ordered_at", "sales_channel"),
    "interactions": ("interaction_facts", "occurred_at", "channel"),
    "feedback": ("feedback_facts", "answered_at", "channel"),
    "consents": ("consents", "recorded_at", "source"),
}
_FLAG_SQL = {
    "items": "t.items IS NOT NULL",
    "products": "t.order_id IN (SELECT order_id FROM order_items)",
    "csat": "t.csat IS NOT NULL",
    "nps": "t.nps IS NOT NULL",
}


def _capture_sql(kind: str, until: str, joins: str) -> str:
    table, ts, by = _FACTS[kind]
    if kind == "consents":
        table = _GOLDEN_CONSENTS
    flags = "".join(
        f", count(*) FILTER ({_FLAG_SQL.get(f) or _filled('t.' + f)}) AS {f}"
        for f in KIND_FIELDS[kind]
    )
    touchpoint = f"coalesce(nullif(trim(t.{by}), ''), '{UNKNOWN}')"
    return f"""SELECT '{kind}' AS kind, {touchpoint} AS touchpoint,
        count(*) AS records, count(DISTINCT t.customer_id) AS customers,
        max(t.{ts})::DATE AS latest{flags}
    FROM {table} t{joins} WHERE t.{ts} < {until} GROUP BY ALL"""


def _long_fields(wide: pl.DataFrame, kind: str) -> pl.DataFrame:
    schema = {"kind": pl.String, "touchpoint": pl.String, "field": pl.String, "share": pl.Float64}
    if not KIND_FIELDS[kind] or wide.height == 0:
        return pl.DataFrame(schema=schema)
    long = wide.unpivot(KIND_FIELDS[kind], index=["kind", "touchpoint", "records"],
                        variable_name="field", value_name="filled")  # fmt: skip
    return long.select("kind", "touchpoint", "field", share=pl.col("filled") / pl.col("records"))


@dataclass(frozen=True)
class Capture:
    """`touchpoints`: kind, touchpoint, records, customers, coverage, per_customer, latest;
    `fields`: kind, touchpoint, field, share; `base`: customers counted (coverage's base)."""

    touchpoints: pl.DataFrame
    fields: pl.DataFrame
    base: int


def _touchpoint_table(frame: pl.DataFrame, base: int) -> pl.DataFrame:
    return frame.select(
        "kind", "touchpoint", pl.col("records", "customers").cast(pl.UInt64),
        coverage=pl.col("customers") / base if base else pl.lit(None, pl.Float64),
        per_customer=pl.col("records") / pl.col("customers"), latest=pl.col("latest"),
    ).sort(pl.col("kind").cast(pl.Enum(KINDS)), "records", descending=[False, True])  # fmt: skip


def touchpoint_capture(
    con: duckdb.DuckDBPyConnection, as_of: date, customers: pl.DataFrame | None = None
) -> Capture:
    """What orders, interactions, answers and consent records captured up to `as_of`, per
    touchpoint (definitions in the module docstring), for the live golden customers (only
    those of `customers` when given: a frame with `customer_id`)."""
    until = midnight(as_of + timedelta(days=1))
    with registered(con, Grain.single(Period(as_of, as_of)), customers=customers) as q:
        joins = _scoped(q)
        wide = {k: run(con, _capture_sql(k, until, joins)) for k in _FACTS}
        base_sql = f"SELECT count(*) FROM golden_customers t{joins} WHERE t.erased_at IS NULL"
        base = int(run(con, base_sql).item())
    frames = [
        w.select("kind", "touchpoint", "records", "customers", "latest") for w in wide.values()
    ]
    fields = pl.concat([_long_fields(w, k) for k, w in wide.items()])
    return Capture(_touchpoint_table(pl.concat(frames), base), fields, base)


def record_capture(checks: pl.DataFrame, fill: pl.DataFrame, base: int) -> Capture:
    """Customer records by source as touchpoints, from `crm_core.quality`: `checks`
    (`customer_checks`) gives records, golden records reached and the newest `created_at`;
    `fill` (`completeness`) the share filled per field. `base` = customers counted."""
    per = checks.group_by("source").agg(
        pl.len().alias("records"), pl.col("golden_id").n_unique().alias("customers"),
        pl.col("created_at").max().dt.date().alias("latest"),
    ).rename({"source": "touchpoint"}).with_columns(kind=pl.lit("customers"))  # fmt: skip
    fields = fill.filter(pl.col("source").is_not_null()).select(
        kind=pl.lit("customers"), touchpoint="source", field=pl.col("field").cast(pl.String),
        share="share",
    )  # fmt: skip
    return Capture(_touchpoint_table(per, base), fields, base)


def combine(*parts: Capture) -> Capture:
    """One capture table from several (same base)."""
    return Capture(
        pl.concat([p.touchpoints for p in parts], how="vertical_relaxed"),
        pl.concat([p.fields for p in parts], how="vertical_relaxed"),
        parts[0].base,
    )


# ---- profile completeness ---------------------------------------------------------------------

_FROM = {**dict.fromkeys(PERSON_FIELDS, "person"), "category": "buys", "channel": "buys",
         "consent": "agreed", "feedback": "said"}  # fmt: skip
_PICK = "CASE WHEN r.customer_id IS NULL THEN c.{0} ELSE r.{0} END AS {0}"
_HISTORY_SQL = f"""
WITH links AS ({_LINKS}),
rec AS (
    SELECT coalesce(l.golden_id, c.customer_id) AS customer_id,
           coalesce(CASE WHEN r.customer_id IS NULL THEN coalesce(c.created_at, c.updated_at)
                         ELSE coalesce(u.uploaded_at, r.created_at) END, {_EPOCH}) AS ts,
           {", ".join(_PICK.format(f) for f in PERSON_FIELDS)}
    FROM customers c
    LEFT JOIN customer_records r ON r.customer_id = c.customer_id
    LEFT JOIN uploads u ON u.upload_id = r.upload_id
    LEFT JOIN links l ON l.customer_id = c.customer_id
    WHERE c.erased_at IS NULL),
person AS (SELECT customer_id,
    {", ".join(f"min(ts) FILTER ({_filled(f)}) AS {f}" for f in PERSON_FIELDS)}
    FROM rec GROUP BY customer_id),
buys AS (SELECT customer_id, min(ordered_at) FILTER ({_filled("category")}) AS category,
    min(ordered_at) FILTER ({_filled("sales_channel")}) AS channel
    FROM order_facts WHERE is_purchase GROUP BY customer_id),
agreed AS (SELECT customer_id, min(recorded_at) AS consent FROM {_GOLDEN_CONSENTS} GROUP BY ALL),
said AS (SELECT customer_id, min(answered_at) AS feedback FROM feedback_facts GROUP BY ALL)
SELECT g.customer_id, g.created_at::DATE AS created,
    {", ".join(f"{_FROM[f]}.{f}::DATE AS {f}" for f in PROFILE_FIELDS)}
FROM golden_customers g
LEFT JOIN person USING (customer_id) LEFT JOIN buys USING (customer_id)
LEFT JOIN agreed USING (customer_id) LEFT JOIN said USING (customer_id)
WHERE g.erased_at IS NULL
ORDER BY g.customer_id
"""


def profile_history(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """When each profile field became known, per live golden record: `customer_id`, `created`
    (local day) and one Date per `PROFILE_FIELDS` (first known; null = never). A field known
    from a record with no date counts from 1900-01-01 (before any period)."""
    return run(con, _HISTORY_SQL)


def profile_completeness(
    history: pl.DataFrame, as_of: date, spec: ProfileSpec | None = None
) -> pl.DataFrame:
    """Per customer of `history`: `known_<field>` (Boolean), `area_<area>` (0–1) and
    `completeness` (0–1), at `as_of` (definitions in the module docstring)."""
    spec = spec or ProfileSpec()
    known = {
        f"known_{f}": (
            pl.col(f) <= as_of if f in FACT_FIELDS else pl.col(f).is_not_null()
        ).fill_null(False)
        for f in spec.fields
    }
    areas = {
        f"area_{a}": pl.mean_horizontal(pl.col(f"known_{f}").cast(pl.Float64) for f in fs)
        for a, fs in spec.areas
    }
    return (
        history.select("customer_id", **known)
        .with_columns(**areas)
        .with_columns(completeness=pl.mean_horizontal(pl.col(a) for a in areas))
    )


def completeness_bands(profile: pl.DataFrame, bands: int = 10) -> pl.DataFrame:
    """Customers per completeness band: `band` k = 0 … bands (k covers [k, k+1) ÷ bands; the
    last band holds complete profiles only), `customers`, `share` (0–1). Every band present."""
    k = (pl.col("completeness") * bands + 1e-9).floor().cast(pl.Int32).clip(0, bands)
    counts = profile.group_by(k.alias("band")).agg(pl.len().alias("customers"))
    every = pl.DataFrame({"band": list(range(bands + 1))}, schema={"band": pl.Int32})
    out = every.join(counts, on="band", how="left").with_columns(pl.col("customers").fill_null(0))
    total = max(profile.height, 1)
    return out.with_columns(share=pl.col("customers") / total).sort("band")


def completeness_stats(profile: pl.DataFrame) -> dict[str, float | int | None]:
    """`customers`, `mean` and `median` completeness, `complete` (share with every field known)
    and `below_half` (share under 0.5); shares 0–1, None without customers."""
    if profile.height == 0:
        return {"customers": 0, "mean": None, "median": None, "complete": None, "below_half": None}
    c = profile["completeness"]
    return {
        "customers": profile.height,
        "mean": float(c.mean()),  # type: ignore[arg-type]
        "median": float(c.median()),  # type: ignore[arg-type]
        "complete": float((c >= 1 - 1e-9).mean()),  # type: ignore[arg-type]
        "below_half": float((c < 0.5).mean()),  # type: ignore[arg-type]
    }


def field_coverage(profile: pl.DataFrame, spec: ProfileSpec | None = None) -> pl.DataFrame:
    """Per profile field: `area`, `field`, `known` (customers) and `share` (0–1)."""
    spec = spec or ProfileSpec()
    rows = [(a, f) for a, fs in spec.areas for f in fs]
    sums = profile.select(pl.col(f"known_{f}").sum() for _, f in rows).row(0) if rows else ()
    total = profile.height
    return pl.DataFrame(
        [(a, f, n, n / total if total else None) for (a, f), n in zip(rows, sums, strict=True)],
        schema={"area": pl.String, "field": pl.String, "known": pl.UInt32, "share": pl.Float64},
        orient="row",
    )


def completeness_by(profile: pl.DataFrame, groups: pl.DataFrame, by: str) -> pl.DataFrame:
    """Mean completeness and area scores per value of `groups[by]` (joined on `customer_id`):
    `by`, `customers`, `completeness`, `area_<area>` (means, 0–1), largest group first."""
    areas = [c for c in profile.columns if c.startswith("area_")]
    joined = profile.join(groups.select("customer_id", pl.col(by).cast(pl.String)),
                          on="customer_id")  # fmt: skip
    return (
        joined.group_by(by)
        .agg(pl.len().alias("customers"), pl.col("completeness").mean(), pl.col(areas).mean())
        .sort(["customers", by], descending=[True, False])
    )


def least_known(
    profile: pl.DataFrame, summary: pl.DataFrame, below: float = 0.5, n: int = 200
) -> pl.DataFrame:
    """The `n` highest-revenue customers whose completeness is under `below`: `customer_id`,
    `revenue`, `completeness` and `missing` (the unknown fields, in profile order)."""
    fields = [c.removeprefix("known_") for c in profile.columns if c.startswith("known_")]
    top = (
        profile.filter(pl.col("completeness") < below)
        .join(summary.select("customer_id", "revenue"), on="customer_id")
        .sort(["revenue", "customer_id"], descending=[True, False])
        .head(n)
    )
    missing = pl.concat_list(pl.when(~pl.col(f"known_{f}")).then(pl.lit(f)) for f in fields)
    return top.select("customer_id", "revenue", "completeness",
                      missing=missing.list.drop_nulls())  # fmt: skip


# ---- what changed since the last period -------------------------------------------------------


def _pair(values: dict[int, float | int | None], measure: str) -> tuple:
    """(measure, value, previous, change) from {1: this period, 0: the previous one}."""
    value, previous = values.get(1), values.get(0)
    change = None if value is None or previous is None else value - previous
    return measure, value, previous, change


def profile_changes(history: pl.DataFrame, period: Period) -> list[tuple]:
    """(measure, value, previous, change) for `new_customers`, `profiles_enriched` and
    `fields_filled` in `period` and the one before (definitions in the module docstring)."""
    out: dict[str, dict[int, int]] = {}
    created = pl.col("created")
    for k, p in ((1, period), (0, period.previous())):
        existing = created.is_null() | (created < p.start)
        firsts = [pl.col(f).is_between(p.start, p.end).fill_null(False) & existing
                  for f in PROFILE_FIELDS]  # fmt: skip
        row = history.select(
            new_customers=created.is_between(p.start, p.end).sum(),
            profiles_enriched=pl.any_horizontal(firsts).sum(),
            fields_filled=pl.sum_horizontal(firsts).sum(),
        ).row(0, named=True)
        for measure, value in row.items():
            out.setdefault(measure, {})[k] = int(value or 0)
    return [_pair(values, measure) for measure, values in out.items()]


def _activity_sql(q: Grain, joins: str) -> str:
    until = midnight(q.hi + timedelta(days=1))
    consent_rows = f"""SELECT t.customer_id, t.recorded_at AS ts, t.granted,
            lag(t.granted) OVER (PARTITION BY t.customer_id, t.channel
                                 ORDER BY t.recorded_at, t.granted DESC) AS was
        FROM {_GOLDEN_CONSENTS} t{joins} WHERE t.recorded_at < {until}"""
    return f"""
    SELECT k, count(*) FILTER (granted AND was IS DISTINCT FROM TRUE) AS consents_granted,
           count(*) FILTER (NOT granted AND was) AS consents_withdrawn,
           NULL::BIGINT AS interactions
    FROM (SELECT *, {q.k("ts")} AS k FROM ({consent_rows})) WHERE k >= 0 GROUP BY k
    UNION ALL
    SELECT {q.k("t.occurred_at")} AS k, NULL, NULL, count(*)
    FROM interaction_facts t{joins}
    WHERE t.occurred_at >= {midnight(q.lo)} AND t.occurred_at < {until}
    GROUP BY ALL"""


def activity_changes(
    con: duckdb.DuckDBPyConnection, period: Period, customers: pl.DataFrame | None = None
) -> list[tuple]:
    """(measure, value, previous, change) for `consents_granted`, `consents_withdrawn` and
    `interactions` in `period` and the one before, for the live golden customers (of
    `customers` when given). A merged record's consent histories count as one per channel."""
    with registered(con, Grain.pair(period), customers=customers) as q:
        rows = run(con, _activity_sql(q, _scoped(q)))
    sums = rows.group_by("k").agg(pl.all().sum())
    got = {m: dict(zip(sums["k"], sums[m], strict=True)) for m in sums.columns[1:]}
    return [_pair({k: got[m].get(k, 0) for k in (0, 1)}, m) for m in got]

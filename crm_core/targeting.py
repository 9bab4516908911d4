"""Target lists per next-best-action rule, honouring consent (LGPD art. 7 I, 8), and their export.

**Current consent** of a customer for a channel is the latest row of the `consents` history for
that (customer, channel) by `recorded_at`; on a tie a withdrawal wins over a grant (the cautious
reading). A grant, a later withdrawal and a still later re-grant leave the customer consenting.

**Target list** of a rule: the customers whose next best action (`crm_core.customize
.assign_actions`) is that rule — the *candidates* — minus those excluded, for the first reason
that applies, in this order:

1. `erased` — the customer was erased (data-subject request) or is no longer in the store;
2. `no_consent` — no consent recorded for the rule's channel;
3. `withdrawn` — the current consent for the channel is a withdrawal;
4. `missing_contact` — no contact data for the channel: a non-blank e-mail for `email`, a
   non-blank phone for `sms`, `whatsapp` and `phone`, a non-blank zip and city for `mail`.

So included + excluded = candidates, and each candidate is counted once. Exports re-check the
list against the store at export time (a consent withdrawn after the list was built drops the
row), write one audit event (who, rule, rows, format) and neutralise formula-like cells
(`crm_core.export`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import duckdb
import polars as pl

from crm_core import store
from crm_core.errors import VinculoError
from crm_core.export import to_csv_bytes, to_xlsx_bytes
from crm_core.summary import query_frame

REASONS: tuple[str, ...] = ("erased", "no_consent", "withdrawn", "missing_contact")
PERSON_COLUMNS: tuple[str, ...] = (
    "name",
    "email",
    "phone",
    "document",
    "birth_date",
    "gender",
    "city",
    "state",
    "zip",
    "country",
    "account_manager",
)
DEFAULT_COLUMNS: tuple[str, ...] = ("name", "email", "phone")
ACTION_COLUMNS: tuple[str, ...] = ("rule", "offer", "message", "channel", "owner")
_CONTACT_FIELDS: dict[str, tuple[str, ...]] = {
    "email": ("email",),
    "sms": ("phone",),
    "whatsapp": ("phone",),
    "phone": ("phone",),
    "mail": ("zip", "city"),
}
FORMATS: tuple[str, ...] = ("csv", "xlsx")

CURRENT_CONSENTS_SQL = """
SELECT customer_id, channel, granted, recorded_at, source
FROM consents
QUALIFY row_number() OVER (
    PARTITION BY customer_id, channel ORDER BY recorded_at DESC, granted ASC) = 1
"""


def current_consents(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The current consent of every (customer, channel) pair with a history.

    Columns `customer_id, channel, granted, recorded_at, source`, ordered by customer and
    channel; definition in the module docstring.
    """
    return query_frame(con, CURRENT_CONSENTS_SQL + " ORDER BY customer_id, channel")


def _blank(column: str) -> str:
    return f"nullif(trim(cu.{column}::VARCHAR), '') IS NULL"


_ACTIVE_LINKS = "(SELECT customer_id, golden_id FROM identity_links WHERE unlinked_at IS NULL)"


def _survivor(column: str) -> str:
    """The golden record's own value of `column`, else its newest member's non-blank one."""
    return (
        f"first({column} ORDER BY is_golden DESC, created_at DESC) "
        f"FILTER (WHERE nullif(trim({column}::VARCHAR), '') IS NOT NULL) AS {column}"
    )


def _screen_sql(table: str, channel: str, columns: Sequence[str]) -> str:
    """SQL giving each candidate of `table` its exclusion reason (null = included).

    Candidates are golden records (`crm_core.identity_merge`): a person's consent history
    is that of all their merged records together — the latest event for the channel wins,
    whichever record it was given under, so a withdrawal under any record is honoured —
    and a contact field is the golden record's own, else the newest member's. Erased
    records give nothing. The current consent is that of `CURRENT_CONSENTS_SQL`, read only
    for the channel and the candidates (cheaper than ranking the whole history); rows come
    unordered.
    """
    needed = tuple(dict.fromkeys((*_CONTACT_FIELDS[channel], *columns)))
    missing = " OR ".join(_blank(c) for c in _CONTACT_FIELDS[channel])
    picked = "".join(f", cu.{c}" for c in columns)
    fields = ",\n".join(_survivor(c) for c in needed)
    return f"""
    WITH members AS (
        SELECT c.*, coalesce(l.golden_id, c.customer_id) AS golden, l.golden_id IS NULL AS is_golden
        FROM customers c LEFT JOIN {_ACTIVE_LINKS} l ON l.customer_id = c.customer_id
        WHERE coalesce(l.golden_id, c.customer_id) IN (SELECT customer_id FROM {table})),
    person AS (
        SELECT golden AS customer_id, bool_or(is_golden) AS present, {fields}
        FROM members WHERE erased_at IS NULL GROUP BY golden),
    ch AS (
        SELECT m.golden AS customer_id, k.granted, k.recorded_at, k.source
        FROM consents k JOIN members m ON m.customer_id = k.customer_id
        WHERE k.channel = $channel AND m.erased_at IS NULL
        QUALIFY row_number() OVER (
            PARTITION BY m.golden ORDER BY k.recorded_at DESC, k.granted ASC) = 1)
    SELECT t.customer_id,
        CASE WHEN cu.customer_id IS NULL OR NOT cu.present THEN 'erased'
             WHEN ch.granted IS NULL THEN 'no_consent'
             WHEN NOT ch.granted THEN 'withdrawn'
             WHEN {missing} THEN 'missing_contact' END AS reason,
        ch.recorded_at AS consent_recorded_at, ch.source AS consent_source{picked}
    FROM {table} t
    LEFT JOIN person cu ON cu.customer_id = t.customer_id
    LEFT JOIN ch ON ch.customer_id = t.customer_id
    """


def _screen(
    con: duckdb.DuckDBPyConnection, ids: pl.Series, channel: str, columns: Sequence[str]
) -> pl.DataFrame:
    """Each distinct customer id with its exclusion reason, consent facts and `columns`."""
    table = f"_targets_{uuid.uuid4().hex}"
    con.complete()
    con.register(table, pl.DataFrame({"customer_id": ids.cast(pl.String).unique()}))
    try:
        return query_frame(con, _screen_sql(table, channel, columns), {"channel": channel})
    finally:
        con.unregister(table)


def contact_columns(channel: str) -> tuple[str, ...]:
    """The person columns a list for `channel` needs: the name and the channel's contact
    fields (`_CONTACT_FIELDS`; state too for mail) — data minimisation (LGPD art. 6 III)."""
    if channel not in _CONTACT_FIELDS:
        raise VinculoError("targeting.bad_channel", value=channel)
    extra = ("state",) if channel == "mail" else ()
    return ("name", *_CONTACT_FIELDS[channel], *extra)


def _check_columns(columns: Sequence[str]) -> tuple[str, ...]:
    for name in columns:
        if name not in PERSON_COLUMNS:
            raise VinculoError("targeting.bad_column", name=name, allowed=", ".join(PERSON_COLUMNS))
    return tuple(dict.fromkeys(columns))


def target_list(
    con: duckdb.DuckDBPyConnection,
    assigned: pl.DataFrame,
    rule_name: str,
    *,
    columns: Sequence[str] = DEFAULT_COLUMNS,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The customers of `rule_name` who may be contacted on its channel, and the exclusions.

    `assigned` is `assign_actions`'s output (`customer_id` and the action columns). Returns
    `(frame, exclusions)`: `frame` has `customer_id`, the person `columns` asked for (from
    `PERSON_COLUMNS`), the action (`rule, offer, message, channel, owner`) and the consent
    that allows it (`consent_recorded_at, consent_source`), ordered by customer id;
    `exclusions` has `reason` (every one of `REASONS`, in order) and `customers` (UInt32).
    """
    picked = _check_columns(columns)
    candidates = assigned.filter(pl.col("rule") == rule_name).select(
        pl.col("customer_id").cast(pl.String), *(pl.col(c).cast(pl.String) for c in ACTION_COLUMNS)
    )
    channel = candidates["channel"][0] if candidates.height else "email"
    screened = _screen(con, candidates["customer_id"], channel, picked)
    actions = candidates.unique("customer_id", keep="first")
    frame = (
        screened.filter(pl.col("reason").is_null())
        .sort("customer_id")
        .join(actions, on="customer_id", how="left", maintain_order="left")
        .select("customer_id", *picked, *ACTION_COLUMNS, "consent_recorded_at", "consent_source")
    )
    counts = screened.drop_nulls("reason").group_by("reason").len("customers")
    exclusions = (
        pl.DataFrame({"reason": list(REASONS)})
        .join(counts, on="reason", how="left", maintain_order="left")
        .with_columns(pl.col("customers").fill_null(0).cast(pl.UInt32))
    )
    return frame, exclusions


def _naive(frame: pl.DataFrame) -> pl.DataFrame:
    """Instants as wall-clock times of the business time zone (XLSX has no time zones)."""
    zone = store.business_tz()
    return frame.with_columns(
        pl.col(name).dt.convert_time_zone(zone).dt.replace_time_zone(None)
        for name, dtype in frame.schema.items()
        if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None
    )


def export_target_list(
    con: duckdb.DuckDBPyConnection,
    frame: pl.DataFrame,
    rule_name: str,
    fmt: str,
    actor: str,
    *,
    ruleset: str | None = None,
    ruleset_version: int | None = None,
) -> bytes:
    """The target list as CSV or XLSX bytes, re-checked for consent now, and audited.

    Rows whose customer no longer passes the screen (erased, consent withdrawn since the list
    was built) are dropped before writing. One audit event `targeting.exported` records the
    actor, the rule (target), the rows written and, in its detail, the format, the columns,
    how many rows were dropped and the rule set (name and saved version, null for an unsaved
    draft) the list came from — never the customers themselves.
    """
    if fmt not in FORMATS:
        raise VinculoError("targeting.bad_format", value=fmt)
    missing = [c for c in ("customer_id", "channel") if c not in frame.columns]
    if missing:
        raise VinculoError("targeting.missing_columns", columns=", ".join(missing))
    channels = frame["channel"].unique().drop_nulls().to_list()
    kept = frame
    for channel in channels:
        screened = _screen(con, frame["customer_id"], channel, ())
        barred = screened.filter(pl.col("reason").is_not_null())["customer_id"]
        kept = kept.filter(
            ~((pl.col("channel") == channel) & pl.col("customer_id").is_in(barred.implode()))
        )
    data = to_csv_bytes(kept) if fmt == "csv" else to_xlsx_bytes(_naive(kept), sheet="targets")
    store.audit(
        con,
        actor,
        "targeting.exported",
        target=rule_name,
        rows=kept.height,
        detail={
            "format": fmt,
            "columns": kept.columns,
            "dropped_since_listed": frame.height - kept.height,
            "ruleset": ruleset,
            "ruleset_version": ruleset_version,
        },
    )
    return data

"""Privacy page: find a person, show their consent, export their data, erase them.

The search reuses the customers page's index (`ui.customers_view.index`, one shared resource
per data version); a person is read through `crm_core.customer360` (the same golden record
the 360 shows) and their consent history through `crm_core.subject`. Exports and erasures
write to the store (audited in `crm_core.subject`); the erasure bumps the data version, so
every cache keyed on it — this page's, the customers index, every page's frames — drops.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
import streamlit as st

from crm_core import store
from crm_core.customer360 import current_consents_of, load_customer
from crm_core.directory import search_customers
from crm_core.errors import VinculoError
from crm_core.identity_merge import PROFILE_FIELDS
from crm_core.subject import ErasureReport, consent_history, erase_subject, export_subject
from ui import customers_view
from ui.context import t

LIMIT = 20
"""Search results offered at most."""
MIME = {"json": "application/json", "zip": "application/zip"}
REPORT_FIELDS: tuple[str, ...] = (
    "members", "customers", "customer_records", "orders_anonymised", "feedback_anonymised",
    "interactions_deleted", "consents_deleted", "identity_links_closed",
    "identity_rejections_deleted", "rejected_rows_deleted", "upload_reports_scrubbed",
    "demo_truth_deleted", "ids_replaced",
)  # fmt: skip


@dataclass(frozen=True)
class Person:
    """One golden record as the privacy page shows it."""

    golden_id: str
    member_ids: list[str]
    profile: pl.DataFrame
    consents: pl.DataFrame
    history: pl.DataFrame


@st.cache_data(show_spinner=False, max_entries=32)
def search(db: str, version: int, query: str) -> pl.DataFrame:
    """`search_customers` for `query` (at most `LIMIT` golden records)."""
    index = customers_view.index(db, version)
    with store.connect(db) as con:
        return search_customers(con, query, limit=LIMIT, index=index)


@st.cache_resource(show_spinner=False, max_entries=16)
def person(db: str, version: int, customer_id: str) -> Person | VinculoError:
    """The golden record of `customer_id`: profile, consent now per member and channel, and
    the consent history; or the user error (unknown or erased id)."""
    del version
    try:
        with store.connect(db) as con:
            one = load_customer(con, customer_id)
            ids = one.member_ids
            return Person(
                one.golden_id, ids, one.profile, current_consents_of(con, ids),
                consent_history(con, ids),
            )  # fmt: skip
    except VinculoError as exc:
        return exc


def export_file(db: str, customer_id: str, fmt: str, actor: str) -> bytes:
    """The person's data as JSON or ZIP bytes (`crm_core.subject.export_subject`, audited)."""
    with store.connect(db) as con:
        return export_subject(con, customer_id, fmt, actor)


def erase(db: str, customer_id: str, actor: str) -> ErasureReport:
    """`crm_core.subject.erase_subject` (one transaction, audited, data version bumped)."""
    with store.connect(db) as con:
        return erase_subject(con, customer_id, actor)


def option_label(rows: pl.DataFrame) -> dict[str, str]:
    """golden id -> "id · name · e-mail" for the picker (plain text)."""
    return {
        g: " · ".join(str(v) for v in (g, n, e) if v)
        for g, n, e in rows.select("golden_id", "name", "email").iter_rows()
    }


def profile_table(profile: pl.DataFrame) -> pl.DataFrame:
    """The golden profile as two text columns: field (translated) and value."""
    row = profile.row(0, named=True)
    fields = [f for f in (*PROFILE_FIELDS, "created_at", "is_lead") if f in row]
    return pl.DataFrame(
        {
            "field": [t(f"page.customers.field.{f}") for f in fields],
            "value": [None if row[f] is None else str(row[f]) for f in fields],
        },
        schema=dict.fromkeys(("field", "value"), pl.String),
    )


def consent_table(frame: pl.DataFrame) -> pl.DataFrame:
    """Consent now with the channel and status in the user's language."""
    return frame.with_columns(
        pl.col("channel").replace_strict(
            {c: t(f"customize.channel.{c}") for c in frame["channel"].unique().to_list()},
            default=pl.col("channel"),
        ),
        pl.col("status").replace_strict(
            {s: t(f"page.privacy.consent.{s}") for s in ("granted", "withdrawn", "none")},
            default=pl.col("status"),
        ),
    )


def history_table(frame: pl.DataFrame) -> pl.DataFrame:
    """Consent history with the statement (granted / withdrawn) in the user's language."""
    words = {True: t("page.privacy.consent.granted"), False: t("page.privacy.consent.withdrawn")}
    return frame.with_columns(pl.col("granted").replace_strict(words, return_dtype=pl.String))


def report_table(report: dict) -> pl.DataFrame:
    """An erasure report (`ErasureReport.counts`) as `what, rows` in the user's language."""
    rows = [(t(f"page.privacy.report.{k}"), int(report[k])) for k in REPORT_FIELDS]
    rows += [
        (t("page.privacy.report.other", table=name), int(n))
        for name, n in (report.get("other_rows_deleted") or {}).items()
    ]
    return pl.DataFrame(rows, schema={"what": pl.String, "rows": pl.Int64}, orient="row")


def columns(*names: str) -> dict:
    """Column formats titled from the page catalogue."""
    config: dict = {}
    for name in names:
        title = t(f"page.privacy.col.{name}")
        if name in ("recorded_at",):
            config[name] = st.column_config.DatetimeColumn(title, format="YYYY-MM-DD HH:mm")
        elif name in ("rows", "upload_id"):
            config[name] = st.column_config.NumberColumn(title, format="%d")
        else:
            config[name] = st.column_config.TextColumn(title)
    return config

"""Data-subject requests (LGPD art. 18): export everything held about one person, or erase them.

**The person** of a customer id is its golden record and every record merged into it (active
identity links, `crm_core.identity_merge`): the same person the customer 360 shows. Asking
with a member's id covers the whole group.

**Export** (`subject_export`, portability and access, art. 18 II and V): every row held about
the person, one frame per table — `customers` and `customer_records` of every member, the
whole `consents` history, `orders` and their `order_items`, `interactions`, `feedback`,
`identity_links` (history included) and `identity_rejections` naming a member, the
`rejected_rows` of upload lines that name them (`rejected_rows_of`) and the `audit_log` events
whose target is a member or whose detail names one. `to_json_bytes` gives one JSON document,
`to_zip_bytes` one CSV per table (formula cells neutralised) plus `subject.json`;
`export_subject` builds either and writes the audit event `privacy.subject_exported` (target
the golden id, detail the format and rows per table).

**Erasure** (`erase_subject`, art. 18 VI), one transaction:

- `orders` stay, so revenue and order counts stay right, but under a random pseudonym id
  (`anon-…`, one per person, kept nowhere else: nothing links it back) with `source` and
  `line` cleared; their `order_items` stay as they are.
- `feedback` answers stay under the same pseudonym with the comment, `source` and `line`
  cleared: CSAT and NPS keep their respondents (a score alone says nothing about who gave it).
- `interactions` are deleted (subjects and owners describe the person's contacts).
- `consents` are deleted; the proof of erasure is the customer row's `erased_at` and the
  audit event.
- `customers` and `customer_records` keep their rows as tombstones (so the 360 and target
  lists say "erased", and analytics skip them) with every personal field (`CONTACT_FIELDS`:
  name, e-mail, phone, document, birth date, gender, city, state, zip, country, acquisition
  channel, account manager) nulled and `erased_at` set. A member id that is itself personal
  (contains `@`, or is the person's phone or document digits) is replaced by `erased-…`.
- active `identity_links` are closed; `identity_rejections` and `demo_truth` rows naming a
  member are deleted; `rejected_rows` whose raw text or reason names the person (a member id
  as a whole word, an e-mail, a phone or document as written or as digits) are deleted and the
  same lines leave the upload's stored report; rows of any other table with a `customer_id`
  column naming a member are deleted.
- one audit event `privacy.erased`: the target (golden id, or its tombstone id) and counts
  only — never a name, e-mail or any erased value — and the data version is bumped so every
  cache keyed on it drops.

The audit log itself is append-only and is not rewritten: earlier events keep the ids they
named (never personal fields, unless a source used e-mails as customer ids).
"""

from __future__ import annotations

import io
import json
import re
import secrets
import zipfile
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import polars as pl

from crm_core import store
from crm_core.errors import VinculoError
from crm_core.export import to_csv_bytes
from crm_core.schema import CONTACT_FIELDS
from crm_core.summary import query_frame

FORMATS: tuple[str, ...] = ("json", "zip")
EXPORT_TABLES: tuple[str, ...] = (
    "customers", "customer_records", "consents", "orders", "order_items", "interactions",
    "feedback", "identity_links", "identity_rejections", "rejected_rows", "audit_log",
)  # fmt: skip
_HANDLED: frozenset[str] = frozenset({*EXPORT_TABLES, "uploads", "demo_truth", "meta", "configs"})
_IDS = "list_contains($ids::VARCHAR[], {col})"
_ACTIVE = "(SELECT customer_id, golden_id FROM identity_links WHERE unlinked_at IS NULL)"

_MEMBER = _IDS.format(col="customer_id")
_WHO_SQL = f"""
SELECT c.erased_at IS NOT NULL AS erased, coalesce(l.golden_id, c.customer_id) AS golden
FROM customers c LEFT JOIN {_ACTIVE} l USING (customer_id) WHERE c.customer_id = $id
"""
_MEMBERS_SQL = f"""
SELECT customer_id FROM customers
WHERE customer_id = $golden
   OR customer_id IN (SELECT customer_id FROM {_ACTIVE} WHERE golden_id = $golden)
ORDER BY customer_id <> $golden, customer_id
"""
_NAMED_IN_DETAIL = (
    "len(list_filter($ids::VARCHAR[], lambda i: contains(detail::VARCHAR, '\"' || i || '\"'))) > 0"
)
_EXPORT_SQL: dict[str, str] = {
    "customers": f"SELECT * FROM customers WHERE {_MEMBER} ORDER BY customer_id",
    "customer_records": f"SELECT * FROM customer_records WHERE {_MEMBER} "
    "ORDER BY customer_id, upload_id NULLS FIRST, line",
    "consents": f"SELECT * FROM consents WHERE {_MEMBER} ORDER BY recorded_at, channel",
    "orders": f"SELECT * FROM orders WHERE {_MEMBER} ORDER BY ordered_at, order_id",
    "order_items": "SELECT * FROM order_items WHERE order_id IN "
    f"(SELECT order_id FROM orders WHERE {_MEMBER}) ORDER BY order_id, line_no",
    "interactions": f"SELECT * FROM interactions WHERE {_MEMBER} "
    "ORDER BY occurred_at, interaction_id",
    "feedback": f"SELECT * FROM feedback WHERE {_MEMBER} ORDER BY answered_at, feedback_id",
    "identity_links": f"SELECT * FROM identity_links WHERE {_MEMBER} OR "
    f"{_IDS.format(col='golden_id')} ORDER BY linked_at",
    "identity_rejections": f"SELECT * FROM identity_rejections WHERE "
    f"{_IDS.format(col='customer_id_a')} OR {_IDS.format(col='customer_id_b')} "
    "ORDER BY decided_at",
    "audit_log": "SELECT event_id, logged_at, actor, action, target, rows, "
    f"detail::VARCHAR AS detail FROM audit_log WHERE {_IDS.format(col='target')} "
    f"OR {_NAMED_IN_DETAIL} ORDER BY event_id",
}
_REJECTED_SQL = """
SELECT * FROM rejected_rows
WHERE regexp_matches(coalesce(raw, ''), $pattern) OR regexp_matches(reason, $pattern)
ORDER BY upload_id, line
"""
_KEYS_SQL = """
SELECT customer_id, email, phone, document FROM customers WHERE {ids}
UNION ALL SELECT customer_id, email, phone, document FROM customer_records WHERE {ids}
"""


def members_of(con: duckdb.DuckDBPyConnection, customer_id: str) -> tuple[str, list[str]]:
    """The golden id of `customer_id`'s person and every member id (golden first).

    Raises `VinculoError("privacy.unknown_customer")` for an id not in the store and
    `VinculoError("privacy.already_erased")` for an erased one."""
    found = query_frame(con, _WHO_SQL, {"id": customer_id})
    if found.height == 0:
        raise VinculoError("privacy.unknown_customer", id=customer_id)
    if found["erased"][0]:
        raise VinculoError("privacy.already_erased", id=customer_id)
    golden = str(found["golden"][0])
    members = query_frame(con, _MEMBERS_SQL, {"golden": golden})["customer_id"].to_list()
    return golden, members


def consent_history(con: duckdb.DuckDBPyConnection, ids: list[str]) -> pl.DataFrame:
    """Every consent event of the member `ids`, newest first: `customer_id, channel, granted,
    recorded_at, source, upload_id` (the current consent is the newest per channel,
    `crm_core.targeting`)."""
    sql = f"SELECT * FROM consents WHERE {_MEMBER} ORDER BY recorded_at DESC, channel"
    return query_frame(con, sql, {"ids": ids})


def _needles(con: duckdb.DuckDBPyConnection, ids: list[str]) -> list[str]:
    """The texts that name the person in free text: ids, e-mails, phones, documents (as
    written and, when 8+ digits, as digits)."""
    keys = query_frame(con, _KEYS_SQL.format(ids=_MEMBER), {"ids": ids})
    found: set[str] = set(ids)
    for column in ("email", "phone", "document"):
        for value in keys[column].drop_nulls().unique().to_list():
            text = str(value).strip()
            digits = re.sub(r"\D", "", text)
            found |= {text} if text else set()
            found |= {digits} if column != "email" and len(digits) >= 8 else set()
    return sorted(found, key=len, reverse=True)


def person_pattern(needles: list[str]) -> str:
    """A case-insensitive regular expression (RE2 and Python) matching any needle as a whole
    word: not preceded or followed by a letter or digit."""
    body = "|".join(re.escape(n) for n in needles if n)
    return rf"(?i)(^|[^0-9a-z])({body})($|[^0-9a-z])" if body else r"a\A"


def rejected_rows_of(con: duckdb.DuckDBPyConnection, ids: list[str]) -> pl.DataFrame:
    """`rejected_rows` whose raw text or reason names the person of member `ids`."""
    return query_frame(con, _REJECTED_SQL, {"pattern": person_pattern(_needles(con, ids))})


def subject_export(con: duckdb.DuckDBPyConnection, customer_id: str) -> dict[str, Any]:
    """Everything held about `customer_id`'s person (module docstring): `{"subject": {
    requested_id, golden_id, member_ids, exported_at}, "tables": {table: frame}}` with every
    table of `EXPORT_TABLES` (empty frames included). Reads only; see `export_subject`."""
    golden, ids = members_of(con, customer_id)
    tables = {name: query_frame(con, sql, {"ids": ids}) for name, sql in _EXPORT_SQL.items()}
    tables["rejected_rows"] = rejected_rows_of(con, ids)
    subject = {
        "requested_id": customer_id,
        "golden_id": golden,
        "member_ids": ids,
        "exported_at": datetime.now(ZoneInfo(store.business_tz())).isoformat(timespec="seconds"),
    }
    return {"subject": subject, "tables": {name: tables[name] for name in EXPORT_TABLES}}


def _jsonable(frame: pl.DataFrame) -> list[dict[str, Any]]:
    return frame.with_columns(
        pl.col(n).cast(pl.String)
        for n, dtype in frame.schema.items()
        if isinstance(dtype, pl.Decimal | pl.Datetime | pl.Date)
    ).to_dicts()


def to_json_bytes(export: dict[str, Any]) -> bytes:
    """The export as one UTF-8 JSON document: `subject` and one list of rows per table
    (money as exact decimal text, instants in ISO 8601 with their offset)."""
    body = {
        "subject": export["subject"],
        "tables": {name: _jsonable(frame) for name, frame in export["tables"].items()},
    }
    return json.dumps(body, ensure_ascii=False, indent=2, default=str).encode("utf-8")


def to_zip_bytes(export: dict[str, Any]) -> bytes:
    """The export as a ZIP: `subject.json` and one `<table>.csv` per table (UTF-8 with BOM,
    formula-like cells neutralised, `crm_core.export`)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("subject.json", json.dumps(export["subject"], ensure_ascii=False))
        for name, frame in export["tables"].items():
            archive.writestr(f"{name}.csv", to_csv_bytes(frame))
    return buffer.getvalue()


def export_subject(con: duckdb.DuckDBPyConnection, customer_id: str, fmt: str, actor: str) -> bytes:
    """`subject_export` as `fmt` (json | zip) bytes, audited: one event
    `privacy.subject_exported` (target the golden id; detail the format and rows per table)."""
    if fmt not in FORMATS:
        raise VinculoError("privacy.bad_format", value=fmt, allowed=", ".join(FORMATS))
    export = subject_export(con, customer_id)
    data = to_json_bytes(export) if fmt == "json" else to_zip_bytes(export)
    counts = {name: frame.height for name, frame in export["tables"].items()}
    with store.transaction(con):
        store.audit(
            con, actor, "privacy.subject_exported", target=export["subject"]["golden_id"],
            rows=sum(counts.values()), detail={"format": fmt, "tables": counts},
        )  # fmt: skip
    return data


@dataclass(frozen=True)
class ErasureReport:
    """What `erase_subject` did, in rows per table (no erased value, ever)."""

    target: str
    members: int
    customers: int
    customer_records: int
    orders_anonymised: int
    feedback_anonymised: int
    interactions_deleted: int
    consents_deleted: int
    identity_links_closed: int
    identity_rejections_deleted: int
    rejected_rows_deleted: int
    upload_reports_scrubbed: int
    demo_truth_deleted: int
    ids_replaced: int
    other_rows_deleted: dict[str, int] = field(default_factory=dict)

    def counts(self) -> dict[str, Any]:
        """Every count (the audit event's detail)."""
        return {k: v for k, v in asdict(self).items() if k != "target"}


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> int:
    rows = con.execute(sql, params).fetchall()
    return int(rows[0][0]) if rows else 0


def _personal_ids(con: duckdb.DuckDBPyConnection, ids: list[str]) -> dict[str, str]:
    """Member ids that are themselves personal data, each with its replacement."""
    keys = query_frame(con, _KEYS_SQL.format(ids=_MEMBER), {"ids": ids})
    digits = {
        re.sub(r"\D", "", str(v))
        for c in ("phone", "document")
        for v in keys[c].drop_nulls().to_list()
    } - {""}
    personal = [i for i in ids if "@" in i or re.sub(r"\D", "", i) in digits]
    return {i: f"erased-{secrets.token_hex(8)}" for i in personal}


_NULLS = ", ".join(f"{f} = NULL" for f in CONTACT_FIELDS)
_STEPS: tuple[tuple[str, str], ...] = (
    ("orders_anonymised", "UPDATE orders SET customer_id = $anon, source = NULL, line = NULL "
     "WHERE {ids}"),
    ("feedback_anonymised", "UPDATE feedback SET customer_id = $anon, comment = NULL, "
     "source = NULL, line = NULL WHERE {ids}"),
    ("interactions_deleted", "DELETE FROM interactions WHERE {ids}"),
    ("consents_deleted", "DELETE FROM consents WHERE {ids}"),
    ("customers", f"UPDATE customers SET {_NULLS}, erased_at = now(), updated_at = now() "
     "WHERE {ids}"),
    ("customer_records", f"UPDATE customer_records SET {_NULLS} WHERE {{ids}}"),
    ("identity_links_closed", "UPDATE identity_links SET unlinked_at = now(), unlinked_by = "
     "$actor WHERE unlinked_at IS NULL AND ({ids} OR {golden})"),
    ("identity_rejections_deleted", "DELETE FROM identity_rejections WHERE "
     "{a} OR {b}"),
    ("demo_truth_deleted", "DELETE FROM demo_truth WHERE {ids} OR {same}"),
)  # fmt: skip


def _run_steps(con: duckdb.DuckDBPyConnection, ids: list[str], actor: str) -> dict[str, int]:
    cols = {"ids": "customer_id", "golden": "golden_id", "a": "customer_id_a"}
    cols |= {"b": "customer_id_b", "same": "same_person_as"}
    where = {k: _IDS.format(col=c) for k, c in cols.items()}
    params = {"ids": ids, "anon": f"anon-{secrets.token_hex(8)}", "actor": actor}
    counts = {}
    for name, sql in _STEPS:
        text = sql.format(**where)
        used = {k: v for k, v in params.items() if f"${k}" in text}
        counts[name] = _count(con, text, used)
    return counts


def _scrub_rejects(con: duckdb.DuckDBPyConnection, ids: list[str]) -> tuple[int, int]:
    """Delete the rejected rows naming the person and drop the same lines (and any reject or
    footer line naming them) from the uploads' stored reports. Returns (rows, reports)."""
    pattern = person_pattern(_needles(con, ids))
    hits = query_frame(con, _REJECTED_SQL, {"pattern": pattern})
    lines = set(hits.select("upload_id", "line").iter_rows())
    deleted = _count(
        con,
        "DELETE FROM rejected_rows WHERE regexp_matches(coalesce(raw, ''), $pattern) "
        "OR regexp_matches(reason, $pattern)",
        {"pattern": pattern},
    )
    named = re.compile(pattern.removeprefix("(?i)"), re.IGNORECASE)
    touched = {u for u, _ in lines} | set(
        query_frame(
            con, "SELECT upload_id FROM uploads WHERE regexp_matches(report::VARCHAR, $pattern)",
            {"pattern": pattern},
        )["upload_id"].to_list()
    )  # fmt: skip
    for upload_id in sorted(touched):  # a few uploads, not customers
        raw = store.scalar(con, "SELECT report::VARCHAR FROM uploads WHERE upload_id = ?",
                           [upload_id])  # fmt: skip
        report = json.loads(raw) if raw else {}
        report["rejects"] = [
            r for r in report.get("rejects", [])
            if (upload_id, r.get("line")) not in lines and not named.search(json.dumps(r))
        ]  # fmt: skip
        report["footer_lines"] = [
            t for t in report.get("footer_lines", []) if not named.search(str(t))
        ]
        con.execute(
            "UPDATE uploads SET report = ? WHERE upload_id = ?",
            [json.dumps(report, ensure_ascii=False, default=str), upload_id],
        )
    return deleted, len(touched)


def _replace_ids(con: duckdb.DuckDBPyConnection, renames: dict[str, str]) -> None:
    """Give tombstones whose id is personal a new id (customers, records, closed links)."""
    for old, new in renames.items():
        for table, column in (("customer_records", "customer_id"),
                              ("identity_links", "customer_id"),
                              ("identity_links", "golden_id")):  # fmt: skip
            con.execute(f"UPDATE {table} SET {column} = ? WHERE {column} = ?", [new, old])
        con.execute(
            "INSERT INTO customers SELECT * REPLACE (? AS customer_id) FROM customers "
            "WHERE customer_id = ?",
            [new, old],
        )
        con.execute("DELETE FROM customers WHERE customer_id = ?", [old])


def _other_tables(con: duckdb.DuckDBPyConnection, ids: list[str]) -> dict[str, int]:
    """Delete the member rows of tables this module does not know that have a customer_id."""
    tables = query_frame(
        con,
        "SELECT DISTINCT table_name FROM information_schema.columns "
        "WHERE column_name = 'customer_id' AND table_schema = 'main' AND table_name IN "
        "(SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE')",
    )["table_name"].to_list()
    done = {}
    for table in sorted(set(tables) - _HANDLED - {"demo_truth"}):
        done[table] = _count(con, f'DELETE FROM "{table}" WHERE {_MEMBER}', {"ids": ids})
    return {t: n for t, n in done.items() if n}


def erase_subject(con: duckdb.DuckDBPyConnection, customer_id: str, actor: str) -> ErasureReport:
    """Erase `customer_id`'s person everywhere (module docstring), in one transaction, with one
    audit event `privacy.erased` holding counts only. Raises what `members_of` raises."""
    golden, ids = members_of(con, customer_id)
    with store.transaction(con):
        renames = _personal_ids(con, ids)
        rejected, reports = _scrub_rejects(con, ids)
        counts = _run_steps(con, ids, actor)
        others = _other_tables(con, ids)
        _replace_ids(con, renames)
        report = ErasureReport(
            target=renames.get(golden, golden), members=len(ids), rejected_rows_deleted=rejected,
            upload_reports_scrubbed=reports, ids_replaced=len(renames), other_rows_deleted=others,
            **counts,
        )  # fmt: skip
        store.audit(con, actor, "privacy.erased", target=report.target,
                    rows=report.customers, detail=report.counts())  # fmt: skip
        store.bump_data_version(con)
    return report

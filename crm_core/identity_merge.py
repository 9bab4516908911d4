"""Merge and un-merge customer identities into golden records, reversibly.

A merge never touches `customers`, `customer_records` or any fact table: it
writes rows to `identity_links` (`customer_id` → `golden_id`, with the rule,
score, who and when). A link is *active* while `unlinked_at` is null; an
un-merge closes links (sets `unlinked_at`/`unlinked_by`) and deletes nothing,
so the table is the full history and un-merging restores exactly the golden
map from before the merge. Every action is one transaction, writes one
audit-log event and bumps the data version (caches keyed on it refresh).

Links always point at a golden record, never at another member: when a
golden record is merged into another, its members follow (their links are
closed and re-opened to the new golden record).
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
import polars as pl

from crm_core import store
from crm_core.errors import VinculoError

_ACTIVE = "unlinked_at IS NULL"


def golden_map(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every customer's `golden_id` (itself when not merged), sorted by customer id."""
    return con.sql(
        f"""SELECT c.customer_id, coalesce(l.golden_id, c.customer_id) AS golden_id
        FROM customers c
        LEFT JOIN (SELECT customer_id, golden_id FROM identity_links WHERE {_ACTIVE}) l
          USING (customer_id)
        ORDER BY c.customer_id"""
    ).pl()


PROFILE_FIELDS: tuple[str, ...] = (
    "name", "email", "phone", "document", "birth_date", "gender", "city", "state", "zip",
    "country", "acquisition_channel", "account_manager",
)  # fmt: skip


def golden_profiles(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """One row per golden record: its profile and its members.

    Survivorship rule, per field: the golden record's own value; when it has
    none, the newest (latest `created_at`) non-null value among its members.
    `created_at` is the earliest of the members, `is_lead` true only when every
    member is a lead, `members` the number of customer ids and `member_ids`
    their sorted list (the golden record included). Sorted by golden id.
    """
    fields = ",\n".join(
        f"first({f} ORDER BY is_golden DESC, created_at DESC) FILTER (WHERE {f} IS NOT NULL) AS {f}"
        for f in PROFILE_FIELDS
    )
    return con.sql(
        f"""WITH g AS (
            SELECT c.*, coalesce(l.golden_id, c.customer_id) AS golden_id,
                   l.golden_id IS NULL AS is_golden
            FROM customers c
            LEFT JOIN (SELECT customer_id, golden_id FROM identity_links WHERE {_ACTIVE}) l
              USING (customer_id))
        SELECT golden_id, {fields}, min(created_at) AS created_at, bool_and(is_lead) AS is_lead,
               count(*) AS members, list(customer_id ORDER BY customer_id) AS member_ids
        FROM g GROUP BY golden_id ORDER BY golden_id"""
    ).pl()


def golden_of(con: duckdb.DuckDBPyConnection, ids: list[str]) -> dict[str, str]:
    """The current golden record of each of `ids` (itself when not merged); unknown ids
    are absent."""
    rows = con.execute(
        f"""SELECT c.customer_id, coalesce(l.golden_id, c.customer_id)
        FROM customers c
        LEFT JOIN (SELECT * FROM identity_links WHERE {_ACTIVE}) l USING (customer_id)
        WHERE c.customer_id IN (SELECT unnest(?::VARCHAR[]))""",
        [ids],
    ).fetchall()
    return dict(rows)


def _close(con: duckdb.DuckDBPyConnection, where: str, params: list, actor: str) -> int:
    closed = con.execute(
        f"""UPDATE identity_links SET unlinked_at = current_timestamp, unlinked_by = ?
        WHERE {_ACTIVE} AND ({where}) RETURNING customer_id""",
        [actor, *params],
    ).fetchall()
    return len(closed)


def _flatten(con: duckdb.DuckDBPyConnection, actor: str) -> None:
    """Re-point members of a golden record that has itself been linked (chains → stars)."""
    for _ in range(20):
        moved = con.sql(
            f"""SELECT m.customer_id, g.golden_id, m.rule, m.score
            FROM identity_links m JOIN identity_links g
              ON g.customer_id = m.golden_id AND g.{_ACTIVE}
            WHERE m.{_ACTIVE}"""
        ).pl()
        if moved.height == 0:
            return
        _close(
            con,
            "customer_id IN (SELECT unnest(?::VARCHAR[]))",
            [moved["customer_id"].to_list()],
            actor,
        )
        _insert_links(con, moved, actor)


def _insert_links(con: duckdb.DuckDBPyConnection, links: pl.DataFrame, actor: str) -> None:
    """Insert `links` (customer_id, golden_id, rule, score) as active links by `actor`."""
    con.register("new_links", links.select("customer_id", "golden_id", "rule", "score").to_arrow())
    try:
        con.execute(
            """INSERT INTO identity_links (customer_id, golden_id, rule, score, linked_by)
            SELECT customer_id, golden_id, rule, score, ? FROM new_links""",
            [actor],
        )
    finally:
        con.unregister("new_links")


def merge(
    con: duckdb.DuckDBPyConnection,
    ids: Iterable[str],
    golden_id: str,
    actor: str,
    rule: str = "manual",
    score: float | None = None,
) -> int:
    """Merge the customers `ids` (and the clusters they belong to) into `golden_id`.

    Returns the number of links written. Raises `VinculoError` for unknown
    ids, fewer than two distinct records, or a `golden_id` that is itself
    merged into another record (un-merge it or choose its golden record).
    """
    wanted = sorted({*ids, golden_id})
    goldens = golden_of(con, wanted)
    unknown = [i for i in wanted if i not in goldens]
    if unknown:
        raise VinculoError("identity.unknown_customer", ids=", ".join(unknown))
    if goldens[golden_id] != golden_id:
        raise VinculoError("identity.golden_is_member", id=golden_id, golden=goldens[golden_id])
    heads = sorted({g for g in goldens.values() if g != golden_id})
    if not heads:
        raise VinculoError("identity.nothing_to_merge")
    links = pl.DataFrame(
        {"customer_id": heads, "golden_id": golden_id, "rule": rule, "score": score},
        schema={"customer_id": pl.String, "golden_id": pl.String, "rule": pl.String,
                "score": pl.Float64},
    )  # fmt: skip
    with store.transaction(con):
        _insert_links(con, links, actor)
        _flatten(con, actor)
        written = int(store.scalar(
            con, f"SELECT count(*) FROM identity_links WHERE {_ACTIVE} AND golden_id = ?",
            [golden_id],
        ))  # fmt: skip
        detail = {"ids": wanted, "rule": rule, "score": score, "members": written}
        store.audit(con, actor, "identity.merge", golden_id, written, detail)
        store.bump_data_version(con)
    return written


def unmerge(con: duckdb.DuckDBPyConnection, customer_id: str, actor: str) -> int:
    """Undo a merge: detach `customer_id` from its golden record, or, when it is a
    golden record, release every member. Returns the number of links closed."""
    with store.transaction(con):
        closed = _close(con, "customer_id = ?", [customer_id], actor)
        action = "identity.unmerge"
        if closed == 0:
            closed = _close(con, "golden_id = ?", [customer_id], actor)
            action = "identity.dissolve"
        if closed == 0:
            raise VinculoError("identity.not_merged", id=customer_id)
        store.audit(con, actor, action, customer_id, closed, {"links_closed": closed})
        store.bump_data_version(con)
    return closed


def merge_clusters(
    con: duckdb.DuckDBPyConnection, clusters: pl.DataFrame, actor: str, rule: str = "auto"
) -> int:
    """Apply many clusters at once (`customer_id`, `golden_id`, e.g. `auto_clusters`'s
    output), set-based: one transaction, one audit event. Records already merged
    elsewhere are re-linked. Returns the number of links written."""
    links = clusters.filter(pl.col("customer_id") != pl.col("golden_id")).select(
        "customer_id", "golden_id", rule=pl.lit(rule), score=pl.lit(None, dtype=pl.Float64)
    )
    if links.height == 0:
        return 0
    touched = pl.concat([clusters["customer_id"], clusters["golden_id"]]).unique()
    with store.transaction(con):
        _close(con, "customer_id IN (SELECT unnest(?::VARCHAR[]))", [touched.to_list()], actor)
        _insert_links(con, links, actor)
        _flatten(con, actor)
        detail = {"rule": rule, "clusters": clusters["golden_id"].n_unique()}
        store.audit(con, actor, "identity.merge_clusters", None, links.height, detail)
        store.bump_data_version(con)
    return links.height

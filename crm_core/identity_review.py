"""The reviewer's side of identity resolution: the queue, decisions, and what was merged.

- `resolution_overview`: the numbers a reviewer starts from (customers, golden
  records, candidate pairs, the duplicate rate now and after the automatic merges).
- `pending_clusters`: automatic clusters not merged yet (what "apply" would write).
- `review_queue`: candidate pairs below the automatic threshold, both records side
  by side, with the golden record the golden-record rule would keep.
- `merge_pairs` / `reject_pairs`: the reviewer's two decisions. A merge is an audited
  `identity_merge.merge`; a rejection ("not the same person") is stored in
  `identity_rejections`, audited, and `candidate_pairs` never proposes the pair again.
- `merge_history` and `identity_events`: active golden records with their members,
  and the identity events of the audit log.
"""

from __future__ import annotations

import duckdb
import polars as pl

from crm_core import store
from crm_core.identity import duplicate_share, merged_golden
from crm_core.identity_match import MatchConfig, auto_clusters
from crm_core.identity_merge import golden_map, golden_of, merge

SIDE_FIELDS: tuple[str, ...] = (
    "name", "email", "phone", "document", "city", "zip", "created_at", "source",
)  # fmt: skip
"""Profile fields shown for both records of a pair, in this order."""


def resolution_overview(
    con: duckdb.DuckDBPyConnection,
    pairs: pl.DataFrame,
    ranking: pl.DataFrame,
    threshold: float = MatchConfig.auto_threshold,
    floor: float = MatchConfig.review_floor,
) -> dict[str, float | int]:
    """Headline numbers of identity resolution (counts are records, rates 0–1).

    `customers`: customer records not erased. `golden_records`: those merged into no
    other record (what analytics count as customers). `merged`: records merged into
    another. `candidates`: candidate pairs scoring at least `floor`; `auto_pairs` of
    them score at least `threshold`, `review_pairs` below it. `clusters`/`links`:
    automatic clusters (pairs ≥ `threshold`, `ranking` from `record_ranking`) not
    merged yet, and the links applying them would write. `duplicate_rate`: share of
    golden records that are duplicates of another one (`identity.duplicate_share`),
    duplicates being the groups of candidate pairs scoring at least `floor`;
    `duplicate_rate_after`: the same once the automatic clusters are merged.
    """
    golden = _live_golden_map(con)
    detected = auto_clusters(pairs, floor)
    auto = auto_clusters(pairs, threshold, ranking=ranking)
    pending = pending_clusters(auto, golden)
    kept = pairs.filter(pl.col("score") >= floor)
    return {
        "customers": golden.height,
        "golden_records": golden["golden_id"].n_unique(),
        "merged": golden.filter(pl.col("customer_id") != pl.col("golden_id")).height,
        "candidates": kept.height,
        "auto_pairs": kept.filter(pl.col("score") >= threshold).height,
        "review_pairs": kept.filter(pl.col("score") < threshold).height,
        "clusters": pending["golden_id"].n_unique(),
        "links": pending.filter(pl.col("customer_id") != pl.col("golden_id")).height,
        "duplicate_rate": duplicate_share(golden, detected),
        "duplicate_rate_after": duplicate_share(merged_golden(golden, auto), detected),
    }


def _live_golden_map(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """`golden_map` of the customers not erased (unordered)."""
    con.complete()
    return con.sql(
        """SELECT c.customer_id, coalesce(l.golden_id, c.customer_id) AS golden_id
        FROM customers c LEFT JOIN identity_links l
          ON l.customer_id = c.customer_id AND l.unlinked_at IS NULL
        WHERE c.erased_at IS NULL"""
    ).pl()


def pending_clusters(clusters: pl.DataFrame, golden: pl.DataFrame) -> pl.DataFrame:
    """The rows of `clusters` (`customer_id`, `golden_id`, …) whose cluster is not merged
    yet: some member's current golden record (`golden`, as `golden_map`) differs from
    another's."""
    current = clusters.join(
        golden.select("customer_id", current="golden_id"), on="customer_id", how="left"
    )
    split = current.filter(pl.col("current").n_unique().over("golden_id") > 1)
    return split.drop("current")


def _side(profiles: pl.DataFrame, suffix: str, on: str) -> pl.DataFrame:
    return profiles.rename({c: f"{c}_{suffix}" for c in profiles.columns}).rename(
        {f"customer_id_{suffix}": on}
    )


def review_queue(
    con: duckdb.DuckDBPyConnection,
    pairs: pl.DataFrame,
    ranking: pl.DataFrame,
    threshold: float = MatchConfig.auto_threshold,
    floor: float = MatchConfig.review_floor,
) -> pl.DataFrame:
    """Candidate pairs for a reviewer: `floor` ≤ score < `threshold`, not yet in one golden
    record; highest score first.

    Columns: `customer_id_a`, `customer_id_b`, `rule`, `score`, `name_similarity`,
    `golden_a`/`golden_b` (each record's current golden record), `golden_default` (the one
    of the two the golden-record rule keeps: oldest, then most complete, then smallest id —
    `ranking` from `record_ranking`), then each of `SIDE_FIELDS` for a and b side by side
    (`name_a`, `name_b`, `email_a`, …).
    """
    queue = pairs.filter((pl.col("score") >= floor) & (pl.col("score") < threshold))
    golden = golden_map(con).select("customer_id", "golden_id")
    queue = (
        queue.join(golden.rename({"golden_id": "golden_a"}), left_on="customer_id_a",
                   right_on="customer_id", how="left")
        .join(golden.rename({"golden_id": "golden_b"}), left_on="customer_id_b",
              right_on="customer_id", how="left")
        .filter(pl.col("golden_a") != pl.col("golden_b"))
    )  # fmt: skip
    ids = pl.concat([queue["customer_id_a"], queue["customer_id_b"]]).unique()
    heads = pl.concat([queue["golden_a"], queue["golden_b"]]).unique()
    order = (
        ranking.filter(pl.col("customer_id").is_in(heads.implode()))
        .sort(["created_at", "filled", "customer_id"], descending=[False, True, False],
              nulls_last=True)
        .with_row_index("rank")
        .select("customer_id", "rank")
    )  # fmt: skip
    rank_a = order.rename({"customer_id": "golden_a", "rank": "rank_a"})
    rank_b = order.rename({"customer_id": "golden_b", "rank": "rank_b"})
    queue = (
        queue.join(rank_a, on="golden_a", how="left")
        .join(rank_b, on="golden_b", how="left")
        .with_columns(
            golden_default=pl.when(pl.col("rank_a") <= pl.col("rank_b"))
            .then("golden_a")
            .otherwise("golden_b")
        )
        .drop("rank_a", "rank_b")
    )
    profiles = _profiles(con, ids)
    side_by_side = [f"{f}_{s}" for f in SIDE_FIELDS for s in ("a", "b")]
    return (
        queue.join(_side(profiles, "a", "customer_id_a"), on="customer_id_a", how="left")
        .join(_side(profiles, "b", "customer_id_b"), on="customer_id_b", how="left")
        .select(*queue.columns, *side_by_side)
        .sort(["score", "customer_id_a", "customer_id_b"], descending=[True, False, False])
    )


def _profiles(con: duckdb.DuckDBPyConnection, ids: pl.Series) -> pl.DataFrame:
    """`customer_id` and `SIDE_FIELDS` of the customers `ids`."""
    con.complete()
    return con.sql(
        f"SELECT customer_id, {', '.join(SIDE_FIELDS)} FROM customers "
        "WHERE customer_id IN (SELECT unnest($ids::VARCHAR[]))",
        params={"ids": ids.to_list()},
    ).pl()


def merge_pairs(con: duckdb.DuckDBPyConnection, chosen: pl.DataFrame, actor: str) -> int:
    """Merge the reviewer's chosen pairs: `customer_id_a`, `customer_id_b`, `keep` (the
    record whose golden record survives) and `score`. Each pair is one audited merge (rule
    `manual`) into `keep`'s current golden record; a pair already in one golden record
    (e.g. merged by an earlier pair of the same batch) is skipped. Returns the links
    written."""
    written = 0
    for a, b, keep, score in chosen.select(
        "customer_id_a", "customer_id_b", "keep", "score"
    ).iter_rows():  # a reviewer's handful of pairs, not customer rows
        goldens = golden_of(con, [a, b, keep])
        if goldens.get(a) is not None and goldens.get(a) == goldens.get(b):
            continue
        written += merge(con, [a, b], goldens.get(keep, keep), actor, "manual", score)
    return written


def reject_pairs(con: duckdb.DuckDBPyConnection, pairs: pl.DataFrame, actor: str) -> int:
    """Record that each pair (`customer_id_a`, `customer_id_b`) is two different people.

    One transaction and one audit event (`identity.reject`); pairs already rejected are
    kept as they were. Returns the number of new decisions.
    """
    frame = pairs.select(
        a=pl.min_horizontal("customer_id_a", "customer_id_b"),
        b=pl.max_horizontal("customer_id_a", "customer_id_b"),
    ).unique()
    con.register("new_rejections", frame.to_arrow())
    try:
        with store.transaction(con):
            added = con.execute(
                """INSERT INTO identity_rejections (customer_id_a, customer_id_b, decided_by)
                SELECT a, b, ? FROM new_rejections WHERE a <> b
                ON CONFLICT DO NOTHING RETURNING customer_id_a, customer_id_b""",
                [actor],
            ).fetchall()
            detail = {"pairs": [list(p) for p in added]}
            store.audit(con, actor, "identity.reject", None, len(added), detail)
            store.bump_data_version(con)
    finally:
        con.unregister("new_rejections")
    return len(added)


def rejected_pairs(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every "not the same person" decision, newest first."""
    con.complete()
    return con.sql(
        "SELECT customer_id_a, customer_id_b, decided_at, decided_by FROM identity_rejections "
        "ORDER BY decided_at DESC, customer_id_a, customer_id_b"
    ).pl()


def merge_history(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Active golden records with members: `golden_id`, `name` (the golden record's),
    `members` (records in it, the golden one included), `member_ids` (the records merged
    into it, sorted), `rules` (how they were merged), `linked_at` (latest link), `linked_by`
    (who made it). Latest first."""
    con.complete()
    return con.sql(
        """SELECT l.golden_id, any_value(g.name) AS name, count(*) + 1 AS members,
               list(l.customer_id ORDER BY l.customer_id) AS member_ids,
               list(DISTINCT l.rule ORDER BY l.rule) AS rules,
               max(l.linked_at) AS linked_at, arg_max(l.linked_by, l.linked_at) AS linked_by
        FROM identity_links l LEFT JOIN customers g ON g.customer_id = l.golden_id
        WHERE l.unlinked_at IS NULL
        GROUP BY l.golden_id ORDER BY linked_at DESC, l.golden_id"""
    ).pl()


def identity_events(con: duckdb.DuckDBPyConnection, limit: int = 20) -> pl.DataFrame:
    """The last `limit` identity events of the audit log (merges, un-merges, rejections):
    `logged_at`, `actor`, `action`, `target`, `rows`, `detail` (JSON text); newest first."""
    con.complete()
    return con.sql(
        """SELECT logged_at, actor, action, target, rows, detail::VARCHAR AS detail
        FROM audit_log WHERE action LIKE 'identity.%' ORDER BY event_id DESC LIMIT $n""",
        params={"n": limit},
    ).pl()


def has_truth(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the store holds the demo's seeded duplicates (`demo_truth`)."""
    return bool(store.scalar(con, "SELECT count(*) > 0 FROM demo_truth"))

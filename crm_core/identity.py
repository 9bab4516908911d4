"""Identity resolution (IDIC "Identify"): one golden record per real customer.

The pieces: `identity_keys` (normalised e-mail, E.164 phone, CPF/CNPJ, folded
name), `identity_match` (candidate pairs by rule and score, automatic
clusters, the golden-record rule), `identity_merge` (audited, reversible
merge and un-merge, the golden map). This module re-exports them and holds
the measures a page shows: the duplicate rate before and after merging,
match counts per rule, and precision/recall against the demo's seeded truth.
"""

from __future__ import annotations

import duckdb
import polars as pl

from crm_core.identity_keys import (
    identity_keys,
    normalize_document,
    normalize_email,
    normalize_name,
    normalize_phone,
)
from crm_core.identity_match import (
    RULES,
    MatchConfig,
    auto_clusters,
    candidate_pairs,
    components,
    record_ranking,
)
from crm_core.identity_merge import golden_map, golden_profiles, merge, merge_clusters, unmerge

__all__ = [
    "RULES",
    "MatchConfig",
    "auto_clusters",
    "candidate_pairs",
    "duplicate_rate",
    "duplicate_share",
    "evaluate_against_truth",
    "golden_map",
    "golden_profiles",
    "identity_keys",
    "match_counts",
    "merge",
    "merge_clusters",
    "merged_golden",
    "normalize_document",
    "normalize_email",
    "normalize_name",
    "normalize_phone",
    "record_ranking",
    "unmerge",
]


def _components(edges: pl.DataFrame) -> pl.DataFrame:
    """Connected components of an edge list (`x`, `y`) → `node`, `component`."""
    return components(edges["x"], edges["y"])


def _edges(golden: pl.DataFrame, clusters: pl.DataFrame) -> pl.DataFrame:
    """Edges `x`–`y`: every merged record to its golden record, every cluster member to its
    cluster's golden record (records in neither are isolated and left out)."""
    return pl.concat(
        [
            golden.filter(pl.col("customer_id") != pl.col("golden_id")).select(
                x="customer_id", y="golden_id"
            ),
            clusters.select(x="customer_id", y="golden_id"),
        ]
    )


def duplicate_share(golden: pl.DataFrame, clusters: pl.DataFrame) -> float:
    """Share (0–1) of the golden records in `golden` that are still duplicates.

    `golden` maps every record to its golden record (`customer_id`, `golden_id`, as
    `golden_map`); `clusters` (`customer_id`, `golden_id`) are the detected duplicate
    groups. A golden record is a duplicate when the group it forms with its members and
    the detected clusters holds another golden record. 0 for an empty `golden`.
    """
    heads = golden["golden_id"].n_unique()
    edges = _edges(golden, clusters)
    if heads == 0 or edges.height == 0:
        return 0.0
    people = _components(edges).join(golden, left_on="node", right_on="customer_id")
    groups = people.select("golden_id", "component").unique()
    duplicated = groups.filter(pl.len().over("component") > 1)["golden_id"].n_unique()
    return duplicated / heads


def merged_golden(golden: pl.DataFrame, clusters: pl.DataFrame) -> pl.DataFrame:
    """`golden` (`customer_id`, `golden_id`) as it would be once `clusters` are merged:
    every group of golden records the clusters join becomes one (its representative is
    the group's smallest customer id; only the grouping is meant to be read)."""
    edges = _edges(golden, clusters)
    if edges.height == 0:
        return golden.select("customer_id", "golden_id")
    people = _components(edges)
    rep = people.group_by("component").agg(rep=pl.col("node").min())
    new = people.join(rep, on="component").select(customer_id="node", new="rep")
    return golden.join(new, on="customer_id", how="left").select(
        "customer_id", golden_id=pl.coalesce("new", "golden_id")
    )


def duplicate_rate(con: duckdb.DuckDBPyConnection, clusters: pl.DataFrame | None = None) -> float:
    """Share (0–1) of the store's golden records that are still duplicates.

    Definition: take the current golden records (`golden_map`: every customer
    not merged into another) and the detected clusters (`clusters`, customer_id
    → golden_id; default `auto_clusters(candidate_pairs(con))`). A golden
    record is a duplicate when its detected cluster holds another golden
    record. Before any merge, golden records are the customer records, so this
    is the share of customer records in a detected cluster of two or more;
    after the detected clusters are merged it is 0.
    """
    if clusters is None:
        clusters = auto_clusters(candidate_pairs(con), ranking=record_ranking(con))
    return duplicate_share(golden_map(con), clusters)


def match_counts(
    pairs: pl.DataFrame, threshold: float = MatchConfig.auto_threshold
) -> pl.DataFrame:
    """Per rule: `pairs` (candidates), `auto` (score ≥ `threshold`), `review` (below)."""
    counts = pairs.group_by("rule").agg(
        pairs=pl.len(),
        auto=(pl.col("score") >= threshold).sum(),
        review=(pl.col("score") < threshold).sum(),
    )
    rules = pl.DataFrame({"rule": list(RULES)})
    return (
        rules.join(counts, on="rule", how="left")
        .fill_null(0)
        .cast({"pairs": pl.Int64, "auto": pl.Int64, "review": pl.Int64})
    )


def _as_pairs(frame: pl.DataFrame) -> pl.DataFrame:
    """Unordered pairs (`a` < `b`) from candidate pairs or from clusters."""
    if "customer_id_a" in frame.columns:
        a, b = pl.col("customer_id_a"), pl.col("customer_id_b")
        out = frame.select(a=pl.min_horizontal(a, b), b=pl.max_horizontal(a, b))
    else:
        members = frame.select("customer_id", "golden_id")
        out = (
            members.join(members, on="golden_id", suffix="_2")
            .filter(pl.col("customer_id") < pl.col("customer_id_2"))
            .select(a="customer_id", b="customer_id_2")
        )
    return out.unique()


def evaluate_against_truth(
    con: duckdb.DuckDBPyConnection, pairs_or_clusters: pl.DataFrame
) -> dict[str, float | int]:
    """Precision, recall and F1 of predicted same-person pairs against `demo_truth`.

    `pairs_or_clusters` is either candidate pairs (`customer_id_a`,
    `customer_id_b`; filter by score first) or clusters (`customer_id`,
    `golden_id`; every two members of a cluster form a predicted pair). A true
    pair is two customer ids of one seeded person. Precision = TP / predicted,
    recall = TP / true pairs, F1 their harmonic mean (0 when undefined).
    """
    edges = con.sql("SELECT customer_id AS x, same_person_as AS y FROM demo_truth").pl()
    people = (
        _components(edges)
        if edges.height
        else pl.DataFrame(schema={"node": pl.String, "component": pl.Int64})
    )
    truth = _as_pairs(people.select(customer_id="node", golden_id="component"))
    predicted = _as_pairs(pairs_or_clusters)
    true_pos = predicted.join(truth, on=["a", "b"]).height
    false_pos = predicted.height - true_pos
    false_neg = truth.height - true_pos
    precision = true_pos / predicted.height if predicted.height else 0.0
    recall = true_pos / truth.height if truth.height else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "true_pos": true_pos,
        "false_pos": false_pos,
        "false_neg": false_neg,
    }

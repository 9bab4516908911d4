"""Candidate duplicate pairs and automatic clusters (identity resolution, IDIC "Identify").

Candidates come from set-based self-joins in DuckDB on blocking keys
(`identity_keys`), never from a loop over customers:

| rule               | pairs two customers that share …                    | weight `w` | cap  |
|--------------------|-----------------------------------------------------|------------|------|
| `document`         | a valid CPF/CNPJ (digits)                           | 1.0        | 1.0  |
| `invalid_document` | the 11/14 digits of a CPF/CNPJ failing its check    | 0.7        | 1.0  |
| `email`            | a normalised e-mail                                 | 0.6        | 1.0  |
| `phone`            | a phone in E.164                                    | 0.4        | 1.0  |
| `zip`              | a CEP (8 digits) — fuzzy                            | 0.2        | 1.0  |
| `city`             | a city and the first and last word of the core name | 0.0        | 0.85 |

Keys come from each customer's current profile (`customers`, erased ones
excluded); a document made of one repeated digit is no key at all.

**Score** (0–1) of a pair under a rule: `cap · (w + (1 − w) · s)`, where `s`
is DuckDB's Jaro-Winkler similarity of the two core names (`name_core`; 0
when a name is missing). A shared document is proof on its own; a shared
e-mail, phone or mistyped document (the same wrong digits typed twice) needs
the names to agree as well, so a family sharing one phone (`maria silva` /
`joao silva`, s ≈ 0.73 → 0.84) is offered for review but not merged at the
default auto threshold 0.9; a pair found only by the city rule scores
0.85 · s ≤ 0.85 (homonyms are common in Brazil), so it is always a review,
never an automatic merge. Each pair is reported once, under its
highest-scoring rule.

**Shared inboxes.** A role address (`contato@`, `comercial@`, … `ROLE_MAILBOXES`)
at a domain used by more than `max_block` customers (a public provider, or a
misspelt one) is no e-mail key: unrelated companies share `contato@uol.com`.

**Conflicts.** Two records with different valid documents are two people (or
a person and a company): they are never a candidate pair, whatever else they
share. A fuzzy pair whose birth dates are both known and differ is dropped.

**Rejected pairs.** A pair a reviewer marked as two different people
(`identity_rejections`, see `identity_review.reject_pairs`) is never a candidate again.

**Review.** Pairs scoring at least `auto_threshold` are merged automatically
(`auto_clusters`); pairs from `review_floor` up to it wait for a reviewer.

Blocks (customers sharing one key value) larger than `max_block` are skipped:
a phone or CEP shared by hundreds of records is a switchboard or a default
value, not evidence, and would cost quadratic time. Fuzzy pairs below
`min_similarity` are dropped.

**Golden record** of a cluster: the oldest record (earliest `created_at`; it
carries the history the others were split from), then the most complete one
(most of name, e-mail, phone, document, birth date, city and CEP filled),
then the smallest customer id.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from crm_core.identity_keys import identity_keys

PAIR_SCHEMA = {
    "customer_id_a": pl.String,
    "customer_id_b": pl.String,
    "rule": pl.String,
    "score": pl.Float64,
    "name_similarity": pl.Float64,
}
RULES: tuple[str, ...] = ("document", "invalid_document", "email", "phone", "zip", "city")
ROLE_MAILBOXES: tuple[str, ...] = (
    "contato", "comercial", "compras", "financeiro", "suprimentos", "vendas", "atendimento",
    "sac", "faleconosco", "administrativo", "admin", "info", "contact", "sales",
)  # fmt: skip
EXACT_RULES: tuple[str, ...] = ("document", "invalid_document", "email", "phone")


@dataclass(frozen=True)
class MatchConfig:
    """Weights, caps and limits of the matching rules (see the module docstring)."""

    document_weight: float = 1.0
    invalid_document_weight: float = 0.7
    email_weight: float = 0.6
    phone_weight: float = 0.4
    zip_weight: float = 0.2
    city_weight: float = 0.0
    city_cap: float = 0.85
    min_similarity: float = 0.85
    max_block: int = 50
    auto_threshold: float = 0.9
    review_floor: float = 0.5
    gmail: bool = False


def _without_shared_inboxes(email: pl.Expr, max_block: int) -> pl.Expr:
    """Null for a role address (`contato@`, `comercial@`, …) at a domain more than
    `max_block` customers use: there it is a generic inbox many companies share."""
    local, domain = email.str.split("@").list.first(), email.str.split("@").list.last()
    public = pl.len().over(domain) > max_block
    return pl.when(~(local.is_in(ROLE_MAILBOXES) & public)).then(email)


def load_keys(con: duckdb.DuckDBPyConnection, config: MatchConfig) -> pl.DataFrame:
    """Matching keys of every customer not erased (see `identity_keys`)."""
    frame = con.sql(
        "SELECT customer_id, name, email, phone, document, city, zip, birth_date FROM customers "
        "WHERE erased_at IS NULL"
    ).pl()
    keys = identity_keys(frame, gmail=config.gmail).with_columns(frame["birth_date"])
    digits = frame["document"].str.replace_all(r"\D", "")
    repeated = digits.str.contains("^(" + "|".join(f"{d}+" for d in range(10)) + ")$")
    bad = digits.str.len_chars().is_in([11, 14]) & keys["document_key"].is_null() & ~repeated
    keys = keys.with_columns(bad_document_key=pl.when(bad).then(digits))
    words = pl.col("name_key").str.split(" ")
    return keys.with_columns(
        email_key=_without_shared_inboxes(pl.col("email_key"), config.max_block),
        name_block=pl.concat_str("city_key", words.list.first(), words.list.last(), separator="|"),
    )


def _block_sql(rule: str, key: str, weight: float, cap: float, max_block: int) -> str:
    return f"""
    SELECT a.customer_id AS a, b.customer_id AS b, '{rule}' AS rule,
           {weight}::DOUBLE AS w, {cap}::DOUBLE AS cap, {RULES.index(rule)} AS priority
    FROM (SELECT customer_id, {key} AS k FROM id_keys WHERE {key} IS NOT NULL
          QUALIFY count(*) OVER (PARTITION BY {key}) BETWEEN 2 AND {max_block}) a
    JOIN (SELECT customer_id, {key} AS k FROM id_keys WHERE {key} IS NOT NULL) b
      ON a.k = b.k AND a.customer_id < b.customer_id"""


def _pairs_sql(config: MatchConfig, fuzzy: bool) -> str:
    blocks = [
        ("document", "document_key", config.document_weight, 1.0),
        ("invalid_document", "bad_document_key", config.invalid_document_weight, 1.0),
        ("email", "email_key", config.email_weight, 1.0),
        ("phone", "phone_key", config.phone_weight, 1.0),
    ]
    if fuzzy:
        blocks += [
            ("zip", "zip_key", config.zip_weight, 1.0),
            ("city", "name_block", config.city_weight, config.city_cap),
        ]
    union = " UNION ALL ".join(_block_sql(*b, config.max_block) for b in blocks)
    return f"""
    WITH cand AS ({union}),
    scored AS (
        SELECT c.a, c.b, c.rule, c.priority, c.rule IN ('zip', 'city') AS fuzzy,
               coalesce(jaro_winkler_similarity(ka.name_key, kb.name_key), 0) AS s,
               c.cap * (c.w + (1 - c.w) * s) AS score,
               ka.birth_date <> kb.birth_date AS birth_conflict
        FROM cand c
        JOIN id_keys ka ON ka.customer_id = c.a
        JOIN id_keys kb ON kb.customer_id = c.b
        WHERE ka.document_key IS NOT DISTINCT FROM kb.document_key
           OR ka.document_key IS NULL OR kb.document_key IS NULL)
    SELECT a AS customer_id_a, b AS customer_id_b, rule, score, s AS name_similarity
    FROM scored
    WHERE (NOT fuzzy OR (s >= {config.min_similarity} AND NOT coalesce(birth_conflict, FALSE)))
      AND NOT EXISTS (SELECT 1 FROM identity_rejections r
                      WHERE r.customer_id_a = scored.a AND r.customer_id_b = scored.b)
    QUALIFY row_number() OVER (PARTITION BY a, b ORDER BY score DESC, priority) = 1
    ORDER BY score DESC, customer_id_a, customer_id_b"""


def candidate_pairs(
    con: duckdb.DuckDBPyConnection,
    *,
    fuzzy: bool = True,
    config: MatchConfig | None = None,
) -> pl.DataFrame:
    """Candidate duplicate pairs: `customer_id_a < customer_id_b`, `rule`, `score` (0–1),
    `name_similarity` (Jaro-Winkler of core names, 0–1); highest score first.

    `fuzzy=False` keeps the exact-key rules (document, e-mail, phone) only. Pairs in
    `identity_rejections` are left out.
    """
    config = config or MatchConfig()
    keys = load_keys(con, config)
    con.register("id_keys", keys.to_arrow())
    try:
        pairs = con.sql(_pairs_sql(config, fuzzy)).pl()
    finally:
        con.unregister("id_keys")
    return pairs.cast(PAIR_SCHEMA) if pairs.height else pl.DataFrame(schema=PAIR_SCHEMA)


def record_ranking(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Per customer: `created_at` and `filled` (how many of the 7 identity fields are set),
    the inputs of the golden-record rule."""
    fields = ("name", "email", "phone", "document", "birth_date", "city", "zip")
    filled = " + ".join(f"({f} IS NOT NULL)::INTEGER" for f in fields)
    return con.sql(f"SELECT customer_id, created_at, {filled} AS filled FROM customers").pl()


def components(x: pl.Series, y: pl.Series) -> pl.DataFrame:
    """Connected components of the undirected graph with edges `x[i]`–`y[i]`:
    one row per node (`node`, `component` label), nodes sorted."""
    nodes = pl.concat([x, y]).unique().sort()
    xi, yi = nodes.search_sorted(x).to_numpy(), nodes.search_sorted(y).to_numpy()
    graph = coo_matrix((np.ones(len(xi)), (xi, yi)), shape=(len(nodes), len(nodes)))
    _, label = connected_components(graph, directed=False)
    return pl.DataFrame({"node": nodes, "component": label})


def _golden_order(ids: pl.DataFrame, ranking: pl.DataFrame | None) -> pl.DataFrame:
    if ranking is None:
        return ids.sort("customer_id")
    ranked = ids.join(ranking, on="customer_id", how="left")
    return ranked.sort(
        ["created_at", "filled", "customer_id"],
        descending=[False, True, False],
        nulls_last=True,
    ).select(ids.columns)


def auto_clusters(
    pairs: pl.DataFrame,
    threshold: float = MatchConfig.auto_threshold,
    *,
    ranking: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Connected components of the pairs scoring at least `threshold`.

    Returns one row per customer in a cluster of two or more: `customer_id`,
    `golden_id` (the golden record, see the module docstring; with no
    `ranking` from `record_ranking`, the smallest customer id) and
    `cluster_size`. Customers in no such cluster are absent.
    """
    kept = pairs.filter(pl.col("score") >= threshold)
    schema = {"customer_id": pl.String, "golden_id": pl.String, "cluster_size": pl.UInt32}
    if kept.height == 0:
        return pl.DataFrame(schema=schema)
    members = components(kept["customer_id_a"], kept["customer_id_b"])
    members = members.rename({"node": "customer_id", "component": "cluster"})
    ordered = _golden_order(members, ranking)
    return (
        ordered.with_columns(
            golden_id=pl.col("customer_id").first().over("cluster"),
            cluster_size=pl.len().over("cluster").cast(pl.UInt32),
        )
        .select("customer_id", "golden_id", "cluster_size")
        .sort("customer_id")
    )

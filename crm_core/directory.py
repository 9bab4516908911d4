"""Customer directory (IDIC "Identify"): find a customer by name, e-mail, phone or document.

**Search index** (`search_index`): one row per customer that has not been erased, with its
golden record (`identity_links`, active links only) and four folded keys, built once per data
version and searched in memory (a scan of a million short strings takes milliseconds, a
DuckDB pass normalising them takes most of a second):

- `name_key` — `identity_keys.name_fold`: accents removed, lower case, punctuation as spaces;
- `email_key` — trimmed, lower case (kept even when not e-mail shaped, so partial text finds it);
- `phone_key` — the national number's digits: punctuation, leading zeros and a `55` country
  code dropped (`+55 (11) 98765-4321` → `11987654321`);
- `document_key` — the digits of the CPF/CNPJ as written (`794.221.179-76` → `79422117976`).

**A query matches** a customer as follows; `matched_on` names the field.

- A query with a letter: `id` when it is the customer id (as typed, upper or lower case);
  `email` when the e-mail key contains the lower-cased query; `name` when every word of the
  folded query occurs in the folded name (not for queries with `@`). An id beats an e-mail,
  an e-mail beats a name when the name does not match too.
- A query without letters is read as digits (punctuation ignored; at least `MIN_DIGITS`):
  `phone` when they occur in the phone key, or are a valid Brazilian number
  (`normalize_phone`) equal to it — also in its pre-2016 8-digit mobile form; `document`
  when they occur in the document key (and are not an exact phone hit).

**Rank** (`rank`, smaller first): 0 an exact key — the id, the e-mail (`normalize_email`),
the phone (or 8+ digits it ends with: the number without area code), the document; 1 a
folded name starting with the folded query; 2 any other hit. Within a rank, rows sort by
folded name, then customer id. Every member of a golden record matches for it: a golden
record appears once, with its best-ranked member's rank and field and its number of members.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import duckdb
import polars as pl

from crm_core import store
from crm_core.identity_keys import name_fold, normalize_email, normalize_name, normalize_phone
from crm_core.identity_merge import golden_profiles
from crm_core.summary import query_frame

RESULT_COLUMNS: tuple[str, ...] = (
    "golden_id", "name", "email", "phone", "document", "city", "state", "members",
    "member_ids", "matched_on", "rank",
)  # fmt: skip
"""Columns of `search_customers` (and of `directory_page`, with `rank` null there)."""

ACTIVITY_COLUMNS: tuple[str, ...] = ("orders", "revenue", "last_purchase")

_INDEX_SQL = """
SELECT c.customer_id::VARCHAR AS customer_id,
       coalesce(l.golden_id, c.customer_id)::VARCHAR AS golden_id,
       c.name::VARCHAR AS name, lower(trim(c.email))::VARCHAR AS email_key,
       c.phone::VARCHAR AS phone, c.document::VARCHAR AS document
FROM customers c
LEFT JOIN (SELECT customer_id, golden_id FROM identity_links WHERE unlinked_at IS NULL) l
  USING (customer_id)
WHERE c.erased_at IS NULL
"""

_MEMBERS_SQL = """
SELECT * FROM customers
WHERE erased_at IS NULL AND customer_id IN (SELECT unnest($ids::VARCHAR[]))
"""
_LINKS_SQL = """
SELECT * FROM identity_links
WHERE unlinked_at IS NULL AND customer_id IN (SELECT unnest($ids::VARCHAR[]))
"""


def golden_profiles_of(con: duckdb.DuckDBPyConnection, member_ids: Sequence[str]) -> pl.DataFrame:
    """`identity_merge.golden_profiles` computed over the customers `member_ids` alone.

    Pass every member of the golden records wanted (the index's `customer_id`s of those
    golden ids): the survivorship rule runs on their rows only, so one profile costs a few
    index lookups instead of a pass over the store. Erased customers are left out.
    """
    params = {"ids": list(member_ids)}
    customers = query_frame(con, _MEMBERS_SQL, params)
    links = query_frame(con, _LINKS_SQL, params)
    scratch = duckdb.connect()
    try:
        scratch.execute(f"SET TimeZone = '{store.business_tz()}'")
        scratch.register("customers", customers)
        scratch.register("identity_links", links)
        return golden_profiles(scratch)
    finally:
        scratch.close()


def _digits(col: pl.Expr) -> pl.Expr:
    return col.str.replace_all(r"\D", "")


def _national(digits: pl.Expr) -> pl.Expr:
    """Phone digits without leading zeros and without a `55` country code (12–13 digits)."""
    plain = digits.str.replace(r"^0+", "")
    size = plain.str.len_chars()
    return pl.when(size.is_in([12, 13]) & plain.str.starts_with("55")).then(
        plain.str.slice(2)
    ).otherwise(plain)  # fmt: skip


def search_index(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The search index (module docstring): `customer_id, golden_id, name_key, email_key,
    phone_key, document_key, members` (customers sharing the golden record), sorted by golden
    id then customer id (`members_of` relies on it).

    Erased customers are left out. Build it once per data version and pass it to
    `search_customers` / `directory_page`.
    """
    raw = query_frame(con, _INDEX_SQL)
    return (
        raw.lazy()
        .select(
            "customer_id",
            "golden_id",
            name_key=name_fold(pl.col("name")),
            email_key=pl.col("email_key").replace("", None),
            phone_key=_national(_digits(pl.col("phone"))).replace("", None),
            document_key=_digits(pl.col("document")).replace("", None),
            members=pl.len().over("golden_id").cast(pl.UInt32),
        )
        .sort("golden_id", "customer_id")
        .collect()
        .rechunk()
    )


def _phone_forms(query: str) -> list[str]:
    """National forms of a query that is a valid phone: `11987654321` and, for a mobile,
    its 8-digit predecessor `1187654321` (stores keep numbers written before 2016)."""
    e164 = normalize_phone(query)
    if e164 is None:
        return []
    national = e164.removeprefix("+55")
    forms = [national]
    if len(national) == 11 and national[2] == "9" and national[3] in "6789":
        forms.append(national[:2] + national[3:])
    return forms


MIN_DIGITS = 4
"""Shortest digit query searched inside phones and documents (fewer digits match anyone)."""


def _digit_hits(index: pl.DataFrame, digits: str) -> pl.DataFrame:
    """Rows whose phone or document key holds `digits`, with `matched_on` and `rank`."""
    phone, doc = pl.col("phone_key"), pl.col("document_key")
    if len(digits) < MIN_DIGITS:
        return index.clear().with_columns(matched_on=pl.lit(""), rank=pl.lit(0))
    forms = _phone_forms(digits)
    in_phone = phone.str.contains(digits, literal=True)
    in_doc = doc.str.contains(digits, literal=True)
    candidates = index.filter((in_phone | in_doc | phone.is_in(forms)).fill_null(False))
    exact_phone = phone.is_in(forms) | (phone.str.ends_with(digits) & (len(digits) >= 8))
    exact_doc = doc == digits
    return candidates.with_columns(
        matched_on=pl.when(exact_doc | (~exact_phone.fill_null(False) & in_doc.fill_null(False)))
        .then(pl.lit("document"))
        .otherwise(pl.lit("phone")),
        rank=pl.when((exact_doc | exact_phone).fill_null(False)).then(0).otherwise(2),
    )


def _text_hits(index: pl.DataFrame, query: str) -> pl.DataFrame:
    """Rows matching a query with letters: id, e-mail (exact or part), or every name word."""
    lowered = query.strip().lower()
    email = normalize_email(query) if "@" in query else None
    words = [] if "@" in query else (normalize_name(query) or "").split()
    in_name = pl.all_horizontal(
        [pl.col("name_key").str.contains(w, literal=True) for w in words] or [pl.lit(False)]
    ).fill_null(False)
    in_email = (  # an e-mail has no spaces: a query with one cannot be in it
        pl.col("email_key").str.contains(lowered, literal=True).fill_null(False)
        if not re.search(r"\s", lowered)
        else pl.lit(False)
    )
    is_id = pl.col("customer_id").is_in([query.strip(), query.strip().upper(), lowered])
    is_email = pl.col("email_key") == email if email else pl.lit(False)
    # One pass over the index with the longest word only; the other words are then
    # checked on the few candidate rows (a pass per word would cost a scan each).
    longest = max(words, key=len, default=None)
    some_name = pl.col("name_key").str.contains(longest, literal=True) if longest else pl.lit(False)
    candidates = index.filter(some_name.fill_null(False) | in_email | is_id)
    hits = candidates.filter(in_name | in_email | is_id)
    prefix = pl.col("name_key").str.starts_with(" ".join(words)) if words else pl.lit(False)
    return hits.with_columns(
        matched_on=pl.when(is_id)
        .then(pl.lit("id"))
        .when(is_email | (in_email & ~in_name))
        .then(pl.lit("email"))
        .otherwise(pl.lit("name")),
        rank=pl.when(is_id | is_email).then(0).when(prefix.fill_null(False)).then(1).otherwise(2),
    )


def _matches(index: pl.DataFrame, query: str) -> pl.DataFrame:
    """The index rows `query` matches, with `matched_on` and `rank` (module docstring)."""
    if re.search(r"[^\W\d_]", query):  # any letter: a name, an e-mail or an id
        return _text_hits(index, query)
    digits = re.sub(r"\D", "", query)
    if not digits:
        return index.clear().with_columns(matched_on=pl.lit(""), rank=pl.lit(0))
    return _digit_hits(index, digits)


def _best_per_golden(hits: pl.DataFrame, limit: int) -> pl.DataFrame:
    """The `limit` best golden records among `hits`, each with its best-ranked member's
    `matched_on`. Sorting only the best `4 * limit` hits is enough unless many of them
    share golden records; then every hit is sorted."""
    order = ["rank", "name_key", "customer_id"]

    def best_of(frame: pl.DataFrame) -> pl.DataFrame:
        ranked = frame.sort(order, nulls_last=True)
        return ranked.unique("golden_id", keep="first", maintain_order=True).head(limit)

    pool = 4 * limit
    if hits.height <= pool:
        return best_of(hits)
    best = best_of(hits.bottom_k(pool, by=order))
    return best if best.height == limit else best_of(hits)


def search_customers(
    con: duckdb.DuckDBPyConnection,
    query: str,
    *,
    limit: int = 50,
    index: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Golden records matching `query` (rules and rank in the module docstring), best first.

    Columns `RESULT_COLUMNS`: the golden record's profile (`golden_profiles` survivorship over
    its non-erased members), `members` and `member_ids`, the field that matched
    (`matched_on`: id | email | phone | document | name, from its best-ranked member) and
    `rank` (Int8). At most `limit` rows; an empty or blank query gives none. `index` is
    `search_index(con)`, built here when not given.
    """
    index = search_index(con) if index is None else index
    if not query.strip():
        return golden_rows(con, [], index)
    best = _best_per_golden(_matches(index, query.strip()), limit)
    rows = golden_rows(con, best["golden_id"].to_list(), index)
    return (
        best.select("golden_id", "matched_on", pl.col("rank").cast(pl.Int8))
        .join(rows.drop("matched_on", "rank"), on="golden_id", maintain_order="left")
        .select(RESULT_COLUMNS)
    )


def members_of(index: pl.DataFrame, golden_ids: pl.Series) -> list[str]:
    """Customer ids of the golden records `golden_ids`: binary searches in the index, which
    is sorted by golden id, so a lookup costs microseconds instead of a scan."""
    keys = index["golden_id"]
    starts = keys.search_sorted(golden_ids, "left").to_list()
    ends = keys.search_sorted(golden_ids, "right").to_list()
    rows = [i for start, end in zip(starts, ends, strict=True) for i in range(start, end)]
    return index["customer_id"].gather(rows).to_list()


def golden_rows(
    con: duckdb.DuckDBPyConnection, golden_ids: Sequence[str], index: pl.DataFrame
) -> pl.DataFrame:
    """`RESULT_COLUMNS` of the golden records `golden_ids`, in that order (unknown ids are
    dropped; `matched_on` and `rank` null): profile by `golden_profiles_of`."""
    wanted = pl.DataFrame({"golden_id": list(golden_ids)}, schema={"golden_id": pl.String})
    profiles = golden_profiles_of(con, members_of(index, wanted["golden_id"]))
    return (
        wanted.join(profiles, on="golden_id", maintain_order="left")
        .with_columns(
            pl.col("members").cast(pl.UInt32),
            matched_on=pl.lit(None, pl.String),
            rank=pl.lit(None, pl.Int8),
        )
        .select(RESULT_COLUMNS)
    )


def directory_page(
    con: duckdb.DuckDBPyConnection,
    summary: pl.DataFrame,
    *,
    limit: int = 50,
    index: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The default listing: the `limit` golden records with the highest net revenue.

    `summary` is `customer_summary` (one row per golden record, `revenue` in BRL), already
    restricted to the customers to list. Columns `RESULT_COLUMNS` (`matched_on`, `rank`
    null), highest revenue first, ties by golden id.
    """
    index = search_index(con) if index is None else index
    top = (
        summary.select("customer_id", "revenue")
        .top_k(limit, by=["revenue", "customer_id"], reverse=[False, True])
        .sort(["revenue", "customer_id"], descending=[True, False])
    )
    return golden_rows(con, top["customer_id"].to_list(), index)


def with_activity(rows: pl.DataFrame, summary: pl.DataFrame) -> pl.DataFrame:
    """`rows` (with `golden_id`) plus `ACTIVITY_COLUMNS` of `summary` (`customer_summary`:
    one row per golden record): purchases, net revenue (BRL), last purchase day; null for
    a golden record `summary` does not hold."""
    facts = summary.filter(pl.col("customer_id").is_in(rows["golden_id"].implode())).select(
        pl.col("customer_id").alias("golden_id"), *ACTIVITY_COLUMNS
    )
    return rows.join(facts, on="golden_id", how="left", maintain_order="left")

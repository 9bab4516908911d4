"""Data quality of the customer base (IDIC step 1, Identify): how complete and valid it is.

Every measure is computed over the store's customer records as stored (`customers`, one row
per customer id — two records later merged into one golden record still count twice, since
quality is about what the sources delivered), erased customers (`erased_at`) excluded, from
one frame of per-customer checks (`customer_checks`), so each number and the rows behind it
(`rows_behind`) come from the same definition.

Definitions
- **Completeness** of a field: share (0–1) of customers whose field is filled — not null and,
  for text, not blank after trimming — among the customers of a source (`customers.source`;
  "unknown" when none) and over all sources. Fields: `FIELDS`.
- **Invalid e-mail**: an e-mail is given but is not shaped `local@domain.tld` (one `@`, no
  spaces, a dot in the domain, checked after trimming; `crm_core.identity_keys.email_key`).
  Share of customers *with* an e-mail.
- **Invalid phone**: a phone is given but is not a Brazilian number convertible to E.164
  (`crm_core.identity_keys.phone_e164`: an ANATEL area code, 9-digit mobile or 8-digit
  landline). Share of customers with a phone. Identity resolution uses the same two keys, so
  a value counted invalid here is one that can never match.
- **Invalid document**: a document is given but is neither a valid CPF nor a valid CNPJ
  (`crm_core.identity_keys.document_key`: length, check digits, not one repeated digit).
  Share of customers with a document.
- **No consent**: the customer has no current granted consent on any channel (current =
  latest row per channel, `crm_core.targeting`). Share of all customers. **No consent for a
  channel** (`no_consent_<channel>`, channels of `crm_core.customize.CHANNELS`): no current
  granted consent for that channel. Share of all customers.
- **Lead without orders**: a customer flagged as lead with no order of any status. Share of
  leads.
- **Placeholder**: a customer the store created because an order named a customer id no
  customer file had delivered (`customers.is_placeholder`): orders without a customer record.
  Share of all customers.
- **Possible duplicate**: the customer shares an exact identity key — a valid CPF/CNPJ, a
  normalised e-mail or an E.164 phone (`crm_core.identity_keys`) — with a customer of another
  golden record (active `identity_links`; customers already merged together do not count).
  As in identity resolution, a key shared by more than `MatchConfig.max_block` customers is a
  switchboard or a default value, not evidence. Share of all customers. The Identity page
  scores these candidates (names must agree, two different valid documents never match), so
  it proposes fewer merges than this count.
- **Quality score** (`quality_score`, 0–1): the mean of four dimensions, each 0–1 —
  completeness (mean completeness of the `FIELDS`), validity (share of the given e-mails,
  phones and documents that are valid), consent (share of customers with a consent on some
  channel) and uniqueness (share of customers that are not possible duplicates).
"""

from __future__ import annotations

import duckdb
import polars as pl

from crm_core.customize import CHANNELS
from crm_core.errors import VinculoError
from crm_core.identity_keys import document_key, email_key, phone_e164
from crm_core.identity_match import MatchConfig
from crm_core.summary import query_frame
from crm_core.targeting import CURRENT_CONSENTS_SQL

FIELDS: tuple[str, ...] = (
    "name",
    "email",
    "phone",
    "document",
    "city",
    "state",
    "zip",
    "birth_date",
)
MEASURES: tuple[str, ...] = (
    "invalid_email",
    "invalid_phone",
    "invalid_document",
    "no_consent",
    "lead_without_orders",
    "placeholder",
    "possible_duplicate",
)
CONSENT_MEASURES: tuple[str, ...] = tuple(f"no_consent_{c}" for c in CHANNELS)
ALL_MEASURES: tuple[str, ...] = (*MEASURES, *CONSENT_MEASURES)
VALIDATED: tuple[str, ...] = ("email", "phone", "document")
"""The fields with a validity check (`invalid_<field>`)."""
SCORE_DIMENSIONS: tuple[str, ...] = ("completeness", "validity", "consent", "uniqueness")
DUPLICATE_KEYS: tuple[str, ...] = ("document", "email", "phone")
"""Exact identity keys for possible duplicates, in the order `duplicate_key` names them."""

_BASE_OF: dict[str, str | None] = {
    "invalid_email": "filled_email",
    "invalid_phone": "filled_phone",
    "invalid_document": "filled_document",
    "lead_without_orders": "is_lead",
}
# The contact a channel needs (as `crm_core.targeting` checks it): shown next to its rows.
_CHANNEL_CONTACT = {"email": ("email",), "mail": ("city", "zip")}
_SHOWN_WITH: dict[str, tuple[str, ...]] = {
    "invalid_email": ("email",),
    "invalid_phone": ("phone",),
    "invalid_document": ("document",),
    "no_consent": ("email", "phone"),
    "lead_without_orders": ("email", "phone", "created_at"),
    "placeholder": ("created_at",),
    "possible_duplicate": ("duplicate_key", "shared_with", "document", "email", "phone"),
    **{f"no_consent_{c}": _CHANNEL_CONTACT.get(c, ("phone",)) for c in CHANNELS},
}

_CONSENT_FLAGS = ", ".join(
    f"coalesce(bool_or(granted) FILTER (WHERE channel = '{c}'), FALSE) AS consent_{c}"
    for c in CHANNELS
)
_CHECKS_SQL = f"""
WITH consent AS (
    SELECT customer_id, bool_or(granted) AS has_consent, {_CONSENT_FLAGS}
    FROM ({CURRENT_CONSENTS_SQL}) GROUP BY customer_id),
ordered AS (SELECT DISTINCT customer_id FROM orders),
links AS (
    SELECT customer_id, golden_id FROM identity_links WHERE unlinked_at IS NULL
    QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY linked_at DESC) = 1)
SELECT cu.customer_id, coalesce(nullif(trim(cu.source), ''), 'unknown') AS source,
    coalesce(cu.is_lead, FALSE) AS is_lead, coalesce(cu.is_placeholder, FALSE) AS is_placeholder,
    cu.created_at, {", ".join(f"cu.{f}" for f in FIELDS)},
    coalesce(c.has_consent, FALSE) AS has_consent,
    {", ".join(f"coalesce(c.consent_{ch}, FALSE) AS consent_{ch}" for ch in CHANNELS)},
    o.customer_id IS NOT NULL AS has_orders,
    coalesce(l.golden_id, cu.customer_id) AS golden_id
FROM customers cu
LEFT JOIN consent c ON c.customer_id = cu.customer_id
LEFT JOIN ordered o ON o.customer_id = cu.customer_id
LEFT JOIN links l ON l.customer_id = cu.customer_id
WHERE cu.erased_at IS NULL
"""


def valid_documents(documents: pl.Series) -> pl.Series:
    """True where the value is a valid CPF or CNPJ (`identity_keys.document_key`), else False."""
    frame = documents.cast(pl.String).to_frame("d")
    valid = frame.select(document_key(pl.col("d")).is_not_null())
    return valid.to_series().alias(documents.name)


def _filled(field: str) -> pl.Expr:
    col = pl.col(field)
    if field == "birth_date":
        return col.is_not_null()
    return col.cast(pl.String).str.strip_chars().fill_null("") != ""


def _validity(frame: pl.LazyFrame) -> pl.LazyFrame:
    """`filled_<field>` for every field of `FIELDS` in `frame`, the identity keys
    (`<field>_key`) and `invalid_<field>` for `VALIDATED`: the checks a source record gets."""
    present = [f for f in FIELDS if f in frame.collect_schema().names()]
    keys = {
        "email_key": email_key(pl.col("email")),
        "phone_key": phone_e164(pl.col("phone")),
        "document_key": document_key(pl.col("document")),
    }
    return (
        frame.with_columns(*(_filled(f).alias(f"filled_{f}") for f in present), **keys)
        .with_columns(
            (pl.col(f"filled_{f}") & pl.col(f"{f}_key").is_null()).alias(f"invalid_{f}")
            for f in VALIDATED
        )
    )  # fmt: skip


def _duplicates(frame: pl.LazyFrame, max_block: int) -> pl.LazyFrame:
    """`duplicate_key` (the first of `DUPLICATE_KEYS` the customer shares with a customer of
    another golden record, null when none), `shared_with` (how many customers outside the
    customer's golden record share that key) and `possible_duplicate`."""
    first = pl.lit(None, pl.String)
    shared = pl.lit(None, pl.UInt32)
    for key in reversed(DUPLICATE_KEYS):
        k = pl.col(f"{key}_key")
        block = pl.len().over(k)
        others = block - pl.len().over(k, "golden_id")
        hit = k.is_not_null() & (block <= max_block) & (others > 0)
        first = pl.when(hit).then(pl.lit(key)).otherwise(first)
        shared = pl.when(hit).then(others.cast(pl.UInt32)).otherwise(shared)
    return frame.with_columns(duplicate_key=first, shared_with=shared).with_columns(
        possible_duplicate=pl.col("duplicate_key").is_not_null()
    )


def customer_checks(
    con: duckdb.DuckDBPyConnection, *, max_block: int = MatchConfig.max_block
) -> pl.DataFrame:
    """One row per non-erased customer with the raw fields and every quality flag.

    Columns: `customer_id, source, is_lead, is_placeholder, created_at`, the `FIELDS`,
    `filled_<field>` (Boolean, per field), `has_consent`, `consent_<channel>`, `has_orders`,
    `golden_id`, `duplicate_key`, `shared_with` and one Boolean per measure of `ALL_MEASURES`
    (True = the customer counts in it). Definitions in the module docstring. Runs lazily so a
    repeated sub-expression (a phone's digits) is computed once.
    """
    raw = query_frame(con, _CHECKS_SQL)
    checks = _duplicates(_validity(raw.lazy()), max_block).with_columns(
        no_consent=~pl.col("has_consent"),
        lead_without_orders=pl.col("is_lead") & ~pl.col("has_orders"),
        placeholder=pl.col("is_placeholder"),
        **{f"no_consent_{c}": ~pl.col(f"consent_{c}") for c in CHANNELS},
    )
    return checks.drop(f"{k}_key" for k in VALIDATED).collect()


def _measure_table(checks: pl.DataFrame, by: str | None) -> pl.DataFrame:
    """Long table of every measure's `customers` and `base`, per `by` group or overall."""
    aggs = [
        *(pl.col(m).sum().alias(f"{m}|customers") for m in ALL_MEASURES),
        *(
            (pl.col(b).sum() if (b := _BASE_OF.get(m)) else pl.len()).alias(f"{m}|base")
            for m in ALL_MEASURES
        ),
    ]
    wide = checks.group_by(by).agg(aggs).sort(by) if by else checks.select(aggs)
    index = [by] if by else []
    long = wide.unpivot(index=index, variable_name="key", value_name="n").with_columns(
        pl.col("key").str.split_exact("|", 1).struct.rename_fields(["measure", "part"])
    )
    long = long.unnest("key").pivot("part", index=[*index, "measure"], values="n")
    order = pl.col("measure").cast(pl.Enum(ALL_MEASURES))
    return long.sort([*index, order]).select(
        *index,
        "measure",
        pl.col("customers", "base").cast(pl.UInt32),
        share=pl.when(pl.col("base") > 0).then(pl.col("customers") / pl.col("base")),
    )


def quality_measures(checks: pl.DataFrame) -> pl.DataFrame:
    """Every measure of `ALL_MEASURES`: `measure`, `customers` (who count in it), `base` (the
    customers it is a share of) and `share` (customers / base, 0–1; null when base is 0)."""
    return _measure_table(checks, None)


def measures_by_source(checks: pl.DataFrame) -> pl.DataFrame:
    """`quality_measures` per source: `source, measure, customers, base, share`."""
    if checks.height == 0:
        schema = {"source": pl.String, "measure": pl.String, "customers": pl.UInt32,
                  "base": pl.UInt32, "share": pl.Float64}  # fmt: skip
        return pl.DataFrame(schema=schema)
    return _measure_table(checks, "source")


def completeness(checks: pl.DataFrame) -> pl.DataFrame:
    """Completeness per source and field: `source` (null = all sources), `field`,
    `customers`, `filled` (UInt32) and `share` (0–1; null for a source without customers)."""
    flags = [pl.col(f"filled_{f}").sum().alias(f) for f in FIELDS]
    per_source = checks.group_by("source").agg(pl.len().alias("customers"), *flags)
    overall = checks.select(
        pl.lit(None, pl.String).alias("source"), pl.len().alias("customers"), *flags
    )
    wide = pl.concat([per_source.sort("source"), overall], how="vertical_relaxed")
    share = pl.when(pl.col("customers") > 0).then(pl.col("filled") / pl.col("customers"))
    return (
        wide.unpivot(index=["source", "customers"], variable_name="field", value_name="filled")
        .with_columns(
            pl.col("customers", "filled").cast(pl.UInt32),
            pl.col("field").cast(pl.Enum(FIELDS)),
        )
        .with_columns(share=share)
        .sort(["source", "field"], nulls_last=True)
        .select("source", "field", "customers", "filled", "share")
    )


def quality_score(checks: pl.DataFrame) -> pl.DataFrame:
    """The quality score and its dimensions (definition in the module docstring):
    `dimension` (`SCORE_DIMENSIONS`, then `overall`) and `score` (0–1; null when undefined,
    e.g. no customers; `overall` averages the defined dimensions)."""
    filled = pl.sum_horizontal(pl.col(f"filled_{f}").sum() for f in FIELDS)
    given = pl.sum_horizontal(pl.col(f"filled_{f}").sum() for f in VALIDATED)
    invalid = pl.sum_horizontal(pl.col(f"invalid_{f}").sum() for f in VALIDATED)
    n = pl.len()
    row = checks.select(
        completeness=pl.when(n > 0).then(filled / (n * len(FIELDS))),
        validity=pl.when(given > 0).then(1 - invalid / given),
        consent=pl.when(n > 0).then(pl.col("has_consent").mean()),
        uniqueness=pl.when(n > 0).then(1 - pl.col("possible_duplicate").mean()),
    ).cast(pl.Float64)
    scores = row.row(0)
    defined = [s for s in scores if s is not None]
    overall = sum(defined) / len(defined) if defined else None
    return pl.DataFrame(
        {"dimension": [*SCORE_DIMENSIONS, "overall"], "score": [*scores, overall]},
        schema={"dimension": pl.String, "score": pl.Float64},
    )


def _flag_of(measure: str) -> tuple[pl.Expr, tuple[str, ...]]:
    """The Boolean column selecting a number's customers, and the columns explaining a row."""
    if measure in ALL_MEASURES:
        return pl.col(measure), _SHOWN_WITH[measure]
    field = measure.removeprefix("missing_")
    if measure.startswith("missing_") and field in FIELDS:
        return ~pl.col(f"filled_{field}"), ()
    allowed = [*ALL_MEASURES, *(f"missing_{f}" for f in FIELDS)]
    raise VinculoError("quality.unknown_measure", name=measure, allowed=", ".join(allowed))


def rows_behind(checks: pl.DataFrame, measure: str, *, source: str | None = None) -> pl.DataFrame:
    """The customers behind one number: a measure of `ALL_MEASURES` or `missing_<field>`
    (field not filled), optionally within one `source`. Columns `customer_id, name, source`
    and the fields that explain the row (e.g. the invalid e-mail), ordered by customer id."""
    flag, shown = _flag_of(measure)
    if source is not None:
        flag = flag & (pl.col("source") == source)
    columns = dict.fromkeys(("customer_id", "name", "source", *shown))
    return checks.filter(flag).select(list(columns)).sort("customer_id")


def quality_rows(
    con: duckdb.DuckDBPyConnection, measure: str, *, source: str | None = None
) -> pl.DataFrame:
    """`rows_behind(customer_checks(con), measure, source=source)`: the rows behind a number."""
    return rows_behind(customer_checks(con), measure, source=source)


_UPLOAD_RECORDS_SQL = f"""
SELECT u.upload_id, u.uploaded_at, u.file_name, u.status, {", ".join(f"r.{f}" for f in FIELDS)}
FROM customer_records r JOIN uploads u ON u.upload_id = r.upload_id
WHERE u.kind = 'customers'
"""


def upload_quality(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Quality of what each customer upload delivered, oldest first: one row per upload with
    `upload_id, uploaded_at, file_name, status` (applied | undone), `records` (its rows in
    `customer_records`), `completeness` (mean share filled over `FIELDS`) and
    `invalid_email`, `invalid_phone`, `invalid_document` (shares of the given values, 0–1;
    null when none given). Same checks as `customer_checks`, applied to the records as the
    file had them (not to the merged customer profile)."""
    raw = query_frame(con, _UPLOAD_RECORDS_SQL)
    checked = _validity(raw.lazy())
    filled = pl.sum_horizontal(pl.col(f"filled_{f}").sum() for f in FIELDS)
    invalid = {
        f"invalid_{f}": pl.when(pl.col(f"filled_{f}").sum() > 0).then(
            pl.col(f"invalid_{f}").sum() / pl.col(f"filled_{f}").sum()
        )
        for f in VALIDATED
    }
    return (
        checked.group_by("upload_id", "uploaded_at", "file_name", "status")
        .agg(records=pl.len(), completeness=filled / (pl.len() * len(FIELDS)), **invalid)
        .with_columns(pl.col("records").cast(pl.UInt32))
        .sort("uploaded_at", "upload_id")
        .collect()
    )

"""Data quality of the customer base (IDIC step 1, Identify): how complete and valid it is.

Every measure is computed over the store's non-erased customers (the golden records in
`customers`), from one frame of per-customer checks (`customer_checks`), so each number and
the rows behind it (`quality_rows`) come from the same definition.

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
  (`crm_core.documents`: length, check digits, not one repeated digit). Share of customers
  with a document.
- **No consent**: the customer has no current granted consent on any channel (current =
  latest row per channel, `crm_core.targeting`). Share of all customers.
- **Lead without orders**: a customer flagged as lead with no order of any status. Share of
  leads.
"""

from __future__ import annotations

import duckdb
import numpy as np
import polars as pl

from crm_core.documents import cnpj_check_digits_array, cpf_check_digits_array
from crm_core.errors import VinculoError
from crm_core.identity_keys import email_key, phone_e164
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
)
_BASE_OF = {
    "invalid_email": "filled_email",
    "invalid_phone": "filled_phone",
    "invalid_document": "filled_document",
    "no_consent": None,
    "lead_without_orders": "is_lead",
}
_SHOWN_WITH = {
    "invalid_email": ("email",),
    "invalid_phone": ("phone",),
    "invalid_document": ("document",),
    "no_consent": ("email", "phone"),
    "lead_without_orders": ("email", "phone", "created_at"),
}

_CHECKS_SQL = f"""
WITH granted AS (
    SELECT DISTINCT customer_id FROM ({CURRENT_CONSENTS_SQL}) WHERE granted),
ordered AS (SELECT DISTINCT customer_id FROM orders)
SELECT cu.customer_id, coalesce(nullif(trim(cu.source), ''), 'unknown') AS source,
    coalesce(cu.is_lead, FALSE) AS is_lead, cu.created_at,
    {", ".join(f"cu.{f}" for f in FIELDS)},
    g.customer_id IS NOT NULL AS has_consent,
    o.customer_id IS NOT NULL AS has_orders
FROM customers cu
LEFT JOIN granted g ON g.customer_id = cu.customer_id
LEFT JOIN ordered o ON o.customer_id = cu.customer_id
WHERE cu.erased_at IS NULL
ORDER BY cu.customer_id
"""


def _digit_matrix(values: pl.Series, width: int) -> np.ndarray:
    """`(n, width)` integer array of n strings of exactly `width` ASCII digits."""
    raw = np.frombuffer("".join(values.to_list()).encode("ascii"), dtype=np.uint8)
    return (raw.astype(np.int64) - 48).reshape(-1, width)


def valid_documents(documents: pl.Series) -> pl.Series:
    """True where the value is a valid CPF or CNPJ (`crm_core.documents`), else False.

    Vectorised: the check digits of every 11- and 14-digit value are computed at once.
    """
    digits = documents.cast(pl.String).str.replace_all(r"\D", "").fill_null("")
    valid = np.zeros(len(digits), dtype=bool)
    repeated = digits.str.contains(r"^(0+|1+|2+|3+|4+|5+|6+|7+|8+|9+)$").to_numpy()
    lengths = digits.str.len_chars().to_numpy()
    for width, check in ((11, cpf_check_digits_array), (14, cnpj_check_digits_array)):
        rows = np.flatnonzero(lengths == width)
        if rows.size:
            matrix = _digit_matrix(digits.gather(rows), width)
            ok = (check(matrix[:, :-2]) == matrix[:, -2:]).all(axis=1)
            valid[rows] = ok
    return pl.Series(documents.name, valid & ~repeated)


def _filled(field: str) -> pl.Expr:
    col = pl.col(field)
    if field == "birth_date":
        return col.is_not_null()
    return col.cast(pl.String).str.strip_chars().fill_null("") != ""


def customer_checks(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """One row per non-erased customer with the raw fields and every quality flag.

    Columns: `customer_id, source, is_lead, created_at`, the `FIELDS`, `filled_<field>`
    (Boolean, per field), `has_consent`, `has_orders` and one Boolean per measure of
    `MEASURES` (True = the customer counts in it). Definitions in the module docstring.
    """
    raw = query_frame(con, _CHECKS_SQL)
    checks = raw.with_columns(_filled(f).alias(f"filled_{f}") for f in FIELDS)
    return checks.with_columns(
        invalid_email=pl.col("filled_email") & email_key(pl.col("email")).is_null(),
        invalid_phone=pl.col("filled_phone") & phone_e164(pl.col("phone")).is_null(),
        invalid_document=pl.col("filled_document") & ~valid_documents(checks["document"]),
        no_consent=~pl.col("has_consent"),
        lead_without_orders=pl.col("is_lead") & ~pl.col("has_orders"),
    )


def completeness(checks: pl.DataFrame) -> pl.DataFrame:
    """Completeness per source and field: `source` (null = all sources), `field`,
    `customers`, `filled` (UInt32) and `share` (0–1; null for a source without customers)."""
    flags = [pl.col(f"filled_{f}").sum().alias(f) for f in FIELDS]
    per_source = checks.group_by("source").agg(pl.len().alias("customers"), *flags)
    overall = checks.select(
        pl.lit(None, pl.String).alias("source"), pl.len().alias("customers"), *flags
    )
    wide = pl.concat([per_source.sort("source"), overall], how="vertical_relaxed")
    return (
        wide.unpivot(index=["source", "customers"], variable_name="field", value_name="filled")
        .with_columns(
            pl.col("customers", "filled").cast(pl.UInt32),
            pl.col("field").cast(pl.Enum(FIELDS)),
        )
        .with_columns(share=pl.col("filled") / pl.col("customers"))
        .sort(["source", "field"], nulls_last=True)
        .select("source", "field", "customers", "filled", "share")
    )


def quality_measures(checks: pl.DataFrame) -> pl.DataFrame:
    """Every measure of `MEASURES`: `measure`, `customers` (who count in it), `base` (the
    customers it is a share of) and `share` (customers / base, 0–1; null when base is 0)."""
    rows = checks.select(
        *(pl.col(m).sum().alias(f"{m}.customers") for m in MEASURES),
        *(
            (pl.len() if base is None else pl.col(base).sum()).alias(f"{m}.base")
            for m, base in _BASE_OF.items()
        ),
    ).row(0, named=True)
    counts = [int(rows[f"{m}.customers"]) for m in MEASURES]
    bases = [int(rows[f"{m}.base"]) for m in MEASURES]
    return pl.DataFrame(
        {"measure": list(MEASURES), "customers": counts, "base": bases},
        schema_overrides={"customers": pl.UInt32, "base": pl.UInt32},
    ).with_columns(share=pl.when(pl.col("base") > 0).then(pl.col("customers") / pl.col("base")))


def rows_behind(checks: pl.DataFrame, measure: str, *, source: str | None = None) -> pl.DataFrame:
    """The customers behind one number: a measure of `MEASURES` or `missing_<field>` (field
    not filled), optionally within one `source`. Columns `customer_id, name, source` and the
    fields that explain the row (e.g. the invalid e-mail), ordered by customer id."""
    if measure in MEASURES:
        flag, shown = pl.col(measure), _SHOWN_WITH[measure]
    elif measure.removeprefix("missing_") in FIELDS:
        flag, shown = ~pl.col(f"filled_{measure.removeprefix('missing_')}"), ()
    else:
        allowed = [*MEASURES, *(f"missing_{f}" for f in FIELDS)]
        raise VinculoError("quality.unknown_measure", name=measure, allowed=", ".join(allowed))
    if source is not None:
        flag = flag & (pl.col("source") == source)
    columns = dict.fromkeys(("customer_id", "name", "source", *shown))
    return checks.filter(flag).select(list(columns)).sort("customer_id")


def quality_rows(
    con: duckdb.DuckDBPyConnection, measure: str, *, source: str | None = None
) -> pl.DataFrame:
    """`rows_behind(customer_checks(con), measure, source=source)`: the rows behind a number."""
    return rows_behind(customer_checks(con), measure, source=source)

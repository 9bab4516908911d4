"""Matching keys for identity resolution: e-mail, phone, document and name, normalised.

Every normaliser is a Polars expression (vectorised over a column) with a
scalar twin for one value (`normalize_email("  Ana@X.com ")` → `"ana@x.com"`).
A value that cannot be a key (an e-mail without `@`, a truncated phone, a CPF
with wrong check digits) normalises to null, so it never matches anything.

Definitions
- **E-mail key**: trimmed, lower case, shape `local@domain.tld` (no spaces, one
  `@`, a dot in the domain). With `gmail=True`, `googlemail.com` becomes
  `gmail.com` and a Gmail local part loses its dots and `+tag` (Gmail delivers
  `a.na+promo@gmail.com` to `ana@gmail.com`).
- **Phone key (E.164, Brazil)**: `+55` + area code (DDD, one of ANATEL's 67) +
  subscriber number: mobiles 9 digits starting with 9, landlines 8 digits
  starting with 2–5. Accepts any punctuation, a `+55`/`55`/`0055` country
  prefix and a trunk `0`. An 8-digit number starting with 6–9 is a mobile
  written before the ninth digit (2012–2016) and gains its leading 9.
  Anything else (wrong length, unknown DDD, a subscriber starting with 0/1) is
  null.
- **Document key**: the 11 (CPF) or 14 (CNPJ) digits of a document whose
  check digits are right and whose digits are not all equal (`documents`).
- **Folded name**: accents removed (NFKD), lower case, punctuation as spaces,
  spaces collapsed. The **core name** also drops particles (`da`, `de`, `do`,
  `das`, `dos`, `e`) and company legal forms (`ltda`, `me`, `eireli`, `sa`,
  `s a`, `epp`, `mei`), the words that differ between two registrations of one
  person or company without telling them apart.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from crm_core.documents import cnpj_check_digits_array, cpf_check_digits_array

DDD_CODES: tuple[int, ...] = (
    *range(11, 20), 21, 22, 24, 27, 28, *range(31, 36), 37, 38, *range(41, 47),
    47, 48, 49, 51, 53, 54, 55, *range(61, 70), 71, 73, 74, 75, 77, 79,
    *range(81, 90), *range(91, 100),
)  # fmt: skip
"""Brazil's 67 area codes (ANATEL numbering plan)."""

NAME_STOPWORDS: tuple[str, ...] = (
    "da", "de", "do", "das", "dos", "e", "ltda", "me", "eireli", "sa", "epp", "mei",
)  # fmt: skip
_EMAIL_SHAPE = r"^[^@\s]+@[^@\s]+\.[^@\s.]+$"


def email_key(col: pl.Expr, *, gmail: bool = False) -> pl.Expr:
    """Normalised e-mail (see the module docstring), null when not e-mail shaped."""
    email = col.str.strip_chars().str.to_lowercase()
    email = pl.when(email.str.contains(_EMAIL_SHAPE)).then(email)
    if not gmail:
        return email
    local = email.str.split("@").list.first()
    domain = email.str.split("@").list.last().replace("googlemail.com", "gmail.com")
    plain = local.str.replace(r"\+.*$", "").str.replace_all(".", "", literal=True)
    return pl.when(domain == "gmail.com").then(plain + "@gmail.com").otherwise(email)


def phone_e164(col: pl.Expr) -> pl.Expr:
    """Brazilian phone in E.164 (`+5511987654321`), null when not a valid number."""
    digits = col.str.replace_all(r"\D", "").str.replace(r"^0+", "")
    national = (
        pl.when(digits.str.len_chars().is_in([12, 13]) & digits.str.starts_with("55"))
        .then(digits.str.slice(2))
        .otherwise(digits)
    )
    known_ddd = national.str.slice(0, 2).cast(pl.Int32, strict=False).is_in(DDD_CODES)
    mobile = known_ddd & national.str.contains(r"^\d{2}9\d{8}$")
    landline = known_ddd & national.str.contains(r"^\d{2}[2-5]\d{7}$")
    old_mobile = known_ddd & national.str.contains(r"^\d{2}[6-9]\d{7}$")
    return (
        pl.when(mobile | landline)
        .then("+55" + national)
        .when(old_mobile)
        .then("+55" + national.str.slice(0, 2) + "9" + national.str.slice(2))
    )


def _valid_documents(digits: pl.Series) -> pl.Series:
    """True where `digits` is a valid CPF (11) or CNPJ (14): check digits via `documents`."""
    valid = np.zeros(len(digits), dtype=bool)
    size = digits.str.len_chars().fill_null(0).to_numpy()
    for length, check_digits in ((11, cpf_check_digits_array), (14, cnpj_check_digits_array)):
        rows = np.flatnonzero(size == length)
        if len(rows) == 0:
            continue
        text = digits.gather(rows).str.join("").item()
        matrix = np.frombuffer(text.encode("ascii"), dtype=np.uint8).reshape(-1, length) - 48
        matrix = matrix.astype(np.int64)
        expected = check_digits(matrix[:, : length - 2])
        right = (matrix[:, length - 2 :] == expected).all(axis=1)
        repeated = (matrix == matrix[:, :1]).all(axis=1)
        valid[rows] = right & ~repeated
    return pl.Series(valid)


def document_key(col: pl.Expr) -> pl.Expr:
    """Digits of a valid CPF or CNPJ, null otherwise (wrong length, check digits, repeats)."""
    digits = col.str.replace_all(r"\D", "")
    valid = digits.map_batches(_valid_documents, return_dtype=pl.Boolean)
    return pl.when(valid).then(digits)


def name_fold(col: pl.Expr) -> pl.Expr:
    """Accent- and case-folded name, punctuation as spaces, spaces collapsed."""
    plain = col.str.normalize("NFKD").str.replace_all(r"\p{Mn}", "").str.to_lowercase()
    spaced = plain.str.replace_all(r"[^a-z0-9]+", " ").str.strip_chars()
    return pl.when(spaced != "").then(spaced)


def name_core(col: pl.Expr) -> pl.Expr:
    """Folded name without particles and legal forms (`"Casa Silva Móveis S.A."` → `"casa
    silva moveis"`)."""
    folded = name_fold(col).str.replace(r"\bs a$", "sa")
    kept = folded.str.split(" ").list.eval(
        pl.element().filter(~pl.element().is_in(list(NAME_STOPWORDS)))
    )
    joined = kept.list.join(" ")
    return pl.when(joined != "").then(joined)


def _one(expr: pl.Expr, value: str | None) -> str | None:
    return pl.select(expr.alias("v")).item() if value is not None else None


def normalize_email(value: str | None, *, gmail: bool = False) -> str | None:
    """Scalar `email_key`."""
    return _one(email_key(pl.lit(value, dtype=pl.String), gmail=gmail), value)


def normalize_phone(value: str | None) -> str | None:
    """Scalar `phone_e164`."""
    return _one(phone_e164(pl.lit(value, dtype=pl.String)), value)


def normalize_document(value: str | None) -> str | None:
    """Scalar `document_key`."""
    return _one(document_key(pl.lit(value, dtype=pl.String)), value)


def normalize_name(value: str | None) -> str | None:
    """Scalar `name_fold`."""
    return _one(name_fold(pl.lit(value, dtype=pl.String)), value)


def identity_keys(customers: pl.DataFrame, *, gmail: bool = False) -> pl.DataFrame:
    """Per customer: `email_key`, `phone_key`, `document_key`, `name_key` (core name),
    `zip_key` (CEP digits, 8) and `city_key` (folded city), from the raw profile columns.

    Runs lazily so that repeated sub-expressions (a phone's digits) are computed once.
    """
    zip_digits = pl.col("zip").str.replace_all(r"\D", "")
    return (
        customers.lazy()
        .select(
            "customer_id",
            email_key=email_key(pl.col("email"), gmail=gmail),
            phone_key=phone_e164(pl.col("phone")),
            document_key=document_key(pl.col("document")),
            name_key=name_core(pl.col("name")),
            zip_key=pl.when(zip_digits.str.len_chars() == 8).then(zip_digits),
            city_key=name_fold(pl.col("city")),
        )
        .collect()
    )

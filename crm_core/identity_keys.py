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

import polars as pl

DDD_CODES: tuple[int, ...] = (
    *range(11, 20), 21, 22, 24, 27, 28, *range(31, 36), 37, 38, *range(41, 47),
    47, 48, 49, 51, 53, 54, 55, *range(61, 70), 71, 73, 74, 75, 77, 79,
    *range(81, 90), *range(91, 100),
)  # fmt: skip
"""Brazil's 67 area codes (ANATEL numbering plan)."""

NAME_STOPWORDS: tuple[str, ...] = (
    "da", "de", "do", "das", "dos", "e", "ltda", "me", "eireli", "sa", "epp", "mei",
)  # fmt: skip
_DDD = "|".join(str(code) for code in DDD_CODES)
_EMAIL_SHAPE = r"^[^@\s]+@[^@\s]+\.[^@\s.]+$"
_CPF_W1 = (10, 9, 8, 7, 6, 5, 4, 3, 2)
_CPF_W2 = (11, 10, 9, 8, 7, 6, 5, 4, 3, 2)
_CNPJ_W1 = (5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)
_CNPJ_W2 = (6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2)


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
    mobile = national.str.contains(rf"^({_DDD})9\d{{8}}$")
    landline = national.str.contains(rf"^({_DDD})[2-5]\d{{7}}$")
    old_mobile = national.str.contains(rf"^({_DDD})[6-9]\d{{7}}$")
    return (
        pl.when(mobile | landline)
        .then("+55" + national)
        .when(old_mobile)
        .then("+55" + national.str.slice(0, 2) + "9" + national.str.slice(2))
    )


def _weighted_sum(digits: pl.Expr, weights: tuple[int, ...]) -> pl.Expr:
    return pl.sum_horizontal(
        digits.str.slice(i, 1).cast(pl.Int32, strict=False) * w for i, w in enumerate(weights)
    )


def _cpf_ok(d: pl.Expr) -> pl.Expr:
    first = (_weighted_sum(d, _CPF_W1) * 10 % 11) % 10
    second = (_weighted_sum(d, _CPF_W2) * 10 % 11) % 10
    return (d.str.len_chars() == 11) & (
        d.str.slice(9, 2) == first.cast(pl.String) + second.cast(pl.String)
    )


def _cnpj_digit(d: pl.Expr, weights: tuple[int, ...]) -> pl.Expr:
    remainder = _weighted_sum(d, weights) % 11
    return pl.when(remainder < 2).then(0).otherwise(11 - remainder).cast(pl.String)


def _cnpj_ok(d: pl.Expr) -> pl.Expr:
    check = _cnpj_digit(d, _CNPJ_W1) + _cnpj_digit(d, _CNPJ_W2)
    return (d.str.len_chars() == 14) & (d.str.slice(12, 2) == check)


def document_key(col: pl.Expr) -> pl.Expr:
    """Digits of a valid CPF or CNPJ, null otherwise (wrong length, check digits, repeats)."""
    d = col.str.replace_all(r"\D", "")
    repeated = d.str.replace_all(r"^0+$|^1+$|^2+$|^3+$|^4+$|^5+$|^6+$|^7+$|^8+$|^9+$", "") == ""
    valid = (_cpf_ok(d) | _cnpj_ok(d)) & ~repeated
    return pl.when(valid.fill_null(False)).then(d)


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
    `zip_key` (CEP digits, 8) and `city_key` (folded city), from the raw profile columns."""
    zip_digits = pl.col("zip").str.replace_all(r"\D", "")
    return customers.select(
        "customer_id",
        email_key=email_key(pl.col("email"), gmail=gmail),
        phone_key=phone_e164(pl.col("phone")),
        document_key=document_key(pl.col("document")),
        name_key=name_core(pl.col("name")),
        zip_key=pl.when(zip_digits.str.len_chars() == 8).then(zip_digits),
        city_key=name_fold(pl.col("city")),
    )

"""Dirty data for the Identify step: duplicate identities and damaged fields.

Duplicates. About `duplicate_share` of customer ids are a second id of an
existing person (at most one per person), recorded exactly in `demo_truth`.
The second record varies from the first the way real second registrations do:
the name without accents, in capitals, or abbreviated (`Maria S. Oliveira`,
`M. Oliveira`; a company without its `Ltda`); the e-mail in other case with
stray spaces (45 %), at another domain (40 %) or missing (15 %); the phone in
another format (80 %) or missing; the same CPF/CNPJ in the other formatting. A record whose name is
abbreviated always keeps its document, so every pair shares either its
document digits or its normalised name (lower case, no accents). A person
with repeat orders opens the second id at one of them; that order and half of
the later ones are placed under the second id. Otherwise the second id is a
registration without orders.

Damage. On the people's own records: 1 % invalid e-mails (no `@`, or a
misspelt domain such as `gmial.com`), 0.8 % truncated phones, and missing
e-mail (2 %), phone (4 %), document (4 % of people), birth date (6 %),
address (3 %), CEPs without the hyphen (10 %).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from crm_core.demo import names
from crm_core.demo.people import ascii_lower, format_documents, format_phones, pick
from crm_core.demo.process import PurchaseHistory


def _null_where(col: str, mask: np.ndarray) -> pl.Expr:
    return pl.when(pl.Series(mask)).then(None).otherwise(pl.col(col)).alias(col)


def soil(people: pl.DataFrame, rng: np.random.Generator) -> pl.DataFrame:
    """The people's records with invalid and missing fields (see the module docstring)."""
    n = people.height
    u = rng.random((8, n))
    typo = pick(names.EMAIL_TYPOS, rng.integers(len(names.EMAIL_TYPOS), size=n), "t")
    email = pl.col("email")
    bad_email = (
        pl.when(pl.Series(u[0] < 0.005))
        .then(email.str.replace("@", ""))
        .when(pl.Series(u[0] < 0.01))
        .then(pl.concat_str(email.str.split("@").list.first(), pl.lit("@"), typo))
        .otherwise(email)
    )
    phone = pl.col("phone")
    return people.with_columns(
        email=bad_email,
        phone=pl.when(pl.Series(u[1] < 0.008))
        .then(phone.str.slice(0, phone.str.len_chars() - 3))
        .otherwise(phone),
        zip=pl.when(pl.Series(u[2] < 0.10))
        .then(pl.col("zip").str.replace("-", ""))
        .otherwise("zip"),
    ).with_columns(
        _null_where("email", u[3] < 0.02),
        _null_where("phone", u[4] < 0.04),
        _null_where("document", (u[5] < 0.04) & ~people["is_company"].to_numpy()),
        _null_where("birth_date", u[6] < 0.06),
        *(_null_where(c, u[7] < 0.03) for c in ("city", "state", "zip")),
    )


def pick_duplicates(
    history: PurchaseHistory,
    acquired: np.ndarray,
    n_dup: int,
    horizon: float,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Choose who gets a second id, when it is created, and which orders move to it.

    Returns `(persons, created, moved)`: the duplicated people, the creation
    time of each second id (local days), and per order whether it belongs to
    the second id.
    """
    n_people = len(acquired)
    persons = np.sort(rng.choice(n_people, size=n_dup, replace=False))
    n_repeat = history.n_repeat[persons]
    k = np.where(n_repeat > 0, 1 + (rng.random(n_dup) * n_repeat).astype(np.int64), 0)
    n_orders = history.n_repeat + (~np.isnan(history.last_order))
    first_order = np.cumsum(n_orders) - n_orders
    opened = history.order_time[np.minimum(first_order[persons] + k, len(history.order_time) - 1)]
    later = acquired[persons] + rng.random(n_dup) * (horizon - acquired[persons])
    created = np.where(k > 0, opened, later)
    switch_rank = np.zeros(n_people, dtype=np.int64)
    switch_rank[persons] = k
    rank, who = history.order_rank, history.order_person
    at = switch_rank[who]
    coin = rng.random(len(rank)) < 0.5
    moved = (at > 0) & (rank >= at) & ((rank == at) | coin)
    return persons, created, moved


def _variant_name(rng: np.random.Generator, n: int, has_document: pl.Series) -> pl.Expr:
    variant = pl.Series(rng.integers(0, 3, size=n))
    variant = pl.when(has_document).then(variant).otherwise(variant % 2)
    words = pl.col("name").str.split(" ")
    initial = words.list.get(1).str.slice(0, 1)
    person_abbrev = (
        pl.when(words.list.len() >= 3)
        .then(
            pl.concat_str(words.list.first(), pl.lit(" "), initial, pl.lit(". "), words.list.last())
        )
        .otherwise(
            pl.concat_str(words.list.first().str.slice(0, 1), pl.lit(". "), words.list.last())
        )
    )
    company_abbrev = words.list.head(words.list.len() - 1).list.join(" ")
    abbrev = pl.when("is_company").then(company_abbrev).otherwise(person_abbrev)
    plain = pl.col("name").str.normalize("NFKD").str.replace_all(r"\p{Mn}", "")
    return (
        pl.when(variant == 0)
        .then(plain)
        .when(variant == 1)
        .then(pl.col("name").str.to_uppercase())
        .otherwise(abbrev)
    )


def _variant_email(people: pl.DataFrame, rng: np.random.Generator, n: int) -> pl.Expr:
    taken = people["email"].drop_nulls().str.to_lowercase()
    variant = pl.Series(rng.choice(3, size=n, p=[0.45, 0.40, 0.15]))  # case, domain, missing
    domain = pick(names.EMAIL_DOMAINS, rng.integers(len(names.EMAIL_DOMAINS), size=n), "d")
    moved = pl.concat_str(pl.col("email").str.split("@").list.first(), pl.lit("@"), domain)
    moved_ok = ~pl.col("is_company") & ~moved.str.to_lowercase().is_in(taken.implode())
    shouted = pl.concat_str(pl.lit(" "), ascii_lower(pl.col("email")).str.to_titlecase())
    return (
        pl.when((variant == 1) & moved_ok)
        .then(moved)
        .when(variant == 2)
        .then(None)
        .otherwise(shouted)
    )


def duplicate_records(people: pl.DataFrame, persons: np.ndarray, rng: np.random.Generator):
    """Second records for `persons`, derived from their (damaged) first records."""
    n = len(persons)
    base = people[persons]
    style = (base["phone_style"].to_numpy() + rng.integers(1, 3, size=n)) % 3
    reformatted = format_documents(base["document_digits"], ~base["document"].str.contains(r"\D"))
    name = _variant_name(rng, n, base["document"].is_not_null())
    return base.with_columns(
        name=name,
        email=_variant_email(people, rng, n),
        phone=pl.when(pl.Series(rng.random(n) < 0.2))
        .then(None)
        .otherwise(format_phones(base["phone_digits"], style)),
        document=pl.when(pl.col("document").is_null()).then(None).otherwise(reformatted),
        acquisition_channel=pick(names.ACQUISITION_CHANNELS, rng.integers(9, size=n), "c"),
        account_manager=pl.lit(None, dtype=pl.String),
        **{
            c: pl.when(pl.Series(rng.random(n) < 0.3)).then(None).otherwise(c)
            for c in ("city", "state", "zip")
        },
    )

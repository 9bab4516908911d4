"""Who the demo's people are: names, e-mails, phones, documents, places.

Every function is vectorised (numpy draws, Polars string expressions) and
returns one row per person, in person order. Identifiers that must not
collide between different people (CPF/CNPJ roots, phone numbers, e-mails) are
made unique by construction: numeric ones through an affine permutation
`(i · P + offset) mod M` (P prime, coprime with M, so distinct i give distinct
values), e-mails by numbering repeats.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from crm_core.demo import names
from crm_core.documents import cnpj_check_digits_array, cpf_check_digits_array

_MULTIPLIER = 2_654_435_761  # prime: coprime with every 2^a·5^b
INVALID_DOCUMENT_SHARE = 0.015


def pick(values: tuple, idx: np.ndarray, name: str) -> pl.Series:
    """`values[idx]` as a Polars series (a gather on a small list)."""
    return pl.Series(name, list(values))[idx]


def _weighted(rng: np.random.Generator, weights: tuple | np.ndarray, n: int) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    return rng.choice(len(w), size=n, p=w / w.sum())


def unique_codes(n: int, modulus: int, rng: np.random.Generator) -> np.ndarray:
    """`n` distinct integers in `[0, modulus)`, scattered (n ≤ modulus)."""
    offset = int(rng.integers(modulus))
    return (np.arange(n, dtype=np.int64) * (_MULTIPLIER % modulus) + offset) % modulus


def ascii_lower(col: pl.Expr) -> pl.Expr:
    """Lower case without accents (`"Conceição"` → `"conceicao"`)."""
    return col.str.normalize("NFKD").str.replace_all(r"\p{Mn}", "").str.to_lowercase()


def person_names(is_company: np.ndarray, rng: np.random.Generator) -> pl.DataFrame:
    """Full names (first + optional middle surname + surname) and company names."""
    n = len(is_company)
    female = rng.random(n) < 0.52
    surname_w = 1.0 / np.arange(1, len(names.SURNAMES) + 1) ** 0.8
    first = pl.Series("f", list(names.FEMALE))[rng.integers(len(names.FEMALE), size=n)]
    first = first.zip_with(
        pl.Series(female), pl.Series(list(names.MALE))[rng.integers(len(names.MALE), size=n)]
    )
    frame = pl.DataFrame(
        {
            "first": first,
            "middle": pick(names.SURNAMES, _weighted(rng, surname_w, n), "middle"),
            "last": pick(names.SURNAMES, _weighted(rng, surname_w, n), "last"),
            "has_middle": rng.random(n) < 0.45,
            "prefix": pick(names.COMPANY_PREFIX, rng.integers(8, size=n), "prefix"),
            "sector": pick(names.COMPANY_SECTOR, rng.integers(12, size=n), "sector"),
            "suffix": pick(names.COMPANY_SUFFIX, rng.integers(6, size=n), "suffix"),
            "is_company": is_company,
            "gender": np.where(female, "F", "M"),
        }
    )
    person = pl.when(pl.col("has_middle"))
    person = person.then(pl.concat_str("first", "middle", "last", separator=" "))
    person = person.otherwise(pl.concat_str("first", "last", separator=" "))
    company = pl.concat_str("prefix", "last", "sector", "suffix", separator=" ").str.strip_chars()
    return frame.select(
        name=pl.when("is_company").then(company).otherwise(person),
        first=ascii_lower(pl.col("first")),
        last=ascii_lower(pl.col("last")),
        slug=ascii_lower(pl.concat_str("last", pl.col("sector").str.split(" ").list.first())),
        gender=pl.when("is_company").then(None).otherwise("gender"),
        is_company="is_company",
    )


def emails(people: pl.DataFrame, birth_year: pl.Series, rng: np.random.Generator) -> pl.Series:
    """E-mails derived from the names: `maria.silva@gmail.com`, `compras@x.com.br`, …

    Unique across people, case-insensitively.
    """
    n = people.height
    f, last = pl.col("first"), pl.col("last")
    pattern = pl.Series(_weighted(rng, (0.35, 0.15, 0.10, 0.15, 0.10, 0.15), n))
    digits = pl.Series(rng.integers(1, 999, size=n)).cast(pl.String)
    local = (
        pl.when(pattern == 0)
        .then(pl.concat_str(f, last, separator="."))
        .when(pattern == 1)
        .then(pl.concat_str(f, last))
        .when(pattern == 2)
        .then(pl.concat_str(f, last, separator="_"))
        .when(pattern == 3)
        .then(pl.concat_str(f, pl.lit("."), last, birth_year.cast(pl.String).str.slice(2)))
        .when(pattern == 4)
        .then(pl.concat_str(f.str.slice(0, 1), last))
        .otherwise(pl.concat_str(f, digits))
    )
    domain = pick(names.EMAIL_DOMAINS, _weighted(rng, names.EMAIL_DOMAIN_WEIGHTS, n), "d")
    mailbox = pick(names.COMPANY_MAILBOX, rng.integers(5, size=n), "m")
    frame = people.with_columns(
        local=pl.when("is_company").then(mailbox).otherwise(local),
        host=pl.when("is_company").then(pl.col("slug").str.replace_all(" ", "")).otherwise(domain),
        tld=pl.when("is_company").then(pl.lit(".com.br")).otherwise(pl.lit("")),
    )
    return _number_repeats(frame).rename("email")


def repeat_rank(values: pl.Series) -> np.ndarray:
    """1 for the first occurrence of each value, 2 for the second, … (by row order)."""
    hashed = values.hash(seed=7).to_numpy()
    order = np.argsort(hashed, kind="stable")
    ordered = hashed[order]
    starts = np.concatenate([[True], ordered[1:] != ordered[:-1]])
    first = np.maximum.accumulate(np.where(starts, np.arange(len(ordered)), 0))
    rank = np.empty(len(values), dtype=np.int64)
    rank[order] = np.arange(len(ordered)) - first + 1
    return rank


def _number_repeats(frame: pl.DataFrame) -> pl.Series:
    """`local@host.tld`, numbering the 2nd, 3rd, … holder of one address.

    People get the number on the local part (`maria.silva2@gmail.com`),
    companies on the domain (`contato@silvamoveis2.com.br`). A numbered address
    can still meet another one (`maria27` + 2 and `maria272`); those rare rows
    get `_<row>` appended, which no other address ends with.
    """
    frame = frame.select("local", "host", "tld", "is_company")
    email = pl.concat_str("local", pl.lit("@"), "host", "tld").alias("email")
    for marker in ("", "_"):
        rank = repeat_rank(frame.select(email).to_series())
        repeat = pl.Series(rank > 1)
        suffix = pl.Series(rank) if not marker else pl.Series(np.arange(len(rank)))
        suffix = pl.lit(marker) + suffix.cast(pl.String)
        frame = frame.with_columns(
            local=pl.when(repeat & ~pl.col("is_company"))
            .then(pl.col("local") + suffix)
            .otherwise("local"),
            host=pl.when(repeat & pl.col("is_company"))
            .then(pl.col("host") + suffix)
            .otherwise("host"),
        )
    return frame.select(email).to_series()


def phone_digits(ddd: np.ndarray, is_company: np.ndarray, rng: np.random.Generator) -> pl.Series:
    """National phone digits `DDNNNNNNNNN`: mobiles `9[6-9]…`, company landlines `[2-5]…`."""
    n = len(ddd)
    code = unique_codes(n, 40_000_000, rng)
    landline = is_company & (rng.random(n) < 0.6)
    number = np.where(landline, 20_000_000 + code, 960_000_000 + code)
    frame = pl.DataFrame({"ddd": ddd, "number": number})
    return frame.select(
        pl.concat_str(pl.col("ddd").cast(pl.String), pl.col("number").cast(pl.String))
    ).to_series()


def format_phones(digits: pl.Series, style: np.ndarray) -> pl.Series:
    """Mixed formats: 0 → `(11) 98765-4321`, 1 → `+55 11 98765-4321`, 2 → `11987654321`."""
    d = pl.col("d")
    local = d.str.slice(2)
    dashed = pl.concat_str(
        local.str.slice(0, local.str.len_chars() - 4), pl.lit("-"), d.str.tail(4)
    )
    frame = pl.DataFrame({"d": digits, "style": style})
    return frame.select(
        pl.when(pl.col("style") == 0)
        .then(pl.concat_str(pl.lit("("), d.str.slice(0, 2), pl.lit(") "), dashed))
        .when(pl.col("style") == 1)
        .then(pl.concat_str(pl.lit("+55 "), d.str.slice(0, 2), pl.lit(" "), dashed))
        .otherwise(d)
        .alias("phone")
    ).to_series()


def _digits(values: np.ndarray, width: int) -> np.ndarray:
    powers = 10 ** np.arange(width - 1, -1, -1, dtype=np.int64)
    return (values[:, None] // powers) % 10


def documents(is_company: np.ndarray, rng: np.random.Generator) -> pl.DataFrame:
    """CPF for people, CNPJ (head office `0001`) for companies; bare digits + validity.

    1.5 % get a wrong second check digit (`document_valid` false).
    """
    n = len(is_company)
    cpf_base = _digits(unique_codes(n, 10**9, rng), 9)
    cpf = np.column_stack([cpf_base, cpf_check_digits_array(cpf_base)])
    root = unique_codes(n, 10**8, rng) * 10_000 + 1
    cnpj_base = _digits(root, 12)
    cnpj = np.column_stack([cnpj_base, cnpj_check_digits_array(cnpj_base)])
    invalid = rng.random(n) < INVALID_DOCUMENT_SHARE
    bump = rng.integers(1, 10, size=n)
    cpf[:, -1] = np.where(invalid, (cpf[:, -1] + bump) % 10, cpf[:, -1])
    cnpj[:, -1] = np.where(invalid, (cnpj[:, -1] + bump) % 10, cnpj[:, -1])
    cpf_num = cpf @ (10 ** np.arange(10, -1, -1, dtype=np.int64))
    cnpj_num = cnpj @ (10 ** np.arange(13, -1, -1, dtype=np.int64))
    frame = pl.DataFrame({"cpf": cpf_num, "cnpj": cnpj_num, "is_company": is_company})
    return frame.select(
        document_digits=pl.when("is_company")
        .then(pl.col("cnpj").cast(pl.String).str.zfill(14))
        .otherwise(pl.col("cpf").cast(pl.String).str.zfill(11)),
        document_valid=pl.Series(~invalid),
    )


def format_documents(digits: pl.Series, formatted: np.ndarray) -> pl.Series:
    """`123.456.789-09` / `12.345.678/0001-95` where `formatted`, bare digits otherwise."""
    d = pl.col("d")
    cpf = pl.concat_str(
        d.str.slice(0, 3), pl.lit("."), d.str.slice(3, 3), pl.lit("."), d.str.slice(6, 3),
        pl.lit("-"), d.str.slice(9, 2),
    )  # fmt: skip
    cnpj = pl.concat_str(
        d.str.slice(0, 2), pl.lit("."), d.str.slice(2, 3), pl.lit("."), d.str.slice(5, 3),
        pl.lit("/"), d.str.slice(8, 4), pl.lit("-"), d.str.slice(12, 2),
    )  # fmt: skip
    shaped = pl.when(d.str.len_chars() == 11).then(cpf).otherwise(cnpj)
    frame = pl.DataFrame({"d": digits, "f": formatted})
    return frame.select(pl.when("f").then(shaped).otherwise(d).alias("document")).to_series()


def places(n: int, rng: np.random.Generator) -> pl.DataFrame:
    """City, state (UF), DDD and a CEP inside the city's range (`01310-100`)."""
    city = _weighted(rng, np.array([c[5] for c in names.CITIES]), n)
    lo = np.array([c[3] for c in names.CITIES])[city]
    hi = np.array([c[4] for c in names.CITIES])[city]
    prefix = lo + (rng.random(n) * (hi - lo + 1)).astype(np.int64)
    suffix = rng.integers(0, 1000, size=n)
    frame = pl.DataFrame({"p": prefix, "s": suffix})
    return pl.DataFrame(
        {
            "city": pick(tuple(c[0] for c in names.CITIES), city, "city"),
            "state": pick(tuple(c[1] for c in names.CITIES), city, "state"),
            "ddd": np.array([c[2] for c in names.CITIES])[city],
            "zip": frame.select(
                pl.concat_str(
                    pl.col("p").cast(pl.String).str.zfill(5),
                    pl.lit("-"),
                    pl.col("s").cast(pl.String).str.zfill(3),
                )
            ).to_series(),
        }
    )


def birth_dates(acquired_day: np.ndarray, start: date, rng: np.random.Generator) -> pl.Series:
    """Birth dates: age at acquisition 18 + Gamma(4, 5) years (mean 38), at most 85."""
    age_days = np.minimum(18 + rng.gamma(4.0, 5.0, size=len(acquired_day)), 85) * 365.25
    epoch_day = (start - date(1970, 1, 1)).days + np.floor(acquired_day) - age_days
    return pl.Series("birth_date", epoch_day.astype(np.int32)).cast(pl.Date)


def acquisition_channels(is_company: np.ndarray, rng: np.random.Generator) -> pl.Series:
    """Channel through which each person was acquired (companies: more referral/events)."""
    n = len(is_company)
    person = _weighted(rng, names.ACQUISITION_WEIGHTS_PERSON, n)
    company = _weighted(rng, names.ACQUISITION_WEIGHTS_COMPANY, n)
    return pick(names.ACQUISITION_CHANNELS, np.where(is_company, company, person), "channel")


def _top(value: np.ndarray, among: np.ndarray, share: float) -> np.ndarray:
    """Members of `among` whose value is in the top `share` of that group."""
    if not among.any():
        return np.zeros(len(value), dtype=bool)
    return among & (value >= np.quantile(value[among], 1 - share))


def account_managers(
    is_company: np.ndarray, value_score: np.ndarray, rng: np.random.Generator
) -> pl.Series:
    """A named manager (dedicated assistance) for the top 40 % of companies and the
    top 1.5 % of people by value (`value_score`: expected spend per day while alive)."""
    managed = _top(value_score, is_company, 0.40) | _top(value_score, ~is_company, 0.015)
    chosen = pick(
        names.ACCOUNT_MANAGERS, rng.integers(len(names.ACCOUNT_MANAGERS), size=len(managed)), "m"
    )
    return chosen.set(pl.Series(~managed), None).alias("account_manager")

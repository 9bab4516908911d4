"""The demo's people and customer records, before they become table rows.

A *person* is a real individual or company; a *record* is a customer id. Each
person has one record, and `duplicate_share` of the records are second ids of
a person (see `dirt`). Records are numbered by creation time, so customer ids
(`C` + 7 digits) grow with registration like a real system's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from crm_core.demo import dirt, people
from crm_core.demo.clock import seasonal_weights
from crm_core.demo.params import DemoParams
from crm_core.demo.process import PurchaseHistory, simulate_purchases


@dataclass
class Population:
    """People, their purchase history and their customer records."""

    acquired: np.ndarray  # acquisition time per person (local days)
    is_company: np.ndarray
    history: PurchaseHistory
    records: pl.DataFrame  # one row per customer id, sorted by creation
    order_record: np.ndarray  # record (row of `records`) of each purchase
    truth: pl.DataFrame  # customer_id, same_person_as


def acquisitions(n: int, params: DemoParams, start: date, rng: np.random.Generator) -> np.ndarray:
    """Sorted acquisition times (local days) on the seasonal, growing curve."""
    weights = seasonal_weights(start, params.history_days, params.acquisition_growth)
    day = rng.choice(params.history_days, size=n, p=weights)
    return np.sort(day + rng.random(n))


def people_frame(
    acquired: np.ndarray,
    is_company: np.ndarray,
    value_score: np.ndarray,
    start: date,
    rng: np.random.Generator,
) -> pl.DataFrame:
    """One clean record per person (plus helper columns `*_digits`, `phone_style`)."""
    n = len(acquired)
    named = people.person_names(is_company, rng)
    birth = people.birth_dates(acquired, start, rng)
    place = people.places(n, rng)
    digits = people.phone_digits(place["ddd"].to_numpy(), is_company, rng)
    style = rng.choice(3, size=n, p=[0.5, 0.25, 0.25])
    docs = people.documents(is_company, rng)
    formatted = rng.random(n) < np.where(is_company, 0.8, 0.7)
    return pl.DataFrame(
        {
            "name": named["name"],
            "email": people.emails(named, birth.dt.year(), rng),
            "phone": people.format_phones(digits, style),
            "phone_digits": digits,
            "phone_style": style,
            "document": people.format_documents(docs["document_digits"], formatted),
            "document_digits": docs["document_digits"],
            "document_valid": docs["document_valid"],
            "birth_date": pl.Series(birth).set(pl.Series(is_company), None),
            "gender": named["gender"],
            "city": place["city"],
            "state": place["state"],
            "zip": place["zip"],
            "country": "BR",
            "acquisition_channel": people.acquisition_channels(is_company, rng),
            "account_manager": people.account_managers(is_company, value_score, rng),
            "is_company": is_company,
        }
    )


def build_population(
    customers: int, params: DemoParams, start: date, rng: np.random.Generator
) -> Population:
    """Draw people, their purchases, their records and the duplicate truth."""
    n_dup = int(round(customers * params.duplicate_share))
    n_people = customers - n_dup
    acquired = acquisitions(n_people, params, start, rng)
    is_company = rng.random(n_people) < params.company_share
    is_buyer = rng.random(n_people) >= params.lead_share
    history = simulate_purchases(acquired, is_buyer, is_company, params, rng)
    value = np.where(is_buyer, history.lam * params.gg_p / history.nu, 0.0)
    clean = people_frame(acquired, is_company, value, start, rng)
    own = dirt.soil(clean, rng)
    persons, dup_created, moved = dirt.pick_duplicates(
        history, acquired, n_dup, params.history_days, rng
    )
    second = dirt.duplicate_records(own, persons, rng)
    stacked = pl.concat(
        [
            own.with_columns(person=pl.int_range(n_people), created=acquired, is_dup=False),
            second.with_columns(person=pl.Series(persons), created=dup_created, is_dup=True),
        ]
    ).with_row_index("stacked")
    records = stacked.sort("created", "is_dup", maintain_order=True).with_row_index("record")
    records = records.with_columns(
        customer_id=pl.concat_str(pl.lit("C"), (pl.col("record") + 1).cast(pl.String).str.zfill(7))
    )
    record_of = np.empty(records.height, dtype=np.int64)
    record_of[records["stacked"].to_numpy()] = records["record"].to_numpy()
    own_record = record_of[:n_people]
    dup_record = np.full(n_people, -1, dtype=np.int64)
    dup_record[persons] = record_of[n_people:]
    person = history.order_person
    order_record = np.where(moved, dup_record[person], own_record[person])
    ids = records["customer_id"]
    truth = pl.DataFrame(
        {"customer_id": ids[record_of[n_people:]], "same_person_as": ids[own_record[persons]]}
    )
    return Population(acquired, is_company, history, records.drop("stacked"), order_record, truth)

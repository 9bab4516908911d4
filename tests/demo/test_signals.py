"""The truths the demo plants: duplicates, churn warnings, satisfaction."""

from __future__ import annotations

import polars as pl

from crm_core.demo.tables import DemoWorld
from crm_core.documents import is_valid_cnpj, is_valid_cpf, only_digits


def _normalised(col: str) -> pl.Expr:
    text = pl.col(col).str.normalize("NFKD").str.replace_all(r"\p{Mn}", "")
    return text.str.to_lowercase().str.strip_chars()


def test_truth_pairs_are_the_same_person(world: DemoWorld) -> None:
    records = world.records.select(
        "customer_id",
        "person",
        "is_dup",
        digits=pl.col("document").str.replace_all(r"\D", ""),
        norm=_normalised("name"),
    )
    pairs = world.population.truth.join(records, on="customer_id").join(
        records, left_on="same_person_as", right_on="customer_id", suffix="_first"
    )
    assert pairs.height == world.population.truth.height == round(20_000 * 0.025)
    assert pairs["is_dup"].all() and not pairs["is_dup_first"].any()
    same_document = pairs["digits"] == pairs["digits_first"]
    same_name = pairs["norm"] == pairs["norm_first"]
    assert (same_document.fill_null(False) | same_name).all()
    assert (pairs["person"] == pairs["person_first"]).all()
    assert pairs["same_person_as"].n_unique() == pairs.height  # one second id per person


def test_people_outside_the_truth_never_share_a_document(world: DemoWorld) -> None:
    records = world.records.filter(pl.col("document").is_not_null()).with_columns(
        digits=pl.col("document").str.replace_all(r"\D", "")
    )
    shared = records.filter(pl.col("digits").is_duplicated())
    truth = world.population.truth
    linked = set(truth["customer_id"]) | set(truth["same_person_as"])
    assert shared.height > 0
    assert set(shared["customer_id"]) <= linked
    assert (shared.group_by("digits").agg(pl.col("person").n_unique())["person"] == 1).all()


def test_documents_mostly_valid_and_valid_where_marked(world: DemoWorld) -> None:
    own = world.records.filter(~pl.col("is_dup") & pl.col("document").is_not_null())
    checks = [
        (is_valid_cnpj(doc) if company else is_valid_cpf(doc)) == marked
        for doc, company, marked in own.select(
            "document", "is_company", "document_valid"
        ).iter_rows()
    ]
    assert all(checks)
    assert 0.97 < own["document_valid"].mean() < 1.0
    assert own["document_digits"].str.len_chars().is_in([11, 14]).all()
    assert all(len(only_digits(d)) in (11, 14) for d in own["document"].head(100))


def test_contacts_look_brazilian(world: DemoWorld) -> None:
    own = world.records.filter(~pl.col("is_dup"))
    phones = own["phone"].drop_nulls()
    formats = {
        "masked": phones.str.contains(r"^\(\d{2}\) \d{4,5}-\d{4}$").mean(),
        "international": phones.str.contains(r"^\+55 \d{2} \d{4,5}-\d{4}$").mean(),
        "bare": phones.str.contains(r"^\d{10,11}$").mean(),
    }
    assert all(share > 0.15 for share in formats.values())
    assert sum(formats.values()) > 0.98  # the rest are the truncated, dirty ones
    emails = own["email"].drop_nulls()
    assert emails.str.contains("@").mean() > 0.98
    assert (~emails.str.contains("@")).sum() > 0
    assert emails.str.contains(r"@(gmial\.com|hotmial\.com|gmail\.con)").sum() > 0
    zips = own.filter(pl.col("state") == "SP")["zip"].drop_nulls().str.replace("-", "")
    assert zips.str.slice(0, 1).is_in(["0", "1"]).all()  # CEPs of São Paulo state


def test_complaints_come_before_dropout(world: DemoWorld) -> None:
    purchases = world.orders.filter(pl.col("rank").is_not_null())
    complaints = world.interactions.filter(pl.col("type") == "complaint")
    dropped = world.records.select("customer_id", dropped=pl.col("dropped_at").is_not_null())
    rates = (
        purchases.group_by("customer_id")
        .agg(orders=pl.len())
        .join(
            complaints.group_by("customer_id").agg(complaints=pl.len()),
            on="customer_id",
            how="left",
        )
        .join(dropped, on="customer_id")
        .group_by("dropped")
        .agg(rate=pl.col("complaints").fill_null(0).sum() / pl.col("orders").sum())
    )
    rate = dict(rates.iter_rows())
    assert rate[True] > 1.5 * rate[False]
    unresolved = (
        complaints.join(dropped, on="customer_id")
        .group_by("dropped")
        .agg(share=(pl.col("outcome") == "unresolved").mean())
    )
    share = dict(unresolved.iter_rows())
    assert share[True] > share[False]


def test_satisfaction_is_lower_among_leavers(world: DemoWorld) -> None:
    dropped = world.records.select("customer_id", dropped=pl.col("dropped_at").is_not_null())
    scores = (
        world.feedback.join(dropped, on="customer_id")
        .group_by("dropped")
        .agg(csat=pl.col("csat").mean(), nps=pl.col("nps").mean())
    )
    by = {row["dropped"]: row for row in scores.iter_rows(named=True)}
    assert by[True]["csat"] < by[False]["csat"]
    assert by[True]["nps"] < by[False]["nps"]
    assert world.feedback["csat"].drop_nulls().is_between(1, 5).all()
    assert world.feedback["nps"].drop_nulls().is_between(0, 10).all()


def test_account_managers_serve_companies_and_top_customers(world: DemoWorld) -> None:
    own = world.records.filter(~pl.col("is_dup"))
    managers = own["account_manager"].drop_nulls()
    assert 8 <= managers.n_unique() <= 12
    companies = own.filter(pl.col("is_company"))
    assert 0.3 < companies["account_manager"].is_not_null().mean() < 0.5
    people = own.filter(~pl.col("is_company"))
    assert 0.005 < people["account_manager"].is_not_null().mean() < 0.03


def test_managed_accounts_are_the_valuable_ones(world: DemoWorld) -> None:
    spend = (
        world.orders.filter(pl.col("rank").is_not_null())
        .group_by("customer_id")
        .agg(spend=pl.col("gross").sum())
    )
    own = world.records.filter(~pl.col("is_dup")).join(spend, on="customer_id", how="left")
    by = own.group_by(managed=pl.col("account_manager").is_not_null()).agg(
        pl.col("spend").fill_null(0).mean()
    )
    mean = dict(by.iter_rows())
    assert mean[True] > 5 * mean[False]

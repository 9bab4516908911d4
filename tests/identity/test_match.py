"""Candidate pairs per rule, near-misses, and automatic clusters with their golden record."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import polars as pl
import pytest

from crm_core.identity_match import MatchConfig, auto_clusters, candidate_pairs, record_ranking
from tests.identity.builders import add_customers, customer

SP, RECIFE = "São Paulo", "Recife"


def _store_rows() -> list[dict]:
    c = customer
    return [
        # true matches, one per rule
        c("C01", "Maria Santos Oliveira", document="529.982.247-25", created_at="2023-01-01"),
        c("C02", "M. Oliveira", document="52998224725"),
        c("C03", "Rodrigo Cardoso", email="rodrigo_cardoso@gmail.com"),
        c("C04", "RODRIGO CARDOSO", email=" Rodrigo_Cardoso@Gmail.Com"),
        c("C05", "Ester Costa", phone="+55 11 98491-0968"),
        c("C06", "Ester Costa", phone="(11) 98491-0968"),
        c("C07", "André Fonseca", city=SP, zip="02564-262"),
        c("C08", "Andre Fonseca", zip="02564262"),
        c("C09", "Paulo Mendes", city=RECIFE),
        c("C10", "Paulo Mendes", city=RECIFE),
        c("C20", "Ester Lopes", document="123.456.789-08"),  # the same mistyped CPF
        c("C21", "ESTER LOPES", document="12345678908"),
        # near-misses
        c("C11", "Paulo Mendes", city="Manaus"),  # same name, other city
        c("C12", "Maria Silva", phone="(21) 3456-7890"),  # a family's shared landline
        c("C13", "João Silva", phone="(21) 3456-7890"),
        c("C14", "Lucas Lima", document="111.444.777-35", email="lucas@x.com"),
        c("C15", "Lucas Lima", document="123.456.789-09", email="lucas@x.com"),  # two CPFs
        c("C16", "Ana Souza", phone="119876543"),  # truncated phone, twice
        c("C17", "Ana Souza", phone="119876543"),
        c("C22", "Rui Gomes", document="000.000.000-00"),  # a placeholder, not a document
        c("C23", "Rui Gomes", document="00000000000"),
        c("C18", "Carla Dias", city=RECIFE, birth_date="1980-01-01"),
        c("C19", "Carla Dias", city=RECIFE, birth_date="1990-05-05"),  # other birth date
    ]


@pytest.fixture
def pairs(con) -> pl.DataFrame:
    add_customers(con, _store_rows())
    return candidate_pairs(con)


def _by_pair(pairs: pl.DataFrame) -> dict[tuple[str, str], tuple[str, float]]:
    return {
        (r["customer_id_a"], r["customer_id_b"]): (r["rule"], r["score"])
        for r in pairs.rows(named=True)
    }


def test_each_rule_finds_its_true_match(pairs) -> None:
    found = _by_pair(pairs)
    # identical core names give name similarity 1, so score = w + (1 - w) * 1 = 1
    assert found[("C01", "C02")] == ("document", 1.0)  # document alone is proof
    assert found[("C03", "C04")] == ("email", 1.0)
    assert found[("C05", "C06")] == ("phone", 1.0)
    assert found[("C07", "C08")] == ("zip", 1.0)
    assert found[("C09", "C10")] == ("city", 0.85)  # capped: a homonym is for review
    assert found[("C20", "C21")] == ("invalid_document", 1.0)


def test_near_misses_are_not_candidates(pairs) -> None:
    found = set(_by_pair(pairs))
    assert ("C09", "C11") not in found and ("C10", "C11") not in found
    assert ("C14", "C15") not in found  # different valid CPFs are different people
    assert ("C16", "C17") not in found  # an invalid phone is no key
    assert ("C18", "C19") not in found  # different birth dates
    assert ("C22", "C23") not in found  # repeated digits are no document
    assert len(found) == 7


def test_shared_family_phone_is_review_not_merge(pairs) -> None:
    rule, score = _by_pair(pairs)[("C12", "C13")]
    assert rule == "phone"
    assert 0.4 < score < MatchConfig().auto_threshold
    clustered = set(auto_clusters(pairs)["customer_id"])
    assert clustered == {"C01", "C02", "C03", "C04", "C05", "C06", "C07", "C08", "C20", "C21"}


def test_exact_only(con) -> None:
    add_customers(con, _store_rows())
    rules = set(candidate_pairs(con, fuzzy=False)["rule"])
    assert rules == {"document", "invalid_document", "email", "phone"}


def test_oversized_block_is_skipped(con) -> None:
    rows = [customer(f"C{i}", "Ana Lima", phone="(11) 98765-4321") for i in range(3)]
    add_customers(con, rows)
    assert candidate_pairs(con, config=MatchConfig(max_block=3)).height == 3
    assert candidate_pairs(con, config=MatchConfig(max_block=2)).height == 0


def test_empty_store(con) -> None:
    pairs = candidate_pairs(con)
    assert pairs.height == 0 and pairs.columns[:4] == [
        "customer_id_a", "customer_id_b", "rule", "score",
    ]  # fmt: skip
    assert auto_clusters(pairs).height == 0


def _pairs(*rows: tuple[str, str, float]) -> pl.DataFrame:
    a, b, s = zip(*rows, strict=True)
    return pl.DataFrame({"customer_id_a": a, "customer_id_b": b, "rule": "x", "score": s})


def test_clusters_are_connected_components_above_threshold() -> None:
    pairs = _pairs(("A", "B", 1.0), ("B", "C", 0.95), ("D", "E", 0.89), ("E", "F", 0.9))
    clusters = auto_clusters(pairs, 0.9)
    assert clusters.rows() == [
        ("A", "A", 3), ("B", "A", 3), ("C", "A", 3), ("E", "E", 2), ("F", "E", 2),
    ]  # fmt: skip


def test_golden_is_oldest_then_most_complete() -> None:
    pairs = _pairs(("A", "B", 1.0), ("B", "C", 1.0), ("X", "Y", 1.0))
    ranking = pl.DataFrame(
        {
            "customer_id": ["A", "B", "C", "X", "Y"],
            "created_at": [datetime(2024, 3, 1), datetime(2024, 1, 1), None,
                           datetime(2024, 1, 1), datetime(2024, 1, 1)],
            "filled": [7, 2, 7, 3, 5],
        }
    )  # fmt: skip
    golden = dict(
        auto_clusters(pairs, 0.9, ranking=ranking).select("customer_id", "golden_id").rows()
    )
    assert golden == {"A": "B", "B": "B", "C": "B", "X": "Y", "Y": "Y"}


def test_record_ranking_counts_filled_fields(con) -> None:
    add_customers(con, [customer("C1", "Ana", email="a@b.com", city=SP, zip="01310-100")])
    assert record_ranking(con).row(0, named=True)["filled"] == 4


def test_clusters_on_many_random_pairs() -> None:
    # 2,000 disjoint pairs of random ids: each is a cluster of two whose golden record
    # (no ranking) is the smaller id; enough rows that a join losing row order shows
    rng = np.random.default_rng(3)
    ids = np.char.add("C", rng.permutation(4_000).astype(str))
    a, b = ids[:2_000], ids[2_000:]
    pairs = pl.DataFrame({"customer_id_a": a, "customer_id_b": b, "score": 1.0})
    golden = dict(auto_clusters(pairs).select("customer_id", "golden_id").rows())
    assert len(golden) == 4_000
    assert all(golden[x] == golden[y] == min(x, y) for x, y in zip(a, b, strict=True))


def test_role_inbox_at_a_public_domain_is_no_key(con) -> None:
    add_customers(
        con,
        [
            customer("C1", "Casa Silva Móveis Ltda", email="contato@gmail.com"),
            customer("C2", "Casa Silva Modas ME", email="Contato@Gmail.com"),
            customer("C3", "Ana Lima", email="ana@gmail.com"),  # gmail.com: 3 customers
            customer("C4", "Grupo Souza Ltda", email="contato@souza.com.br"),
            customer("C5", "GRUPO SOUZA", email="contato@souza.com.br"),  # own domain: 2
        ],
    )
    pairs = candidate_pairs(con, config=MatchConfig(max_block=2))
    assert pairs.select("customer_id_a", "customer_id_b", "rule").rows() == [("C4", "C5", "email")]

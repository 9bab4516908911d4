"""Duplicate rate before/after merging, match counts per rule, scores against a known truth."""

from __future__ import annotations

import polars as pl
import pytest

from crm_core.identity import (
    duplicate_rate,
    duplicate_share,
    evaluate_against_truth,
    match_counts,
    merged_golden,
)
from crm_core.identity_merge import merge, merge_clusters
from tests.identity.builders import add_customers, add_truth, customer

CLUSTERS = pl.DataFrame(
    {"customer_id": ["C1", "C2", "C3", "C4", "C5"], "golden_id": ["C1", "C1", "C1", "C4", "C4"]}
)


@pytest.fixture
def ten(con):
    add_customers(con, [customer(f"C{i}", f"N{i}") for i in range(1, 11)])
    return con


def test_duplicate_rate_before_and_after(ten) -> None:
    # 5 of 10 records sit in detected clusters of 2+ before any merge
    assert duplicate_rate(ten, CLUSTERS) == pytest.approx(5 / 10)
    merge(ten, ["C2"], "C1", "t")
    # golden records: C1(C2), C3, C4, C5, C6..C10 = 9; still duplicated: C1, C3, C4, C5
    assert duplicate_rate(ten, CLUSTERS) == pytest.approx(4 / 9)
    merge_clusters(ten, CLUSTERS, "t")
    assert duplicate_rate(ten, CLUSTERS) == 0.0


def test_duplicate_rate_from_the_store_own_candidates(con) -> None:
    add_customers(
        con,
        [
            customer("C1", "Ana Lima", email="ana@x.com"),
            customer("C2", "ANA LIMA", email=" Ana@X.com"),
            customer("C3", "Bia Reis"),
            customer("C4", "Caio Dias"),
        ],
    )
    assert duplicate_rate(con) == pytest.approx(2 / 4)


def test_match_counts() -> None:
    pairs = pl.DataFrame(
        {
            "customer_id_a": ["A", "B", "C", "D"],
            "customer_id_b": ["Z", "Y", "X", "W"],
            "rule": ["document", "phone", "phone", "city"],
            "score": [1.0, 0.95, 0.84, 0.85],
        }
    )
    counts = {r[0]: r[1:] for r in match_counts(pairs, 0.9).rows()}
    assert counts == {
        "document": (1, 1, 0),
        "invalid_document": (0, 0, 0),
        "email": (0, 0, 0),
        "phone": (2, 1, 1),
        "zip": (0, 0, 0),
        "city": (1, 0, 1),
    }


def test_evaluate_pairs_against_truth(ten) -> None:
    add_truth(ten, [("C2", "C1"), ("C4", "C3"), ("C6", "C5")])
    predicted = pl.DataFrame(
        {"customer_id_a": ["C1", "C3", "C7"], "customer_id_b": ["C2", "C4", "C8"], "score": 1.0}
    )
    # TP = {1-2, 3-4}, FP = {7-8}, FN = {5-6}: P = R = 2/3
    result = evaluate_against_truth(ten, predicted)
    assert result == pytest.approx(
        {"precision": 2 / 3, "recall": 2 / 3, "f1": 2 / 3, "true_pos": 2, "false_pos": 1,
         "false_neg": 1}
    )  # fmt: skip


def test_evaluate_clusters_against_truth(ten) -> None:
    add_truth(ten, [("C2", "C1"), ("C3", "C1")])  # one person, three ids: 3 true pairs
    # predicted clusters {C1, C2, C3} (3 pairs, all true) and {C4, C5} (1 pair, false)
    result = evaluate_against_truth(ten, CLUSTERS)
    assert (result["true_pos"], result["false_pos"], result["false_neg"]) == (3, 1, 0)
    assert result["precision"] == pytest.approx(3 / 4) and result["recall"] == 1.0


def _map(pairs: dict[str, str]) -> pl.DataFrame:
    return pl.DataFrame({"customer_id": list(pairs), "golden_id": list(pairs.values())})


def test_duplicate_share_and_merged_golden_are_pure() -> None:
    # six records, C2 already merged into C1; detected groups {C1, C3} and {C4, C5}
    golden = _map({"C1": "C1", "C2": "C1", "C3": "C3", "C4": "C4", "C5": "C5", "C6": "C6"})
    detected = _map({"C1": "C1", "C3": "C1", "C4": "C4", "C5": "C4"})
    # golden records C1, C3, C4, C5, C6: four of five have a duplicate
    assert duplicate_share(golden, detected) == pytest.approx(4 / 5)
    # merging {C2, C3} joins C3 to C1's record (through C2): C1+C2+C3, C4, C5, C6
    after = merged_golden(golden, _map({"C2": "C2", "C3": "C2"}))
    assert after.height == 6 and after["golden_id"].n_unique() == 4
    assert len(set(after.filter(pl.col("customer_id").is_in(["C1", "C2", "C3"]))["golden_id"])) == 1
    assert duplicate_share(after, detected) == pytest.approx(2 / 4)  # C4 and C5 remain
    assert duplicate_share(golden.head(0), detected) == 0.0
    assert merged_golden(golden, detected.head(0)).equals(golden)

"""The reviewer's side: overview numbers, the queue, merge and "not the same" decisions.

Six records: C1/C2 share a valid CPF (score 1, automatic); C3/C4 are a family sharing a
landline (names differ, score ≈ 0.84: review); C5 and C6 match nobody. C4 is the oldest
record of its pair, so the golden-record rule keeps it.
"""

from __future__ import annotations

import polars as pl
import pytest

from crm_core import store
from crm_core.identity_match import auto_clusters, candidate_pairs, record_ranking
from crm_core.identity_merge import golden_map, merge_clusters
from crm_core.identity_review import (
    has_truth,
    identity_events,
    merge_history,
    merge_pairs,
    pending_clusters,
    reject_pairs,
    rejected_pairs,
    resolution_overview,
    review_queue,
)
from tests.identity.builders import add_customers, add_truth, customer

THRESHOLD, FLOOR = 0.9, 0.5


@pytest.fixture
def six(con):
    c = customer
    add_customers(
        con,
        [
            c("C1", "Ana Lima", document="529.982.247-25", created_at="2023-01-01"),
            c("C2", "Ana Lima", document="52998224725", created_at="2024-01-01"),
            c("C3", "Maria Silva", phone="(21) 3456-7890", created_at="2022-01-01",
              city="Recife"),
            c("C4", "João Silva", phone="(21) 3456-7890", created_at="2021-01-01"),
            c("C5", "Bia Reis"),
            c("C6", "Caio Dias"),
        ],
    )  # fmt: skip
    return con


def _overview(con, threshold: float = THRESHOLD, floor: float = FLOOR) -> dict:
    return resolution_overview(con, candidate_pairs(con), record_ranking(con), threshold, floor)


def _queue(con) -> pl.DataFrame:
    return review_queue(con, candidate_pairs(con), record_ranking(con), THRESHOLD, FLOOR)


def _pair(a: str, b: str, keep: str, score: float = 0.8) -> dict:
    return {"customer_id_a": a, "customer_id_b": b, "keep": keep, "score": score}


def test_overview_before_and_after_the_automatic_merges(six) -> None:
    ov = _overview(six)
    assert ov == pytest.approx({
        "customers": 6, "golden_records": 6, "merged": 0, "candidates": 2, "auto_pairs": 1,
        "review_pairs": 1, "clusters": 1, "links": 1,
        "duplicate_rate": 4 / 6,  # C1, C2, C3, C4
        "duplicate_rate_after": 2 / 5,  # C1+C2 merged: C3 and C4 remain of 5
    })  # fmt: skip
    high_floor = _overview(six, floor=0.9)  # the family pair is below the floor: noise
    assert (high_floor["candidates"], high_floor["review_pairs"]) == (1, 0)
    assert high_floor["duplicate_rate"] == pytest.approx(2 / 6)
    assert high_floor["duplicate_rate_after"] == 0.0
    clusters = auto_clusters(candidate_pairs(six), THRESHOLD, ranking=record_ranking(six))
    merge_clusters(six, clusters, "t")
    after = _overview(six)
    assert (after["golden_records"], after["merged"], after["clusters"], after["links"]) == (
        5, 1, 0, 0,
    )  # fmt: skip
    assert after["duplicate_rate"] == after["duplicate_rate_after"] == pytest.approx(2 / 5)
    assert pending_clusters(clusters, golden_map(six)).height == 0


def test_queue_shows_both_records_and_the_rule_golden(six) -> None:
    queue = _queue(six)
    assert queue.height == 1
    row = queue.row(0, named=True)
    assert (row["customer_id_a"], row["customer_id_b"], row["rule"]) == ("C3", "C4", "phone")
    assert FLOOR <= row["score"] < THRESHOLD
    assert (row["golden_a"], row["golden_b"], row["golden_default"]) == ("C3", "C4", "C4")
    assert (row["name_a"], row["name_b"]) == ("Maria Silva", "João Silva")
    assert row["phone_a"] == row["phone_b"] == "(21) 3456-7890"
    assert (row["city_a"], row["city_b"]) == ("Recife", None)
    assert queue.columns[8:12] == ["name_a", "name_b", "email_a", "email_b"]


def test_a_merged_pair_leaves_the_queue(six) -> None:
    written = merge_pairs(six, pl.DataFrame([_pair("C3", "C4", "C4")]), "ana")
    assert written == 1
    assert dict(golden_map(six).rows())["C3"] == "C4"
    assert _queue(six).height == 0
    link = six.execute("SELECT rule, score, linked_by FROM identity_links").fetchall()
    assert link == [("manual", 0.8, "ana")]


def test_merge_pairs_follows_the_golden_record_of_the_kept_record(six) -> None:
    chosen = pl.DataFrame([_pair("C1", "C2", "C2"), _pair("C2", "C1", "C1"),
                           _pair("C1", "C5", "C1")])  # fmt: skip
    merge_pairs(six, chosen, "ana")
    # C1 → C2; the reversed pair is already one record; keeping C1 means keeping C2 now
    assert {k: v for k, v in golden_map(six).rows() if k != v} == {"C1": "C2", "C5": "C2"}
    actions = six.execute("SELECT action FROM audit_log ORDER BY event_id").fetchall()
    assert actions == [("identity.merge",), ("identity.merge",)]


def test_rejected_pair_is_never_proposed_again(six) -> None:
    version = store.data_version(six)
    assert reject_pairs(six, pl.DataFrame({"customer_id_a": ["C4"], "customer_id_b": ["C3"]}),
                        "ana") == 1  # fmt: skip
    assert reject_pairs(six, pl.DataFrame({"customer_id_a": ["C3"], "customer_id_b": ["C4"]}),
                        "bia") == 0  # fmt: skip
    assert rejected_pairs(six).select("customer_id_a", "customer_id_b", "decided_by").rows() == [
        ("C3", "C4", "ana")
    ]
    pairs = candidate_pairs(six)
    assert pairs.select("customer_id_a", "customer_id_b").rows() == [("C1", "C2")]
    assert _queue(six).height == 0
    assert _overview(six)["duplicate_rate"] == pytest.approx(2 / 6)
    events = identity_events(six)
    assert events.select("actor", "action", "rows").rows() == [
        ("bia", "identity.reject", 0), ("ana", "identity.reject", 1),
    ]  # fmt: skip
    assert store.data_version(six) == version + 2


def test_history_lists_active_golden_records(six) -> None:
    assert merge_history(six).height == 0
    merge_clusters(six, pl.DataFrame({"customer_id": ["C1", "C2"], "golden_id": "C1"}), "t")
    merge_pairs(six, pl.DataFrame([_pair("C3", "C4", "C4")]), "ana")
    history = merge_history(six)
    assert history.select("golden_id", "name", "members", "member_ids", "rules",
                          "linked_by").rows() == [
        ("C4", "João Silva", 2, ["C3"], ["manual"], "ana"),
        ("C1", "Ana Lima", 2, ["C2"], ["auto"], "t"),
    ]  # fmt: skip
    assert identity_events(six, limit=1)["action"].to_list() == ["identity.merge"]


def test_has_truth(six) -> None:
    assert not has_truth(six)
    add_truth(six, [("C2", "C1")])
    assert has_truth(six)

"""Identity resolution on the seeded demo: precision and recall against `demo_truth`.

Thresholds. The demo's e-mails, phones and documents are unique per person by
construction, and the fuzzy rules score below the auto threshold, so an
automatic false merge needs two people to share a normalised key (at a million
customers: 2 company pairs sharing a generic mailbox such as `contato@…`):
we require precision ≥ 0.99. A seeded duplicate is missed only when every key
is lost — no document on record (4 % of people), e-mail moved to another
domain or missing (≈ 55 %) and phone missing or damaged (≈ 24 %): at most
≈ 0.5 % of pairs — or when the names disagree too much for an e-mail/phone
match (an abbreviated name always keeps its document). Measured: 1.0 at
20,000 and 0.998 at 1,000,000 customers. At 5,000 customers (125 pairs)
recall ≥ 0.97 allows three misses where fewer than one is expected.
"""

from __future__ import annotations

from datetime import date

import pytest

from crm_core import store
from crm_core.demo import build_demo
from crm_core.identity import (
    auto_clusters,
    candidate_pairs,
    duplicate_rate,
    evaluate_against_truth,
    merge_clusters,
    record_ranking,
)


@pytest.mark.slow
def test_demo_precision_recall_and_duplicate_rate(db_path) -> None:
    build_demo(db_path, customers=5_000, seed=11, as_of=date(2025, 6, 30))
    with store.connect(db_path) as con:
        pairs = candidate_pairs(con)
        clusters = auto_clusters(pairs, ranking=record_ranking(con))
        result = evaluate_against_truth(con, clusters)
        assert result["precision"] >= 0.99
        assert result["recall"] >= 0.97
        truth_ids = con.execute("SELECT count(*) FROM demo_truth").fetchall()[0][0]
        assert truth_ids == 125  # 2.5 % of 5,000
        before = duplicate_rate(con, clusters)
        assert before == pytest.approx(2 * 125 / 5_000, abs=0.005)
        merge_clusters(con, clusters, "test")
        assert duplicate_rate(con, clusters) == 0.0
        golden = con.execute(
            "SELECT count(DISTINCT coalesce(l.golden_id, c.customer_id)) FROM customers c "
            "LEFT JOIN identity_links l ON l.customer_id = c.customer_id AND l.unlinked_at IS NULL"
        ).fetchall()[0][0]
        assert golden == 5_000 - clusters.height + clusters["golden_id"].n_unique()

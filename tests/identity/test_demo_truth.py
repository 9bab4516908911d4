"""Identity resolution on the seeded demo: precision and recall against `demo_truth`.

Thresholds. The demo's e-mails, phones and documents are unique per person by
construction, and fuzzy rules are capped below the auto threshold, so an
automatic false merge needs two people to share a normalised key: precision
must be (near) 1 — we require 0.99. A seeded duplicate is missed only when
every key is lost: no valid shared document (≈ 6 %: missing or a wrong check
digit), e-mail moved to another domain or missing (≈ 55 %) and phone missing
or damaged (≈ 21 %), i.e. ≈ 0.7 % of pairs; at 5,000 customers (125 pairs)
recall ≥ 0.97 allows three misses where one is expected.
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

"""Identity resolution at scale: candidate pairs, clusters, precision/recall, merge.

    .venv/bin/python bench/identity.py --db COPY.duckdb [--repeat 2] [--merge]

Works on a demo store (it needs `demo_truth`). Prints the time of
`candidate_pairs` (exact keys only, then with the fuzzy rules; best of
`--repeat`, wall clock and process CPU), the match counts per rule, precision
and recall of the automatic clusters and of every pair at or above the auto
threshold against the seeded truth, and the duplicate rate. `--merge` also
applies the clusters (`merge_clusters`, timed) and prints the duplicate rate
after: it WRITES to the store, so point it at a copy. Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import json
import time

import polars as pl

from crm_core import store
from crm_core.identity import (
    MatchConfig,
    auto_clusters,
    candidate_pairs,
    duplicate_rate,
    evaluate_against_truth,
    match_counts,
    merge_clusters,
    record_ranking,
)


def _timed(repeat: int, fn, *args, **kwargs):
    best = None
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        out = fn(*args, **kwargs)
        took = (time.perf_counter() - wall, time.process_time() - cpu)
        best = took if best is None or took[0] < best[0] else best
    return out, {"wall_s": round(best[0], 2), "cpu_s": round(best[1], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--merge", action="store_true")
    args = parser.parse_args()
    figures: dict = {}
    with store.connect(args.db) as con:
        figures["customers"] = store.scalar(con, "SELECT count(*) FROM customers")
        _, figures["pairs_exact"] = _timed(args.repeat, candidate_pairs, con, fuzzy=False)
        pairs, figures["pairs_fuzzy"] = _timed(args.repeat, candidate_pairs, con)
        clusters, figures["clusters"] = _timed(1, auto_clusters, pairs, ranking=record_ranking(con))
        print(match_counts(pairs))
        auto = pairs.filter(pl.col("score") >= MatchConfig().auto_threshold)
        figures["truth_pairs"] = store.scalar(con, "SELECT count(*) FROM demo_truth")
        figures["auto_pairs"] = evaluate_against_truth(con, auto)
        figures["auto_clusters"] = evaluate_against_truth(con, clusters)
        figures["duplicate_rate_before"] = duplicate_rate(con, clusters)
        if args.merge:
            _, figures["merge_clusters"] = _timed(1, merge_clusters, con, clusters, "bench")
            figures["duplicate_rate_after"] = duplicate_rate(con, clusters)
    print(json.dumps(figures, default=str))


if __name__ == "__main__":
    main()

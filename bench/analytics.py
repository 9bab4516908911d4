"""Benchmark of the analytics core at scale: summary, re-segmentation, CLV.

    .venv/bin/python bench/analytics.py --customers 1000000 [--demo] [--db PATH]
                                        [--repeat 3] [--no-clv-reference]

Builds a synthetic store with DuckDB's SQL generators (`range`, `hash`) in a temporary
folder (or uses `crm_core.demo.build_demo` with `--demo`), then prints, in one run:

1. `customer_summary` against a bare DuckDB `GROUP BY customer_id` over `order_facts`
   computing the same aggregates in one pass (mode() for the channel/category mix) —
   the reference is what a hand-written query costs; target ratio ≤ 1.5;
2. re-segmentation of the cached summary after one threshold change (target < 100 ms);
3. the BG/NBD + Gamma-Gamma fit and scoring of all customers via `bench.clv.bench_clv`
   when that exists.

Timings are the best of `--repeat` runs, wall clock, with the process's CPU time (all
threads) alongside: on a shared machine CPU time is the steadier figure. The last line is
one JSON object with every figure (seconds and ratios).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crm_core import store  # noqa: E402
from crm_core.errors import VinculoError  # noqa: E402
from crm_core.segments import (  # noqa: E402
    default_config,
    segment_customers,
)
from crm_core.summary import customer_summary, query_frame  # noqa: E402

AS_OF = date(2025, 12, 31)  # day 1460 after 2022-01-01
K_MAX = 60  # most orders a synthetic customer can place

_CUSTOMERS_SQL = """
INSERT INTO customers (customer_id, name, city, state, acquisition_channel, account_manager,
                       created_at, is_lead, is_placeholder, source)
SELECT 'C' || lpad(i::VARCHAR, 8, '0'),
       'Customer ' || i,
       ['São Paulo', 'Rio de Janeiro', 'Belo Horizonte', 'Curitiba', 'Recife'][1 + h(i, 1, 5)],
       ['SP', 'RJ', 'MG', 'PR', 'PE'][1 + h(i, 1, 5)],
       ['organic', 'paid_search', 'social', 'referral'][1 + h(i, 2, 4)],
       CASE WHEN h(i, 3, 20) = 0 THEN 'manager ' || h(i, 4, 50) END,
       TIMESTAMPTZ '2022-01-01 12:00:00+00' + to_days((h(i, 5, 1400))::INTEGER),
       h(i, 6, 25) = 0,
       FALSE,
       'bench'
FROM range($n) t(i)
"""

# Buy till you die, as BG/NBD assumes: customer c signs up on day d0, then buys about once
# per `gap` days (heterogeneous: 2–82 days) until it drops out after K purchases, K geometric
# with a customer-specific dropout probability p (1 %–16 %); nothing after day 1460 (the
# as-of date). Row i = c·K_MAX + k is the k-th candidate order of customer c.
_ORDERS_SQL = """
INSERT INTO orders (order_id, customer_id, ordered_at, gross_amount, discount_amount,
                    refunded_amount, status, sales_channel, category, items, source)
WITH cand AS (
    SELECT i, i // $k_max AS c, i % $k_max AS k FROM range($n * $k_max) t(i)
), life AS (
    SELECT i, c, h(i, 12, 10000) AS u,
           -- spend: a customer-specific mean (30–430 BRL) times order noise (0.5–1.5)
           ((30 + 400 * uf(c, 20) ^ 2) * (0.5 + uf(i, 15)))::DECIMAL(18, 2) AS gross,
           h(c, 5, 1400) + (k + uf(i, 13)) * (2 + 80 * uf(c, 7) ^ 2) AS day,
           k < 1 + floor(ln(uf(c, 9)) / ln(1 - (0.01 + 0.15 * uf(c, 8)))) AS alive
    FROM cand
    WHERE h(c, 6, 25) <> 0
)
SELECT 'O' || i,
       'C' || lpad(c::VARCHAR, 8, '0'),
       TIMESTAMPTZ '2022-01-01 03:00:00+00' + to_seconds((day * 86400)::BIGINT),
       gross,
       0,
       CASE WHEN u < 300 THEN gross / 2 WHEN u < 500 THEN gross ELSE 0 END,
       CASE WHEN u < 300 THEN 'partially_refunded' WHEN u < 500 THEN 'refunded'
            WHEN u < 800 THEN 'cancelled' WHEN u < 900 THEN 'failed'
            WHEN u < 950 THEN 'pending' ELSE 'completed' END,
       ['site', 'app', 'marketplace', 'store'][1 + h(i, 16, 4)],
       ['books', 'toys', 'garden', 'kitchen', 'sports', 'beauty'][1 + h(i, 17, 6)],
       1 + h(i, 18, 5),
       'bench'
FROM life
WHERE alive AND day < 1460
"""

# The reference: one hand-written GROUP BY with the same aggregates, no reduction per day.
_BARE_SQL = """
SELECT customer_id,
       min(ordered_at::DATE) FILTER (is_purchase), max(ordered_at::DATE) FILTER (is_purchase),
       count(*) FILTER (is_purchase), count(DISTINCT ordered_at::DATE) FILTER (is_purchase),
       sum(net_amount::DOUBLE),
       sum(net_amount::DOUBLE) FILTER (ordered_at::DATE > $recent_start),
       sum(net_amount::DOUBLE) FILTER (ordered_at::DATE > $previous_start
                                       AND ordered_at::DATE <= $recent_start),
       count(*) FILTER (is_purchase AND ordered_at::DATE > $recent_start),
       count(*) FILTER (is_purchase AND ordered_at::DATE > $previous_start
                        AND ordered_at::DATE <= $recent_start),
       count(*) FILTER (refunded_amount > 0), count(*) FILTER (status IN ('cancelled', 'failed')),
       mode(sales_channel) FILTER (is_purchase), mode(category) FILTER (is_purchase),
       count(DISTINCT sales_channel) FILTER (is_purchase),
       count(DISTINCT category) FILTER (is_purchase)
FROM order_facts
WHERE ordered_at::DATE <= $as_of
GROUP BY customer_id
"""

# A floor for context: the cheapest aggregates only (no distinct days, no mode).
_FLOOR_SQL = """
SELECT customer_id, min(ordered_at::DATE), max(ordered_at::DATE), count(*),
       sum(net_amount::DOUBLE)
FROM order_facts
WHERE ordered_at::DATE <= $as_of
GROUP BY customer_id
"""


def build_store(path: Path, customers: int) -> dict[str, float]:
    """Fill a fresh store at `path` with synthetic customers and orders; returns timings."""
    started = time.perf_counter()
    with store.connect(path) as con:
        con.execute("SET enable_progress_bar = false")
        con.execute("CREATE TEMP MACRO h(x, s, m) AS (hash(x, s) % m)::BIGINT")
        con.execute("CREATE TEMP MACRO uf(x, s) AS ((hash(x, s) % 1000000) + 0.5) / 1e6")
        con.execute(_CUSTOMERS_SQL, {"n": customers})
        con.execute(_ORDERS_SQL, {"n": customers, "k_max": K_MAX})
        orders = con.execute("SELECT count(*) FROM orders").fetchone()[0]  # type: ignore[index]
    return {"build_s": time.perf_counter() - started, "orders": float(orders)}


def latest_day(path: Path) -> date:
    """The local date of the latest order (the as-of date for demo data)."""
    with store.connect(path) as con:
        return query_frame(con, "SELECT max(ordered_at::DATE) AS d FROM orders")["d"][0]


def _best_of(fn: Any, repeat: int) -> tuple[float, float, Any]:
    """Best wall-clock and best CPU seconds (all threads of this process) over `repeat` runs."""
    wall, cpu, result = float("inf"), float("inf"), None
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = fn()
        wall = min(wall, time.perf_counter() - started)
        cpu = min(cpu, time.process_time() - started_cpu)
    return wall, cpu, result


def bench_summary(path: Path, repeat: int, as_of: date) -> tuple[dict[str, float], pl.DataFrame]:
    """Time `customer_summary`, the bare GROUP BY and the floor, interleaved so that load
    from other processes hits all three alike; best of `repeat` each."""
    params = {
        "as_of": as_of,
        "recent_start": date.fromordinal(as_of.toordinal() - 180),
        "previous_start": date.fromordinal(as_of.toordinal() - 360),
    }
    queries = {
        "bare": lambda: query_frame(con, _BARE_SQL, params),
        "floor": lambda: query_frame(con, _FLOOR_SQL, {"as_of": as_of}),
        "summary": lambda: customer_summary(con, as_of),
    }
    wall = dict.fromkeys(queries, float("inf"))
    cpu = dict.fromkeys(queries, float("inf"))
    summary = pl.DataFrame()
    with store.connect(path) as con:
        for _ in range(repeat):
            for name, run in queries.items():
                w, c, result = _best_of(run, 1)
                wall[name], cpu[name] = min(wall[name], w), min(cpu[name], c)
                summary = result if name == "summary" else summary
    return {
        "summary_s": wall["summary"],
        "bare_group_by_s": wall["bare"],
        "summary_vs_bare_ratio": wall["summary"] / wall["bare"],
        "summary_cpu_s": cpu["summary"],
        "bare_group_by_cpu_s": cpu["bare"],
        "summary_vs_bare_cpu_ratio": cpu["summary"] / cpu["bare"],
        "floor_group_by_s": wall["floor"],
        "summary_vs_floor_ratio": wall["summary"] / wall["floor"],
    }, summary


def bench_resegment(summary: pl.DataFrame, repeat: int) -> dict[str, float]:
    """Segment once, then time re-segmenting after moving one recency cut point."""
    config = default_config()
    first_s, _, _ = _best_of(lambda: segment_customers(summary, config), 1)
    changed = replace(
        config,
        rfm=replace(
            config.rfm,
            mode="thresholds",
            recency_cuts=(30, 90, 180, 365),
            frequency_cuts=(2, 3, 5, 8),
            monetary_cuts=(200.0, 500.0, 1000.0, 3000.0),
        ),
    )
    moved = replace(changed, rfm=replace(changed.rfm, recency_cuts=(45, 90, 180, 365)))
    _best_of(lambda: segment_customers(summary, changed), 1)
    thresholds_s, thresholds_cpu, _ = _best_of(lambda: segment_customers(summary, moved), repeat)
    quantile_s, quantile_cpu, _ = _best_of(lambda: segment_customers(summary, config), repeat)
    return {
        "segment_first_s": first_s,
        "resegment_thresholds_s": thresholds_s,
        "resegment_thresholds_cpu_s": thresholds_cpu,
        "resegment_quantile_s": quantile_s,
        "resegment_quantile_cpu_s": quantile_cpu,
    }


def clv_inputs(summary: pl.DataFrame) -> pl.DataFrame:
    """BG/NBD + Gamma-Gamma inputs in weeks from the summary (buyers only): frequency =
    repeat_days, recency = (last − first purchase) / 7, T = tenure / 7, monetary = mean
    spend of the repeat purchase days (0 when none) — the `crm_core.clv.inputs` conventions."""
    return summary.filter(pl.col("purchase_days") > 0).select(
        "customer_id",
        frequency=pl.col("repeat_days"),
        recency=(pl.col("last_purchase") - pl.col("first_purchase")).dt.total_days() / 7.0,
        T=pl.col("tenure_days") / 7.0,
        monetary=pl.col("repeat_spend_mean").fill_null(0.0),
    )


def bench_clv_step(summary: pl.DataFrame, with_reference: bool) -> dict[str, float]:
    """Call `bench.clv.bench_clv` (the CLV engineer's benchmark) when it exists."""
    try:
        importlib.import_module("crm_core.clv")
        bench_clv = importlib.import_module("bench.clv").bench_clv
    except (ImportError, AttributeError):
        print("clv: not available yet")
        return {}
    inputs = clv_inputs(summary)
    try:
        figures = dict(bench_clv(inputs, with_reference=with_reference))
    except VinculoError as exc:
        print(f"clv: could not fit on this data: {exc}")
        return {}
    print(
        f"clv: fit BG/NBD + Gamma-Gamma and score {inputs.height} buyers: "
        f"{figures.get('fit_score_s')} s (target < 2 s); pandas/scipy reference: "
        f"{figures.get('reference_s', 'skipped')} s, ratio {figures.get('ratio', '-')}"
    )
    return {f"clv_{k}": float(v) for k, v in figures.items() if _is_number(v)}


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--demo", action="store_true", help="use crm_core.demo.build_demo")
    parser.add_argument("--repeat", type=int, default=3, help="best of n timings")
    parser.add_argument("--db", help="reuse or keep the store at this path")
    parser.add_argument(
        "--no-clv-reference", action="store_true", help="skip the slow pandas/scipy CLV reference"
    )
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.db) if args.db else Path(tmp) / "bench.duckdb"
        figures: dict[str, float] = {"customers": float(args.customers)}
        if args.db and path.exists():
            print(f"store: reusing {path}")
        elif args.demo:
            demo = importlib.import_module("crm_core.demo")
            started = time.perf_counter()
            demo.build_demo(str(path), customers=args.customers, seed=42)
            figures["build_s"] = time.perf_counter() - started
        else:
            figures.update(build_store(path, args.customers))
        print(f"store: {figures.get('build_s', 0):.1f} s to build, {path}")

        as_of = AS_OF if not args.demo else latest_day(path)
        print(f"as of {as_of}")
        timings, summary = bench_summary(path, args.repeat, as_of)
        figures.update(timings)
        figures["summary_rows"] = float(summary.height)
        print(
            f"summary: {timings['summary_s']:.2f} s vs bare GROUP BY "
            f"{timings['bare_group_by_s']:.2f} s -> ratio {timings['summary_vs_bare_ratio']:.2f}"
            f" (target <= 1.5); CPU {timings['summary_cpu_s']:.2f} vs "
            f"{timings['bare_group_by_cpu_s']:.2f} s -> {timings['summary_vs_bare_cpu_ratio']:.2f}"
        )
        print(
            f"         floor (min/max/count/sum only) {timings['floor_group_by_s']:.2f} s -> "
            f"ratio {timings['summary_vs_floor_ratio']:.2f} (context, not the target)"
        )
        reseg = bench_resegment(summary, max(args.repeat, 10))
        figures.update(reseg)
        print(
            f"re-segmentation after one threshold change: "
            f"{reseg['resegment_thresholds_s'] * 1000:.0f} ms (thresholds), "
            f"{reseg['resegment_quantile_s'] * 1000:.0f} ms (quantile) (target < 100 ms); CPU "
            f"{reseg['resegment_thresholds_cpu_s'] * 1000:.0f} / "
            f"{reseg['resegment_quantile_cpu_s'] * 1000:.0f} ms"
        )
        figures.update(bench_clv_step(summary, not args.no_clv_reference))
    print(json.dumps({"bench": "analytics", **figures}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

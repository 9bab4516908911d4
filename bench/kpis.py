"""Time the KPI headline table, trends, breakdowns and cohorts on a large synthetic store.

    .venv/bin/python bench/kpis.py --customers 1000000 [--db PATH] [--rebuild]
        [--lifetime exponential|everyone] [--unordered] [--repeat 5]

Builds the store with DuckDB SQL generators (bench/kpi_store.py) unless it
exists, then times each call (best and median of `--repeat` warm runs, after
one warm-up) for a 30-day period ending on the last order day. Ends with one
line of JSON holding the figures (seconds; `cpu_s` = CPU time of all threads,
which other processes on a shared machine do not inflate).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from kpi_store import build_kpi_store  # noqa: E402

from crm_core import store  # noqa: E402
from crm_core.cohorts import cohort_retention  # noqa: E402
from crm_core.kpis import (  # noqa: E402
    KPIS,
    kpi_breakdown,
    kpi_breakdowns,
    kpi_table,
    kpi_trend,
    kpi_trends,
    last_order_date,
)
from crm_core.period import Period  # noqa: E402


def _time(fn: Callable[[], object], repeat: int) -> dict[str, float]:
    """Wall seconds (best, median) and CPU seconds of all threads (median).

    CPU time does not depend on other processes sharing the machine; on an idle
    machine with `threads` cores the wall time approaches CPU / threads.
    """
    fn()  # warm-up: file pages into DuckDB's buffer
    walls, cpus = [], []
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return {
        "best_s": round(min(walls), 4),
        "median_s": round(statistics.median(walls), 4),
        "cpu_s": round(statistics.median(cpus), 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--orders-per-customer", type=int, default=10)
    parser.add_argument("--db", type=Path, default=Path("/tmp/vinculo_bench/kpis.duckdb"))
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--lifetime", choices=["exponential", "everyone"], default="exponential")
    parser.add_argument("--unordered", action="store_true", help="store rows in random order")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    built = None
    if args.rebuild or not args.db.exists():
        start = time.perf_counter()
        build_kpi_store(
            args.db,
            args.customers,
            args.orders_per_customer,
            ordered=not args.unordered,
            lifetime=args.lifetime,
        )
        built = round(time.perf_counter() - start, 2)

    figures: dict[str, object] = {"customers": args.customers, "build_s": built}
    with store.connect(args.db) as con:
        con.execute("SET enable_progress_bar = false")
        as_of = last_order_date(con)
        assert as_of is not None
        period = Period.ending(as_of, 30)
        orders = con.execute("SELECT count(*) FROM orders").fetchall()[0][0]
        groups = con.sql("SELECT customer_id, acquisition_channel AS group FROM customers").pl()
        two_years = (as_of - timedelta(days=730), as_of)
        table = kpi_table(con, period)
        figures |= {
            "orders": orders,
            "active_customers": int(table.filter(pl.col("kpi") == "active_customers")["value"][0]),
            "kpi_table": _time(lambda: kpi_table(con, period), args.repeat),
        }
        for key in KPIS:
            fn = KPIS[key].function
            figures[f"kpi.{key}"] = _time(lambda fn=fn: fn(con, period), 1)
        figures["trends_24_months_all_kpis"] = _time(
            lambda: kpi_trends(con, list(KPIS), *two_years, "month"), 1
        )
        for key in ("active_customers", "revenue", "retention_rate", "repeat_purchase_rate"):
            figures[f"trend_24_months.{key}"] = _time(
                lambda key=key: kpi_trend(con, key, *two_years, "month"), 1
            )
        figures["trend_104_weeks_active"] = _time(
            lambda: kpi_trend(con, "active_customers", *two_years, "week"), args.repeat
        )
        figures["breakdowns_by_channel_all_kpis"] = _time(
            lambda: kpi_breakdowns(con, list(KPIS), period, groups), 1
        )
        figures["breakdown_by_channel.active_customers"] = _time(
            lambda: kpi_breakdown(con, "active_customers", period, groups), 1
        )
        figures["cohorts_monthly_customers"] = _time(
            lambda: cohort_retention(con, "month", "customers"), args.repeat
        )
    figures["load_average_1min"] = round(os.getloadavg()[0], 2)
    for name, value in figures.items():
        print(f"{name:40} {value}")
    print(json.dumps({"bench": "kpis", **figures}))


if __name__ == "__main__":
    main()

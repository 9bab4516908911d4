"""Benchmark: our validated ingest against a bare DuckDB load of the same CSV.

    python bench/ingest.py --rows 1000000

Builds an orders CSV of N rows in our generic format (DuckDB COPY, no Python
loop), then times, in the same run:
  (a) bare: `CREATE TABLE t AS SELECT * FROM read_csv(file)` into a fresh DuckDB file;
  (b) ours: `crm_core.ingest.ingest_file(file, "orders")` into a fresh store
      (sniff, hash, stage, per-column decisions, validation, one-transaction merge).
With `--repeat K` each side runs K times (fresh database each time) and the
best time counts, which damps noise from other work on a shared machine.
Prints a table, then one line of JSON: {"rows", "bare_s", "ours_s", "ratio"}.
Target: ratio <= 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crm_core import store  # noqa: E402
from crm_core.ingest import ingest_file  # noqa: E402


def build_csv(path: Path, rows: int) -> None:
    """N orders over ~N/10 customers, two years of timestamps, a few statuses."""
    con = duckdb.connect()
    con.execute(f"""COPY (
        SELECT 'O' || i AS order_id,
            'C' || lpad((hash(i) % {max(rows // 10, 1)})::VARCHAR, 7, '0') AS customer_id,
            strftime(TIMESTAMP '2023-01-01' + to_seconds((hash(i * 7) % 63072000)::BIGINT),
                     '%Y-%m-%d %H:%M:%S') AS ordered_at,
            round((hash(i * 13) % 100000) / 100.0 + 5, 2) AS gross_amount,
            round((hash(i * 17) % 500) / 100.0, 2) AS discount_amount,
            (['completed', 'completed', 'completed', 'refunded', 'cancelled'])
                [1 + (hash(i * 19) % 5)::INT] AS status,
            'BRL' AS currency,
            (['web', 'app', 'loja'])[1 + (hash(i * 23) % 3)::INT] AS sales_channel,
            (['casa', 'moda', 'eletronicos', 'beleza'])[1 + (hash(i * 29) % 4)::INT] AS category,
            1 + (hash(i * 31) % 5)::INT AS items
        FROM range({rows}) t(i)
    ) TO '{path}' (HEADER, DELIMITER ',')""")
    con.close()


def time_bare(csv: Path, folder: Path, run: int = 0) -> float:
    started = time.perf_counter()
    con = duckdb.connect(str(folder / f"bare{run}.duckdb"))
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{csv}')")
    con.close()
    return time.perf_counter() - started


def time_ours(csv: Path, folder: Path, run: int = 0) -> tuple[float, dict]:
    db = folder / f"store{run}.duckdb"
    with store.connect(db):
        pass
    started = time.perf_counter()
    stages: dict[str, float] = {}
    report = ingest_file(
        csv, "orders", db=db, progress=lambda f, s: stages.setdefault(s, time.perf_counter())
    )
    elapsed = time.perf_counter() - started
    marks = {s: round(t - started, 2) for s, t in stages.items()}
    return elapsed, {
        "rows_loaded": report.rows_loaded,
        "rows_rejected": report.rows_rejected,
        "stages_s": marks,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1, help="runs per side; best counts")
    parser.add_argument("--dir", help="working folder (default: a temp folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-ingest-", dir=args.dir) as tmp:
        folder = Path(tmp)
        csv = folder / "orders.csv"
        started = time.perf_counter()
        build_csv(csv, args.rows)
        built = time.perf_counter() - started
        bare_runs, ours_runs = [], []
        for run in range(args.repeat):  # interleaved, so both sides see the same load
            bare_runs.append(time_bare(csv, folder, run))
            ours_runs.append(time_ours(csv, folder, run))
            (folder / f"bare{run}.duckdb").unlink()
            (folder / f"store{run}.duckdb").unlink()
        bare = min(bare_runs)
        ours, detail = min(ours_runs, key=lambda pair: pair[0])
        size_mb = csv.stat().st_size / 2**20
    print(f"{'rows':>12} {'file MB':>8} {'build s':>8} {'bare s':>8} {'ours s':>8} {'ratio':>6}")
    print(
        f"{args.rows:>12,} {size_mb:>8.0f} {built:>8.1f} {bare:>8.2f} {ours:>8.2f} "
        f"{ours / bare:>6.2f}"
    )
    print(f"ours: {detail}")
    print(
        json.dumps(
            {
                "rows": args.rows,
                "bare_s": round(bare, 3),
                "ours_s": round(ours, 3),
                "ratio": round(ours / bare, 3),
            }
        )
    )


if __name__ == "__main__":
    main()

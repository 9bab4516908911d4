"""Time each page's server-side run on a large demo store (AppTest, no browser).

    python bench/pages.py --customers 1000000 [--db /tmp/pages1m.duckdb] [--repeat 3]

First the cold start: a new process's first run, the dashboard with empty
caches (customer summary, CLV fit, KPI queries). Then for each page: its first
visit after that (its own caches cold, the shared ones warm) and the median of
`--repeat` reruns after it (what a manager sees when browsing), plus a
threshold change on the lifecycle page (a rule slider moved). AppTest reruns
the whole script even where the browser would rerun only a fragment, so the
threshold figure is an upper bound. Targets (issue 4): under 1 s per page
after the first, under 300 ms for a threshold change. Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from crm_core import sessions, users  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app.py")
PAGES = tuple(sorted(p.stem for p in (ROOT / "pages").glob("*.py")))
"""Every page of the app (one file each)."""


def _app() -> AppTest:
    """A new session of the app, signed in as the bench's admin (a real server-side session)."""
    at = AppTest.from_file(APP, default_timeout=900)
    at.session_state["_auth_token"] = sessions.create("admin")
    return at


def _timed(at: AppTest) -> float:
    began = time.perf_counter()
    at.run(timeout=900)
    elapsed = time.perf_counter() - began
    if at.exception:
        raise RuntimeError([e.value for e in at.exception])
    return elapsed


def cold_start() -> float:
    """The very first run of a new process: the default page (the dashboard) with no cache."""
    at = _app()
    at.query_params["lang"] = "en"
    return _timed(at)


def time_page(page: str, repeat: int) -> dict[str, float]:
    at = _app()
    at.query_params["lang"] = "en"
    at.run(timeout=900)
    at.switch_page(f"pages/{page}.py")
    first = _timed(at)
    reruns = [_timed(at) for _ in range(repeat)]
    return {"first_s": round(first, 3), "rerun_s": round(statistics.median(reruns), 3)}


def time_threshold(repeat: int, page: str, key: str, first: int) -> float:
    """Median whole-script rerun after moving the slider `key` of `page` (days)."""
    at = _app()
    at.query_params["lang"] = "en"
    at.run(timeout=900)
    at.switch_page(f"pages/{page}.py")
    at.run(timeout=900)
    times = []
    for step in range(repeat):
        at.slider(key=key).set_value(first + 10 * step)
        times.append(_timed(at))
    return round(statistics.median(times), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--db", default=None, help="reuse this store if it exists")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    db = Path(args.db or f"/tmp/vinculo_pages_{args.customers}.duckdb")
    build_s = None
    if not db.exists():
        from crm_core.demo import build_demo

        began = time.perf_counter()
        build_demo(db, customers=args.customers, seed=1)
        build_s = round(time.perf_counter() - began, 1)
    os.environ["CRM_DB"] = str(db)
    auth = Path(tempfile.mkdtemp(prefix="vinculo-bench-")) / "auth.yaml"
    os.environ["VINCULO_AUTH_FILE"] = str(auth)
    users.add_user("admin", secrets.token_urlsafe(16), "admin", path=auth)

    cold = round(cold_start(), 3)
    results = {page: time_page(page, args.repeat) for page in PAGES}
    threshold = time_threshold(args.repeat, "lifecycle", "lc_churn_window_days", 150)
    segment_threshold = time_threshold(args.repeat, "differentiate", "diff_churn_window", 200)
    print(f"cold start (dashboard, empty caches): {cold:.3f} s")
    print(f"{'page':<15}{'first visit (s)':>16}{'rerun (s)':>12}")
    for page, figures in results.items():
        print(f"{page:<15}{figures['first_s']:>16.3f}{figures['rerun_s']:>12.3f}")
    print(f"lifecycle threshold change: {threshold:.3f} s (whole-script rerun)")
    print(f"differentiate threshold change: {segment_threshold:.3f} s (whole-script rerun)")
    print(json.dumps({"customers": args.customers, "build_s": build_s, "cold_start_s": cold,
                      "pages": results,
                      "threshold_change_s": threshold,
                      "segment_threshold_change_s": segment_threshold}))  # fmt: skip


if __name__ == "__main__":
    main()

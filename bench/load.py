"""Load bench: N concurrent simulated users against a real Vínculo server.

Each simulated user is a real Streamlit session driven over the app's own
websocket (`/_stcore/stream`) with Streamlit's protobuf messages — what a
browser tab sends, without the browser: it connects, signs in by submitting the
login form's widget values, reads its menu (the pages its role may open) and
then opens pages one after another as fast as the server answers. A page run is
timed from the rerun request to the `script_finished` message (every element of
the page has been sent by then; the browser's drawing is not included). A run
that shows an exception or an error alert, finds no page, or takes longer than
`--timeout` counts as an error.

Before the timed window one session visits every page once (cold caches: the
`cold_s` column); logins are outside the window too. Then `--sessions` users
browse for `--seconds`. Printed: throughput (page runs per second), latency
p50/p95/p99 per page and overall, errors, the server's memory, and one JSON line.

    .venv/bin/python bench/load.py --sessions 20 --seconds 60 --customers 20000
    .venv/bin/python bench/load.py --url http://host:8501 --user admin   # password: stdin

Without `--url` a demo store of `--customers` is built in a temporary folder and
served by `tests/e2e/server.py`'s `start_server` (accounts: one per role, named
after it); users cycle through the four roles.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.Element_pb2 import Element
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState
from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ROLES = ("admin", "manager", "analyst", "marketing")
DEFAULT_PAGES = (
    "overview", "customers", "quality", "lifecycle", "clv", "loyalty",
    "intimacy", "portfolio", "network", "store",
)  # fmt: skip
FINISHED = (ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_WITH_COMPILE_ERROR)


@dataclass
class Run:
    """One page run: how long it took and what went wrong, if anything."""

    page: str
    seconds: float
    error: str | None = None
    elements: list[Element] = field(default_factory=list, repr=False)
    pages: dict[str, str] = field(default_factory=dict, repr=False)  # menu: name -> url path


class Session:
    """One simulated user: a websocket session of the app."""

    def __init__(self, ws: ClientConnection, lang: str, timeout: float) -> None:
        self.ws, self.lang, self.timeout = ws, lang, timeout

    async def run(self, page: str, widgets: list[WidgetState] | None = None) -> Run:
        """Rerun the app on `page` (its URL path; "" = the default page) and time it."""
        msg = BackMsg()
        msg.rerun_script.query_string = f"lang={self.lang}"
        msg.rerun_script.page_name = page
        msg.rerun_script.widget_states.widgets.extend(widgets or [])
        started = time.perf_counter()
        await self.ws.send(msg.SerializeToString())
        run = Run(page, 0.0)
        try:
            await asyncio.wait_for(self._collect(run), self.timeout)
        except TimeoutError:
            run.error = f"no answer in {self.timeout:.0f} s"
        run.seconds = time.perf_counter() - started
        return run

    async def _collect(self, run: Run) -> None:
        while True:
            msg = ForwardMsg()
            msg.ParseFromString(await self.ws.recv())
            kind = msg.WhichOneof("type")
            if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element
                run.elements.append(element)
                run.error = run.error or _problem(element)
            elif kind == "navigation":
                run.pages = {p.page_name: p.url_pathname for p in msg.navigation.app_pages
                             if not p.is_hidden}  # fmt: skip
            elif kind == "page_not_found" and run.page:
                run.error = f"page not found: {run.page}"
            elif kind == "script_finished" and msg.script_finished in FINISHED:
                if msg.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    run.error = run.error or "compile error"
                return

    async def login(self, user: str, password: str) -> Run:
        """Submit the login form with these values; the run after the login's own rerun."""
        form = await self.run("")
        inputs = [e.text_input for e in form.elements if e.WhichOneof("type") == "text_input"]
        submit = [e.button for e in form.elements
                  if e.WhichOneof("type") == "button" and e.button.is_form_submitter]  # fmt: skip
        if len(inputs) < 2 or not submit:
            raise RuntimeError("no login form on the first page")
        widgets = [
            WidgetState(id=inputs[0].id, string_value=user),
            WidgetState(id=inputs[1].id, string_value=password),
            WidgetState(id=submit[0].id, trigger_value=True),
        ]
        signed = await self.run("", widgets)
        if set(signed.pages.values()) <= {"sign-in"}:  # still only the login screen's page
            raise RuntimeError(f"login refused for {user}: {signed.error or 'no menu'}")
        return signed


def _problem(element: Element) -> str | None:
    kind = element.WhichOneof("type")
    if kind == "exception":
        return f"exception: {element.exception.type} {element.exception.message[:200]}"
    if kind == "alert" and element.alert.format == 1:  # ERROR
        return f"error: {element.alert.body[:200]}"
    return None


async def open_session(url: str, lang: str, timeout: float) -> Session:
    ws = await connect(
        url.replace("http", "ws", 1).rstrip("/") + "/_stcore/stream",
        subprotocols=["streamlit"],  # type: ignore[list-item]
        max_size=None,
        compression=None,
        open_timeout=60,
        ping_interval=None,
    )
    return Session(ws, lang, timeout)


def _wanted(path: str, pages: set[str]) -> bool:
    return (path or "overview") in pages


async def user(
    index: int, args: argparse.Namespace, credentials: list[tuple[str, str]],
    ready: asyncio.Barrier, stop_at: list[float], runs: list[Run],
) -> float | None:  # fmt: skip
    """One simulated user: log in, wait for everyone, browse until the deadline.

    Returns the login's seconds (None when the user could not sign in: an error run)."""
    name, password = credentials[index % len(credentials)]
    try:
        session = await open_session(args.url, ("en", "pt_BR")[index % 2], args.timeout)
        started = time.perf_counter()
        signed = await session.login(name, password)
    except (OSError, RuntimeError, TimeoutError) as exc:
        runs.append(Run("login", 0.0, f"{type(exc).__name__}: {exc}"))
        await ready.wait()
        return None
    login_s = time.perf_counter() - started
    menu = [p for p in signed.pages.values() if _wanted(p, args.pages)] or [""]
    await ready.wait()
    step = index
    while time.perf_counter() < stop_at[0]:
        run = await session.run(menu[step % len(menu)])
        step += 1
        if args.think:  # jittered, so the users do not move in lockstep
            await asyncio.sleep(args.think * random.uniform(0.5, 1.5))
        run.page, run.elements = run.page or "overview", []
        if time.perf_counter() <= stop_at[0] or run.error:
            runs.append(run)
    await session.ws.close()
    return login_s


async def warm(args: argparse.Namespace, credentials: list[tuple[str, str]]) -> dict[str, float]:
    """One admin session opens every page once: cold-cache seconds per page."""
    session = await open_session(args.url, "en", args.timeout)
    signed = await session.login(*credentials[0])
    cold = {}
    for path in signed.pages.values():
        if _wanted(path, args.pages):
            run = await session.run(path)
            cold[path or "overview"] = round(run.seconds, 3)
            if run.error:
                print(f"warm-up {path or 'overview'}: {run.error}", file=sys.stderr)
    await session.ws.close()
    return cold


async def bench(args: argparse.Namespace, credentials: list[tuple[str, str]]) -> dict:
    cold = await warm(args, credentials)
    runs: list[Run] = []
    stop_at = [float("inf")]
    ready = asyncio.Barrier(args.sessions + 1)
    tasks = [
        asyncio.create_task(user(i, args, credentials, ready, stop_at, runs))
        for i in range(args.sessions)
    ]
    await ready.wait()
    started, cpu = time.perf_counter(), time.process_time()
    stop_at[0] = started + args.seconds
    logins = [s for s in await asyncio.gather(*tasks) if s is not None]
    result = summarise(runs, args.seconds, cold, logins, args)
    result["client_cpu_s"] = round(time.process_time() - cpu, 1)  # this process, on the same box
    return result


def _percentiles(seconds: list[float]) -> dict[str, float]:
    if not seconds:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None}
    p50, p95, p99 = np.percentile(np.array(seconds) * 1000, [50, 95, 99])
    return {"p50_ms": round(p50, 1), "p95_ms": round(p95, 1), "p99_ms": round(p99, 1)}


def summarise(runs: list[Run], elapsed: float, cold: dict, logins: list[float], args) -> dict:
    """Per page and overall: runs finished in the window, errors, latency percentiles."""
    pages = {}
    for page in sorted({r.page for r in runs}):
        mine = [r for r in runs if r.page == page]
        pages[page] = {
            "runs": len(mine),
            "errors": sum(r.error is not None for r in mine),
            **_percentiles([r.seconds for r in mine if r.error is None]),
            "cold_s": cold.get(page),
        }
    errors = [r.error for r in runs if r.error]
    return {
        "sessions": args.sessions,
        "think_s": args.think,
        "seconds": round(elapsed, 1),
        "customers": args.customers if not args.external else None,
        "runs": len(runs),
        "throughput_runs_per_s": round(len(runs) / elapsed, 2) if elapsed else 0,
        **_percentiles([r.seconds for r in runs if r.error is None]),
        "errors": len(errors),
        "first_errors": sorted(set(errors))[:5],
        "login_p50_s": round(float(np.median(logins)), 2) if logins else None,
        "pages": pages,
    }


def _cell(value: object) -> str:
    return "-" if value is None else str(value)


def report(result: dict, server_rss_mb: float | None) -> None:
    print(f"\n{result['sessions']} sessions for {result['seconds']} s"
          f" on {result['customers'] or 'an external'} customers store")  # fmt: skip
    columns = ("runs", "errors", "p50_ms", "p95_ms", "p99_ms", "cold_s")
    print(f"{'page':<14}" + "".join(f"{c:>9}" for c in columns))
    for page, row in result["pages"].items():
        print(f"{page:<14}" + "".join(f"{_cell(row[c]):>9}" for c in columns))
    print(f"{'all':<14}" + "".join(f"{_cell(result.get(c)):>9}" for c in columns))
    print(f"throughput {result['throughput_runs_per_s']} page runs/s;"
          f" login p50 {result['login_p50_s']} s; server memory {server_rss_mb} MB;"
          f" bench client CPU {result.get('client_cpu_s')} s")  # fmt: skip
    for error in result["first_errors"]:
        print("error:", error)
    for error, count in result.get("server_errors", {}).items():
        print(f"server log ({count}x): {error}")
    print(json.dumps({**result, "server_rss_mb": server_rss_mb}, ensure_ascii=False))


def _drain(server, log: list[str]) -> None:
    """Keep reading the server's output (a full pipe would block it), line by line."""
    for raw in iter(server.stdout.readline, b""):
        log.append(raw.decode(errors="replace").rstrip())


def _errors_in(log: list[str]) -> dict[str, int]:
    """The exceptions the server logged (last line of each traceback), with their counts."""
    found = [line for line in log if re.match(r"^[\w.]*(Error|Exception)\b.*:", line)]
    return {line[:200]: found.count(line) for line in dict.fromkeys(found)}


def _rss_mb(pid: int) -> float | None:
    """Resident memory of the server process tree (the server and its children), in MB."""
    try:
        import subprocess

        out = subprocess.run(["ps", "-o", "rss=", "--ppid", str(pid), "-p", str(pid)],
                             capture_output=True, text=True, check=False).stdout  # fmt: skip
        return round(sum(int(x) for x in out.split()) / 1024, 1)
    except (OSError, ValueError):
        return None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20, help="concurrent users")
    parser.add_argument("--seconds", type=float, default=60, help="length of the timed window")
    parser.add_argument("--customers", type=int, default=4000, help="demo store size")
    parser.add_argument("--url", help="an already running server (default: start one)")
    parser.add_argument("--user", default="admin", help="account for --url (password on stdin)")
    parser.add_argument("--pages", default=",".join(DEFAULT_PAGES),
                        help="URL paths to browse, comma-separated")  # fmt: skip
    parser.add_argument("--timeout", type=float, default=120, help="seconds before a run fails")
    parser.add_argument(
        "--think",
        type=float,
        default=0,
        help="seconds a user waits between pages (default 0: as fast as served)",
    )
    parser.add_argument("--log", help="write the started server's output to this file")
    args = parser.parse_args(argv)
    args.pages = {p.strip() for p in args.pages.split(",") if p.strip()}
    args.external = bool(args.url)
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.external:
        credentials = [(args.user, sys.stdin.readline().rstrip("\n"))]
        report(asyncio.run(bench(args, credentials)), None)
        return
    from crm_core.demo import build_demo
    from tests.e2e.server import E2E_PASSWORDS, free_port, start_server, stop, wait_healthy

    folder = Path(tempfile.mkdtemp(prefix="vinculo-load-"))
    try:
        db = folder / "crm.duckdb"
        build_demo(db, customers=args.customers, seed=7, as_of=date(2026, 6, 30))
        port = free_port()
        server = start_server(db, port)
        log: list[str] = []
        try:
            args.url = f"http://127.0.0.1:{port}"
            wait_healthy(args.url, server)
            threading.Thread(target=_drain, args=(server, log), daemon=True).start()
            credentials = [(role, E2E_PASSWORDS[role]) for role in ROLES]
            result = asyncio.run(bench(args, credentials))
            rss = _rss_mb(server.pid)
        finally:
            stop(server)
        if args.log:
            Path(args.log).write_text("\n".join(log) + "\n", encoding="utf-8")
        report({**result, "server_errors": _errors_in(log)}, rss)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

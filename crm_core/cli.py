"""The command line: `python -m crm_core SUBCOMMAND …`.

Subcommand names and their JSON output are a contract other tools rely on.
Every subcommand takes `--db PATH` (default `$CRM_DB` or `data/crm.duckdb`)
and `--lang pt_BR|en` for messages; those that print results take `--json`.
Exit codes: 0 done, 2 refused (bad input, nothing changed), 3 store busy.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from crm_core import store, users
from crm_core.errors import StoreBusyError, VinculoError
from crm_core.i18n import translate

Handler = Callable[[argparse.Namespace], int]
EXIT_OK, EXIT_REFUSED, EXIT_BUSY = 0, 2, 3


def _print(args: argparse.Namespace, payload: Any, text: str | None = None) -> None:
    if getattr(args, "json", False) or text is None:
        print(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
    else:
        print(text)


def cmd_init(args: argparse.Namespace) -> int:
    with store.connect(args.db) as con:
        version = store.schema_version(con)
    password = users.ensure_admin()
    if password:  # first run: the only time this password is ever shown
        with store.connect(args.db) as con, store.transaction(con):
            store.audit(con, args.actor, "users.added", target="admin", detail={"role": "admin"})
        path = str(users.auth_path())
        print(translate("users.first_admin", args.lang, password=password, path=path),
              file=sys.stderr, flush=True)  # fmt: skip
    _print(
        args,
        {"db": str(store.db_path(args.db)), "schema_version": version},
        f"store ready: {store.db_path(args.db)} (schema v{version})",
    )
    return EXIT_OK


def cmd_summary(args: argparse.Namespace) -> int:
    with store.connect(args.db) as con:
        summary = store.store_summary(con)
    _print(args, summary)
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from crm_core import demo

    if args.if_empty:
        with store.connect(args.db) as con:
            if not store.is_empty(con):
                _print(args, {"skipped": "store not empty"}, "store not empty: demo skipped")
                return EXIT_OK
    result = demo.build_demo(args.db, customers=args.customers, seed=args.seed)
    _print(args, result)
    return EXIT_OK


def _parse_mapping(pairs: Sequence[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for pair in pairs:
        source, sep, target = pair.partition("=")
        if not sep or not source or not target:
            raise VinculoError("cli.bad_map", value=pair)
        mapping[source] = target
    return mapping


def cmd_ingest(args: argparse.Namespace) -> int:
    from crm_core.ingest import ingest_file

    report = ingest_file(
        args.file,
        args.kind,
        db=args.db,
        mapping=_parse_mapping(args.map or []),
        profile=args.profile,
        actor=args.actor,
        lang=args.lang,
    )
    _print(args, report.to_dict())
    return EXIT_OK


def cmd_undo(args: argparse.Namespace) -> int:
    from crm_core.ingest import undo_upload

    result = undo_upload(args.upload_id, db=args.db, actor=args.actor)
    _print(args, result)
    return EXIT_OK


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from exc


def cmd_clv(args: argparse.Namespace) -> int:
    from crm_core.clv import clv_cli_payload

    payload = clv_cli_payload(
        args.db,
        calibration_end=args.calibration_end,
        holdout_end=args.holdout_end,
        time_unit=args.time_unit,
        horizon=args.horizon,
        discount_rate=args.discount_rate,
    )
    _print(args, payload)
    return EXIT_OK


def cmd_kpis(args: argparse.Namespace) -> int:
    from crm_core.kpis import kpis_cli_payload

    _print(args, kpis_cli_payload(args.db, args.as_of, period_days=args.period_days))
    return EXIT_OK


def cmd_segments(args: argparse.Namespace) -> int:
    from crm_core.segments import segments_cli_payload

    _print(args, segments_cli_payload(args.db, args.config, args.as_of))
    return EXIT_OK


def cmd_identity(args: argparse.Namespace) -> int:
    from crm_core import identity

    with store.connect(args.db) as con:
        pairs = identity.candidate_pairs(con)
        clusters = identity.auto_clusters(
            pairs, args.threshold, ranking=identity.record_ranking(con)
        )
        payload: dict[str, Any] = {
            "candidate_pairs": pairs.height,
            "threshold": args.threshold,
            "match_counts": identity.match_counts(pairs, args.threshold).to_dicts(),
            "clusters": int(clusters["golden_id"].n_unique()) if clusters.height else 0,
            "duplicate_rate_before": identity.duplicate_rate(con, clusters),
        }
        if store.scalar(con, "SELECT count(*) FROM demo_truth"):
            payload["against_demo_truth"] = identity.evaluate_against_truth(con, clusters)
        if args.merge:
            payload["links_written"] = identity.merge_clusters(con, clusters, args.actor)
            payload["duplicate_rate_after"] = identity.duplicate_rate(con, clusters)
    _print(args, payload)
    return EXIT_OK


def _read_password(confirm: bool) -> str:
    """The new password: typed twice without echo on a terminal, else one line of stdin."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if confirm and getpass.getpass("Password (again): ") != first:
        raise VinculoError("users.password_mismatch")
    return first


def cmd_users(args: argparse.Namespace) -> int:
    """Manage app accounts (`users add|remove|passwd|unlock|list`); changes are audited."""
    if args.users_command == "list":
        rows = [
            {"user": u.username, "name": u.name, "email": u.email, "role": u.role,
             "locked": u.is_locked(), "locked_until": u.locked_until,
             "failed_attempts": u.failed_attempts}
            for u in users.list_users()
        ]  # fmt: skip
        text = "\n".join(
            f"{r['user']:<20} {r['role']:<10} {'LOCKED' if r['locked'] else ''}" for r in rows
        )
        _print(args, rows, text)
        return EXIT_OK
    name = args.name
    if args.users_command == "add":
        password = _read_password(confirm=True)
        action, change = "users.added", lambda: users.add_user(
            name, password, args.role, name=args.full_name, email=args.email)  # fmt: skip
    elif args.users_command == "passwd":
        password = _read_password(confirm=True)
        action, change = "users.password_changed", lambda: users.set_password(name, password)
    elif args.users_command == "remove":
        action, change = "users.removed", lambda: users.remove_user(name)
    else:
        action, change = "users.unlocked", lambda: users.unlock(name)
    with store.connect(args.db) as con, store.transaction(con):
        store.audit(con, args.actor, action, target=name, detail={"role": args.role})
        change()
    message = translate(action, args.lang, user=name, role=args.role)
    _print(args, {"user": name, "done": action}, message)
    return EXIT_OK


def _add_users(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    parser = sub.add_parser("users", help="manage app accounts (password read from stdin)")
    verbs = parser.add_subparsers(dest="users_command", required=True)
    add = verbs.add_parser("add", parents=[common], help="create an account")
    add.add_argument("--role", required=True, choices=users.ROLES)
    add.add_argument("--email")
    add.add_argument("--full-name", help="name shown in the app (default: the user name)")
    for verb, text in (("remove", "delete an account and revoke its sessions"),
                       ("passwd", "change a password (revokes the account's sessions)"),
                       ("unlock", "lift a lockout after failed logins")):  # fmt: skip
        verbs.add_parser(verb, parents=[common], help=text).set_defaults(role=None)
    verbs.add_parser("list", parents=[common], help="list accounts and lockouts")
    for verb_parser in verbs.choices.values():
        if verb_parser.prog.split()[-1] != "list":
            verb_parser.add_argument("name", help="user name")
    parser.set_defaults(handler=cmd_users)


def _add_analytics(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    clv = sub.add_parser("clv", parents=[common], help="fit BG/NBD + Gamma-Gamma, score customers")
    clv.add_argument("--calibration-end", type=_date, help="end of the calibration period")
    clv.add_argument("--holdout-end", type=_date, help="end of the holdout check period")
    clv.add_argument("--time-unit", choices=["day", "week"], default="week")
    clv.add_argument("--horizon", type=int, default=12, help="CLV horizon in months")
    clv.add_argument("--discount-rate", type=float, default=0.01, help="per month, 0-1")
    clv.set_defaults(handler=cmd_clv)

    kpis = sub.add_parser("kpis", parents=[common], help="headline KPIs at a date")
    kpis.add_argument("--as-of", type=_date, help="end of the period (default: last order)")
    kpis.add_argument("--period-days", type=int, default=30)
    kpis.set_defaults(handler=cmd_kpis)

    seg = sub.add_parser("segments", parents=[common], help="RFM segments and value tiers")
    seg.add_argument("--config", help="segment configuration JSON file (default: latest saved)")
    seg.add_argument("--as-of", type=_date, help="as-of date (default: last order)")
    seg.set_defaults(handler=cmd_segments)

    ident = sub.add_parser("identity", parents=[common], help="match duplicate customers")
    ident.add_argument("--threshold", type=float, default=0.9, help="auto-merge score, 0-1")
    ident.add_argument("--merge", action="store_true", help="merge the automatic clusters")
    ident.set_defaults(handler=cmd_identity)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", help="store file (default $CRM_DB or data/crm.duckdb)")
    common.add_argument("--json", action="store_true", help="print results as JSON")
    common.add_argument("--lang", default="en", choices=["en", "pt_BR"], help="message language")
    common.add_argument("--actor", default="cli", help="who to record in the audit log")

    parser = argparse.ArgumentParser(prog="python -m crm_core", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("init", parents=[common], help="create or migrate the store").set_defaults(
        handler=cmd_init
    )
    sub.add_parser("summary", parents=[common], help="row counts per table").set_defaults(
        handler=cmd_summary
    )

    demo = sub.add_parser("demo", parents=[common], help="fill the store with demo data")
    demo.add_argument("--customers", type=int, default=20_000)
    demo.add_argument("--seed", type=int, default=42)
    demo.add_argument("--if-empty", action="store_true", help="only when the store is empty")
    demo.set_defaults(handler=cmd_demo)

    ingest = sub.add_parser("ingest", parents=[common], help="load a CSV/XLSX export")
    ingest.add_argument("kind", choices=["customers", "orders", "interactions", "feedback"])
    ingest.add_argument("file")
    ingest.add_argument("--map", action="append", metavar="SRC=DST", help="map a source column")
    ingest.add_argument("--profile", help="force an import profile (default: detect)")
    ingest.set_defaults(handler=cmd_ingest)

    undo = sub.add_parser("undo", parents=[common], help="undo a whole upload")
    undo.add_argument("upload_id", type=int)
    undo.set_defaults(handler=cmd_undo)

    _add_analytics(sub, common)
    _add_users(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code."""
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    try:
        return handler(args)
    except StoreBusyError as exc:
        print(exc.message(args.lang), file=sys.stderr)
        return EXIT_BUSY
    except VinculoError as exc:
        payload = {"error": exc.key, "message": exc.message(args.lang), **exc.params}
        print(json.dumps(payload, ensure_ascii=False, default=str), file=sys.stderr)
        if args.json:
            print(json.dumps(payload, ensure_ascii=False, default=str))
        return EXIT_REFUSED

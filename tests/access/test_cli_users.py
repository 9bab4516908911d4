"""`python -m crm_core users …` and the first run's admin: passwords from stdin, audited."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from crm_core import sessions, store, users

ROOT = Path(__file__).resolve().parents[2]


def _cli(auth: Path, db: Path, *argv: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VINCULO_AUTH_FILE": str(auth)}
    return subprocess.run(
        [sys.executable, "-m", "crm_core", *argv, "--db", str(db)],
        input=stdin, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120,
    )  # fmt: skip


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    return tmp_path / "conf" / "auth.yaml", tmp_path / "crm.duckdb"


def test_init_creates_the_admin_once_and_prints_its_password_once(files) -> None:
    auth, db = files
    first = _cli(auth, db, "init")
    assert first.returncode == 0, first.stderr
    match = re.search(r"Password: (\S+)", first.stderr)
    assert match and match.group(1) not in first.stdout  # on the console's error stream only
    assert sessions.authenticate("admin", match.group(1), path=auth).outcome == "ok"
    second = _cli(auth, db, "init")
    assert second.returncode == 0 and "Password" not in second.stderr + second.stdout


def test_users_commands(files) -> None:
    auth, db = files
    added = _cli(auth, db, "users", "add", "ana", "--role", "analyst", "--email", "a@b.br",
                 stdin="the-password-1\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert sessions.authenticate("ana", "the-password-1", path=auth).outcome == "ok"
    listed = json.loads(_cli(auth, db, "users", "list", "--json").stdout)
    assert [(u["user"], u["role"], u["email"], u["locked"]) for u in listed] == [
        ("ana", "analyst", "a@b.br", False)
    ]
    assert "password" not in json.dumps(listed) and "$2b$" not in json.dumps(listed)

    assert _cli(auth, db, "users", "passwd", "ana", stdin="new-password-2\n").returncode == 0
    assert sessions.authenticate("ana", "new-password-2", path=auth).outcome == "ok"
    for _ in range(5):
        sessions.authenticate("ana", "wrong-password", path=auth)
    assert users.get_user("ana", path=auth).is_locked()
    assert "LOCKED" in _cli(auth, db, "users", "list").stdout
    assert _cli(auth, db, "users", "unlock", "ana").returncode == 0
    assert not users.get_user("ana", path=auth).is_locked()
    assert _cli(auth, db, "users", "remove", "ana").returncode == 0
    assert users.get_user("ana", path=auth) is None

    with store.connect(db) as con:
        log = con.execute("SELECT actor, action, target FROM audit_log ORDER BY event_id")
        assert log.fetchall() == [
            ("cli", "users.added", "ana"),
            ("cli", "users.password_changed", "ana"),
            ("cli", "users.unlocked", "ana"),
            ("cli", "users.removed", "ana"),
        ]


def test_refusals_exit_2_and_change_nothing(files) -> None:
    auth, db = files
    weak = _cli(auth, db, "users", "add", "bob", "--role", "manager", stdin="short\n")
    assert weak.returncode == 2 and "at least 8" in weak.stderr
    bad = _cli(auth, db, "users", "add", "bob", "--role", "owner", stdin="long-enough-1\n")
    assert bad.returncode == 2  # argparse: not one of the roles
    unknown = _cli(auth, db, "users", "remove", "nobody", "--lang", "pt_BR")
    assert unknown.returncode == 2 and "Não existe" in unknown.stderr
    assert users.list_users(path=auth) == []
    with store.connect(db) as con:
        assert store.scalar(con, "SELECT count(*) FROM audit_log") == 0  # rolled back


def test_the_password_is_never_an_argument() -> None:
    from crm_core.cli import build_parser

    parser = build_parser()
    for verb in ("add", "passwd"):
        argv = ["users", verb, "ana", "--password", "x"] + (
            ["--role", "admin"] if verb == "add" else []
        )
        with pytest.raises(SystemExit):
            parser.parse_args(argv)


def test_an_app_user_as_cli_actor_is_held_to_their_role(files) -> None:
    auth, db = files
    users.add_user("mika", "long-enough-1", "marketing", path=auth)
    refused = _cli(auth, db, "users", "unlock", "mika", "--actor", "mika")
    assert refused.returncode == 2 and "access.denied" in refused.stderr

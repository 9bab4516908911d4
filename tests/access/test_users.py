"""Accounts file: creation, per-installation cookie key, atomic locked writes, account rules."""

from __future__ import annotations

import multiprocessing
import stat
import threading
from pathlib import Path

import bcrypt
import pytest
import yaml

from crm_core import sessions, users
from crm_core.errors import VinculoError


def test_first_write_creates_a_private_file_with_its_own_cookie_key(auth_file: Path) -> None:
    users.add_user("ana", "a-long-password", "analyst")
    assert stat.S_IMODE(auth_file.stat().st_mode) == 0o600
    config = yaml.safe_load(auth_file.read_text())
    key = config["cookie"]["key"]
    assert len(key) == 64 and int(key, 16) >= 0  # secrets.token_hex(32)
    other = auth_file.parent / "other.yaml"
    users.add_user("ana", "a-long-password", "analyst", path=other)
    assert yaml.safe_load(other.read_text())["cookie"]["key"] != key  # one per installation
    # streamlit-authenticator's layout, a bcrypt hash, never the password
    record = config["credentials"]["usernames"]["ana"]
    assert record["roles"] == ["analyst"]
    assert bcrypt.checkpw(b"a-long-password", record["password"].encode())
    assert "a-long-password" not in auth_file.read_text()


def test_the_repository_commits_no_cookie_key() -> None:
    root = Path(__file__).resolve().parents[2]
    tracked = [p for p in root.rglob("*.y*ml") if ".venv" not in p.parts]
    for path in tracked:
        text = path.read_text(errors="replace")
        assert "cookie:" not in text or "key:" not in text, path


def test_path_comes_from_the_environment(auth_file: Path, monkeypatch) -> None:
    assert users.auth_path() == auth_file.resolve()
    monkeypatch.delenv("VINCULO_AUTH_FILE")
    assert users.auth_path() == Path("~/.config/vinculo/auth.yaml").expanduser().resolve()


def test_add_list_passwd_unlock_remove(auth_file: Path) -> None:
    users.add_user("ana", "a-long-password", "analyst", email="ana@x.com.br", name="Ana")
    users.add_user("root2", "another-password", "admin")
    assert [(u.username, u.role, u.email) for u in users.list_users()] == [
        ("ana", "analyst", "ana@x.com.br"),
        ("root2", "admin", None),
    ]
    users.set_password("ana", "changed-password")
    assert sessions.authenticate("ana", "changed-password").outcome == "ok"
    assert sessions.authenticate("ana", "a-long-password").outcome == "wrong_password"
    users.remove_user("ana")
    assert users.get_user("ana") is None
    assert users.removed_users() == {"ana"}
    users.add_user("ana", "a-long-password", "marketing")  # the name can be used again
    assert users.removed_users() == frozenset()


@pytest.mark.parametrize(
    ("args", "key"),
    [
        (("Bad Name", "a-long-password", "admin"), "users.bad_name"),
        (("cli", "a-long-password", "admin"), "users.reserved_name"),
        (("ana", "a-long-password", "owner"), "users.bad_role"),
        (("ana", "short", "admin"), "users.weak_password"),
        (("ana", "é" * 40, "admin"), "users.password_too_long"),  # 80 bytes > bcrypt's 72
    ],
)
def test_invalid_accounts_are_refused(auth_file: Path, args, key: str) -> None:
    with pytest.raises(VinculoError) as err:
        users.add_user(*args)
    assert err.value.key == key
    assert users.list_users() == []


def test_duplicates_unknown_users_and_the_last_admin(auth_file: Path) -> None:
    users.add_user("boss", "a-long-password", "admin")
    with pytest.raises(VinculoError, match="already exists"):
        users.add_user("boss", "a-long-password", "manager")
    for call in (users.remove_user, users.unlock):
        with pytest.raises(VinculoError) as err:
            call("nobody")
        assert err.value.key == "users.unknown"
    with pytest.raises(VinculoError) as err:
        users.remove_user("boss")
    assert err.value.key == "users.last_admin"
    assert users.get_user("boss") is not None


def test_ensure_admin_only_on_an_empty_file(auth_file: Path) -> None:
    password = users.ensure_admin()
    assert password and len(password) >= 12
    assert sessions.authenticate("admin", password).outcome == "ok"
    assert users.get_user("admin").role == "admin"
    assert users.ensure_admin() is None  # never a second time, never a new password


def test_a_damaged_file_is_a_user_error_not_a_traceback(auth_file: Path) -> None:
    auth_file.parent.mkdir(parents=True)
    auth_file.write_text("credentials: [unclosed")
    with pytest.raises(VinculoError) as err:
        users.list_users()
    assert err.value.key == "users.auth_file_unreadable"


def test_a_failed_write_leaves_the_old_file(auth_file: Path, monkeypatch) -> None:
    users.add_user("ana", "a-long-password", "analyst")
    before = auth_file.read_text()

    def crash(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(users.os, "replace", crash)
    with pytest.raises(OSError):
        users.add_user("bob", "a-long-password", "manager")
    assert auth_file.read_text() == before
    assert not list(auth_file.parent.glob("*.tmp"))  # no temporary file left behind


def _add_one(path: str, index: int) -> None:
    users.BCRYPT_ROUNDS = 4
    users.add_user(f"user{index:02d}", "a-long-password", "analyst", path=path)


def test_twenty_threads_adding_users_lose_none(auth_file: Path) -> None:
    threads = [threading.Thread(target=_add_one, args=(str(auth_file), i)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [u.username for u in users.list_users()] == [f"user{i:02d}" for i in range(20)]


def test_twenty_processes_adding_users_lose_none(auth_file: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_add_one, args=(str(auth_file), i)) for i in range(20)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
        assert proc.exitcode == 0
    assert len(users.list_users()) == 20
    key = yaml.safe_load(auth_file.read_text())["cookie"]["key"]
    assert len(key) == 64  # created once, by whichever process came first

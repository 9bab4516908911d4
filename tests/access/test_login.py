"""Logins: one message for every failure, lockout that expires, audit without passwords."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crm_core import sessions, store, users
from crm_core.errors import VinculoError
from tests.access.conftest import PASSWORDS, Clock


def _events(db: Path) -> list[tuple]:
    with store.connect(db) as con:
        return con.execute(
            "SELECT actor, action, target, detail FROM audit_log WHERE action LIKE 'auth.%' "
            "ORDER BY event_id"
        ).fetchall()


def _fail(username: str, password: str, db: Path) -> VinculoError:
    with pytest.raises(VinculoError) as err:
        sessions.login(username, password, db=db)
    return err.value


def test_a_good_login_opens_a_session_and_is_audited(team: Path, db_path: Path) -> None:
    user, token = sessions.login("  Analyst ", PASSWORDS["analyst"], db=db_path)
    assert (user.username, user.role) == ("analyst", "analyst")
    assert sessions.validate(token).user.username == "analyst"
    [(actor, action, target, detail)] = _events(db_path)
    assert (actor, action, target) == ("analyst", "auth.login", "analyst")
    assert token not in detail and PASSWORDS["analyst"] not in detail


def test_unknown_user_wrong_password_and_lock_read_the_same(team: Path, db_path: Path) -> None:
    unknown = _fail("nobody", "whatever-password", db_path)
    wrong = _fail("analyst", "not-the-password", db_path)
    assert unknown.key == wrong.key == "access.bad_credentials"
    for lang in ("en", "pt_BR"):
        assert unknown.message(lang) == wrong.message(lang)
    reasons = [json.loads(detail)["reason"] for *_, detail in _events(db_path)]
    assert reasons == ["unknown_user", "wrong_password"]  # the log tells them apart
    assert [e[0] for e in _events(db_path)] == ["anonymous", "analyst"]


def test_five_failures_lock_until_the_lock_expires(team: Path, db_path: Path, clock: Clock):
    for _ in range(4):
        _fail("marketing", "wrong-password", db_path)
    assert not users.get_user("marketing").is_locked()
    locked = _fail("marketing", "wrong-password", db_path)  # the fifth
    assert users.get_user("marketing").is_locked()
    right_but_locked = _fail("marketing", PASSWORDS["marketing"], db_path)
    assert right_but_locked.message("en") == locked.message("en")
    actions = [e[1] for e in _events(db_path)]
    assert actions == ["auth.login_failed"] * 5 + ["auth.locked", "auth.login_failed"]
    assert json.loads(_events(db_path)[-1][3])["reason"] == "locked"

    clock.advance(minutes=14, seconds=59)
    _fail("marketing", PASSWORDS["marketing"], db_path)
    clock.advance(seconds=2)  # 15 minutes after the lock: it has expired by itself
    user, _token = sessions.login("marketing", PASSWORDS["marketing"], db=db_path)
    assert user.failed_attempts == 0 and not user.is_locked()


def test_an_admin_unlocks_before_expiry(team: Path, db_path: Path, clock: Clock) -> None:
    for _ in range(5):
        _fail("manager", "wrong-password", db_path)
    assert users.get_user("manager").is_locked()
    users.unlock("manager")
    sessions.login("manager", PASSWORDS["manager"], db=db_path)


def test_lock_policy_from_the_environment(team: Path, db_path: Path, clock: Clock, monkeypatch):
    monkeypatch.setenv("VINCULO_MAX_FAILED_LOGINS", "2")
    monkeypatch.setenv("VINCULO_LOCK_MINUTES", "1")
    _fail("analyst", "wrong-password", db_path)
    message = _fail("analyst", "wrong-password", db_path).message("en")
    assert "After 2 failed attempts" in message and "1 minutes" in message
    assert users.get_user("analyst").is_locked()
    clock.advance(minutes=1)
    assert not users.get_user("analyst").is_locked()


def test_a_success_resets_the_count(team: Path, db_path: Path) -> None:
    for _ in range(4):
        _fail("analyst", "wrong-password", db_path)
    sessions.login("analyst", PASSWORDS["analyst"], db=db_path)
    for _ in range(4):
        _fail("analyst", "wrong-password", db_path)
    assert not users.get_user("analyst").is_locked()


def test_no_password_ever_reaches_the_audit_log(team: Path, db_path: Path) -> None:
    tried = ["wrong-password-1", PASSWORDS["admin"], "typed-in-the-name-box"]
    _fail("admin", tried[0], db_path)
    sessions.login("admin", tried[1], db=db_path)
    _fail(tried[2], tried[0], db_path)  # a password typed as the user name
    with store.connect(db_path) as con:
        dump = json.dumps(con.execute("SELECT * FROM audit_log").fetchall(), default=str)
    assert not any(secret in dump for secret in tried)

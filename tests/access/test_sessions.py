"""Server-side sessions: a token counts only while its record, its user and its time allow."""

from __future__ import annotations

from pathlib import Path

from crm_core import sessions, users
from tests.access.conftest import PASSWORDS, Clock


def test_a_token_is_valid_until_logout(team: Path, db_path: Path) -> None:
    _user, token = sessions.login("analyst", PASSWORDS["analyst"], db=db_path)
    assert sessions.check(token)[1] == "ok"
    assert sessions.logout(token, db=db_path) == "analyst"
    assert sessions.check(token) == (None, "revoked")
    assert sessions.logout(token, db=db_path) is None  # a second logout changes nothing


def test_the_file_never_holds_a_usable_token(team: Path) -> None:
    token = sessions.create("manager")
    text = users.sessions_path().read_text()
    assert token not in text
    assert "manager" in text


def test_unknown_and_foreign_tokens_are_refused(team: Path, tmp_path: Path) -> None:
    assert sessions.check(None) == (None, "none")
    assert sessions.check("made-up-token") == (None, "unknown")
    other = tmp_path / "other" / "auth.yaml"
    users.add_user("manager", PASSWORDS["manager"], "manager", path=other)
    foreign = sessions.create("manager", path=other)  # another installation's session
    assert sessions.check(foreign) == (None, "unknown")


def test_deleting_a_user_revokes_their_sessions(team: Path) -> None:
    token = sessions.create("marketing")
    other = sessions.create("analyst")
    users.remove_user("marketing")
    assert sessions.check(token) == (None, "revoked")
    assert sessions.check(other)[1] == "ok"


def test_a_session_whose_user_vanished_is_refused(team: Path) -> None:
    token = sessions.create("marketing")
    with users.locked_state() as state:  # the account deleted by hand, sessions left as they were
        del state.accounts["marketing"]
    assert sessions.check(token) == (None, "user_gone")


def test_a_password_change_and_a_lockout_revoke_sessions(team: Path, clock: Clock) -> None:
    first = sessions.create("analyst")
    users.set_password("analyst", "a-new-password")
    assert sessions.check(first) == (None, "revoked")
    second = sessions.create("analyst")
    for _ in range(5):
        sessions.authenticate("analyst", "wrong-password")
    assert sessions.check(second) == (None, "revoked")
    clock.advance(minutes=16)
    assert sessions.check(second) == (
        None,
        "revoked",
    )  # the lock expired; the session did not return


def test_sessions_expire_and_go_idle(team: Path, clock: Clock, monkeypatch) -> None:
    token = sessions.create("manager")
    clock.advance(hours=7, minutes=59)
    assert sessions.check(token)[1] == "ok"  # and last_seen is touched
    clock.advance(hours=7, minutes=59)
    assert sessions.check(token)[1] == "ok"  # 16 h after login, never idle 8 h
    clock.advance(hours=8, minutes=3)
    assert sessions.check(token) == (None, "expired")  # 1 day (cookie expiry_days) after login

    idle = sessions.create("manager")
    monkeypatch.setenv("VINCULO_SESSION_IDLE_HOURS", "1")
    clock.advance(minutes=61)
    assert sessions.check(idle) == (None, "idle")


def test_last_seen_is_written_at_most_once_a_minute(team: Path, clock: Clock) -> None:
    token = sessions.create("manager")
    path = users.sessions_path()
    before = path.stat().st_mtime_ns, path.read_text()
    clock.advance(seconds=30)
    sessions.check(token)
    assert (path.stat().st_mtime_ns, path.read_text()) == before
    clock.advance(seconds=31)
    sessions.check(token)
    assert path.read_text() != before[1]


def test_ended_sessions_are_forgotten_after_a_week(team: Path, clock: Clock) -> None:
    old = sessions.create("manager")
    sessions.revoke(old)
    clock.advance(days=8)
    sessions.create("manager")
    assert len(users.read_sessions()) == 1

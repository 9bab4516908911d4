"""Access tests: a private accounts file per test, fast bcrypt, a clock tests can move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from crm_core import sessions, users


@pytest.fixture(autouse=True)
def fast_bcrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    """bcrypt cost 4 instead of 12: same algorithm, milliseconds per hash."""
    monkeypatch.setattr(users, "BCRYPT_ROUNDS", 4)
    monkeypatch.setattr(sessions, "_dummy_hash", None)


@pytest.fixture
def auth_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Path of a not-yet-created accounts file, exported as $VINCULO_AUTH_FILE."""
    path = tmp_path / "conf" / "auth.yaml"
    monkeypatch.setenv("VINCULO_AUTH_FILE", str(path))
    return path


class Clock:
    """A settable `users.now`."""

    def __init__(self) -> None:
        self.at = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Freeze `users.now` (used by lockouts and sessions) at 2026-07-01 12:00 UTC."""
    fixed = Clock()
    monkeypatch.setattr(users, "now", fixed)
    return fixed


PASSWORDS = {role: f"{role}-secret-1" for role in users.ROLES}


@pytest.fixture
def team(auth_file: Path) -> Path:
    """The accounts file with one user per role (name = role, password PASSWORDS[role])."""
    for role, password in PASSWORDS.items():
        users.add_user(role, password, role, path=auth_file)
    return auth_file

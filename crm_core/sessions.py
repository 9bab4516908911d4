"""Server-side login sessions: a random token per login, revocable, checked on every run.

Why server-side. streamlit-authenticator's re-login cookie is a signed JWT
holding only the user name: logging out cannot revoke it, a refresh after
logout could log the user back in, and a deleted user's cookie stayed valid
(its issues #91, #203). Here a login issues a random token
(`secrets.token_urlsafe(32)`); the server keeps, in `<auth>.sessions.json` next
to the credentials file and under the same lock, a record per token keyed by
HMAC-SHA256(cookie key, token) — the file never holds a usable token — with the
user, when it was created, last seen, when it expires and when it was revoked.

A token is accepted only while its record exists, is not revoked, has not
expired (`cookie.expiry_days` after login, or `SESSION_IDLE` without use), and
its user still exists and is not locked out. Logout, deleting the user, a
password change and a lockout revoke it.

Why a file rather than a table in the store: the accounts and their sessions
change together under one lock (deleting a user and revoking their sessions
is one step), the app does not take the store's single write lock on every
page view (which would queue behind uploads), and replacing or rebuilding the
store cannot bring a revoked session back.

`authenticate` checks a password (bcrypt, outside the lock) and records its
effect on the account (failure count, lockout; see `crm_core.users`). Logins,
failures, lockouts and logouts go to the store's audit log
(`auth.login`, `auth.login_failed`, `auth.locked`, `auth.logout`); never a
password, never a token.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import bcrypt

from crm_core import store, users
from crm_core.errors import VinculoError
from crm_core.users import User

TOUCH_EVERY = timedelta(seconds=60)  # last_seen is written at most this often
KEEP_ENDED = timedelta(days=7)  # ended sessions are forgotten after this


def idle_limit() -> timedelta:
    """How long a session lives without use (`$VINCULO_SESSION_IDLE_HOURS`, default 8)."""
    return timedelta(hours=float(os.environ.get("VINCULO_SESSION_IDLE_HOURS", "8")))


@dataclass(frozen=True)
class Session:
    """A valid session: its public id (a digest prefix, for logs) and its user."""

    session_id: str
    user: User
    created: datetime
    expires: datetime


def _digest(token: str, key: str) -> str:
    return hmac.new(key.encode(), token.encode(), hashlib.sha256).hexdigest()


def _ended(record: dict[str, Any], at: datetime) -> bool:
    return bool(record.get("revoked_at")) or datetime.fromisoformat(record["expires"]) <= at


def _prune(state: users.AuthState, at: datetime) -> None:
    """Forget sessions that ended more than KEEP_ENDED ago."""
    cutoff = at - KEEP_ENDED
    for digest, record in list(state.sessions.items()):
        ended_at = record.get("revoked_at") or record["expires"]
        if _ended(record, at) and datetime.fromisoformat(ended_at) < cutoff:
            del state.sessions[digest]


def create(username: str, path: str | os.PathLike[str] | None = None) -> str:
    """Open a session for `username`; returns its token (shown to nobody but the client)."""
    token = secrets.token_urlsafe(32)
    at = users.now()
    with users.locked_state(path) as state:
        state.account(username)
        cookie = state.config["cookie"]
        expires = at + timedelta(days=float(cookie.get("expiry_days") or 1))
        _prune(state, at)
        state.sessions[_digest(token, cookie["key"])] = {
            "user": username,
            "created": at.isoformat(),
            "last_seen": at.isoformat(),
            "expires": expires.isoformat(),
            "revoked_at": None,
        }
    return token


def check(
    token: str | None, path: str | os.PathLike[str] | None = None
) -> tuple[Session | None, str]:
    """(the session, "ok") when `token` may be used now, else (None, why not).

    Reasons: "none", "unknown", "revoked", "expired", "idle", "user_gone", "locked".
    """
    config = users.read_config(path)
    if not isinstance(token, str) or not token or not config:
        return None, "none"
    digest = _digest(token, config["cookie"]["key"])
    record = users.read_sessions(path).get(digest)
    at = users.now()
    if record is None:
        return None, "unknown"
    if record.get("revoked_at"):
        return None, "revoked"
    last_seen = datetime.fromisoformat(record["last_seen"])
    if datetime.fromisoformat(record["expires"]) <= at:
        return None, "expired"
    if at - last_seen > idle_limit():
        return None, "idle"
    user = users.get_user(record["user"], path)
    if user is None:
        return None, "user_gone"
    if user.is_locked(at):
        return None, "locked"
    if at - last_seen > TOUCH_EVERY:
        _touch(digest, at, path)
    session = Session(
        digest[:12],
        user,
        datetime.fromisoformat(record["created"]),
        datetime.fromisoformat(record["expires"]),
    )
    return session, "ok"


def validate(token: str | None, path: str | os.PathLike[str] | None = None) -> Session | None:
    """The session of `token` if it may be used now (see `check`), else None."""
    return check(token, path)[0]


def _touch(digest: str, at: datetime, path: str | os.PathLike[str] | None) -> None:
    with users.locked_state(path) as state:
        record = state.sessions.get(digest)
        if record is not None and not record.get("revoked_at"):
            record["last_seen"] = at.isoformat()


def revoke(
    token: str | None, reason: str = "logout", path: str | os.PathLike[str] | None = None
) -> str | None:
    """End the session of `token`; returns its user name (None if it was not live)."""
    if not token:
        return None
    with users.locked_state(path) as state:
        record = state.sessions.get(_digest(token, state.config["cookie"]["key"]))
        if record is None or record.get("revoked_at"):
            return None
        record["revoked_at"] = users.now().isoformat()
        record["revoked_reason"] = reason
        return str(record["user"])


Outcome = Literal["ok", "unknown_user", "wrong_password", "locked"]

_dummy_hash: bytes | None = None


def _password_matches(password: str, hashed: str | None) -> bool:
    """bcrypt check; an unknown user is checked against a dummy hash (same time taken)."""
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = bcrypt.hashpw(b"not a password", bcrypt.gensalt(users.BCRYPT_ROUNDS))
    candidate = password.encode("utf-8")
    if len(candidate) > 72:  # never stored (hash_password refuses it): cannot match
        return False
    try:
        ok = bcrypt.checkpw(candidate, hashed.encode() if hashed else _dummy_hash)
    except ValueError:  # a damaged hash in the file
        return False
    return ok and hashed is not None


@dataclass(frozen=True)
class LoginResult:
    """What one login attempt came to; `locked_now` when this failure locked the account."""

    outcome: Outcome
    user: User | None
    locked_now: bool = False


def authenticate(
    username: str, password: str, path: str | os.PathLike[str] | None = None
) -> LoginResult:
    """Check a login and record its effect on the account (failure count, lockout).

    The password is checked outside the lock (bcrypt is slow); the failure count
    and lock are updated inside it, on a fresh read.
    """
    found = users.get_user(username, path)
    if found is not None and found.is_locked():
        return LoginResult("locked", found)
    config = users.read_config(path) or {"credentials": {"usernames": {}}}
    stored = config["credentials"]["usernames"].get(username, {}).get("password")
    matches = _password_matches(password, stored if found else None)
    if found is None:
        return LoginResult("unknown_user", None)
    attempts, lock_for = users.lock_policy()
    with users.locked_state(path) as state:
        record = state.accounts.get(username)
        if record is None:
            return LoginResult("unknown_user", None)
        at = users.now()
        if users.to_user(username, record).is_locked(at):
            return LoginResult("locked", users.to_user(username, record))
        if matches and record.get("password") == stored:
            record.update(failed_login_attempts=0, locked_until=None)
            return LoginResult("ok", users.to_user(username, record))
        failed = int(record.get("failed_login_attempts") or 0) + 1
        locked_now = failed >= attempts
        record["failed_login_attempts"] = 0 if locked_now else failed
        if locked_now:
            record["locked_until"] = (at + lock_for).isoformat()
            users.revoke_sessions(state, username, "locked", at)
        return LoginResult("wrong_password", users.to_user(username, record), locked_now)


def _audit(db: str | os.PathLike[str] | None, actor: str, action: str, **detail: Any) -> None:
    target = detail.pop("target", None)
    with store.connect(db) as con, store.transaction(con):
        store.audit(con, actor, action, target=target, detail=detail)


def login(
    username: str,
    password: str,
    *,
    db: str | os.PathLike[str] | None = None,
    path: str | os.PathLike[str] | None = None,
) -> tuple[User, str]:
    """Check a login, audit it, and open a session: returns (user, token).

    Any failure — unknown name, wrong password, locked account — raises the same
    `VinculoError("access.bad_credentials")`; the audit log tells them apart.
    """
    username = username.strip().lower()
    result = authenticate(username, password, path)
    known = result.user is not None
    actor = username if known else "anonymous"
    if result.outcome != "ok":
        _audit(db, actor, "auth.login_failed", target=username if known else None,
               reason=result.outcome)  # fmt: skip
        if result.locked_now:
            attempts, lock_for = users.lock_policy()
            _audit(db, actor, "auth.locked", target=username, attempts=attempts,
                   minutes=lock_for.total_seconds() / 60)  # fmt: skip
        attempts, lock_for = users.lock_policy()
        raise VinculoError(
            "access.bad_credentials",
            attempts=attempts,
            minutes=round(lock_for.total_seconds() / 60),
        )
    token = create(username, path)
    config = users.read_config(path) or {}
    session_id = _digest(token, config["cookie"]["key"])[:12]
    try:
        _audit(db, username, "auth.login", target=username, session=session_id)
    except BaseException:
        revoke(token, "not_audited", path)  # a login the log cannot show must not stand
        raise
    assert result.user is not None
    return result.user, token


def logout(
    token: str | None,
    *,
    db: str | os.PathLike[str] | None = None,
    path: str | os.PathLike[str] | None = None,
) -> str | None:
    """Revoke the session of `token` and audit the logout; returns the user name."""
    username = revoke(token, "logout", path)
    if username:
        _audit(db, username, "auth.logout", target=username)
    return username

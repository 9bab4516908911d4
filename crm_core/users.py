"""App users: accounts, bcrypt password hashes, roles and login lockout, in one YAML file.

Where. The file lives outside the repository: `$VINCULO_AUTH_FILE`, else
`~/.config/vinculo/auth.yaml` (mode 0600, folder 0700). Its layout is
streamlit-authenticator's (`cookie: {name, key, expiry_days}`,
`credentials: {usernames: {...}}`), plus `removed` (tombstones of deleted
accounts, so a late write by a deleted user is refused, not trusted). The cookie
key is generated per installation (`secrets.token_hex(32)`) when the file is
first created; no key is ever committed. Server-side sessions live in the
sibling `<name>.sessions.json` (see `crm_core.sessions`).

Concurrency. Every change takes an exclusive `flock` on the sibling `.lock`
file, re-reads both files inside the lock, applies the change and writes each
file atomically (temporary file in the same folder, fsync, `os.replace`), so
concurrent writers never lose an account (streamlit-authenticator #170/#283
rewrote its file without a lock). Readers need no lock: a file is either the
old one or the new one.

Lockout (`lock_policy`, applied by `crm_core.sessions.authenticate`): 5 failed
logins in a row (`$VINCULO_MAX_FAILED_LOGINS`) lock the account for 15 minutes
(`$VINCULO_LOCK_MINUTES`); the lock expires by itself or an admin lifts it
(`unlock`). While locked, even the right password is refused.
"""

from __future__ import annotations

import copy
import fcntl
import json
import os
import re
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import bcrypt
import yaml

from crm_core.errors import VinculoError

ROLES: tuple[str, ...] = ("admin", "manager", "analyst", "marketing")
# Actor names the code uses for itself (command line, demo builder, logins by
# an unknown name): never an account name, so they cannot borrow a role.
SYSTEM_ACTORS: frozenset[str] = frozenset({"cli", "demo", "app", "system", "anonymous"})
DEFAULT_AUTH_FILE = Path("~/.config/vinculo/auth.yaml")
BCRYPT_ROUNDS = 12
MIN_PASSWORD = 8
_NAME_RE = re.compile(r"^[a-z][a-z0-9._-]{1,31}$")


def now() -> datetime:
    """The current instant (UTC); tests replace it to move the clock."""
    return datetime.now(UTC)


def lock_policy() -> tuple[int, timedelta]:
    """(failed logins that lock an account, how long the lock lasts)."""
    attempts = int(os.environ.get("VINCULO_MAX_FAILED_LOGINS", "5"))
    minutes = float(os.environ.get("VINCULO_LOCK_MINUTES", "15"))
    return max(attempts, 1), timedelta(minutes=minutes)


def auth_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The credentials file: `path`, else `$VINCULO_AUTH_FILE`, else ~/.config/vinculo/auth.yaml."""
    chosen = path or os.environ.get("VINCULO_AUTH_FILE") or DEFAULT_AUTH_FILE
    return Path(chosen).expanduser().resolve()


def sessions_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The server-side session file next to the credentials file."""
    file = auth_path(path)
    return file.with_name(file.stem + ".sessions.json")


@dataclass(frozen=True)
class User:
    """One account as the app sees it (never the hash)."""

    username: str
    name: str
    email: str | None
    role: str
    failed_attempts: int = 0
    locked_until: datetime | None = None

    def is_locked(self, at: datetime | None = None) -> bool:
        """True while a lockout lasts at `at` (default: now)."""
        return self.locked_until is not None and (at or now()) < self.locked_until


@dataclass
class AuthState:
    """Both auth files as read inside the lock; changes are written when the block ends."""

    config: dict[str, Any]
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def accounts(self) -> dict[str, dict[str, Any]]:
        return self.config["credentials"]["usernames"]

    def account(self, username: str) -> dict[str, Any]:
        """The stored record of `username`; VinculoError `users.unknown` if none."""
        record = self.accounts.get(username)
        if record is None:
            raise VinculoError("users.unknown", user=username)
        return record


# ---------------------------------------------------------------- file I/O


def _new_config() -> dict[str, Any]:
    return {
        "cookie": {
            "name": f"vinculo_session_{secrets.token_hex(4)}",
            "key": secrets.token_hex(32),
            "expiry_days": 1,
        },
        "credentials": {"usernames": {}},
        "removed": {},
    }


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _read_config(file: Path) -> dict[str, Any] | None:
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        config = yaml.safe_load(text) or {}
        config.setdefault("credentials", {}).setdefault("usernames", {})
        config["credentials"]["usernames"] = config["credentials"]["usernames"] or {}
        config.setdefault("removed", {})
        config["removed"] = config["removed"] or {}
        if not config.get("cookie", {}).get("key"):
            raise ValueError("no cookie key")
    except (yaml.YAMLError, AttributeError, TypeError, ValueError) as exc:
        raise VinculoError("users.auth_file_unreadable", path=str(file), detail=str(exc)) from exc
    return config


def _read_sessions(file: Path) -> dict[str, dict[str, Any]]:
    try:
        return dict(json.loads(file.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return {}
    except (ValueError, TypeError) as exc:
        raise VinculoError("users.auth_file_unreadable", path=str(file), detail=str(exc)) from exc


def _atomic_write(file: Path, text: str) -> None:
    """Replace `file` by `text` all at once (temp file + fsync + rename), mode 0600."""
    fd, tmp = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, file)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(file.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@contextmanager
def _flock(file: Path) -> Iterator[None]:
    file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(file.with_name(file.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


@contextmanager
def locked_state(path: str | os.PathLike[str] | None = None) -> Iterator[AuthState]:
    """Read both files under the exclusive lock; write back whatever the block changed.

    Creates the credentials file (with a fresh cookie key) when it does not exist.
    If the block raises, nothing is written.
    """
    file = auth_path(path)
    with _flock(file):
        config = _read_config(file)
        created = config is None
        state = AuthState(config or _new_config(), _read_sessions(sessions_path(file)))
        before = copy.deepcopy((state.config, state.sessions))
        yield state
        if created or state.config != before[0]:
            _atomic_write(file, yaml.safe_dump(state.config, sort_keys=False, allow_unicode=True))
        if state.sessions != before[1]:
            _atomic_write(sessions_path(file), json.dumps(state.sessions, indent=1))


_cache: dict[Path, tuple[tuple[int, int, int], Any]] = {}


def _cached(file: Path, reader: Any) -> Any:
    """`reader(file)`, re-read only when the file changed (inode, mtime, size)."""
    try:
        st = file.stat()
    except FileNotFoundError:
        _cache.pop(file, None)
        return reader(file)
    key = (st.st_ino, st.st_mtime_ns, st.st_size)
    hit = _cache.get(file)
    if hit is None or hit[0] != key:
        hit = (key, reader(file))
        _cache[file] = hit
    return copy.deepcopy(hit[1])


def read_config(path: str | os.PathLike[str] | None = None) -> dict[str, Any] | None:
    """The credentials file's content (None when it does not exist yet); no lock needed."""
    return _cached(auth_path(path), _read_config)


def read_sessions(path: str | os.PathLike[str] | None = None) -> dict[str, dict[str, Any]]:
    """The server-side session records (see `crm_core.sessions`); no lock needed."""
    return _cached(sessions_path(path), _read_sessions)


# ---------------------------------------------------------------- accounts


def to_user(username: str, record: dict[str, Any]) -> User:
    """The `User` view of a stored account record."""
    roles = record.get("roles") or []
    return User(
        username=username,
        name=str(record.get("name") or username),
        email=record.get("email"),
        role=str(roles[0]) if roles else "",
        failed_attempts=int(record.get("failed_login_attempts") or 0),
        locked_until=_parse_time(record.get("locked_until")),
    )


def get_user(username: str, path: str | os.PathLike[str] | None = None) -> User | None:
    """The account `username`, or None."""
    config = read_config(path)
    record = (config or {}).get("credentials", {}).get("usernames", {}).get(username)
    return None if record is None else to_user(username, record)


def list_users(path: str | os.PathLike[str] | None = None) -> list[User]:
    """Every account, by name."""
    config = read_config(path) or {"credentials": {"usernames": {}}}
    accounts = config["credentials"]["usernames"]
    return [to_user(name, accounts[name]) for name in sorted(accounts)]


def removed_users(path: str | os.PathLike[str] | None = None) -> frozenset[str]:
    """Names of deleted accounts (not re-created since)."""
    return frozenset((read_config(path) or {}).get("removed", {}))


def cookie_settings(path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The installation's cookie name, key and expiry (days); creates the file if needed."""
    config = read_config(path)
    if config is None:
        with locked_state(path) as state:
            config = state.config
    return dict(config["cookie"])


def check_name(username: str) -> str:
    """`username` if it is a valid, non-reserved account name (lower case, 2-32 chars)."""
    if not _NAME_RE.match(username):
        raise VinculoError("users.bad_name", user=username)
    if username in SYSTEM_ACTORS:
        raise VinculoError("users.reserved_name", user=username)
    return username


def hash_password(password: str) -> str:
    """A bcrypt hash of `password` (8+ characters, at most 72 bytes: bcrypt's limit)."""
    if len(password) < MIN_PASSWORD:
        raise VinculoError("users.weak_password", min=MIN_PASSWORD)
    if len(password.encode("utf-8")) > 72:
        raise VinculoError("users.password_too_long")
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt(BCRYPT_ROUNDS)).decode()


def add_user(
    username: str,
    password: str,
    role: str,
    *,
    name: str | None = None,
    email: str | None = None,
    path: str | os.PathLike[str] | None = None,
) -> User:
    """Create an account; refuses a taken or invalid name, an unknown role, a weak password."""
    check_name(username)
    if role not in ROLES:
        raise VinculoError("users.bad_role", role=role, roles=", ".join(ROLES))
    hashed = hash_password(password)  # slow (bcrypt): outside the lock
    with locked_state(path) as state:
        if username in state.accounts:
            raise VinculoError("users.exists", user=username)
        state.accounts[username] = {
            "name": name or username,
            "email": email,
            "password": hashed,
            "roles": [role],
            "failed_login_attempts": 0,
            "locked_until": None,
        }
        state.config["removed"].pop(username, None)
    return to_user(username, state.accounts[username])


def revoke_sessions(state: AuthState, username: str, reason: str, at: datetime) -> int:
    """Revoke every live session of `username` in `state`; returns how many."""
    live = [s for s in state.sessions.values() if s["user"] == username and not s.get("revoked_at")]
    for record in live:
        record["revoked_at"] = at.isoformat()
        record["revoked_reason"] = reason
    return len(live)


def remove_user(username: str, path: str | os.PathLike[str] | None = None) -> None:
    """Delete an account (never the last admin) and revoke its sessions."""
    with locked_state(path) as state:
        record = state.account(username)
        admins = [u for u, r in state.accounts.items() if "admin" in (r.get("roles") or [])]
        if "admin" in (record.get("roles") or []) and admins == [username]:
            raise VinculoError("users.last_admin", user=username)
        del state.accounts[username]
        when = now()
        state.config["removed"][username] = when.isoformat()
        revoke_sessions(state, username, "removed", when)


def set_password(username: str, password: str, path: str | os.PathLike[str] | None = None) -> None:
    """Change a password; clears any lockout and revokes the account's sessions."""
    hashed = hash_password(password)
    with locked_state(path) as state:
        record = state.account(username)
        record.update(password=hashed, failed_login_attempts=0, locked_until=None)
        revoke_sessions(state, username, "password_changed", now())


def unlock(username: str, path: str | os.PathLike[str] | None = None) -> None:
    """Lift a lockout (and forget the failed attempts) now."""
    with locked_state(path) as state:
        state.account(username).update(failed_login_attempts=0, locked_until=None)


def ensure_admin(path: str | os.PathLike[str] | None = None) -> str | None:
    """First run: when the file has no account, create `admin` with a random password.

    Returns that password (to be shown once), or None when accounts already exist.
    """
    config = read_config(path)
    if config and config["credentials"]["usernames"]:
        return None
    password = secrets.token_urlsafe(12)
    hashed = hash_password(password)
    with locked_state(path) as state:
        if state.accounts:
            return None
        state.accounts["admin"] = {
            "name": "Administrator",
            "email": None,
            "password": hashed,
            "roles": ["admin"],
            "failed_login_attempts": 0,
            "locked_until": None,
        }
    return password

"""Who may do what: the permission model as data, checked by the UI and by every write.

Roles (issue 7):
- **admin**: everything — users, erasure, every write.
- **manager**: every dashboard (personal data masked); writes nothing.
- **analyst**: dashboards, thresholds (segment configuration, settings), rules,
  CLV, identity merges, assessments, target-list exports.
- **marketing**: dashboards, uploads (and their undo), target-list exports.

`PAGE_ROLES` names, per page file (`pages/<name>.py`), the roles that may open it;
`ACTION_ROLES` names, per audited write action, the roles that may perform it.
A page or action missing from the tables is admin-only (fail closed).

Enforcement in `crm_core`: every write is audited in its own transaction
through `store.audit`, which calls `check(actor, action)` before inserting the
event, so a refusal rolls the whole write back. An actor that is a registered
app user is held to their role; a deleted account is refused; any other actor
(the command line's `cli`, the demo builder, tests) is a trusted system actor —
whoever can run code on the server can write to the store file anyway.
"""

from __future__ import annotations

import os

from crm_core import users
from crm_core.errors import VinculoError

ALL_ROLES: frozenset[str] = frozenset(users.ROLES)
_ADMIN = frozenset({"admin"})
_DASHBOARD = ALL_ROLES
_ANALYST = frozenset({"admin", "analyst"})
_MARKETING = frozenset({"admin", "marketing"})

# Dashboards: every role (personal data masked where the role requires it).
DASHBOARDS: tuple[str, ...] = (
    "overview", "customers", "identity", "quality", "differentiate", "interact",
    "customize", "portfolio", "intimacy", "network", "proposition", "relationships",
    "processes", "assessments", "lifecycle", "clv", "loyalty", "store",
)  # fmt: skip

PAGE_ROLES: dict[str, frozenset[str]] = {
    **dict.fromkeys(DASHBOARDS, _DASHBOARD),
    "upload": _MARKETING,  # uploads and their undo
    "settings": _ANALYST,  # business thresholds
    "audit": _ADMIN,
    "privacy": _ADMIN,  # data-subject requests: portability export, erasure
    "users": _ADMIN,
}

ACTION_ROLES: dict[str, frozenset[str]] = {
    # data in and out
    "ingest": _MARKETING,
    "undo_upload": _MARKETING,
    "targeting.exported": frozenset({"admin", "analyst", "marketing"}),
    "export.downloaded": ALL_ROLES,  # a dashboard table, masked for the role (ui.downloads)
    # thresholds, rules, models
    "segments.config_saved": _ANALYST,
    "rules.saved": _ANALYST,
    "settings.saved": _ANALYST,
    "assessment.saved": _ANALYST,
    # identity resolution
    "identity.merge": _ANALYST,
    "identity.unmerge": _ANALYST,
    "identity.dissolve": _ANALYST,
    "identity.merge_clusters": _ANALYST,
    "identity.reject": _ANALYST,
    # data-subject requests (LGPD)
    "privacy.subject_exported": _ADMIN,
    "privacy.erased": _ADMIN,
    # administration
    "demo.build": _ADMIN,
    "users.added": _ADMIN,
    "users.removed": _ADMIN,
    "users.password_changed": _ADMIN,
    "users.unlocked": _ADMIN,
    # one's own login events
    "auth.login": ALL_ROLES,
    "auth.login_failed": ALL_ROLES,
    "auth.locked": ALL_ROLES,
    "auth.logout": ALL_ROLES,
}


def page_roles(page: str) -> frozenset[str]:
    """Roles that may open `page` (a page file's name without `.py`); admin-only if unknown."""
    return PAGE_ROLES.get(page, _ADMIN)


def action_roles(action: str) -> frozenset[str]:
    """Roles that may perform the audited `action`; admin-only if unknown."""
    return ACTION_ROLES.get(action, _ADMIN)


def may_open(role: str | None, page: str) -> bool:
    """True when `role` may open `page`."""
    return role in page_roles(page)


def may(role: str | None, action: str) -> bool:
    """True when `role` may perform `action`."""
    return role in action_roles(action)


def role_of(actor: str, path: str | os.PathLike[str] | None = None) -> str | None:
    """The role of `actor` if it is a registered app user, else None (a system actor).

    A deleted account's name maps to "" (no role: refused everywhere).
    """
    user = users.get_user(actor, path)
    if user is not None:
        return user.role
    return "" if actor in users.removed_users(path) else None


def check(actor: str, action: str, path: str | os.PathLike[str] | None = None) -> None:
    """Refuse `action` by `actor` when `actor` is an app user whose role may not do it.

    Raises `VinculoError("access.denied")`; system actors (not registered users) pass.
    """
    role = role_of(actor, path)
    if role is None or may(role, action):
        return
    raise VinculoError(
        "access.denied",
        user=actor,
        role=role or "-",
        action=action,
        roles=", ".join(sorted(action_roles(action))),
    )

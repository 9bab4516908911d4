"""Every audited write action against every role, at the choke point every write passes.

Each write in `crm_core` is audited through `store.audit` inside its own transaction, and
`store.audit` checks the actor's role first (see `crm_core.access`). So for every action of
`ACTION_ROLES` and every role, an audit inside a transaction must succeed exactly when the
role may do it — and when refused, the transaction's other writes must be rolled back.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from crm_core import access, store, users
from crm_core.errors import VinculoError

CASES = [(action, role) for action in sorted(access.ACTION_ROLES) for role in users.ROLES]


@pytest.mark.parametrize(("action", "role"), CASES)
def test_every_write_action_for_every_role(
    team: Path, con: duckdb.DuckDBPyConnection, action: str, role: str
) -> None:
    allowed = role in access.ACTION_ROLES[action]

    def write() -> None:
        with store.transaction(con):
            con.execute("INSERT INTO meta VALUES ('probe', 'written')")
            store.audit(con, role, action, target="probe", rows=1)

    if allowed:
        write()
    else:
        with pytest.raises(VinculoError) as err:
            write()
        assert err.value.key == "access.denied"
    probe = store.scalar(con, "SELECT value FROM meta WHERE key = 'probe'")
    audited = store.scalar(con, "SELECT count(*) FROM audit_log WHERE action = ?", [action])
    assert (probe == "written", audited == 1) == (allowed, allowed)

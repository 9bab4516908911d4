"""Roles enforced in crm_core writes: a refused write leaves the store exactly as it was."""

from __future__ import annotations

import ast
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from crm_core import access, store, users
from crm_core.customize import default_ruleset, save_rules
from crm_core.demo import build_demo
from crm_core.errors import VinculoError
from crm_core.identity_merge import merge
from crm_core.ingest import ingest_file, undo_upload
from crm_core.segment_config import default_config
from crm_core.segment_store import save_config
from crm_core.targeting import export_target_list

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_ORDERS = ROOT / "data" / "samples" / "planilha_vendas.csv"


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("enforce") / "demo.duckdb"
    build_demo(path, customers=300, seed=3, as_of=date(2026, 6, 30))
    return path


@pytest.fixture
def db(small_demo: Path, tmp_path: Path, team: Path) -> Path:
    """A private copy of a small demo store, with the accounts of `team` registered."""
    path = tmp_path / "crm.duckdb"
    shutil.copy(small_demo, path)
    return path


def fingerprint(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """Row count of every table and the data version: what a write would change."""
    tables = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
        ).fetchall()
    ]
    counts = {t: store.scalar(con, f'SELECT count(*) FROM "{t}"') for t in tables}
    return {**counts, "data_version": store.data_version(con)}


def _two_customers(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute("SELECT customer_id FROM customers ORDER BY customer_id LIMIT 2")
    return [r[0] for r in rows.fetchall()]


def _targets(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    ids = _two_customers(con)
    return pl.DataFrame({"customer_id": ids, "channel": ["email", "email"]})


WRITES: dict[str, Callable[[Path, str], object]] = {
    "save_config": lambda db, who: _with(db, lambda con: save_config(con, default_config(), who)),
    "save_rules": lambda db, who: _with(db, lambda con: save_rules(con, default_ruleset(), who)),
    "merge": lambda db, who: _with(
        db, lambda con: merge(con, _two_customers(con), _two_customers(con)[0], who)
    ),
    "ingest_file": lambda db, who: ingest_file(SAMPLE_ORDERS, "orders", db=db, actor=who),
    "export_target_list": lambda db, who: _with(
        db, lambda con: export_target_list(con, _targets(con), "rule", "csv", who)
    ),
}


def _with(db: Path, work: Callable[[duckdb.DuckDBPyConnection], object]) -> object:
    with store.connect(db) as con:
        return work(con)


@pytest.mark.parametrize("write", sorted(WRITES))
def test_a_manager_writes_nothing(db: Path, write: str) -> None:
    with store.connect(db) as con:
        before = fingerprint(con)
    with pytest.raises(VinculoError) as err:
        WRITES[write](db, "manager")
    assert err.value.key == "access.denied"
    assert "manager" in err.value.message("pt_BR")
    with store.connect(db) as con:
        assert fingerprint(con) == before


@pytest.mark.parametrize(
    ("write", "allowed", "refused"),
    [
        ("save_config", "analyst", "marketing"),
        ("save_rules", "analyst", "marketing"),
        ("merge", "analyst", "marketing"),
        ("ingest_file", "marketing", "analyst"),
        ("export_target_list", "marketing", "manager"),
    ],
)
def test_each_write_follows_its_roles(db: Path, write: str, allowed: str, refused: str) -> None:
    with pytest.raises(VinculoError, match=refused):
        WRITES[write](db, refused)
    WRITES[write](db, allowed)
    WRITES[write](db, "admin") if write not in {"merge", "ingest_file"} else None
    with store.connect(db) as con:
        actors = {r[0] for r in con.execute("SELECT actor FROM audit_log").fetchall()}
    assert allowed in actors and refused not in actors


def test_undo_is_marketing_and_admin(db: Path) -> None:
    report = ingest_file(SAMPLE_ORDERS, "orders", db=db, actor="marketing")
    for who in ("manager", "analyst"):
        with pytest.raises(VinculoError, match="access|may not"):
            undo_upload(report.upload_id, db=db, actor=who)
    assert undo_upload(report.upload_id, db=db, actor="marketing")["status"] == "undone"


def test_system_actors_are_trusted_and_deleted_users_are_not(db: Path) -> None:
    WRITES["save_config"](db, "cli")  # the command line, not an app account
    users.add_user("temp", "a-long-password", "analyst")
    users.remove_user("temp")
    assert access.role_of("temp") == ""
    with pytest.raises(VinculoError) as err:
        WRITES["save_config"](db, "temp")  # a session still running when it was deleted
    assert err.value.key == "access.denied"


def _audited_actions() -> set[str]:
    """Every action name written by `store.audit(...)` or `save_version(...)` in crm_core."""
    found: set[str] = set()
    for path in (ROOT / "crm_core").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            position = {"audit": 2, "save_version": 5}.get(name or "")
            if position is None:
                continue
            given = [*node.args[position : position + 1]]
            given += [k.value for k in node.keywords if k.arg == "action"]
            found |= {a.value for a in given if isinstance(a, ast.Constant)}
    return found


def test_every_audited_action_has_its_roles() -> None:
    actions = _audited_actions() | {"undo_upload", "identity.unmerge", "identity.dissolve"}
    assert {"ingest", "segments.config_saved", "rules.saved", "targeting.exported"} <= actions
    missing = sorted(a for a in actions if a not in access.ACTION_ROLES)
    assert not missing, f"add these actions to crm_core.access.ACTION_ROLES: {missing}"


def test_every_page_has_its_roles() -> None:
    pages = {p.stem for p in (ROOT / "pages").glob("*.py")}
    assert not pages - set(access.PAGE_ROLES), "add the new pages to access.PAGE_ROLES"


def test_the_role_table_follows_the_issue() -> None:
    assert all(access.may("admin", a) for a in access.ACTION_ROLES)
    assert all(access.may_open("admin", p) for p in access.PAGE_ROLES)
    writes = [a for a in access.ACTION_ROLES if not a.startswith("auth.")]
    assert [a for a in writes if access.may("manager", a)] == ["export.downloaded"]
    for page in access.DASHBOARDS:
        assert all(access.may_open(r, page) for r in users.ROLES)
    assert not access.may_open("manager", "upload") and access.may_open("marketing", "upload")
    assert access.may("analyst", "segments.config_saved") and access.may("analyst", "rules.saved")
    assert not access.may("marketing", "segments.config_saved")
    assert access.may("marketing", "targeting.exported") and access.may("marketing", "ingest")
    for admin_only in ("privacy.erased", "users.added", "something.new"):
        assert [r for r in users.ROLES if access.may(r, admin_only)] == ["admin"]

"""Reading the audit trail with filters, and recording page downloads (crm_core.audit_trail)."""

from __future__ import annotations

import json
from datetime import date

import duckdb
import pytest

from crm_core import store
from crm_core.audit_trail import audit_events, audit_facets, events_per_action, record_export

# (actor, action, target, rows, local time) — the business zone is America/Sao_Paulo (UTC−3)
EVENTS = [
    ("ana", "ingest", "upload:1", 100, "2026-03-01 08:00:00-03"),
    ("bia", "identity.merge", "C0000012", 2, "2026-03-01 23:30:00-03"),  # 02:30 UTC next day
    ("ana", "targeting.exported", "win_back", 40, "2026-03-02 10:00:00-03"),
    ("carl", "ingest", "upload:2", 7, "2026-03-05 12:00:00-03"),
]


@pytest.fixture
def trail(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    con.executemany(
        "INSERT INTO audit_log (actor, action, target, rows, logged_at, detail) "
        "VALUES (?, ?, ?, ?, ?::TIMESTAMPTZ, '{}')",
        EVENTS,
    )
    return con


def _targets(frame) -> list[str]:
    return frame["target"].to_list()


def test_newest_first_and_every_column(trail: duckdb.DuckDBPyConnection) -> None:
    frame = audit_events(trail)
    assert _targets(frame) == ["upload:2", "win_back", "C0000012", "upload:1"]
    assert frame.columns == ["event_id", "logged_at", "actor", "action", "target", "rows",
                             "detail"]  # fmt: skip


@pytest.mark.parametrize(
    ("filters", "targets"),
    [
        ({"actions": ["ingest"]}, ["upload:2", "upload:1"]),
        ({"actors": ["ana", "bia"]}, ["win_back", "C0000012", "upload:1"]),
        ({"start": date(2026, 3, 1), "end": date(2026, 3, 1)}, ["C0000012", "upload:1"]),
        ({"start": date(2026, 3, 2)}, ["upload:2", "win_back"]),
        ({"end": date(2026, 3, 2)}, ["win_back", "C0000012", "upload:1"]),
        ({"target": "UPLOAD"}, ["upload:2", "upload:1"]),
        ({"actions": ["ingest"], "actors": ["ana"]}, ["upload:1"]),
        ({"actions": ["nothing"]}, []),
        ({"limit": 1}, ["upload:2"]),
    ],
)
def test_filters(trail: duckdb.DuckDBPyConnection, filters: dict, targets: list[str]) -> None:
    assert _targets(audit_events(trail, **filters)) == targets


def test_facets_and_counts(trail: duckdb.DuckDBPyConnection) -> None:
    held = audit_facets(trail)
    assert held == {
        "actions": ["identity.merge", "ingest", "targeting.exported"],
        "actors": ["ana", "bia", "carl"], "first_day": date(2026, 3, 1),
        "last_day": date(2026, 3, 5), "events": 4,
    }  # fmt: skip
    counts = events_per_action(audit_events(trail))
    assert counts.rows() == [("ingest", 2), ("identity.merge", 1), ("targeting.exported", 1)]


def test_empty_trail(con: duckdb.DuckDBPyConnection) -> None:
    assert audit_facets(con)["events"] == 0
    assert audit_facets(con)["actions"] == []
    assert audit_events(con).height == 0


def test_record_export_writes_what_not_the_rows(con: duckdb.DuckDBPyConnection) -> None:
    version = store.data_version(con)
    record_export(con, "ana", "vinculo_clv", "csv", 25, ["customer_id", "email"], ["email"])
    actor, action, target, rows, detail = con.execute(
        "SELECT actor, action, target, rows, detail::VARCHAR FROM audit_log"
    ).fetchall()[0]
    assert (actor, action, target, rows) == ("ana", "export.downloaded", "vinculo_clv", 25)
    assert json.loads(detail) == {
        "format": "csv",
        "columns": ["customer_id", "email"],
        "masked": ["email"],
    }
    assert store.data_version(con) == version  # an audit event drops no cache

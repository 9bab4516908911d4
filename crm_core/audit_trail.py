"""The audit trail (LGPD art. 37, record of processing): reading it, and recording page exports.

`audit_log` is append-only: every write in `crm_core` appends one event (`store.audit`: who,
when, what action, on what target, how many rows, a JSON detail) inside the write's own
transaction, and nothing in Vínculo updates or deletes an event — this module only reads them,
and adds one kind: `export.downloaded`, a page's CSV/XLSX download (what, format, rows and the
columns written, with those masked for the role; never the rows themselves).

Days are local days of the business time zone (`store.connect` sets it), as everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import duckdb
import polars as pl

from crm_core import store
from crm_core.summary import query_frame

AUDIT_COLUMNS: tuple[str, ...] = (
    "event_id", "logged_at", "actor", "action", "target", "rows", "detail",
)  # fmt: skip

_EVENTS_SQL = """
SELECT event_id, logged_at, actor, action, target, rows, detail::VARCHAR AS detail
FROM audit_log
WHERE (len($actions::VARCHAR[]) = 0 OR list_contains($actions::VARCHAR[], action))
  AND (len($actors::VARCHAR[]) = 0 OR list_contains($actors::VARCHAR[], actor))
  AND ($start::DATE IS NULL OR logged_at >= $start::DATE::TIMESTAMP::TIMESTAMPTZ)
  AND ($end::DATE IS NULL OR logged_at < ($end::DATE + 1)::TIMESTAMP::TIMESTAMPTZ)
  AND ($target = '' OR contains(lower(coalesce(target, '')), lower($target)))
ORDER BY event_id DESC
LIMIT $limit
"""
_FACETS_SQL = """
SELECT list_sort(list_distinct(list(action))) AS actions,
       list_sort(list_distinct(list(actor))) AS actors,
       min(logged_at)::DATE AS first_day, max(logged_at)::DATE AS last_day,
       count(*) AS events
FROM audit_log
"""


def audit_facets(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """What the trail holds, for filters: `actions` and `actors` (sorted lists), `first_day`
    and `last_day` (local days; None when empty) and `events` (count)."""
    row = query_frame(con, _FACETS_SQL).row(0, named=True)
    return {
        "actions": row["actions"] or [],
        "actors": row["actors"] or [],
        "first_day": row["first_day"],
        "last_day": row["last_day"],
        "events": int(row["events"]),
    }


def audit_events(
    con: duckdb.DuckDBPyConnection,
    *,
    actions: Sequence[str] = (),
    actors: Sequence[str] = (),
    start: date | None = None,
    end: date | None = None,
    target: str = "",
    limit: int = 10_000,
) -> pl.DataFrame:
    """Events matching every filter given, newest first, at most `limit`: `AUDIT_COLUMNS`
    (`detail` as JSON text). `actions` / `actors`: any of them (empty: all); `start`..`end`:
    local days, both included; `target`: text the target contains, case ignored."""
    params = {
        "actions": list(actions), "actors": list(actors), "start": start, "end": end,
        "target": target.strip(), "limit": limit,
    }  # fmt: skip
    return query_frame(con, _EVENTS_SQL, params)


def events_per_action(events: pl.DataFrame) -> pl.DataFrame:
    """`action, events` (count) of an `audit_events` frame, most frequent first (ties by
    action)."""
    return (
        events.group_by("action").len("events").sort(["events", "action"], descending=[True, False])
    )


def record_export(
    con: duckdb.DuckDBPyConnection,
    actor: str,
    what: str,
    fmt: str,
    rows: int,
    columns: Sequence[str],
    masked: Sequence[str] = (),
) -> None:
    """Append `export.downloaded`: `actor` downloaded `rows` rows of `what` (a page's file
    name) as `fmt`, with `columns`, of which `masked` were masked. No row content."""
    with store.transaction(con):
        store.audit(
            con, actor, "export.downloaded", target=what, rows=rows,
            detail={"format": fmt, "columns": list(columns), "masked": list(masked)},
        )  # fmt: skip

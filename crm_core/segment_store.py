"""Named, versioned segment configurations in the store's `configs` table (kind 'segments').

Every save adds a new version (1, 2, …) of its name and an audit-log event; nothing is
overwritten, so an analyst can go back to, or compare with, any earlier threshold set.

Saving does not bump the store's `data_version`: that counter keys caches of what is
computed from the customer data (the summary, the model fits), and a configuration changes
none of it. Segments are recomputed from the cached summary with the configuration as an
argument, so the configuration itself is the cache key; bumping would throw away the
expensive summary for nothing.
"""

from __future__ import annotations

import duckdb
import polars as pl

from crm_core.config_store import list_versions, load_body, save_version
from crm_core.errors import VinculoError
from crm_core.segment_config import SegmentConfig, default_config

KIND = "segments"


def save_config(con: duckdb.DuckDBPyConnection, config: SegmentConfig, actor: str) -> int:
    """Store `config` under its name as a new version; returns that version (1 for the first)."""
    return save_version(con, KIND, config.name, config.to_json(), actor, "segments.config_saved")


def load_config(
    con: duckdb.DuckDBPyConnection, name: str = "default", version: int | None = None
) -> SegmentConfig:
    """The configuration `name` at `version` (default: its latest).

    With nothing saved under "default", returns `default_config()`; any other missing
    name or version raises `VinculoError("segments.config_not_found")`.
    """
    body = load_body(con, KIND, name, version)
    if body is not None:
        return SegmentConfig.from_json(body)
    if name == "default" and version is None:
        return default_config()
    raise VinculoError("segments.config_not_found", name=name, version=version or "latest")


def latest_config(con: duckdb.DuckDBPyConnection) -> tuple[SegmentConfig, int | None]:
    """The most recently saved configuration of any name and its version, else the default."""
    rows = con.execute(
        "SELECT body, version FROM configs WHERE kind = ? "
        "ORDER BY created_at DESC, version DESC LIMIT 1",
        [KIND],
    ).fetchall()
    if not rows:
        return default_config(), None
    return SegmentConfig.from_json(rows[0][0]), int(rows[0][1])


def list_configs(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every saved version: `name, version, created_at, created_by`, newest first per name."""
    return list_versions(con, KIND)

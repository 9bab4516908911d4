"""Business settings: validation, JSON round trip, versioned and audited storage."""

from __future__ import annotations

import duckdb
import pytest

from crm_core.errors import VinculoError
from crm_core.settings import (
    BusinessSettings,
    SpendEntry,
    list_settings,
    load_settings,
    save_settings,
    spend_frame,
)


def _example() -> BusinessSettings:
    return BusinessSettings(
        channel_costs={"phone": 6.5, "email": 0.02},
        order_cost=3.0,
        gross_margin=0.4,
        acquisition_spend=(SpendEntry("paid_search", "2026-05", 12000.0),),
        targets={"new_customers": 300, "retention_rate": 0.35},
    )


def test_json_round_trip() -> None:
    settings = _example()
    assert BusinessSettings.from_json(settings.to_json()) == settings


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"gross_margin": 1.5}, "settings.bad_margin"),
        ({"order_cost": -1.0}, "settings.negative_cost"),
        ({"channel_costs": {"phone": -2.0}}, "settings.negative_cost"),
        ({"targets": {"happiness": 1.0}}, "settings.unknown_kpi"),
        ({"acquisition_spend": (SpendEntry("referral", "05/2026", 10.0),)}, "settings.bad_month"),
        (
            {"acquisition_spend": (SpendEntry("referral", "2026-05", -10.0),)},
            "settings.negative_cost",
        ),
    ],
)
def test_invalid_settings_are_refused(changes: dict, key: str) -> None:
    with pytest.raises(VinculoError) as caught:
        _example().with_changes(**changes)
    assert caught.value.key == key


def test_spend_frame() -> None:
    frame = spend_frame(_example())
    assert frame.rows() == [("paid_search", "2026-05", 12000.0)]
    assert spend_frame(BusinessSettings()).height == 0


def test_nothing_saved_gives_empty_defaults(con: duckdb.DuckDBPyConnection) -> None:
    settings = load_settings(con)
    assert settings.channel_costs == {} and settings.targets == {}
    assert settings.gross_margin == 1.0


def test_versions_are_kept_and_audited(con: duckdb.DuckDBPyConnection) -> None:
    first = _example()
    assert save_settings(con, first, "ana") == 1
    second = first.with_changes(order_cost=4.0)
    assert save_settings(con, second, "bia") == 2
    assert load_settings(con) == second
    assert load_settings(con, version=1) == first
    assert list_settings(con)["version"].to_list() == [2, 1]
    actors = con.sql(
        "SELECT actor FROM audit_log WHERE action = 'settings.saved' ORDER BY event_id"
    ).fetchall()
    assert actors == [("ana",), ("bia",)]
    with pytest.raises(VinculoError) as caught:
        load_settings(con, version=9)
    assert caught.value.key == "settings.not_found"

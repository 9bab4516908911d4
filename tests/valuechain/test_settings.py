"""Business settings: validation, JSON round trip, versioned and audited storage."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

from crm_core.errors import VinculoError
from crm_core.settings import (
    INTERACTION_CHANNELS,
    TARGET_KPI_IDS,
    TARGET_KPIS,
    TARGET_UNITS,
    BusinessSettings,
    SpendEntry,
    acquisition_sources,
    channel_cost_frame,
    has_service_costs,
    list_settings,
    load_settings,
    save_settings,
    settings_from_frames,
    spend_entries,
    spend_frame,
    target_frame,
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


@pytest.mark.parametrize("month", ["2026-13", "2026-00", "2026-1", "26-05", "2026/05"])
def test_months_must_be_calendar_months(month: str) -> None:
    with pytest.raises(VinculoError) as caught:
        _example().with_changes(acquisition_spend=(SpendEntry("referral", month, 1.0),))
    assert caught.value.key == "settings.bad_month"


@pytest.mark.parametrize(
    ("kpi", "value"),
    [("retention_rate", 1.2), ("csat", -0.1), ("nps", 101.0), ("new_customers", -5.0),
     ("net_revenue", float("nan"))],
)  # fmt: skip
def test_targets_must_be_possible(kpi: str, value: float) -> None:
    with pytest.raises(VinculoError) as caught:
        _example().with_changes(targets={kpi: value})
    assert caught.value.key == "settings.bad_target"
    assert _example().with_changes(targets={"nps": -100.0}).targets == {"nps": -100.0}


def test_every_target_kpi_has_a_unit_and_a_kpi_definition() -> None:
    from crm_core.kpi_defs import KPIS

    assert set(TARGET_UNITS) == set(TARGET_KPIS)
    for kpi, kpi_id in TARGET_KPI_IDS.items():
        assert KPIS[kpi_id].unit == TARGET_UNITS[kpi], kpi


def test_service_costs_are_known_only_when_some_cost_is_set() -> None:
    assert not has_service_costs(BusinessSettings())
    assert not has_service_costs(BusinessSettings(channel_costs={"email": 0.0}, gross_margin=0.3))
    assert has_service_costs(BusinessSettings(order_cost=2.0))
    assert has_service_costs(BusinessSettings(channel_costs={"sms": 0.1}))


def test_editor_tables_round_trip() -> None:
    settings = _example().with_changes(channel_costs={"phone": 6.5, "fax": 1.0})
    costs = channel_cost_frame(settings)
    assert costs["channel"].to_list() == [*INTERACTION_CHANNELS, "fax"]
    assert dict(costs.rows())["phone"] == 6.5 and dict(costs.rows())["email"] is None
    targets = target_frame(settings)
    assert targets["kpi"].to_list() == list(TARGET_KPIS)
    again = settings_from_frames(BusinessSettings(), costs, spend_frame(settings), targets,
                                 order_cost=3.0, gross_margin=0.4)  # fmt: skip
    assert again == settings


def test_spend_rows_blank_partial_and_duplicate() -> None:
    schema = {"source": pl.String, "month": pl.String, "amount": pl.Float64}
    rows = [("referral", "2026-05", 10.0), (None, None, None), (" events ", "2026-06", 5.0)]
    entries = spend_entries(pl.DataFrame(rows, schema=schema, orient="row"))
    assert entries == (
        SpendEntry("referral", "2026-05", 10.0),
        SpendEntry("events", "2026-06", 5.0),
    )
    partial = pl.DataFrame([("referral", "", 10.0), ("x", "2026-01", None)], schema=schema,
                           orient="row")  # fmt: skip
    with pytest.raises(VinculoError) as caught:
        spend_entries(partial)
    assert caught.value.key == "settings.incomplete_spend"
    assert caught.value.params == {"rows": "1, 2"}
    twice = pl.DataFrame([("referral", "2026-05", 1.0), ("referral", "2026-05", 2.0)],
                         schema=schema, orient="row")  # fmt: skip
    with pytest.raises(VinculoError) as caught:
        spend_entries(twice)
    assert caught.value.key == "settings.duplicate_spend"


def test_acquisition_sources(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "INSERT INTO customers (customer_id, acquisition_channel, erased_at) VALUES "
        "('a', 'referral', NULL), ('b', 'paid_search', NULL), ('c', 'referral', NULL), "
        "('d', NULL, NULL), ('e', 'secret', now())"
    )
    assert acquisition_sources(con) == ["paid_search", "referral"]


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_error_messages_exist_in_both_languages(lang: str) -> None:
    from crm_core.i18n import catalogue

    keys = {k for k in catalogue("en") if k.startswith("settings.")}
    assert keys == {k for k in catalogue(lang) if k.startswith("settings.")}
    assert {"settings.bad_target", "settings.incomplete_spend", "settings.duplicate_spend"} <= keys

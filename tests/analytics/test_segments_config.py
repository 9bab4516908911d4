"""SegmentConfig: validation, JSON round trip, versioned storage in the `configs` table."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import duckdb
import pytest

from crm_core import store
from crm_core.errors import VinculoError
from crm_core.i18n import catalogue
from crm_core.lifecycle import LifecycleRules
from crm_core.segments import (
    RFMSettings,
    SegmentConfig,
    SegmentRule,
    TierSettings,
    default_config,
    latest_config,
    list_configs,
    load_config,
    save_config,
    segment_label,
)


def custom_config() -> SegmentConfig:
    return SegmentConfig(
        name="b2b",
        rfm=RFMSettings(
            mode="thresholds",
            recency_cuts=(15, 45, 120, 400),
            frequency_cuts=(2, 4, 6, 12),
            monetary_cuts=(1e3, 5e3, 2e4, 1e5),
        ),
        rules=(SegmentRule("Key accounts", r=(4, 5), f=(4, 5), m=(5, 5)),),
        catch_all="Everyone else",
        tiers=TierSettings(names=("A", "B"), mode="absolute", cuts=(50_000.0,), value="revenue"),
        churn_window_days=365,
        window_days=90,
        lifecycle=LifecycleRules(exploration_days=30, p_alive_cutoff=0.5),
    )


@pytest.mark.parametrize("config", [default_config(), custom_config()], ids=["default", "b2b"])
def test_json_round_trip(config: SegmentConfig) -> None:
    text = config.to_json()
    assert SegmentConfig.from_json(text) == config
    assert json.loads(text)["rules"][0]["r"] == list(config.rules[0].r)


def test_missing_keys_take_defaults() -> None:
    config = SegmentConfig.from_json('{"name": "x", "rfm": {"mode": "thresholds"}}')
    assert config.rfm.recency_cuts == RFMSettings().recency_cuts
    assert config.rules == default_config().rules and config.name == "x"


BAD: list[tuple[str, dict[str, Any], str]] = [
    ("rfm cuts not increasing", {"rfm": {"recency_cuts": [30, 20, 180, 365]}}, "bad_cuts"),
    ("rfm three cuts", {"rfm": {"frequency_cuts": [1, 2, 3]}}, "bad_cuts"),
    ("rfm equal cuts", {"rfm": {"monetary_cuts": [1, 1, 2, 3]}}, "bad_cuts"),
    ("rfm mode", {"rfm": {"mode": "kmeans"}}, "bad_mode"),
    ("rule range above 5", {"rules": [{"name": "x", "r": [4, 6]}]}, "bad_range"),
    ("rule range reversed", {"rules": [{"name": "x", "f": [3, 2]}]}, "bad_range"),
    ("rule without name", {"rules": [{"r": [1, 5]}]}, "empty_name"),
    ("no rules", {"rules": []}, "no_rules"),
    ("tier cuts count", {"tiers": {"cuts": [0.1, 0.5]}}, "bad_cuts"),
    ("tier share above 1", {"tiers": {"cuts": [0.1, 0.5, 1.5]}}, "bad_cuts"),
    ("tier duplicate names", {"tiers": {"names": ["a", "a"], "cuts": [0.5]}}, "bad_tier_names"),
    ("tier value", {"tiers": {"value": "margin"}}, "bad_tier_value"),
    ("window", {"window_days": 0}, "bad_window"),
    ("label clash", {"no_purchase": "Lost"}, "label_clash"),
    ("unknown key", {"rfm": {"cut": 1}}, "unknown_keys"),
    ("not an object", {"rfm": [1, 2]}, "bad_json"),
]


@pytest.mark.parametrize(("data", "key"), [(d, k) for _, d, k in BAD], ids=[n for n, _, _ in BAD])
def test_invalid_settings_raise_localised_errors(data: dict[str, Any], key: str) -> None:
    with pytest.raises(VinculoError) as info:
        SegmentConfig.from_dict(data)
    assert info.value.key == f"segments.{key}"
    pt = info.value.message("pt_BR")
    assert pt != info.value.key and pt != info.value.message("en")


def test_not_json() -> None:
    with pytest.raises(VinculoError) as info:
        SegmentConfig.from_json("{rfm: ")
    assert info.value.key == "segments.bad_json"


def test_catalogues_have_the_same_keys() -> None:
    en = {k for k in catalogue("en") if k.startswith("segments.")}
    pt = {k for k in catalogue("pt_BR") if k.startswith("segments.")}
    assert en == pt and len(en) > 20


def test_labels_translate_default_names_only() -> None:
    assert segment_label("Cannot Lose Them", "pt_BR") == "Não podemos perder"
    assert segment_label("Key accounts", "pt_BR") == "Key accounts"


# --- storage -------------------------------------------------------------------------------


def test_default_when_nothing_saved(con: duckdb.DuckDBPyConnection) -> None:
    assert load_config(con) == default_config()
    assert latest_config(con) == (default_config(), None)
    assert list_configs(con).height == 0


def test_each_save_is_a_new_audited_version(con: duckdb.DuckDBPyConnection) -> None:
    first = custom_config()
    second = replace(first, rfm=replace(first.rfm, recency_cuts=(10, 45, 120, 400)))
    data_version = store.data_version(con)
    assert save_config(con, first, "ana") == 1
    assert save_config(con, second, "bia") == 2
    assert save_config(con, default_config(), "ana") == 1  # another name: its own versions
    assert load_config(con, "b2b") == second
    assert load_config(con, "b2b", version=1) == first
    assert latest_config(con) == (default_config(), 1)
    listed = list_configs(con)
    assert listed.select("name", "version", "created_by").rows() == [
        ("b2b", 2, "bia"),
        ("b2b", 1, "ana"),
        ("default", 1, "ana"),
    ]
    audit = con.execute(
        "SELECT actor, action, target, detail->>'version' FROM audit_log ORDER BY event_id"
    ).fetchall()
    assert audit == [
        ("ana", "segments.config_saved", "b2b", "1"),
        ("bia", "segments.config_saved", "b2b", "2"),
        ("ana", "segments.config_saved", "default", "1"),
    ]
    assert store.data_version(con) == data_version  # configs do not invalidate data caches


@pytest.mark.parametrize(("name", "version"), [("nope", None), ("b2b", 7), ("default", 3)])
def test_unknown_config_is_a_user_error(
    con: duckdb.DuckDBPyConnection, name: str, version: int | None
) -> None:
    save_config(con, custom_config(), "ana")
    with pytest.raises(VinculoError) as info:
        load_config(con, name, version)
    assert info.value.key == "segments.config_not_found"

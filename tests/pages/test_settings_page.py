"""Settings page: edit, validate, save as an audited version, reload an older one; the saved
settings survive a restart and feed the Portfolio page.

AppTest cannot type into a data editor: edits are seeded as the editor's state
(`edited_rows`, `added_rows`, `deleted_rows`) in session state before a run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from crm_core import store
from crm_core.i18n.format import format_money
from crm_core.settings import (
    INTERACTION_CHANNELS,
    BusinessSettings,
    SpendEntry,
    acquisition_sources,
    list_settings,
    load_settings,
    save_settings,
)
from tests.pages.conftest import open_page

PAGE = "pages/settings.py"
PHONE = INTERACTION_CHANNELS.index("phone")
EMAIL = INTERACTION_CHANNELS.index("email")
EXPECTED = BusinessSettings(
    channel_costs={"phone": 6.5, "email": 0.05},
    order_cost=3.0,
    gross_margin=0.4,
    acquisition_spend=(SpendEntry("referral", "2026-05", 1200.0),),
    targets={"new_customers": 300.0, "retention_rate": 0.35, "nps": -20.0},
)


def _edit(at: AppTest, key: str, edited=None, added=None, deleted=None) -> None:
    at.session_state[key] = {
        "edited_rows": edited or {}, "added_rows": added or [], "deleted_rows": deleted or [],
    }  # fmt: skip


def _fill(at: AppTest) -> AppTest:
    """Enter `EXPECTED` in the editors (targets: new customers, retention 35 %, NPS −20)."""
    _edit(at, "settings_costs", {PHONE: {"cost": 6.5}, EMAIL: {"cost": 0.05}})
    _edit(at, "settings_spend", added=[{"source": "referral", "month": "2026-05",
                                         "amount": 1200.0}])  # fmt: skip
    _edit(at, "settings_targets", {0: {"target": 300}, 3: {"target": 35}, 8: {"target": -20}})
    at.number_input(key="settings_order_cost").set_value(3.0)
    at.number_input(key="settings_margin").set_value(40.0)
    return at.run()


def _editor(at: AppTest, key: str):
    return next(e for e in at.data_editor if e.key == key).value


def _saved_events(path: Path) -> list[tuple]:
    with store.connect(path) as con:
        return con.execute(
            "SELECT actor, detail FROM audit_log WHERE action = 'settings.saved' ORDER BY event_id"
        ).fetchall()


def list_versions(path: Path) -> list[int]:
    with store.connect(path) as con:
        return list_settings(con)["version"].to_list()


def test_defaults_and_what_each_setting_feeds(demo_db: Path) -> None:
    at = open_page(PAGE, "en")
    costs = _editor(at, "settings_costs")
    assert costs["channel"].tolist() == list(INTERACTION_CHANNELS)
    assert costs["cost"].isna().all()  # nothing set: unknown, not zero
    assert at.number_input(key="settings_margin").value == 100.0
    assert at.button(key="settings_save").disabled  # nothing to save
    links = [link.proto.page for link in at.get("page_link")]
    assert links == ["portfolio", "network", "relationships", "processes"]
    assert "Customer portfolio analysis" in [link.proto.label for link in at.get("page_link")]
    with store.connect(demo_db) as con:
        sources = acquisition_sources(con)
    spend = next(e for e in at.data_editor if e.key == "settings_spend")
    options = json.loads(spend.proto.columns)["source"]["type_config"]["options"]
    assert options == sources and "referral" in options
    targets = _editor(at, "settings_targets")
    assert targets["unit"].tolist()[:4] == [
        "customers per month",
        "customers",
        "R$ per month",
        "% (0–100)",
    ]


def test_save_writes_an_audited_version(demo_db: Path) -> None:
    at = _fill(open_page(PAGE, "en"))
    assert not at.exception and not at.error
    assert not at.button(key="settings_save").disabled
    at.button(key="settings_save").click().run()
    assert not at.exception
    assert at.success[0].value == "Saved as version 1."
    with store.connect(demo_db) as con:
        assert load_settings(con) == EXPECTED
        (who,) = list_settings(con)["created_by"].to_list()
    assert who  # the session's actor (ui.context.actor): "app", or the signed-in user
    assert _saved_events(demo_db) == [(who, '{"version": 1}')]
    history = at.dataframe[-1].value
    assert history["version"].tolist() == [1] and history["created_by"].tolist() == [who]
    assert at.button(key="settings_save").disabled  # the editors now hold what is saved


def test_saved_settings_survive_a_restart(demo_db: Path) -> None:
    _fill(open_page(PAGE, "en")).button(key="settings_save").click().run()
    st.cache_data.clear()  # as after a restart: nothing in memory, the store alone
    st.cache_resource.clear()
    fresh = open_page(PAGE, "pt_BR")
    costs = _editor(fresh, "settings_costs").set_index("channel")["cost"]
    assert costs["phone"] == 6.5 and costs["email"] == 0.05
    assert fresh.number_input(key="settings_order_cost").value == 3.0
    assert fresh.number_input(key="settings_margin").value == 40.0
    spend = _editor(fresh, "settings_spend")
    assert spend.to_dict("records") == [{"source": "referral", "month": "2026-05",
                                         "amount": 1200.0}]  # fmt: skip
    targets = _editor(fresh, "settings_targets").set_index("kpi")["target"]
    assert targets["retention_rate"] == pytest.approx(35.0)  # shown in percent
    assert targets["nps"] == -20.0
    assert fresh.dataframe[-1].value["version"].tolist() == [1]


@pytest.mark.parametrize(
    ("lang", "expected"),
    [("en", "row 1 needs a source"), ("pt_BR", "a linha 1 precisa de origem")],
)
def test_invalid_rows_are_refused_in_the_users_language(
    demo_db: Path, lang: str, expected: str
) -> None:
    at = open_page(PAGE, lang)
    _edit(at, "settings_spend", added=[{"source": "referral", "amount": 10.0}])
    at.run()
    assert not at.exception
    assert expected in at.error[0].value
    assert at.button(key="settings_save").disabled
    assert list_versions(demo_db) == []


def test_duplicate_spend_is_refused(demo_db: Path) -> None:
    at = open_page(PAGE, "en")
    row = {"source": "referral", "month": "2026-05", "amount": 10.0}
    _edit(at, "settings_spend", added=[row, {**row, "amount": 20.0}])
    at.run()
    assert "appears twice" in at.error[0].value


def test_load_an_older_version_and_save_it_again(demo_db: Path) -> None:
    with store.connect(demo_db) as con:
        save_settings(con, EXPECTED, "ana")
        save_settings(con, EXPECTED.with_changes(order_cost=9.0), "bia")
    at = open_page(PAGE, "en")
    assert at.number_input(key="settings_order_cost").value == 9.0
    assert at.dataframe[-1].value["created_by"].tolist() == ["bia", "ana"]
    at.selectbox(key="settings_load_pick").set_value(1)
    at.button(key="settings_load").click().run()
    assert not at.exception
    assert at.number_input(key="settings_order_cost").value == 3.0
    assert "version 1" in at.warning[0].value
    at.button(key="settings_save").click().run()
    assert list_versions(demo_db) == [3, 2, 1]
    with store.connect(demo_db) as con:
        assert load_settings(con) == EXPECTED


def test_portfolio_uses_the_saved_costs(demo_db: Path) -> None:
    before = open_page("pages/portfolio.py", "en")
    assert "No cost to serve" in before.info[0].value
    _fill(open_page(PAGE, "en")).button(key="settings_save").click().run()
    after = open_page("pages/portfolio.py", "en")
    assert not after.info
    metrics = {m.label: m.value for m in after.metric}
    assert metrics["Cost to serve"] != format_money(0, "en")
    captions = " ".join(c.value for c in after.caption)
    assert "Gross margin used: 40.0% (Settings version 1)" in captions


def test_empty_store(empty_db: Path) -> None:
    at = open_page(PAGE, "en")
    assert not at.exception
    assert "no customers with an acquisition source" in " ".join(c.value for c in at.caption)
    _edit(at, "settings_costs", {PHONE: {"cost": 4.0}})
    at.run()
    at.button(key="settings_save").click().run()
    assert list_versions(empty_db) == [1]

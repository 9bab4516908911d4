"""An analyst's journey in a real browser: tweak a threshold, save it, export a target list.

On the Differentiate page the churn window is moved with the keyboard and the
configuration saved under a name; it becomes the active configuration, so the
Customize page's target list is computed under it. The downloaded CSV must hold
exactly the customers `crm_core` lists for that rule under the saved
configuration, every one with a granted consent for the rule's channel, and the
export must be in the audit trail.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Page

from crm_core import store
from crm_core.clv import fit_clv
from crm_core.customize import assign_actions, build_profile, load_rules
from crm_core.demo import build_demo
from crm_core.kpis import last_order_date
from crm_core.lifecycle import assign_stages
from crm_core.relationship import RelationshipRules, interaction_profile, relationship_types
from crm_core.segment_config import default_config
from crm_core.segment_store import latest_config
from crm_core.segments import segment_customers
from crm_core.summary import customer_summary
from crm_core.targeting import contact_columns, current_consents, target_list
from tests.e2e.server import (
    free_port,
    login,
    screenshot,
    start_server,
    stop,
    wait_for_app,
    wait_healthy,
)

pytestmark = pytest.mark.e2e

STEPS = 15
"""Days added to the churn window with the keyboard (one day per ArrowRight)."""


def _expected_targets(db: Path, rule: str) -> set[str]:
    """Customer ids `crm_core` lists for `rule` under the latest saved configuration."""
    with store.connect(db) as con:
        config, _ = latest_config(con)
        as_of = last_order_date(con)
        assert as_of is not None
        summary = customer_summary(con, as_of, window_days=config.window_days)
        clv = fit_clv(con, calibration_end=as_of).customers
        typed = relationship_types(summary, interaction_profile(con, as_of), RelationshipRules())
        segmented = segment_customers(summary, config, clv)
        staged = assign_stages(summary, config.lifecycle, config.churn_window_days, clv)
        ruleset = load_rules(con)
        assigned = assign_actions(build_profile(segmented, staged, typed), ruleset)
        channel = ruleset.rule(rule).channel
        frame, _ = target_list(con, assigned, rule, columns=contact_columns(channel))
    return set(frame["customer_id"].to_list())


def _move_churn_window(page: Page) -> None:
    slider = page.locator('[data-testid="stSlider"]').filter(has_text="Churn window (days)")
    thumb = slider.get_by_role("slider")
    thumb.focus()
    for _ in range(STEPS):
        thumb.press("ArrowRight")
    page.keyboard.press("Tab")
    wait_for_app(page)


def test_tweak_threshold_save_and_export_target_list(tmp_path: Path, page: Page) -> None:
    db = tmp_path / "journey.duckdb"
    build_demo(db, customers=2500, seed=11, as_of=date(2026, 6, 30))
    port = free_port()
    server = start_server(db, port)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, server)
        page.goto(f"{url}/differentiate?lang=en")
        login(page, "analyst")  # thresholds and target lists: an analyst's job
        page.get_by_role("heading", name="Differentiate").first.wait_for()
        _move_churn_window(page)
        page.get_by_role("textbox", name="Configuration name").fill("e2e tweak")
        page.get_by_role("button", name="Save configuration").click()
        page.get_by_text('Saved "e2e tweak" as version 1').wait_for()
        screenshot(page, "differentiate-saved")

        with store.connect(db) as con:
            saved, _ = latest_config(con)
            audited = store.scalar(
                con, "SELECT count(*) FROM audit_log WHERE action = 'segments.config_saved'"
            )
        assert saved.name == "e2e tweak" and audited == 1
        assert saved.churn_window_days == default_config().churn_window_days + STEPS

        page.goto(f"{url}/customize?lang=en")
        wait_for_app(page)
        rule = "win_back_at_risk"
        box = page.get_by_role("combobox", name="Rule", exact=True)
        box.click()
        option = page.get_by_role("option").filter(has_text=rule).first
        if not option.is_visible():
            box.press("ArrowDown")
        option.click()
        wait_for_app(page)
        page.locator('[data-testid="stMetric"]').filter(has_text="On the list").first.wait_for()
        button = page.get_by_role("button", name="Download target list (CSV)")
        button.wait_for()
        wait_for_app(page)
        with page.expect_download(timeout=120_000) as download:
            button.click()
        text = Path(download.value.path()).read_text(encoding="utf-8-sig")
        screenshot(page, "customize-exported")
    finally:
        stop(server)

    rows = list(csv.DictReader(io.StringIO(text)))
    listed = {row["customer_id"] for row in rows}
    assert listed == _expected_targets(db, rule)
    assert listed, "the win-back rule should reach someone on the demo data"
    assert {row["rule"] for row in rows} == {rule}
    with store.connect(db) as con:
        consents = current_consents(con)
        exported = con.sql(
            "SELECT actor, target, rows FROM audit_log WHERE action = 'targeting.exported'"
        ).fetchall()
    channel = rows[0]["channel"]
    granted = consents.filter((consents["channel"] == channel) & consents["granted"])
    assert listed <= set(granted["customer_id"].to_list())
    assert exported == [("analyst", rule, len(rows))]

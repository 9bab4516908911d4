"""Audit trail page on the demo store: the events shown are crm_core's, filters narrow them,
only admins read it, and nothing on the page edits an event."""

from __future__ import annotations

from pathlib import Path

import pytest

from crm_core import store
from crm_core.audit_trail import audit_events
from crm_core.i18n import translate
from crm_core.i18n.format import format_number
from crm_core.subject import export_subject
from tests.privacy.render import Downloads, open_any

PAGE = "pages/audit.py"


def seed(db: Path) -> None:
    """Three more events on top of the demo's `demo.build`: two exports and a merge."""
    from crm_core.identity_merge import merge

    with store.connect(db) as con:
        export_subject(con, "C0000023", "json", "dpo")
        export_subject(con, "C0000031", "zip", "dpo")
        merge(con, ["C0000721"], "C0000023", "ana")


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_events_are_crm_cores_newest_first(demo_db: Path, lang: str) -> None:
    seed(demo_db)
    at = open_any(PAGE, lang)
    with store.connect(demo_db) as con:
        expected = audit_events(con)
    shown = at.dataframe[0].value
    assert at.title[0].value == translate("page.audit.title", lang)
    assert shown["event_id"].tolist() == expected["event_id"].to_list()
    assert shown["action"].tolist()[:3] == [
        "identity.merge", "privacy.subject_exported", "privacy.subject_exported"
    ]  # fmt: skip
    assert shown.columns.tolist() == ["event_id", "logged_at", "actor", "action", "target",
                                      "rows", "detail"]  # fmt: skip
    assert at.metric[0].value == format_number(expected.height, lang)
    bars = at.get("plotly_chart")[0].proto.spec
    assert "privacy.subject_exported" in bars and "demo.build" in bars


def test_filters_narrow_the_events(demo_db: Path) -> None:
    seed(demo_db)
    at = open_any(PAGE)
    at.multiselect(key="audit_actions").set_value(["privacy.subject_exported"]).run()
    assert at.dataframe[0].value["target"].tolist() == ["C0000031", "C0000023"]
    at.multiselect(key="audit_actions").set_value([]).run()
    at.multiselect(key="audit_actors").set_value(["ana"]).run()
    assert at.dataframe[0].value["action"].tolist() == ["identity.merge"]
    at.multiselect(key="audit_actors").set_value([]).run()
    at.text_input(key="audit_target").input("c0000031").run()
    assert at.dataframe[0].value["target"].tolist() == ["C0000031"]
    at.text_input(key="audit_target").input("nobody").run()
    assert not at.dataframe and at.info[0].value == translate("page.audit.none", "en")


def test_download_is_itself_audited(demo_db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = Downloads().install(monkeypatch)
    open_any(PAGE)
    data = files.file("audit_dl_csv").decode("utf-8-sig")
    assert "demo.build" in data
    with store.connect(demo_db) as con:
        newest = audit_events(con, limit=1).row(0, named=True)
    assert (newest["actor"], newest["action"], newest["target"]) == (
        "admin", "export.downloaded", "audit_trail"
    )  # fmt: skip


def test_nothing_edits_an_event(demo_db: Path) -> None:
    at = open_any(PAGE)
    assert not at.get("data_editor")  # a table and filters, no edit control
    assert [b.key for b in at.main.button] == []


@pytest.mark.parametrize("role", ["manager", "analyst", "marketing"])
def test_only_admins(demo_db: Path, role: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_any(PAGE, role=role)
    assert not at.dataframe and at.error  # refused by the access check of page_header
    monkeypatch.setattr("ui.auth.require_page", lambda _page: None)  # if that check were gone
    at = open_any(PAGE, role=role)
    assert not at.dataframe
    assert at.error[0].value == translate("page.audit.refused", "en")


def test_empty_store(empty_db: Path) -> None:
    at = open_any(PAGE, "pt_BR")
    assert at.info[0].value == translate("page.audit.empty", "pt_BR")
    assert not at.dataframe

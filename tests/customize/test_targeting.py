"""Consent-aware target lists: consent history, missing contact, erasure, audited safe export."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta

import openpyxl
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_core.errors import VinculoError
from crm_core.identity_merge import merge, unmerge
from crm_core.targeting import current_consents, export_target_list, target_list

T0 = datetime(2025, 1, 1, 12, tzinfo=UTC)


def add_customer(con, cid, *, name="Ana", email="a@x.com", phone="11987654321", erased=False):
    con.execute(
        "INSERT INTO customers (customer_id, name, email, phone, city, zip, erased_at) "
        "VALUES (?, ?, ?, ?, 'São Paulo', '01000-000', ?)",
        [cid, name, email, phone, T0 if erased else None],
    )


def consent(con, cid, channel, granted, day, source="form"):
    con.execute(
        "INSERT INTO consents (customer_id, channel, granted, recorded_at, source) "
        "VALUES (?, ?, ?, ?, ?)",
        [cid, channel, granted, T0 + timedelta(days=day), source],
    )


def assigned(rule_of: dict[str, tuple[str, str]]) -> pl.DataFrame:
    """assign_actions-like output: customer → (rule, channel)."""
    return pl.DataFrame(
        {
            "customer_id": list(rule_of),
            "rule": [r for r, _ in rule_of.values()],
            "offer": ["=1+1 off"] * len(rule_of),
            "message": ["hi"] * len(rule_of),
            "channel": [c for _, c in rule_of.values()],
            "owner": ["crm"] * len(rule_of),
            "conflicts": [0] * len(rule_of),
        }
    )


@pytest.fixture
def world(con):
    add_customer(con, "ok", name='=HYPERLINK("http://x")')
    add_customer(con, "regrant")
    add_customer(con, "withdrawn")
    add_customer(con, "tie")
    add_customer(con, "sms_only")
    add_customer(con, "no_email", email=None)
    add_customer(con, "blank_email", email="  ")
    add_customer(con, "erased", erased=True)
    add_customer(con, "other_rule")
    consent(con, "ok", "email", True, 1)
    consent(con, "regrant", "email", True, 1)
    consent(con, "regrant", "email", False, 2)
    consent(con, "regrant", "email", True, 3, source="app")
    consent(con, "withdrawn", "email", True, 1)
    consent(con, "withdrawn", "email", False, 5)
    consent(con, "withdrawn", "sms", True, 6)
    consent(con, "tie", "email", True, 4)
    consent(con, "tie", "email", False, 4)
    consent(con, "sms_only", "sms", True, 1)
    consent(con, "no_email", "email", True, 1)
    consent(con, "blank_email", "email", True, 1)
    consent(con, "erased", "email", True, 1)
    consent(con, "other_rule", "email", True, 1)
    rules = {c: ("promo", "email") for c in (
        "ok", "regrant", "withdrawn", "tie", "sms_only", "no_email", "blank_email", "erased",
        "ghost")}  # fmt: skip
    rules["other_rule"] = ("nudge", "sms")
    return assigned(rules)


def test_current_consent_is_latest_row(con, world):
    cur = current_consents(con)
    got = {(r["customer_id"], r["channel"]): r["granted"] for r in cur.iter_rows(named=True)}
    assert got[("regrant", "email")] is True
    assert got[("withdrawn", "email")] is False
    assert got[("withdrawn", "sms")] is True
    assert got[("tie", "email")] is False  # a withdrawal wins a tie
    assert cur.filter(pl.col("customer_id") == "regrant")["source"].to_list() == ["app"]
    assert cur.columns == ["customer_id", "channel", "granted", "recorded_at", "source"]


def test_target_list_includes_and_excludes_by_reason(con, world):
    frame, exclusions = target_list(con, world, "promo", columns=("name", "email"))
    assert frame["customer_id"].to_list() == ["ok", "regrant"]
    assert frame.columns == [
        "customer_id", "name", "email", "rule", "offer", "message", "channel", "owner",
        "consent_recorded_at", "consent_source",
    ]  # fmt: skip
    assert frame["consent_source"].to_list() == ["form", "app"]
    assert dict(exclusions.iter_rows()) == {
        "erased": 2,  # erased + ghost (not in the store)
        "no_consent": 1,  # sms_only
        "withdrawn": 2,  # withdrawn, tie
        "missing_contact": 2,  # no_email, blank_email
    }
    assert frame.height + exclusions["customers"].sum() == 9


def test_phone_channel_needs_phone(con):
    add_customer(con, "p1")
    add_customer(con, "p2", phone=None)
    consent(con, "p1", "whatsapp", True, 1)
    consent(con, "p2", "whatsapp", True, 1)
    frame, exclusions = target_list(con, assigned({"p1": ("w", "whatsapp"),
                                                   "p2": ("w", "whatsapp")}), "w")  # fmt: skip
    assert frame["customer_id"].to_list() == ["p1"]
    assert dict(exclusions.iter_rows())["missing_contact"] == 1


def test_unknown_rule_gives_empty_list(con, world):
    frame, exclusions = target_list(con, world, "nobody")
    assert frame.height == 0
    assert exclusions["customers"].sum() == 0


def test_bad_column_refused(con, world):
    with pytest.raises(VinculoError) as info:
        target_list(con, world, "promo", columns=("name; DROP TABLE customers",))
    assert info.value.key == "targeting.bad_column"


def test_export_audited_and_formula_safe(con, world):
    frame, _ = target_list(con, world, "promo")
    data = export_target_list(con, frame, "promo", "csv", "marta")
    text = data.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text and ",=HYPERLINK" not in text
    assert "'=1+1 off" in text
    actor, action, target, rows, detail = con.execute(
        "SELECT actor, action, target, rows, detail FROM audit_log"
    ).fetchall()[0]
    assert (actor, action, target, rows) == ("marta", "targeting.exported", "promo", 2)
    assert json.loads(detail)["format"] == "csv"
    assert "HYPERLINK" not in detail


def test_export_xlsx_and_recheck_drops_withdrawn_since(con, world):
    frame, _ = target_list(con, world, "promo")
    consent(con, "regrant", "email", False, 9)  # withdrawn after the list was built
    data = export_target_list(con, frame, "promo", "xlsx", "marta")
    cells = list(openpyxl.load_workbook(io.BytesIO(data)).active.values)
    header = list(cells[0])
    assert [r[header.index("customer_id")] for r in cells[1:]] == ["ok"]
    assert cells[1][header.index("name")] == '\'=HYPERLINK("http://x")'
    assert isinstance(cells[1][header.index("consent_recorded_at")], datetime)
    rows, detail = con.execute("SELECT rows, detail FROM audit_log").fetchall()[0]
    assert rows == 1
    assert json.loads(detail)["dropped_since_listed"] == 1


def test_export_bad_format(con, world):
    frame, _ = target_list(con, world, "promo")
    with pytest.raises(VinculoError) as info:
        export_target_list(con, frame, "promo", "pdf", "marta")
    assert info.value.key == "targeting.bad_format"
    assert con.execute("SELECT count(*) FROM audit_log").fetchall()[0][0] == 0


history = st.lists(st.tuples(st.booleans(), st.integers(0, 3)), max_size=3)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    people=st.lists(
        st.tuples(history, st.booleans(), st.booleans(), st.booleans()), min_size=1, max_size=8
    )
)
def test_included_plus_excluded_is_candidates(con, people):
    con.execute("DELETE FROM customers")
    con.execute("DELETE FROM consents")
    rules = {}
    expected = set()
    for i, (events, has_email, erased, candidate) in enumerate(people):
        cid = f"c{i}"
        add_customer(con, cid, email="x@y.com" if has_email else None, erased=erased)
        for granted, day in events:
            consent(con, cid, "email", granted, day)
        rules[cid] = ("promo", "email") if candidate else ("other", "email")
        latest = max(events, key=lambda e: (e[1], not e[0]), default=None)
        if candidate and latest and latest[0] and has_email and not erased:
            expected.add(cid)
    frame, exclusions = target_list(con, assigned(rules), "promo")
    candidates = sum(1 for r, _ in rules.values() if r == "promo")
    assert frame.height + exclusions["customers"].sum() == candidates
    assert set(frame["customer_id"]) == expected


def test_merged_records_share_one_consent_history_and_contact(con):
    """A person merged from two records: the latest event under either record decides,
    and a contact field missing on the golden record comes from the member."""
    add_customer(con, "gold", email=None)
    add_customer(con, "member", email="pessoa@x.com")
    add_customer(con, "gold2")
    add_customer(con, "member2")
    consent(con, "gold", "email", True, 1)
    consent(con, "gold2", "email", True, 1)
    consent(con, "member2", "email", False, 5)  # withdrawn later under the other record
    merge(con, ["member"], "gold", actor="test")
    merge(con, ["member2"], "gold2", actor="test")
    rules = {"gold": ("r", "email"), "gold2": ("r", "email")}
    frame, exclusions = target_list(con, assigned(rules), "r", columns=("name", "email"))
    assert frame.select("customer_id", "email").rows() == [("gold", "pessoa@x.com")]
    assert dict(exclusions.rows())["withdrawn"] == 1
    unmerge(con, "member", actor="test")
    frame, exclusions = target_list(con, assigned(rules), "r", columns=("name", "email"))
    assert frame.height == 0 and dict(exclusions.rows())["missing_contact"] == 1

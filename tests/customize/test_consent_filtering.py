"""Consent filtering of target lists, channel by channel, as a table of consent histories."""

from __future__ import annotations

import json

import pytest

from crm_core.errors import VinculoError
from crm_core.targeting import contact_columns, export_target_list, target_list
from tests.customize.test_targeting import add_customer, assigned, consent

# (history of (channel, granted, day), rule channel, expected reason; None = on the list)
CASES = [
    ([("email", True, 1)], "email", None),
    ([("email", True, 1), ("email", False, 2)], "email", "withdrawn"),
    ([("email", False, 1), ("email", True, 2)], "email", None),  # re-granted
    ([("email", True, 1), ("email", False, 2), ("sms", True, 3)], "sms", None),
    ([("email", True, 1), ("email", False, 2), ("sms", True, 3)], "email", "withdrawn"),
    ([("sms", True, 1)], "email", "no_consent"),  # consent is per channel
    ([("whatsapp", True, 1)], "phone", "no_consent"),
    ([("whatsapp", True, 1)], "whatsapp", None),
    ([("email", True, 1), ("email", False, 1)], "email", "withdrawn"),  # same instant
    ([], "mail", "no_consent"),
    ([("mail", True, 1)], "mail", None),
    ([("sms", True, 1), ("sms", False, 4), ("email", True, 5)], "sms", "withdrawn"),
]


@pytest.mark.parametrize(("history", "channel", "reason"), CASES)
def test_consent_decides_per_channel(con, history, channel, reason):
    add_customer(con, "c1")
    for ch, granted, day in history:
        consent(con, "c1", ch, granted, day)
    frame, exclusions = target_list(con, assigned({"c1": ("r", channel)}), "r")
    counts = dict(exclusions.iter_rows())
    assert frame["customer_id"].to_list() == ([] if reason else ["c1"])
    assert counts == {
        name: int(name == reason) for name in ("erased", "no_consent", "withdrawn",
                                               "missing_contact")
    }  # fmt: skip


def test_mixed_list_counts_every_reason_once(con):
    for cid in ("a", "b", "c", "d", "e"):
        add_customer(con, cid, phone=None if cid == "d" else "11987654321")
    consent(con, "a", "sms", True, 1)
    consent(con, "b", "sms", True, 1)
    consent(con, "b", "sms", False, 3)
    consent(con, "c", "email", True, 1)  # not the rule's channel
    consent(con, "d", "sms", True, 1)  # no phone
    consent(con, "e", "sms", True, 2)
    rules = {cid: ("nudge", "sms") for cid in "abcde"}
    frame, exclusions = target_list(con, assigned(rules), "nudge")
    assert frame["customer_id"].to_list() == ["a", "e"]  # ordered by customer id
    assert dict(exclusions.iter_rows()) == {
        "erased": 0, "no_consent": 1, "withdrawn": 1, "missing_contact": 1,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("channel", "columns"),
    [
        ("email", ("name", "email")),
        ("sms", ("name", "phone")),
        ("whatsapp", ("name", "phone")),
        ("phone", ("name", "phone")),
        ("mail", ("name", "zip", "city", "state")),
    ],
)
def test_contact_columns_are_only_what_the_channel_needs(channel, columns):
    assert contact_columns(channel) == columns


def test_contact_columns_unknown_channel():
    with pytest.raises(VinculoError) as info:
        contact_columns("fax")
    assert info.value.key == "targeting.bad_channel"


def test_export_records_the_rule_set_it_came_from(con):
    add_customer(con, "a")
    consent(con, "a", "email", True, 1)
    frame, _ = target_list(con, assigned({"a": ("promo", "email")}), "promo")
    export_target_list(con, frame, "promo", "csv", "ana", ruleset="summer", ruleset_version=3)
    export_target_list(con, frame, "promo", "xlsx", "ana", ruleset="summer")
    details = [json.loads(d) for (d,) in con.execute(
        "SELECT detail FROM audit_log ORDER BY event_id").fetchall()]  # fmt: skip
    assert [(d["format"], d["ruleset"], d["ruleset_version"]) for d in details] == [
        ("csv", "summer", 3),
        ("xlsx", "summer", None),
    ]

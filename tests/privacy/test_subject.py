"""Data-subject export and erasure on the hand-built store of `conftest.py`.

Expected counts are read off the builder by hand: Maria is C1 + C1b (2 records, 2 orders,
2 items, 3 contacts, 1 answer, 3 consent statements, 1 link, 1 review decision, 1 rejected
line, 1 audit event naming her).
"""

from __future__ import annotations

import io
import json
import zipfile

import polars as pl
import pytest

from crm_core import store
from crm_core.errors import VinculoError
from crm_core.subject import (
    erase_subject,
    export_subject,
    members_of,
    person_pattern,
    subject_export,
    to_json_bytes,
    to_zip_bytes,
)
from crm_core.targeting import target_list
from tests.privacy.conftest import JOAO_EMAIL, MARIA, People, personal_hits

NEEDLES = [v for values in MARIA.values() for v in values]


def test_members_are_the_golden_record_and_its_merged_records(people: People) -> None:
    assert members_of(people.con, "C1b") == ("C1", ["C1", "C1b"])
    assert members_of(people.con, "C2") == ("C2", ["C2"])
    with pytest.raises(VinculoError) as err:
        members_of(people.con, "nobody")
    assert err.value.key == "privacy.unknown_customer"


def test_export_holds_everything_about_the_person_and_nothing_else(people: People) -> None:
    export = subject_export(people.con, "C1b")
    assert export["subject"]["golden_id"] == "C1"
    assert export["subject"]["member_ids"] == ["C1", "C1b"]
    counts = {name: frame.height for name, frame in export["tables"].items()}
    assert counts == {
        "customers": 2, "customer_records": 2, "consents": 3, "orders": 2, "order_items": 2,
        "interactions": 3, "feedback": 1, "identity_links": 1, "identity_rejections": 1,
        "rejected_rows": 1, "audit_log": 1,
    }  # fmt: skip
    assert export["tables"]["rejected_rows"]["line"].to_list() == [7]  # not C10's line 9
    body = to_json_bytes(export).decode("utf-8")
    assert "maria.s@gmail.com" in body and "Maria da Silva" in body
    assert JOAO_EMAIL not in body and "João" not in body
    parsed = json.loads(body)
    assert [o["gross_amount"] for o in parsed["tables"]["orders"]] == ["100.00", "50.00"]


def test_zip_has_one_csv_per_table(people: People) -> None:
    export = subject_export(people.con, "C1")
    with zipfile.ZipFile(io.BytesIO(to_zip_bytes(export))) as archive:
        names = set(archive.namelist())
        orders = pl.read_csv(archive.read("orders.csv"))
    assert names == {"subject.json", *(f"{t}.csv" for t in export["tables"])}
    assert orders["order_id"].to_list() == ["O1", "O2"]


def test_export_is_audited_without_the_data(people: People) -> None:
    data = export_subject(people.con, "C1", "json", "dpo")
    assert json.loads(data)["subject"]["golden_id"] == "C1"
    actor, target, rows, detail = people.con.execute(
        "SELECT actor, target, rows, detail::VARCHAR FROM audit_log "
        "WHERE action = 'privacy.subject_exported'"
    ).fetchall()[0]
    assert (actor, target, rows) == ("dpo", "C1", 19)
    assert json.loads(detail)["format"] == "json"
    assert not [n for n in NEEDLES if n.lower() in detail.lower()]
    with pytest.raises(VinculoError):
        export_subject(people.con, "C1", "pdf", "dpo")


def test_erasure_counts(people: People) -> None:
    report = erase_subject(people.con, "C1b", "dpo")
    assert report.target == "C1"
    assert report.counts() == {
        "members": 2, "customers": 2, "customer_records": 2, "orders_anonymised": 2,
        "feedback_anonymised": 1, "interactions_deleted": 3, "consents_deleted": 3,
        "identity_links_closed": 1, "identity_rejections_deleted": 1,
        "rejected_rows_deleted": 1, "upload_reports_scrubbed": 1, "demo_truth_deleted": 0,
        "ids_replaced": 0, "other_rows_deleted": {},
    }  # fmt: skip


def test_after_erasure_no_table_or_view_holds_the_person(people: People) -> None:
    assert personal_hits(people.con, NEEDLES)  # the scan finds her before
    erase_subject(people.con, "C1", "dpo")
    assert personal_hits(people.con, NEEDLES) == []
    assert personal_hits(people.con, [JOAO_EMAIL, "João Souza"])  # João is untouched


def test_aggregates_stay_and_orders_share_one_pseudonym(people: People) -> None:
    con = people.con
    erase_subject(con, "C1", "dpo")
    revenue, orders = con.execute("SELECT sum(net_amount), count(*) FROM order_facts").fetchall()[0]
    assert (float(revenue), orders) == (people.revenue, people.orders)
    assert store.scalar(con, "SELECT count(*) FROM order_items") == people.items
    ids = con.execute(
        "SELECT DISTINCT customer_id, source, line FROM orders WHERE order_id IN ('O1', 'O2')"
    ).fetchall()
    assert len(ids) == 1 and ids[0][0].startswith("anon-") and ids[0][1:] == (None, None)
    answer = con.execute("SELECT customer_id, csat, nps, comment FROM feedback "
                         "WHERE feedback_id = 'F1'").fetchall()[0]  # fmt: skip
    assert answer == (ids[0][0], 5, 10, None)
    assert store.scalar(con, "SELECT avg(csat) FROM feedback") == 4.0


def test_tombstones_links_report_and_audit(people: People) -> None:
    con = people.con
    before = store.data_version(con)
    erase_subject(con, "C1", "dpo")
    assert store.data_version(con) == before + 1
    rows = con.execute("SELECT customer_id, name, email, document, erased_at IS NOT NULL "
                       "FROM customers WHERE customer_id IN ('C1', 'C1b') "
                       "ORDER BY 1").fetchall()  # fmt: skip
    assert rows == [("C1", None, None, None, True), ("C1b", None, None, None, True)]
    assert store.scalar(con, "SELECT count(*) FROM identity_links WHERE unlinked_at IS NULL") == 0
    assert store.scalar(con, "SELECT unlinked_by FROM identity_links") == "dpo"
    report = json.loads(store.scalar(con, "SELECT report::VARCHAR FROM uploads"))
    assert [r["line"] for r in report["rejects"]] == [8, 9]
    assert report["footer_lines"] == ["fim"]
    assert con.execute("SELECT line FROM rejected_rows ORDER BY line").fetchall() == [(8,), (9,)]
    actor, target, rows_, detail = con.execute(
        "SELECT actor, target, rows, detail::VARCHAR FROM audit_log WHERE action = 'privacy.erased'"
    ).fetchall()[0]
    assert (actor, target, rows_) == ("dpo", "C1", 2)
    assert json.loads(detail)["interactions_deleted"] == 3


def test_erased_person_cannot_be_exported_erased_or_targeted(people: People) -> None:
    con = people.con
    erase_subject(con, "C1", "dpo")
    for call in (lambda: erase_subject(con, "C1b", "dpo"), lambda: subject_export(con, "C1")):
        with pytest.raises(VinculoError) as err:
            call()
        assert err.value.key == "privacy.already_erased"
    assigned = pl.DataFrame({
        "customer_id": ["C1", "C2"], "rule": "r", "offer": "o", "message": "m",
        "channel": "email", "owner": "x",
    })  # fmt: skip
    frame, exclusions = target_list(con, assigned, "r")
    assert frame["customer_id"].to_list() == ["C2"]
    assert dict(exclusions.iter_rows())["erased"] == 1


def test_an_id_that_is_an_email_is_replaced(people: People) -> None:
    con = people.con
    report = erase_subject(con, "ana@exemplo.com", "dpo")
    assert report.ids_replaced == 1 and report.target.startswith("erased-")
    assert personal_hits(con, ["ana@exemplo.com", "Ana Lima"]) == []
    assert store.scalar(
        con, "SELECT erased_at IS NOT NULL FROM customers WHERE customer_id = ?", [report.target]
    )


def test_erasure_is_all_or_nothing(people: People, monkeypatch: pytest.MonkeyPatch) -> None:
    con = people.con
    tables = ("customers", "customer_records", "orders", "interactions", "feedback", "consents",
              "identity_links", "rejected_rows", "uploads", "audit_log")  # fmt: skip
    before = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}

    def broken(*_args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr("crm_core.subject._replace_ids", broken)
    with pytest.raises(RuntimeError):
        erase_subject(con, "C1", "dpo")
    after = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}
    assert after == before


@pytest.mark.parametrize(
    ("text", "hit"),
    [
        ("C1;x", True), ("x,C1", True), ("C10;x", False), ("AC1;x", False),
        ("MARIA.S@GMAIL.COM", True), ("tel 11987654321.", True), ("111987654321", False),
    ],
)  # fmt: skip
def test_person_pattern_matches_whole_words(text: str, hit: bool) -> None:
    import re

    pattern = person_pattern(["C1", "maria.s@gmail.com", "11987654321"])
    assert bool(re.search(pattern, text)) is hit

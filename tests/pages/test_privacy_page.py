"""Privacy page on the demo store: find a person, their consent, export, erase — and after an
erasure no page, export or cache shows them.

The person is demo customer C0000023 with the seeded duplicate C0000721 merged into it, so
the request covers two records."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import duckdb
import pytest

from crm_core import store
from crm_core.customer360 import current_consents_of
from crm_core.directory import golden_profiles_of
from crm_core.errors import VinculoError
from crm_core.i18n import translate
from crm_core.identity_merge import merge
from crm_core.subject import subject_export
from tests.privacy.conftest import personal_hits
from tests.privacy.render import Downloads, leaks, open_any, rendered

PAGE = "pages/privacy.py"
GOLDEN, MEMBER = "C0000023", "C0000721"


@pytest.fixture
def person(demo_db: Path) -> Path:
    with store.connect(demo_db) as con:
        merge(con, [MEMBER], GOLDEN, "ana")
    return demo_db


def needles(db: Path) -> list[str]:
    """The person's e-mails, phones, documents and names held by no one else in the store."""
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "SELECT customer_id, name, email, phone, document FROM customers"
        ).fetchall()
    mine = {v for r in rows if r[0] in (GOLDEN, MEMBER) for v in r[1:] if v}
    theirs = {v for r in rows if r[0] not in (GOLDEN, MEMBER) for v in r[1:] if v}
    return sorted(mine - theirs)


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_person_profile_and_consent(person: Path, lang: str) -> None:
    at = open_any(PAGE, lang, customer=MEMBER)  # a member's id finds the golden record
    assert at.subheader[0].value == translate("page.privacy.person", lang, id=GOLDEN)
    with store.connect(person) as con:
        profile = golden_profiles_of(con, [GOLDEN, MEMBER]).row(0, named=True)
        consents = current_consents_of(con, [GOLDEN, MEMBER])
        history = con.execute(
            "SELECT count(*) FROM consents WHERE customer_id IN (?, ?)", [GOLDEN, MEMBER]
        ).fetchall()[0][0]
    shown = dict(at.dataframe[0].value.itertuples(index=False, name=None))
    assert shown[translate("page.customers.field.email", lang)] == profile["email"]
    assert shown[translate("page.customers.field.name", lang)] == profile["name"]
    table = at.dataframe[1].value
    assert len(table) == consents.height
    words = {s: translate(f"page.privacy.consent.{s}", lang) for s in ("granted", "withdrawn")}
    none = translate("page.privacy.consent.none", lang)
    expected = [words.get(s, none) for s in consents["status"]]
    assert table["status"].tolist() == expected
    assert len(at.dataframe[2].value) == history
    assert at.button(key="privacy_erase").disabled


def test_exports_are_the_subject_export_and_audited(
    person: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = Downloads().install(monkeypatch)
    open_any(PAGE, customer=GOLDEN)
    body = json.loads(files.file("privacy_export_json"))
    with store.connect(person) as con:
        expected = subject_export(con, GOLDEN)
    assert body["subject"]["member_ids"] == [GOLDEN, MEMBER]
    counts = {t: f.height for t, f in expected["tables"].items()}
    counts["audit_log"] -= 1  # the file was built before its own export event was written
    assert {t: len(r) for t, r in body["tables"].items()} == counts
    with zipfile.ZipFile(io.BytesIO(files.file("privacy_export_zip"))) as archive:
        assert "orders.csv" in archive.namelist() and "subject.json" in archive.namelist()
    with store.connect(person) as con:
        events = con.execute(
            "SELECT actor, target, detail->>'format' FROM audit_log "
            "WHERE action = 'privacy.subject_exported' ORDER BY event_id"
        ).fetchall()
    assert events == [("admin", GOLDEN, "json"), ("admin", GOLDEN, "zip")]


def _counts(db: Path) -> dict[str, int]:
    """What the erasure must report, counted by hand from the store before it."""
    ids = "('C0000023', 'C0000721')"
    with duckdb.connect(str(db), read_only=True) as con:

        def n(sql: str) -> int:
            return int(con.execute(sql).fetchall()[0][0])

        return {
            "orders_anonymised": n(f"SELECT count(*) FROM orders WHERE customer_id IN {ids}"),
            "interactions_deleted": n(
                f"SELECT count(*) FROM interactions WHERE customer_id IN {ids}"
            ),
            "consents_deleted": n(f"SELECT count(*) FROM consents WHERE customer_id IN {ids}"),
            "feedback_anonymised": n(f"SELECT count(*) FROM feedback WHERE customer_id IN {ids}"),
        }


def test_erasure_leaves_no_trace_in_tables_pages_exports_or_caches(
    person: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = needles(person)
    email = next(v for v in values if "@" in v)
    # warm the caches: the directory index, the CLV table
    directory = open_any("pages/customers.py")
    directory.text_input(key="customers_query").input(email).run()
    assert email in rendered(directory)
    assert email in rendered(open_any("pages/clv.py"))
    expected = _counts(person)

    at = open_any(PAGE, customer=GOLDEN)
    at.text_input(key="privacy_confirm").input("C0000099").run()
    assert at.button(key="privacy_erase").disabled
    at.text_input(key="privacy_confirm").input(GOLDEN).run()
    at.button(key="privacy_erase").click().run()
    assert not at.exception
    assert at.success[0].value == translate("page.privacy.erase.done", "en", id=GOLDEN)
    report = dict(at.dataframe[0].value.itertuples(index=False, name=None))
    for key, count in {**expected, "members": 2, "customers": 2}.items():
        assert report[translate(f"page.privacy.report.{key}", "en")] == count, key

    with store.connect(person) as con:
        assert personal_hits(con, values) == []  # every table and view
        detail = con.execute(
            "SELECT actor, detail::VARCHAR FROM audit_log WHERE action = 'privacy.erased'"
        ).fetchall()
        with pytest.raises(VinculoError):
            subject_export(con, GOLDEN)
    assert detail[0][0] == "admin" and leaks(detail[0][1], values) == []

    files = Downloads().install(monkeypatch)
    directory = open_any("pages/customers.py")
    directory.text_input(key="customers_query").input(email).run()
    assert not directory.dataframe  # the typed query is echoed back, nothing else
    assert directory.info[0].value == translate("page.customers.no_results", "en", query=email)
    one = open_any("pages/customers.py", customer=GOLDEN)
    assert one.error[0].value == translate("customers.erased_customer", "en", id=GOLDEN)
    for page in ("pages/clv.py", "pages/quality.py", "pages/customize.py", "pages/identity.py"):
        assert leaks(rendered(open_any(page)), values) == [], page
    exported = "".join(files.file(k).decode("utf-8-sig") for k in files.calls if k.endswith("_csv"))
    assert "cust_export_csv" in files.calls and "clv_download_csv" in files.calls
    assert leaks(exported, values) == []
    again = open_any(PAGE, customer=GOLDEN)
    assert again.info[0].value == translate("page.privacy.no_results", "en", query=GOLDEN)


@pytest.mark.parametrize("role", ["manager", "analyst", "marketing"])
def test_only_admins(demo_db: Path, role: str, monkeypatch: pytest.MonkeyPatch) -> None:
    at = open_any(PAGE, role=role, customer=GOLDEN)
    assert not at.dataframe and at.error
    monkeypatch.setattr("ui.auth.require_page", lambda _page: None)  # if that check were gone
    at = open_any(PAGE, role=role, customer=GOLDEN)
    assert not at.dataframe and not at.get("download_button")
    assert at.error[0].value == translate("page.privacy.refused", "en")


def test_search_without_results_and_empty_store(empty_db: Path) -> None:
    at = open_any(PAGE, "pt_BR")
    assert at.info[0].value == translate("page.privacy.search.help", "pt_BR")
    at.text_input(key="privacy_query").input("ninguém").run()
    assert at.info[0].value == translate("page.privacy.no_results", "pt_BR", query="ninguém")

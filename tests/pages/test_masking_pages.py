"""Masking on every page that lists people: a manager sees no demo customer's name, e-mail,
phone or document — in tables, text, charts' hover text or downloads — and an admin does.

For each page the test takes the customers the page shows (their ids in tables and 360
links), reads their real name, e-mail, phone and document from the store, and looks for
those values in everything the run drew (`tests.privacy.render.rendered`) and in every file
its download buttons would build. (The portfolio page lists a quadrant's customers only once
costs are configured, by id; its download goes through the same masked `download_buttons`.)
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import duckdb
import pytest

from tests.privacy.render import Downloads, leaks, open_any, personal_values, rendered, shown_ids

# (page, URL params, whether an admin sees personal columns there)
PAGES = [
    ("pages/customers.py", {}, True),
    ("pages/customers.py", {"customer": "C0000001"}, True),
    ("pages/identity.py", {}, True),
    ("pages/quality.py", {}, True),
    ("pages/interact.py", {}, False),
    ("pages/customize.py", {}, True),
    ("pages/loyalty.py", {}, False),
    ("pages/clv.py", {}, True),
]
IDS = [f"{p.removeprefix('pages/').removesuffix('.py')}{'-360' if q else ''}" for p, q, _ in PAGES]


def files_text(downloads: Downloads) -> str:
    """Every enabled download's file as text (XLSX: all the workbook's XML parts)."""
    parts = []
    for key, call in downloads.calls.items():
        if call.get("disabled"):
            continue
        data = downloads.file(key)
        if data[:2] == b"PK":
            with zipfile.ZipFile(io.BytesIO(data)) as book:
                parts += [book.read(n).decode("utf-8", "replace") for n in book.namelist()]
        else:
            parts.append(data.decode("utf-8-sig", "replace"))
    return "\n".join(parts)


@pytest.mark.parametrize(("page", "params", "personal"), PAGES, ids=IDS)
def test_manager_sees_no_personal_data_admin_does(
    demo_db: Path, monkeypatch: pytest.MonkeyPatch, page: str, params: dict, personal: bool
) -> None:
    admin_files = Downloads().install(monkeypatch)
    admin = open_any(page, role="admin", **params)
    admin_text, admin_ids = rendered(admin), shown_ids(admin)
    admin_export = files_text(admin_files)
    if personal:
        values = personal_values(demo_db, admin_ids)
        assert values, "the page should list customers"
        assert leaks(admin_text, values)  # an admin sees them: the test can fail
    manager_files = Downloads().install(monkeypatch)
    manager = open_any(page, role="manager", **params)
    values = personal_values(demo_db, admin_ids | shown_ids(manager))
    assert leaks(rendered(manager), values) == []
    assert leaks(files_text(manager_files), values) == []
    if not personal:  # nobody sees personal data where the page has no reason to show it
        assert leaks(admin_text, values) == []
        assert leaks(admin_export, values) == []


def test_admin_downloads_keep_personal_data(demo_db: Path, monkeypatch: pytest.MonkeyPatch):
    files = Downloads().install(monkeypatch)
    at = open_any("pages/clv.py", role="admin")
    values = personal_values(demo_db, shown_ids(at))
    assert leaks(files_text(files), values)


def test_analyst_identifies_on_the_360_but_not_on_dashboards(demo_db: Path) -> None:
    one = open_any("pages/customers.py", role="analyst", customer="C0000001")
    values = personal_values(demo_db, {"C0000001"})
    assert set(leaks(rendered(one), values)) == set(values)
    clv = open_any("pages/clv.py", role="analyst")
    assert leaks(rendered(clv), personal_values(demo_db, shown_ids(clv))) == []


def test_marketing_sees_contacts_but_not_documents(demo_db: Path) -> None:
    at = open_any("pages/clv.py", role="marketing")
    emails = at.dataframe[0].value["email"].dropna()
    assert not emails.str.contains(r"\*").any()  # demo data has some invalid e-mails: no "@"
    assert emails.str.contains("@").mean() > 0.9
    one = rendered(open_any("pages/customers.py", role="marketing", customer="C0000001"))
    with duckdb.connect(str(demo_db), read_only=True) as con:
        email, document = con.execute(
            "SELECT email, document FROM customers WHERE customer_id = 'C0000001'"
        ).fetchall()[0]
    assert email in one and document not in one and "***.***.***-**" in one


@pytest.mark.parametrize(
    ("role", "enabled", "masked"),
    [("manager", False, None), ("marketing", True, False), ("analyst", True, True),
     ("admin", True, False)],
)  # fmt: skip
def test_target_list_export_by_role(
    demo_db: Path, monkeypatch: pytest.MonkeyPatch, role: str, enabled: bool, masked: bool | None
) -> None:
    files = Downloads().install(monkeypatch)
    at = open_any("pages/customize.py", role=role)
    assert (not files.calls["cust_export_csv"].get("disabled")) is enabled
    if not enabled:
        assert files.calls["cust_export_csv"]["help"]  # says why
        return
    text = files.file("cust_export_csv").decode("utf-8-sig")
    values = personal_values(demo_db, shown_ids(at))
    assert bool(leaks(text, values)) is (not masked)
    assert ("***" in text) is masked

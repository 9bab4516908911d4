"""Formula injection end to end: names that are spreadsheet formulas go in through the real
Upload page and come out of a real download as text, in CSV and in XLSX.

Every demo customer is renamed, through the Upload page, to one of the classic payloads
(OWASP "CSV injection": `=`, `+`, `-`, `@`, tab, CR at the start). The CLV page's
customer table is then downloaded as CSV and XLSX. Each name must come back exactly as
stored, with a leading `'` when it starts like a formula (`crm_core/export.py`), and no
text cell of either file may start like a formula; the XLSX holds no formula cell.
(The upload trims surrounding whitespace, so the tab and CR payloads are stored as the
formula after them — still caught; leading tab/CR cells themselves are unit-tested in
`tests/test_export.py`.)
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page

from crm_core import store
from crm_core.demo import build_demo
from crm_core.export import FORMULA_STARTS
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

PAYLOADS = (
    '=HYPERLINK("http://evil.example/x","click me")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "\t=1+2",
    "\r=3+4",
)


def _payload_file(db: Path, folder: Path) -> Path:
    """A customers CSV renaming every customer of the store to a payload, in turn."""
    with store.connect(db) as con:
        ids = [r[0] for r in con.execute("SELECT customer_id FROM customers ORDER BY 1").fetchall()]
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(["customer_id", "name"])
    writer.writerows([cid, PAYLOADS[i % len(PAYLOADS)]] for i, cid in enumerate(ids))
    path = folder / "clientes_formulas.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def _settled(page: Page) -> None:
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')
    wait_for_app(page)


def _upload(page: Page, file: Path) -> None:
    box = page.get_by_test_id("stSelectbox").filter(has_text="What does the file hold?")
    box.locator("input").click()
    page.get_by_role("option", name="Customers", exact=True).click()
    _settled(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(file))
    page.get_by_text("First rows as they will load").filter(visible=True).first.wait_for()
    _settled(page)
    page.get_by_role("button", name="Load into the store").click()
    page.get_by_text("Upload report").wait_for(timeout=120_000)
    _settled(page)
    screenshot(page, "formula-upload-report")


def _download(page: Page, label: str) -> bytes:
    button = page.get_by_role("button", name=label)
    button.wait_for(timeout=120_000)
    with page.expect_download(timeout=120_000) as download:
        button.click()
    return Path(download.value.path()).read_bytes()


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _xml_text(value: object) -> object:
    """A cell's text with OOXML's escapes of control characters (`_x000D_` = CR) undone."""
    if not isinstance(value, str):
        return value
    return re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), value)


def _safe(stored: str) -> str:
    return "'" + stored if stored.startswith(FORMULA_STARTS) else stored


def test_formula_names_upload_then_download_as_text(tmp_path: Path, page: Page) -> None:
    db = tmp_path / "formulas.duckdb"
    build_demo(db, customers=1500, seed=13, as_of=date(2026, 6, 30))
    file = _payload_file(db, tmp_path)
    port = free_port()
    server = start_server(db, port)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, server)
        page.goto(f"{url}/upload?lang=en")
        login(page, "admin")  # uploads and unmasked names in one role
        _settled(page)
        _upload(page, file)
        page.goto(f"{url}/clv?lang=en")
        wait_for_app(page)
        csv_bytes = _download(page, "Download CSV")
        xlsx_bytes = _download(page, "Download XLSX")
        screenshot(page, "formula-clv-downloaded")
    finally:
        stop(server)

    with store.connect(db) as con:
        stored = dict(con.execute("SELECT customer_id, name FROM customers").fetchall())
    risky = {name[0] for name in stored.values() if name and name.startswith(FORMULA_STARTS)}
    assert {"=", "+", "-", "@"} <= risky, "the payloads did not reach the store"

    rows = list(csv.DictReader(io.StringIO(csv_bytes.decode("utf-8-sig"))))
    assert rows, "the CLV table downloaded empty"
    for row in rows:
        assert row["name"] == _safe(stored[row["customer_id"]])
        for value in row.values():
            assert not value.startswith(FORMULA_STARTS) or _is_number(value), row

    sheet = load_workbook(io.BytesIO(xlsx_bytes)).active
    cells = list(sheet.iter_rows(values_only=False))
    header = [c.value for c in cells[0]]
    names = {}
    for line in cells[1:]:
        for cell in line:
            assert cell.data_type != "f", f"formula cell {cell.coordinate}: {cell.value!r}"
            if isinstance(cell.value, str):
                assert not cell.value.startswith(FORMULA_STARTS), cell.coordinate
        record = dict(zip(header, (_xml_text(c.value) for c in line), strict=True))
        names[record["customer_id"]] = record["name"]
    assert len(names) == len(rows)
    wrong = {cid: name for cid, name in names.items() if name != _safe(stored[cid])}
    assert not wrong, list(wrong.items())[:5]

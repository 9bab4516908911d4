"""The upload journey in a real browser: load the sample planilha with its one bad row, read the
report, undo the upload from the page, and read the page in Portuguese.

The sample's documented bad row (data/samples/README.md): line 6, column `Data da Venda`
(`31/02/2026`); the other 6 of its 7 rows load.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import Page
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from crm_core import store
from crm_core.demo import build_demo
from tests.e2e.server import (
    ROOT,
    free_port,
    login,
    screenshot,
    start_server,
    stop,
    wait_for_app,
    wait_healthy,
)

pytestmark = pytest.mark.e2e

SAMPLE = ROOT / "data" / "samples" / "planilha_vendas.csv"
SAMPLE_ORDERS = 6  # rows of the sample that load (7 read, 1 rejected)


def _counts(db: Path) -> dict[str, int]:
    with store.connect(db) as con:
        return store.table_counts(con)


def _settled(page: Page) -> None:
    """Wait until the current script run has finished (the app marks its state on stApp)."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]')
    wait_for_app(page)


def _see(page: Page, text: str) -> None:
    """Wait for `text` (whole) on screen; the previous run's fading copies are hidden. An
    upload re-parses the file before it answers: under CI load that took over 30 s."""
    page.get_by_text(text, exact=True).filter(visible=True).first.wait_for(timeout=90_000)


def _pick(page: Page, label: str, option: str) -> None:
    """Choose `option` in the Streamlit selectbox labelled `label`."""
    box = page.get_by_test_id("stSelectbox").filter(has_text=label)
    box.locator("input").click()
    page.get_by_role("option", name=option, exact=True).click()
    _settled(page)


def _language(page: Page, option: str) -> None:
    """Switch the language with the sidebar's language selectbox (its first one)."""
    page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").first.locator("input").click()
    page.get_by_role("option", name=option, exact=True).click()
    _settled(page)


def _choose_in_editor(page: Page, row: int, option: str) -> None:
    """Pick `option` in the mapping editor's field cell of `row` (a canvas grid: by position).

    A rerun still settling can redraw the grid under the click, so try up to three times.
    """
    preview = page.get_by_text("First rows as they will load", exact=True)
    for _ in range(3):
        _settled(page)
        editor = page.get_by_test_id("stDataFrame").nth(1)  # after the decisions table
        editor.scroll_into_view_if_needed()
        box = editor.bounding_box()
        assert box is not None
        page.mouse.dblclick(box["x"] + box["width"] * 0.75, box["y"] + 35 * (row + 1) + 17)
        page.get_by_role("option", name=option, exact=True).click()
        try:
            preview.filter(visible=True).first.wait_for(timeout=10_000)
            return
        except PlaywrightTimeout:
            continue
    raise AssertionError(f"could not choose {option!r} in the mapping editor")


def _map_a_column(page: Page, folder: Path) -> None:
    """A header no profile knows ('Ref'): required field missing, Load disabled, until the
    mapping editor maps it to order_id; then the preview shows the rows as they will load."""
    odd = folder / "pedidos_ref.csv"
    odd.write_text("Ref;Código do Cliente;Data;Total\nX-1;C0000042;05/10/2026;100,00\n", "utf-8")
    _pick(page, "What does the file hold?", "Orders")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(odd))
    _see(page, "Required fields not mapped: order_id. Map a column to each of them before loading.")
    _settled(page)
    load = page.get_by_role("button", name="Load into the store")
    assert load.is_disabled()
    _choose_in_editor(page, row=0, option="order_id *")
    _see(page, "First rows as they will load")
    _settled(page)
    assert load.is_enabled()
    assert page.get_by_text("Required fields not mapped").count() == 0
    screenshot(page, "upload-mapping-en")


def _refused(page: Page, folder: Path) -> None:
    """A file whose every row is bad: refused as a whole, with its reason, nothing changed."""
    bad = folder / "vendas_ruins.csv"
    header = SAMPLE.read_text("cp1252").splitlines()[0]
    bad.write_text(header + "\nPV-9;C0000042;Ana;a@example.com;31/02/2026;R$ 1,00;;Pago;;;;1\n")
    _pick(page, "What does the file hold?", "Orders")
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(bad))
    _see(page, "Rows in the first part of the file that will be rejected")
    _settled(page)
    page.get_by_role("button", name="Load into the store").click()
    page.get_by_text("The file was refused: vendas_ruins.csv: none of the 1 rows").wait_for()
    page.get_by_text("Nothing was changed in the store.").wait_for()
    _settled(page)
    screenshot(page, "upload-refused-en")


def _upload_sample(page: Page) -> None:
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(SAMPLE))
    _see(page, "windows-1252")  # the sample's encoding (the refused file was UTF-8)
    _settled(page)
    _see(page, "planilha_vendas")  # the detected profile
    _see(page, "semicolon ( ; )")
    _see(page, "First rows as they will load")
    screenshot(page, "upload-preview-en")


def _read_report(page: Page) -> None:
    page.get_by_role("button", name="Load into the store").click()
    page.get_by_text("Upload report").wait_for()
    page.get_by_text("6 of 7 rows loaded, 1 rejected").wait_for()
    wait_for_app(page)
    metrics = {
        m.get_by_test_id("stMetricLabel").inner_text().strip(): m.get_by_test_id(
            "stMetricValue"
        ).inner_text()
        for m in page.get_by_test_id("stMetric").all()
    }
    assert metrics["Rows read"] == "7"
    assert metrics["Rows loaded"] == "6"
    assert metrics["Rows rejected"] == "1"
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text("utf-8-sig"))))
    assert [(r["line"], r["column"]) for r in rows] == [("6", "Data da Venda")]
    assert "31/02/2026" in rows[0]["reason"]
    screenshot(page, "upload-report-en")


def _load_again(page: Page) -> None:
    """The same file a second time: the page says it was already loaded and changes nothing."""
    page.get_by_test_id("stExpander").locator("summary").click()  # unfold the preview
    page.get_by_role("button", name="Load into the store").click()
    _see(page, "planilha_vendas.csv was already loaded (upload 1); nothing changed.")
    _settled(page)


def _undo(page: Page) -> None:
    page.get_by_role("button", name="Undo upload").click()
    page.get_by_text("Undo upload #1 (planilha_vendas.csv)?").wait_for()
    page.get_by_role("button", name="Yes, undo it").click()
    page.get_by_text("Upload #1 undone").wait_for()
    wait_for_app(page)
    screenshot(page, "upload-undone-en")


def test_upload_report_and_undo_in_the_browser(tmp_path: Path, page: Page) -> None:
    db = tmp_path / "upload.duckdb"
    build_demo(db, customers=2000, seed=3)
    before = _counts(db)
    port = free_port()
    proc = start_server(db, port)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_healthy(url, proc)
        page.goto(f"{url}/upload?lang=en")  # a shared link to the page
        login(page, "marketing")  # uploads: marketing's job
        _settled(page)
        page.get_by_text("No upload yet.").wait_for()

        _map_a_column(page, tmp_path)
        _refused(page, tmp_path)
        assert _counts(db) == before
        _upload_sample(page)
        _read_report(page)
        loaded = _counts(db)
        assert loaded["orders"] == before["orders"] + SAMPLE_ORDERS
        assert loaded["uploads"] == 1 and loaded["rejected_rows"] == 1

        _load_again(page)
        assert _counts(db) == loaded

        _undo(page)
        after = _counts(db)
        assert {k: v for k, v in after.items() if k != "uploads"} == {
            k: v for k, v in before.items() if k != "uploads"
        }
        assert after["uploads"] == 1  # the history keeps the undone upload

        _language(page, "Português (BR)")
        page.get_by_text("Histórico de importações").wait_for()
        page.get_by_text("O que o arquivo contém?").wait_for()
        assert "lang=pt_BR" in page.url
        page.get_by_text("Histórico de importações").scroll_into_view_if_needed()
        screenshot(page, "upload-history-pt")
    finally:
        stop(proc)

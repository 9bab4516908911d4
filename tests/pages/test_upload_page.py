"""Upload page: the history and undo on the demo store, the empty state, both languages, and
the pure helpers behind the preview and the mapping editor.

AppTest has no file-uploader element (STYLE.md habit 14), so uploads are made here with
`ingest_file`, and the browser test (tests/e2e/test_upload_journey.py) drives the real file
input. The sample planilha's documented bad row (data/samples/README.md): line 6, column
`Data da Venda`; 6 of its 7 rows load.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl
import pytest

from crm_core import store
from crm_core.i18n import translate
from crm_core.ingest import ingest_file, preview_file
from tests.pages.conftest import open_page
from ui import upload_view as view

PAGE = "pages/upload.py"
SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"
PLANILHA = SAMPLES / "planilha_vendas.csv"
SURVEY = SAMPLES / "pesquisa_nps.csv"


def _counts(db: Path) -> dict[str, int]:
    """Rows per table, the upload log aside (an undone upload stays in the history)."""
    with store.connect(db) as con:
        counts = store.table_counts(con)
    counts.pop("uploads")
    return counts


def _history(at) -> pl.DataFrame:
    frame = next(f.value for f in at.dataframe if "sha256" in f.value.columns)
    return pl.from_pandas(frame)


# ---- empty state ----------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_empty_store_offers_the_upload_and_says_there_is_no_history(empty_db, lang) -> None:
    at = open_page(PAGE, lang=lang)
    assert at.title[0].value == translate("page.upload.title", lang)
    assert [i.value for i in at.info] == [translate("page.upload.history.empty", lang)]
    kinds = at.selectbox(key="upload_kind")
    assert kinds.options == [translate(f"page.upload.kind.{k}", lang) for k in view.FIELDS]
    assert not any("sha256" in f.value.columns for f in at.dataframe)


# ---- history --------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_history_shows_the_provenance_of_an_upload(demo_db, lang) -> None:
    report = ingest_file(PLANILHA, "orders", db=demo_db, actor="analyst")
    at = open_page(PAGE, lang=lang)
    row = _history(at).row(0, named=True)
    assert row["upload_id"] == report.upload_id
    assert row["file_name"] == "planilha_vendas.csv"
    assert row["kind"] == translate("page.upload.kind.orders", lang)
    assert row["uploaded_by"] == "analyst"
    assert row["sha256"] == hashlib.sha256(PLANILHA.read_bytes()).hexdigest()[:12]
    assert (row["rows_read"], row["rows_loaded"], row["rows_rejected"]) == (7, 6, 1)
    assert row["rows_duplicate"] == 0
    assert row["status"] == translate("page.upload.status.applied", lang)
    assert at.subheader[-1].value == translate("page.upload.history", lang)
    assert not at.info


def test_history_lists_uploads_newest_first(demo_db) -> None:
    first = ingest_file(PLANILHA, "orders", db=demo_db, actor="app")
    second = ingest_file(SURVEY, "feedback", db=demo_db, actor="app")
    at = open_page(PAGE)
    assert _history(at)["upload_id"].to_list() == [second.upload_id, first.upload_id]
    picker = at.selectbox(key="upload_undo_pick")
    assert picker.value == second.upload_id
    assert picker.options[1].startswith(f"#{first.upload_id} · planilha_vendas.csv · Orders")


# ---- undo -----------------------------------------------------------------------------------
def test_undo_from_the_page_restores_the_store(demo_db) -> None:
    before = _counts(demo_db)
    report = ingest_file(PLANILHA, "orders", db=demo_db, actor="app")
    loaded = _counts(demo_db)
    assert loaded["orders"] == before["orders"] + 6 and loaded["rejected_rows"] == 1
    with store.connect(demo_db) as con:
        version = store.data_version(con)

    at = open_page(PAGE)
    at.button(key="upload_undo").click().run()
    assert [w.value for w in at.warning] == [
        translate("page.upload.undo.confirm", "en", upload_id=report.upload_id,
                  file_name="planilha_vendas.csv")
    ]  # fmt: skip
    assert _counts(demo_db) == loaded  # nothing happens before the confirmation
    at.button(key="upload_undo_yes").click().run()
    assert not at.exception

    assert _counts(demo_db) == before
    with store.connect(demo_db) as con:
        assert store.data_version(con) > version  # every page's cache sees new data
    assert at.success[0].value.startswith(f"Upload #{report.upload_id} undone")
    assert _history(at)["status"].to_list() == ["undone"]
    assert _history(at)["undone_by"].to_list() == ["app"]
    assert "upload_undo_pick" not in [s.key for s in at.selectbox]


def test_undo_picks_one_upload_and_leaves_the_others(demo_db) -> None:
    before = _counts(demo_db)
    orders = ingest_file(PLANILHA, "orders", db=demo_db, actor="app")
    survey = ingest_file(SURVEY, "feedback", db=demo_db, actor="app")
    with_both = _counts(demo_db)

    at = open_page(PAGE, lang="pt_BR")
    at.selectbox(key="upload_undo_pick").set_value(orders.upload_id).run()
    at.button(key="upload_undo").click().run()
    at.button(key="upload_undo_yes").click().run()

    after = _counts(demo_db)
    assert after["orders"] == before["orders"]
    assert after["feedback"] == with_both["feedback"] == before["feedback"] + survey.rows_loaded
    statuses = dict(_history(at).select("upload_id", "status").iter_rows())
    assert statuses == {survey.upload_id: "aplicada", orders.upload_id: "desfeita"}
    assert at.success[0].value.startswith(f"Importação #{orders.upload_id} desfeita")


def test_cancel_keeps_the_upload(demo_db) -> None:
    ingest_file(PLANILHA, "orders", db=demo_db, actor="app")
    loaded = _counts(demo_db)
    at = open_page(PAGE)
    at.button(key="upload_undo").click().run()
    at.button(key="upload_undo_cancel").click().run()
    assert not at.warning and not at.success
    assert _counts(demo_db) == loaded
    assert _history(at)["status"].to_list() == ["applied"]


# ---- helpers behind the preview and the mapping editor --------------------------------------
def test_decisions_of_the_sample_planilha_are_one_per_column() -> None:
    pre = preview_file(PLANILHA, "orders")
    frame = view.decisions_frame(pre, "en")
    assert frame.rows() == [
        ("Valor Total (R$)", "Decimal separator", "decimal ',', thousands '.'", False),
        ("Desconto (R$)", "Decimal separator", "decimal ',', thousands '.'", False),
        ("Data da Venda", "Date format", "dd/mm/yyyy", False),
    ]
    assert view.delimiter_label(pre.delimiter, "pt_BR") == "ponto e vírgula ( ; )"
    editor = view.mapping_frame(pre)
    assert editor["source"].to_list() == pre.headers
    assert dict(editor.iter_rows())["Nome"] == "-"  # not one of our order fields: ignored


def test_mapping_changes_are_only_the_rows_the_user_edited() -> None:
    proposed = {"Pedido": "order_id", "Cliente": "customer_id", "Data": "ordered_at"}
    edited = pl.DataFrame(
        {
            "source": ["Pedido", "Cliente", "Data", "Valor", "Obs"],
            "field": ["order_id", None, "ordered_at", "gross_amount", "-"],
        }
    )
    assert view.mapping_changes(proposed, edited) == {"Cliente": "-", "Valor": "gross_amount"}


def test_repeated_fields_and_missing_required_fields_are_named() -> None:
    edited = pl.DataFrame(
        {"source": ["A", "B", "C", "D"], "field": ["order_id", "order_id", "-", None]}
    )
    assert view.repeated_fields(edited) == ["order_id"]
    missing = ["order_id", "customer_id|customer_email"]
    assert view.missing_text(missing, "pt_BR") == "order_id; customer_id ou customer_email"
    assert view.field_label("orders", "en")("ordered_at") == "ordered_at *"
    assert view.field_label("orders", "en")("-") == "— ignore —"


def test_an_edited_mapping_reaches_the_preview() -> None:
    pre = preview_file(PLANILHA, "orders", mapping={"Data da Venda": "-"})
    assert pre.required_missing == ["ordered_at"]
    assert pre.rows.height == 0


@pytest.mark.parametrize(
    ("sent", "saved"),
    [
        ("vendas.csv", "vendas.csv"),
        ("../../etc/vendas.xlsx", "vendas.xlsx"),
        ("C:\\Users\\ana\\clientes.csv", "clientes.csv"),
        ("..", "upload.csv"),
        ("", "upload.csv"),
    ],
)
def test_the_saved_upload_keeps_only_the_base_name(sent: str, saved: str) -> None:
    assert view.safe_name(sent) == saved

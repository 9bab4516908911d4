"""Data-quality page on the demo store: what it shows equals crm_core's numbers, and picking a
number lists exactly the customers behind it."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from crm_core import store
from crm_core.i18n import translate
from crm_core.i18n.format import format_number, format_percent
from crm_core.ingest.pipeline import ingest_file
from crm_core.quality import (
    ALL_MEASURES,
    CONSENT_MEASURES,
    FIELDS,
    MEASURES,
    SCORE_DIMENSIONS,
    completeness,
    customer_checks,
    quality_measures,
    quality_score,
    rows_behind,
    upload_quality,
)
from tests.pages.conftest import metric_values, open_page, rendered_table

PAGE = "pages/quality.py"
SHOWN_ROWS = 2000


def _checks(db: Path) -> pl.DataFrame:
    with store.connect(db) as con:
        return customer_checks(con)


def _chart(at, trace_type: str) -> dict:
    for chart in at.get("plotly_chart"):
        for trace in json.loads(chart.proto.spec)["data"]:
            if trace.get("type") == trace_type:
                return trace
    raise AssertionError(f"no {trace_type} chart")


def _pick(at, measure: str, source: str = ""):
    at.selectbox(key="quality_measure").set_value(measure)
    at.selectbox(key="quality_source").set_value(source)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.fixture(scope="module")
def english(demo_template: Path, tmp_path_factory: pytest.TempPathFactory):
    """The page in English on a private demo copy, and crm_core's checks for it."""
    path = tmp_path_factory.mktemp("quality") / "crm.duckdb"
    path.write_bytes(demo_template.read_bytes())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CRM_DB", str(path))
        yield open_page(PAGE, lang="en"), _checks(path)


def test_score_and_problem_counts_equal_crm_core(english) -> None:
    at, checks = english
    metrics = metric_values(at)
    score = dict(quality_score(checks).iter_rows())
    assert metrics["Quality score"] == format_percent(score["overall"], "en")
    for dimension in SCORE_DIMENSIONS:
        label = translate(f"quality.dimension.{dimension}", "en")
        assert metrics[label] == format_percent(score[dimension], "en")
    table = quality_measures(checks)
    for row in table.filter(pl.col("measure").is_in(MEASURES)).iter_rows(named=True):
        label = translate(f"quality.measure.{row['measure']}", "en")
        assert metrics[label] == format_number(row["customers"], "en"), row["measure"]
    counts = dict(table.select("measure", "customers").iter_rows())
    # the demo seeds damaged values, leads and duplicates: the numbers are not all zero
    for measure in ("invalid_email", "invalid_phone", "invalid_document", "no_consent",
                    "lead_without_orders", "possible_duplicate"):  # fmt: skip
        assert counts[measure] > 0, measure
    assert counts["placeholder"] == 0
    assert "4,000 records" in at.caption[1].value  # what is counted, erased excluded


def test_measure_table_and_consent_chart(english) -> None:
    at, checks = english
    table = quality_measures(checks)
    shown = rendered_table(at, "label", "customers", "share")
    assert shown["measure"].tolist() == list(ALL_MEASURES)
    assert shown["customers"].tolist() == table["customers"].to_list()
    assert shown["base"].tolist() == table["base"].to_list()
    assert shown["share"].tolist() == pytest.approx(table["share"].to_list())
    bars = _chart(at, "bar")
    consent = table.filter(pl.col("measure").is_in(CONSENT_MEASURES))
    assert bars["x"] == ["E-mail", "SMS", "WhatsApp", "Phone", "Mail"]
    assert bars["y"] == pytest.approx(consent["share"].to_list())
    assert bars["y"][-1] == 1.0  # the demo records no postal-mail consent


def test_completeness_heatmap_and_grid(english) -> None:
    at, checks = english
    fill = completeness(checks)
    heat = _chart(at, "heatmap")
    assert heat["x"] == ["demo", "All sources"]
    assert heat["y"] == [translate(f"quality.field.{f}", "en") for f in FIELDS]
    expected = [fill.filter(pl.col("field") == f)["share"].to_list() for f in FIELDS]
    assert heat["z"] == [pytest.approx(row) for row in expected]
    email_all = fill.filter(pl.col("source").is_null() & (pl.col("field") == "email")).row(
        0, named=True
    )
    assert heat["text"][1][1] == (
        f"{format_percent(email_all['share'], 'en')}<br>"
        f"{format_number(email_all['filled'], 'en')} / {format_number(4000, 'en')}"
    )
    grid = rendered_table(at, "label", "field", "src:demo")
    assert grid["field"].tolist() == list(FIELDS)
    assert grid["label"].tolist() == heat["y"]
    assert grid["src:"].tolist() == pytest.approx(expected_all := [r[-1] for r in expected])
    assert min(expected_all) < 1  # some fields have gaps


@pytest.mark.parametrize(
    "measure",
    ["invalid_email", "invalid_phone", "invalid_document", "no_consent", "lead_without_orders",
     "possible_duplicate", "no_consent_sms", "missing_birth_date"],
)  # fmt: skip
def test_picking_a_number_lists_exactly_its_rows(english, measure: str) -> None:
    at, checks = english
    _pick(at, measure)
    expected = rows_behind(checks, measure)
    assert expected.height > 0
    shown = rendered_table(at, "link", "customer_id")
    assert shown["customer_id"].tolist() == expected["customer_id"].head(SHOWN_ROWS).to_list()
    assert shown["link"].str.contains("customer=").all()
    for column in expected.columns[3:]:  # the offending value, e.g. the invalid e-mail
        if column not in ("duplicate_key", "created_at"):
            values = shown[column].astype(object).where(shown[column].notna(), None).tolist()
            assert values == expected[column].head(SHOWN_ROWS).to_list(), column
    caption = next(c.value for c in at.caption if "customers" in c.value and "order" in c.value)
    assert format_number(expected.height, "en") in caption


def test_rows_show_the_offending_value(english) -> None:
    at, checks = english
    _pick(at, "invalid_document")
    shown = rendered_table(at, "link", "customer_id", "document")
    assert "@" not in "".join(shown["document"])  # documents, not another column
    _pick(at, "possible_duplicate")
    shown = rendered_table(at, "link", "customer_id", "duplicate_key")
    assert set(shown["duplicate_key"]) <= {"CPF/CNPJ", "E-mail", "Phone"}
    assert (shown["shared_with"] >= 1).all()


def test_clicking_the_measure_table_and_the_grid_picks_the_number(english) -> None:
    at, checks = english
    row = ALL_MEASURES.index("lead_without_orders")
    at.session_state["quality_measure_table"] = {
        "selection": {"rows": [row], "columns": [], "cells": []}
    }
    at.run()
    assert at.selectbox(key="quality_measure").value == "lead_without_orders"
    shown = rendered_table(at, "link", "customer_id")
    expected = rows_behind(checks, "lead_without_orders")
    assert shown["customer_id"].tolist() == expected["customer_id"].to_list()
    # a grid cell: the field's missing values in that source
    city = FIELDS.index("city")
    at.session_state["quality_fill_grid"] = {
        "selection": {"rows": [], "columns": [], "cells": [[city, "src:demo"]]}
    }
    at.run()
    assert at.selectbox(key="quality_measure").value == "missing_city"
    assert at.selectbox(key="quality_source").value == "demo"
    shown = rendered_table(at, "link", "customer_id")
    expected = rows_behind(checks, "missing_city", source="demo")
    assert shown["customer_id"].tolist() == expected["customer_id"].to_list()
    # the field's name: its missing values in all sources
    at.session_state["quality_fill_grid"] = {
        "selection": {"rows": [], "columns": [], "cells": [[FIELDS.index("zip"), "label"]]}
    }
    at.run()
    assert at.selectbox(key="quality_measure").value == "missing_zip"
    assert at.selectbox(key="quality_source").value == ""
    # an unchanged selection leaves a hand-made pick alone
    _pick(at, "invalid_email")
    assert at.selectbox(key="quality_measure").value == "invalid_email"


def test_a_big_number_lists_the_first_rows_and_says_so(english) -> None:
    at, checks = english
    _pick(at, "no_consent_mail")  # every demo customer
    shown = rendered_table(at, "link", "customer_id")
    assert len(shown) == SHOWN_ROWS
    assert shown["customer_id"].tolist() == checks["customer_id"].sort().head(SHOWN_ROWS).to_list()
    assert any("the downloads hold all of them" in c.value for c in at.caption)


def test_source_picker_and_url(demo_db: Path) -> None:
    with store.connect(demo_db) as con:
        con.execute("UPDATE customers SET source = 'crm' WHERE customer_id < 'C0001000'")
    checks = _checks(demo_db)
    at = open_page(PAGE, lang="en", measure="invalid_document", source="crm")
    assert at.selectbox(key="quality_measure").value == "invalid_document"
    assert at.selectbox(key="quality_source").value == "crm"
    expected = rows_behind(checks, "invalid_document", source="crm")
    assert 0 < expected.height < rows_behind(checks, "invalid_document").height
    assert rendered_table(at, "link", "customer_id")["customer_id"].tolist() == (
        expected["customer_id"].to_list()
    )
    assert _chart(at, "heatmap")["x"] == ["crm", "demo", "All sources"]
    _pick(at, "invalid_document", "demo")
    expected = rows_behind(checks, "invalid_document", source="demo")
    assert rendered_table(at, "link", "customer_id")["customer_id"].tolist() == (
        expected["customer_id"].to_list()
    )


def test_erased_customers_are_not_counted(demo_db: Path) -> None:
    before = quality_measures(_checks(demo_db))
    wrong = rows_behind(_checks(demo_db), "invalid_email")["customer_id"][0]
    with store.connect(demo_db) as con:
        con.execute("UPDATE customers SET erased_at = now() WHERE customer_id = ?", [wrong])
    at = open_page(PAGE, lang="en")
    count = before.filter(pl.col("measure") == "invalid_email")["customers"].item()
    assert metric_values(at)["Invalid e-mail addresses"] == format_number(count - 1, "en")
    assert "3,999 records" in at.caption[1].value
    assert wrong not in rendered_table(at, "link", "customer_id")["customer_id"].tolist()


def test_segment_filter_restricts_the_customers(demo_db: Path) -> None:
    at = open_page(PAGE, lang="en", tier="gold")
    everyone = _checks(demo_db).height
    caption = at.caption[1].value
    assert "global channel/segment/tier filters" in caption
    counted = int(caption.split("the ")[1].split(" customer")[0].replace(",", ""))
    assert 0 < counted < everyone
    assert metric_values(at)["Leads without orders"] == "0"  # buyers only


def test_portuguese(demo_db: Path) -> None:
    at = open_page(PAGE, lang="pt_BR")
    checks = _checks(demo_db)
    assert at.title[0].value == "Qualidade dos dados"
    score = dict(quality_score(checks).iter_rows())
    metrics = metric_values(at)
    assert metrics["Índice de qualidade"] == format_percent(score["overall"], "pt_BR")
    assert "," in metrics["Índice de qualidade"]
    table = dict(quality_measures(checks).select("measure", "customers").iter_rows())
    assert metrics["CPF/CNPJ inválidos"] == format_number(table["invalid_document"], "pt_BR")
    assert _chart(at, "heatmap")["x"] == ["demo", "Todas as fontes"]
    _pick(at, "invalid_phone")
    shown = rendered_table(at, "link", "customer_id", "phone")
    assert (
        shown["customer_id"].tolist()
        == rows_behind(checks, "invalid_phone")["customer_id"].to_list()
    )
    assert any("Nenhum arquivo de clientes" in i.value for i in at.info)


def test_no_uploads_says_there_is_no_trend(english) -> None:
    at, _ = english
    assert any("No customer file has been uploaded" in i.value for i in at.info)


def test_empty_store(empty_db: Path) -> None:
    at = open_page(PAGE, lang="en")
    assert not at.exception
    assert at.info and "No orders" in at.info[0].value
    assert not at.metric


def test_quality_per_upload(demo_db: Path, tmp_path: Path) -> None:
    first = tmp_path / "clientes_jan.csv"
    first.write_text(
        "customer_id,name,email,phone,document\n"
        "N1,Ana Lima,ana@exemplo.com.br,(11) 98765-4321,529.982.247-25\n"
        "N2,Caio Reis,caio@exemplo.com.,1234,111.111.111-11\n",  # each fails our check
        encoding="utf-8",
    )
    second = tmp_path / "clientes_fev.csv"
    second.write_text("customer_id,name,email\nN3,Bia Souza,bia@exemplo.com\n", encoding="utf-8")
    for path in (first, second):
        ingest_file(path, "customers", db=demo_db)
    with store.connect(demo_db) as con:
        trend = upload_quality(con)
    # by hand: 4 of 8 fields filled per record in January, 2 of 8 in February; Caio's three
    # contact values are the invalid half of January's
    assert trend["records"].to_list() == [2, 1]
    assert trend["completeness"].to_list() == [0.5, 0.25]
    assert trend["invalid_email"].to_list() == [0.5, 0.0]
    assert trend["invalid_phone"].to_list() == [0.5, None]
    at = open_page(PAGE, lang="en")
    shown = rendered_table(at, "upload_id", "completeness")
    assert shown["file_name"].tolist() == ["clientes_jan.csv", "clientes_fev.csv"]
    assert shown["status"].tolist() == ["applied", "applied"]
    for column in ("completeness", "invalid_email", "invalid_phone", "invalid_document"):
        expected = trend[column].fill_null(float("nan")).to_list()
        assert shown[column].tolist() == pytest.approx(expected, nan_ok=True), column
    lines = [
        trace for chart in at.get("plotly_chart")
        for trace in json.loads(chart.proto.spec)["data"] if trace.get("mode") == "lines+markers"
    ]  # fmt: skip
    assert [t["name"] for t in lines] == [
        "Completeness", "Invalid e-mails", "Invalid phones", "Invalid CPF/CNPJ"
    ]  # fmt: skip
    assert lines[1]["y"] == [0.5, 0.0]

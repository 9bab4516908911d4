"""Per-file and per-column decisions: encoding, delimiter, decimals, dates, line numbers."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from crm_core.ingest import ingest_file, preview_file
from tests.ingest.conftest import query, write


def test_windows_1252_semicolon_decimal_comma_ddmm(tmp_path: Path, db_path: Path) -> None:
    text = (
        "Código do Cliente;Nome;Cidade;UF\r\n"
        "C0000001;João da Silva;São Paulo;SP\r\n"
        "C0000002;Conceição Araújo;Maceió;AL\r\n"
    )
    path = write(tmp_path, "clientes.csv", text, encoding="cp1252")
    report = ingest_file(path, "customers", db=db_path)
    assert (report.encoding, report.delimiter, report.rows_loaded) == ("windows-1252", ";", 2)
    assert query(db_path, "SELECT name, city FROM customers ORDER BY 1") == [
        ("Conceição Araújo", "Maceió"),
        ("João da Silva", "São Paulo"),
    ]


def test_decimal_comma_with_thousands_and_currency(tmp_path: Path, db_path: Path) -> None:
    text = (
        "Número do Pedido;Código do Cliente;Data da Venda;Valor Total (R$)\n"
        "P1;C1;05/03/2024;R$ 1.234,56\n"
        "P2;C1;06/03/2024;R$ 1.234.567,00\n"
        "P3;C1;07/03/2024;89,9\n"
        "P4;C1;08/03/2024;-R$ 0,50\n"
        "P5;C1;09/03/2024;1.234\n"
    )
    report = ingest_file(write(tmp_path, "v.csv", text, "cp1252"), "orders", db=db_path)
    assert report.decimal["Valor Total (R$)"]["decimal"] == ","
    assert report.decimal["Valor Total (R$)"]["assumed"] is False
    rows = query(db_path, "SELECT order_id, gross_amount FROM orders ORDER BY 1")
    assert rows == [
        ("P1", Decimal("1234.56")),
        ("P2", Decimal("1234567.00")),
        ("P3", Decimal("89.90")),
        ("P5", Decimal("1234.00")),
    ]
    assert report.rejects[0]["line"] == 5 and "negative" in report.rejects[0]["reason"]
    assert query(db_path, "SELECT raw FROM rejected_rows") == [("P4;C1;08/03/2024;-R$ 0,50",)]


def test_decimal_decided_per_column_not_per_row(tmp_path: Path, db_path: Path) -> None:
    # two values prove a decimal point; "12,50" then contradicts the column and is rejected
    text = (
        "order_id,customer_id,ordered_at,gross_amount\n"
        'A1,C1,2024-01-02,10.50\nA2,C1,2024-01-02,7.25\nA3,C1,2024-01-02,"12,50"\n'
    )
    report = ingest_file(write(tmp_path, "o.csv", text), "orders", db=db_path)
    assert report.decimal["gross_amount"]["decimal"] == "."
    assert [r["line"] for r in report.rejects] == [4]


def test_undecided_money_column_uses_default_and_says_assumed(
    tmp_path: Path, db_path: Path
) -> None:
    text = "order_id;customer_id;ordered_at;gross_amount\nA1;C1;2024-01-02;1.234\n"
    report = ingest_file(write(tmp_path, "o.csv", text), "orders", db=db_path)
    assert report.decimal["gross_amount"] == {
        "decimal": ",",
        "thousands": ".",
        "assumed": True,
        "evidence": {",": 0, ".": 0},
    }
    assert query(db_path, "SELECT gross_amount FROM orders")[0][0] == Decimal("1234.00")


@pytest.mark.parametrize(
    ("dates", "fmt", "assumed", "first_day"),
    [
        (["03/04/2024", "13/04/2024"], "dd/mm/yyyy", False, "2024-04-03"),
        (["03/04/2024", "04/13/2024"], "mm/dd/yyyy", False, "2024-03-04"),
        (["03/04/2024", "05/06/2024"], "dd/mm/yyyy", True, "2024-04-03"),  # ambiguous: default
        (["2024-04-03", "2024-04-13"], "yyyy-mm-dd", False, "2024-04-03"),
        (["3-4-2024", "13.4.2024"], "dd/mm/yyyy", False, "2024-04-03"),
    ],
)
def test_date_format_per_column(
    tmp_path: Path, db_path: Path, dates: list[str], fmt: str, assumed: bool, first_day: str
) -> None:
    rows = "".join(f"A{i},C1,{d},10\n" for i, d in enumerate(dates))
    path = write(tmp_path, "o.csv", "order_id,customer_id,ordered_at,gross_amount\n" + rows)
    report = ingest_file(path, "orders", db=db_path)
    decision = report.date_formats["ordered_at"]
    assert (decision["format"], decision["assumed"]) == (fmt, assumed)
    day = query(
        db_path, "SELECT strftime(ordered_at, '%Y-%m-%d') FROM orders WHERE order_id = 'A0'"
    )
    assert day[0][0] == first_day


def test_ambiguous_dates_follow_profile_default_mdy(tmp_path: Path, db_path: Path) -> None:
    text = "Opportunity ID,Account ID,Close Date,Amount,Stage\nO1,A1,03/04/2024,100.00,Closed Won\n"
    report = ingest_file(write(tmp_path, "sf.csv", text), "orders", db=db_path)
    assert report.profile == "salesforce_opportunities"
    assert report.date_formats["Close Date"]["format"] == "mm/dd/yyyy"
    assert report.date_formats["Close Date"]["assumed"] is True
    assert (
        query(db_path, "SELECT strftime(ordered_at, '%Y-%m-%d') FROM orders")[0][0] == "2024-03-04"
    )


def test_naive_times_are_business_time_offsets_normalised(tmp_path: Path, db_path: Path) -> None:
    text = (
        "order_id,customer_id,ordered_at,gross_amount\n"
        "A1,C1,2024-03-05 14:00:00,10\n"  # São Paulo, UTC-3
        "A2,C1,2024-03-05 14:00:00+01:00,10\n"
        "A3,C1,2024-03-05T14:00:00Z,10\n"
    )
    ingest_file(write(tmp_path, "o.csv", text), "orders", db=db_path)
    got = query(
        db_path,
        "SELECT order_id, strftime(ordered_at AT TIME ZONE 'UTC', '%H:%M') FROM orders ORDER BY 1",
    )
    assert got == [("A1", "17:00"), ("A2", "13:00"), ("A3", "14:00")]


def test_utf8_bom(tmp_path: Path, db_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfcustomer_id,name\nC1,Ana\n")
    report = ingest_file(path, "customers", db=db_path)
    assert report.encoding == "utf-8-sig" and report.mapping == {
        "customer_id": "customer_id",
        "name": "name",
    }
    assert query(db_path, "SELECT customer_id, name FROM customers") == [("C1", "Ana")]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters(tmp_path: Path, db_path: Path, delimiter: str) -> None:
    rows = ["customer_id", "name", "city"], ["C1", "Ana, a primeira", "Rio"], ["C2", "Bia", "SP"]
    text = (
        "\n".join(delimiter.join(r if delimiter != "," else [f'"{c}"' for c in r]) for r in rows)
        + "\n"
    )
    report = ingest_file(write(tmp_path, "d.csv", text), "customers", db=db_path)
    assert report.delimiter == delimiter and report.rows_loaded == 2


def test_embedded_newlines_keep_physical_line_numbers(tmp_path: Path, db_path: Path) -> None:
    text = (
        "customer_id,occurred_at,channel,subject\n"  # 1
        'C1,2024-01-02,email,"linha um\nlinha dois"\n'  # 2-3
        "C1,2024-01-03,pombo,x\n"  # 4 bad channel
        "\n"  # 5 blank
        'C2,2024-01-04,chat,"a\nb\nc"\n'  # 6-8
        "C2,2024-01-05,fax,y\n"  # 9 bad channel
    )
    report = ingest_file(write(tmp_path, "i.csv", text), "interactions", db=db_path)
    assert [r["line"] for r in report.rejects] == [4, 9]
    assert query(db_path, "SELECT line, subject FROM interactions ORDER BY line") == [
        (2, "linha um\nlinha dois"),
        (6, "a\nb\nc"),
    ]


def test_unterminated_quote_is_one_reject_not_silence(tmp_path: Path, db_path: Path) -> None:
    text = 'customer_id,name\nC1,Ana\nC2,"Bia\nC3,Caio\n'
    report = ingest_file(write(tmp_path, "q.csv", text), "customers", db=db_path)
    assert report.rows_loaded == 1 and report.rows_rejected == 1
    assert report.rejects[0]["line"] == 3
    assert "never closed" in report.rejects[0]["reason"]
    assert report.rows_read == report.rows_loaded + report.rows_rejected


def test_preview_shows_decisions_mapping_and_typed_rows(tmp_path: Path) -> None:
    text = (
        "Número do Pedido;Código do Cliente;Data da Venda;Valor Total (R$);Obs\n"
        "P1;C1;13/03/2024;1.234,56;x\nP2;C1;14/03/2024;abc;y\n"
    )
    preview = preview_file(write(tmp_path, "v.csv", text), "orders")
    assert preview.profile == "planilha_vendas"
    assert preview.mapping["Valor Total (R$)"] == "gross_amount"
    assert preview.ignored_columns == ["Obs"]
    assert preview.required_missing == []
    assert preview.rows["gross_amount"].to_list() == [Decimal("1234.56")]
    assert preview.rejects[0]["line"] == 3
    missing = preview_file(write(tmp_path, "m.csv", "a;b\n1;2\n"), "orders")
    assert "order_id" in missing.required_missing and missing.rows.height == 0
    english = preview.rejects[0]["reason"]
    portuguese = preview_file(tmp_path / "v.csv", "orders", lang="pt_BR").rejects[0]["reason"]
    assert "not a number" in english
    assert "não é um número" in portuguese  # the upload page shows them in the user's language


def test_xlsx_rows_are_sheet_rows(tmp_path: Path, db_path: Path) -> None:
    from datetime import datetime

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Número do Pedido", "Código do Cliente", "Data da Venda", "Valor Total (R$)"])
    sheet.append(["P1", "C1", datetime(2024, 3, 5, 10, 0), 1234.56])
    sheet.append([None, None, None, None])
    sheet.append(["P2", "C1", "não é data", 10])
    sheet.append(["P3", "C2", datetime(2024, 3, 6), 99])
    path = tmp_path / "vendas.xlsx"
    book.save(path)
    report = ingest_file(path, "orders", db=db_path)
    assert report.encoding == "xlsx"
    assert [(r["line"], r["column"]) for r in report.rejects] == [(4, "Data da Venda")]
    assert query(db_path, "SELECT order_id, line, gross_amount FROM orders ORDER BY 1") == [
        ("P1", 2, Decimal("1234.56")),
        ("P3", 5, Decimal("99.00")),
    ]


def test_title_lines_before_header_are_skipped(tmp_path: Path, db_path: Path) -> None:
    text = "Relatório de clientes\ncustomer_id,name,city\nC1,Ana,Rio\nC2,Bia,\n"
    report = ingest_file(write(tmp_path, "t.csv", text), "customers", db=db_path)
    assert report.rows_read == 2
    assert query(db_path, "SELECT customer_id, line FROM customer_records ORDER BY 1") == [
        ("C1", 3),
        ("C2", 4),
    ]


def test_salesforce_contacts_with_footer(tmp_path: Path, db_path: Path) -> None:
    text = (
        '"Contact ID","First Name","Last Name","Email","Mailing City","Email Opt Out"\n'
        '"0035g00000Q1","Ana","Souza","ana@x.com","Rio","0"\n'
        '"0035g00000Q2","Bia","Lima","bia@x.com","SP","1"\n'
        "\n"
        '"Grand Totals (2 records)"\n'
        "\n"
        '"Confidential Information - Do Not Distribute"\n'
        '"Copyright (c) 2000-2024 salesforce.com, inc. All rights reserved."\n'
    )
    report = ingest_file(write(tmp_path, "sfc.csv", text), "customers", db=db_path)
    assert report.profile == "salesforce_contacts"
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (2, 2, 0)
    assert len(report.footer_lines) == 3
    assert query(db_path, "SELECT customer_id, channel, granted FROM consents ORDER BY 1") == [
        ("0035g00000Q1", "email", True),
        ("0035g00000Q2", "email", False),
    ]


def test_decisions_see_every_value_not_a_sample(tmp_path: Path, db_path: Path) -> None:
    # 3,000 ambiguous rows; the only deciding values come at the very end
    rows = "".join(f"A{i},C1,03/04/2024,1.234\n" for i in range(3000))
    rows += 'Z1,C1,13/04/2024,"2.000,50"\n'
    path = write(tmp_path, "o.csv", "order_id,customer_id,ordered_at,gross_amount\n" + rows)
    report = ingest_file(path, "orders", db=db_path)
    assert report.date_formats["ordered_at"]["format"] == "dd/mm/yyyy"
    assert report.date_formats["ordered_at"]["assumed"] is False
    assert report.decimal["gross_amount"]["decimal"] == ","
    assert report.decimal["gross_amount"]["assumed"] is False
    got = query(
        db_path,
        "SELECT strftime(ordered_at, '%Y-%m-%d'), gross_amount FROM orders "
        "WHERE order_id IN ('A0', 'Z1') ORDER BY 1",
    )
    assert got == [("2024-04-03", Decimal("1234.00")), ("2024-04-13", Decimal("2000.50"))]

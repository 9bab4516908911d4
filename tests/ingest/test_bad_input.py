"""Files refused as a whole (nothing changes) and rows rejected one by one."""

from __future__ import annotations

from pathlib import Path

import pytest

from crm_core.ingest import IngestRefused, ingest_file
from tests.ingest.conftest import query, snapshot, write

ORDERS_HEAD = "order_id,customer_id,ordered_at,gross_amount\n"


@pytest.mark.parametrize(
    ("content", "key"),
    [
        (b"", "ingest.empty_file"),
        (b"\n\n  \n", "ingest.empty_file"),
        (ORDERS_HEAD.encode(), "ingest.header_only"),
        (ORDERS_HEAD.encode() + b"\n\n", "ingest.header_only"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" * 40, "ingest.binary_file"),
        (bytes(range(1, 32)) * 100, "ingest.binary_file"),
    ],
)
def test_refused_files_change_nothing(
    tmp_path: Path, db_path: Path, content: bytes, key: str
) -> None:
    path = tmp_path / "upload.csv"
    path.write_bytes(content)
    before = snapshot(db_path)
    with pytest.raises(IngestRefused) as info:
        ingest_file(path, "orders", db=db_path)
    assert info.value.key == key
    assert info.value.params["file"] == "upload.csv"
    assert snapshot(db_path) == before
    assert query(db_path, "SELECT count(*) FROM uploads")[0][0] == 0


def test_missing_required_column_lists_found_and_missing(tmp_path: Path, db_path: Path) -> None:
    path = write(tmp_path, "o.csv", "order_id,customer_id,valor\nA1,C1,10\n")
    with pytest.raises(IngestRefused) as info:
        ingest_file(path, "orders", db=db_path)
    assert info.value.key == "ingest.missing_columns"
    assert info.value.params["required_missing"] == ["ordered_at"]
    assert info.value.params["columns_found"] == ["order_id", "customer_id", "valor"]
    assert "ordered_at" in info.value.message("pt_BR")


def test_explicit_mapping_supplies_missing_column(tmp_path: Path, db_path: Path) -> None:
    path = write(tmp_path, "o.csv", "pedido,cliente_x,quando,valor\nA1,C1,2024-01-02,10\n")
    report = ingest_file(
        path, "orders", db=db_path, mapping={"cliente_x": "customer_id", "quando": "ordered_at"}
    )
    assert report.rows_loaded == 1
    assert report.mapping["quando"] == "ordered_at"


def test_file_over_size_limit(tmp_path: Path, db_path: Path) -> None:
    path = write(tmp_path, "o.csv", ORDERS_HEAD + "A1,C1,2024-01-02,10\n")
    with pytest.raises(IngestRefused) as info:
        ingest_file(path, "orders", db=db_path, max_bytes=10)
    assert info.value.key == "ingest.too_big"


def test_mixed_good_and_bad_rows_exact_lines_columns_reasons(tmp_path: Path, db_path: Path) -> None:
    text = (
        "order_id,customer_id,ordered_at,gross_amount,items\n"  # 1
        "A1,C0000001,2024-01-02,10.50,1\n"  # 2 good
        "A2,C0000001,2024-13-45,11.00,1\n"  # 3 bad date
        "A3,C0000002,2024-01-03,onze,1\n"  # 4 not a number
        ",C0000002,2024-01-03,12.00,1\n"  # 5 missing key
        "A5,C0000003,2024-01-04,-5.00,1\n"  # 6 negative
        "A6,C0000003,2024-01-04,13.00,-2\n"  # 7 negative items
        "A7,C0000003,2099-01-04,13.00,1\n"  # 8 future
        "A8,C0000003,2024-01-04,5000000000.00,1\n"  # 9 absurd
        "A9,C0000004,2024-01-05,14.00,1,extra\n"  # 10 field count
        "A10,C0000004,2024-01-05,15.25,2\n"  # 11 good
    )
    report = ingest_file(write(tmp_path, "mixed.csv", text), "orders", db=db_path, lang="en")
    got = [(r["line"], r["column"], r["reason"]) for r in report.rejects]
    assert got == [
        (3, "ordered_at", "ordered_at: '2024-13-45' is not a date in the format yyyy-mm-dd"),
        (4, "gross_amount", "gross_amount: 'onze' is not a number (decimal '.')"),
        (5, "order_id", "required value missing in order_id"),
        (6, "gross_amount", "gross_amount: '-5.00' cannot be negative"),
        (7, "items", "items: '-2' cannot be negative"),
        (8, "ordered_at", "ordered_at: '2099-01-04' is in the future"),
        (9, "gross_amount", "gross_amount: '5000000000.00' is beyond any plausible amount"),
        (10, None, "the row has 6 fields where the header has 5"),
    ]
    assert (report.rows_read, report.rows_loaded, report.rows_rejected) == (10, 2, 8)
    stored = query(db_path, "SELECT line, column_name, raw FROM rejected_rows ORDER BY line")
    assert stored[0] == (3, "ordered_at", "A2,C0000001,2024-13-45,11.00,1")
    assert stored[-1] == (10, None, "A9,C0000004,2024-01-05,14.00,1,extra")
    assert query(db_path, "SELECT order_id, line FROM orders ORDER BY line") == [
        ("A1", 2),
        ("A10", 11),
    ]


def test_rejects_in_portuguese(tmp_path: Path, db_path: Path) -> None:
    text = ORDERS_HEAD + "A1,C1,2024-01-02,10\nA2,C1,2024-01-02,dez\n"
    report = ingest_file(write(tmp_path, "o.csv", text), "orders", db=db_path, lang="pt_BR")
    assert report.rejects == [
        {
            "line": 3,
            "column": "gross_amount",
            "reason": "gross_amount: 'dez' não é um número (decimal '.')",
        }
    ]
    assert report.message.startswith("o.csv: 1 de 2 linhas carregadas")


def test_zero_rows_loadable_is_refused_with_rejects(tmp_path: Path, db_path: Path) -> None:
    text = ORDERS_HEAD + "A1,C1,ontem,10\nA2,C1,2024-01-02,dez\n"
    before = snapshot(db_path)
    with pytest.raises(IngestRefused) as info:
        ingest_file(write(tmp_path, "o.csv", text), "orders", db=db_path)
    assert info.value.key == "ingest.nothing_loaded"
    assert [r["line"] for r in info.value.params["rejects"]] == [2, 3]
    assert snapshot(db_path) == before


@pytest.mark.parametrize(
    ("row", "column", "code_text"),
    [
        ("C1,2024-01-02,7,", "nps", "outside 0-10"),
        ("C1,2024-01-02,11,3", "nps", "outside 0-10"),
        ("C1,2024-01-02,8,0", "csat", "outside 1-5"),
        ("C1,2024-01-02,8,6", "csat", "outside 1-5"),
        ("C1,2024-01-02,8.5,4", "nps", "not a whole number"),
    ],
)
def test_feedback_score_ranges(
    tmp_path: Path, db_path: Path, row: str, column: str, code_text: str
) -> None:
    text = "customer_id,answered_at,nps,csat\nC1,2024-01-01,7,4\n" + row + "\n"
    if row.endswith(","):  # NPS 7 with no CSAT is fine: craft a genuinely bad one instead
        text = "customer_id,answered_at,nps,csat\nC1,2024-01-01,7,4\nC1,2024-01-02,-1,\n"
    report = ingest_file(write(tmp_path, "f.csv", text), "feedback", db=db_path)
    assert report.rows_loaded == 1 and report.rows_rejected == 1
    assert report.rejects[0]["line"] == 3
    assert report.rejects[0]["column"] == column
    assert code_text in report.rejects[0]["reason"]


def test_unknown_status_and_channel_rejected(tmp_path: Path, db_path: Path) -> None:
    text = ORDERS_HEAD.strip() + ",status\nA1,C1,2024-01-02,10,pago\nA2,C1,2024-01-02,10,xyz\n"
    report = ingest_file(write(tmp_path, "o.csv", text), "orders", db=db_path)
    assert (
        report.rejects[0]["line"] == 3
        and "unknown order status 'xyz'" in report.rejects[0]["reason"]
    )
    text = "customer_id,occurred_at,channel\nC1,2024-01-02,email\nC1,2024-01-02,pombo\n"
    report = ingest_file(write(tmp_path, "i.csv", text), "interactions", db=db_path)
    assert (
        report.rejects[0]["line"] == 3 and "unknown channel 'pombo'" in report.rejects[0]["reason"]
    )

"""Exports: formula injection neutralised in CSV and XLSX, numbers untouched."""

from __future__ import annotations

import io

import openpyxl
import polars as pl
import pytest

from crm_core.export import neutralise, to_csv_bytes, to_xlsx_bytes

RISKY = ["=1+1", "+55 11 9999", "-2", "@SUM(A1)", "\tcmd", "\rx", "Ana", "a=b"]


@pytest.mark.parametrize("value", RISKY)
def test_neutralise(value: str) -> None:
    out = neutralise(pl.DataFrame({"name": [value]}))["name"][0]
    if value[0] in "=+-@\t\r":
        assert out == "'" + value
    else:
        assert out == value


def test_csv_keeps_numbers_and_escapes_text() -> None:
    frame = pl.DataFrame({"name": ['=HYPERLINK("x")', "Zé"], "amount": [-10.5, 2.0]})
    text = to_csv_bytes(frame).decode("utf-8-sig")
    assert "'=HYPERLINK" in text
    assert "-10.5" in text and "'-10.5" not in text
    assert "Zé" in text


def test_xlsx_cells_are_text_not_formulas() -> None:
    frame = pl.DataFrame({"name": ["=cmd|' /C calc'!A0", "ok"], "n": [1, 2]})
    book = openpyxl.load_workbook(io.BytesIO(to_xlsx_bytes(frame)))
    sheet = book.active
    assert sheet["A2"].value == "'=cmd|' /C calc'!A0"
    assert sheet["A2"].data_type == "s"
    assert sheet["B2"].value == 1


def test_zone_aware_instants_export_as_local_time() -> None:
    from datetime import UTC, datetime

    frame = pl.DataFrame({"at": [datetime(2024, 1, 1, 2, 0, tzinfo=UTC)]})
    book = openpyxl.load_workbook(io.BytesIO(to_xlsx_bytes(frame)))
    # 02:00 UTC is 23:00 the day before in São Paulo (UTC-3)
    assert book.active["A2"].value == datetime(2023, 12, 31, 23, 0)
    assert "2023-12-31T23:00" in to_csv_bytes(frame).decode("utf-8-sig")

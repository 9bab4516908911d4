"""XLSX workbooks (first sheet) as records for the same pipeline; line = sheet row."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

from crm_core.ingest.report import IngestRefused

XLSX_SUFFIXES = (".xlsx", ".xlsm")


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value)
    return text if text.strip() else None


def read_xlsx(path: Path, name: str) -> tuple[list[str], int, Iterator]:
    """Headers, header row and an iterator of (row, row, cells) for the data rows."""
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a non-workbook
        raise IngestRefused("ingest.bad_xlsx", file=name, detail=str(exc)) from exc
    rows = enumerate(book.active.iter_rows(values_only=True), start=1)
    for number, cells in rows:
        values = [_text(c) for c in cells]
        while values and values[-1] is None:
            values.pop()
        if values:
            headers = [(v or "").strip() for v in values]
            return headers, number, _records(rows, len(headers))
    raise IngestRefused("ingest.empty_file", file=name)


def _records(rows: Iterator, width: int) -> Iterator[tuple[int, int, list[str | None]]]:
    for number, cells in rows:
        values = [_text(c) for c in cells]
        while len(values) > width and values[-1] is None:
            values.pop()
        if not any(v is not None for v in values):
            continue
        values += [None] * (width - len(values))
        yield number, number, values

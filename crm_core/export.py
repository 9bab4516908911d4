"""Downloads: frames to CSV and XLSX bytes, safe to open in a spreadsheet.

Spreadsheet formula injection (OWASP "CSV injection"): a cell that starts
with `=`, `+`, `-`, `@`, a tab or a carriage return is run as a formula by
Excel, LibreOffice and Google Sheets. Every text cell that starts so is
prefixed with a single quote, which spreadsheets show as text. Numbers stay
numbers (a negative amount is a number column, not text, so it is untouched).
"""

from __future__ import annotations

import io

import polars as pl

from crm_core.store import business_tz

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(frame: pl.DataFrame) -> pl.DataFrame:
    """Prefix `'` to every text cell that a spreadsheet would read as a formula."""
    text_cols = [name for name, dtype in frame.schema.items() if dtype in (pl.Utf8, pl.String)]
    if not text_cols:
        return frame
    risky = "^[" + "".join("\\" + ch if ch in "+-" else ch for ch in FORMULA_STARTS) + "]"
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(risky)).then("'" + pl.col(c)).otherwise(pl.col(c)).alias(c)
        for c in text_cols
    )


def _plain(frame: pl.DataFrame) -> pl.DataFrame:
    """Enums and categoricals as text (escaped like strings); instants as business-zone local
    time (spreadsheets have no time zones, and XLSX refuses zone-aware values)."""
    tz = business_tz()
    return frame.with_columns(
        *(
            pl.col(name).cast(pl.Utf8)
            for name, dtype in frame.schema.items()
            if isinstance(dtype, pl.Enum | pl.Categorical)
        ),
        *(
            pl.col(name).dt.convert_time_zone(tz).dt.replace_time_zone(None)
            for name, dtype in frame.schema.items()
            if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None
        ),
    )


def to_csv_bytes(frame: pl.DataFrame) -> bytes:
    """UTF-8 CSV with a BOM (so Excel opens accents right), formula cells neutralised."""
    return b"\xef\xbb\xbf" + neutralise(_plain(frame)).write_csv().encode("utf-8")


def to_xlsx_bytes(frame: pl.DataFrame, sheet: str = "data") -> bytes:
    """An XLSX workbook with one sheet, formula cells neutralised and written as text."""
    buffer = io.BytesIO()
    safe = neutralise(_plain(frame))
    safe.write_excel(buffer, worksheet=sheet[:31], autofit=True)
    return buffer.getvalue()

"""Download buttons for a frame as CSV and XLSX (formula cells neutralised, personal data masked).

The files are built only when the user clicks (Streamlit runs the callable
then), so a page rerun never pays for an XLSX nobody asked for. The frame is
masked for the acting role first (`ui.masking`), and each file built appends
an `export.downloaded` event to the audit trail (`crm_core.audit_trail`).
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
import streamlit as st

from crm_core import store
from crm_core.audit_trail import record_export
from crm_core.export import to_csv_bytes, to_xlsx_bytes
from crm_core.privacy import column_kind, visible_columns
from ui.context import actor, db, role, t
from ui.masking import masked


def _audited(
    frame: pl.DataFrame, basename: str, fmt: str, build: Callable[[pl.DataFrame], bytes]
) -> Callable[[], bytes]:
    """The click callable: the file's bytes, after recording who downloaded what.

    Who, where and which columns are masked are read now, while the page runs (the callable
    runs later, outside the script)."""
    who, path, shown = actor(), db(), visible_columns(role())
    hidden = [c for c in frame.columns if (k := column_kind(c)) and k not in shown]

    def build_file() -> bytes:
        data = build(frame)
        with store.connect(path) as con:
            record_export(con, who, basename, fmt, frame.height, frame.columns, hidden)
        return data

    return build_file


def download_buttons(frame: pl.DataFrame, basename: str, key: str) -> None:
    """Two buttons side by side: CSV and XLSX of `frame` (masked for the acting role), files
    named `basename.*`; each download is audited."""
    frame = masked(frame)
    left, right = st.columns(2)
    left.download_button(
        t("download.csv"), data=_audited(frame, basename, "csv", to_csv_bytes),
        file_name=f"{basename}.csv", mime="text/csv", key=f"{key}_csv",
        icon=":material/download:", on_click="ignore",
    )  # fmt: skip
    right.download_button(
        t("download.xlsx"), data=_audited(frame, basename, "xlsx", to_xlsx_bytes),
        file_name=f"{basename}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=f"{key}_xlsx", icon=":material/table_view:", on_click="ignore",
    )  # fmt: skip

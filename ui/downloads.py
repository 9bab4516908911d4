"""Download buttons for a frame as CSV and XLSX (formula cells neutralised).

The files are built only when the user clicks (Streamlit runs the callable
then), so a page rerun never pays for an XLSX nobody asked for.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from crm_core.export import to_csv_bytes, to_xlsx_bytes
from ui.context import t


def download_buttons(frame: pl.DataFrame, basename: str, key: str) -> None:
    """Two buttons side by side: CSV and XLSX of `frame`, files named `basename.*`."""
    left, right = st.columns(2)
    left.download_button(
        t("download.csv"), data=lambda: to_csv_bytes(frame), file_name=f"{basename}.csv",
        mime="text/csv", key=f"{key}_csv", icon=":material/download:", on_click="ignore",
    )  # fmt: skip
    right.download_button(
        t("download.xlsx"), data=lambda: to_xlsx_bytes(frame), file_name=f"{basename}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=f"{key}_xlsx", icon=":material/table_view:", on_click="ignore",
    )  # fmt: skip

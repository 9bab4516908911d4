"""Data → Store: what the customer store holds, table by table."""

from __future__ import annotations

import polars as pl
import streamlit as st

from crm_core.i18n.format import format_money, format_number
from ui import loaders
from ui.context import data_version, db, lang, page_header, t

page_header(__file__, "store")

summary = loaders.store_summary(db(), data_version())
tables = summary["tables"]
if tables["customers"] == 0 and tables["orders"] == 0:
    st.info(t("page.store.empty"))
    st.stop()

cols = st.columns(4)
cols[0].metric(t("metric.customers"), format_number(tables["customers"], lang()))
cols[1].metric(t("metric.orders"), format_number(summary["orders"]["orders"], lang()))
cols[2].metric(
    t("metric.net_revenue"),
    format_money(summary["orders"]["net_revenue"], lang()),
    help=t("metric.net_revenue.help"),
)
cols[3].metric(t("metric.interactions"), format_number(tables["interactions"], lang()))

st.subheader(t("page.store.tables"))
st.dataframe(
    pl.DataFrame({"table": list(tables), "rows": list(tables.values())}),
    hide_index=True,
    column_config={
        "table": st.column_config.TextColumn(t("col.table")),
        "rows": st.column_config.NumberColumn(t("col.rows"), format="localized"),
    },
)

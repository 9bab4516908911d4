"""Overview → KPI dashboard: headline KPIs against the previous period, trends, breakdowns."""

from __future__ import annotations

import polars as pl
import streamlit as st

from crm_core.i18n.format import format_date, format_number
from crm_core.kpis import KPIS, kpi_definition, kpi_name
from ui import filters
from ui import overview_view as view
from ui.context import data_version, db, lang, page_header, t
from ui.downloads import download_buttons

page_header(__file__, "overview")
f = filters.require("page.overview.empty")
key = view.key_of(f, db(), data_version())
customers = view.subset(key)
if customers is not None and customers.height == 0:
    st.info(t("page.overview.no_customers"))
    st.stop()
period, previous = f.period, f.period.previous()
st.caption(t("page.overview.period", start=format_date(period.start, lang()),
             end=format_date(period.end, lang()), days=format_number(period.days, lang()),
             previous_start=format_date(previous.start, lang()),
             previous_end=format_date(previous.end, lang())))  # fmt: skip

# ---- headline cards ---------------------------------------------------------------------------
st.subheader(t("page.overview.headline"))
with st.spinner(t("page.overview.computing")):  # only while a new filter is first computed
    table = {row["kpi"]: row for row in view.headline(key).iter_rows(named=True)}
for cards in view.HEADLINE:
    for col, kpi in zip(st.columns(len(cards)), cards, strict=True):
        row = table[kpi]
        col.metric(
            kpi_name(kpi, lang()), view.format_value(kpi, row["value"], lang()),
            view.format_delta(kpi, row["change"], row["change_pct"], lang()),
            **view.delta_style(kpi, row["change"]), border=True,
            help=view.card_help(kpi, row["value"], lang()),
        )  # fmt: skip


# ---- one KPI over time and across groups -------------------------------------------------------
@st.fragment
def explore() -> None:
    """Trend and breakdowns of the chosen KPI: re-runs alone when the KPI changes."""
    st.subheader(t("page.overview.explore"))
    names = {k: kpi_name(k, lang()) for k in KPIS}  # labels fixed now: AppTest reruns keep them
    kpi = st.selectbox(t("page.overview.explore.kpi"), list(names), key="overview_kpi",
                       format_func=names.__getitem__)  # fmt: skip
    st.caption(kpi_definition(kpi, lang()))
    st.markdown(f"**{t('page.overview.trend', months=view.TREND_MONTHS)}**")
    with st.spinner(t("page.overview.computing")):
        trend = view.trends(key).filter(kpi=kpi)
        breakdowns = view.breakdowns(key).filter(kpi=kpi)
    st.plotly_chart(view.trend_figure(trend, kpi, lang()), width="stretch", key="overview_trend")
    st.caption(t("page.overview.trend.help", end=format_date(period.end, lang())))
    st.markdown(f"**{t('page.overview.breakdown')}**")
    st.caption(t("page.overview.breakdown.help", as_of=format_date(f.as_of, lang())))
    cols = st.columns(2)
    for i, dimension in enumerate(view.DIMENSIONS):
        rows = breakdowns.filter(dimension=dimension)
        labels = [view.group_label(dimension, g, lang()) for g in rows["group"]]
        with cols[i % 2]:
            st.markdown(t(f"page.overview.dimension.{dimension}"))
            st.plotly_chart(view.breakdown_figure(rows, kpi, labels, lang()), width="stretch",
                            key=f"overview_breakdown_{dimension}")  # fmt: skip


explore()

# ---- cohorts -----------------------------------------------------------------------------------
st.subheader(t("page.overview.cohorts"))
cohorts = view.cohorts(key)
if cohorts.is_empty():
    st.info(t("page.overview.cohorts.none", months=view.TREND_MONTHS))
else:
    fig = view.cohort_figure(cohorts, lang(), t("page.overview.cohorts.x"))
    st.plotly_chart(fig, width="stretch", key="overview_cohorts")
    st.caption(t("page.overview.cohorts.help", end=format_date(period.end, lang())))

# ---- contact rate by channel -------------------------------------------------------------------
st.subheader(t("page.overview.contact"))
contacts = view.contact_rates(key)
if contacts.is_empty():
    st.info(t("page.overview.contact.none"))
else:
    labels = [view.group_label("main_channel", c, lang()) for c in contacts["channel"]]
    st.plotly_chart(view.contact_figure(contacts, labels, lang()), width="stretch",
                    key="overview_contact")  # fmt: skip
    st.caption(t("kpi.contact_rate_by_channel.definition"))
    shown = contacts.with_columns(pl.Series("channel", labels))
    st.dataframe(shown, hide_index=True, key="overview_contact_table", column_config={
        "channel": st.column_config.TextColumn(t("page.overview.col.channel")),
        "interactions": st.column_config.NumberColumn(t("page.overview.col.interactions"),
                                                      format="localized"),
        "active_customers": st.column_config.NumberColumn(
            t("page.overview.col.active_customers"), format="localized"),
        "contact_rate": st.column_config.NumberColumn(t("page.overview.col.contact_rate"),
                                                      format="%.2f"),
    })  # fmt: skip
    download_buttons(shown, "contact_rate_by_channel", key="overview_contact_dl")

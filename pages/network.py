"""Value chain → Network development (Buttle, stage 3): acquisition sources and partner channels.

Which sources bring customers who buy, stay and are worth more than they cost, and how much
of the business goes through partners. Definitions: `crm_core.network`.
"""

from __future__ import annotations

import streamlit as st

from crm_core.i18n.format import format_money, format_number, format_percent
from crm_core.network import network_totals
from ui import filters
from ui import network_view as view
from ui.context import data_version, db, lang, page_header, t
from ui.downloads import download_buttons

page_header(__file__, "network")
f = filters.require()
key = view.key_of(f, db(), data_version())
subset = filters.customer_subset(f)
settings = view.settings_json(db())
fr = view.facts(key, subset)
sources, cohorts, curves = view.tables(key, subset, settings)
if fr.filtered.is_empty():
    st.info(t("page.network.no_customers"))
    st.stop()
if f.is_filtered:
    st.caption(t("page.network.filtered"))

# ---- acquisition sources --------------------------------------------------------------------
st.subheader(t("page.network.sources"))
totals = network_totals(fr.filtered)
cols = st.columns(4)
cols[0].metric(t("page.network.metric.sources"), format_number(sources.height, lang()),
               help=t("page.network.metric.sources.help"))  # fmt: skip
cols[1].metric(t("page.network.metric.customers"), format_number(totals["customers"], lang()),
               help=t("page.network.col.customers.help"))  # fmt: skip
cols[2].metric(t("page.network.metric.share_bought"),
               format_percent(totals["share_bought"], lang()),
               help=t("page.network.col.share_bought.help"))  # fmt: skip
cols[3].metric(t("page.network.metric.retention"), format_percent(totals["retention_12m"], lang()),
               help=t("page.network.col.retention_12m.help"))  # fmt: skip

names = {"customers": t("page.network.col.customers"), "avg_clv": t("page.network.col.avg_clv")}
st.plotly_chart(view.sources_chart(sources, names), key="network_sources_chart")
st.caption(t("page.network.sources.help"))
if not fr.has_clv:
    st.caption(t("page.network.no_clv"))

st.markdown(f"**{t('page.network.curves')}**")
st.plotly_chart(view.curves_chart(curves, t("page.network.curves.x"), t("page.network.curves.y")),
                key="network_curves")  # fmt: skip
st.caption(t("page.network.curves.help"))

# ---- cost per acquired customer -------------------------------------------------------------
st.subheader(t("page.network.cost"))
with_spend = sources.filter(sources["spend"].is_not_null())
if with_spend.is_empty():
    st.info(t("page.network.cost.none"))
else:
    fig = view.clv_cac_chart(sources, t("page.network.col.cac"), t("page.network.cost.y"),
                             t("page.network.cost.even"))  # fmt: skip
    st.plotly_chart(fig, key="network_clv_cac")
    st.caption(t("page.network.cost.help"))
    if with_spend.height < sources.height:
        st.caption(t("page.network.cost.partial", n=with_spend.height, total=sources.height))
st.page_link("pages/settings.py", label=t("page.network.cost.link"), icon=":material/settings:")

st.markdown(f"**{t('page.network.table')}**")
table = view.shown(sources)
st.dataframe(table, hide_index=True, key="network_table", column_config=view.source_columns())
download_buttons(table, "acquisition_sources", key="network_table_dl")


@st.fragment
def cohort_section() -> None:
    """One source's acquisition cohorts: re-runs alone when another source is picked."""
    st.markdown(f"**{t('page.network.cohorts')}**")
    labels = {c: view.source_label(c) for c in sources.filter(sources["customers"] > 0)["source"]}
    pick = st.selectbox(t("page.network.cohorts.pick"), list(labels),
                        format_func=labels.__getitem__, key="network_cohort_source")  # fmt: skip
    mine = view.shown(cohorts.filter(cohorts["source"] == pick), view.COHORT)
    st.dataframe(mine.drop("source"), hide_index=True, key="network_cohorts",
                 column_config=view.source_columns())  # fmt: skip
    st.caption(t("page.network.cohorts.help"))
    download_buttons(view.shown(cohorts, view.COHORT), "acquisition_cohorts",
                     key="network_cohorts_dl")  # fmt: skip


cohort_section()

# ---- partner sales channels -----------------------------------------------------------------
st.subheader(t("page.network.partners"))


@st.fragment
def partner_section() -> None:
    """Partner vs own sales channels: re-runs alone when the span changes."""
    months = st.select_slider(t("page.network.partners.months"), options=list(view.SPANS),
                              value=12, key="network_months")  # fmt: skip
    trend, channels = view.partners(key, subset, months)
    partner = channels.filter((channels["group"] == "partner") & channels["channel"].is_null())
    row = partner.row(0, named=True) if partner.height else {}
    cols = st.columns(3)
    cols[0].metric(t("page.network.metric.partner_share"),
                   format_percent(row.get("revenue_share"), lang()),
                   help=t("page.network.col.ch_revenue_share.help"))  # fmt: skip
    cols[1].metric(t("page.network.metric.partner_revenue"),
                   format_money(row.get("revenue"), lang()),
                   help=t("page.network.col.ch_revenue.help"))  # fmt: skip
    cols[2].metric(t("page.network.metric.partner_customers"),
                   format_number(row.get("customers"), lang()),
                   help=t("page.network.col.ch_customers.help"))  # fmt: skip
    groups = {g: t(f"page.network.group.{g}") for g in ("own", "partner")}
    st.plotly_chart(view.partner_chart(trend, groups, t("page.network.col.ch_revenue")),
                    key="network_partner_chart")  # fmt: skip
    st.caption(t("page.network.partners.help", months=months))
    shown = view.channel_shown(channels)
    st.dataframe(shown, hide_index=True, key="network_channels",
                 column_config=view.channel_columns())  # fmt: skip


partner_section()

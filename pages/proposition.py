"""Value chain → Value proposition development (Buttle, stage 4): offers and campaigns by segment.

How each segment answered the campaigns it received, against comparable customers who were
not contacted, and which next-best-action rules shape its offer today. Definitions:
`crm_core.proposition`.
"""

from __future__ import annotations

import streamlit as st

from crm_core.i18n.format import format_money, format_number, format_percent
from crm_core.proposition import DEFAULT_DAYS
from ui import filters
from ui import proposition_view as view
from ui.context import config_version, data_version, db, lang, page_header, t
from ui.downloads import download_buttons

page_header(__file__, "proposition")
f = filters.require()
key = view.key_of(f, db(), data_version())
subset = filters.customer_subset(f)
rules_json, settings_json = view.current_inputs(db(), config_version())

# ---- campaigns by segment -------------------------------------------------------------------
st.subheader(t("page.proposition.campaigns"))


@st.fragment
def campaign_section() -> None:
    """Campaign response by segment: re-runs alone when the window or the measure changes."""
    days = st.select_slider(t("page.proposition.days"), options=list(view.WINDOWS),
                            value=DEFAULT_DAYS, key="prop_days",
                            help=t("page.proposition.days.help"))  # fmt: skip
    table = view.response(key, subset, days)
    if table.is_empty():
        st.info(t("page.proposition.no_campaigns"))
        return
    everything = view.pooled_by(key, subset, days, "all").row(0, named=True)
    cols = st.columns(4)
    cols[0].metric(t("page.proposition.metric.campaigns"),
                   format_number(everything["campaigns"], lang()),
                   help=t("page.proposition.metric.campaigns.help"))  # fmt: skip
    cols[1].metric(t("page.proposition.metric.contacts"),
                   format_number(everything["contacted"], lang()),
                   help=t("page.proposition.metric.contacts.help"))  # fmt: skip
    cols[2].metric(t("page.proposition.metric.response"),
                   format_percent(everything["response_rate"], lang()),
                   help=t("page.proposition.col.response_rate.help"))  # fmt: skip
    cols[3].metric(t("page.proposition.metric.uplift"),
                   format_money(everything["revenue_uplift"], lang()),
                   help=t("page.proposition.metric.uplift.help", days=days))  # fmt: skip
    st.info(t("page.proposition.caveat"))

    segments = view.pooled_by(key, subset, days, "segment")
    names = {g: t(f"page.proposition.group.{g}") for g in ("contacted", "comparison")}
    st.plotly_chart(view.groups_chart(segments, names, t("page.proposition.revenue_axis")),
                    key="prop_groups")  # fmt: skip
    st.caption(t("page.proposition.groups.help", days=days))
    st.dataframe(view.response_shown(segments, ("segment", "campaigns")), hide_index=True,
                 key="prop_segments", column_config=view.response_columns())  # fmt: skip

    st.markdown(f"**{t('page.proposition.heatmap')}**")
    measures = {m: t(f"page.proposition.col.{m}") for m in view.MEASURES}
    measure = st.selectbox(t("page.proposition.measure"), list(measures),
                           format_func=measures.__getitem__, key="prop_measure")  # fmt: skip
    st.plotly_chart(view.heatmap(table, measure, measures[measure]), key="prop_heatmap")
    st.caption(t("page.proposition.heatmap.help"))

    st.markdown(f"**{t('page.proposition.detail')}**")
    detail = view.response_shown(table, ("campaign", "segment"))
    st.dataframe(detail, hide_index=True, key="prop_detail", column_config=view.response_columns())
    download_buttons(detail, "campaigns_by_segment", key="prop_detail_dl")


campaign_section()

# ---- the proposition in force ---------------------------------------------------------------
st.subheader(t("page.proposition.offers"))
offers = view.offers(key, rules_json, settings_json)
st.caption(t("page.proposition.offers.help"))
st.dataframe(view.relabel(offers), hide_index=True, key="prop_offers",
             column_config=view.offer_columns())  # fmt: skip
if "cost_to_serve_per_customer" in offers.columns:
    st.caption(t("page.proposition.cost.help", months=view.COST_MONTHS))
else:
    st.caption(t("page.proposition.cost.none"))
st.page_link("pages/customize.py", label=t("page.proposition.link.customize"),
             icon=":material/tune:")  # fmt: skip
st.page_link("pages/portfolio.py", label=t("page.proposition.link.portfolio"),
             icon=":material/account_balance:")  # fmt: skip

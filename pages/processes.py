"""Strategy → Payne & Frow processes: a scorecard of live metrics and assessment scores."""

from __future__ import annotations

import streamlit as st

from crm_core.i18n.format import format_number
from crm_core.processes import PROCESSES
from ui import filters
from ui import processes_view as view
from ui.context import config_version, data_version, db, lang, page_header, t
from ui.downloads import download_buttons

page_header(__file__, "processes")
f = filters.require()
key = view.key_of(f, db(), data_version())
stamp = config_version()
components, scores = view.card(key, stamp)
parts = view.parts(key, stamp)
st.caption(t("page.processes.scope", **view.scope_dates(f)))

# ---- the five processes -----------------------------------------------------------------------
st.plotly_chart(view.radar_chart(scores), key="proc_radar")
st.caption(t("page.processes.radar.help"))
cols = st.columns(len(PROCESSES))
for col, row in zip(cols, scores.iter_rows(named=True), strict=True):
    score = row["score"]
    col.metric(view.process_label(row["process"]),
               "—" if score is None else format_number(score, lang(), 1),
               help=t(f"page.processes.process.{row['process']}.help"))  # fmt: skip
    col.markdown(view.light_label(row["light"]))
st.caption(t("page.processes.light.help", **view.help_params()))

# ---- each process: its components, linked to the pages that show them -------------------------
for row in scores.iter_rows(named=True):
    process = row["process"]
    st.subheader(view.process_label(process))
    st.caption(t(f"page.processes.process.{process}.help"))
    scored = t("page.processes.components_scored", scored=row["scored"], total=row["components"])
    st.markdown(f"{view.light_label(row['light'])}  {scored}")
    st.dataframe(view.component_table(components, process), hide_index=True,
                 key=f"proc_table_{process}", column_config=view.component_columns())  # fmt: skip
    links = st.columns(4)
    for i, page in enumerate(view.pages_of(process)):
        links[i % 4].page_link(
            f"pages/{page}.py", label=view.page_label(page), icon=":material/arrow_forward:",
            query_params=view.link_params(),
        )  # fmt: skip

# ---- the numbers behind the channel and target components --------------------------------------
st.subheader(t("page.processes.details"))
if not parts.settings.targets:
    st.info(t("page.processes.no_targets"))
    st.page_link("pages/settings.py", label=view.page_label("settings"),
                 icon=":material/settings:", query_params=view.link_params())  # fmt: skip
st.markdown(f"**{t('page.processes.targets')}**")
st.dataframe(view.targets_table(parts.against), hide_index=True, key="proc_targets",
             column_config=view.targets_columns())  # fmt: skip
st.caption(t("page.processes.targets.help", **view.help_params()))
left, right = st.columns(2)
left.markdown(f"**{t('page.processes.csat_by_channel')}**")
left.dataframe(parts.csat, hide_index=True, key="proc_csat", column_config=view.channel_columns())
right.markdown(f"**{t('page.processes.response_by_channel')}**")
rates = parts.rates.select("channel", "outbound", "responses", "response_rate")
right.dataframe(rates, hide_index=True, key="proc_rates", column_config=view.channel_columns())
st.caption(t("page.processes.channels.help", n=format_number(view.MIN_BASE, lang())))

download_buttons(components, "payne_frow_scorecard", key="proc_dl")

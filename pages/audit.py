"""Admin → Audit trail: who did what, when, on what, how many rows; read-only, append-only."""

from __future__ import annotations

import streamlit as st

from crm_core.audit_trail import events_per_action
from crm_core.i18n.format import date_input_format, format_number
from ui import audit_view as view
from ui.context import db, lang, page_header, role, t
from ui.downloads import download_buttons

page_header(__file__, "audit")
if role() != "admin":  # second line of defence: navigation and page_header check it first
    st.error(t("page.audit.refused"))
    st.stop()

held = view.facets(db())
if held["events"] == 0:
    st.info(t("page.audit.empty"))
    st.stop()

# ---- filters ---------------------------------------------------------------------------------
left, right = st.columns(2)
actions = left.multiselect(t("page.audit.filter.action"), held["actions"], key="audit_actions",
                           placeholder=t("page.audit.filter.all"))  # fmt: skip
actors = right.multiselect(t("page.audit.filter.actor"), held["actors"], key="audit_actors",
                           placeholder=t("page.audit.filter.all"))  # fmt: skip
left, right = st.columns(2)
days = left.date_input(
    t("page.audit.filter.days"), value=(held["first_day"], held["last_day"]), key="audit_days",
    format=date_input_format(lang()),
)  # fmt: skip
target = right.text_input(t("page.audit.filter.target"), key="audit_target",
                          help=t("page.audit.filter.target.help"))  # fmt: skip

found = view.events(db(), actions, actors, tuple(days), target)
shown = found.head(view.LIMIT)
more = found.height > view.LIMIT

# ---- what happened -----------------------------------------------------------------------------
st.metric(t("page.audit.metric.events"),
          (">" if more else "") + format_number(shown.height, lang()))  # fmt: skip
if shown.height == 0:
    st.info(t("page.audit.none"))
    st.stop()
st.plotly_chart(view.actions_chart(events_per_action(shown), t("page.audit.chart.events")),
                key="audit_actions_chart")  # fmt: skip
st.caption(t("page.audit.chart.help"))
if more:
    st.caption(t("page.audit.limited", limit=format_number(view.LIMIT, lang())))
st.dataframe(shown, hide_index=True, key="audit_events", column_config=view.columns())
st.caption(t("page.audit.append_only"))
download_buttons(shown, "audit_trail", key="audit_dl")

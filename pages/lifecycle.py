"""Lifecycle & loyalty → Lifecycle funnel: Dwyer et al.'s stages, how customers move, the rules."""

from __future__ import annotations

import streamlit as st

from crm_core.clv_report import first_purchase_day
from crm_core.i18n.format import date_input_format
from crm_core.lifecycle import funnel, rule_table, stage_counts
from crm_core.lifecycle_report import transition_window
from ui import filters
from ui import lifecycle_view as view
from ui.context import lang, page_header, t

page_header(__file__, "lifecycle")
f = filters.require()
config = f.config
base = view.lifecycle_base(f)
if base.height == 0:
    st.info(t("page.lifecycle.no_customers"))
    st.stop()
staged = view.saved_stages(f)

st.subheader(t("page.lifecycle.funnel"))
view.stage_metrics(stage_counts(staged), config)
st.plotly_chart(view.funnel_figure(funnel(staged)), key="lc_funnel")
st.caption(t("page.lifecycle.funnel.help"))

st.subheader(t("page.lifecycle.cohorts"))
freqs = {v: t(f"page.lifecycle.freq.{v}") for v in ("month", "quarter")}
freq = st.segmented_control(
    t("page.lifecycle.cohort_freq"), list(freqs), default="quarter", key="lc_freq",
    format_func=freqs.__getitem__,
)  # fmt: skip
mix = view.cohort_mix(f, freq or "quarter")
st.plotly_chart(view.cohort_mix_figure(mix), key="lc_cohorts")

st.subheader(t("page.lifecycle.transitions"))
first_day = first_purchase_day(base) or f.as_of
for key in ("lc_from", "lc_to"):
    view.keep_date_within(key, first_day, f.as_of)
left, right = st.columns(2)
date_args = {"min_value": first_day, "max_value": f.as_of, "format": date_input_format(lang())}
start = left.date_input(
    t("page.lifecycle.from"), transition_window(f.as_of, first_day), key="lc_from", **date_args
)
end = right.date_input(t("page.lifecycle.to"), f.as_of, key="lc_to", **date_args)
if start >= end:
    st.warning(t("page.lifecycle.bad_dates"))
else:
    moves = view.stage_moves(f, start, end)
    st.plotly_chart(view.sankey_figure(moves), key="lc_sankey")
    st.caption(t("page.lifecycle.transitions.help"))
    st.dataframe(
        view.with_stage_labels(moves, "from_stage", "to_stage"),
        hide_index=True, key="lc_moves",
        column_config={
            "from_stage": st.column_config.TextColumn(t("page.lifecycle.col.from_stage")),
            "to_stage": st.column_config.TextColumn(t("page.lifecycle.col.to_stage")),
            "customers": st.column_config.NumberColumn(t("page.lifecycle.col.customers"),
                                                       format="localized"),
        },
    )  # fmt: skip

st.subheader(t("page.lifecycle.rules"))
st.dataframe(
    rule_table(config.lifecycle, config.churn_window_days, lang()).drop("reason", "stage"),
    hide_index=True,
    column_config={
        "stage_label": st.column_config.TextColumn(t("page.lifecycle.col.stage")),
        "description": st.column_config.TextColumn(t("page.lifecycle.col.rule")),
    },
)
st.caption(t("page.lifecycle.rules.help"))

st.subheader(t("page.lifecycle.edit"))
st.caption(t("page.lifecycle.edit.help", name=config.name))
view.rule_editor(f)

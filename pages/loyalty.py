"""Lifecycle & loyalty → Loyalty & churn: Lovelock & Wirtz's Wheel of Loyalty in numbers."""

from __future__ import annotations

import streamlit as st

from crm_core.churn import signals_at
from crm_core.i18n import translate
from crm_core.i18n.format import format_money, format_number, format_percent
from crm_core.relationship import RelationshipRules, rule_table
from crm_core.segments import segment_label
from crm_core.survival import curve_steps, median_survival_months
from ui import filters
from ui import loyalty_view as view
from ui.context import data_version, db, lang, page_header, t
from ui.downloads import download_buttons
from ui.masking import masked

page_header(__file__, "loyalty")
f = filters.require()
key = view.key_of(f, db(), data_version())
fr = view.frames(key)
pyr = view.pyramid(key)
if pyr.height == 0:
    st.info(t("page.loyalty.no_buyers"))
    st.stop()


def label(name: str) -> str:
    """Segment/tier names and channel codes as shown to the user."""
    return segment_label(name, lang())


# ---- foundation: the tier pyramid ---------------------------------------------------------
st.subheader(t("page.loyalty.pyramid"))
notes = [
    t("page.loyalty.pyramid.note", customers=format_number(r["customers"], lang()),
      revenue=format_money(r["revenue"], lang()), share=format_percent(r["revenue_share"], lang()))
    for r in pyr.iter_rows(named=True)
]  # fmt: skip
tiers = [label(x) for x in pyr["tier"]]
counts = [format_number(n, lang()) for n in pyr["customers"]]
st.plotly_chart(view.pyramid_chart(pyr, tiers, notes, counts), key="loyalty_pyramid")
st.caption(t("page.loyalty.pyramid.help"))
st.dataframe(view.relabel(pyr, "tier", label), hide_index=True, key="loyalty_pyramid_table",
             column_config=view.pyramid_columns())  # fmt: skip

# ---- reduce churn: diagnostics ------------------------------------------------------------
st.subheader(t("page.loyalty.churn"))
rate = view.rate(key)
cols = st.columns(3)
cols[0].metric(t("page.loyalty.metric.churned"), format_number(rate["churned"], lang()),
               help=t("page.loyalty.metric.churned.help", days=fr.churn_window_days))  # fmt: skip
cols[1].metric(t("page.loyalty.metric.rate"), format_percent(rate["rate"], lang()),
               help=t("page.loyalty.metric.rate.help"))  # fmt: skip
cols[2].metric(t("page.loyalty.metric.buyers"), format_number(rate["buyers"], lang()),
               help=t("page.loyalty.metric.buyers.help"))  # fmt: skip

st.markdown(f"**{t('page.loyalty.timeline')}**")
st.plotly_chart(view.timeline_chart(view.timeline(key), t("page.loyalty.col.customers")),
                key="loyalty_timeline")  # fmt: skip
st.caption(t("page.loyalty.timeline.help"))


@st.fragment
def signal_section() -> None:
    """Pre-churn signals: re-runs alone when the lookback changes."""
    st.markdown(f"**{t('page.loyalty.signals')}**")
    lookback = st.select_slider(
        t("page.loyalty.lookback"), options=list(range(90, view.MAX_LOOKBACK + 1, 30)), value=360,
        key="loyalty_lookback", help=t("page.loyalty.lookback.help"),
    )  # fmt: skip
    sig = signals_at(view.signal_profile(key), lookback)
    names = {c: t(f"page.loyalty.signal.{c}") for c in ("complaint_rate", "unresolved_rate",
                                                         "low_csat_rate")}  # fmt: skip
    groups = {g: t(f"page.loyalty.group.{g}") for g in ("churned", "active")}
    st.plotly_chart(view.signals_chart(sig, names, groups), key="loyalty_signals")
    st.caption(t("page.loyalty.signals.help", days=lookback))
    shown = sig.with_columns(sig["group"].replace_strict(groups))
    st.dataframe(shown, hide_index=True, key="loyalty_signal_table",
                 column_config=view.signal_columns())  # fmt: skip


signal_section()

st.markdown(f"**{t('page.loyalty.drill')}**")
table, touch = view.drill_down(key, top=500)
st.caption(t("page.loyalty.drill.help", n=format_number(table.height, lang())))
shown = view.relabel_all(table, reason=lambda r: t(f"page.loyalty.reason.{r}"),
                         segment=label, tier=label)  # fmt: skip
st.dataframe(masked(shown), hide_index=True, key="loyalty_churned",
             column_config=view.churned_columns())  # fmt: skip
download_buttons(shown, "churned_customers", key="loyalty_churned_dl")


@st.fragment
def touchpoints_of_one() -> None:
    """One churned customer's last touchpoints: re-runs alone when another one is picked."""
    who = st.selectbox(t("page.loyalty.drill.pick"), table["customer_id"].to_list(),
                       key="loyalty_pick")  # fmt: skip
    mine = view.relabel_all(touch.filter(touch["customer_id"] == who),
                            kind=lambda k: t(f"page.loyalty.kind.{k}"))  # fmt: skip
    st.dataframe(mine, hide_index=True, key="loyalty_touch", column_config=view.touch_columns())


if table.height:
    touchpoints_of_one()

# ---- survival -------------------------------------------------------------------------------
st.subheader(t("page.loyalty.survival"))


@st.fragment
def survival_section() -> None:
    """Retention curves by the chosen dimension: re-runs alone when the dimension changes."""
    dimensions = {d: t(f"page.loyalty.dimension.{d}") for d in view.DIMENSIONS}
    dimension = st.selectbox(
        t("page.loyalty.dimension"), list(dimensions), key="loyalty_dimension",
        format_func=dimensions.__getitem__,
    )  # fmt: skip
    cur = view.curves(key, dimension)
    fig = view.survival_chart(curve_steps(cur), t("page.loyalty.months"),
                              t("page.loyalty.survival.y"), label)  # fmt: skip
    st.plotly_chart(fig, key="loyalty_survival")
    st.caption(t("page.loyalty.survival.help", days=fr.churn_window_days))
    medians = view.relabel(median_survival_months(cur), "group", label)
    st.dataframe(medians, hide_index=True, key="loyalty_medians",
                 column_config=view.median_columns(dimensions[dimension]))  # fmt: skip


survival_section()

# ---- relationship types ----------------------------------------------------------------------
st.subheader(t("page.loyalty.relationship"))
mix = view.relationship_mix(key)
types = [translate(f"relationship.type.{x}", lang()) for x in mix["relationship_type"]]
st.plotly_chart(view.mix_chart(mix, types), key="loyalty_mix")
st.dataframe(
    rule_table(RelationshipRules(), lang()).drop("reason", "relationship_type"),
    hide_index=True, key="loyalty_rules",
    column_config={"type_label": st.column_config.TextColumn(t("page.loyalty.col.type")),
                   "description": st.column_config.TextColumn(t("page.loyalty.col.rule"))},
)  # fmt: skip

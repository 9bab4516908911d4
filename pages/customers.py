"""IDIC → Identify → Customers: the customer directory and each customer's 360° view."""

from __future__ import annotations

import streamlit as st

from crm_core.errors import VinculoError
from crm_core.i18n.format import format_date
from ui import customers_view as view
from ui import filters
from ui.context import data_version, db, lang, page_header, t
from ui.masking import IDENTIFICATION, masked, masked_customer

page_header(__file__, "customers")
f = filters.require()
key = view.key_of(f, db(), data_version())
wanted = st.query_params.get("customer", "").strip()


def show_directory() -> None:
    """Search box, then the results (or the top customers by revenue when it is empty)."""
    query = st.text_input(
        t("page.customers.search"), key="customers_query",
        placeholder=t("page.customers.search.placeholder"), help=t("page.customers.search.help"),
    )  # fmt: skip
    with st.spinner(t("page.customers.indexing")):
        view.index(db(), data_version())
    if query.strip():
        rows = view.search(key, query.strip())
        st.subheader(t("page.customers.results"))
        st.caption(t("page.customers.results.help", n=rows.height, limit=view.LIMIT))
        if rows.height == 0:
            st.info(t("page.customers.no_results", query=query.strip()))
            return
    else:
        rows = view.listing(key)
        st.subheader(t("page.customers.top"))
        st.caption(t("page.customers.top.help", limit=view.LIMIT))
        if rows.height == 0:
            st.info(t("page.customers.no_customers"))
            return
    st.dataframe(
        masked(view.results_table(rows, with_match=bool(query.strip())), IDENTIFICATION),
        hide_index=True,
        key="customers_results", column_config=view.results_columns(), selection_mode="single-row",
        on_select=view.open_on_select(rows["golden_id"].to_list(), "customers_results"),
    )  # fmt: skip


if not wanted:
    show_directory()
    st.stop()

# ---- the 360 view of one customer ------------------------------------------------------------
st.button(t("page.customers.back"), key="customers_back", on_click=view.close_customer,
          icon=":material/arrow_back:")  # fmt: skip
one = view.customer(db(), data_version(), wanted, f.as_of)
if isinstance(one, VinculoError):
    st.error(one.message(lang()))
    st.stop()
one = masked_customer(one)
profile = one.profile.row(0, named=True)
merged = len(one.member_ids) > 1
row = view.analytics_row(key, one.golden_id)
facts = row.row(0, named=True) if row.height else None

st.subheader(view.plain_md(profile["name"] or one.golden_id))
st.caption(t("page.customers.golden", id=one.golden_id, members=profile["members"]))
if f.is_filtered:
    st.caption(t("page.customers.filters_ignored"))
if one.requested_id != one.golden_id:
    st.info(t("page.customers.opened_member", requested=one.requested_id, golden=one.golden_id))
if facts is None:
    st.warning(t("page.customers.no_analytics"))
else:
    st.markdown(view.badges(facts, lang()))
    for col, (name, value) in zip(st.columns(5), view.metric_values(facts, lang()), strict=True):
        col.metric(t(f"page.customers.metric.{name}"), value,
                   help=t(f"page.customers.metric.{name}.help"))  # fmt: skip
    for line in view.explanations(facts, f.config, lang()):
        st.caption(line)

# ---- next best action ---------------------------------------------------------------------------
rules = view.ruleset(db(), data_version())
with st.container(border=True, key="customers_nba"):
    st.markdown(f"**{t('page.customers.nba')}**")
    if isinstance(rules, VinculoError):
        st.error(rules.message(lang()))
    elif facts is not None:
        nba = view.action(rules, row, one.consents)
        if nba["rule"] is None:
            st.info(t("page.customers.nba.none", ruleset=rules.name))
        else:
            channel = t(f"customize.channel.{nba['channel']}")
            for name in ("offer", "message", "channel", "owner", "rule", "priority"):
                value = channel if name == "channel" else nba[name]
                st.text(f"{t(f'page.customers.nba.{name}')}: {value}")
            if nba["contactable"]:
                st.success(t("page.customers.nba.consent_ok", channel=channel,
                             date=format_date(nba["consent_recorded_at"], lang()),
                             source=nba["consent_source"] or "—"))  # fmt: skip
            else:
                st.warning(t("page.customers.nba.no_consent", channel=channel,
                             status=t(f"page.customers.consent.{nba['consent']}")))  # fmt: skip
            st.caption(t("page.customers.nba.help", ruleset=rules.name,
                         conflicts=nba["conflicts"]))  # fmt: skip

# ---- profile and consent ------------------------------------------------------------------------
left, right = st.columns(2)
with left:
    st.markdown(f"**{t('page.customers.profile')}**")
    st.dataframe(view.profile_table(one, lang()), hide_index=True, key="customers_profile",
                 column_config=view.text_columns("field", "value"))  # fmt: skip
    st.caption(t("page.customers.profile.help"))
with right:
    st.markdown(f"**{t('page.customers.consent')}**")
    consents = view.relabel(
        one.consents, channel=view.code_label,
        status=lambda s: t(f"page.customers.consent.{s}"),
    )  # fmt: skip
    if not merged:
        consents = consents.drop("customer_id")
    st.dataframe(consents, hide_index=True, key="customers_consent",
                 column_config={"customer_id": st.column_config.TextColumn(
                     t("page.customers.col.record")),
                     **view.text_columns("channel", "status", "source"),
                     **view.when_columns("recorded_at")})  # fmt: skip
    st.caption(t("page.customers.consent.help"))

# ---- purchases, interactions, feedback ---------------------------------------------------------
st.markdown(f"**{t('page.customers.purchases')}**")
if one.orders.height:
    st.plotly_chart(view.timeline_chart(one.orders, t("page.customers.chart.date"),
                                        t("page.customers.chart.amount")),
                    key="customers_timeline")  # fmt: skip
    st.caption(t("page.customers.purchases.help"))
    orders = view.relabel(
        one.orders.sort("ordered_at", descending=True).select(
            "order_id", "ordered_at", "status", "gross_amount", "net_amount", "sales_channel",
            "category", "items", "source_customer_id",
        ),
        status=lambda s: t(f"page.customers.status.{s}"), sales_channel=view.code_label,
    )  # fmt: skip
    st.dataframe(orders, hide_index=True, key="customers_orders",
                 column_config=view.order_columns(merged))  # fmt: skip
else:
    st.info(t("page.customers.purchases.none"))

st.markdown(f"**{t('page.customers.interactions')}**")
if one.interactions.height:
    st.caption(t("page.customers.interactions.help"))
    contacts = view.relabel(one.interactions, channel=view.code_label, type=view.code_label,
                            direction=view.code_label, outcome=view.code_label)  # fmt: skip
    st.dataframe(contacts, hide_index=True, key="customers_interactions",
                 column_config=view.interaction_columns(merged))  # fmt: skip
else:
    st.info(t("page.customers.interactions.none"))

st.markdown(f"**{t('page.customers.feedback')}**")
if one.feedback.height:
    st.caption(t("page.customers.feedback.help"))
    st.dataframe(view.relabel(one.feedback, channel=view.code_label), hide_index=True,
                 key="customers_feedback", column_config=view.feedback_columns(merged))  # fmt: skip
else:
    st.info(t("page.customers.feedback.none"))

# ---- where the record came from ----------------------------------------------------------------
st.markdown(f"**{t('page.customers.records')}**")
st.caption(t("page.customers.records.help"))
st.dataframe(one.records, hide_index=True, key="customers_records",
             column_config=view.record_columns())  # fmt: skip
if merged:
    st.markdown(f"**{t('page.customers.members')}**")
    st.caption(t("page.customers.members.help"))
    st.dataframe(one.members, hide_index=True, key="customers_members",
                 column_config=view.member_columns())  # fmt: skip

"""CRM value chain → Customer portfolio analysis (Buttle, stage 1): value and cost to serve.

Who brings value and what they cost: cost to serve and profit per customer from the costs set
in Settings, profitability by segment and tier, the value vs cost-to-serve matrix and its
quadrants (grow, keep, serve more cheaply, re-evaluate), and revenue concentration.
"""

from __future__ import annotations

import streamlit as st

from crm_core.i18n.format import format_date, format_money, format_number, format_percent
from crm_core.portfolio import DEFAULT_MONTHS, has_costs, window_start
from ui import filters
from ui import portfolio_view as view
from ui.context import data_version, db, lang, page_header, t
from ui.differentiate_charts import pareto_chart
from ui.downloads import download_buttons

page_header(__file__, "portfolio")
f = filters.require()
key = view.key_of(f, db(), data_version())
settings, settings_version = view.current_settings(db())
windows = {m: t("page.portfolio.window.months", n=m) for m in view.WINDOWS}
months = st.select_slider(
    t("page.portfolio.window"), options=list(windows), value=DEFAULT_MONTHS,
    key="portfolio_months", format_func=windows.__getitem__,
    help=t("page.portfolio.window.help"),
)  # fmt: skip
start = window_start(f.as_of, months)
st.caption(t("page.portfolio.scope", start=format_date(start, lang()),
             end=format_date(f.as_of, lang())))  # fmt: skip
sj = settings.to_json()
eco = view.economics(key, months, sj)
if eco.height == 0:
    st.info(t("page.portfolio.no_served"))
    st.stop()
costs = has_costs(eco)
if not costs:
    st.info(t("page.portfolio.no_costs"))
    st.page_link("pages/settings.py", label=t("page.portfolio.to_settings"),
                 icon=":material/settings:")  # fmt: skip


# ---- headline ---------------------------------------------------------------------------------
cards = view.headline(view.totals(key, months, sj))
for row in range(0, len(cards), 3):  # three a row: amounts in BRL are wide
    for col, (label, value, note) in zip(st.columns(3), cards[row : row + 3], strict=False):
        col.metric(label, value, help=note)
st.caption(t("page.portfolio.margin", margin=format_percent(settings.gross_margin, lang()),
             version=settings_version or "—"))  # fmt: skip
if settings.gross_margin == 1.0:
    st.caption(t("page.portfolio.margin_full"))


# ---- the value vs cost-to-serve matrix ------------------------------------------------------
@st.fragment
def matrix_section() -> None:
    """Splits, the binned matrix, quadrant totals and the customers behind one quadrant:
    re-runs alone when a split or the quadrant changes."""
    st.subheader(t("page.portfolio.matrix"))
    median = view.medians(key, months, sj)
    modes = {m: t(f"page.portfolio.split.{m}") for m in ("median", "custom")}
    mode = st.radio(t("page.portfolio.split"), list(modes), horizontal=True,
                    key="portfolio_split_mode", format_func=modes.__getitem__)  # fmt: skip
    splits = median
    if mode == "custom":
        left, right = st.columns(2)
        value = left.number_input(t("page.portfolio.split.value"), min_value=0.0,
                                  value=median[0], key="portfolio_split_value")  # fmt: skip
        cost = right.number_input(t("page.portfolio.split.cost"), min_value=0.0,
                                  value=median[1], key="portfolio_split_cost")  # fmt: skip
        splits = (float(value), float(cost))
    summary, bins = view.matrix(key, months, sj, splits)
    st.plotly_chart(view.matrix_chart(bins, splits), key="portfolio_matrix")
    st.caption(t("page.portfolio.matrix.help", customers=format_number(eco.height, lang()),
                 cells=format_number(bins.height, lang()), value=format_money(splits[0], lang()),
                 cost=format_money(splits[1], lang())))  # fmt: skip
    st.dataframe(view.with_actions(summary), hide_index=True, key="portfolio_quadrants",
                 column_config=view.columns())  # fmt: skip
    names = view.quadrant_names()
    pick = st.selectbox(t("page.portfolio.members.pick"), list(names), key="portfolio_quadrant",
                        format_func=names.__getitem__)  # fmt: skip
    people = view.members(key, months, sj, splits, pick)
    st.markdown(f"**{t('page.portfolio.members', quadrant=names[pick])}**")
    st.caption(t("page.portfolio.members.help", shown=format_number(min(people.height,
                 view.SHOWN), lang()), total=format_number(people.height, lang())))  # fmt: skip
    st.dataframe(view.linked(people), hide_index=True, key="portfolio_members",
                 column_config=view.columns())  # fmt: skip
    download_buttons(people.drop("quadrant"), f"portfolio_{pick}", key="portfolio_members_dl")


if costs:
    matrix_section()

# ---- profitability by segment and tier ------------------------------------------------------
st.subheader(t("page.portfolio.profit" if costs else "page.portfolio.value"))
for by in ("segment", "tier"):
    table = view.by_group(key, months, sj, by)
    st.markdown(f"**{t(f'page.portfolio.by.{by}')}**")
    st.plotly_chart(view.profit_chart(table, by), key=f"portfolio_{by}_chart")
    st.dataframe(view.relabel(table, by, view.label), hide_index=True,
                 key=f"portfolio_{by}_table", column_config=view.columns())  # fmt: skip
st.caption(t("page.portfolio.profit.help" if costs else "page.portfolio.value.help"))

# ---- concentration ----------------------------------------------------------------------------
st.subheader(t("page.portfolio.concentration"))
spread = view.revenue_spread(key, months)
cols = st.columns(len(spread.top) + 1)
for col, row in zip(cols, spread.top.iter_rows(named=True), strict=False):
    col.metric(t("page.portfolio.metric.top", share=format_percent(row["customer_share"],
                                                                  lang(), 0)),
               format_percent(row["value_share"], lang()),
               help=t("page.portfolio.metric.top.help"))  # fmt: skip
cols[-1].metric(t("page.portfolio.metric.gini"), format_number(spread.gini, lang(), 2),
                help=t("page.portfolio.metric.gini.help"))  # fmt: skip
st.plotly_chart(pareto_chart({"revenue": spread}, {"revenue": t("page.portfolio.col.revenue")}),
                key="portfolio_pareto")  # fmt: skip
st.caption(t("page.portfolio.concentration.help", customers=format_number(spread.customers,
                                                                          lang())))  # fmt: skip

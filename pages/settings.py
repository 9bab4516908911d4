"""Settings: what the business tells Vínculo about its costs and goals (versioned, audited).

Cost per contact on each channel, cost per order and gross margin (cost to serve and profit),
acquisition spend per source and month (cost per acquired customer), and a target per KPI
per period. Every save is a new version; older versions can be loaded back into the editors.
The page works on an empty store: settings can be entered before any data.
"""

from __future__ import annotations

import streamlit as st

from crm_core.errors import VinculoError
from crm_core.i18n.format import format_number
from crm_core.settings import has_service_costs
from ui import settings_view as view
from ui.context import actor, config_version, data_version, db, lang, page_header, t

page_header(__file__, "settings")
saved, versions = view.latest(db(), config_version())
base, base_version = view.base(saved, versions)
message = st.session_state.pop("settings_message", None)
if message:
    st.success(message)
if base_version is None:
    st.caption(t("page.settings.none_saved"))
elif versions.height and base_version != int(versions["version"].max()):
    st.warning(t("page.settings.older", version=base_version))


def used_by(part: str) -> None:
    """Links to the pages that read this part of the settings."""
    cols = st.columns([1.2] + [2] * len(view.USED_BY[part]) + [4 - len(view.USED_BY[part])])
    cols[0].caption(t("page.settings.used_by"))
    for col, page in zip(cols[1:], view.USED_BY[part], strict=False):
        col.page_link(f"pages/{page}.py", label=t(f"page.{page}.title"))


# ---- cost to serve ----------------------------------------------------------------------------
st.subheader(t("page.settings.costs"))
used_by("costs")
costs = st.data_editor(view.cost_table(base), key="settings_costs", hide_index=True,
                       column_config=view.cost_columns(), num_rows="fixed",
                       placeholder=t("page.settings.not_set"))  # fmt: skip
st.caption(t("page.settings.costs.help"))
left, right = st.columns(2)
order_cost = left.number_input(t("page.settings.order_cost"), min_value=0.0, step=0.5,
                               format="%.2f", key="settings_order_cost",
                               help=t("page.settings.order_cost.help"))  # fmt: skip
margin = right.number_input(t("page.settings.margin"), min_value=0.0, max_value=100.0,
                            step=1.0, format="%.1f", key="settings_margin",
                            help=t("page.settings.margin.help"))  # fmt: skip

# ---- acquisition spend ------------------------------------------------------------------------
st.subheader(t("page.settings.spend"))
used_by("spend")
spend_base, options = view.spend_table(base, view.sources(db(), data_version()))
if not options:
    st.caption(t("page.settings.spend.no_sources"))
spend = st.data_editor(spend_base, key="settings_spend", hide_index=True, num_rows="dynamic",
                       column_config=view.spend_columns(options))  # fmt: skip
st.caption(t("page.settings.spend.help"))

# ---- targets ---------------------------------------------------------------------------------
st.subheader(t("page.settings.targets"))
used_by("targets")
targets = st.data_editor(view.target_table(base), key="settings_targets", hide_index=True,
                         column_config=view.target_columns(), num_rows="fixed",
                         placeholder=t("page.settings.not_set"))  # fmt: skip
st.caption(t("page.settings.targets.help"))

# ---- save ------------------------------------------------------------------------------------
try:
    draft = view.draft(base, costs, spend, targets, order_cost, margin)
    problem = None
except VinculoError as exc:
    draft, problem = None, exc.message(lang())
if problem:
    st.error(problem)
elif draft is not None and draft != saved:
    st.caption(t("page.settings.unsaved"))
if draft is not None and not has_service_costs(draft):
    st.caption(t("page.settings.no_costs"))
if st.button(t("page.settings.save"), key="settings_save", type="primary",
             disabled=draft is None or draft == saved):  # fmt: skip
    view.save(db(), draft, actor())
    st.rerun()

# ---- versions --------------------------------------------------------------------------------
st.subheader(t("page.settings.versions"))
if versions.height == 0:
    st.caption(t("page.settings.versions.none"))
else:
    st.dataframe(versions, hide_index=True, key="settings_versions",
                 column_config=view.version_columns())  # fmt: skip
    names = {n: t("page.settings.version", version=n) for n in versions["version"]}
    st.selectbox(t("page.settings.load.pick"), list(names), key="settings_load_pick",
                        format_func=names.__getitem__)  # fmt: skip
    st.button(t("page.settings.load"), key="settings_load", on_click=view.load_version,
              args=(db(),))  # fmt: skip
    st.caption(t("page.settings.load.help", count=format_number(versions.height, lang())))

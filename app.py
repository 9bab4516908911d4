"""Vínculo — entry point: page setup, language, global filters, navigation. Nothing else."""

from __future__ import annotations

import pandas  # noqa: F401  # loaded before any session draws: see the note below
import streamlit as st

from ui import auth, filters, warmup
from ui.context import (
    data_version,
    db,
    entered_through_app,
    language_switch,
    refresh_data_version,
    remember_url_state,
    restore_url_state,
    route_wanted_page,
    t,
)

# Streamlit imports pandas lazily (first table) and plotly reads sys.modules["pandas"]
# without the import lock: a chart built while another session is still importing pandas
# crashed ("partially initialized module"). Importing it here, first, closes that window.
st.set_page_config(page_title="Vínculo", page_icon=":material/hub:", layout="wide")
entered_through_app()
refresh_data_version()
warmup.start(db(), data_version())
restore_url_state()
language_switch()
auth.require_login()
filters.remember(filters.sidebar_filters())
remember_url_state()

pages = {
    t("nav.overview"): [
        st.Page("pages/overview.py", title=t("page.overview.title"), icon=":material/monitoring:",
                default=True),
    ],
    t("nav.idic"): [
        st.Page("pages/customers.py", title=t("page.customers.title"),
                icon=":material/person_search:"),
        st.Page("pages/identity.py", title=t("page.identity.title"), icon=":material/join:"),
        st.Page("pages/quality.py", title=t("page.quality.title"), icon=":material/rule:"),
        st.Page("pages/differentiate.py", title=t("page.differentiate.title"),
                icon=":material/tune:"),
        st.Page("pages/interact.py", title=t("page.interact.title"), icon=":material/forum:"),
        st.Page("pages/customize.py", title=t("page.customize.title"),
                icon=":material/campaign:"),
    ],
    t("nav.value_chain"): [
        st.Page("pages/portfolio.py", title=t("page.portfolio.title"),
                icon=":material/scatter_plot:"),
        st.Page("pages/intimacy.py", title=t("page.intimacy.title"), icon=":material/psychology:"),
        st.Page("pages/network.py", title=t("page.network.title"), icon=":material/share:"),
        st.Page("pages/proposition.py", title=t("page.proposition.title"),
                icon=":material/redeem:"),
        st.Page("pages/relationships.py", title=t("page.relationships.title"),
                icon=":material/handshake:"),
    ],
    t("nav.strategy"): [
        st.Page("pages/processes.py", title=t("page.processes.title"),
                icon=":material/account_tree:"),
        st.Page("pages/assessments.py", title=t("page.assessments.title"),
                icon=":material/checklist:"),
    ],
    t("nav.lifecycle"): [
        st.Page("pages/lifecycle.py", title=t("page.lifecycle.title"),
                icon=":material/filter_alt:"),
        st.Page("pages/clv.py", title=t("page.clv.title"), icon=":material/savings:"),
        st.Page("pages/loyalty.py", title=t("page.loyalty.title"), icon=":material/loyalty:"),
    ],
    t("nav.data"): [
        st.Page("pages/upload.py", title=t("page.upload.title"), icon=":material/upload_file:"),
        st.Page("pages/store.py", title=t("page.store.title"), icon=":material/database:"),
    ],
    t("nav.settings"): [
        st.Page("pages/settings.py", title=t("page.settings.title"), icon=":material/settings:"),
    ],
    t("nav.admin"): [
        st.Page("pages/audit.py", title=t("page.audit.title"), icon=":material/history:"),
        st.Page("pages/privacy.py", title=t("page.privacy.title"),
                icon=":material/shield_person:"),
    ],
}  # fmt: skip
page = st.navigation(auth.visible_pages(pages))
route_wanted_page()
page.run()

"""Admin → Privacy: data-subject requests (LGPD art. 18) — consent, export, erasure."""

from __future__ import annotations

import streamlit as st

from crm_core.errors import VinculoError
from crm_core.i18n.format import format_number
from ui import privacy_view as view
from ui.context import actor, data_version, db, lang, page_header, refresh_data_version, role, t

page_header(__file__, "privacy")
if role() != "admin":  # second line of defence: navigation and page_header check it first
    st.error(t("page.privacy.refused"))
    st.stop()

if done := st.session_state.pop("privacy_erased", None):
    st.success(t("page.privacy.erase.done", id=done["target"]))
    st.dataframe(view.report_table(done), hide_index=True, key="privacy_report",
                 column_config=view.columns("what", "rows"))  # fmt: skip
    st.caption(t("page.privacy.erase.report.help"))

# ---- find the person -------------------------------------------------------------------------
query = st.text_input(
    t("page.privacy.search"), key="privacy_query", value=st.query_params.get("customer", ""),
    placeholder=t("page.privacy.search.placeholder"),
)  # fmt: skip
if not query.strip():
    st.info(t("page.privacy.search.help"))
    st.stop()
found = view.search(db(), data_version(), query.strip())
if found.height == 0:
    st.info(t("page.privacy.no_results", query=query.strip()))
    st.stop()
labels = view.option_label(found)
golden = st.selectbox(t("page.privacy.pick"), list(labels), format_func=labels.__getitem__,
                      key="privacy_pick")  # fmt: skip
person = view.person(db(), data_version(), golden)
if isinstance(person, VinculoError):
    st.error(person.message(lang()))
    st.stop()

st.subheader(t("page.privacy.person", id=person.golden_id))
st.caption(t("page.privacy.members", ids=", ".join(person.member_ids)))
left, right = st.columns(2)
with left:
    st.markdown(f"**{t('page.privacy.profile')}**")
    st.dataframe(view.profile_table(person.profile), hide_index=True, key="privacy_profile",
                 column_config=view.columns("field", "value"))  # fmt: skip
with right:
    st.markdown(f"**{t('page.privacy.consent')}**")
    st.dataframe(view.consent_table(person.consents), hide_index=True, key="privacy_consent",
                 column_config=view.columns("customer_id", "channel", "status", "recorded_at",
                                            "source"))  # fmt: skip
    st.caption(t("page.privacy.consent.help"))
with st.expander(t("page.privacy.history", n=format_number(person.history.height, lang()))):
    st.dataframe(view.history_table(person.history), hide_index=True, key="privacy_history",
                 column_config=view.columns("customer_id", "channel", "granted", "recorded_at",
                                            "source", "upload_id"))  # fmt: skip

# ---- export (access and portability) -----------------------------------------------------------
st.subheader(t("page.privacy.export"))
st.caption(t("page.privacy.export.help"))
who, path = actor(), db()
cols = st.columns(2)
for col, fmt in zip(cols, ("json", "zip"), strict=True):
    col.download_button(
        t(f"page.privacy.export.{fmt}"), key=f"privacy_export_{fmt}", on_click="ignore",
        data=lambda fmt=fmt: view.export_file(path, person.golden_id, fmt, who),
        file_name=f"subject_{person.golden_id}.{fmt}", mime=view.MIME[fmt],
        icon=":material/download:",
    )  # fmt: skip

# ---- erasure -----------------------------------------------------------------------------------
st.subheader(t("page.privacy.erase"))
st.warning(t("page.privacy.erase.warning", n=len(person.member_ids)))
typed = st.text_input(t("page.privacy.erase.confirm", id=person.golden_id), key="privacy_confirm")
confirmed = typed.strip() == person.golden_id
if st.button(t("page.privacy.erase.button"), key="privacy_erase", type="primary",
             disabled=not confirmed, icon=":material/delete_forever:"):  # fmt: skip
    try:
        report = view.erase(db(), person.golden_id, actor())
    except VinculoError as exc:
        st.error(exc.message(lang()))
    else:
        st.session_state["privacy_erased"] = {"target": report.target, **report.counts()}
        for name in ("privacy_confirm", "privacy_query", "privacy_pick"):
            st.session_state.pop(name, None)
        st.query_params.pop("customer", None)
        refresh_data_version()
        st.rerun()

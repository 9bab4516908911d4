"""Data → Upload: read an export, check and fix its mapping, load it, see the report; undo."""

from __future__ import annotations

import json
from pathlib import Path

import streamlit as st

from crm_core.errors import VinculoError
from crm_core.i18n.format import format_number
from crm_core.ingest import KINDS, IngestReport
from ui import upload_view as view
from ui.context import db, lang, page_header, t
from ui.downloads import download_buttons

page_header(__file__, "upload")

# ---- the file -----------------------------------------------------------------------------
kinds = {k: t(f"page.upload.kind.{k}") for k in KINDS}  # labels fixed at render time
kind = st.selectbox(t("page.upload.kind"), KINDS, key="upload_kind",
                    help=t("page.upload.kind.help"), format_func=kinds.__getitem__)  # fmt: skip
file = st.file_uploader(t("page.upload.file"), type=["csv", "txt", "xlsx"], key="upload_file",
                        help=t("page.upload.file.help"))  # fmt: skip


def refused(error: VinculoError) -> None:
    """A refused file: its localized reason, and the promise that nothing changed."""
    st.error(t("page.upload.refused", message=error.message(lang())))
    st.caption(t("page.upload.nothing_changed"))


def check_and_load(path: Path) -> None:
    """Decisions, mapping editor, preview rows and the Load button for a saved upload."""
    try:
        proposed = view.preview(str(path), kind, "{}", lang())
    except VinculoError as error:
        refused(error)
        return
    st.subheader(t("page.upload.detected"))
    cols = st.columns(3)
    cols[0].metric(t("page.upload.profile"), proposed.profile, help=t("page.upload.profile.help"))
    cols[1].metric(t("page.upload.encoding"), proposed.encoding,
                   help=t("page.upload.encoding.help"))  # fmt: skip
    cols[2].metric(t("page.upload.delimiter"), view.delimiter_label(proposed.delimiter, lang()),
                   help=t("page.upload.delimiter.help"))  # fmt: skip
    st.caption(t("page.upload.decisions"))
    st.dataframe(view.decisions_frame(proposed, lang()), hide_index=True, key="upload_decisions",
                 column_config={c: t(f"page.upload.col.{c}")
                                for c in ("source", "what", "decision", "assumed")})  # fmt: skip

    st.subheader(t("page.upload.mapping"), help=t("page.upload.mapping.help"))
    editor = view.mapping_frame(proposed)
    edited = st.data_editor(editor, hide_index=True, num_rows="fixed",
                            height=35 * editor.height + 40,  # every column of the file in view
                            key=f"upload_mapping_{kind}_{file.file_id}",
                            column_config=view.mapping_columns(kind))  # fmt: skip
    changes = view.mapping_changes(proposed.mapping, edited)
    try:
        pre = view.preview(str(path), kind, json.dumps(changes, sort_keys=True), lang())
    except VinculoError as error:
        refused(error)
        return
    if repeated := view.repeated_fields(edited):
        st.warning(t("page.upload.repeated", fields=", ".join(repeated)))
    if pre.required_missing:
        st.error(t("page.upload.required_missing",
                   fields=view.missing_text(pre.required_missing, lang())))  # fmt: skip
    else:
        st.subheader(t("page.upload.preview"), help=t("page.upload.preview.help"))
        st.dataframe(pre.rows, hide_index=True, key="upload_preview_rows",
                     column_config=view.preview_columns(kind))  # fmt: skip
        if pre.rejects:
            st.markdown(f"**{t('page.upload.preview.rejects')}**")
            st.dataframe(pre.rejects, hide_index=True, key="upload_preview_rejects",
                         column_config=view.rejects_columns())  # fmt: skip
    if st.button(t("page.upload.load"), type="primary", key="upload_load",
                 disabled=bool(pre.required_missing), icon=":material/upload:"):  # fmt: skip
        st.session_state[view.OUTCOME] = view.load(path, kind, changes, file)
        st.rerun()  # every page (and the sidebar filters) sees the new data version


def show_report(report: IngestReport) -> None:
    """The upload's counts, duplicate-file notice and rejected rows (downloadable)."""
    st.subheader(t("page.upload.report"))
    if report.duplicate_file:
        st.info(report.message, icon=":material/content_copy:")
    else:
        st.success(report.message)
    cols = st.columns(4)
    counts = ("rows_read", "rows_loaded", "rows_rejected", "rows_duplicate")
    for col, name in zip(cols, counts, strict=True):
        col.metric(t(f"page.upload.{name}"), format_number(getattr(report, name), lang()),
                   help=t(f"page.upload.{name}.help"))  # fmt: skip
    if report.placeholders_created:
        st.caption(t("page.upload.placeholders", n=report.placeholders_created))
    if report.rows_rejected:
        st.markdown(f"**{t('page.upload.rejects')}**")
        rejects = view.rejects_frame(report)
        if report.rows_rejected > rejects.height:
            st.caption(t("page.upload.rejects.truncated", shown=rejects.height,
                         total=report.rows_rejected))  # fmt: skip
        st.dataframe(rejects, hide_index=True, key="upload_rejects",
                     column_config=view.rejects_columns())  # fmt: skip
        download_buttons(rejects, f"rejected_{Path(report.file_name).stem}", key="upload_rej_dl")


# ---- the outcome of this file's upload first, then how it is read -------------------------
outcome = view.outcome_of(file)
if outcome and "refused" in outcome:
    refused(outcome["refused"])
elif outcome:
    show_report(view.shown_report(outcome["report"]))
if file is None:
    view.forget_saved()
else:
    loaded = outcome and "report" in outcome  # the report leads; the preview folds away
    with st.expander(t("page.upload.detected")) if loaded else st.container():
        check_and_load(view.saved_path(file))

# ---- history and undo ---------------------------------------------------------------------
st.subheader(t("page.upload.history"))
undone = st.session_state.pop(view.UNDONE, None)
if undone and "error" in undone:
    st.error(t("page.upload.undo.failed", message=undone["error"].message(lang())))
elif undone:
    st.success(t("page.upload.undone", upload_id=undone["upload_id"],
                 rows=format_number(undone["rows"], lang())))  # fmt: skip
try:
    hist = view.history(db())
except VinculoError as busy:  # another process held the store's lock too long
    st.warning(busy.message(lang()))
    st.stop()
if hist.height == 0:
    st.info(t("page.upload.history.empty"))
    st.stop()
st.dataframe(view.history_frame(hist, lang()), hide_index=True, key="upload_history",
             column_config=view.history_columns())  # fmt: skip
options = view.undo_options(hist, lang())
if options:
    chosen = st.selectbox(t("page.upload.undo.pick"), list(options), key="upload_undo_pick",
                          format_func=options.__getitem__)  # fmt: skip
    if st.button(t("page.upload.undo"), key="upload_undo", icon=":material/undo:"):
        st.session_state[view.UNDO_PENDING] = chosen
    pending = st.session_state.get(view.UNDO_PENDING)
    if pending in options:
        name = hist.filter(hist["upload_id"] == pending)["file_name"][0]
        st.warning(t("page.upload.undo.confirm", upload_id=pending, file_name=name))
        yes, no = st.columns(2)
        if yes.button(t("page.upload.undo.yes"), type="primary", key="upload_undo_yes"):
            view.undo(pending)
        if no.button(t("page.upload.undo.cancel"), key="upload_undo_cancel"):
            st.session_state.pop(view.UNDO_PENDING, None)
            st.rerun()

"""Strategy → Assessments: Buttle's support conditions and QCi as scored self-assessments."""

from __future__ import annotations

import streamlit as st

from crm_core.assessments import MAX_NOTE, QUESTIONNAIRES, SCALE, Assessment
from crm_core.errors import VinculoError
from crm_core.i18n.format import format_date, format_number
from ui import assessments_view as view
from ui.context import actor, db, lang, page_header, t
from ui.downloads import download_buttons
from ui.masking import may

page_header(__file__, "assessments")
# No `filters.require()`: a questionnaire needs no orders, so it works on an empty store too,
# and no global filter applies to a self-assessment.

kinds = {k: t(f"assessment.kind.{k}") for k in QUESTIONNAIRES}
kind = st.selectbox(t("page.assessments.pick"), list(kinds), key="assess_kind",
                    format_func=kinds.__getitem__)  # fmt: skip
st.caption(t(f"assessment.kind.{kind}.help"))


def submit(kind: str) -> None:
    """Save the form's answers (runs before the rerun, so the page shows the new version)."""
    answers, notes = view.answers_from_state(kind)
    try:
        number = view.save(db(), Assessment(kind, answers, notes), actor())
    except VinculoError as exc:
        st.session_state["_assess_msg"] = ("error", exc.message(lang()))
        return
    name = t(f"assessment.kind.{kind}")
    st.session_state["_assess_msg"] = ("success", t("page.assessments.saved", kind=name,
                                                    version=number))  # fmt: skip


hist, latest = view.saved(db(), kind)
level, message = st.session_state.pop("_assess_msg", (None, ""))
if level:
    (st.success if level == "success" else st.error)(message)

# ---- results: latest scores, radar, change per area --------------------------------------------
st.subheader(t("page.assessments.results"))
if latest is None:
    st.info(t("page.assessments.none_yet"))
else:
    now, before = view.overall_pair(hist)
    cols = st.columns(4)
    cols[0].metric(
        t("page.assessments.metric.overall"), format_number(now, lang(), 1),
        delta=None if before is None else format_number(now - before, lang(), 1),
        help=t("page.assessments.metric.overall.help"),
    )  # fmt: skip
    cols[1].metric(t("page.assessments.metric.taken_on"), format_date(latest.taken_on, lang()))
    cols[2].metric(t("page.assessments.metric.author"), latest.author or "—")
    cols[3].metric(t("page.assessments.metric.answered"),
                   t("page.assessments.metric.answered.value", n=len(latest.answers),
                     total=view.question_count(kind)))  # fmt: skip

    @st.fragment
    def radar_section() -> None:
        """The radar: latest vs previous, plus an earlier version picked (re-runs alone)."""
        earlier = view.versions(hist)[2:]
        chosen = None
        if earlier:
            labels = {None: t("page.assessments.compare.none"),
                      **{v: view.version_label(hist, v) for v in earlier}}  # fmt: skip
            chosen = st.selectbox(
                t("page.assessments.compare"),
                list(labels),
                key=f"assess_compare_{kind}",
                format_func=labels.__getitem__,
            )
        series = view.radar_series(hist, chosen)
        st.plotly_chart(view.radar_chart(series, kind), key="assess_radar")
        st.caption(t("page.assessments.radar.help"))

    radar_section()
    st.markdown(f"**{t('page.assessments.changes')}**")
    st.dataframe(view.change_table(hist), hide_index=True, key="assess_changes",
                 column_config=view.change_columns())  # fmt: skip
    st.caption(t("page.assessments.changes.help"))

# ---- the questionnaire ------------------------------------------------------------------------
st.subheader(t("page.assessments.answer"))
st.caption(t("page.assessments.answer.help"))
st.caption(t("assessment.scale.help"))
anchors = view.anchors()
with st.form(f"assess_form_{kind}"):
    for area, ids in view.bank(kind).items():
        st.markdown(f"#### {view.area_label(area)}")
        st.caption(t(f"assessment.area.{area}.help"))
        for q in ids:
            st.radio(
                t(f"assessment.q.{q}"), SCALE, index=view.default_index(latest, q),
                format_func=anchors.__getitem__, horizontal=True, key=view.score_key(kind, q),
            )  # fmt: skip
            st.text_input(
                t("page.assessments.note"), value=latest.notes.get(q, "") if latest else "",
                key=view.note_key(kind, q), max_chars=MAX_NOTE, label_visibility="collapsed",
                placeholder=t("page.assessments.note.placeholder"),
            )  # fmt: skip
    allowed = may("assessment.saved")  # crm_core refuses the write anyway (audited check)
    st.form_submit_button(t("page.assessments.save"), key="assess_submit", type="primary",
                          on_click=submit, args=(kind,), disabled=not allowed,
                          help=None if allowed else t("page.assessments.save.refused"))  # fmt: skip

# ---- history ----------------------------------------------------------------------------------
if hist.height:
    st.subheader(t("page.assessments.history"))
    st.plotly_chart(view.overall_chart(view.overall(hist), t("page.assessments.overall.y")),
                    key="assess_overall")  # fmt: skip
    st.caption(t("page.assessments.history.help"))
    table = view.history_table(hist, kind)
    st.dataframe(table, hide_index=True, key="assess_history",
                 column_config=view.history_columns(kind))  # fmt: skip
    download_buttons(table, f"assessment_{kind}", key="assess_history_dl")

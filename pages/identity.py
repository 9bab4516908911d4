"""Identify → Identity resolution: one golden record per real customer, merged and reviewed."""

from __future__ import annotations

import streamlit as st

from crm_core.errors import VinculoError
from crm_core.i18n.format import format_number, format_percent
from crm_core.identity import MatchConfig
from ui import filters
from ui import identity_view as view
from ui.context import actor, data_version, db, lang, page_header, refresh_data_version, t
from ui.masking import IDENTIFICATION, masked

page_header(__file__, "identity")
filters.require()
st.caption(t("page.identity.scope"))


def num(value: float | int) -> str:
    return format_number(value, lang())


def pct(value: float | None) -> str:
    return format_percent(value, lang())


def done(message: str, *clear: str) -> None:
    """After a write: keep the message for the next run, drop stale selections, rerun all."""
    st.session_state["identity_flash"] = message
    for name in clear:
        st.session_state.pop(name, None)
    refresh_data_version()
    st.rerun()


if flash := st.session_state.pop("identity_flash", None):
    st.success(flash)

left, right = st.columns(2)
threshold = left.slider(
    t("page.identity.threshold"), 0.5, 1.0, MatchConfig.auto_threshold, 0.01,
    key="identity_threshold", help=t("page.identity.threshold.help"),
)  # fmt: skip
floor = right.slider(
    t("page.identity.floor"), 0.0, 1.0, MatchConfig.review_floor, 0.05,
    key="identity_floor", help=t("page.identity.floor.help"),
)  # fmt: skip
key = view.key_of(db(), data_version())
ov = view.overview(key, threshold, floor)
thr, flo = format_number(threshold, lang(), 2), format_number(floor, lang(), 2)

# ---- (a) where we stand --------------------------------------------------------------------
st.subheader(t("page.identity.headline"))
cols = st.columns(4)
for col, name in zip(cols, ("customers", "golden_records", "merged", "candidates"), strict=True):
    col.metric(t(f"page.identity.metric.{name}"), num(ov[name]),
               help=t(f"page.identity.metric.{name}.help"))  # fmt: skip
cols = st.columns(4)
cols[0].metric(t("page.identity.metric.duplicate_rate"), pct(ov["duplicate_rate"]),
               help=t("page.identity.metric.duplicate_rate.help", floor=flo))  # fmt: skip
change = ov["duplicate_rate_after"] - ov["duplicate_rate"]
points = t("page.identity.metric.points", value=format_number(change * 100, lang(), 1))
cols[1].metric(
    t("page.identity.metric.duplicate_rate_after"), pct(ov["duplicate_rate_after"]),
    delta=points if change else None, delta_color="inverse",
    help=t("page.identity.metric.duplicate_rate_after.help", threshold=thr),
)  # fmt: skip
scores = view.truth(key, threshold)
if scores is not None:
    cols[2].metric(t("page.identity.metric.precision"), pct(scores["precision"]),
                   help=t("page.identity.metric.precision.help"))  # fmt: skip
    cols[3].metric(t("page.identity.metric.recall"), pct(scores["recall"]),
                   help=t("page.identity.metric.recall.help"))  # fmt: skip
st.caption(t("page.identity.rates.caption", floor=flo, threshold=thr))
if scores is not None:
    st.caption(t("page.identity.truth.caption", tp=num(scores["true_pos"]),
                 fp=num(scores["false_pos"]), fn=num(scores["false_neg"])))  # fmt: skip

st.markdown(f"**{t('page.identity.rules')}**")
st.plotly_chart(view.rules_chart(view.counts(key, threshold, floor)), key="identity_rules")
st.caption(t("page.identity.rules.caption", floor=flo, threshold=thr))

# ---- (b) automatic merges --------------------------------------------------------------------
st.subheader(t("page.identity.auto"))
st.caption(t("page.identity.auto.caption", clusters=num(ov["clusters"]), links=num(ov["links"]),
             threshold=thr))  # fmt: skip
if st.button(t("page.identity.auto.apply"), key="identity_apply", disabled=ov["links"] == 0,
             icon=":material/join:"):  # fmt: skip
    st.session_state["identity_confirm"] = threshold
if st.session_state.get("identity_confirm") == threshold and ov["links"]:
    st.warning(t("page.identity.auto.confirm", links=num(ov["links"]),
                 clusters=num(ov["clusters"]), threshold=thr))  # fmt: skip
    yes, no = st.columns(2)
    if yes.button(t("page.identity.auto.yes"), key="identity_apply_yes", type="primary"):
        st.session_state.pop("identity_confirm", None)
        try:
            written = view.apply_auto(key, threshold, actor())
        except VinculoError as exc:
            st.error(exc.message(lang()))
        else:
            done(t("page.identity.auto.done", links=num(written)), "identity_queue")
    if no.button(t("page.identity.auto.no"), key="identity_apply_no"):
        st.session_state.pop("identity_confirm", None)
        st.rerun()


# ---- (c) review queue ------------------------------------------------------------------------
@st.fragment
def review_section() -> None:
    """Pairs below the automatic threshold: the reviewer merges them or says they differ."""
    st.subheader(t("page.identity.review"))
    pending = view.queue(key, threshold, floor)
    if pending.height == 0:
        st.info(t("page.identity.review.empty", floor=flo, threshold=thr))
        return
    shown = pending.head(view.MAX_QUEUE_ROWS)
    st.caption(t("page.identity.review.caption", n=num(pending.height),
                 shown=num(shown.height), floor=flo, threshold=thr))  # fmt: skip
    picked = st.dataframe(
        masked(view.queue_table(shown), IDENTIFICATION), hide_index=True, key="identity_queue",
        on_select="rerun",
        selection_mode="multi-row", column_config=view.queue_columns(),
    ).selection.rows  # fmt: skip
    rows = shown[sorted(picked)]
    st.caption(t("page.identity.review.picked", n=num(rows.height)))
    sides = {s: t(f"page.identity.review.side.{s}") for s in ("rule", "a", "b")}
    side = st.radio(t("page.identity.review.side"), list(sides), format_func=sides.__getitem__,
                    horizontal=True, key="identity_side")  # fmt: skip
    merge_col, reject_col = st.columns(2)
    try:
        if merge_col.button(t("page.identity.review.merge"), key="identity_merge",
                            disabled=rows.height == 0, icon=":material/join:"):  # fmt: skip
            written = view.merge_chosen(db(), view.chosen_pairs(rows, side), actor())
            done(t("page.identity.review.merged", links=num(written)), "identity_queue")
        if reject_col.button(t("page.identity.review.reject"), key="identity_reject",
                             disabled=rows.height == 0, icon=":material/call_split:"):  # fmt: skip
            added = view.reject_chosen(db(), rows, actor())
            done(t("page.identity.review.rejected", n=num(added)), "identity_queue")
    except VinculoError as exc:
        st.error(exc.message(lang()))


review_section()


# ---- (d) merge history -----------------------------------------------------------------------
@st.fragment
def history_section() -> None:
    """Active golden records with their members; pick one to un-merge it."""
    st.subheader(t("page.identity.history"))
    merged = view.history(key)
    if merged.height == 0:
        st.info(t("page.identity.history.empty"))
        return
    st.caption(t("page.identity.history.caption", n=num(merged.height)))
    picked = st.dataframe(
        masked(view.history_table(merged), IDENTIFICATION), hide_index=True,
        key="identity_history", on_select="rerun",
        selection_mode="single-row", column_config=view.history_columns(),
    ).selection.rows  # fmt: skip
    if not picked:
        st.caption(t("page.identity.history.pick"))
        return
    row = merged.row(picked[0], named=True)
    golden = row["golden_id"]
    choices = {t("page.identity.unmerge.all", id=golden): golden}
    choices |= {t("page.identity.unmerge.one", id=m): m for m in row["member_ids"]}
    who = choices[st.selectbox(t("page.identity.unmerge.which"), list(choices),
                               key="identity_unmerge_who")]  # fmt: skip
    if st.button(t("page.identity.unmerge"), key="identity_unmerge", icon=":material/undo:"):
        try:
            closed = view.unmerge_one(db(), who, actor())
        except VinculoError as exc:
            st.error(exc.message(lang()))
        else:
            done(t("page.identity.unmerge.done", n=num(closed), id=who), "identity_history")


history_section()

st.markdown(f"**{t('page.identity.events')}**")
log = view.events(key)
if log.height:
    st.dataframe(view.events_table(log), hide_index=True, key="identity_events",
                 column_config=view.events_columns())  # fmt: skip
else:
    st.caption(t("page.identity.events.empty"))

"""Value chain → Customer intimacy (Buttle, stage 2): what each touchpoint captures, how
complete each customer's profile is, what customers say in surveys, and what changed."""

from __future__ import annotations

import streamlit as st

from crm_core.feedback_themes import SENTIMENTS
from crm_core.i18n.format import format_date, format_number, format_percent
from ui import filters
from ui import intimacy_view as view
from ui.context import data_version, db, lang, page_header, t
from ui.downloads import download_buttons

page_header(__file__, "intimacy")
f = filters.require()
key = view.key_of(f, db(), data_version())
if f.is_filtered:
    st.caption(t("page.intimacy.filtered"))


def num(value: float | int | None, decimals: int = 0) -> str:
    return format_number(value, lang(), decimals)


def pct(value: float | None) -> str:
    return format_percent(value, lang())


# ---- 1. data captured per touchpoint -----------------------------------------------------------
st.subheader(t("page.intimacy.capture"))
cap = view.capture(key)
st.plotly_chart(view.capture_heatmap(cap), key="intimacy_capture")
st.caption(t("page.intimacy.capture.help", as_of=format_date(f.as_of, lang()),
             customers=num(cap.base)))  # fmt: skip
st.dataframe(view.touchpoint_table(cap), hide_index=True, key="intimacy_touchpoints",
             column_config=view.touchpoint_columns())  # fmt: skip
st.page_link("pages/quality.py", label=t("page.intimacy.capture.quality"),
             icon=":material/fact_check:")  # fmt: skip

# ---- 2. profile completeness --------------------------------------------------------------------
st.subheader(t("page.intimacy.profile"))
bands, stats, coverage = view.profile_numbers(key)
cols = st.columns(4)
for col, name in zip(cols, ("mean", "median", "complete", "below_half"), strict=True):
    col.metric(t(f"page.intimacy.profile.{name}"), pct(stats[name]),
               help=t(f"page.intimacy.profile.{name}.help"))  # fmt: skip
st.plotly_chart(view.bands_chart(bands, t("page.intimacy.col.customers")), key="intimacy_bands")
st.caption(t("page.intimacy.profile.help", customers=num(stats["customers"])))
with st.expander(t("page.intimacy.profile.definition")):
    st.markdown(t("page.intimacy.profile.definition.text"))
st.markdown(f"**{t('page.intimacy.profile.fields')}**")
st.plotly_chart(view.coverage_chart(coverage), key="intimacy_coverage")
st.caption(t("page.intimacy.profile.fields.help", as_of=format_date(f.as_of, lang())))


@st.fragment
def by_group_section() -> None:
    """Completeness per segment or tier: re-runs alone when the grouping changes."""
    names = {b: t(f"page.intimacy.by.{b}") for b in ("segment", "tier")}
    by = st.segmented_control(
        t("page.intimacy.by"), list(names), default="segment", format_func=names.__getitem__,
        key="intimacy_by",
    ) or "segment"  # fmt: skip
    table = view.completeness_by(key, by)
    areas = [c for c in table.columns if c.startswith("area_")]
    st.dataframe(table, hide_index=True, key="intimacy_by_table",
                 column_config=view.group_columns(by, areas))  # fmt: skip
    st.caption(t("page.intimacy.by.help"))


by_group_section()


@st.fragment
def least_known_section() -> None:
    """Valuable customers we know least about: re-runs alone when the threshold moves."""
    st.markdown(f"**{t('page.intimacy.least')}**")
    shares = {x: pct(x) for x in (0.3, 0.4, 0.5, 0.6, 0.7, 0.8)}
    below = st.select_slider(t("page.intimacy.least.below"), options=list(shares), value=0.6,
                             format_func=shares.__getitem__, key="intimacy_below")  # fmt: skip
    table = view.least_known(key, below)
    st.caption(t("page.intimacy.least.help", n=num(table.height), below=pct(below)))
    st.dataframe(table, hide_index=True, key="intimacy_least", column_config=view.least_columns())
    download_buttons(table, "least_known_customers", key="intimacy_least_dl")


least_known_section()

# ---- 3. feedback themes -------------------------------------------------------------------------
st.subheader(t("page.intimacy.themes"))
until = max(f.as_of, f.period.end)


@st.fragment
def themes_section() -> None:
    """Topics and sentiment of survey comments: re-runs alone when the window changes."""
    windows = {w: t(f"page.intimacy.window.{w}") for w in ("year", "period", "all")}
    window = st.segmented_control(
        t("page.intimacy.window"), list(windows), default="year", format_func=windows.__getitem__,
        key="intimacy_window",
    ) or "year"  # fmt: skip
    start, end = view.window_of(window, f.as_of, f.period)
    summary, trend, stats = view.theme_numbers(key, until, start, end)
    cols = st.columns(4)
    cols[0].metric(t("page.intimacy.themes.answers"), num(stats["answers"]),
                   help=t("page.intimacy.themes.answers.help"))  # fmt: skip
    cols[1].metric(t("page.intimacy.themes.commented"), pct(stats["comment_share"]),
                   help=t("page.intimacy.themes.commented.help"))  # fmt: skip
    cols[2].metric(t("page.intimacy.themes.negative"), pct(stats["negative_share"]),
                   help=t("page.intimacy.themes.negative.help"))  # fmt: skip
    cols[3].metric(t("page.intimacy.themes.other"), pct(stats["other_share"]),
                   help=t("page.intimacy.themes.other.help"))  # fmt: skip
    st.plotly_chart(view.theme_chart(summary), key="intimacy_themes")
    st.caption(t("page.intimacy.themes.help", window=windows[window].lower(),
                 end=format_date(end, lang())))  # fmt: skip
    measures = {m: t(f"page.intimacy.trend.{m}") for m in ("comments", "negative_share")}
    measure = st.radio(t("page.intimacy.trend"), list(measures), horizontal=True,
                       format_func=measures.__getitem__, key="intimacy_trend_measure")  # fmt: skip
    st.plotly_chart(view.trend_chart(trend, measure, measures[measure]), key="intimacy_trend")
    st.dataframe(view.theme_table(summary), hide_index=True, key="intimacy_theme_table",
                 column_config=view.theme_columns())  # fmt: skip
    st.caption(t("page.intimacy.themes.table.help"))
    samples_of(start, end, view.topics_by_volume(summary))


def samples_of(start, end, order: list[str]) -> None:
    """Sample comments of one topic (and sentiment), as plain text; most talked-of first."""
    st.markdown(f"**{t('page.intimacy.samples')}**")
    left, right = st.columns(2)
    topics = {x: view.topic_label(x) for x in order}
    topic = left.selectbox(t("page.intimacy.col.topic"), list(topics),
                           format_func=topics.__getitem__, key="intimacy_topic")  # fmt: skip
    moods = {"": t("filter.all"), **{s: view.sentiment_label(s) for s in SENTIMENTS}}
    mood = right.selectbox(t("page.intimacy.col.sentiment"), list(moods),
                           format_func=moods.__getitem__, key="intimacy_mood")  # fmt: skip
    table = view.samples(key, until, start, end, topic, mood or None)
    st.dataframe(
        table, hide_index=True, key="intimacy_samples", column_config=view.sample_columns()
    )


themes_section()

with st.expander(t("page.intimacy.method")):
    st.markdown(t("page.intimacy.method.text"))
    for name, terms in view.lexicon_rows().iter_rows():
        st.markdown(f"**{name}**")
        st.code(terms, language=None, wrap_lines=True)
    tried = st.text_input(t("page.intimacy.try"), key="intimacy_try",
                          placeholder=t("page.intimacy.try.placeholder"))  # fmt: skip
    if tried.strip():
        st.dataframe(view.explain(tried), hide_index=True, key="intimacy_explain",
                     column_config={"what": t("page.intimacy.col.what"),
                                    "value": t("page.intimacy.col.value")})  # fmt: skip

# ---- 4. what changed since the last period ------------------------------------------------------
st.subheader(t("page.intimacy.changes"))
before = f.period.previous()
st.caption(t("page.intimacy.changes.periods", start=format_date(f.period.start, lang()),
             end=format_date(f.period.end, lang()), prev_start=format_date(before.start, lang()),
             prev_end=format_date(before.end, lang())))  # fmt: skip
changes = view.changes(key, f.period)
rows = list(changes.iter_rows(named=True))
for start in range(0, len(rows), 5):
    for col, row in zip(st.columns(5), rows[start : start + 5], strict=False):
        measure = row["measure"]
        col.metric(
            t(f"page.intimacy.change.{measure}"), view.format_value(measure, row["value"]),
            delta=view.format_change(measure, row["change"]),
            delta_color=view.delta_colour(measure, row["change"]),
            help=t(f"page.intimacy.change.{measure}.help"),
        )  # fmt: skip
st.caption(t("page.intimacy.changes.help"))

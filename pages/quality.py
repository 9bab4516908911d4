"""Identify → Data quality: completeness, validity, consent and duplicates, each number with
the customers behind it."""

from __future__ import annotations

import streamlit as st

from crm_core.i18n.format import format_number, format_percent
from crm_core.quality import MEASURES, SCORE_DIMENSIONS
from ui import filters
from ui import quality_view as view
from ui.context import data_version, db, lang, page_header, t
from ui.downloads import download_buttons
from ui.masking import masked

page_header(__file__, "quality")
f = filters.require()
args = (db(), data_version(), view.scope_of(f))
table = view.measures(*args)
fill = view.completeness(*args)
scope_key = "page.quality.counted.filtered" if f.is_filtered else "page.quality.counted.all"
st.caption(t(scope_key, n=format_number(view.customers(*args), lang())))

# ---- the score ------------------------------------------------------------------------------
score = view.score(*args)
cols = st.columns(1 + len(SCORE_DIMENSIONS))
cols[0].metric(t("page.quality.score"), format_percent(score["overall"], lang()),
               help=t("page.quality.score.help"))  # fmt: skip
for col, dimension in zip(cols[1:], SCORE_DIMENSIONS, strict=True):
    col.metric(t(f"quality.dimension.{dimension}"), format_percent(score[dimension], lang()),
               help=t(f"quality.dimension.{dimension}.help"))  # fmt: skip
st.caption(t("page.quality.score.caption"))

# ---- the problems, one number each ------------------------------------------------------------
st.subheader(t("page.quality.problems"))
by_measure = {r["measure"]: r for r in table.iter_rows(named=True)}
for start in range(0, len(MEASURES), 4):
    for col, measure in zip(st.columns(4), MEASURES[start : start + 4], strict=False):
        row = by_measure[measure]
        col.metric(
            view.measure_label(measure), format_number(row["customers"], lang()),
            help=t(f"quality.measure.{measure}.help"),
        )  # fmt: skip
        col.caption(t("page.quality.problems.share", share=format_percent(row["share"], lang()),
                      base=format_number(row["base"], lang())))  # fmt: skip
st.page_link("pages/identity.py", label=t("page.quality.duplicates.link"), icon=":material/join:")
st.caption(t("page.quality.problems.caption"))

# ---- completeness ---------------------------------------------------------------------------
st.subheader(t("page.quality.completeness"))
st.plotly_chart(view.completeness_heatmap(fill), key="quality_heatmap")
st.caption(t("page.quality.completeness.help"))
grid = view.fill_table(fill)
clicked = st.dataframe(
    grid, hide_index=True, key="quality_fill_grid", column_config=view.fill_columns(grid),
    on_select="rerun", selection_mode="single-cell",
)  # fmt: skip
view.follow_fill_grid(clicked, grid)
st.caption(t("page.quality.completeness.grid"))

# ---- consent per channel ----------------------------------------------------------------------
st.subheader(t("page.quality.consent"))
st.plotly_chart(view.consent_chart(table), key="quality_consent")
st.caption(t("page.quality.consent.help"))


# ---- the rows behind a number -------------------------------------------------------------------
@st.fragment
def rows_section() -> None:
    """Measure table, pickers and the customers behind the picked number; re-runs alone."""
    st.subheader(t("page.quality.rows"))
    st.caption(t("page.quality.rows.help"))
    shown = view.measure_table(table)
    clicked = st.dataframe(
        shown, hide_index=True, key="quality_measure_table", column_config=view.measure_columns(),
        on_select="rerun", selection_mode="single-row", height=view.table_height(shown.height),
    )  # fmt: skip
    view.follow_measure_table(clicked, table)
    sources = fill["source"].drop_nulls().to_list()
    view.init_picks(sources)
    picks = {m: view.measure_label(m) for m in view.PICKS}
    source_names = {s: view.source_label(s or None) for s in ["", *sources]}
    left, right = st.columns(2)
    measure = left.selectbox(t("page.quality.rows.pick"), list(picks), key="quality_measure",
                             format_func=picks.__getitem__)  # fmt: skip
    source = right.selectbox(
        t("page.quality.rows.source"), list(source_names), key="quality_source",
        format_func=source_names.__getitem__,
    )  # fmt: skip
    behind = view.rows(*args, measure, source or None)
    if behind.height == 0:
        st.info(t("page.quality.rows.none"))
        return
    n = format_number(behind.height, lang())
    if behind.height > view.SHOWN_ROWS:
        st.caption(t("page.quality.rows.shown", n=n, shown=format_number(view.SHOWN_ROWS, lang())))
    else:
        st.caption(t("page.quality.rows.all_shown", n=n))
    st.dataframe(masked(view.shown_rows(behind)), hide_index=True, key="quality_rows",
                 column_config=view.row_columns(), placeholder="—")  # fmt: skip
    download_buttons(behind, f"quality_{measure}", key="quality_rows_dl")


rows_section()

# ---- quality per upload ------------------------------------------------------------------------
st.subheader(t("page.quality.trend"))
trend = view.uploads(db(), data_version())
if trend.height == 0:
    st.info(t("page.quality.trend.none"))
else:
    st.plotly_chart(view.trend_chart(trend), key="quality_trend")
    st.caption(t("page.quality.trend.help"))
    st.dataframe(view.relabel_status(trend), hide_index=True, key="quality_trend_table",
                 column_config=view.trend_columns())  # fmt: skip

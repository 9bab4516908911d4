"""Value chain → Relationship management (Buttle, stage 5): acquisition, retention and
development per period against the user's targets, and the life cycle summarised."""

from __future__ import annotations

import polars as pl
import streamlit as st

from crm_core.errors import VinculoError
from crm_core.i18n.format import format_date, format_number, format_percent
from crm_core.lifecycle import funnel, stage_counts
from crm_core.relationship_mgmt import METRICS, SERIES_METRICS
from crm_core.settings import TARGET_KPIS
from ui import filters
from ui import lifecycle_view as lc
from ui import relationships_view as view
from ui.context import data_version, db, lang, page_header, t
from ui.downloads import download_buttons

page_header(__file__, "relationships")
f = filters.require()

# ---- the page's periods ------------------------------------------------------------------
left, middle, right = st.columns(3)
freqs = {v: t(f"page.relationships.freq.{v}") for v in view.FREQS}
freq = left.segmented_control(
    t("page.relationships.freq"), list(freqs), default="month", key="rm_freq",
    format_func=freqs.__getitem__,
) or "month"  # fmt: skip
low, high, default = view.PERIODS[freq]
periods = middle.slider(t("page.relationships.periods"), low, high, default, key=f"rm_n_{freq}",
                        help=t("page.relationships.periods.help"))  # fmt: skip
percent = right.slider(t("page.relationships.tolerance"), 0, 25, 5, key="rm_tolerance",
                       format="%d%%", help=t("page.relationships.tolerance.help"))  # fmt: skip
tolerance = percent / 100
key = view.key_of(f, db(), data_version(), freq, periods)
if view.nobody(key):
    st.info(t("page.relationships.no_customers"))
    st.stop()
try:
    goals = view.targets(db())
except VinculoError as exc:  # e.g. settings saved by a newer version
    st.error(exc.message(lang()))
    goals = {}
card, scored = view.scored(key, goals, tolerance)
period = view.last_period(key)
span = {"start": format_date(period.start, lang()), "end": format_date(period.end, lang())}
st.caption(t("page.relationships.window", n=periods, freq=freqs[freq], **span))

# ---- scorecard ---------------------------------------------------------------------------
st.subheader(t("page.relationships.scorecard"))
table = view.scorecard_table(card)
st.dataframe(table, hide_index=True, key="rm_scorecard", column_config=view.scorecard_columns())
st.caption(t("page.relationships.scorecard.help", tolerance=format_percent(tolerance, lang(), 0),
             **span))  # fmt: skip
missing = card.filter(pl.col("status") == "no_target")["metric"].to_list()
if any(m in TARGET_KPIS for m in missing):
    st.page_link("pages/settings.py", label=t("page.relationships.set_targets"),
                 icon=":material/settings:")  # fmt: skip
download_buttons(table, "relationship_scorecard", key="rm_scorecard_dl")


def stage_cards(stage: str) -> None:
    """Every per-period metric of one stage, two per row."""
    names = [m for m in SERIES_METRICS if METRICS[m].stage == stage]
    for first in range(0, len(names), 2):
        for col, metric in zip(st.columns(2), names[first : first + 2], strict=False):
            with col:
                view.metric_card(metric, scored.filter(pl.col("metric") == metric), freq)


# ---- acquisition -------------------------------------------------------------------------
st.subheader(t("page.relationships.stage.acquisition"))
stage_cards("acquisition")
acq = view.measures(key).acquisition
st.markdown(f"**{t('page.relationships.by_source')}**")
st.plotly_chart(view.acquisition_figure(acq, freq), key="rm_sources")
st.caption(t("page.relationships.by_source.help", **span))
st.dataframe(view.acquisition_table(acq), hide_index=True, key="rm_source_table",
             column_config=view.acquisition_columns())  # fmt: skip

# ---- retention ---------------------------------------------------------------------------
st.subheader(t("page.relationships.stage.retention"))
stage_cards("retention")

# ---- development -------------------------------------------------------------------------
st.subheader(t("page.relationships.stage.development"))
stage_cards("development")
st.markdown(f"**{t('page.relationships.tiers')}**")
matrix, moves = view.migration(key)
tier_row = card.filter(pl.col("metric") == "tier_upgrade_rate")
cols = st.columns(5)
cols[0].metric(view.metric_name("tier_upgrade_rate"), format_percent(moves["upgrade_rate"], lang()),
               help=view.metric_help("tier_upgrade_rate"))  # fmt: skip
for col, kind in zip(cols[1:], ("upgraded", "downgraded", "stayed", "entered"), strict=True):
    col.metric(t(f"page.relationships.move.{kind}"), format_number(moves[kind], lang()),
               help=t(f"page.relationships.move.{kind}.help"))  # fmt: skip
if tier_row.height and tier_row["target"][0] is None:
    view.no_target("tier_upgrade_rate")
before, after = view.migration_dates(key)
dates = {"before": format_date(before, lang()), "after": format_date(after, lang())}
st.dataframe(view.matrix_table(matrix), hide_index=True, key="rm_tier_matrix")
st.caption(t("page.relationships.tiers.help", **dates))

# ---- life cycle, summarised ----------------------------------------------------------------
st.subheader(t("page.relationships.lifecycle"))
staged = lc.saved_stages(f)
lc.stage_metrics(stage_counts(staged), f.config)
st.plotly_chart(lc.funnel_figure(funnel(staged)), key="rm_funnel")
st.caption(t("page.relationships.lifecycle.help"))
st.page_link("pages/lifecycle.py", label=t("page.relationships.lifecycle.link"),
             icon=":material/filter_alt:")  # fmt: skip
st.markdown(f"**{t('page.relationships.transitions')}**")
moved = lc.stage_moves(f, before, after)
st.plotly_chart(lc.sankey_figure(moved), key="rm_sankey")
st.caption(t("page.relationships.transitions.help", **dates))
st.dataframe(lc.with_stage_labels(moved, "from_stage", "to_stage"), hide_index=True,
             key="rm_moves", column_config=view.moves_columns())  # fmt: skip

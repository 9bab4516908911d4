"""IDIC → Differentiate: customers differ in value and in needs (Peppers & Rogers).

Value concentration, then a workbench where every threshold of the segment configuration is
a control and the segments re-form live (a fragment: only it reruns on a move), save / load /
compare of configurations, and needs-based groups next to the value tiers.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from crm_core import store
from crm_core.errors import VinculoError
from crm_core.i18n.format import format_number, format_percent
from crm_core.needs import NeedsConfig
from crm_core.segment_config import SegmentConfig
from crm_core.segment_store import save_config
from ui import analysis, filters
from ui import differentiate_charts as charts
from ui import differentiate_view as view
from ui.context import actor, data_version, db, lang, page_header, t

page_header(__file__, "differentiate")
f = filters.require()
key = view.key_of(f, db(), data_version())
st.caption(t("page.differentiate.scope"))
conc = view.concentrations(key)
if conc["revenue"].customers == 0:
    st.info(t("page.differentiate.no_buyers"))
    st.stop()
label = view.label

# ---- value concentration ------------------------------------------------------------------
st.subheader(t("page.differentiate.pareto"))
names = {c: t(f"page.differentiate.value.{c}") for c in conc}
cols = st.columns(2 * len(conc))
for i, (column, result) in enumerate(conc.items()):
    top20 = result.top["value_share"][-1]
    cols[2 * i].metric(t("page.differentiate.metric.gini", value=names[column]),
                       format_number(result.gini, lang(), 2),
                       help=t("page.differentiate.metric.gini.help"))  # fmt: skip
    cols[2 * i + 1].metric(t("page.differentiate.metric.top20", value=names[column]),
                           format_percent(top20, lang()),
                           help=t("page.differentiate.metric.top20.help"))  # fmt: skip
st.plotly_chart(charts.pareto_chart(conc, names), key="diff_pareto")
st.caption(t("page.differentiate.pareto.help", buyers=format_number(conc["revenue"].customers,
                                                                    lang())))  # fmt: skip
table = view.concentration_table(conc)
st.dataframe(table, hide_index=True, key="diff_concentration",
             column_config={**charts.columns_for(table),
                            **{c: st.column_config.NumberColumn(names[c], format="%.3f")
                               for c in conc}})  # fmt: skip


# ---- the thresholds workbench ----------------------------------------------------------------
def value_sections(draft: SegmentConfig, wb: view.Workbench) -> None:
    """Segments and tiers of the draft: tables, bars, the R × F heatmap and the treemap."""
    st.markdown(f"**{t('page.differentiate.segments')}**")
    st.plotly_chart(charts.share_bars(wb.segments, "segment", label), key="diff_segment_bars")
    st.caption(t("page.differentiate.segments.help", days=draft.churn_window_days))
    shown = view.relabel(wb.segments, segment=label)
    st.dataframe(shown, hide_index=True, key="diff_segments", height="content",
                 column_config=charts.columns_for(shown))  # fmt: skip
    st.markdown(f"**{t('page.differentiate.tier_table')}**")
    shown = view.relabel(wb.tiers, tier=label)
    st.dataframe(shown, hide_index=True, key="diff_tiers", height="content",
                 column_config=charts.columns_for(shown))  # fmt: skip
    left, right = st.columns(2)
    with left:
        st.markdown(f"**{t('page.differentiate.rf')}**")
        st.plotly_chart(charts.rf_heatmap(wb.grid, label), key="diff_rf")
        st.caption(t("page.differentiate.rf.help"))
    with right:
        value = "clv" if "clv" in wb.tree.columns else "revenue"
        st.markdown(f"**{t('page.differentiate.tree', value=names[value])}**")
        st.plotly_chart(charts.value_treemap(wb.tree, value, label), key="diff_tree")
        st.caption(t("page.differentiate.tree.help"))


def save_section(draft: SegmentConfig, loaded: SegmentConfig) -> None:
    """Save the draft under a name: a new version that every page then uses."""
    st.markdown(f"**{t('page.differentiate.save')}**")
    if draft.to_json() != loaded.to_json():
        st.caption(t("page.differentiate.unsaved", name=loaded.name))
    name = st.text_input(t("page.differentiate.save_name"), key="diff_save_name",
                         help=t("page.differentiate.save_name.help"))  # fmt: skip
    if not st.button(t("page.differentiate.save_button"), key="diff_save", type="primary"):
        return
    try:
        config = replace(draft, name=name.strip())
        with store.connect(db()) as con:
            version = save_config(con, config, actor=actor())
    except VinculoError as exc:
        st.error(exc.message(lang()))
        return
    analysis.saved_config_json.clear()
    view.saved_versions.clear()
    st.session_state.update(diff_loaded=config.to_json(), diff_draft=config.to_json())
    st.session_state["diff_message"] = t("page.differentiate.saved", name=config.name,
                                         version=version)  # fmt: skip
    st.rerun(scope="app")


def load_section(options: dict[str, tuple[str, int]]) -> None:
    """Load a saved version into the draft."""
    st.markdown(f"**{t('page.differentiate.load')}**")
    saved = [o for o, (_, number) in options.items() if number > 0]
    if not saved:
        st.caption(t("page.differentiate.load.none"))
        return
    pick = st.selectbox(t("page.differentiate.load.pick"), saved, key="diff_load_pick",
                        format_func=option_labels(options).__getitem__)  # fmt: skip
    st.button(t("page.differentiate.load.button"), key="diff_load", on_click=view.load_saved,
              args=(db(), data_version(), pick, key))  # fmt: skip


def option_labels(options: dict[str, tuple[str, int]]) -> dict[str, str]:
    """How each configuration is named in the pickers."""
    out = {o: t(f"page.differentiate.option.{o}", name=f.config.name) for o in ("draft", "active")}
    for option, (name, number) in options.items():
        if number > 0:
            out[option] = t("page.differentiate.option.saved", name=name, version=number)
    return out


def compare_section(options: dict[str, tuple[str, int]]) -> None:
    """Two configurations side by side and the customers moving between their segments."""
    st.subheader(t("page.differentiate.compare"))
    left, right = st.columns(2)
    option_label = option_labels(options).__getitem__
    a = left.selectbox(t("page.differentiate.compare.a"), list(options), index=1,
                       key="diff_compare_a", format_func=option_label)  # fmt: skip
    b = right.selectbox(t("page.differentiate.compare.b"), list(options), index=0,
                        key="diff_compare_b", format_func=option_label)  # fmt: skip
    try:
        json_a, json_b = (view.config_json_of(o, options, f, db(), data_version()) for o in (a, b))
        result = view.comparison(key, json_a, json_b)
    except VinculoError as exc:
        st.warning(exc.message(lang()))
        return
    share = format_percent(result.moved_share, lang())
    st.metric(t("page.differentiate.compare.moved"), format_number(result.moved, lang()),
              help=t("page.differentiate.compare.moved.help", share=share))  # fmt: skip
    sizes = view.relabel(result.sizes, segment=label)
    st.dataframe(sizes, hide_index=True, key="diff_compare_sizes", height="content",
                 column_config=charts.columns_for(sizes))  # fmt: skip
    st.plotly_chart(charts.movement_heatmap(result.matrix, label), key="diff_movement")
    st.caption(t("page.differentiate.compare.help"))
    matrix = view.relabel(result.matrix, segment=label).rename(
        {c: label(c) for c in result.matrix.columns[1:]}
    )
    columns = {
        **charts.columns_for(matrix, counts=tuple(matrix.columns[1:])),
        "segment": st.column_config.TextColumn(t("page.differentiate.compare.from")),
    }
    st.dataframe(matrix, hide_index=True, key="diff_movement_table", height="content",
                 column_config=columns)  # fmt: skip


@st.fragment
def workbench() -> None:
    """Every threshold as a control; the draft's segments re-form on each move."""
    loaded = view.init_draft(f.config_json, key)
    st.subheader(t("page.differentiate.thresholds"))
    if message := st.session_state.pop("diff_message", None):
        st.success(message)
    st.caption(t("page.differentiate.thresholds.help", name=loaded.name))
    try:
        draft = view.threshold_inputs(loaded, key)
        wb = view.workbench(key, draft.to_json())
    except VinculoError as exc:
        st.warning(exc.message(lang()))
        draft = None
    if draft is not None:
        value_sections(draft, wb)
        save_section(draft, loaded)
    options = view.compare_options(db(), data_version(), f.config_json)
    load_section(options)
    compare_section(options)


workbench()


# ---- needs ------------------------------------------------------------------------------------
@st.fragment
def needs_section() -> None:
    """Customers grouped by preferred category and channel, next to their value tier."""
    st.subheader(t("page.differentiate.needs"))
    left, right = st.columns(2)
    by = left.radio(t("page.differentiate.needs.by"), ["category_channel", "category", "channel"],
                    key="diff_needs_by", horizontal=True,
                    format_func=view.choices("needs.by", ("category_channel", "category",
                                                          "channel")))  # fmt: skip
    min_share = right.slider(t("page.differentiate.needs.min_share"), 0.0, 10.0, 2.0, 0.5,
                             format="%.1f%%", key="diff_needs_min_share",
                             help=t("page.differentiate.needs.min_share.help"))  # fmt: skip
    config = NeedsConfig(by=by, min_share=min_share / 100)
    profile, by_tier = view.needs(key, config, f.config_json)
    groups = view.needs_labels(profile, config)
    st.plotly_chart(charts.preference_heatmap(view.preference_matrix(key), view.channel_label),
                    key="diff_needs_heatmap")  # fmt: skip
    st.caption(t("page.differentiate.needs.help"))
    # the group's label names its category and channel: the two columns would repeat it
    shown = view.relabel(profile, needs_group=groups.__getitem__).drop("category", "channel")
    shown = shown.rename({"needs_group": "group"})
    st.dataframe(shown, hide_index=True, key="diff_needs_table", height="content",
                 column_config=charts.columns_for(shown))  # fmt: skip
    st.markdown(f"**{t('page.differentiate.needs.tiers', name=f.config.name)}**")
    st.plotly_chart(charts.tier_mix_bars(by_tier, groups, label), key="diff_needs_tier_bars")
    crosstab = view.relabel(by_tier, needs_group=groups.__getitem__).rename(
        {"needs_group": "group", **{c: label(c) for c in by_tier.columns[1:-1]}}
    )
    st.dataframe(
        crosstab,
        hide_index=True,
        key="diff_needs_tiers",
        height="content",
        column_config=charts.columns_for(crosstab, counts=tuple(crosstab.columns[1:-1])),
    )


needs_section()

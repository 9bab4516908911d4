"""IDIC → Interact: every touchpoint logged and learnt from (Peppers & Rogers; Payne & Frow)."""

from __future__ import annotations

import polars as pl
import streamlit as st

from crm_core.attention import AttentionRules, reason_counts, reason_label
from crm_core.i18n.format import format_date, format_money, format_number, format_percent
from crm_core.interact import DIMENSIONS, RECENCY_BINS, bucket_freq, code_label
from crm_core.interact_paths import PATH_SEPARATOR
from ui import filters
from ui import interact_view as view
from ui.context import data_version, db, lang, page_header, t
from ui.downloads import download_buttons
from ui.masking import masked

page_header(__file__, "interact")
f = filters.require()
key = view.key_of(f, db(), data_version())
period = view.period_of(key)
st.caption(t("page.interact.scope", start=format_date(period.start, lang()),
             end=format_date(period.end, lang()), as_of=format_date(f.as_of, lang())))  # fmt: skip
if f.is_filtered:
    st.caption(t("page.interact.filtered"))


def channel(code: str) -> str:
    return code_label("channel", code, lang())


def num(value: float | int | None, decimals: int = 0) -> str:
    return format_number(value, lang(), decimals)


def pct(value: float | None) -> str:
    return format_percent(value, lang())


# ---- interactions over time ---------------------------------------------------------------------
st.subheader(t("page.interact.over_time"))
dist, stats = view.contacts(key)
cols = st.columns(4)
cols[0].metric(t("page.interact.metric.interactions"), num(stats["interactions"]),
               help=t("page.interact.metric.interactions.help"))  # fmt: skip
cols[1].metric(t("page.interact.metric.contacted"), num(stats["contacted"]),
               help=t("page.interact.metric.contacted.help"))  # fmt: skip
cols[2].metric(t("page.interact.metric.mean"), num(stats["mean"], 2),
               help=t("page.interact.metric.mean.help"))  # fmt: skip
cols[3].metric(t("page.interact.metric.never"), pct(stats["never_share"]),
               help=t("page.interact.metric.never.help"))  # fmt: skip


@st.fragment
def over_time_section() -> None:
    """The stacked chart: re-runs alone when the breakdown changes."""
    names = {d: t(f"page.interact.dimension.{d}") for d in DIMENSIONS}
    by = st.segmented_control(
        t("page.interact.dimension"), list(names), default="channel",
        format_func=names.__getitem__, key="interact_by",
    ) or "channel"  # fmt: skip
    frame = view.over_time(key, by)
    fig = view.over_time_chart(frame, lambda c: code_label(by, c, lang()),
                               t("page.interact.col.interactions"))  # fmt: skip
    st.plotly_chart(fig, key="interact_over_time")
    st.caption(t(f"page.interact.over_time.help.{bucket_freq(period)}"))


over_time_section()

# ---- contacts per customer ----------------------------------------------------------------------
st.subheader(t("page.interact.contacts"))
hist = view.histogram_chart(dist, t("page.interact.contacts.x"), t("page.interact.col.customers"))
st.plotly_chart(hist, key="interact_hist")
st.caption(t("page.interact.contacts.help", customers=num(stats["customers"]),
             mean=num(stats["mean"], 2), median=num(stats["median"], 1),
             never=pct(stats["never_share"])))  # fmt: skip

# ---- days since last contact vs value -----------------------------------------------------------
st.subheader(t("page.interact.recency"))
cells, source = view.recency_value(key)
if cells.height:
    bands = {0: t("page.interact.band.none")}
    for r in cells.unique("value_band").sort("value_band").iter_rows(named=True):
        if r["value_band"]:
            bands[r["value_band"]] = t("page.interact.band", band=r["value_band"],
                                       low=format_money(r["band_min"], lang()),
                                       high=format_money(r["band_max"], lang()))  # fmt: skip
    bins = {b: code_label("recency", b, lang()) for b in RECENCY_BINS}
    titles = (t("page.interact.recency.x"), t(f"page.interact.recency.y.{source}"))
    st.plotly_chart(view.heatmap_chart(cells, bins, bands, titles), key="interact_recency")
st.caption(t(f"page.interact.recency.help.{source}"))

# ---- response and resolution rates --------------------------------------------------------------
st.subheader(t("page.interact.rates"))
by_channel, by_campaign = view.rates(key)
rate_names = {c: t(f"page.interact.col.{c}") for c in ("response_rate", "resolution_rate")}
st.plotly_chart(view.rates_chart(by_channel, channel, rate_names), key="interact_rates")
st.caption(t("page.interact.rates.help"))
st.dataframe(view.relabel(by_channel, "channel", channel), hide_index=True,
             key="interact_channel_rates", column_config=view.channel_columns())  # fmt: skip
st.markdown(f"**{t('page.interact.campaigns')}**")
if by_campaign.height:
    st.dataframe(view.relabel(by_campaign, "channel", channel), hide_index=True,
                 key="interact_campaign_rates", column_config=view.campaign_columns())  # fmt: skip
else:
    st.info(t("page.interact.campaigns.none"))

# ---- channel sequences --------------------------------------------------------------------------
st.subheader(t("page.interact.sequences"))


@st.fragment
def sequence_section() -> None:
    """Paths and transitions: re-run alone when the path length or the window changes."""
    left, right = st.columns(2)
    steps = left.slider(t("page.interact.steps"), 2, 5, 3, key="interact_steps",
                        help=t("page.interact.steps.help"))  # fmt: skip
    within = right.slider(t("page.interact.within"), 1, 90, 30, key="interact_within",
                          help=t("page.interact.within.help"))  # fmt: skip
    paths, transitions, multi = view.sequences(key, steps, within)
    if paths.height == 0:
        st.info(t("page.interact.sequences.none"))
        return
    st.metric(t("page.interact.metric.multichannel"), pct(multi["share"]),
              help=t("page.interact.metric.multichannel.help"))  # fmt: skip
    shown = paths.head(100)
    labels = [PATH_SEPARATOR.join(channel(c) for c in p) for p in shown["path"].to_list()]
    st.plotly_chart(view.paths_chart(shown.head(15), labels[:15], t("page.interact.col.customers")),
                    key="interact_paths")  # fmt: skip
    st.caption(t("page.interact.paths.help", steps=steps, days=within))
    shown = shown.with_columns(path=pl.Series(labels, dtype=pl.String))
    st.dataframe(shown, hide_index=True, key="interact_path_table",
                 column_config=view.path_columns())  # fmt: skip
    if transitions.height:
        titles = (t("page.interact.from"), t("page.interact.to"))
        st.plotly_chart(view.transitions_chart(transitions, channel, titles),
                        key="interact_transitions")  # fmt: skip
        st.caption(t("page.interact.transitions.help", days=within))


sequence_section()

# ---- attention list -----------------------------------------------------------------------------
st.subheader(t("page.interact.attention"))


@st.fragment
def attention_section() -> None:
    """The attention list: re-runs alone when a rule slider moves."""
    a, b, c = st.columns(3)
    percentile = a.slider(
        t("page.interact.rule.percentile"), 0, 99, 80, step=1, key="interact_percentile",
        help=t("page.interact.rule.percentile.help"),
    )  # fmt: skip
    drop = b.slider(t("page.interact.rule.drop"), 5, 100, 20, step=5, key="interact_drop",
                    help=t("page.interact.rule.drop.help"))  # fmt: skip
    days = c.slider(t("page.interact.rule.days"), 7, 365, 90, step=1, key="interact_days",
                    help=t("page.interact.rule.days.help"))  # fmt: skip
    rules = AttentionRules(percentile / 100, drop / 100, days, view.LOOKBACK_DAYS)
    table = view.attention(key, rules)
    fitted = view.attention_facts(key)[1]
    cols = st.columns(4)
    cols[0].metric(t("page.interact.metric.attention"), num(table.height))
    for col, r in zip(cols[1:], reason_counts(table).iter_rows(named=True), strict=True):
        col.metric(reason_label(r["reason"], lang()), num(r["customers"]))
    st.caption(t(f"page.interact.attention.help.{'clv' if fitted else 'revenue'}",
                 lookback=view.LOOKBACK_DAYS, shown=num(min(table.height, view.SHOWN_ROWS)),
                 total=num(table.height)))  # fmt: skip
    shown = view.relabel(table, "reason", lambda r: reason_label(r, lang())).with_columns(
        pl.col("owner").fill_null(t("page.interact.unassigned"))
    )
    st.dataframe(masked(view.with_links(shown.head(view.SHOWN_ROWS))), hide_index=True,
                 key="interact_attention", column_config=view.attention_columns())  # fmt: skip
    download_buttons(shown, "attention_list", key="interact_attention_dl")


attention_section()

"""Customer intimacy page: cached frames under the global filters, labels, charts and tables.

Every cached function takes `key` = (store path, data version, as_of, config JSON, channel,
segment, tier). Heavy frames (`capture`, `history`, `profile`, `classified`) are computed once
per key and kept with `st.cache_resource`; everything a widget changes (the feedback window,
a topic) is milliseconds over them. The per-record quality checks come from the Data quality
page's cache (`ui.quality_view.checks`), so both pages share one pass.
"""

from __future__ import annotations

import html
from datetime import date, timedelta

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from crm_core import feedback_themes as themes
from crm_core import intimacy, store
from crm_core.i18n import translate
from crm_core.i18n.format import format_number, format_percent
from crm_core.period import Period
from crm_core.segment_config import SegmentConfig
from crm_core.segments import segment_label
from ui import analysis, filters, quality_view
from ui.context import customer_url, lang, t
from ui.filters import Filters

Key = tuple[str, int, date, str, str, str, str]
AREA_COLOURS = {"contact": "#1f77b4", "demographics": "#6baed6", "preferences": "#9467bd",
                "consent": "#2ca02c", "feedback": "#ff7f0e"}  # fmt: skip
SENTIMENT_COLOURS = {"positive": "#2e7d32", "neutral": "#9e9e9e", "negative": "#c62828"}


def key_of(f: Filters, db: str, version: int) -> Key:
    """The cache key of the page's global filters."""
    return (db, version, f.as_of, f.config_json, f.channel, f.segment, f.tier)


def _scope(key: Key) -> Filters | None:
    """The key's channel/segment/tier filters as `Filters` (None when unfiltered)."""
    _, _, as_of, config_json, channel, segment, tier = key
    if not (channel or segment or tier):
        return None
    return Filters(as_of, Period(as_of, as_of), channel, segment, tier, config_json)


def _subset(key: Key) -> pl.DataFrame | None:
    scope = _scope(key)
    return None if scope is None else filters.customer_subset(scope)


@st.cache_resource(show_spinner=False, max_entries=4)
def capture(key: Key) -> intimacy.Capture:
    """Fact touchpoints (`touchpoint_capture`) and customer sources (`record_capture` over the
    quality checks) in one table."""
    db, version, as_of = key[:3]
    with store.connect(db) as con:
        facts = intimacy.touchpoint_capture(con, as_of, _subset(key))
    scope = _scope(key)
    checks = quality_view.checks(db, version, scope)
    fill = quality_view.completeness(db, version, scope)
    return intimacy.combine(facts, intimacy.record_capture(checks, fill, facts.base))


@st.cache_resource(show_spinner=False, max_entries=2)
def history(db: str, version: int) -> pl.DataFrame:
    """`crm_core.intimacy.profile_history` of the store."""
    with store.connect(db) as con:
        return intimacy.profile_history(con)


def _restricted(frame: pl.DataFrame, key: Key) -> pl.DataFrame:
    subset = _subset(key)
    return frame if subset is None else frame.join(subset, on="customer_id", how="semi")


@st.cache_resource(show_spinner=False, max_entries=4)
def profile(key: Key) -> pl.DataFrame:
    """`profile_completeness` at as-of of the filtered customers."""
    return intimacy.profile_completeness(_restricted(history(*key[:2]), key), key[2])


@st.cache_data(show_spinner=False, max_entries=8)
def profile_numbers(key: Key) -> tuple[pl.DataFrame, dict, pl.DataFrame]:
    """Completeness bands, headline statistics and field coverage."""
    prof = profile(key)
    return (intimacy.completeness_bands(prof), intimacy.completeness_stats(prof),
            intimacy.field_coverage(prof))  # fmt: skip


@st.cache_data(show_spinner=False, max_entries=16)
def completeness_by(key: Key, by: str) -> pl.DataFrame:
    """Mean completeness per segment or tier (`by`), labels in the user's language."""
    segmented = analysis.segmented(key[0], key[1], key[2], key[3])
    table = intimacy.completeness_by(profile(key), segmented, by)
    labels = [segment_label(v, lang()) if v else "—" for v in table[by]]
    return table.with_columns(pl.Series(by, labels, pl.String))


@st.cache_data(show_spinner=False, max_entries=8)
def least_known(key: Key, below: float) -> pl.DataFrame:
    """`crm_core.intimacy.least_known` with a link to each customer's 360 view and the missing
    fields in words."""
    window = SegmentConfig.from_json(key[3]).window_days
    summary = analysis.summary(key[0], key[1], key[2], window)
    table = intimacy.least_known(profile(key), summary, below)
    missing = [", ".join(field_label(f) for f in fs) for fs in table["missing"]]
    links = [customer_url(c) for c in table["customer_id"]]
    return table.with_columns(
        pl.Series("customer_id", links, pl.String), pl.Series("missing", missing, pl.String)
    )


@st.cache_resource(show_spinner=False, max_entries=4)
def classified(key: Key, until: date) -> pl.DataFrame:
    """Survey answers up to `until` of the filtered customers, with topic and sentiment."""
    with store.connect(key[0]) as con:
        answers = themes.load_feedback(con, until, _subset(key))
    return themes.classify_feedback(answers)


def _window(key: Key, until: date, start: date, end: date) -> pl.DataFrame:
    return classified(key, until).filter(pl.col("day").is_between(start, end))


@st.cache_data(show_spinner=False, max_entries=16)
def theme_numbers(
    key: Key, until: date, start: date, end: date
) -> tuple[pl.DataFrame, pl.DataFrame, dict]:
    """`theme_summary`, `theme_trend` and headline counts of the answers in start … end."""
    part = _window(key, until, start, end)
    answers, commented = part.height, part["topic"].drop_nulls().len()
    negative = int((part["sentiment"] == "negative").sum())
    stats = {"answers": answers, "commented": commented,
             "comment_share": commented / answers if answers else None,
             "negative_share": negative / commented if commented else None,
             "other_share": themes.other_share(part)}  # fmt: skip
    return themes.theme_summary(part), themes.theme_trend(part), stats


@st.cache_data(show_spinner=False, max_entries=32)
def samples(key: Key, until: date, start: date, end: date, topic: str, sentiment: str | None):
    """`sample_comments` of a topic (and sentiment) in the window, sentiment in words."""
    table = themes.sample_comments(_window(key, until, start, end), topic, sentiment)
    moods = [sentiment_label(s) for s in table["sentiment"]]
    return table.with_columns(pl.Series("sentiment", moods, pl.String))


@st.cache_data(show_spinner=False, max_entries=8)
def changes(key: Key, period: Period) -> pl.DataFrame:
    """This period against the previous one: `measure, value, previous, change`."""
    until = max(key[2], period.end)
    with store.connect(key[0]) as con:
        activity = intimacy.activity_changes(con, period, _subset(key))
    rows = [
        *intimacy.profile_changes(_restricted(history(*key[:2]), key), period),
        *activity,
        *themes.feedback_changes(classified(key, until), period),
    ]
    schema = {"measure": pl.String, "value": pl.Float64, "previous": pl.Float64,
              "change": pl.Float64}  # fmt: skip
    return pl.DataFrame(rows, schema=schema, orient="row")


def explain(text: str) -> pl.DataFrame:
    """Why a comment typed by the user gets its labels, as `what, value` rows of text."""
    row = themes.explain(pl.Series([text])).row(0, named=True)
    values = {
        "normalised": row["normalised"] or "",
        "topic": topic_label(row["topic"]) if row["topic"] else "—",
        "sentiment": sentiment_label(row["sentiment"]) if row["sentiment"] else "—",
        "score": str(row["score"]),
        **{k: ", ".join(row[k] or []) or "—" for k in ("topic_terms", "positive_terms",
                                                       "negative_terms", "negated_terms")},
    }  # fmt: skip
    return pl.DataFrame(
        {"what": [t(f"page.intimacy.explain.{k}") for k in values], "value": list(values.values())}
    )


def lexicon_rows() -> pl.DataFrame:
    """The default lexicon (`feedback_themes.lexicon_table`) with its lists named in words."""
    table = themes.lexicon_table()
    names = [topic_label(x) if x in themes.TOPIC_LABELS else t(f"page.intimacy.list.{x}")
             for x in table["list"]]  # fmt: skip
    return table.with_columns(pl.Series("list", names, pl.String))


def topics_by_volume(summary: pl.DataFrame) -> list[str]:
    """Topic codes, most commented first (ties in the lexicon's order)."""
    return (
        summary.sort("comments", descending=True, maintain_order=True)["topic"]
        .cast(pl.String)
        .to_list()
    )


# ---- labels ------------------------------------------------------------------------------------


def code_label(code: str) -> str:
    """A channel or source code in words when the catalogue knows it, else as given."""
    key = f"page.intimacy.code.{code}"
    text = translate(key, lang())
    return code if text == key else text


def touchpoint_label(kind: str, code: str) -> str:
    return f"{t(f'page.intimacy.kind.{kind}')} · {code_label(code)}"


def field_label(name: str) -> str:
    return t(f"page.intimacy.field.{name}")


def captured_label(name: str) -> str:
    """A field as a touchpoint captures it (an order's category, not a preferred one)."""
    key = f"page.intimacy.captured.{name}"
    text = translate(key, lang())
    return field_label(name) if text == key else text


def topic_label(topic: str) -> str:
    return t(f"page.intimacy.topic.{topic}")


def sentiment_label(sentiment: str) -> str:
    return t(f"page.intimacy.sentiment.{sentiment}")


def band_label(band: int, bands: int = 10) -> str:
    if band >= bands:
        return "100 %"
    return f"{band * 100 // bands}–{(band + 1) * 100 // bands - 1} %"


CHANGE_UNITS = {"negative_share": "rate", "csat_mean": "score", "nps": "score"}
"""Measures of `changes` that are not counts; lower is better for `LOWER_IS_BETTER`."""
LOWER_IS_BETTER = ("consents_withdrawn", "negative_share")


def format_value(measure: str, value: float | None) -> str:
    """A `changes` value in its unit: counts, a share, or a score (CSAT 1–5, NPS −100…100)."""
    unit = CHANGE_UNITS.get(measure, "count")
    if unit == "rate":
        return format_percent(value, lang())
    return format_number(
        value, lang(), 2 if measure == "csat_mean" else (1 if unit == "score" else 0)
    )


def format_change(measure: str, change: float | None) -> str | None:
    """The change against the previous period, signed (shares in percentage points)."""
    if change is None:
        return None
    sign = "+" if change > 0 else ""
    if CHANGE_UNITS.get(measure) == "rate":
        return sign + t("page.intimacy.points", value=format_number(100 * change, lang(), 1))
    return sign + format_value(measure, change)


def delta_colour(measure: str, change: float | None) -> str:
    """Green for a change for the better, red for worse; grey when unchanged."""
    if not change:
        return "off"
    return "inverse" if measure in LOWER_IS_BETTER else "normal"


def window_of(choice: str, as_of: date, period: Period) -> tuple[date, date]:
    """Days of a feedback window choice: all history, last 12 months or the KPI period."""
    if choice == "period":
        return period.start, min(period.end, as_of)
    if choice == "year":
        return as_of - timedelta(days=364), as_of
    return date(1900, 1, 1), as_of


# ---- charts ------------------------------------------------------------------------------------


def _safe(text: object) -> str:
    """Source and channel codes come from uploaded files: HTML-escaped for Plotly labels."""
    return html.escape(str(text))


def capture_heatmap(cap: intimacy.Capture) -> go.Figure:
    """Touchpoints × (customers covered, then each field's fill share); blank = not captured."""
    tps = cap.touchpoints.select("kind", "touchpoint").rows()
    fields = list(dict.fromkeys(f for k in intimacy.KINDS for f in intimacy.KIND_FIELDS[k]))
    share = {(k, tp, f): s for k, tp, f, s in cap.fields.iter_rows()}
    coverage = dict(zip(tps, cap.touchpoints["coverage"], strict=True))
    z = [[coverage[(k, tp)], *(share.get((k, tp, f)) for f in fields)] for k, tp in tps]
    text = [["" if v is None else format_percent(v, lang(), 0) for v in row] for row in z]
    x = [t("page.intimacy.col.coverage"), *(captured_label(f) for f in fields)]
    fig = go.Figure(
        go.Heatmap(
            z=z, x=x, y=[_safe(touchpoint_label(k, tp)) for k, tp in tps], text=text,
            texttemplate="%{text}", hovertemplate="%{y} · %{x}: %{text}<extra></extra>",
            colorscale="Blues", zmin=0, zmax=1, colorbar={"tickformat": ".0%"}, xgap=2, ygap=2,
        )
    )  # fmt: skip
    fig.update_layout(yaxis_autorange="reversed", margin={"t": 10}, height=140 + 26 * len(tps))
    return fig.update_xaxes(side="top", tickangle=-35)


def bands_chart(bands: pl.DataFrame, y_title: str) -> go.Figure:
    """Customers per completeness band."""
    fig = go.Figure(go.Bar(x=[band_label(b) for b in bands["band"]], y=bands["customers"].to_list(),
                           text=[format_percent(s, lang()) for s in bands["share"]]))  # fmt: skip
    return fig.update_layout(yaxis_title=y_title, margin={"t": 10}, height=300)


def coverage_chart(coverage: pl.DataFrame) -> go.Figure:
    """Share of customers knowing each profile field, one colour per area."""
    fig = go.Figure()
    for (area,), part in coverage.group_by("area", maintain_order=True):
        fig.add_bar(
            y=[field_label(f) for f in part["field"]], x=part["share"].to_list(), orientation="h",
            name=t(f"page.intimacy.area.{area}"), marker_color=AREA_COLOURS.get(area),
            text=[format_percent(s, lang()) for s in part["share"]],
        )  # fmt: skip
    fig.update_layout(xaxis_tickformat=".0%", xaxis_range=[0, 1.05], yaxis_autorange="reversed")
    return fig.update_layout(margin={"t": 10}, height=120 + 24 * coverage.height)


def theme_chart(summary: pl.DataFrame) -> go.Figure:
    """Comments per topic, stacked by sentiment."""
    labels = [topic_label(x) for x in summary["topic"]]
    fig = go.Figure()
    for s in themes.SENTIMENTS:
        fig.add_bar(y=labels, x=summary[s].to_list(), name=sentiment_label(s), orientation="h",
                    marker_color=SENTIMENT_COLOURS[s])  # fmt: skip
    return fig.update_layout(barmode="stack", yaxis_autorange="reversed", margin={"t": 10},
                             height=320)  # fmt: skip


def trend_chart(trend: pl.DataFrame, measure: str, y_title: str) -> go.Figure:
    """One line per topic: comments or negative share per month."""
    fig = go.Figure()
    for (topic,), part in trend.group_by("topic", maintain_order=True):
        fig.add_scatter(x=part["month"].to_list(), y=part[measure].to_list(),
                        mode="lines+markers", name=topic_label(topic))  # fmt: skip
    if measure == "negative_share":
        fig.update_layout(yaxis_tickformat=".0%")
    return fig.update_layout(yaxis_title=y_title, margin={"t": 10}, height=340)


# ---- tables ------------------------------------------------------------------------------------


def touchpoint_table(cap: intimacy.Capture) -> pl.DataFrame:
    tp = cap.touchpoints
    labels = [touchpoint_label(k, c) for k, c in tp.select("kind", "touchpoint").rows()]
    return tp.with_columns(pl.Series("touchpoint", labels, pl.String)).drop("kind")


def _count(key: str, help_key: str | None = None) -> st.column_config.NumberColumn:
    return st.column_config.NumberColumn(t(key), format="localized",
                                         help=t(help_key) if help_key else None)  # fmt: skip


def _share(key: str, help_key: str | None = None) -> st.column_config.ProgressColumn:
    return st.column_config.ProgressColumn(t(key), format="percent", min_value=0, max_value=1,
                                           help=t(help_key) if help_key else None)  # fmt: skip


def touchpoint_columns() -> dict:
    return {
        "touchpoint": st.column_config.TextColumn(t("page.intimacy.col.touchpoint")),
        "records": _count("page.intimacy.col.records", "page.intimacy.col.records.help"),
        "customers": _count("page.intimacy.col.customers", "page.intimacy.col.customers.help"),
        "coverage": _share("page.intimacy.col.coverage", "page.intimacy.col.coverage.help"),
        "per_customer": st.column_config.NumberColumn(
            t("page.intimacy.col.per_customer"),
            format="%.2f",
            help=t("page.intimacy.col.per_customer.help"),
        ),  # fmt: skip
        "latest": st.column_config.DateColumn(
            t("page.intimacy.col.latest"), help=t("page.intimacy.col.latest.help")
        ),  # fmt: skip
    }


def group_columns(by: str, areas: list[str]) -> dict:
    return {
        by: st.column_config.TextColumn(t(f"page.intimacy.by.{by}")),
        "customers": _count("page.intimacy.col.customers"),
        "completeness": _share("page.intimacy.col.completeness"),
        **{a: _share(f"page.intimacy.area.{a.removeprefix('area_')}") for a in areas},
    }


def theme_table(summary: pl.DataFrame) -> pl.DataFrame:
    labels = [topic_label(x) for x in summary["topic"]]
    return summary.with_columns(pl.Series("topic", labels, pl.String))


def theme_columns() -> dict:
    config: dict = {
        "topic": st.column_config.TextColumn(t("page.intimacy.col.topic")),
        "comments": _count("page.intimacy.col.comments"),
        "share": _share("page.intimacy.col.share"),
        **{s: _count(f"page.intimacy.sentiment.{s}") for s in themes.SENTIMENTS},
        "negative_share": _share("page.intimacy.col.negative_share"),
        "net_sentiment": st.column_config.NumberColumn(
            t("page.intimacy.col.net_sentiment"),
            format="%.2f",
            help=t("page.intimacy.col.net_sentiment.help"),
        ),  # fmt: skip
        "csat_mean": st.column_config.NumberColumn(
            t("page.intimacy.col.csat_mean"), format="%.2f", help=t("page.intimacy.csat.help")
        ),
        "csat_answers": _count("page.intimacy.col.csat_answers"),
        "nps": st.column_config.NumberColumn(
            t("page.intimacy.col.nps"), format="%.1f", help=t("page.intimacy.nps.help")
        ),  # fmt: skip
        "nps_answers": _count("page.intimacy.col.nps_answers"),
    }
    return config


def sample_columns() -> dict:
    return {
        "comment": st.column_config.TextColumn(t("page.intimacy.col.comment"), width="large"),
        "sentiment": st.column_config.TextColumn(t("page.intimacy.col.sentiment")),
        "answers": _count("page.intimacy.col.answers"),
        "csat_mean": st.column_config.NumberColumn(t("page.intimacy.col.csat_mean"), format="%.2f"),
        "last_day": st.column_config.DateColumn(t("page.intimacy.col.last_day")),
    }


def least_columns() -> dict:
    return {
        "customer_id": st.column_config.LinkColumn(
            t("page.intimacy.col.customer"), display_text=r"customer=([^&]+)"
        ),
        "revenue": st.column_config.NumberColumn(
            t("page.intimacy.col.revenue"), format="R$ %.2f"
        ),  # fmt: skip
        "completeness": _share("page.intimacy.col.completeness"),
        "missing": st.column_config.TextColumn(t("page.intimacy.col.missing"), width="large"),
    }

"""Customize page: the rules editor's state, cached previews and target lists, and charts.

Cached functions take `key` = (store path, data version, as_of, config JSON, channel,
segment, tier) — the global filters — and, where the rules matter, the draft rule set as
JSON, so an edit in the table re-assigns actions once and every later rerun reuses it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import date

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from crm_core import store
from crm_core.customize import (
    CHANNELS,
    RuleSet,
    assign_actions,
    build_profile,
    default_ruleset,
    list_rules,
    load_rules,
    overlaps,
    preview,
    rules_frame,
    save_rules,
    value_by_rule,
)
from crm_core.customize_checks import Vocabulary
from crm_core.errors import VinculoError
from crm_core.i18n import translate
from crm_core.segment_config import SegmentConfig
from crm_core.segments import segment_label
from crm_core.targeting import REASONS, contact_columns, export_target_list, target_list
from ui import analysis
from ui.context import t
from ui.filters import Filters, row_mask

Key = tuple[str, int, date, str, str, str, str]

LOADED = "cust_loaded"
"""Session key of the rule set the editor starts from: {"name", "version", "json"}."""
EDITOR = "cust_rules_editor"
NAME = "cust_ruleset_name"
PREVIEW_ROWS = 100
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def key_of(f: Filters, db: str, version: int) -> Key:
    """The cache key of the page's global filters."""
    return (db, version, f.as_of, f.config_json, f.channel, f.segment, f.tier)


# ---- the rule set being edited ------------------------------------------------------------


def saved_versions(db: str) -> pl.DataFrame:
    """Every saved rule-set version, newest first (a small table: read on every run)."""
    with store.connect(db) as con:
        return list_rules(con).sort("created_at", descending=True)


def _set_loaded(name: str, version: int | None, ruleset: RuleSet) -> None:
    st.session_state[LOADED] = {"name": name, "version": version, "json": ruleset.to_json()}
    st.session_state[NAME] = name
    st.session_state.pop(EDITOR, None)  # start the editor afresh from the loaded rules


def ensure_loaded(db: str) -> dict:
    """The editor's starting rule set: once per session, the newest saved version (or the
    built-in default when nothing was saved)."""
    if LOADED not in st.session_state:
        history = saved_versions(db)
        if history.height:
            load_version(db, history["name"][0], int(history["version"][0]))
        else:
            load_default()
    return st.session_state[LOADED]


def load_version(db: str, name: str, version: int) -> None:
    """Callback: put the saved version (name, version) in the editor, discarding edits."""
    with store.connect(db) as con:
        _set_loaded(name, version, load_rules(con, name, version))


def load_default() -> None:
    """Callback: put the built-in default rules in the editor, discarding edits."""
    _set_loaded("default", None, default_ruleset())


SAVED = "cust_saved"
"""Session key of the last save's outcome, shown once: ("ok", name, version) or ("error", text)."""


def save(db: str, rules_json: str, actor: str, lang: str) -> None:
    """Callback of the save button: store the draft shown when it was clicked as a new
    version (audited) and make it the editor's starting point."""
    ruleset = RuleSet.from_json(rules_json)
    try:
        with store.connect(db) as con:
            version = save_rules(con, ruleset, actor=actor)
    except VinculoError as exc:
        st.session_state[SAVED] = ("error", exc.message(lang))
        return
    _set_loaded(ruleset.name, version, ruleset)
    st.session_state[SAVED] = ("ok", ruleset.name, version)


def saved_version_of(draft: RuleSet, loaded: dict) -> int | None:
    """The saved version the draft is, or None when it was edited (or never saved)."""
    return loaded["version"] if draft.to_json() == loaded["json"] else None


def editor_frame(rules_json: str) -> pl.DataFrame:
    """The rules table the editor shows (list order is rule order, so no order column)."""
    return rules_frame(RuleSet.from_json(rules_json)).drop("rule_order")


@st.cache_data(show_spinner=False, max_entries=8)
def vocabulary(config_json: str) -> Vocabulary:
    """The labels rules may name under the active segment configuration."""
    return Vocabulary.of(SegmentConfig.from_json(config_json))


def label_functions(lang: str) -> dict[str, Callable[[str], str]]:
    """Display label of each condition's codes, and of channels."""
    return {
        "segments": lambda s: segment_label(s, lang),
        "tiers": lambda s: segment_label(s, lang),
        "stages": lambda s: translate(f"lifecycle.stage.{s}", lang),
        "relationship_types": lambda s: translate(f"relationship.type.{s}", lang),
        "channel": lambda s: translate(f"customize.channel.{s}", lang),
    }


def editor_columns(vocab: Vocabulary, table: pl.DataFrame, lang: str) -> dict:
    """Column config of the rules editor: pick-lists for labels and channel.

    Labels already in the table but unknown to the vocabulary stay selectable, so a rule
    saved under another segment configuration still shows them (the check flags them).
    """
    labels = label_functions(lang)
    config: dict = {
        "rule": st.column_config.TextColumn(t("page.customize.col.rule"), required=True,
                                            pinned=True),
        "priority": st.column_config.NumberColumn(
            t("page.customize.col.priority"), min_value=1, step=1, format="%d", required=True,
            help=t("page.customize.col.priority.help")),
        "channel": st.column_config.SelectboxColumn(
            t("page.customize.col.channel"), options=list(CHANNELS), required=True,
            format_func=labels["channel"]),
        "offer": st.column_config.TextColumn(t("page.customize.col.offer"), required=True),
        "message": st.column_config.TextColumn(t("page.customize.col.message")),
        "owner": st.column_config.TextColumn(t("page.customize.col.owner")),
    }  # fmt: skip
    for condition in ("segments", "tiers", "stages", "relationship_types"):
        present = table[condition].explode().drop_nulls().to_list() if table.height else []
        options = list(dict.fromkeys([*getattr(vocab, condition), *present]))
        config[condition] = st.column_config.MultiselectColumn(
            t(f"page.customize.col.{condition}"), options=options,
            format_func=labels[condition], help=t("page.customize.col.any.help"),
        )  # fmt: skip
    return config


# ---- who gets what ------------------------------------------------------------------------


@st.cache_resource(show_spinner=False, max_entries=8)
def profile(key: Key) -> pl.DataFrame:
    """`crm_core.customize.build_profile` of the customers passing the filters."""
    db, version, as_of, config_json = key[:4]
    window = SegmentConfig.from_json(config_json).window_days
    summary = analysis.summary(db, version, as_of, window)
    segmented = analysis.segmented(db, version, as_of, config_json)
    staged = analysis.staged(db, version, as_of, config_json)
    typed = analysis.relationship(db, version, as_of, window)
    keep = row_mask(summary, segmented, *key[4:])
    return build_profile(segmented.filter(keep), staged.filter(keep), typed.filter(keep))


@st.cache_resource(show_spinner=False, max_entries=8)
def values(key: Key) -> pl.DataFrame:
    """Per-customer lifetime net revenue and, when the CLV model fits, predicted CLV."""
    db, version, as_of, config_json = key[:4]
    window = SegmentConfig.from_json(config_json).window_days
    frame = analysis.summary(db, version, as_of, window).select("customer_id", "revenue")
    scores = analysis.model_scores(db, version, as_of)
    if scores is not None:
        frame = frame.join(scores.select("customer_id", "clv"), on="customer_id", how="left")
    return frame


@st.cache_resource(show_spinner=False, max_entries=16)
def assigned(key: Key, rules_json: str) -> pl.DataFrame:
    """`crm_core.customize.assign_actions` of the filtered customers under the draft rules."""
    return assign_actions(profile(key), RuleSet.from_json(rules_json))


@st.cache_data(show_spinner=False, max_entries=16)
def who_gets_what(key: Key, rules_json: str) -> pl.DataFrame:
    """`preview` (customers per rule, "no action" last) with `value_by_rule` beside it."""
    done = assigned(key, rules_json)
    table = preview(done, RuleSet.from_json(rules_json))
    worth = value_by_rule(done, values(key))
    sums = [c for c in values(key).columns if c != "customer_id"]
    worth = worth.select("rule", *(c for s in sums for c in (s, f"mean_{s}")))
    joined = table.join(worth, on="rule", how="left", nulls_equal=True, maintain_order="left")
    return joined.with_columns(pl.col(sums).fill_null(0.0))  # a rule nobody gets sums to 0


@st.cache_data(show_spinner=False, max_entries=16)
def conflicts(key: Key, rules_json: str) -> pl.DataFrame:
    """`crm_core.customize.overlaps` under the draft rules."""
    return overlaps(assigned(key, rules_json), RuleSet.from_json(rules_json))


@st.cache_resource(show_spinner=False, max_entries=16)
def targets(key: Key, rules_json: str, rule: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """`crm_core.targeting.target_list` of `rule` with its channel's contact columns."""
    channel = RuleSet.from_json(rules_json).rule(rule).channel
    with store.connect(key[0]) as con:
        return target_list(con, assigned(key, rules_json), rule, columns=contact_columns(channel))


def export_file(
    db: str, frame: pl.DataFrame, rule: str, fmt: str, actor: str, ruleset: str,
    version: int | None,
) -> bytes:  # fmt: skip
    """The download's bytes, built on click: `export_target_list` (re-checked, audited)."""
    with store.connect(db) as con:
        return export_target_list(
            con, frame, rule, fmt, actor, ruleset=ruleset, ruleset_version=version
        )


def file_stem(rule: str) -> str:
    """A rule name made safe for a file name."""
    return re.sub(r"[^\w-]+", "_", rule).strip("_") or "rule"


# ---- charts and tables --------------------------------------------------------------------


def _safe(text: object) -> str:
    """Analyst-supplied text (rule names) for Plotly labels: HTML-escaped."""
    return html.escape(str(text))


def rules_chart(table: pl.DataFrame, no_action: str, names: dict[str, str]) -> go.Figure:
    """Per rule, stacked: customers who get its action and those a better rule took."""
    rules = [_safe(no_action if r is None else r) for r in table["rule"]]
    fig = go.Figure()
    fig.add_bar(y=rules, x=table["customers"].to_list(), orientation="h", name=names["won"])
    fig.add_bar(y=rules, x=table["overridden"].to_list(), orientation="h",
                name=names["overridden"])  # fmt: skip
    fig.update_layout(barmode="stack", yaxis_autorange="reversed", margin={"t": 10},
                      height=120 + 28 * table.height, legend_orientation="h")  # fmt: skip
    return fig


def exclusions_chart(exclusions: pl.DataFrame, labels: list[str]) -> go.Figure:
    """Candidates left off the list, by reason."""
    fig = go.Figure(go.Bar(y=labels, x=exclusions["customers"].to_list(), orientation="h",
                           text=exclusions["customers"].to_list()))  # fmt: skip
    return fig.update_layout(yaxis_autorange="reversed", margin={"t": 10}, height=220)


def reason_labels(lang: str) -> dict[str, str]:
    """Exclusion reasons as shown to the user, in `REASONS` order."""
    return {r: translate(f"targeting.reason.{r}", lang) for r in REASONS}


def _count(key: str, help_key: str | None = None) -> st.column_config.NumberColumn:
    return st.column_config.NumberColumn(t(key), format="localized",
                                         help=t(help_key) if help_key else None)  # fmt: skip


def _money(key: str, help_key: str | None = None) -> st.column_config.NumberColumn:
    return st.column_config.NumberColumn(t(key), format="R$ %.2f",
                                         help=t(help_key) if help_key else None)  # fmt: skip


def preview_columns() -> dict:
    """Column formats of the who-gets-what table."""
    text = st.column_config.TextColumn
    return {
        "rule": text(t("page.customize.col.rule")),
        "priority": _count("page.customize.col.priority"),
        "channel": text(t("page.customize.col.channel")),
        "customers": _count("page.customize.col.customers", "page.customize.col.customers.help"),
        "with_conflicts": _count("page.customize.col.with_conflicts",
                                 "page.customize.col.with_conflicts.help"),
        "matched": _count("page.customize.col.matched", "page.customize.col.matched.help"),
        "overridden": _count("page.customize.col.overridden",
                             "page.customize.col.overridden.help"),
        "revenue": _money("page.customize.col.revenue", "page.customize.col.revenue.help"),
        "mean_revenue": _money("page.customize.col.mean_revenue"),
        "clv": _money("page.customize.col.clv", "page.customize.col.clv.help"),
        "mean_clv": _money("page.customize.col.mean_clv"),
    }  # fmt: skip


def overlap_columns() -> dict:
    """Column formats of the conflicts table."""
    text = st.column_config.TextColumn
    return {
        "rule": text(t("page.customize.col.winner")),
        "priority": _count("page.customize.col.priority"),
        "overridden": text(t("page.customize.col.loser")),
        "overridden_priority": _count("page.customize.col.loser_priority"),
        "customers": _count("page.customize.col.customers_both"),
        "decided_by": text(t("page.customize.col.decided_by")),
    }


def exclusion_columns() -> dict:
    """Column formats of the exclusions table."""
    return {
        "reason": st.column_config.TextColumn(t("page.customize.col.reason")),
        "customers": _count("page.customize.col.excluded"),
    }


def target_columns() -> dict:
    """Column formats of the target-list preview (person data as stored)."""
    text = st.column_config.TextColumn
    config = {c: text(t(f"page.customize.col.{c}")) for c in (
        "name", "email", "phone", "city", "state", "zip", "rule", "offer", "message", "channel",
        "owner", "consent_source")}  # fmt: skip
    config["customer_id"] = st.column_config.LinkColumn(
        t("page.customize.col.customer"), display_text=r"customer=([^&]+)"
    )
    config["consent_recorded_at"] = st.column_config.DatetimeColumn(
        t("page.customize.col.consent_recorded_at"), format="localized"
    )
    return config


def relabel(frame: pl.DataFrame, column: str, label: Callable[[str], str]) -> pl.DataFrame:
    """`frame` with the codes in `column` replaced by display labels; nulls stay null."""
    shown = [None if v is None else label(v) for v in frame[column].to_list()]
    return frame.with_columns(pl.Series(column, shown, pl.String))

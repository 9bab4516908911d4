"""Identity resolution page: cached candidate pairs and measures, the writes, and the tables.

Cached functions take `key` = (store path, data version, matching configuration as JSON):
the candidate pairs are computed once per key (the one costly step, seconds at a million
customers); the page's thresholds only re-filter them. Identity resolution reads every
customer, so the global filters (as-of date, channel, segment, tier) do not apply.
"""

from __future__ import annotations

import html
import json
from dataclasses import asdict

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from crm_core import store
from crm_core.i18n import translate
from crm_core.i18n.format import date_input_format
from crm_core.identity import (
    RULES,
    MatchConfig,
    auto_clusters,
    candidate_pairs,
    evaluate_against_truth,
    golden_map,
    match_counts,
    merge_clusters,
    record_ranking,
    unmerge,
)
from crm_core.identity_review import (
    SIDE_FIELDS,
    has_truth,
    identity_events,
    merge_history,
    merge_pairs,
    pending_clusters,
    reject_pairs,
    resolution_overview,
    review_queue,
)
from ui.context import customer_url, lang, t

Key = tuple[str, int, str]

MAX_QUEUE_ROWS = 1000
"""Review-queue rows shown at once (highest scores first)."""

EVENTS = 20
"""Identity events of the audit log shown under the merge history."""


def key_of(db: str, version: int, config: MatchConfig | None = None) -> Key:
    """The cache key of the page: store, data version and matching configuration."""
    return (db, version, json.dumps(asdict(config or MatchConfig()), sort_keys=True))


def config_of(key: Key) -> MatchConfig:
    """The matching configuration of `key`."""
    return MatchConfig(**json.loads(key[2]))


@st.cache_resource(show_spinner=False, max_entries=4)
def pairs(key: Key) -> pl.DataFrame:
    """`crm_core.identity.candidate_pairs` of the whole store (rejected pairs left out)."""
    with store.connect(key[0]) as con:
        return candidate_pairs(con, config=config_of(key))


@st.cache_resource(show_spinner=False, max_entries=4)
def ranking(key: Key) -> pl.DataFrame:
    """`crm_core.identity.record_ranking`: the inputs of the golden-record rule."""
    with store.connect(key[0]) as con:
        return record_ranking(con)


@st.cache_data(show_spinner=False, max_entries=16)
def overview(key: Key, threshold: float, floor: float) -> dict[str, float | int]:
    """`crm_core.identity_review.resolution_overview` at the page's thresholds."""
    with store.connect(key[0]) as con:
        return resolution_overview(con, pairs(key), ranking(key), threshold, floor)


@st.cache_data(show_spinner=False, max_entries=16)
def counts(key: Key, threshold: float, floor: float) -> pl.DataFrame:
    """`crm_core.identity.match_counts` of the pairs scoring at least `floor`."""
    return match_counts(pairs(key).filter(pl.col("score") >= floor), threshold)


@st.cache_data(show_spinner=False, max_entries=16)
def truth(key: Key, threshold: float) -> dict[str, float | int] | None:
    """Precision/recall of the automatic clusters against the demo's seeded truth;
    None when the store has no `demo_truth`."""
    with store.connect(key[0]) as con:
        if not has_truth(con):
            return None
        clusters = auto_clusters(pairs(key), threshold, ranking=ranking(key))
        return evaluate_against_truth(con, clusters)


@st.cache_resource(show_spinner=False, max_entries=8)
def queue(key: Key, threshold: float, floor: float) -> pl.DataFrame:
    """`crm_core.identity_review.review_queue` at the page's thresholds."""
    with store.connect(key[0]) as con:
        return review_queue(con, pairs(key), ranking(key), threshold, floor)


@st.cache_data(show_spinner=False, max_entries=8)
def history(key: Key) -> pl.DataFrame:
    """`crm_core.identity_review.merge_history`: active golden records with members."""
    with store.connect(key[0]) as con:
        return merge_history(con)


@st.cache_data(show_spinner=False, max_entries=8)
def events(key: Key, limit: int = EVENTS) -> pl.DataFrame:
    """`crm_core.identity_review.identity_events`: the latest identity audit events."""
    with store.connect(key[0]) as con:
        return identity_events(con, limit)


# ---- writes (audited in crm_core; each bumps the data version) -----------------------------


def apply_auto(key: Key, threshold: float, actor: str) -> int:
    """Merge the automatic clusters not merged yet; the number of links written."""
    clusters = auto_clusters(pairs(key), threshold, ranking=ranking(key))
    with store.connect(key[0]) as con:
        pending = pending_clusters(clusters, golden_map(con))
        return merge_clusters(con, pending, actor=actor)


def merge_chosen(db: str, chosen: pl.DataFrame, actor: str) -> int:
    """`crm_core.identity_review.merge_pairs` of the reviewer's pairs."""
    with store.connect(db) as con:
        return merge_pairs(con, chosen, actor)


def reject_chosen(db: str, chosen: pl.DataFrame, actor: str) -> int:
    """`crm_core.identity_review.reject_pairs` of the reviewer's pairs."""
    with store.connect(db) as con:
        return reject_pairs(con, chosen, actor)


def unmerge_one(db: str, customer_id: str, actor: str) -> int:
    """`crm_core.identity.unmerge`: detach a member, or release a golden record's members."""
    with store.connect(db) as con:
        return unmerge(con, customer_id, actor)


def chosen_pairs(rows: pl.DataFrame, side: str) -> pl.DataFrame:
    """The pairs to merge with the record to keep: `side` is "rule" (the golden-record
    rule's choice), "a" or "b"."""
    keep = {"rule": "golden_default", "a": "customer_id_a", "b": "customer_id_b"}[side]
    return rows.select("customer_id_a", "customer_id_b", "score", keep=pl.col(keep))


# ---- charts and tables ---------------------------------------------------------------------


def rule_label(rule: str) -> str:
    """A matching rule (or `manual`/`auto`) as shown to the user."""
    return translate(f"identity.rule.{rule}", lang())


def _rule_labels() -> dict[str, str]:
    return {r: rule_label(r) for r in (*RULES, "manual", "auto")}


def rules_chart(frame: pl.DataFrame) -> go.Figure:
    """Candidate pairs per rule, stacked: merged automatically vs waiting for review."""
    labels = [html.escape(rule_label(r)) for r in frame["rule"]]
    fig = go.Figure()
    for column in ("auto", "review"):
        fig.add_bar(
            name=t(f"page.identity.chart.{column}"), y=labels, x=frame[column].to_list(),
            orientation="h", text=frame[column].to_list(), textposition="auto",
        )  # fmt: skip
    fig.update_layout(barmode="stack", xaxis_title=t("page.identity.chart.x"), height=300)
    return fig.update_layout(yaxis_autorange="reversed", margin={"t": 10, "b": 10})


def _urls(ids: pl.Series) -> pl.Series:
    """`customer_url` of every id: built once and appended to for ids made of URL-safe
    characters; the rare others are encoded one by one. Eager, in the script's thread
    (`customer_url` reads the session's URL, which a Polars worker thread cannot see)."""
    safe = ids.str.contains(r"^[A-Za-z0-9_.~-]+$").fill_null(False)
    odd = {i: customer_url(i) for i in ids.filter(~safe).drop_nulls().unique().to_list()}
    plain = customer_url("") + ids
    return plain.zip_with(safe, ids.replace_strict(odd, default=None, return_dtype=pl.String))


def queue_table(frame: pl.DataFrame) -> pl.DataFrame:
    """The review queue as shown: links to both 360 views, the rule's label, the golden
    record the rule would keep, then the two records side by side."""
    sides = [f"{f}_{s}" for f in SIDE_FIELDS for s in ("a", "b")]
    return frame.select(
        _urls(frame["customer_id_a"]).alias("url_a"), _urls(frame["customer_id_b"]).alias("url_b"),
        pl.col("rule").replace(_rule_labels()), "score", "name_similarity", "golden_default",
        *sides,
    )  # fmt: skip


def _text(key: str, **kw) -> st.column_config.TextColumn:
    return st.column_config.TextColumn(t(f"page.identity.col.{key}"), **kw)


def _when(key: str) -> st.column_config.DatetimeColumn:
    fmt = date_input_format(lang()) + " HH:mm"
    return st.column_config.DatetimeColumn(t(f"page.identity.col.{key}"), format=fmt)


def _customer(key: str) -> st.column_config.LinkColumn:
    return st.column_config.LinkColumn(
        t(f"page.identity.col.{key}"), display_text=r"customer=([^&]+)",
        help=t("page.identity.col.link.help"),
    )  # fmt: skip


def queue_columns() -> dict:
    """Column formats of the review queue."""
    share = st.column_config.NumberColumn
    config: dict = {
        "url_a": _customer("record_a"),
        "url_b": _customer("record_b"),
        "rule": _text("rule"),
        "score": share(t("page.identity.col.score"), format="%.2f",
                       help=t("page.identity.col.score.help")),
        "name_similarity": share(t("page.identity.col.name_similarity"), format="%.2f",
                                 help=t("page.identity.col.name_similarity.help")),
        "golden_default": _text("golden_default", help=t("page.identity.col.golden_default.help")),
    }  # fmt: skip
    for field in SIDE_FIELDS:
        for side in ("a", "b"):
            title = t(f"page.identity.field.{field}") + f" ({side.upper()})"
            config[f"{field}_{side}"] = (
                st.column_config.DatetimeColumn(title, format=date_input_format(lang()))
                if field == "created_at"
                else st.column_config.TextColumn(title)
            )
    return config


def history_table(frame: pl.DataFrame) -> pl.DataFrame:
    """Merge history as shown: link to the golden record, rules as labels."""
    return frame.select(
        url=_urls(frame["golden_id"]), name="name", members="members",
        member_ids=pl.col("member_ids").list.join(", "),
        rules=pl.col("rules").list.eval(pl.element().replace(_rule_labels())).list.join(", "),
        linked_at="linked_at", linked_by="linked_by",
    )  # fmt: skip


def history_columns() -> dict:
    """Column formats of the merge history."""
    return {
        "url": _customer("golden"),
        "name": _text("name"),
        "members": st.column_config.NumberColumn(
            t("page.identity.col.members"), help=t("page.identity.col.members.help")
        ),
        "member_ids": _text("member_ids"),
        "rules": _text("rules"),
        "linked_at": _when("linked_at"),
        "linked_by": _text("linked_by"),
    }


def events_table(frame: pl.DataFrame) -> pl.DataFrame:
    """Identity audit events with the action's label."""
    labels = {a: t(f"page.identity.action.{a}") for a in frame["action"].unique().to_list()}
    return frame.with_columns(pl.col("action").replace_strict(labels, default=pl.col("action")))


def events_columns() -> dict:
    """Column formats of the identity audit events."""
    return {
        "logged_at": _when("logged_at"),
        "actor": _text("actor"),
        "action": _text("action"),
        "target": _text("target"),
        "rows": st.column_config.NumberColumn(t("page.identity.col.rows")),
        "detail": _text("detail"),
    }

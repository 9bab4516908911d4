"""Assessments page: cached saved assessments, the questionnaire's widget state, and charts.

Saved assessments are a handful of small configuration rows, read on every run (`saved`),
so a save shows at once. Widget keys: `assess_q_<kind>_<question>` (score 1–5, radio)
and `assess_note_<kind>_<question>` (note), so each questionnaire keeps its own answers.
"""

from __future__ import annotations

import html

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from crm_core import store
from crm_core.assessments import (
    SCALE,
    Assessment,
    area_changes,
    areas,
    assessment_history,
    load_assessment,
    overall_history,
    questions,
    save_assessment,
)
from crm_core.i18n.format import format_date, format_number
from ui.context import lang, t


def saved(db: str, kind: str) -> tuple[pl.DataFrame, Assessment | None]:
    """`assessment_history` and the latest `load_assessment` of `kind`.

    Read on every run, not cached: they are a few small rows, and saving a configuration
    does not bump the store's data version (the key every cache uses).
    """
    with store.connect(db) as con:
        return assessment_history(con, kind), load_assessment(con, kind)


def save(db: str, assessment: Assessment, actor: str) -> int:
    """Store `assessment` as a new version (audited in crm_core); its version number."""
    with store.connect(db) as con:
        return save_assessment(con, assessment, actor)


# ---- the questionnaire ------------------------------------------------------------------------


def score_key(kind: str, question: str) -> str:
    return f"assess_q_{kind}_{question}"


def note_key(kind: str, question: str) -> str:
    return f"assess_note_{kind}_{question}"


def area_label(area: str) -> str:
    return t(f"assessment.area.{area}")


def anchors() -> dict[int, str]:
    """Each Likert score with its anchor, e.g. 4 → "4 · Agree" (a plain dict, so a widget's
    `format_func` needs no script context)."""
    return {n: f"{n} · {t(f'assessment.scale.{n}')}" for n in SCALE}


def bank(kind: str) -> dict[str, list[str]]:
    """Area → question ids of `kind`, in display order."""
    frame = questions(kind)
    return {a: frame.filter(pl.col("area") == a)["question"].to_list() for a in areas(kind)}


def answers_from_state(kind: str) -> tuple[dict[str, int], dict[str, str]]:
    """The scores chosen (unanswered left out) and the non-blank notes in the form's widgets."""
    ids = questions(kind)["question"].to_list()
    scores = {q: st.session_state.get(score_key(kind, q)) for q in ids}
    notes = {q: str(st.session_state.get(note_key(kind, q)) or "").strip() for q in ids}
    return (
        {q: int(s) for q, s in scores.items() if s is not None},
        {q: n for q, n in notes.items() if n},
    )


def default_index(latest: Assessment | None, question: str) -> int | None:
    """The radio index of the latest saved score (None: not answered yet)."""
    score = latest.answers.get(question) if latest else None
    return None if score is None else SCALE.index(score)


# ---- the saved versions -----------------------------------------------------------------------


def versions(history_frame: pl.DataFrame) -> list[int]:
    """Saved version numbers, newest first."""
    return history_frame["version"].unique().sort(descending=True).to_list()


def question_count(kind: str) -> int:
    return questions(kind).height


def overall(history_frame: pl.DataFrame) -> pl.DataFrame:
    """`crm_core.assessments.overall_history`."""
    return overall_history(history_frame)


def overall_pair(history_frame: pl.DataFrame) -> tuple[float | None, float | None]:
    """Overall score of the latest version and of the one before it (None if absent)."""
    values = overall_history(history_frame)["overall"].to_list()
    return (values[-1] if values else None), (values[-2] if len(values) > 1 else None)


def scores_of(history_frame: pl.DataFrame, number: int) -> pl.DataFrame:
    """`area, score` of one saved version, areas in questionnaire order."""
    return history_frame.filter(pl.col("version") == number).select("area", "score")


def radar_series(history_frame: pl.DataFrame, chosen: int | None) -> list[tuple[str, pl.DataFrame]]:
    """The radar's polygons: latest, previous (when saved) and `chosen` (when picked)."""
    numbers = versions(history_frame)
    picks = [("latest", numbers[0])]
    if len(numbers) > 1:
        picks.append(("previous", numbers[1]))
    if chosen is not None:
        picks.append(("chosen", chosen))
    return [
        (t(f"page.assessments.{role}", label=version_label(history_frame, n)),
         scores_of(history_frame, n))
        for role, n in picks
    ]  # fmt: skip


# ---- labels, charts and tables ----------------------------------------------------------------


def version_label(history_frame: pl.DataFrame, number: int) -> str:
    """ "v3 · 2026-06-30 · ana" for a saved version."""
    row = history_frame.filter(pl.col("version") == number).row(0, named=True)
    return f"v{number} · {format_date(row['taken_on'], lang())} · {row['author']}"


def radar_chart(series: list[tuple[str, pl.DataFrame]], kind: str) -> go.Figure:
    """One closed polygon per (name, `area, score` frame); unanswered areas are gaps."""
    labels = [html.escape(area_label(a)) for a in areas(kind)]
    fig = go.Figure()
    for name, frame in series:
        scores = dict(frame.select("area", "score").iter_rows())
        values = [scores.get(a) for a in areas(kind)]
        fig.add_scatterpolar(
            r=[*values, values[0]], theta=[*labels, labels[0]], name=html.escape(name),
            fill="toself", opacity=0.55, mode="lines+markers",
        )  # fmt: skip
    fig.update_layout(
        polar={"radialaxis": {"range": [0, 100], "tickvals": [0, 25, 50, 75, 100]}},
        margin={"t": 30, "b": 30}, height=460, legend={"orientation": "h"},
    )  # fmt: skip
    return fig


def overall_chart(overall: pl.DataFrame, y_title: str) -> go.Figure:
    """Overall score per saved version, oldest first (x: version and date)."""
    rows = overall.select("version", "taken_on", "overall").iter_rows()
    ticks, values, texts = [], [], []
    for number, day, value in rows:  # a handful of saved versions
        ticks.append(f"v{number}<br>{format_date(day, lang())}")
        values.append(value)
        texts.append("" if value is None else format_number(value, lang(), 1))
    fig = go.Figure(
        go.Scatter(x=ticks, y=values, text=texts, mode="lines+markers+text",
                   textposition="top center")
    )  # fmt: skip
    fig.update_layout(yaxis_range=[0, 105], yaxis_title=y_title, margin={"t": 10}, height=300)
    return fig


def change_table(history_frame: pl.DataFrame) -> pl.DataFrame:
    """`area_changes` of the latest version with area names shown."""
    changes = area_changes(history_frame)
    return changes.with_columns(pl.Series("area", [area_label(a) for a in changes["area"]]))


def history_table(history_frame: pl.DataFrame, kind: str) -> pl.DataFrame:
    """One row per saved version, newest first: version, date, author, overall, each area."""
    wide = history_frame.pivot(on="area", index=["version", "taken_on", "author"], values="score")
    overall = overall_history(history_frame).select("version", "overall")
    wide = wide.join(overall, on="version", maintain_order="left")
    return wide.select("version", "taken_on", "author", "overall", *areas(kind)).sort(
        "version", descending=True
    )


def _score(label: str, help_text: str | None = None) -> st.column_config.NumberColumn:
    return st.column_config.NumberColumn(label, format="%.1f", help=help_text)


def change_columns() -> dict:
    return {
        "area": st.column_config.TextColumn(t("page.assessments.col.area")),
        "score": _score(t("page.assessments.col.score"), t("page.assessments.col.score.help")),
        "previous": _score(t("page.assessments.col.previous")),
        "change": _score(t("page.assessments.col.change"), t("page.assessments.col.change.help")),
    }


def history_columns(kind: str) -> dict:
    return {
        "version": st.column_config.NumberColumn(t("page.assessments.col.version"), format="%d"),
        "taken_on": st.column_config.DateColumn(t("page.assessments.col.taken_on")),
        "author": st.column_config.TextColumn(t("page.assessments.col.author")),
        "overall": _score(
            t("page.assessments.col.overall"), t("page.assessments.col.overall.help")
        ),
        **{a: _score(area_label(a)) for a in areas(kind)},
    }

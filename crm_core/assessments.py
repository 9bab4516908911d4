"""Strategy and maturity self-assessments: Buttle's support conditions and QCi.

Two questionnaires, kept as data (`QUESTIONNAIRES`):

- **Support conditions** (Buttle's CRM value chain): the five conditions that let the
  primary stages work — leadership & culture, procurement processes, human resource
  management, IT/data management, organisation design. Buttle treats them as assessed,
  not computed from transactions.
- **QCi** (Competitive Quality Index, QCi Assessment Ltd.): a customer-*management*
  assessment across analysis & planning, the proposition, people & organisation,
  information & technology, process management, the customer experience and measuring
  the effect.

Each area holds 3–5 statements; the answer to a statement is a score on a five-point
Likert scale of agreement (`SCALE`: 1 = strongly disagree / not in place … 5 = strongly
agree / fully in place and reviewed), with an optional note. Question ids are stable
(`<area>.<slug>`), their text lives in the catalogue (`assessment.q.<id>`), so the wording
can be improved or translated without breaking saved answers.

Scores (`Assessment.area_scores`, `Assessment.overall`):

- area score = 100 · (mean of the area's answered scores − 1) / 4, a 0–100 scale where 0
  means every statement was answered 1 and 100 every statement 5; unanswered statements
  are left out; an area with no answer has no score (None);
- overall = the unweighted mean of the area scores that exist (each area weighs the same,
  however many statements it has); None when no area has a score.

Each saved assessment is a new version of the configuration (kind `KIND`, name = the
questionnaire) in the `configs` table, audited as `assessment.saved`; its date and author
are the version's `created_at` (local day) and `created_by`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb
import polars as pl

from crm_core.config_store import save_version
from crm_core.errors import VinculoError
from crm_core.summary import query_frame

KIND = "assessment"
"""The `configs.kind` of saved assessments (the name is the questionnaire)."""

SCALE: tuple[int, ...] = (1, 2, 3, 4, 5)
"""Likert scores; anchors in the catalogue (`assessment.scale.<n>`)."""

MAX_NOTE = 1000
"""Longest note kept with an answer (characters)."""

QUESTIONNAIRES: dict[str, dict[str, tuple[str, ...]]] = {
    "support_conditions": {
        "leadership_culture": (
            "executive_sponsor", "data_in_decisions", "shared_strategy", "learning_culture",
        ),
        "procurement": (
            "supplier_criteria", "partner_service_levels", "tool_requirements",
            "partner_data_exchange",
        ),
        "human_resources": ("hiring", "training", "incentives", "empowerment"),
        "it_data": (
            "single_view", "data_ownership", "integration", "privacy", "analytics_skills",
        ),
        "organisation_design": (
            "segment_owners", "cross_functional", "structure_fits", "feedback_route",
        ),
    },
    "qci": {
        "analysis_planning": (
            "value_known", "retention_drivers", "written_plan", "market_view",
        ),
        "proposition": ("segment_proposition", "tested", "staff_know", "reviewed"),
        "people_organisation": ("competencies", "clear_roles", "objectives", "partner_staff"),
        "information_technology": (
            "available", "data_quality", "systems_support", "data_protection",
        ),
        "process_management": ("documented", "measured", "complaints", "campaigns"),
        "customer_experience": ("measured", "consistent_channels", "recognised", "promise_kept"),
        "measuring_effect": ("kpis_targets", "profit_link", "comparison_groups", "action_taken"),
    },
}  # fmt: skip
"""Questionnaire → area → statement slugs, in display order (ids: `<area>.<slug>`)."""


def areas(kind: str) -> tuple[str, ...]:
    """The areas of questionnaire `kind`, in display order."""
    return tuple(_bank(kind))


def questions(kind: str) -> pl.DataFrame:
    """Every statement of `kind` in display order: `area`, `question` (its stable id)."""
    rows = [(a, f"{a}.{s}") for a, slugs in _bank(kind).items() for s in slugs]
    return pl.DataFrame(rows, schema={"area": pl.String, "question": pl.String}, orient="row")


def _bank(kind: str) -> dict[str, tuple[str, ...]]:
    if kind not in QUESTIONNAIRES:
        raise VinculoError("assessment.unknown_kind", kind=kind, allowed=", ".join(QUESTIONNAIRES))
    return QUESTIONNAIRES[kind]


def area_of(question: str) -> str:
    """The area of a question id (`<area>.<slug>`)."""
    return question.split(".", 1)[0]


@dataclass(frozen=True)
class Assessment:
    """One completed questionnaire.

    `answers`: question id → score (1–5, `SCALE`); `notes`: question id → free text (optional);
    `taken_on` / `author`: the day and person of the assessment (set from the store when
    loaded); `version`: its version in the store (None until saved). Construction validates:
    unknown questionnaire, unknown question ids, scores outside 1–5, notes longer than
    `MAX_NOTE` or an assessment without any answer raise `VinculoError`.
    """

    kind: str
    answers: dict[str, int]
    notes: dict[str, str] = field(default_factory=dict)
    taken_on: date | None = None
    author: str = ""
    version: int | None = None

    def __post_init__(self) -> None:
        known = set(questions(self.kind)["question"])
        unknown = sorted((set(self.answers) | set(self.notes)) - known)
        if unknown:
            raise VinculoError("assessment.unknown_questions", names=", ".join(unknown))
        if not self.answers:
            raise VinculoError("assessment.no_answers")
        for question, score in self.answers.items():
            if isinstance(score, bool) or not isinstance(score, int) or score not in SCALE:
                raise VinculoError("assessment.bad_score", question=question, value=score)
        for question, note in self.notes.items():
            if not isinstance(note, str) or len(note) > MAX_NOTE:
                raise VinculoError("assessment.bad_note", question=question, limit=MAX_NOTE)

    def area_scores(self) -> dict[str, float | None]:
        """Area → score 0–100: 100 · (mean answered score − 1) / 4; None when unanswered.

        Every area of the questionnaire is a key, in display order.
        """
        out: dict[str, float | None] = {}
        for area, slugs in _bank(self.kind).items():
            given = [self.answers[f"{area}.{s}"] for s in slugs if f"{area}.{s}" in self.answers]
            out[area] = 100.0 * (sum(given) / len(given) - 1.0) / 4.0 if given else None
        return out

    def overall(self) -> float | None:
        """Unweighted mean of the area scores that exist (0–100); None when none does."""
        scores = [s for s in self.area_scores().values() if s is not None]
        return sum(scores) / len(scores) if scores else None

    def to_json(self) -> str:
        """The stored body: answers and non-blank notes (date and author live in the store)."""
        notes = {q: n for q, n in self.notes.items() if n.strip()}
        return json.dumps({"answers": self.answers, "notes": notes}, sort_keys=True,
                          ensure_ascii=False)  # fmt: skip

    @classmethod
    def from_json(cls, kind: str, text: str, **meta: Any) -> Assessment:
        """An assessment of `kind` from `to_json`'s text; `meta`: taken_on, author, version."""
        try:
            data = json.loads(text)
            answers, notes = dict(data["answers"]), dict(data.get("notes", {}))
        except (TypeError, ValueError, KeyError) as exc:
            raise VinculoError("assessment.bad_json", detail=str(exc)) from exc
        return cls(kind, answers, notes, **meta)


def save_assessment(con: duckdb.DuckDBPyConnection, assessment: Assessment, actor: str) -> int:
    """Store `assessment` as the next version of its questionnaire; audited as
    `assessment.saved` (rows = statements answered). Returns the version number."""
    return save_version(con, KIND, assessment.kind, assessment.to_json(), actor,
                        "assessment.saved", rows=len(assessment.answers))  # fmt: skip


_VERSIONS_SQL = """
SELECT version, created_at::DATE AS taken_on, coalesce(created_by, '') AS author,
    body::VARCHAR AS body
FROM configs WHERE kind = $kind AND name = $name ORDER BY version
"""


def _versions(con: duckdb.DuckDBPyConnection, kind: str) -> list[Assessment]:
    """Every saved assessment of `kind`, oldest first (`taken_on` = local day of the save)."""
    _bank(kind)
    rows = query_frame(con, _VERSIONS_SQL, {"kind": KIND, "name": kind})
    return [
        Assessment.from_json(kind, body, taken_on=day, author=author, version=version)
        for version, day, author, body in rows.iter_rows()
    ]  # a handful of saved versions, not customer rows


def load_assessment(
    con: duckdb.DuckDBPyConnection, kind: str, version: int | None = None
) -> Assessment | None:
    """The saved assessment of `kind` at `version` (default: the latest).

    None when nothing has been saved for `kind`; an explicit version that does not exist
    raises `VinculoError("assessment.not_found")`.
    """
    saved = _versions(con, kind)
    if version is None:
        return saved[-1] if saved else None
    for assessment in saved:
        if assessment.version == version:
            return assessment
    raise VinculoError("assessment.not_found", kind=kind, version=version)


HISTORY_SCHEMA = {
    "version": pl.Int64, "taken_on": pl.Date, "author": pl.String, "area": pl.String,
    "score": pl.Float64,
}  # fmt: skip


def assessment_history(con: duckdb.DuckDBPyConnection, kind: str) -> pl.DataFrame:
    """Area scores of every saved assessment of `kind`: `version, taken_on, author, area,
    score` (0–100, null for an unanswered area), oldest version first, areas in order."""
    rows = [
        (a.version, a.taken_on, a.author, area, score)
        for a in _versions(con, kind)
        for area, score in a.area_scores().items()
    ]
    return pl.DataFrame(rows, schema=HISTORY_SCHEMA, orient="row")


def overall_history(history: pl.DataFrame) -> pl.DataFrame:
    """Overall score per version of an `assessment_history`: `version, taken_on, author,
    overall` (mean of the version's area scores that exist, 0–100), oldest first."""
    return (
        history.group_by("version", "taken_on", "author", maintain_order=True)
        .agg(overall=pl.col("score").mean())
        .sort("version")
    )


def area_changes(history: pl.DataFrame, version: int | None = None) -> pl.DataFrame:
    """Each area's score at `version` (default: the latest) against the version before it:
    `area, score, previous, change` (points on the 0–100 scale; null without a previous
    assessment or where either score is missing), areas in questionnaire order."""
    versions = history["version"].unique().sort().to_list()
    if version is None and versions:
        version = versions[-1]
    earlier = [v for v in versions if version is not None and v < version]
    now = history.filter(pl.col("version") == version).select("area", "score")
    before = history.filter(pl.col("version") == (earlier[-1] if earlier else -1))
    joined = now.join(
        before.select("area", previous="score"), on="area", how="left", maintain_order="left"
    )
    return joined.with_columns(change=pl.col("score") - pl.col("previous"))


def area_score_frame(assessment: Assessment | None, kind: str) -> pl.DataFrame:
    """`area, score` (0–100, null when unanswered) of `assessment`, every area of `kind` in
    order; all null when there is no assessment."""
    scores = assessment.area_scores() if assessment else dict.fromkeys(areas(kind))
    return pl.DataFrame(
        {"area": list(scores), "score": list(scores.values())},
        schema={"area": pl.String, "score": pl.Float64},
    )

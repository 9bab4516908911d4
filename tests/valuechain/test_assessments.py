"""Self-assessments: area scores by hand, validation, storage round trip, history."""

from __future__ import annotations

import json
from datetime import date

import duckdb
import polars as pl
import pytest

from crm_core.assessments import (
    QUESTIONNAIRES,
    Assessment,
    area_changes,
    area_score_frame,
    areas,
    assessment_history,
    load_assessment,
    overall_history,
    questions,
    save_assessment,
)
from crm_core.errors import VinculoError
from crm_core.i18n import catalogue


def _qci(**by_area: tuple[int, ...]) -> Assessment:
    """A QCi assessment answering the first statements of each named area with the scores."""
    answers = {}
    for area, scores in by_area.items():
        ids = questions("qci").filter(pl.col("area") == area)["question"].to_list()
        answers.update(dict(zip(ids, scores, strict=False)))
    return Assessment("qci", answers)


def test_banks_have_three_to_five_statements_per_area_with_text_in_both_languages() -> None:
    assert list(areas("support_conditions")) == [
        "leadership_culture", "procurement", "human_resources", "it_data", "organisation_design",
    ]  # fmt: skip
    assert len(areas("qci")) == 7
    for kind in QUESTIONNAIRES:
        bank = questions(kind)
        assert bank["question"].is_unique().all()
        sizes = bank.group_by("area").len()["len"]
        assert sizes.min() >= 3 and sizes.max() <= 5
        for lang in ("en", "pt_BR"):
            texts = catalogue(lang)
            for q in bank["question"]:
                assert texts[f"assessment.q.{q}"].strip(), (lang, q)
            for area in areas(kind):
                assert texts[f"assessment.area.{area}"], (lang, area)
    assert (
        catalogue("en")["assessment.q.leadership_culture.executive_sponsor"]
        != catalogue("pt_BR")["assessment.q.leadership_culture.executive_sponsor"]
    )


def test_area_scores_by_hand() -> None:
    # analysis & planning 4, 5, 3 → mean 4 → 100·(4−1)/4 = 75
    # proposition 1, 1 → 0; people & organisation 5 → 100; measuring the effect 2, 3 → 37.5
    a = _qci(
        analysis_planning=(4, 5, 3), proposition=(1, 1), people_organisation=(5,),
        measuring_effect=(2, 3),
    )  # fmt: skip
    scores = a.area_scores()
    assert list(scores) == list(areas("qci"))
    assert scores["analysis_planning"] == pytest.approx(75.0)
    assert scores["proposition"] == pytest.approx(0.0)
    assert scores["people_organisation"] == pytest.approx(100.0)
    assert scores["measuring_effect"] == pytest.approx(37.5)
    assert scores["customer_experience"] is None  # unanswered area: no score
    # overall: unweighted mean of the four scored areas = (75 + 0 + 100 + 37.5) / 4
    assert a.overall() == pytest.approx(53.125)


def test_every_statement_three_scores_fifty() -> None:
    a = Assessment(
        "support_conditions", dict.fromkeys(questions("support_conditions")["question"], 3)
    )
    assert set(a.area_scores().values()) == {50.0}
    assert a.overall() == 50.0
    frame = area_score_frame(a, "support_conditions")
    assert frame["area"].to_list() == list(areas("support_conditions"))
    assert area_score_frame(None, "qci")["score"].null_count() == 7


@pytest.mark.parametrize(
    ("kind", "answers", "notes", "key"),
    [
        ("qci", {"analysis_planning.value_known": 6}, {}, "assessment.bad_score"),
        ("qci", {"analysis_planning.value_known": 0}, {}, "assessment.bad_score"),
        ("qci", {"analysis_planning.value_known": 3.5}, {}, "assessment.bad_score"),
        ("qci", {"analysis_planning.value_known": True}, {}, "assessment.bad_score"),
        ("qci", {"analysis_planning.value_known": "4"}, {}, "assessment.bad_score"),
        ("qci", {"nonsense.q": 3}, {}, "assessment.unknown_questions"),
        # a support-conditions statement is unknown to QCi
        ("qci", {"it_data.single_view": 3}, {}, "assessment.unknown_questions"),
        ("qci", {"proposition.tested": 3}, {"made.up": "x"}, "assessment.unknown_questions"),
        (
            "qci",
            {"proposition.tested": 3},
            {"proposition.tested": "x" * 1001},
            "assessment.bad_note",
        ),
        ("qci", {}, {}, "assessment.no_answers"),
        ("maturity", {"x.y": 3}, {}, "assessment.unknown_kind"),
    ],
)
def test_invalid_assessments_are_refused(kind, answers, notes, key) -> None:
    with pytest.raises(VinculoError) as caught:
        Assessment(kind, answers, notes)
    assert caught.value.key == key
    assert caught.value.message("pt_BR") != caught.value.message("en")


def test_unknown_question_message_names_it_in_portuguese() -> None:
    with pytest.raises(VinculoError) as caught:
        Assessment("qci", {"nonsense.q": 3})
    assert "nonsense.q" in caught.value.message("pt_BR")
    assert caught.value.message("pt_BR").startswith("Estas perguntas")


def test_round_trip_through_the_store(con: duckdb.DuckDBPyConnection) -> None:
    assert load_assessment(con, "qci") is None
    first = _qci(analysis_planning=(2, 2), proposition=(3,))
    noted = Assessment("qci", first.answers, {"proposition.segment_proposition": "Só no varejo"})
    assert save_assessment(con, noted, "ana") == 1
    second = _qci(analysis_planning=(4, 4), proposition=(3,), customer_experience=(5, 5))
    assert save_assessment(con, second, "bruno") == 2

    latest = load_assessment(con, "qci")
    assert latest is not None
    assert (latest.version, latest.author, latest.answers) == (2, "bruno", second.answers)
    assert latest.taken_on == con.execute("SELECT current_date").fetchone()[0]
    back = load_assessment(con, "qci", 1)
    assert back is not None and back.notes == {"proposition.segment_proposition": "Só no varejo"}
    assert back.area_scores() == noted.area_scores()
    assert load_assessment(con, "support_conditions") is None
    with pytest.raises(VinculoError) as caught:
        load_assessment(con, "qci", 9)
    assert caught.value.key == "assessment.not_found"

    rows = con.execute(
        "SELECT kind, name, version, created_by, body FROM configs ORDER BY version"
    ).fetchall()
    assert [r[:4] for r in rows] == [
        ("assessment", "qci", 1, "ana"),
        ("assessment", "qci", 2, "bruno"),
    ]
    assert json.loads(rows[0][4])["answers"] == first.answers
    audit = con.execute(
        "SELECT actor, action, target, rows FROM audit_log WHERE action = 'assessment.saved' "
        "ORDER BY event_id"
    ).fetchall()
    assert audit == [("ana", "assessment.saved", "qci", 3), ("bruno", "assessment.saved", "qci", 5)]


def test_history_and_changes(con: duckdb.DuckDBPyConnection) -> None:
    save_assessment(con, _qci(analysis_planning=(2, 2), proposition=(3,)), "ana")
    save_assessment(con, _qci(analysis_planning=(4, 4), customer_experience=(5,)), "bruno")
    save_assessment(con, Assessment("support_conditions", {"it_data.privacy": 4}), "carla")
    history = assessment_history(con, "qci")
    assert history.columns == ["version", "taken_on", "author", "area", "score"]
    assert history.height == 14  # 2 versions × 7 areas
    today = con.execute("SELECT current_date").fetchone()[0]
    assert isinstance(today, date) and set(history["taken_on"]) == {today}
    v1 = history.filter(pl.col("version") == 1)
    assert v1["author"].unique().to_list() == ["ana"]
    assert dict(v1.select("area", "score").iter_rows())["analysis_planning"] == 25.0

    overall = overall_history(history)
    # v1: (25 + 50) / 2 = 37.5; v2: (75 + 100) / 2 = 87.5
    assert overall["overall"].to_list() == [37.5, 87.5]
    assert overall["author"].to_list() == ["ana", "bruno"]

    changes = area_changes(history)
    by_area = {r["area"]: r for r in changes.iter_rows(named=True)}
    assert by_area["analysis_planning"]["change"] == 50.0  # 25 → 75
    assert by_area["proposition"]["score"] is None and by_area["proposition"]["change"] is None
    assert by_area["customer_experience"]["previous"] is None
    first = area_changes(history, version=1)
    assert first["previous"].null_count() == 7  # nothing before version 1
    support = assessment_history(con, "support_conditions")
    assert support["version"].unique().to_list() == [1] and support.height == 5
    assert (
        assessment_history(con, "support_conditions")
        .filter(pl.col("area") == "it_data")["score"]
        .item()
        == 75.0
    )

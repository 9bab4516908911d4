"""Assessments page on the demo store: answers saved as audited versions, charts equal crm_core."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crm_core import store
from crm_core.assessments import (
    Assessment,
    areas,
    assessment_history,
    load_assessment,
    overall_history,
    questions,
    save_assessment,
)
from crm_core.i18n.format import format_number
from tests.pages.conftest import metric_values, open_page

PAGE = "pages/assessments.py"
QCI_ANSWERS = {
    "analysis_planning.value_known": 4,
    "analysis_planning.retention_drivers": 2,
    "proposition.tested": 5,
    "customer_experience.recognised": 1,
    "measuring_effect.kpis_targets": 3,
}


def _key(kind: str, question: str) -> str:
    return f"assess_q_{kind}_{question}"


def _answer(at, kind: str, answers: dict[str, int], notes: dict[str, str] | None = None):
    """Pick `kind`, set the radios (and notes), submit the form."""
    if at.selectbox(key="assess_kind").value != kind:
        at.selectbox(key="assess_kind").set_value(kind).run()
    for question, score in answers.items():
        at.radio(key=_key(kind, question)).set_value(score)
    for question, note in (notes or {}).items():
        at.text_input(key=f"assess_note_{kind}_{question}").set_value(note)
    at.button(key="assess_submit").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _traces(at, key: str) -> list[dict]:
    for chart in at.get("plotly_chart"):
        if chart.proto.id and key in chart.proto.id or chart.key == key:
            return json.loads(chart.proto.spec)["data"]
    raise AssertionError(f"no chart {key}")


def _radar_values(trace: dict) -> list[float | None]:
    """A radar trace's r values without the closing point."""
    return trace["r"][:-1]


def test_answering_and_saving_writes_an_audited_version(demo_db: Path) -> None:
    at = open_page(PAGE, lang="en")
    assert "No assessment of this questionnaire" in at.info[0].value
    assert at.selectbox(key="assess_kind").value == "support_conditions"
    assert len(at.radio) == questions("support_conditions").height
    assert all(r.value is None for r in at.radio)  # nothing pre-filled without a saved version

    _answer(at, "qci", QCI_ANSWERS, {"proposition.tested": "A/B test per segment"})
    assert at.success[0].value == 'Saved "Customer management (QCi)" as version 1.'
    with store.connect(demo_db) as con:
        rows = con.execute(
            "SELECT kind, name, version, created_by, body FROM configs WHERE kind = 'assessment'"
        ).fetchall()
        audit = con.execute(
            "SELECT actor, action, target, rows, detail FROM audit_log "
            "WHERE action = 'assessment.saved'"
        ).fetchall()
        saved = load_assessment(con, "qci")
    assert [r[:3] for r in rows] == [("assessment", "qci", 1)]
    assert json.loads(rows[0][4]) == {
        "answers": QCI_ANSWERS, "notes": {"proposition.tested": "A/B test per segment"},
    }  # fmt: skip
    assert len(audit) == 1
    actor, action, target, n, detail = audit[0]
    assert (action, target, n, json.loads(detail)) == ("assessment.saved", "qci", 5, {"version": 1})
    assert actor and actor == rows[0][3]  # the signed-in user, in both places

    # the radar shows exactly crm_core's area scores, in questionnaire order
    assert saved is not None
    expected = saved.area_scores()
    (latest,) = _traces(at, "assess_radar")
    assert latest["name"].startswith("Latest (v1 · ")
    assert _radar_values(latest) == [expected[a] for a in areas("qci")]
    # 4, 2 → mean 3 → 50; 5 → 100; 1 → 0; 3 → 50
    assert expected["analysis_planning"] == 50.0 and expected["customer_experience"] == 0.0
    metrics = metric_values(at)
    assert metrics["Overall score"] == format_number(saved.overall(), "en", 1) == "50.0"
    assert metrics["Statements answered"] == "5 of 28"
    assert metrics["Author"] == actor


def test_a_second_save_shows_the_change_and_the_history(demo_db: Path) -> None:
    at = open_page(PAGE, lang="en")
    _answer(at, "qci", QCI_ANSWERS)
    # the form starts from the saved answers: change two of them
    assert at.radio(key=_key("qci", "proposition.tested")).value == 5
    _answer(at, "qci", {"analysis_planning.retention_drivers": 4, "proposition.tested": 3})
    assert at.success[0].value.endswith("as version 2.")
    with store.connect(demo_db) as con:
        history = assessment_history(con, "qci")
        latest = load_assessment(con, "qci")
    assert latest is not None and latest.answers["analysis_planning.retention_drivers"] == 4
    now, before = _traces(at, "assess_radar")
    assert before["name"].startswith("Previous (v1")
    assert _radar_values(before)[0] == 50.0 and _radar_values(now)[0] == 75.0
    changes = at.dataframe[0].value
    assert changes["area"].tolist()[0] == "Analysis & planning"
    assert changes["change"].tolist()[:2] == [25.0, -50.0]  # 50 → 75; 100 → 50
    overall = overall_history(history)["overall"].to_list()
    assert _traces(at, "assess_overall")[0]["y"] == pytest.approx(overall)
    metric = next(m for m in at.metric if m.label == "Overall score")
    assert metric.value == format_number(overall[-1], "en", 1)
    assert metric.delta == format_number(overall[-1] - overall[-2], "en", 1)
    table = at.dataframe[1].value
    assert table["version"].tolist() == [2, 1]
    assert table["overall"].tolist() == pytest.approx(overall[::-1])
    assert table["analysis_planning"].tolist() == [75.0, 50.0]


def test_a_new_session_sees_the_saved_scores(demo_db: Path) -> None:
    first = open_page(PAGE, lang="en")
    _answer(first, "support_conditions", {"it_data.privacy": 4, "it_data.single_view": 2},
            {"it_data.privacy": "DPO named"})  # fmt: skip
    restarted = open_page(PAGE, lang="en")  # a fresh AppTest: a new session, nothing cached
    assert restarted.radio(key=_key("support_conditions", "it_data.privacy")).value == 4
    assert restarted.radio(key=_key("support_conditions", "it_data.single_view")).value == 2
    assert (
        restarted.radio(key=_key("support_conditions", "procurement.tool_requirements")).value
        is None
    )
    note = restarted.text_input(key="assess_note_support_conditions_it_data.privacy")
    assert note.value == "DPO named"
    (latest,) = _traces(restarted, "assess_radar")
    it_data = list(areas("support_conditions")).index("it_data")
    assert _radar_values(latest)[it_data] == 50.0  # (4 + 2) / 2 = 3 → 50
    assert metric_values(restarted)["Overall score"] == "50.0"


def test_an_earlier_version_can_join_the_radar(demo_db: Path) -> None:
    with store.connect(demo_db) as con:
        for author, score in (("ana", 1), ("bruno", 3), ("carla", 5)):
            save_assessment(con, Assessment("qci", {"proposition.tested": score}), author)
    at = open_page(PAGE, lang="en")
    at.selectbox(key="assess_kind").set_value("qci").run()
    assert len(_traces(at, "assess_radar")) == 2  # latest and previous
    picker = at.selectbox(key="assess_compare_qci")
    assert picker.options[1].startswith("v1 · ") and picker.options[1].endswith(" · ana")
    picker.set_value(1).run()
    traces = _traces(at, "assess_radar")
    assert [t["name"].split(" (")[0] for t in traces] == ["Latest", "Previous", "Chosen"]
    proposition = list(areas("qci")).index("proposition")
    assert [_radar_values(t)[proposition] for t in traces] == [100.0, 50.0, 0.0]


def test_saving_nothing_is_refused_with_a_message(demo_db: Path) -> None:
    at = open_page(PAGE, lang="en")
    at.button(key="assess_submit").click().run()
    assert not at.exception
    assert at.error[0].value == "Answer at least one statement before saving."
    with store.connect(demo_db) as con:
        assert con.execute("SELECT count(*) FROM configs WHERE kind = 'assessment'").fetchone() == (
            0,
        )


def test_a_manager_reads_but_cannot_save(demo_db: Path) -> None:
    with store.connect(demo_db) as con:
        save_assessment(con, Assessment("support_conditions", {"it_data.privacy": 5}), "ana")
    at = open_page(PAGE, lang="en", role="manager")
    assert metric_values(at)["Overall score"] == "100.0"
    button = at.button(key="assess_submit")
    assert button.disabled and "may read the assessments but not save" in button.help


def test_portuguese(demo_db: Path) -> None:
    at = open_page(PAGE, lang="pt_BR")
    assert at.title[0].value == "Avaliações"
    radio = at.radio(key=_key("support_conditions", "human_resources.training"))
    assert radio.options[3] == "4 · Concordo"
    assert radio.label.startswith("A equipe é treinada regularmente")
    at.button(key="assess_submit").click().run()
    assert at.error[0].value == "Responda a pelo menos uma afirmação antes de salvar."
    _answer(at, "qci", {"analysis_planning.value_known": 4, "proposition.tested": 2})
    assert at.success[0].value == '"Gestão de clientes (QCi)" salva como versão 1.'
    assert metric_values(at)["Nota geral"] == "50,0"  # (75 + 25) / 2
    changes = at.dataframe[0].value
    assert changes["area"].tolist()[:2] == ["Análise e planejamento", "Proposta de valor"]


def test_empty_store(empty_db: Path) -> None:
    at = open_page(PAGE, lang="en")
    assert not at.exception
    assert "No assessment" in at.info[0].value  # no orders needed to assess the company
    _answer(at, "support_conditions", {"leadership_culture.executive_sponsor": 5})
    assert at.success and metric_values(at)["Overall score"] == "100.0"

"""Payne & Frow processes page on the demo store: the scorecard equals crm_core.processes."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from crm_core import store
from crm_core.assessments import Assessment, save_assessment
from crm_core.clv import fit_clv
from crm_core.i18n.format import format_number, format_percent
from crm_core.processes import (
    COMPONENTS,
    PROCESSES,
    inputs_of,
    measure_parts,
    process_scores,
    scorecard,
)
from crm_core.segment_store import latest_config
from crm_core.settings import BusinessSettings, save_settings
from tests.pages.conftest import open_page

PAGE = "pages/processes.py"
NAMES = {
    "strategy_development": "Strategy development",
    "value_creation": "Value creation",
    "multichannel_integration": "Multichannel integration",
    "performance_assessment": "Performance assessment",
    "information_management": "Information management",
}


def _prepare(db: Path) -> None:
    """Targets in Settings and both assessments saved, so every process has components."""
    targets = {"active_customers": 500.0, "csat": 0.6, "nps": 90.0, "average_clv": 3000.0}
    qci = {"analysis_planning.value_known": 4, "proposition.tested": 3,
           "customer_experience.recognised": 2, "measuring_effect.kpis_targets": 5}  # fmt: skip
    with store.connect(db) as con:
        save_settings(con, BusinessSettings(targets=targets), "ana")
        save_assessment(con, Assessment("qci", qci), "ana")
        save_assessment(con, Assessment("support_conditions", {"it_data.privacy": 4}), "ana")


def _expected(db: Path, at) -> tuple[pl.DataFrame, pl.DataFrame]:
    """crm_core's scorecard at the page's as-of date and period (same CLV model settings)."""
    f = at.session_state["_filters"]
    with store.connect(db) as con:
        config, _ = latest_config(con)
        clv = fit_clv(con, calibration_end=f.as_of).customers.select("customer_id", "clv")
        parts = measure_parts(con, f.as_of, f.period, config, clv)
    components = scorecard(inputs_of(parts))
    return components, process_scores(components)


@pytest.fixture(scope="module")
def english(demo_template: Path, tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("processes") / "crm.duckdb"
    path.write_bytes(demo_template.read_bytes())
    _prepare(path)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CRM_DB", str(path))
        at = open_page(PAGE, lang="en")
        yield at, *_expected(path, at)


def _table(at, process: str):
    """The component table of `process` (one per process, in `PROCESSES` order)."""
    tables = [d.value for d in at.dataframe if list(d.value.columns)[:2] == ["component", "value"]]
    assert len(tables) == len(PROCESSES)
    return tables[PROCESSES.index(process)]


def _radar(at) -> dict:
    chart = next(c for c in at.get("plotly_chart") if c.key == "proc_radar")
    return json.loads(chart.proto.spec)["data"][0]


def test_process_scores_equal_crm_core(english) -> None:
    at, components, scores = english
    assert scores["score"].null_count() == 0  # every process has a scored component here
    metrics = {m.label: m.value for m in at.metric}
    for row in scores.iter_rows(named=True):
        assert metrics[NAMES[row["process"]]] == format_number(row["score"], "en", 1)
    radar = _radar(at)
    assert radar["r"][:-1] == pytest.approx(scores["score"].to_list())
    assert radar["theta"][:-1] == [NAMES[p] for p in PROCESSES]
    lights = {"green": "Good", "amber": "Needs attention", "red": "Weak"}
    shown = " ".join(m.value for m in at.markdown)
    for light in scores["light"]:
        assert lights[light] in shown


def test_component_tables_equal_crm_core(english) -> None:
    at, components, _ = english
    for process in PROCESSES:
        mine = components.filter(pl.col("process") == process)
        table = _table(at, process)
        assert len(table) == mine.height
        got = [None if pd_isnan(x) else x for x in table["score"].tolist()]
        assert got == pytest.approx(mine["score"].to_list(), nan_ok=True)
    value = dict(components.select("component", "value").iter_rows())
    strategy = _table(at, "strategy_development")
    assert strategy["component"].tolist()[:2] == [
        "Buyers in a defined segment and tier", "Active Customize rules",
    ]  # fmt: skip
    assert strategy["value"].tolist()[:2] == [
        format_percent(value["segmented_share"], "en"), format_number(value["active_rules"], "en"),
    ]  # fmt: skip
    info = _table(at, "information_management")
    assert info["value"].tolist()[:2] == [
        format_percent(value["quality_score"], "en"), format_percent(value["duplicate_rate"], "en"),
    ]  # fmt: skip
    assert info["component"].tolist()[2] == "Support conditions: IT & data management"
    assert info["value"].tolist()[2] == "75.0"  # privacy 4 → 75


def test_every_component_links_to_its_page(english) -> None:
    at, _, _ = english
    links = {link.proto.page: link.proto for link in at.get("page_link")}
    assert {c.page for c in COMPONENTS} <= set(links)
    assert links["clv"].label == "Open CLV models"
    assert links["clv"].query_string == "lang=en"  # the language travels with the link


def test_targets_and_channels_tables(english) -> None:
    at, components, _ = english
    targets = next(d.value for d in at.dataframe if list(d.value.columns)[0] == "kpi")
    assert targets["kpi"].tolist()[:2] == ["New customers", "Active customers"]
    status = dict(zip(targets["kpi"], targets["status"], strict=True))
    assert status["New customers"] == "No target"
    on_target = components.filter(pl.col("component") == "kpis_on_target")["value"].item()
    judged = [s for s in targets["status"] if s in ("On track", "Behind")]
    assert len(judged) == 4 and judged.count("On track") / 4 == pytest.approx(on_target)
    assert not at.info  # targets are set: no hint to set them


def test_saving_an_assessment_shows_without_a_data_change(demo_db: Path) -> None:
    at = open_page(PAGE, lang="en")
    before = _table(at, "value_creation")
    assert pd_isnan(before["score"].tolist()[-1])  # QCi proposition: not answered yet
    assert "No KPI target is set yet" in at.info[0].value
    with store.connect(demo_db) as con:
        save_assessment(con, Assessment("qci", {"proposition.tested": 4}), "ana")
    # The next run of the app (AppTest's own rerun skips app.py, which reads the
    # configurations' fingerprint) must show it although the data version did not move.
    again = open_page(PAGE, lang="en")
    assert _table(again, "value_creation")["score"].tolist()[-1] == 75.0


def test_portuguese(demo_db: Path) -> None:
    at = open_page(PAGE, lang="pt_BR")
    assert at.title[0].value == "Processos de Payne & Frow"
    components, scores = _expected(demo_db, at)
    metrics = {m.label: m.value for m in at.metric}
    info = scores.filter(pl.col("process") == "information_management")["score"].item()
    assert metrics["Gestão da informação"] == format_number(info, "pt_BR", 1)
    assert "," in metrics["Gestão da informação"]
    assert metrics["Avaliação de desempenho"] == "—"  # no target, no assessment
    assert "Dados insuficientes" in " ".join(m.value for m in at.markdown)
    table = _table(at, "information_management")
    quality = components.filter(pl.col("component") == "quality_score")["value"].item()
    assert table["value"].tolist()[0] == format_percent(quality, "pt_BR")
    assert table["component"].tolist()[0] == "Nota de qualidade dos dados"


def test_empty_store(empty_db: Path) -> None:
    at = open_page(PAGE, lang="en")
    assert not at.exception
    assert at.info and "No orders" in at.info[0].value
    assert not at.metric and not at.dataframe


def pd_isnan(x: object) -> bool:
    return isinstance(x, float) and x != x

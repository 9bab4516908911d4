"""Identity resolution page on the demo store: numbers equal crm_core's, writes are audited."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from crm_core import store
from crm_core.i18n.format import format_number, format_percent
from crm_core.identity import (
    MatchConfig,
    auto_clusters,
    candidate_pairs,
    evaluate_against_truth,
    match_counts,
    record_ranking,
)
from crm_core.identity_review import resolution_overview, review_queue
from crm_core.summary import customer_summary
from tests.pages.conftest import DEMO_AS_OF, DEMO_CUSTOMERS, metric_values, open_page

PAGE = "pages/identity.py"
THRESHOLD, FLOOR = MatchConfig.auto_threshold, MatchConfig.review_floor


def _expected(db: Path, threshold: float = THRESHOLD) -> tuple[dict, pl.DataFrame, pl.DataFrame]:
    """crm_core's overview, candidate pairs and review queue of the store at `db`."""
    with store.connect(db) as con:
        pairs = candidate_pairs(con)
        ranking = record_ranking(con)
        overview = resolution_overview(con, pairs, ranking, threshold, FLOOR)
        queue = review_queue(con, pairs, ranking, threshold, FLOOR)
    return overview, pairs, queue


def _table(at, key: str):
    """The dataframe with `key` (selectable tables) or whose first column is `key`."""
    for frame in at.dataframe:
        if frame.key == key or (frame.key is None and frame.value.columns[0] == key):
            return frame.value
    raise AssertionError(f"no table {key}")


def _ids(urls) -> list[str]:
    return [u.split("customer=")[1].split("&")[0] for u in urls]


def _bars(at) -> dict[str, list[int]]:
    chart = next(c for c in at.get("plotly_chart"))
    return {trace["name"]: trace["x"] for trace in json.loads(chart.proto.spec)["data"]}


def _select(at, key: str, rows: list[int]) -> None:
    at.session_state[key] = {"selection": {"rows": rows, "columns": []}}
    at.run()
    assert not at.exception, [e.value for e in at.exception]


def _identity_actions(con, columns: str = "action") -> list[tuple]:
    """Identity events of the audit log, oldest first."""
    return con.execute(
        f"SELECT {columns} FROM audit_log WHERE action LIKE 'identity.%' ORDER BY event_id"
    ).fetchall()


def _count(db: Path, sql: str) -> int:
    with store.connect(db) as con:
        return int(store.scalar(con, sql))


@pytest.fixture(scope="module")
def english(demo_template: Path, tmp_path_factory: pytest.TempPathFactory):
    """The page in English on a private demo copy (read only), and crm_core's numbers."""
    path = tmp_path_factory.mktemp("identity") / "crm.duckdb"
    path.write_bytes(demo_template.read_bytes())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CRM_DB", str(path))
        yield open_page(PAGE, lang="en"), path


def test_metrics_equal_crm_core(english) -> None:
    at, path = english
    ov, pairs, _ = _expected(path)
    assert ov["customers"] == DEMO_CUSTOMERS and ov["links"] > 0
    metrics = metric_values(at)
    assert metrics["Customer records"] == format_number(ov["customers"], "en")
    assert metrics["Golden records"] == format_number(ov["golden_records"], "en")
    assert metrics["Merged records"] == "0"
    assert metrics["Candidate pairs"] == format_number(ov["candidates"], "en")
    assert metrics["Duplicate rate now"] == format_percent(ov["duplicate_rate"], "en")
    after = metrics["After the automatic merges"]
    assert after == format_percent(ov["duplicate_rate_after"], "en")
    assert ov["duplicate_rate_after"] < ov["duplicate_rate"]
    delta = next(m.delta for m in at.metric if m.label == "After the automatic merges")
    change = (ov["duplicate_rate_after"] - ov["duplicate_rate"]) * 100
    assert delta == f"{format_number(change, 'en', 1)} pp"  # percentage points
    with store.connect(path) as con:
        scores = evaluate_against_truth(con, auto_clusters(pairs, THRESHOLD))
    assert metrics["Precision (seeded truth)"] == format_percent(scores["precision"], "en")
    assert metrics["Recall (seeded truth)"] == format_percent(scores["recall"], "en")
    assert scores["precision"] >= 0.99 and scores["recall"] >= 0.97


def test_rule_chart_and_review_queue_equal_crm_core(english) -> None:
    at, path = english
    ov, pairs, queue = _expected(path)
    counts = match_counts(pairs.filter(pl.col("score") >= FLOOR), THRESHOLD)
    bars = _bars(at)
    assert bars["Automatic"] == counts["auto"].to_list()
    assert bars["For review"] == counts["review"].to_list()
    assert sum(bars["Automatic"]) == ov["auto_pairs"]
    shown = _table(at, "identity_queue")
    assert queue.height == ov["review_pairs"] > 0
    assert _ids(shown["url_a"]) == queue["customer_id_a"].to_list()
    assert _ids(shown["url_b"]) == queue["customer_id_b"].to_list()
    assert shown["score"].tolist() == pytest.approx(queue["score"].to_list())
    assert shown["name_a"].tolist() == queue["name_a"].to_list()
    assert shown["url_a"].str.startswith("customers?").all() and "lang=en" in shown["url_a"][0]
    assert set(shown["rule"]) <= {"Similar name, same city", "Similar name, same CEP",
                                  "Same phone", "Same e-mail"}  # fmt: skip


def test_threshold_slider_moves_pairs_out_of_review(demo_db: Path) -> None:
    at = open_page(PAGE, lang="en")
    at.slider(key="identity_threshold").set_value(0.8).run()
    assert not at.exception
    ov, _, queue = _expected(demo_db, threshold=0.8)
    before = _expected(demo_db)[0]
    assert ov["review_pairs"] < before["review_pairs"] and ov["links"] > before["links"]
    metrics = metric_values(at)
    assert metrics["After the automatic merges"] == format_percent(ov["duplicate_rate_after"], "en")
    assert _table(at, "identity_queue").shape[0] == queue.height
    assert f"writes {ov['links']} links" in " ".join(c.value for c in at.caption)


def test_auto_merge_writes_links_and_is_audited(demo_db: Path) -> None:
    at = open_page(PAGE, lang="en")
    ov, _, _ = _expected(demo_db)
    at.button(key="identity_apply").click().run()
    assert at.warning and format_number(ov["links"], "en") in at.warning[0].value
    assert _count(demo_db, "SELECT count(*) FROM identity_links") == 0  # not before confirming
    at.button(key="identity_apply_yes").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert f"{ov['links']} links written" in at.success[0].value
    active = "SELECT count(*) FROM identity_links WHERE unlinked_at IS NULL"
    assert _count(demo_db, active) == ov["links"]
    with store.connect(demo_db) as con:
        event = con.execute(
            "SELECT actor, rows FROM audit_log WHERE action = 'identity.merge_clusters'"
        ).fetchall()
        summary = customer_summary(con, DEMO_AS_OF)
    assert event == [("admin", ov["links"])]
    golden = DEMO_CUSTOMERS - ov["links"]
    assert summary.height == golden  # analytics count golden records
    metrics = metric_values(at)
    assert metrics["Golden records"] == format_number(golden, "en")
    assert metrics["Merged records"] == format_number(ov["links"], "en")
    assert at.button(key="identity_apply").disabled  # nothing left to merge automatically
    assert _table(at, "identity_history").shape[0] == ov["clusters"]
    assert "Automatic merges" in _table(at, "logged_at")["action"].tolist()


def test_rejected_pair_leaves_the_queue(demo_db: Path) -> None:
    at = open_page(PAGE, lang="en")
    _, _, queue = _expected(demo_db)
    first = queue.row(0, named=True)
    _select(at, "identity_queue", [0])
    assert "Pairs selected: 1" in [c.value for c in at.caption]
    at.button(key="identity_reject").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "1 pairs marked" in at.success[0].value
    with store.connect(demo_db) as con:
        stored = con.execute(
            "SELECT customer_id_a, customer_id_b, decided_by FROM identity_rejections"
        ).fetchall()
        actions = _identity_actions(con, "action, actor")
    assert stored == [(first["customer_id_a"], first["customer_id_b"], "admin")]
    assert actions == [("identity.reject", "admin")]
    shown = _table(at, "identity_queue")
    assert first["customer_id_a"] not in _ids(shown["url_a"])
    assert shown.shape[0] == queue.height - 1
    assert _expected(demo_db)[2].height == queue.height - 1  # crm_core agrees


def test_merge_a_reviewed_pair_then_unmerge_restores(demo_db: Path) -> None:
    at = open_page(PAGE, lang="en")
    _, _, queue = _expected(demo_db)
    first = queue.row(0, named=True)
    _select(at, "identity_queue", [0])
    at.radio(key="identity_side").set_value("b").run()
    at.button(key="identity_merge").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "1 links written" in at.success[0].value
    with store.connect(demo_db) as con:
        links = con.execute(
            "SELECT customer_id, golden_id, rule FROM identity_links WHERE unlinked_at IS NULL"
        ).fetchall()
        assert customer_summary(con, DEMO_AS_OF).height == DEMO_CUSTOMERS - 1
    assert links == [(first["customer_id_a"], first["customer_id_b"], "manual")]
    history = _table(at, "identity_history")
    assert _ids(history["url"]) == [first["customer_id_b"]]
    assert history["member_ids"].tolist() == [first["customer_id_a"]]
    assert metric_values(at)["Merged records"] == "1"

    _select(at, "identity_history", [0])
    at.selectbox(key="identity_unmerge_who").set_value(f"Only {first['customer_id_a']}").run()
    at.button(key="identity_unmerge").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "1 links closed" in at.success[0].value
    with store.connect(demo_db) as con:
        assert customer_summary(con, DEMO_AS_OF).height == DEMO_CUSTOMERS
        actions = _identity_actions(con)
    assert actions == [("identity.merge",), ("identity.unmerge",)]
    assert _count(demo_db, "SELECT count(*) FROM identity_links WHERE unlinked_at IS NULL") == 0
    assert metric_values(at)["Merged records"] == "0"
    assert at.info and "No record is merged yet." in [i.value for i in at.info]
    assert _table(at, "identity_queue").shape[0] == queue.height  # the pair is offered again


def test_no_truth_no_precision(demo_db: Path) -> None:
    with store.connect(demo_db) as con:
        con.execute("DELETE FROM demo_truth")
    at = open_page(PAGE, lang="en")
    labels = metric_values(at)
    assert "Customer records" in labels
    assert not any("seeded truth" in label for label in labels)


def test_portuguese(demo_db: Path) -> None:
    at = open_page(PAGE, lang="pt_BR")
    ov, _, _ = _expected(demo_db)
    assert at.title[0].value == "Resolução de identidade"
    metrics = metric_values(at)
    assert metrics["Cadastros de clientes"] == "4.000"
    rate = metrics["Taxa de duplicidade hoje"]
    assert rate == format_percent(ov["duplicate_rate"], "pt_BR") and "," in rate
    assert "Precisão (gabarito)" in metrics
    assert set(_bars(at)) == {"Automáticos", "Para revisão"}
    assert any("0,90" in c.value for c in at.caption)
    at.button(key="identity_apply").click().run()
    assert "Unificar" in at.warning[0].value
    assert at.button(key="identity_apply_yes").label == "Sim, unificar"


def test_empty_store(empty_db: Path) -> None:
    at = open_page(PAGE, lang="en")
    assert not at.exception
    assert at.info and "No orders" in at.info[0].value
    assert not at.metric

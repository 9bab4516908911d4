"""Customer intimacy page on the demo store: what it shows equals crm_core's numbers."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from crm_core import feedback_themes as ft
from crm_core import intimacy as im
from crm_core import quality, store
from crm_core.clv import fit_clv
from crm_core.i18n.format import format_number, format_percent
from crm_core.period import Period
from crm_core.segment_store import latest_config
from crm_core.segments import segment_customers, segment_label
from crm_core.summary import customer_summary
from tests.pages.conftest import open_page, rendered_table

PAGE = "pages/intimacy.py"


@dataclass
class Expected:
    as_of: date
    period: Period
    capture: im.Capture
    history: pl.DataFrame
    profile: pl.DataFrame
    summary: pl.DataFrame
    segmented: pl.DataFrame
    answers: pl.DataFrame
    activity: list[tuple]


def _expected(db: Path, as_of: date, period: Period, subset: pl.DataFrame | None = None):
    """The page's numbers computed with crm_core alone."""
    with store.connect(db) as con:
        config, _ = latest_config(con)
        summary = customer_summary(con, as_of, window_days=config.window_days)
        clv = fit_clv(con, calibration_end=as_of).customers
        facts = im.touchpoint_capture(con, as_of, subset)
        checks = quality.customer_checks(con)
        history = im.profile_history(con)
        answers = ft.classify_feedback(ft.load_feedback(con, max(as_of, period.end), subset))
        activity = im.activity_changes(con, period, subset)
    if subset is not None:
        checks = checks.join(subset, on="customer_id", how="semi")
        history = history.join(subset, on="customer_id", how="semi")
    capture = im.combine(facts, im.record_capture(checks, quality.completeness(checks), facts.base))
    profile = im.profile_completeness(history, as_of)
    segmented = segment_customers(summary, config, clv)
    return Expected(as_of, period, capture, history, profile, summary, segmented, answers,
                    activity)  # fmt: skip


def _filters(at):
    return at.session_state["_filters"]


def _metrics(at) -> list[tuple[str, str]]:
    return [(m.label, m.value) for m in at.metric]


def _charts(at) -> dict[str, list[dict]]:
    return {
        chart.proto.id.rsplit("-", 1)[-1]: json.loads(chart.proto.spec)["data"]
        for chart in at.get("plotly_chart")
    }


@pytest.fixture(scope="module")
def english(demo_template: Path, tmp_path_factory: pytest.TempPathFactory):
    """The page in English on a private demo copy, and crm_core's numbers for it."""
    path = tmp_path_factory.mktemp("intimacy") / "crm.duckdb"
    path.write_bytes(demo_template.read_bytes())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CRM_DB", str(path))
        at = open_page(PAGE, lang="en")
        f = _filters(at)
        yield at, _expected(path, f.as_of, f.period)


def test_touchpoint_table_and_heatmap_equal_crm_core(english) -> None:
    at, exp = english
    tp = exp.capture.touchpoints
    shown = rendered_table(at, "touchpoint", "records", "coverage")
    assert len(shown) == tp.height
    assert shown["records"].tolist() == tp["records"].to_list()
    assert shown["customers"].tolist() == tp["customers"].to_list()
    assert shown["coverage"].tolist() == pytest.approx(tp["coverage"].to_list())
    assert "Orders · Online store" in shown["touchpoint"].tolist()
    assert "Customer records · Demo data" in shown["touchpoint"].tolist()
    heat = _charts(at)["intimacy_capture"][0]
    assert [row[0] for row in heat["z"]] == pytest.approx(tp["coverage"].to_list())
    first_orders = tp["touchpoint"][0]
    share = exp.capture.fields.filter(
        (pl.col("kind") == "orders") & (pl.col("touchpoint") == first_orders)
        & (pl.col("field") == "category")
    )["share"][0]  # fmt: skip
    assert heat["z"][0][heat["x"].index("Category")] == share


def test_profile_numbers_equal_crm_core(english) -> None:
    at, exp = english
    stats = im.completeness_stats(exp.profile)
    metrics = dict(_metrics(at))
    assert metrics["Mean completeness"] == format_percent(stats["mean"], "en")
    assert metrics["Complete profiles"] == format_percent(stats["complete"], "en")
    assert metrics["Under 50 % complete"] == format_percent(stats["below_half"], "en")
    bands = im.completeness_bands(exp.profile)
    assert _charts(at)["intimacy_bands"][0]["y"] == bands["customers"].to_list()
    coverage = im.field_coverage(exp.profile)
    traces = _charts(at)["intimacy_coverage"]
    assert [x for trace in traces for x in trace["x"]] == pytest.approx(coverage["share"].to_list())


def test_completeness_by_segment_and_tier(english) -> None:
    at, exp = english
    for by in ("segment", "tier"):
        at.segmented_control(key="intimacy_by").set_value(by).run()
        want = im.completeness_by(exp.profile, exp.segmented, by)
        shown = rendered_table(at, by, "customers", "completeness")
        assert shown[by].tolist() == [segment_label(x, "en") for x in want[by]]
        assert shown["customers"].tolist() == want["customers"].to_list()
        assert shown["completeness"].tolist() == pytest.approx(want["completeness"].to_list())


def test_least_known_customers(english) -> None:
    at, exp = english
    want = im.least_known(exp.profile, exp.summary, 0.6)
    shown = rendered_table(at, "customer_id", "missing")
    ids = [re.search(r"customer=([^&]+)", link).group(1) for link in shown["customer_id"]]
    assert ids == want["customer_id"].to_list()
    assert shown["revenue"].tolist() == pytest.approx(want["revenue"].to_list())


def _window(exp: Expected, start: date) -> pl.DataFrame:
    return exp.answers.filter(pl.col("day").is_between(start, exp.as_of))


def test_feedback_themes_equal_crm_core(english) -> None:
    at, exp = english
    year = _window(exp, exp.as_of - timedelta(days=364))
    metrics = _metrics(at)
    assert ("Survey answers", format_number(year.height, "en")) in metrics
    assert ("Topic not recognised", format_percent(0.0, "en")) in metrics  # demo: all known
    summary = ft.theme_summary(year)
    shown = rendered_table(at, "topic", "comments", "nps")
    assert shown["comments"].tolist() == summary["comments"].to_list()
    for column in ("nps", "csat_mean"):  # topics without answers show an empty cell
        want = summary[column].fill_null(float("nan")).to_list()
        assert shown[column].tolist() == pytest.approx(want, nan_ok=True)
    at.segmented_control(key="intimacy_window").set_value("all").run()
    assert ("Survey answers", format_number(_window(exp, date(1900, 1, 1)).height, "en")) in (
        _metrics(at)
    )


def test_every_demo_comment_gets_a_topic(english) -> None:
    _, exp = english
    topics = ft.classify(exp.answers["comment"].drop_nulls().unique())["topic"]
    assert topics.len() >= 10
    assert (topics != ft.OTHER).all()


def test_samples_are_plain_text_of_the_topic(english) -> None:
    at, _ = english
    at.selectbox(key="intimacy_topic").set_value("delivery").run()
    shown = rendered_table(at, "comment", "answers")
    assert len(shown) > 0 and shown["comment"].map(type).eq(str).all()
    again = ft.classify(pl.Series(shown["comment"].tolist()))
    assert set(again["topic"].to_list()) == {"delivery"}
    at.selectbox(key="intimacy_mood").set_value("negative").run()
    moods = set(rendered_table(at, "comment", "answers")["sentiment"])
    assert moods == {"Negative"}


def test_try_a_comment(english) -> None:
    at, _ = english
    at.text_input(key="intimacy_try").input("Não recomendo, a entrega atrasou").run()
    shown = dict(rendered_table(at, "what", "value").values.tolist())
    assert shown["Topic"] == "Delivery"
    assert shown["Sentiment"] == "Negative"
    assert shown["Negated (counted for the other side)"] == "nao recomendo"


def test_changes_equal_crm_core(english) -> None:
    at, exp = english
    metrics = dict(_metrics(at)[-10:])
    profile = {m: v for m, v, _, _ in im.profile_changes(exp.history, exp.period)}
    activity = {m: v for m, v, _, _ in exp.activity}
    fb = {m: v for m, v, _, _ in ft.feedback_changes(exp.answers, exp.period)}
    assert metrics["New customers known"] == format_number(profile["new_customers"], "en")
    assert metrics["Profiles enriched"] == format_number(profile["profiles_enriched"], "en")
    assert metrics["New consents"] == format_number(activity["consents_granted"], "en")
    assert metrics["Withdrawals"] == format_number(activity["consents_withdrawn"], "en")
    assert metrics["Interactions logged"] == format_number(activity["interactions"], "en")
    assert metrics["Survey answers"] == format_number(fb["answers"], "en")
    assert metrics["Negative comments"] == format_percent(fb["negative_share"], "en")
    assert metrics["Mean CSAT"] == format_number(fb["csat_mean"], "en", 2)
    assert activity["interactions"] > 0 and fb["answers"] > 0


def test_portuguese(demo_db: Path) -> None:
    at = open_page(PAGE, lang="pt_BR")
    assert at.title[0].value == "Intimidade com o cliente"
    f = _filters(at)
    exp = _expected(demo_db, f.as_of, f.period)
    stats = im.completeness_stats(exp.profile)
    metrics = dict(_metrics(at))
    assert metrics["Completude média"] == format_percent(stats["mean"], "pt_BR")
    shown = rendered_table(at, "touchpoint", "records")
    assert "Pedidos · Loja online" in shown["touchpoint"].tolist()
    assert rendered_table(at, "topic", "comments")["topic"].tolist()[-1] == "Outros"


def test_segment_filter_restricts_every_section(demo_db: Path) -> None:
    at = open_page(PAGE, lang="en", segment="Champions")
    f = _filters(at)
    assert f.segment == "Champions"
    with store.connect(demo_db) as con:
        config, _ = latest_config(con)
        summary = customer_summary(con, f.as_of, window_days=config.window_days)
        clv = fit_clv(con, calibration_end=f.as_of).customers
    seg = segment_customers(summary, config, clv)
    subset = seg.filter(pl.col("segment").cast(pl.String) == "Champions").select("customer_id")
    exp = _expected(demo_db, f.as_of, f.period, subset)
    assert exp.capture.base == subset.height > 0
    stats = im.completeness_stats(exp.profile)
    assert dict(_metrics(at))["Mean completeness"] == format_percent(stats["mean"], "en")
    shown = rendered_table(at, "touchpoint", "records")
    assert shown["records"].tolist() == exp.capture.touchpoints["records"].to_list()
    year = _window(exp, f.as_of - timedelta(days=364))
    assert ("Survey answers", format_number(year.height, "en")) in _metrics(at)


def test_empty_store(empty_db: Path) -> None:
    at = open_page(PAGE, lang="en")
    assert at.title[0].value == "Customer intimacy"
    assert at.info and not at.dataframe

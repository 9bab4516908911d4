"""CLV page on the demo store: parameters, holdout and predictions equal crm_core's fit."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from crm_core import store
from crm_core.clv import fit_clv
from crm_core.clv_report import default_calibration_end, first_purchase_day, holdout_error
from crm_core.errors import VinculoError
from crm_core.i18n import translate
from crm_core.i18n.format import format_number, format_percent
from crm_core.kpis import last_order_date
from crm_core.summary import customer_summary
from tests.pages.conftest import open_page

PAGE = "pages/clv.py"
BGNBD = ("r", "alpha", "a", "b", "log_likelihood")
GAMMA_GAMMA = ("p", "q", "gamma")


def fit_by_hand(db: Path, time_unit: str = "week"):
    """The fit the page makes by default, and the summary at the as-of date."""
    with store.connect(db) as con:
        as_of = last_order_date(con)
        summary = customer_summary(con, as_of)
        end = default_calibration_end(first_purchase_day(summary), as_of)
        result = fit_clv(con, calibration_end=end, holdout_end=as_of, time_unit=time_unit)
    return result, summary


def metric(at, label_key: str, lang: str = "en") -> str:
    label = translate(label_key, lang)
    return next(m.value for m in at.metric if m.label == label)


def params_shown(at, lang: str) -> dict[str, str]:
    return {name: metric(at, f"page.clv.param.{name}", lang) for name in BGNBD + GAMMA_GAMMA}


def params_expected(result, lang: str) -> dict[str, str]:
    values = {**result.bgnbd, **result.gamma_gamma}
    return {n: format_number(values[n], lang, 1 if n == "log_likelihood" else 3) for n in values}


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_parameters_and_holdout_equal_fit_clv(demo_db: Path, lang: str) -> None:
    at = open_page(PAGE, lang=lang)
    result, _ = fit_by_hand(demo_db)
    assert result.holdout is not None and result.calibration_end < result.holdout.holdout_end
    assert params_shown(at, lang) == params_expected(result, lang)
    check = result.holdout
    assert metric(at, "page.clv.predicted_total", lang) == format_number(
        check.predicted_repeat_purchases, lang, 1
    )
    assert metric(at, "page.clv.actual_total", lang) == format_number(
        check.actual_repeat_purchases, lang
    )
    assert metric(at, "page.clv.error", lang) == format_percent(holdout_error(check), lang)
    table = at.dataframe[0].value
    top = result.customers.sort("clv", descending=True)
    assert len(table) == result.customers.height
    assert table["customer_id"].iloc[0] == top["customer_id"][0]
    assert table["clv"].iloc[0] == pytest.approx(top["clv"][0])
    assert len(at.get("download_button")) == 2


def test_a_channel_filter_restricts_the_customers(demo_db: Path) -> None:
    at = open_page(PAGE, channel="app")
    result, summary = fit_by_hand(demo_db)
    app = summary.filter(pl.col("main_channel") == "app").select("customer_id")
    scored = result.customers.join(app, on="customer_id", how="semi")
    assert 0 < scored.height < result.customers.height
    assert metric(at, "page.clv.customers") == format_number(scored.height, "en")
    assert len(at.dataframe[0].value) == scored.height
    assert params_shown(at, "en") == params_expected(result, "en")  # the fit is the store's


def test_time_unit_changes_the_fit(demo_db: Path) -> None:
    at = open_page(PAGE)
    at.selectbox(key="clv_time_unit").set_value("day").run()
    assert not at.exception
    result, _ = fit_by_hand(demo_db, time_unit="day")
    assert params_shown(at, "en") == params_expected(result, "en")


def test_too_thin_data_shows_the_error_in_the_users_language(demo_db: Path) -> None:
    at = open_page(PAGE, lang="pt_BR")
    _, summary = fit_by_hand(demo_db)
    early = first_purchase_day(summary) + timedelta(days=1)
    at.date_input(key="clv_calibration_end").set_value(early).run()
    assert not at.exception
    with store.connect(demo_db) as con, pytest.raises(VinculoError) as error:
        fit_clv(con, calibration_end=early, holdout_end=last_order_date(con))
    assert [w.value for w in at.warning] == [error.value.message("pt_BR")]
    assert not at.dataframe


def test_empty_store_shows_the_empty_state(empty_db: Path) -> None:
    at = open_page(PAGE)
    assert at.info[0].value == translate("empty.no_orders", "en")
    assert not at.metric

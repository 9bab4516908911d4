"""fit_clv and the CLI payload on a store holding the CDNOW purchases."""

from __future__ import annotations

import json
from datetime import date

import polars as pl
import pytest

from crm_core.clv import clv_cli_payload, fit_clv
from crm_core.errors import VinculoError
from tests.clv.conftest import CALIBRATION_END, HOLDOUT_END, PUBLISHED_BGNBD, PUBLISHED_GG, sig_figs


def load_cdnow_orders(con, cdnow: pl.DataFrame) -> None:
    """Each CDNOW record as a completed order at noon, São Paulo time."""
    orders = cdnow.with_row_index("n").select(
        order_id=pl.format("o{}", "n"),
        customer_id=pl.col("customer_id").cast(pl.String),
        ordered_at=pl.col("date").dt.strftime("%Y-%m-%d 12:00:00-03"),
        gross_amount=pl.col("amount"),
    )
    con.complete()  # the store leaves a fetchone() result pending; DuckDB 2 then refuses register
    con.register("cdnow_orders", orders)
    con.execute(
        "INSERT INTO orders (order_id, customer_id, ordered_at, gross_amount, status) "
        "SELECT order_id, customer_id, CAST(ordered_at AS TIMESTAMPTZ), gross_amount, 'completed' "
        "FROM cdnow_orders"
    ).fetchall()
    con.unregister("cdnow_orders")


@pytest.fixture
def cdnow_store(con, cdnow):
    load_cdnow_orders(con, cdnow)
    return con


def test_fit_clv_on_store_reproduces_published_fits(cdnow_store):
    result = fit_clv(cdnow_store, calibration_end=CALIBRATION_END, holdout_end=HOLDOUT_END)
    for name, published in PUBLISHED_BGNBD.items():
        assert sig_figs(result.bgnbd[name]) == sig_figs(published), name
    assert result.bgnbd["log_likelihood"] == pytest.approx(-9582.4, abs=0.05)
    for name, published in PUBLISHED_GG.items():
        assert sig_figs(result.gamma_gamma[name]) == sig_figs(published), name
    customers = result.customers
    assert customers.height == 2357
    assert customers.columns == [
        "customer_id",
        "frequency",
        "recency",
        "T",
        "monetary",
        "p_alive",
        "expected_purchases",
        "expected_spend",
        "clv",
    ]
    assert customers["p_alive"].is_between(0, 1).all() and (customers["clv"] >= 0).all()
    assert result.holdout is not None and result.holdout.customers == 2357


def test_payload_has_the_cli_contract(cdnow_store):
    payload = fit_clv(
        cdnow_store, calibration_end=CALIBRATION_END, holdout_end=HOLDOUT_END
    ).to_dict()
    payload = json.loads(json.dumps(payload))
    assert set(payload["bgnbd"]) == {"r", "alpha", "a", "b", "log_likelihood"}
    assert set(payload["gamma_gamma"]) == {"p", "q", "gamma"}
    assert payload["customers"] == 2357
    assert {"predicted_repeat_purchases", "actual_repeat_purchases"} <= payload["holdout"].keys()


def test_cli_payload_takes_a_path_and_text_dates(db_path, cdnow):
    from crm_core import store

    with store.connect(db_path) as con:
        load_cdnow_orders(con, cdnow)
    payload = clv_cli_payload(db_path, "1997-09-30", None, "day", 6, 0.02)
    assert payload["calibration_end"] == "1997-09-30" and payload["time_unit"] == "day"
    assert payload["horizon_months"] == 6 and "holdout" not in payload
    # Days instead of weeks: same r, a, b; α seven times larger.
    assert payload["bgnbd"]["alpha"] == pytest.approx(7 * 4.414, rel=2e-3)
    with pytest.raises(VinculoError) as caught:
        clv_cli_payload(db_path, "30/09/1997", None)
    assert caught.value.key == "clv.bad_date"


def test_default_calibration_end_is_the_last_purchase_day(cdnow_store):
    result = fit_clv(cdnow_store)
    assert result.calibration_end == date(1998, 6, 30) and result.holdout is None


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({}, "clv.no_purchases"),
        ({"holdout_end": date(2024, 1, 1)}, "clv.holdout_needs_calibration_end"),
        ({"margin": 2.0}, "clv.bad_margin"),
    ],
)
def test_errors_on_an_empty_store(con, kwargs, key):
    with pytest.raises(VinculoError) as caught:
        fit_clv(con, **kwargs)
    assert caught.value.key == key


def test_thin_store_data_raises_localized_error(con):
    con.execute(
        "INSERT INTO orders (order_id, customer_id, ordered_at, gross_amount, status) "
        "SELECT 'o' || i, 'c' || i, TIMESTAMPTZ '2024-01-01 12:00:00-03', 10, 'completed' "
        "FROM range(50) t(i)"
    ).fetchall()
    with pytest.raises(VinculoError) as caught:
        fit_clv(con)
    assert caught.value.key == "clv.thin_data"
    assert "0 de 50" in caught.value.message("pt_BR")

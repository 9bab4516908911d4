"""CLV page figures: default calibration end, holdout error, prediction table, histograms."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from crm_core.clv import ClvResult, HoldoutCheck
from crm_core.clv_report import (
    PREDICTION_COLUMNS,
    customer_contacts,
    customer_predictions,
    default_calibration_end,
    distribution,
    first_purchase_day,
    holdout_error,
    score_overview,
)

AS_OF = date(2026, 6, 30)
SIX_MONTHS_BEFORE = date(2025, 12, 30)  # AS_OF − 26 weeks (182 days)


@pytest.mark.parametrize(
    ("first_day", "expected"),
    [
        (date(2024, 1, 1), SIX_MONTHS_BEFORE),  # two years of history: hold out 26 weeks
        (date(2025, 7, 1), SIX_MONTHS_BEFORE),  # exactly 26 weeks before the cut: still enough
        (date(2025, 7, 2), AS_OF),  # one day short: calibrate on everything
        (None, AS_OF),
    ],
)
def test_default_calibration_end(first_day: date | None, expected: date) -> None:
    assert default_calibration_end(first_day, AS_OF) == expected


def _check(predicted: float, actual: int) -> HoldoutCheck:
    empty = pl.DataFrame()
    return HoldoutCheck(SIX_MONTHS_BEFORE, AS_OF, "week", 26.0, 10, predicted, actual, empty, empty)


def test_holdout_error_is_relative_to_actual() -> None:
    assert holdout_error(_check(110.0, 100)) == pytest.approx(0.10)
    assert holdout_error(_check(45.0, 50)) == pytest.approx(-0.10)
    assert holdout_error(_check(3.0, 0)) is None


def test_customer_contacts_leave_out_erased(con) -> None:
    con.execute(
        "INSERT INTO customers (customer_id, name, email, erased_at) VALUES "
        "('c1', 'Ana', 'ana@x.br', NULL), ('c2', NULL, NULL, NULL), ('c3', 'Gone', 'g@x', now())"
    ).fetchall()
    contacts = customer_contacts(con).sort("customer_id")
    assert contacts.rows() == [("c1", "Ana", "ana@x.br"), ("c2", None, None)]


def _result(customers: pl.DataFrame) -> ClvResult:
    return ClvResult(AS_OF, "week", 12, 0.01, 1.0, {}, {}, customers)


SCORED = pl.DataFrame(
    {
        "customer_id": ["c1", "c2", "c3"],
        "frequency": [0, 3, 1],
        "recency": [0.0, 20.0, 5.0],
        "T": [10.0, 30.0, 8.0],
        "monetary": [0.0, 50.0, 20.0],
        "p_alive": [1.0, 0.5, 0.9],
        "expected_purchases": [0.5, 1.5, 1.0],
        "expected_spend": [30.0, 50.0, 25.0],
        "clv": [15.0, 75.0, 25.0],
    }
)


def test_customer_predictions_join_contacts_and_revenue_highest_clv_first() -> None:
    summary = pl.DataFrame({"customer_id": ["c3", "c2", "c1"], "revenue": [40.0, 200.0, 30.0]})
    contacts = pl.DataFrame({"customer_id": ["c2"], "name": ["Bia"], "email": ["b@x"]})
    table = customer_predictions(_result(SCORED), summary, contacts)
    assert tuple(table.columns) == PREDICTION_COLUMNS
    assert table["customer_id"].to_list() == ["c2", "c3", "c1"]
    assert table["revenue"].to_list() == [200.0, 40.0, 30.0]
    assert table["name"].to_list() == ["Bia", None, None]


def test_score_overview_by_hand() -> None:
    overview = score_overview(SCORED)
    assert overview["customers"] == 3
    assert overview["mean_p_alive"] == pytest.approx(0.8)  # (1 + 0.5 + 0.9) / 3
    assert overview["expected_purchases"] == pytest.approx(3.0)
    assert overview["total_clv"] == pytest.approx(115.0)
    assert overview["mean_clv"] == pytest.approx(115.0 / 3)
    assert score_overview(SCORED.clear())["mean_clv"] is None


def test_first_purchase_day() -> None:
    summary = pl.DataFrame({"first_purchase": [date(2025, 3, 1), None, date(2024, 2, 9)]})
    assert first_purchase_day(summary) == date(2024, 2, 9)
    assert first_purchase_day(summary.clear()) is None


def test_distribution_puts_the_tail_in_the_last_bin() -> None:
    # 0..9 and 100: the 0.9 quantile (linear) is 9, so the bins are [0,3), [3,6), [6,9]
    # and 100 counts in the last one.
    values = pl.Series([*range(10), 100, None], dtype=pl.Float64)
    bins = distribution(values, bins=3, top_share=0.9)
    assert bins["lower"].to_list() == [0.0, 3.0, 6.0]
    assert bins["upper"].to_list() == [3.0, 6.0, 9.0]
    assert bins["customers"].to_list() == [3, 3, 5]


def test_distribution_of_constant_and_empty_values() -> None:
    constant = distribution(pl.Series([2.0, 2.0, 2.0]), bins=4)
    assert constant["customers"].sum() == 3 and constant["lower"][0] == 2.0
    assert distribution(pl.Series([], dtype=pl.Float64)).height == 0

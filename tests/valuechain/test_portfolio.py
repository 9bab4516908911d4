"""Customer portfolio analysis on a tiny store whose every number is computed by hand.

Window: the 12 months to 2026-06-30, i.e. local days 2025-07-01 … 2026-06-30 (times are
local São Paulo wall-clock times, UTC−3). Settings: e-mail R$ 0.50, phone R$ 10, visit R$ 40,
WhatsApp R$ 2 per contact (web and "app" unpriced), R$ 5 per order, 40 % gross margin.

| customer | purchases | revenue | contacts                   | cost to serve      | profit |
|----------|-----------|---------|----------------------------|--------------------|--------|
| A        | 2         | 1400    | email 2, phone 1           | 1 + 10 + 10 = 21   | 539    |
| B        | 1 (+1 cancelled) | 300 | phone 3, visit 1        | 30 + 40 + 5 = 75   | 45     |
| C        | 1         | 50      | email 1                    | 0.5 + 5 = 5.5      | 14.5   |
| D        | 1 (23:30 on as-of day) | 20 | —                     | 5                  | 3      |
| F (lead) | 0         | 0       | whatsapp 2, web 1, app 1   | 4                  | −4     |
| G        | 1         | 800     | —                          | 5                  | 315    |
| H        | 1         | 10      | phone 2                    | 20 + 5 = 25        | −21    |
E only bought before the window (not served). Medians: revenue 50, cost 5.5 (7 customers).
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl
import pytest

from crm_core.differentiate import concentration
from crm_core.portfolio import (
    Splits,
    assign_quadrants,
    cost_to_serve,
    customer_economics,
    customer_profit,
    gross_profit,
    matrix_bins,
    median_splits,
    portfolio,
    portfolio_totals,
    profitability,
    quadrant_customers,
    quadrant_summary,
    revenue_concentration,
    service_counts,
    window_start,
)
from crm_core.settings import BusinessSettings

AS_OF = date(2026, 6, 30)
SETTINGS = BusinessSettings(
    channel_costs={"email": 0.5, "phone": 10.0, "visit": 40.0, "whatsapp": 2.0},
    order_cost=5.0,
    gross_margin=0.4,
)

# (order_id, customer, local time, gross, refunded, status)
ORDERS = [
    ("o1", "A", "2026-01-10 10:00", 1000, 0, "completed"),
    ("o2", "A", "2026-03-05 10:00", 500, 100, "partially_refunded"),
    ("o3", "A", "2025-06-30 23:00", 999, 0, "completed"),  # the day before the window
    ("o4", "B", "2026-02-01 10:00", 300, 0, "completed"),
    ("o5", "B", "2026-04-01 10:00", 200, 0, "cancelled"),  # no revenue, not a purchase
    ("o6", "C", "2026-05-01 10:00", 50, 0, "completed"),
    ("o7", "D", "2026-06-30 23:30", 20, 0, "completed"),  # UTC: July 1st; locally in
    ("o8", "E", "2025-01-01 10:00", 100, 0, "completed"),
    ("o9", "G", "2026-05-10 10:00", 800, 0, "completed"),
    ("o10", "H", "2026-04-10 10:00", 10, 0, "completed"),
]
# (customer, local time, channel)
INTERACTIONS = [
    ("A", "2026-01-01 10:00", "email"),
    ("A", "2026-02-01 10:00", "email"),
    ("A", "2026-03-01 10:00", "phone"),
    ("A", "2026-07-01 00:10", "phone"),  # after the as-of day
    ("B", "2026-01-05 10:00", "phone"),
    ("B", "2026-01-06 10:00", "phone"),
    ("B", "2026-01-07 10:00", "phone"),
    ("B", "2026-01-08 10:00", "visit"),
    ("C", "2026-05-02 10:00", "email"),
    ("F", "2026-06-01 10:00", "whatsapp"),
    ("F", "2026-06-02 10:00", "whatsapp"),
    ("F", "2026-06-03 10:00", "web"),
    ("F", "2026-06-04 10:00", "app"),  # a channel outside the vocabulary: counted, unpriced
    ("H", "2026-04-11 10:00", "phone"),
    ("H", "2026-04-12 10:00", "phone"),
]
SEGMENTS = {
    "A": ("champions", "gold"), "B": ("champions", "gold"), "G": ("champions", "gold"),
    "C": ("at_risk", "silver"), "D": ("at_risk", "silver"), "H": ("at_risk", "silver"),
    "F": ("lead", "bronze"), "E": ("lost", "bronze"),
}  # fmt: skip


def _insert(con: duckdb.DuckDBPyConnection) -> None:
    for oid, cid, at, gross, refunded, status in ORDERS:
        con.execute(
            "INSERT INTO orders (order_id, customer_id, ordered_at, gross_amount, "
            "refunded_amount, status) VALUES (?, ?, ?::TIMESTAMPTZ, ?, ?, ?)",
            [oid, cid, at + "-03", gross, refunded, status],
        )
    for n, (cid, at, channel) in enumerate(INTERACTIONS):
        con.execute(
            "INSERT INTO interactions (interaction_id, customer_id, occurred_at, channel) "
            "VALUES (?, ?, ?::TIMESTAMPTZ, ?)",
            [f"i{n}", cid, at + "-03", channel],
        )
    for cid in SEGMENTS:
        con.execute("INSERT INTO customers (customer_id) VALUES (?)", [cid])


@pytest.fixture
def counts(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    _insert(con)
    return service_counts(con, AS_OF, 12).sort("customer_id")


@pytest.fixture
def frame(counts: pl.DataFrame) -> pl.DataFrame:
    """Economics of every customer in `SEGMENTS` (E is not served, so it drops out)."""
    customers = pl.DataFrame(
        [(c, s, t) for c, (s, t) in SEGMENTS.items()],
        schema=["customer_id", "segment", "tier"], orient="row",
    )  # fmt: skip
    return customer_economics(portfolio(customers, counts), SETTINGS)


def _by_id(frame: pl.DataFrame, column: str) -> dict[str, float]:
    return dict(zip(frame["customer_id"], frame[column], strict=True))


@pytest.mark.parametrize(
    ("as_of", "months", "start"),
    [
        (date(2026, 6, 30), 12, date(2025, 7, 1)),
        (date(2026, 3, 31), 1, date(2026, 3, 1)),  # Feb 28 + 1 day
        (date(2024, 3, 31), 1, date(2024, 3, 1)),  # leap year: Feb 29 + 1 day
        (date(2026, 1, 15), 3, date(2025, 10, 16)),
        (date(2026, 12, 31), 24, date(2025, 1, 1)),
    ],
)
def test_window_start(as_of: date, months: int, start: date) -> None:
    assert window_start(as_of, months) == start


def test_service_counts_in_the_window(counts: pl.DataFrame) -> None:
    assert counts["customer_id"].to_list() == ["A", "B", "C", "D", "F", "G", "H"]
    assert _by_id(counts, "purchases") == {"A": 2, "B": 1, "C": 1, "D": 1, "F": 0, "G": 1, "H": 1}
    assert _by_id(counts, "revenue") == {
        "A": 1400.0, "B": 300.0, "C": 50.0, "D": 20.0, "F": 0.0, "G": 800.0, "H": 10.0,
    }  # fmt: skip
    assert _by_id(counts, "contacts") == {"A": 3, "B": 4, "C": 1, "D": 0, "F": 4, "G": 0, "H": 2}
    assert _by_id(counts, "contacts_phone")["B"] == 3
    assert _by_id(counts, "contacts_whatsapp")["F"] == 2
    assert _by_id(counts, "contacts_web")["F"] == 1


def test_cost_to_serve_gross_profit_and_profit(counts: pl.DataFrame) -> None:
    costed = cost_to_serve(counts, SETTINGS)
    assert _by_id(costed, "contact_cost") == pytest.approx(
        {"A": 11.0, "B": 70.0, "C": 0.5, "D": 0.0, "F": 4.0, "G": 0.0, "H": 20.0}
    )
    assert _by_id(costed, "handling_cost") == pytest.approx(
        {"A": 10.0, "B": 5.0, "C": 5.0, "D": 5.0, "F": 0.0, "G": 5.0, "H": 5.0}
    )
    profit = customer_profit(gross_profit(costed, 0.4))
    assert _by_id(profit, "gross_profit") == pytest.approx(
        {"A": 560.0, "B": 120.0, "C": 20.0, "D": 8.0, "F": 0.0, "G": 320.0, "H": 4.0}
    )
    assert _by_id(profit, "profit") == pytest.approx(
        {"A": 539.0, "B": 45.0, "C": 14.5, "D": 3.0, "F": -4.0, "G": 315.0, "H": -21.0}
    )


def test_no_cost_set_means_unknown_cost_not_zero(counts: pl.DataFrame) -> None:
    value_only = customer_economics(counts, BusinessSettings(gross_margin=0.5))
    assert "cost_to_serve" not in value_only.columns and "profit" not in value_only.columns
    assert _by_id(value_only, "gross_profit")["A"] == pytest.approx(700.0)
    table = profitability(value_only.with_columns(segment=pl.lit("x")), "segment")
    assert "profit" not in table.columns and table["revenue"].to_list() == [2580.0]


def test_economics_keep_customer_columns_and_drop_the_parts(frame: pl.DataFrame) -> None:
    assert "E" not in frame["customer_id"].to_list()  # bought only before the window
    assert {"segment", "tier", "cost_to_serve", "profit"} <= set(frame.columns)
    assert not any(c.startswith("contacts_") or c.endswith("_cost") for c in frame.columns)
    totals = portfolio_totals(frame)
    assert totals == pytest.approx(
        {"customers": 7, "revenue": 2580.0, "cost_to_serve": 140.5, "gross_profit": 1032.0,
         "profit": 891.5}
    )  # fmt: skip


def test_profitability_by_segment(frame: pl.DataFrame) -> None:
    table = profitability(frame, "segment")
    assert table["segment"].to_list() == ["at_risk", "champions", "lead"]
    assert table["customers"].to_list() == [3, 3, 1]
    assert table["revenue"].to_list() == pytest.approx([80.0, 2500.0, 0.0])
    assert table["cost_to_serve"].to_list() == pytest.approx([35.5, 101.0, 4.0])
    assert table["profit"].to_list() == pytest.approx([-3.5, 899.0, -4.0])
    assert table["profit_per_customer"].to_list() == pytest.approx([-3.5 / 3, 899 / 3, -4.0])
    assert table["revenue_share"].to_list() == pytest.approx([80 / 2580, 2500 / 2580, 0.0])


def test_quadrants_at_the_medians(frame: pl.DataFrame) -> None:
    splits = median_splits(frame)
    assert splits == Splits(50.0, 5.5)
    placed = assign_quadrants(frame, splits)
    assert _by_id(placed, "quadrant") == {
        "A": "keep", "B": "keep", "G": "grow", "H": "serve_cheaper",
        "C": "re_evaluate", "D": "re_evaluate", "F": "re_evaluate",  # at the split is low
    }  # fmt: skip
    summary = quadrant_summary(placed)
    assert summary["quadrant"].cast(pl.String).to_list() == [
        "grow", "keep", "serve_cheaper", "re_evaluate",
    ]  # fmt: skip
    assert summary["customers"].to_list() == [1, 2, 1, 3]
    assert summary["revenue"].to_list() == pytest.approx([800.0, 1700.0, 10.0, 70.0])
    assert summary["revenue_share"].to_list() == pytest.approx(
        [800 / 2580, 1700 / 2580, 10 / 2580, 70 / 2580]
    )
    assert summary["cost_to_serve"].to_list() == pytest.approx([5.0, 96.0, 25.0, 14.5])
    assert summary["profit"].to_list() == pytest.approx([315.0, 584.0, -21.0, 13.5])
    members = quadrant_customers(placed, "re_evaluate")
    assert members["customer_id"].to_list() == ["C", "D", "F"]  # most revenue first


def test_user_set_splits_and_empty_quadrants(frame: pl.DataFrame) -> None:
    placed = assign_quadrants(frame, Splits(value=1000.0, cost=100.0))
    summary = quadrant_summary(placed)
    assert summary["customers"].to_list() == [1, 0, 0, 6]  # only A is high value
    assert summary["profit"].to_list() == pytest.approx([539.0, 0.0, 0.0, 352.5])


def test_matrix_bins_count_every_customer_once(frame: pl.DataFrame) -> None:
    placed = assign_quadrants(frame, median_splits(frame))
    bins = matrix_bins(placed, bins=2, scale="linear")
    # revenue 0…1400 in steps of 700; cost 4…75 in steps of 35.5
    cells = {(r["x_bin"], r["y_bin"]): r["customers"] for r in bins.iter_rows(named=True)}
    assert cells == {(0, 0): 4, (0, 1): 1, (1, 0): 2}  # C D F H | B | A (1400 → last bin) G
    first = bins.row(0, named=True)
    assert (first["x_low"], first["x_high"], first["y_low"], first["y_high"]) == pytest.approx(
        (0.0, 700.0, 4.0, 39.5)
    )
    assert bins["customers"].sum() == placed.height


def test_concentration_reuses_differentiate(frame: pl.DataFrame) -> None:
    result = revenue_concentration(frame)
    # top 20 % of 7 customers = 1.4: A (1400) and 0.4 of G (800), of 2580
    assert result.top["value_share"][-1] == pytest.approx((1400 + 0.4 * 800) / 2580)
    assert result.gini == pytest.approx(concentration(frame["revenue"]).gini)


def test_matrix_bins_on_the_log_scale(frame: pl.DataFrame) -> None:
    bins = matrix_bins(frame, bins=2)  # positions log10(1 + amount)
    # revenue: 0 … log10(1401) = 3.146, cut at 1.573 (R$ 36.43 = √1401 − 1): F H D | C B G A
    # cost: log10(5) = 0.699 … log10(76) = 1.881, cut at 1.290 (R$ 18.49 = √380 − 1):
    # F D G C | A H B
    cells = {(r["x_bin"], r["y_bin"]): r["customers"] for r in bins.iter_rows(named=True)}
    assert cells == {(0, 0): 2, (0, 1): 1, (1, 0): 2, (1, 1): 2}
    edges = bins.row(0, named=True)
    assert (edges["x_low"], edges["x_high"]) == pytest.approx((0.0, 1401**0.5 - 1))
    assert (edges["y_low"], edges["y_high"]) == pytest.approx((4.0, 380**0.5 - 1))
    assert bins.filter(pl.col("x_bin") == 1)["revenue"].sum() == pytest.approx(2550.0)

"""Wheel of Loyalty: tier pyramid, who dissolved, the dissolution rate and timeline, by hand."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from crm_core.errors import VinculoError
from crm_core.loyalty import (
    churned_customers,
    dissolution_rate,
    dissolution_timeline,
    tier_pyramid,
)

TIER = pl.Enum(["platinum", "gold", "silver", "No purchase"])
AS_OF = date(2026, 6, 30)


def _segmented(rows: list[tuple[str, str, str]], dtype: pl.DataType = TIER) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "segment": [r[1] for r in rows],
            "tier": pl.Series([r[2] for r in rows], dtype=dtype),
        }
    )


def _summary(rows: list[tuple[str, date | None, int, float]]) -> pl.DataFrame:
    """(customer_id, last_purchase, purchase_days, revenue) at AS_OF."""
    last = [r[1] for r in rows]
    return pl.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "last_purchase": pl.Series(last, dtype=pl.Date),
            "recency_days": [None if d is None else (AS_OF - d).days for d in last],
            "purchase_days": [r[2] for r in rows],
            "revenue": [r[3] for r in rows],
        }
    )


def _staged(rows: list[tuple[str, str, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "stage": [r[1] for r in rows],
            "reason": [r[2] for r in rows],
        }
    )


# ---- tier pyramid --------------------------------------------------------------------------

SEGMENTED = _segmented(
    [
        ("b", "Loyal", "gold"),
        ("a", "Champions", "platinum"),
        ("c", "Lost", "gold"),
        ("d", "No purchase", "No purchase"),
    ]
)
SUMMARY = _summary(
    [
        ("a", date(2026, 6, 1), 5, 100.0),
        ("b", date(2025, 12, 1), 3, 30.0),
        ("c", date(2025, 10, 15), 1, 10.0),
        ("d", None, 0, 0.0),
    ]
)


def test_pyramid_by_hand() -> None:
    pyr = tier_pyramid(SEGMENTED, SUMMARY)
    # Buyers a, b, c (d never bought): platinum {a: 100}, gold {b: 30, c: 10}; total 140.
    assert pyr.to_dicts() == [
        {
            "tier": "platinum",
            "customers": 1,
            "share": pytest.approx(1 / 3),
            "revenue": 100.0,
            "revenue_share": pytest.approx(100 / 140),
            "mean_revenue": 100.0,
        },
        {
            "tier": "gold",
            "customers": 2,
            "share": pytest.approx(2 / 3),
            "revenue": 40.0,
            "revenue_share": pytest.approx(40 / 140),
            "mean_revenue": 20.0,
        },
    ]


def test_pyramid_mean_clv_over_scored_customers() -> None:
    clv = pl.DataFrame({"customer_id": ["a", "b"], "clv": [50.0, 10.0]})  # c unscored
    pyr = tier_pyramid(SEGMENTED, SUMMARY, clv)
    assert pyr["mean_clv"].to_list() == [50.0, 10.0]


def test_pyramid_string_tiers_keep_first_seen_order_and_zero_revenue() -> None:
    seg = _segmented([("a", "x", "top"), ("b", "x", "low")], dtype=pl.String)
    summ = _summary([("a", date(2026, 1, 1), 1, 0.0), ("b", date(2026, 1, 1), 1, 0.0)])
    pyr = tier_pyramid(seg, summ)
    assert pyr["tier"].to_list() == ["top", "low"]
    assert pyr["revenue_share"].to_list() == [None, None]


def test_pyramid_requires_columns() -> None:
    with pytest.raises(VinculoError) as err:
        tier_pyramid(SEGMENTED.drop("tier"), SUMMARY)
    assert err.value.key == "loyalty.missing_columns"


# ---- churned customers ---------------------------------------------------------------------

STAGED = _staged(
    [
        ("a", "commitment", "loyal"),
        ("b", "dissolution", "low_p_alive"),
        ("c", "dissolution", "lapsed"),
        ("d", "exploration", "no_purchase"),
    ]
)


def test_churned_customers_by_hand() -> None:
    out = churned_customers(STAGED, SUMMARY, 180, SEGMENTED)
    # b: last 2025-12-01, +180 days = 2026-05-30 (before as_of). c: last 2025-10-15 + 180
    # = 2026-04-13. Highest revenue first: b (30) then c (10).
    assert out.to_dicts() == [
        {
            "customer_id": "b",
            "last_purchase": date(2025, 12, 1),
            "churn_day": date(2026, 5, 30),
            "days_since": 211,
            "purchase_days": 3,
            "revenue": 30.0,
            "reason": "low_p_alive",
            "segment": "Loyal",
            "tier": "gold",
        },
        {
            "customer_id": "c",
            "last_purchase": date(2025, 10, 15),
            "churn_day": date(2026, 4, 13),
            "days_since": 258,
            "purchase_days": 1,
            "revenue": 10.0,
            "reason": "lapsed",
            "segment": "Lost",
            "tier": "gold",
        },
    ]


def test_churn_day_is_capped_at_as_of() -> None:
    # a dissolved by the model 29 days after its last purchase: +180 days would be in the
    # future, so the churn day is the as-of date.
    staged = _staged([("a", "dissolution", "low_p_alive")])
    out = churned_customers(staged, SUMMARY.head(1), 180)
    assert out["churn_day"].to_list() == [AS_OF]
    assert "segment" not in out.columns


def test_churn_window_must_be_positive() -> None:
    with pytest.raises(VinculoError):
        churned_customers(STAGED, SUMMARY, 0)


def test_dissolution_rate_counts_buyers_only() -> None:
    # buyers a, b, c (d never bought); b and c dissolved -> 2/3
    assert dissolution_rate(STAGED, SUMMARY) == {
        "buyers": 3,
        "churned": 2,
        "rate": pytest.approx(2 / 3),
    }
    none = dissolution_rate(STAGED.head(0), SUMMARY.head(0))
    assert none == {"buyers": 0, "churned": 0, "rate": 0.0}


def test_timeline_fills_empty_months() -> None:
    churned = pl.DataFrame(
        {
            "customer_id": ["x", "y", "z"],
            "last_purchase": [date(2025, 10, 15), date(2025, 12, 1), date(2025, 12, 31)],
            "revenue": [5.0, 7.0, 1.5],
        }
    )
    out = dissolution_timeline(churned)
    assert out.to_dicts() == [
        {"month": date(2025, 10, 1), "customers": 1, "revenue": 5.0},
        {"month": date(2025, 11, 1), "customers": 0, "revenue": 0.0},
        {"month": date(2025, 12, 1), "customers": 2, "revenue": 8.5},
    ]
    assert dissolution_timeline(churned.head(0)).height == 0

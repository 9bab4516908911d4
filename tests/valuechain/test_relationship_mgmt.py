"""Relationship management (`crm_core.relationship_mgmt`, `crm_core.relationship_series`)
pinned on a hand-computed store and hand-built frames.

Store (local times, America/Sao_Paulo, UTC−3 all of 2024), monthly buckets Jan–Mar 2024:

| customer | source      | purchases (local day, net BRL, category)                          |
|----------|-------------|--------------------------------------------------------------------|
| A        | paid_search | Jan 10 100 X · Feb 5 50 Y · Mar 3 30 X                             |
| B        | referral    | Feb 12 10:00 80 X · Feb 12 15:00 20 Z · Mar 20 40 X                |
| C        | referral    | Mar 1 00:30 70 Y (UTC Mar 1 03:30) · Mar 9 40 Z cancelled          |
| D        | (none)      | Feb 29 23:30 60 X (UTC March 1st) · Mar 15 90 Y fully refunded     |
| E        | paid_search | lead, no orders                                                    |
| F        | paid_search | Mar 31 22:00 200 Z · Mar 31 23:30 10 X (UTC April 1st)             |

By hand:
- new customers: Jan {A}; Feb {B, D} (D's first purchase is Feb 29 locally); Mar {C, F}.
- first-order value: Jan 100; Feb (80 + 60) / 2 = 70 (B's first order is the 10:00 one);
  Mar (70 + 200) / 2 = 135. By source in Feb: referral 1 (80), unknown 1 (60); Mar:
  referral 1 (70), paid_search 1 (200).
- active: Jan {A}; Feb {A, B, D}; Mar {A, B, C, F} (D's March order is refunded, C's Z
  order cancelled: neither is a purchase).
- cross-buying (≥ 2 categories up to the bucket's end): Jan A has X only → 0/1; Feb A (X, Y)
  and B (X, Z) yes, D (X) no → 2/3; Mar A, B, F (Z, X) yes, C (Y) no → 3/4.
- revenue: Jan 100, Feb 50 + 100 + 60 = 210, Mar 30 + 40 + 70 + 210 (+ 0 cancelled,
  0 refunded) = 350 → per active customer 100, 70, 87.5.
- retention into March: Feb active {A, B, D}, of whom A, B active in March → 2/3.
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl
import pytest

from crm_core.errors import VinculoError
from crm_core.period import Period
from crm_core.relationship_mgmt import (
    METRICS,
    SERIES_METRICS,
    TargetRules,
    compare_to_targets,
    kpis_against_targets,
    month_share,
    period_target,
    scorecard,
    tier_matrix,
    tier_movements,
)
from crm_core.relationship_series import (
    acquisition_by_source,
    cross_buying,
    relationship_series,
    series_window,
)
from crm_core.settings import TARGET_KPIS, BusinessSettings

CUSTOMERS = [("A", "paid_search"), ("B", "referral"), ("C", "referral"), ("D", None),
             ("E", "paid_search"), ("F", "paid_search")]  # fmt: skip
# (order_id, customer, local time, gross, refunded, status, category)
ORDERS = [
    ("a1", "A", "2024-01-10 10:00", 100, 0, "completed", "X"),
    ("a2", "A", "2024-02-05 10:00", 50, 0, "completed", "Y"),
    ("a3", "A", "2024-03-03 10:00", 30, 0, "completed", "X"),
    ("b1", "B", "2024-02-12 10:00", 80, 0, "completed", "X"),
    ("b2", "B", "2024-02-12 15:00", 20, 0, "completed", "Z"),
    ("b3", "B", "2024-03-20 10:00", 40, 0, "completed", "X"),
    ("c1", "C", "2024-03-01 00:30", 70, 0, "completed", "Y"),
    ("c2", "C", "2024-03-09 10:00", 40, 0, "cancelled", "Z"),
    ("d1", "D", "2024-02-29 23:30", 60, 0, "completed", "X"),
    ("d2", "D", "2024-03-15 10:00", 90, 90, "refunded", "Y"),
    ("f1", "F", "2024-03-31 22:00", 200, 0, "completed", "Z"),
    ("f2", "F", "2024-03-31 23:30", 10, 0, "completed", "X"),
]
JAN, FEB, MAR = date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)
END = date(2024, 3, 31)


@pytest.fixture
def hand(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    for cid, source in CUSTOMERS:
        con.execute(
            "INSERT INTO customers (customer_id, acquisition_channel, is_lead) VALUES (?, ?, ?)",
            [cid, source, cid == "E"],
        )
    for oid, cid, ts, gross, refunded, status, category in ORDERS:
        con.execute(
            "INSERT INTO orders (order_id, customer_id, ordered_at, gross_amount, "
            "refunded_amount, status, category) VALUES (?, ?, ?::TIMESTAMPTZ, ?, ?, ?, ?)",
            [oid, cid, f"{ts}-03", gross, refunded, status, category],
        )
    return con


def _series(measures, metric: str) -> list[float | None]:
    return measures.series.filter(pl.col("metric") == metric)["actual"].to_list()


def test_acquisition_by_source_and_first_order_value(hand) -> None:
    acq = acquisition_by_source(hand, JAN, END, "month")
    rows = {(r["bucket"], r["source"]): r for r in acq.iter_rows(named=True)}
    assert set(rows) == {(JAN, "paid_search"), (FEB, "referral"), (FEB, ""), (MAR, "referral"),
                         (MAR, "paid_search")}  # fmt: skip
    assert rows[(FEB, "referral")]["first_order_value"] == pytest.approx(80)
    assert rows[(FEB, "")]["first_order_value"] == pytest.approx(60)
    assert rows[(MAR, "paid_search")]["first_order_revenue"] == pytest.approx(200)
    measures = relationship_series(hand, JAN, END, "month")
    assert _series(measures, "new_customers") == [1, 2, 2]
    assert _series(measures, "first_order_value") == pytest.approx([100, 70, 135])


def test_cross_buying_counts_categories_over_the_history(hand) -> None:
    cross = cross_buying(hand, JAN, END, "month")
    assert cross["active_customers"].to_list() == [1, 3, 4]
    assert cross["cross_buyers"].to_list() == [0, 2, 3]
    assert cross["cross_buying_rate"].to_list() == pytest.approx([0, 2 / 3, 0.75])
    march_only = cross_buying(hand, MAR, END, "month")  # history before the window counts
    assert march_only["cross_buyers"].to_list() == [3]


def test_cross_buying_with_a_customer_subset_and_an_empty_bucket(hand) -> None:
    subset = pl.DataFrame({"customer_id": ["C", "D"]})
    cross = cross_buying(hand, JAN, END, "month", subset)
    assert cross["active_customers"].to_list() == [0, 1, 1]
    assert cross["cross_buying_rate"].to_list() == [None, 0.0, 0.0]


def test_series_of_every_metric(hand) -> None:
    measures = relationship_series(hand, JAN, END, "month")
    assert measures.series["metric"].unique(maintain_order=True).to_list() == list(SERIES_METRICS)
    assert measures.series["bucket"].unique().sort().to_list() == [JAN, FEB, MAR]
    assert _series(measures, "active_customers") == [1, 3, 4]
    assert _series(measures, "net_revenue") == pytest.approx([100, 210, 350])
    assert _series(measures, "revenue_per_active_customer") == pytest.approx([100, 70, 87.5])
    assert _series(measures, "cross_buying_rate") == pytest.approx([0, 2 / 3, 0.75])
    assert _series(measures, "retention_rate")[2] == pytest.approx(2 / 3)
    assert _series(measures, "average_clv") == [None, None, None]  # no CLV frame
    clv = pl.DataFrame({"customer_id": ["A", "B", "C", "F"], "clv": [10.0, 20.0, 30.0, 40.0]})
    with_clv = relationship_series(hand, JAN, END, "month", clv=clv)
    assert _series(with_clv, "average_clv") == pytest.approx([10, 15, 25])


def test_series_window() -> None:
    assert series_window(date(2024, 3, 15), "month", 3) == (JAN, date(2024, 3, 15))
    assert series_window(date(2024, 1, 31), "month", 13) == (date(2023, 1, 1), date(2024, 1, 31))
    assert series_window(date(2024, 3, 6), "week", 2) == (date(2024, 2, 26), date(2024, 3, 6))
    with pytest.raises(VinculoError):
        series_window(END, "month", 0)


def test_month_share_and_pro_rated_targets() -> None:
    assert month_share(Period(FEB, date(2024, 2, 29))) == pytest.approx(1.0)
    assert month_share(Period(date(2024, 6, 1), date(2024, 6, 15))) == pytest.approx(0.5)
    week = Period(date(2024, 1, 29), date(2024, 2, 4))  # 3 days of January, 4 of February
    assert month_share(week) == pytest.approx(3 / 31 + 4 / 29)
    assert month_share(Period(JAN, END)) == pytest.approx(3.0)
    assert period_target("new_customers", 300, Period(date(2024, 6, 1), date(2024, 6, 15))) == 150
    assert period_target("retention_rate", 0.4, week) == 0.4  # rates apply as set
    assert period_target("retention_rate", None, week) is None


def _one(metric: str, actual: float | None, target: float | None, tolerance: float = 0.05):
    frame = pl.DataFrame(
        {"metric": [metric], "start": [MAR], "end": [END], "actual": [actual]},
        schema={"metric": pl.String, "start": pl.Date, "end": pl.Date, "actual": pl.Float64},
    )
    targets = {} if target is None else {metric: target}
    return compare_to_targets(frame, targets, TargetRules(tolerance)).row(0, named=True)


@pytest.mark.parametrize(
    ("metric", "actual", "target", "tolerance", "gap", "share", "status"),
    [
        # higher is better: 0.02 short of 0.52 is within 5 % of it (0.026)
        ("retention_rate", 0.50, 0.52, 0.05, -0.02, -0.02 / 0.52, "on_track"),
        ("retention_rate", 0.45, 0.52, 0.05, -0.07, -0.07 / 0.52, "behind"),
        ("retention_rate", 0.60, 0.52, 0.0, 0.08, 0.08 / 0.52, "on_track"),
        # lower is better: churn above target by more than the tolerance is behind
        ("churn_rate", 0.53, 0.52, 0.05, 0.01, 0.01 / 0.52, "on_track"),
        ("churn_rate", 0.55, 0.52, 0.05, 0.03, 0.03 / 0.52, "behind"),
        ("churn_rate", 0.40, 0.52, 0.0, -0.12, -0.12 / 0.52, "on_track"),
        # a monthly count target over a whole month; exactly on the edge is on track
        ("new_customers", 95, 100, 0.05, -5, -0.05, "on_track"),
        ("new_customers", 94, 100, 0.05, -6, -0.06, "behind"),
        # a negative NPS target: the tolerance is a share of |target|
        ("nps", -12, -10, 0.1, -2, -0.2, "behind"),
        ("nps", -10.5, -10, 0.1, -0.5, -0.05, "on_track"),
        # a zero target: no gap share, exact comparison
        ("churn_rate", 0.0, 0.0, 0.05, 0.0, None, "on_track"),
        ("churn_rate", 0.01, 0.0, 0.05, 0.01, None, "behind"),
    ],
)
def test_gap_and_status(metric, actual, target, tolerance, gap, share, status) -> None:
    row = _one(metric, actual, target, tolerance)
    assert row["target"] == pytest.approx(target)
    assert row["gap"] == pytest.approx(gap)
    assert row["gap_share"] == (None if share is None else pytest.approx(share))
    assert row["status"] == status


def test_missing_target_or_actual() -> None:
    row = _one("retention_rate", 0.5, None)
    assert (row["target"], row["gap"], row["gap_share"], row["status"]) == (
        None, None, None, "no_target",
    )  # fmt: skip
    row = _one("average_clv", None, 500.0)
    assert (row["gap"], row["status"]) == (None, "no_data")


def test_bad_inputs_are_user_errors() -> None:
    with pytest.raises(VinculoError) as caught:
        TargetRules(1.5)
    assert caught.value.key == "relationships.bad_tolerance"
    with pytest.raises(VinculoError) as caught:
        _one("happiness", 1.0, 1.0)
    assert caught.value.key == "relationships.unknown_metric"


def test_scorecard_takes_the_last_period_and_the_tier_upgrade_rate(hand) -> None:
    measures = relationship_series(hand, JAN, END, "month")
    card = scorecard(measures.series, {"new_customers": 4, "retention_rate": 0.5}, TargetRules(),
                     tier_upgrade_rate=0.25)  # fmt: skip
    assert card["metric"].to_list() == [*SERIES_METRICS, "tier_upgrade_rate"]
    rows = {r["metric"]: r for r in card.iter_rows(named=True)}
    assert rows["new_customers"]["start"] == MAR
    assert (rows["new_customers"]["gap"], rows["new_customers"]["status"]) == (-2, "behind")
    assert rows["retention_rate"]["status"] == "on_track"  # 2/3 ≥ 0.5
    assert rows["tier_upgrade_rate"]["actual"] == 0.25
    assert rows["tier_upgrade_rate"]["stage"] == "development"
    assert rows["cross_buying_rate"]["status"] == "no_target"


def test_kpis_against_targets_in_march(hand) -> None:
    targets = {"new_customers": 2, "active_customers": 5, "churn_rate": 0.3, "net_revenue": 350,
               "average_clv": 100}  # fmt: skip
    out = kpis_against_targets(hand, Period(MAR, END), BusinessSettings(targets=targets))
    assert out.columns == ["kpi", "actual", "target", "gap", "gap_share", "status"]
    assert out["kpi"].to_list() == list(TARGET_KPIS)
    rows = {r["kpi"]: r for r in out.iter_rows(named=True)}
    assert (rows["new_customers"]["actual"], rows["new_customers"]["status"]) == (2, "on_track")
    active = rows["active_customers"]
    assert (active["actual"], active["gap"], active["gap_share"]) == (4, -1, -0.2)
    assert active["status"] == "behind"
    assert rows["churn_rate"]["actual"] == pytest.approx(1 / 3)
    assert rows["churn_rate"]["status"] == "behind"  # 0.333 > 0.3 · 1.05
    assert (rows["net_revenue"]["actual"], rows["net_revenue"]["gap"]) == (350, 0)
    assert rows["average_clv"]["status"] == "no_data"  # no CLV frame given
    assert rows["csat"]["status"] == "no_target"


def test_every_target_id_is_a_metric() -> None:
    assert set(TARGET_KPIS) <= set(METRICS)


def _tiers(pairs: dict[str, str]) -> pl.DataFrame:
    return pl.DataFrame({"customer_id": list(pairs), "tier": list(pairs.values())})


TIERS = ("platinum", "gold", "silver", "bronze")


def test_tier_matrix_and_movements() -> None:
    before = _tiers({"a": "platinum", "b": "gold", "c": "silver", "d": "No purchase",
                     "e": "gold", "f": "bronze", "g": "gold"})  # fmt: skip
    after = _tiers({"a": "gold", "b": "platinum", "c": "silver", "d": "bronze", "e": "gold",
                    "f": "silver", "h": "platinum"})  # fmt: skip
    matrix = tier_matrix(before, after, (*TIERS, "No purchase"))
    assert matrix["tier"].to_list() == [*TIERS, "No purchase"]
    assert matrix.columns == ["tier", *TIERS, "No purchase"]
    assert matrix.filter(pl.col("tier") == "gold").row(0) == ("gold", 1, 1, 0, 0, 0)
    assert matrix.select(pl.exclude("tier")).sum_horizontal().sum() == 6  # g, h left out
    moves = tier_movements(matrix, TIERS)
    assert moves == {"stayed": 2, "upgraded": 2, "downgraded": 1, "left": 0, "entered": 1,
                     "tiered_before": 5, "upgrade_rate": 0.4, "downgrade_rate": 0.2}  # fmt: skip


def test_tier_movements_without_tiered_customers() -> None:
    nobody = _tiers({"a": "No purchase"})
    moves = tier_movements(tier_matrix(nobody, nobody, (*TIERS, "No purchase")), TIERS)
    assert moves["tiered_before"] == 0
    assert moves["upgrade_rate"] is None

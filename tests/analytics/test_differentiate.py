"""Differentiate: value concentration (Pareto, top shares, Gini), the value cube and its
tables, and two segmentations side by side — every golden value computed by hand."""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np
import polars as pl
import pytest

from crm_core.differentiate import (
    absolute_tier_cuts,
    buyer_values,
    concentration,
    default_tier_shares,
    group_value,
    moved_customers,
    movement_matrix,
    rf_grid,
    size_comparison,
    value_base,
    value_cube,
    value_tree,
)
from crm_core.segment_config import RFMSettings, SegmentConfig, TierSettings
from crm_core.segments import compare_segmentations, segment_customers, segment_values

# ---- concentration -----------------------------------------------------------------------


def test_five_customers_by_hand() -> None:
    # Sorted, most valuable first: 40, 30, 20, 10, 0 of a total 100.
    # Pareto P(k/5) = 0, .4, .7, .9, 1, 1; Lorenz L = 0, .1, .3, .6, 1 (least valuable first);
    # area under Lorenz (trapezoids of width 1/5) = (0+.1+.4+.9+1.6)/10 = .3, so G = 1 − .6.
    out = concentration(pl.Series([40.0, 0.0, 20.0, 10.0, 30.0]), points=5)
    assert (out.customers, out.total) == (5, 100.0)
    assert out.gini == pytest.approx(0.4)
    assert out.curve["customer_share"].to_list() == pytest.approx([0, 0.2, 0.4, 0.6, 0.8, 1])
    assert out.curve["value_share"].to_list() == pytest.approx([0, 0.4, 0.7, 0.9, 1.0, 1.0])
    # top 1 % = 0.05 of the best customer (40) = 2; top 5 % = 0.25 of it = 10;
    # top 20 % = exactly the best customer = 40 (all out of 100)
    assert out.top["customer_share"].to_list() == [0.01, 0.05, 0.20]
    assert out.top["value_share"].to_list() == pytest.approx([0.02, 0.10, 0.40])


def test_top_share_between_customers_is_interpolated() -> None:
    # top 30 % of 5 customers = 1.5 customers: 40 + half of 30 = 55 of 100
    out = concentration(pl.Series([40.0, 0.0, 20.0, 10.0, 30.0]), shares=(0.3, 1.0))
    assert out.top["value_share"].to_list() == pytest.approx([0.55, 1.0])


@pytest.mark.parametrize(
    ("values", "gini"),
    [
        ([5.0, 5.0, 5.0, 5.0], 0.0),  # everyone equal
        ([0.0, 0.0, 0.0, 8.0], 0.75),  # one holds all: (n − 1)/n
        ([-5.0, None, 10.0, 10.0], 0.5),  # negative and missing count as 0: [0, 0, 10, 10]
    ],
)
def test_gini_by_hand(values: list[float | None], gini: float) -> None:
    assert concentration(pl.Series(values, dtype=pl.Float64)).gini == pytest.approx(gini)


def test_gini_equals_the_mean_absolute_difference_formula() -> None:
    """G = Σᵢ Σⱼ |xᵢ − xⱼ| / (2·n²·mean): an independent definition of the same number."""
    rng = random.Random(3)
    for n in (1, 2, 7, 50):
        x = np.array([rng.expovariate(0.01) for _ in range(n)])
        expected = np.abs(x[:, None] - x[None, :]).sum() / (2 * n * n * x.mean())
        assert concentration(pl.Series(x)).gini == pytest.approx(expected)


def test_nothing_to_rank() -> None:
    for values in ([], [0.0, 0.0]):
        out = concentration(pl.Series(values, dtype=pl.Float64))
        assert out.gini is None
        assert out.curve.height == 0
        assert out.top["value_share"].to_list() == [None, None, None]


def test_curve_is_sampled_exactly() -> None:
    values = pl.Series([float(v) for v in range(1, 1001)])
    out = concentration(values, points=10)
    assert out.curve.height == 11
    # the top 10 % (100 customers: 901..1000) hold 95050 of 500500
    assert out.curve["value_share"][1] == pytest.approx(95050 / 500500)


# ---- the value cube ------------------------------------------------------------------------


def _summary() -> pl.DataFrame:
    """Five buyers and a lead (f)."""
    return pl.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e", "f"],
            "recency_days": [10, 20, 200, 400, 30, None],
            "purchase_days": [5, 1, 3, 1, 2, 0],
            "revenue": [500.0, 50.0, 300.0, 20.0, 130.0, 0.0],
        }
    )


def _clv() -> pl.DataFrame:
    return pl.DataFrame({"customer_id": ["e", "a", "b", "c"], "clv": [60.0, 200.0, 40.0, 10.0]})


def _segmented() -> pl.DataFrame:
    segment = pl.Enum(["Top", "Mid", "Empty", "No purchase"])
    tier = pl.Enum(["gold", "silver", "No purchase"])
    return pl.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d", "e", "f"],
            "r_score": [5, 5, 2, 1, 5, None],
            "f_score": [5, 1, 4, 1, 3, None],
            "segment": ["Top", "Mid", "Top", "Mid", "Mid", "No purchase"],
            "tier": ["gold", "silver", "gold", "silver", "silver", "No purchase"],
        },
        schema_overrides={"r_score": pl.Int8, "f_score": pl.Int8, "segment": segment, "tier": tier},
    )


def test_value_base_keeps_the_summary_order() -> None:
    base = value_base(_summary(), _clv())
    assert base["customer_id"].to_list() == list("abcdef")
    assert base["clv"].to_list() == [200.0, 40.0, 10.0, None, 60.0, None]
    assert "clv" not in value_base(_summary()).columns


def test_group_value_by_hand() -> None:
    cube = value_cube(value_base(_summary(), _clv()), _segmented(), churn_window_days=180)
    out = group_value(cube, "segment")
    assert out["segment"].cast(pl.String).to_list() == ["Top", "Mid", "Empty", "No purchase"]
    top, mid, empty, none = out.iter_rows(named=True)
    # Top = a, c: revenue 800 of 1000, CLV 210 of 310; c lapsed (200 ≥ 180)
    assert (top["customers"], top["share"], top["revenue"]) == (2, 2 / 6, 800.0)
    assert top["revenue_share"] == pytest.approx(0.8)
    assert (top["buyers"], top["lapsed_share"]) == (2, 0.5)
    assert (top["clv"], top["mean_clv"]) == (210.0, 105.0)
    assert top["clv_share"] == pytest.approx(210 / 310)
    # Mid = b, d, e: d has no CLV score (mean over b and e); d lapsed (400 ≥ 180)
    assert (mid["customers"], mid["revenue"], mid["clv"], mid["mean_clv"]) == (
        3,
        200.0,
        100.0,
        50.0,
    )
    assert mid["lapsed_share"] == pytest.approx(1 / 3)
    # an empty segment is listed with zeros; the lead has no buyers, so no lapsed share
    assert (empty["customers"], empty["revenue"], empty["mean_clv"]) == (0, 0.0, None)
    assert (none["customers"], none["buyers"], none["lapsed_share"]) == (1, 0, None)


def test_churn_window_moves_the_lapsed_share() -> None:
    base = value_base(_summary(), _clv())
    out = group_value(value_cube(base, _segmented(), churn_window_days=20), "segment")
    # Top: a (10) active, c (200) lapsed; Mid: b (20), d (400), e (30) all lapsed at 20 days
    assert out["lapsed_share"].to_list()[:2] == [0.5, 1.0]


def test_group_value_by_tier_without_clv() -> None:
    out = group_value(value_cube(value_base(_summary()), _segmented()), "tier")
    assert out["tier"].cast(pl.String).to_list() == ["gold", "silver", "No purchase"]
    assert out["customers"].to_list() == [2, 3, 1]
    assert out["revenue"].to_list() == [800.0, 200.0, 0.0]
    assert "mean_clv" not in out.columns


def test_rf_grid_by_hand() -> None:
    grid = rf_grid(value_cube(value_base(_summary(), _clv()), _segmented()), SegmentConfig())
    assert grid.height == 25 and grid["customers"].sum() == 5  # the lead is not scored
    cells = {(r, f): row for r, f, *_, row in zip(
        grid["r_score"], grid["f_score"], grid.iter_rows(named=True), strict=True
    )}  # fmt: skip
    assert (cells[(5, 5)]["customers"], cells[(5, 5)]["revenue"]) == (1, 500.0)
    assert cells[(5, 5)]["mean_clv"] == 200.0
    assert (cells[(1, 1)]["customers"], cells[(1, 1)]["mean_clv"]) == (1, None)  # d: no score
    assert (cells[(3, 3)]["customers"], cells[(3, 3)]["revenue"]) == (0, 0.0)
    # the default grid ignores M, so every cell has one segment
    assert cells[(5, 5)]["segment"] == "Champions"
    assert cells[(1, 1)]["segment"] == "Lost"
    assert cells[(2, 4)]["segment"] == "At Risk"


def test_rf_grid_cell_split_by_monetary_has_no_single_segment() -> None:
    config = SegmentConfig()
    split = replace(config, rules=(replace(config.rules[0], m=(4, 5)), *config.rules[1:]))
    grid = rf_grid(value_cube(value_base(_summary()), _segmented()), split)
    assert grid.filter((pl.col("r_score") == 5) & (pl.col("f_score") == 5))["segment"][0] is None


def test_value_tree_by_hand() -> None:
    tree = value_tree(value_cube(value_base(_summary(), _clv()), _segmented()))
    rows = [(str(s), str(t), n, rev, clv) for s, t, n, rev, clv in tree.iter_rows()]
    assert rows == [("Top", "gold", 2, 800.0, 210.0), ("Mid", "silver", 3, 200.0, 100.0)]


def test_buyer_values_leave_out_leads() -> None:
    assert buyer_values(value_base(_summary()), "revenue").to_list() == [500, 50, 300, 20, 130]


# ---- segmenting the joined base ------------------------------------------------------------


def _random_summary(n: int, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = random.Random(seed)
    buys = [rng.choice([0, 1, 1, 2, 3, 5, 9]) for _ in range(n)]
    summary = pl.DataFrame({
        "customer_id": [f"c{i:03d}" for i in range(n)],
        "recency_days": [rng.randint(0, 700) if b else None for b in buys],
        "purchase_days": buys,
        "revenue": [round(rng.expovariate(0.002), 2) if b else 0.0 for b in buys],
    })  # fmt: skip
    scored = summary.filter(pl.col("purchase_days") > 0).sample(fraction=0.8, seed=seed)
    clv = scored.select("customer_id", (pl.col("revenue") * 0.3).alias("clv"))
    return summary, clv


@pytest.mark.parametrize(
    "config",
    [
        SegmentConfig(),
        SegmentConfig(rfm=RFMSettings(mode="thresholds"), tiers=TierSettings(value="revenue")),
        SegmentConfig(tiers=TierSettings(mode="absolute", cuts=(10.0, 50.0, 200.0))),
    ],
    ids=["quantile-clv", "thresholds-revenue", "absolute-clv"],
)
def test_segment_values_equals_segment_customers(config: SegmentConfig) -> None:
    summary, clv = _random_summary(300, seed=5)
    assert segment_values(value_base(summary, clv), config).equals(
        segment_customers(summary, config, clv)
    )
    assert segment_values(value_base(summary), config).equals(segment_customers(summary, config))


def test_absolute_cuts_reproduce_the_percentile_tiers() -> None:
    # ten buyers worth 100, 200, …, 1000; top 20 % = {1000, 900}, top 50 % = from 600 up
    summary = pl.DataFrame({
        "customer_id": [f"c{i}" for i in range(10)], "recency_days": [5] * 10,
        "purchase_days": [1] * 10, "revenue": [100.0 * (i + 1) for i in range(10)],
    })  # fmt: skip
    tiers = TierSettings(names=("a", "b", "c"), cuts=(0.2, 0.5), value="revenue")
    cuts = absolute_tier_cuts(value_base(summary), tiers)
    assert cuts == (600.0, 900.0)
    percentile = segment_customers(summary, SegmentConfig(tiers=tiers))
    absolute = segment_customers(
        summary, SegmentConfig(tiers=replace(tiers, mode="absolute", cuts=cuts))
    )
    assert percentile["tier"].to_list() == absolute["tier"].to_list()


def test_absolute_cuts_stay_increasing_with_ties_and_without_buyers() -> None:
    summary = pl.DataFrame({
        "customer_id": ["a", "b", "c"], "recency_days": [1, 1, 1], "purchase_days": [1, 1, 1],
        "revenue": [50.0, 50.0, 50.0],
    })  # fmt: skip
    assert absolute_tier_cuts(value_base(summary), TierSettings(value="revenue")) == (
        50.0, 51.0, 52.0,
    )  # fmt: skip
    nobody = summary.with_columns(pl.lit(0).alias("purchase_days"))
    assert absolute_tier_cuts(value_base(nobody), TierSettings()) == (1.0, 2.0, 3.0)
    assert default_tier_shares(3) == (0.05, 0.20, 0.50)
    assert default_tier_shares(1) == (0.5,)


# ---- two segmentations side by side --------------------------------------------------------


def test_movement_matrix_by_hand() -> None:
    dtype = pl.Enum(["X", "Y", "Z"])
    a = pl.DataFrame({"customer_id": list("abcde"), "segment": ["X", "X", "Y", "Y", "Z"]},
                     schema_overrides={"segment": dtype})  # fmt: skip
    b = pl.DataFrame({"customer_id": list("abcde"), "segment": ["X", "Y", "Y", "Z", "Z"]},
                     schema_overrides={"segment": dtype})  # fmt: skip
    matrix = movement_matrix(a, b)
    assert matrix.columns == ["segment", "X", "Y", "Z"]
    assert matrix.rows() == [("X", 1, 1, 0), ("Y", 0, 1, 1), ("Z", 0, 0, 1)]
    assert moved_customers(matrix) == 2  # b: X → Y, d: Y → Z
    sizes = size_comparison(a, b)
    assert sizes.rows() == [("X", 2, 1, -1), ("Y", 2, 2, 0), ("Z", 1, 2, 1)]
    assert size_comparison(a, b, matrix).equals(sizes)  # the matrix's row and column sums


def test_movement_matrix_equals_compare_segmentations() -> None:
    summary, clv = _random_summary(400, seed=11)
    base = value_base(summary, clv)
    a = segment_values(base, SegmentConfig())
    b = segment_values(base, SegmentConfig(rfm=RFMSettings(mode="thresholds")))
    assert movement_matrix(a, b).equals(compare_segmentations(a, b))
    shuffled = b.sample(fraction=1.0, shuffle=True, seed=2)  # not aligned: the join path
    assert movement_matrix(a, shuffled).equals(compare_segmentations(a, b))
    assert moved_customers(movement_matrix(a, a)) == 0


def test_size_comparison_lists_labels_of_both_sides() -> None:
    a = pl.DataFrame({"customer_id": ["a", "b"], "segment": ["Old", "Kept"]})
    b = pl.DataFrame({"customer_id": ["a", "b"], "segment": ["New", "Kept"]})
    sizes = size_comparison(a, b)
    assert sizes.rows() == [("Kept", 1, 1, 0), ("Old", 1, 0, -1), ("New", 0, 1, 1)]
    assert size_comparison(a, b, movement_matrix(a, b)).equals(sizes)
    assert moved_customers(movement_matrix(a, b)) == 1


def test_value_cube_same_with_or_without_enums() -> None:
    """The integer-coded grouping (Enum columns) equals a plain grouping (String columns)."""
    summary, clv = _random_summary(500, seed=8)
    base = value_base(summary, clv)
    segmented = segment_values(base, SegmentConfig())
    coded = value_cube(base, segmented, 120)
    plain = value_cube(base, segmented.with_columns(pl.col("segment", "tier").cast(pl.String)), 120)
    keys = ["r_score", "f_score", "segment", "tier"]
    coded = coded.with_columns(pl.col("segment", "tier").cast(pl.String)).sort(keys)
    assert coded.equals(plain.select(coded.columns).sort(keys))
    assert coded["customers"].sum() == 500


def test_movement_matrix_in_segment_order() -> None:
    a = pl.DataFrame({"customer_id": list("abc"), "segment": ["Z", "A", "Z"]},
                     schema_overrides={"segment": pl.Enum(["Z", "M", "A"])})  # fmt: skip
    b = pl.DataFrame({"customer_id": list("abc"), "segment": ["Y", "B", "B"]},
                     schema_overrides={"segment": pl.Enum(["Y", "B"])})  # fmt: skip
    ordered = movement_matrix(a, b, ordered=True)
    assert ordered.columns == ["segment", "Y", "B"]  # b's order; nobody in M: no row
    assert ordered.rows() == [("Z", 1, 1), ("A", 0, 1)]
    assert movement_matrix(a, b).rows() == [("A", 1, 0), ("Z", 1, 1)]  # by name: B, Y

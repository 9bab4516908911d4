"""RFM scores, the segment map and value tiers on hand-computed examples."""

from __future__ import annotations

from dataclasses import replace

import polars as pl
import pytest

from crm_core.errors import VinculoError
from crm_core.segments import (
    DEFAULT_RULES,
    RFMSettings,
    SegmentConfig,
    SegmentRule,
    TierSettings,
    default_config,
    segment_customers,
)


def summary_of(
    recency: list[int | None],
    purchase_days: list[int],
    revenue: list[float],
) -> pl.DataFrame:
    """A minimal summary: customers c0, c1, … with the given R, F, M columns."""
    n = len(recency)
    return pl.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "recency_days": pl.Series(recency, dtype=pl.Int64),
            "purchase_days": pl.Series(purchase_days, dtype=pl.Int64),
            "revenue": pl.Series(revenue, dtype=pl.Float64),
        }
    )


def thresholds(**cuts: tuple[float, ...]) -> SegmentConfig:
    return replace(default_config(), rfm=RFMSettings(mode="thresholds", **cuts))


# --- quantile mode -------------------------------------------------------------------------


def test_quantile_scores_of_ten_distinct_values() -> None:
    # p = share strictly worse = 0, .1, …, .9 → score 1 + ⌊5p⌋ = 1 1 2 2 3 3 4 4 5 5
    s = summary_of(list(range(10, 0, -1)), list(range(1, 11)), [10.0 * i for i in range(1, 11)])
    out = segment_customers(s, default_config())
    expected = [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert out["r_score"].to_list() == expected  # recency 10 (worst) … 1 (best)
    assert out["f_score"].to_list() == expected
    assert out["m_score"].to_list() == expected


def test_quantile_ties_share_a_score_and_leads_are_not_ranked() -> None:
    # Six customers tie on revenue 5: nobody is strictly worse → p = 0 → 1.
    # 10: 6 worse of 10 → p .6 → 4; 20: .7 → 4; 30: .8 → 5; 40: .9 → 5.
    revenue = [5.0] * 6 + [10.0, 20.0, 30.0, 40.0, 999.0]
    s = summary_of([1] * 10 + [None], [1] * 10 + [0], revenue)  # last one: a lead
    out = segment_customers(s, default_config())
    assert out["m_score"].to_list() == [1] * 6 + [4, 4, 5, 5, None]
    # Everyone ties on recency and frequency: all score 1.
    assert out["r_score"].to_list()[:10] == [1] * 10
    assert out["f_score"].to_list()[:10] == [1] * 10
    assert out["segment"].to_list()[10] == "No purchase"
    assert out["rfm_score"].to_list()[6] == 114


def test_quantile_with_fewer_customers_than_scores() -> None:
    # n = 2: p = 0 and 0.5 → scores 1 and 3.
    out = segment_customers(summary_of([5, 1], [1, 2], [1.0, 2.0]), default_config())
    assert out["r_score"].to_list() == [1, 3]
    assert out["m_score"].to_list() == [1, 3]


# --- thresholds mode -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("recency", "score"),
    [(0, 5), (30, 5), (31, 4), (90, 4), (91, 3), (180, 3), (181, 2), (365, 2), (366, 1)],
)
def test_recency_cut_points_are_inclusive_upper_bounds(recency: int, score: int) -> None:
    out = segment_customers(summary_of([recency], [1], [1.0]), thresholds())
    assert out["r_score"].item() == score


@pytest.mark.parametrize(
    ("days", "score"), [(1, 1), (2, 2), (3, 3), (4, 3), (5, 4), (7, 4), (8, 5), (40, 5)]
)
def test_frequency_cut_points_are_inclusive_lower_bounds(days: int, score: int) -> None:
    out = segment_customers(summary_of([1], [days], [1.0]), thresholds())
    assert out["f_score"].item() == score


@pytest.mark.parametrize(
    ("revenue", "score"),
    [(-10.0, 1), (249.99, 1), (250.0, 2), (749.99, 2), (750.0, 3), (2000.0, 4), (5000.0, 5)],
)
def test_monetary_cut_points(revenue: float, score: int) -> None:
    out = segment_customers(summary_of([1], [1], [revenue]), thresholds())
    assert out["m_score"].item() == score


# --- the segment map -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("r", "f", "m", "segment"),
    [
        (5, 5, 1, "Champions"),
        (5, 4, 5, "Champions"),
        (4, 5, 5, "Loyal"),
        (3, 4, 1, "Loyal"),
        (5, 3, 3, "Potential Loyalist"),
        (4, 2, 1, "Potential Loyalist"),
        (5, 1, 5, "New"),
        (4, 1, 1, "Promising"),
        (3, 3, 3, "Need Attention"),
        (3, 2, 2, "About to Sleep"),
        (3, 1, 1, "About to Sleep"),
        (2, 5, 5, "Cannot Lose Them"),
        (1, 5, 1, "Cannot Lose Them"),
        (2, 4, 4, "At Risk"),
        (1, 3, 3, "At Risk"),
        (2, 2, 2, "Hibernating"),
        (2, 1, 5, "Hibernating"),
        (1, 2, 2, "Lost"),
        (1, 1, 1, "Lost"),
    ],
)
def test_default_grid(r: int, f: int, m: int, segment: str) -> None:
    assert default_config().segment_of(r, f, m) == segment


def test_default_grid_covers_every_cell_exactly_once() -> None:
    for r in range(1, 6):
        for f in range(1, 6):
            hits = [rule.name for rule in DEFAULT_RULES if rule.matches(r, f, 3)]
            assert len(hits) == 1, (r, f, hits)
    assert len({rule.name for rule in DEFAULT_RULES}) == 11


@pytest.mark.parametrize(
    ("r", "f", "m", "segment"),
    [(5, 5, 5, "VIP"), (5, 5, 4, "Recent"), (4, 1, 1, "Recent"), (2, 5, 5, "Rest")],
)
def test_first_matching_rule_wins_then_catch_all(r: int, f: int, m: int, segment: str) -> None:
    rules = (SegmentRule("VIP", r=(5, 5), m=(5, 5)), SegmentRule("Recent", r=(4, 5)))
    config = replace(default_config(), rules=rules, catch_all="Rest")
    assert config.segment_of(r, f, m) == segment


def test_segments_assigned_from_scores() -> None:
    # thresholds: c0 R5 F5 M5 → Champions; c1 R1 F1 M1 → Lost; c2 R4 F1 → Promising.
    s = summary_of([3, 400, 40, None], [10, 1, 1, 0], [6000.0, 10.0, 100.0, 0.0])
    out = segment_customers(s, thresholds())
    assert out["segment"].to_list() == ["Champions", "Lost", "Promising", "No purchase"]
    assert out["rfm_score"].to_list() == [555, 111, 411, None]
    assert out.columns == ["customer_id", "r_score", "f_score", "m_score", "rfm_score",
                           "segment", "tier"]  # fmt: skip


# --- value tiers ---------------------------------------------------------------------------


def test_percentile_tiers_top_shares() -> None:
    # 20 customers, revenue 1..20; p = share strictly higher. 20 → p 0 → platinum;
    # 19, 18, 17 → p .05–.15 → gold; 16 … 11 → p .20–.45 → silver; 10 … 1 → bronze.
    s = summary_of([1] * 20, [1] * 20, [float(v) for v in range(1, 21)])
    tiers = segment_customers(s, default_config())["tier"].value_counts()
    counts = dict(zip(tiers["tier"].to_list(), tiers["count"].to_list(), strict=True))
    assert counts == {"platinum": 1, "gold": 3, "silver": 6, "bronze": 10}


def test_percentile_ties_share_a_tier() -> None:
    s = summary_of([1] * 4, [1] * 4, [50.0, 50.0, 50.0, 10.0])
    assert segment_customers(s, default_config())["tier"].to_list() == ["platinum"] * 3 + ["bronze"]


@pytest.mark.parametrize(
    ("value", "tier"),
    [(99.99, "lead"), (100.0, "iron"), (499.0, "iron"), (500.0, "gold"), (1000.0, "platinum")],
)
def test_absolute_tiers_with_editable_names(value: float, tier: str) -> None:
    tiers = TierSettings(
        names=("platinum", "gold", "iron", "lead"), mode="absolute", cuts=(100.0, 500.0, 1000.0)
    )
    config = replace(default_config(), tiers=tiers)
    assert segment_customers(summary_of([1], [1], [value]), config)["tier"].item() == tier


def test_tiers_rank_on_clv_when_given() -> None:
    s = summary_of([1, 1, 1, None], [1, 1, 1, 0], [1000.0, 10.0, 10.0, 0.0])
    clv = pl.DataFrame({"customer_id": ["c0", "c1", "c2", "c3"], "clv": [1.0, 900.0, None, 5.0]})
    tiers = TierSettings(names=("top", "rest"), mode="absolute", cuts=(500.0,))
    config = replace(default_config(), tiers=tiers)
    out = segment_customers(s, config, clv)
    assert out["tier"].to_list() == ["rest", "top", "rest", "No purchase"]  # null CLV → last
    by_revenue = replace(config, tiers=replace(tiers, value="revenue"))
    assert segment_customers(s, by_revenue, clv)["tier"].to_list()[:3] == ["top", "rest", "rest"]


def test_tiers_on_clv_without_clv_is_a_user_error() -> None:
    config = replace(default_config(), tiers=TierSettings(value="clv"))
    with pytest.raises(VinculoError) as info:
        segment_customers(summary_of([1], [1], [1.0]), config)
    assert info.value.key == "segments.no_clv"


def test_missing_columns_is_a_user_error() -> None:
    with pytest.raises(VinculoError) as info:
        segment_customers(pl.DataFrame({"customer_id": ["a"]}), default_config())
    assert info.value.key == "segments.missing_columns"


def test_nobody_scored() -> None:
    out = segment_customers(summary_of([None], [0], [0.0]), default_config())
    assert out["segment"].to_list() == ["No purchase"] and out["tier"].to_list() == ["No purchase"]

"""Invariants of segmentation (hypothesis): one segment and tier each, sizes add up,
scores follow the definition, moving a threshold moves counts one way only."""

from __future__ import annotations

from dataclasses import replace

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_core.segments import (
    RFMSettings,
    SegmentConfig,
    SegmentRule,
    TierSettings,
    default_config,
    segment_customers,
)

customers = st.lists(
    st.tuples(st.integers(0, 400), st.integers(0, 8), st.integers(0, 30)),
    min_size=1,
    max_size=60,
)


def summary_from(rows: list[tuple[int, int, int]]) -> pl.DataFrame:
    """(recency, purchase days, revenue/10) per customer; no purchase → null recency, 0."""
    return pl.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(len(rows))],
            "recency_days": pl.Series([r if f else None for r, f, _ in rows], dtype=pl.Int64),
            "purchase_days": pl.Series([f for _, f, _ in rows], dtype=pl.Int64),
            "revenue": pl.Series([10.0 * m if f else 0.0 for _, f, m in rows], dtype=pl.Float64),
        }
    )


def cuts(low: int, high: int, count: int = 4) -> st.SearchStrategy[tuple[float, ...]]:
    return st.lists(st.integers(low, high), min_size=count, max_size=count, unique=True).map(
        lambda v: tuple(float(x) for x in sorted(v))
    )


score_range = st.tuples(st.integers(1, 5), st.integers(1, 5)).map(lambda p: tuple(sorted(p)))
rules = st.lists(
    st.builds(SegmentRule, st.sampled_from(["A", "B", "C", "D"]), score_range, score_range,
              score_range),
    min_size=1, max_size=6,
)  # fmt: skip
rfm_settings = st.builds(
    RFMSettings,
    st.sampled_from(["quantile", "thresholds"]),
    cuts(0, 400),
    cuts(1, 9),
    cuts(0, 300),
)
configs = st.builds(
    lambda rfm, rs, tiers: replace(default_config(), rfm=rfm, rules=tuple(rs), tiers=tiers),
    rfm_settings,
    rules,
    st.one_of(
        st.builds(TierSettings, mode=st.just("percentile"), cuts=cuts(1, 99, 3).map(
            lambda c: tuple(x / 100 for x in c))),
        st.builds(TierSettings, mode=st.just("absolute"), cuts=cuts(0, 300, 3)),
    ),
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(customers, configs)
def test_every_customer_in_exactly_one_segment_and_tier(
    rows: list[tuple[int, int, int]], config: SegmentConfig
) -> None:
    summary = summary_from(rows)
    out = segment_customers(summary, config)
    assert out.height == summary.height
    assert out["customer_id"].to_list() == summary["customer_id"].to_list()
    assert out["segment"].null_count() == 0 and out["tier"].null_count() == 0
    assert set(out["segment"].cast(pl.String)) <= set(config.segment_names)
    sizes = out.group_by("segment").len()
    assert sizes["len"].sum() == summary.height
    buyers = out.filter(pl.col("r_score").is_not_null())
    assert buyers.height == sum(1 for _, f, _ in rows if f)
    for r, f, m, segment in buyers.select("r_score", "f_score", "m_score", "segment").rows():
        assert min(r, f, m) >= 1 and max(r, f, m) <= 5
        assert segment == config.segment_of(r, f, m)


def brute_quantile_scores(values: list[float | None], lower_is_better: bool) -> list[int | None]:
    """1 + ⌊5·p⌋, p = share of scored customers with a strictly worse value (slow, obvious)."""
    scored = [v for v in values if v is not None]
    n = len(scored)
    out: list[int | None] = []
    for v in values:
        if v is None:
            out.append(None)
            continue
        worse = sum(1 for w in scored if (w > v if lower_is_better else w < v))
        out.append(1 + (5 * worse) // n)
    return out


@settings(max_examples=200, deadline=None)
@given(customers)
def test_quantile_scores_match_the_definition(rows: list[tuple[int, int, int]]) -> None:
    summary = summary_from(rows)
    out = segment_customers(summary, default_config())
    buyer = [f > 0 for _, f, _ in rows]
    recency = [float(r) if b else None for (r, _, _), b in zip(rows, buyer, strict=True)]
    freq = [float(f) if b else None for (_, f, _), b in zip(rows, buyer, strict=True)]
    money = [10.0 * m if b else None for (_, _, m), b in zip(rows, buyer, strict=True)]
    assert out["r_score"].to_list() == brute_quantile_scores(recency, True)
    assert out["f_score"].to_list() == brute_quantile_scores(freq, False)
    assert out["m_score"].to_list() == brute_quantile_scores(money, False)


def brute_top_tier(values: list[float], share: float) -> int:
    """Customers with fewer than share·n values strictly above them."""
    n = len(values)
    return sum(1 for v in values if sum(1 for w in values if w > v) < share * n)


@settings(max_examples=150, deadline=None)
@given(customers, st.integers(1, 98), st.integers(1, 59))
def test_moving_a_threshold_moves_counts_one_way(
    rows: list[tuple[int, int, int]], first_share: int, delta: int
) -> None:
    summary = summary_from(rows)
    active = (SegmentRule("Active", r=(4, 5)),)
    base = replace(default_config(), rules=active, rfm=RFMSettings(mode="thresholds"))
    looser = replace(base, rfm=replace(base.rfm, recency_cuts=(30.0 + delta, 90, 180, 365)))
    before, after = segment_customers(summary, base), segment_customers(summary, looser)
    # A higher recency cut point can only raise R scores, so "Active" can only grow.
    assert (after["r_score"].fill_null(0) >= before["r_score"].fill_null(0)).all()
    assert (after["segment"] == "Active").sum() >= (before["segment"] == "Active").sum()

    stricter = replace(base, rfm=replace(base.rfm, frequency_cuts=(2.0, 3, 5, 8 + delta)))
    f_before, f_after = before["f_score"].fill_null(0), segment_customers(summary, stricter)
    assert (f_after["f_score"].fill_null(0) <= f_before).all()

    small = first_share / 100
    tiers = [
        replace(base, tiers=TierSettings(names=("top", "rest"), cuts=(share,)))
        for share in (small, min(small + delta / 100, 0.99))
    ]
    tops = [(segment_customers(summary, c)["tier"] == "top").sum() for c in tiers]
    assert tops[0] <= tops[1]
    buyers = [10.0 * m for _, f, m in rows if f]
    assert tops[0] == (brute_top_tier(buyers, small) if buyers else 0)

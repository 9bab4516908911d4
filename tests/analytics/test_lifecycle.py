"""Life-cycle stages (Dwyer, Schurr & Oh 1987): every rule, its boundaries, and the invariants."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_core.errors import VinculoError
from crm_core.lifecycle import (
    REASONS,
    STAGES,
    LifecycleRules,
    assign_stages,
    funnel,
    rule_table,
    stage_counts,
    stage_mix_by_cohort,
    transitions,
)

CHURN = 180
RULES = LifecycleRules()

# A repeat buyer who matches no rule but awareness/steady: the base every case edits.
BASE: dict[str, Any] = {
    "customer_id": "c1",
    "purchase_days": 2,
    "tenure_days": 200,
    "recency_days": 30,
    "revenue_recent": 100.0,
    "revenue_previous": 100.0,
    "orders_recent": 1,
    "orders_previous": 1,
    "first_purchase": date(2024, 1, 1),
}


def summary_of(*rows: dict[str, Any]) -> pl.DataFrame:
    """A summary frame with the contract dtypes from partial rows (missing fields from BASE)."""
    full = [{**BASE, "customer_id": f"c{i}", **row} for i, row in enumerate(rows, start=1)]
    return pl.DataFrame(
        full,
        schema={
            "customer_id": pl.String,
            "purchase_days": pl.Int64,
            "tenure_days": pl.Int64,
            "recency_days": pl.Int64,
            "revenue_recent": pl.Float64,
            "revenue_previous": pl.Float64,
            "orders_recent": pl.Int64,
            "orders_previous": pl.Int64,
            "first_purchase": pl.Date,
        },
    )


LEAD = {"purchase_days": 0, "tenure_days": None, "recency_days": None, "first_purchase": None}
LEAD.update(revenue_recent=0.0, revenue_previous=0.0, orders_recent=0, orders_previous=0)
LOYAL = {"purchase_days": 4, "tenure_days": 365, "orders_recent": 1, "orders_previous": 1}


@pytest.mark.parametrize(
    ("row", "p_alive", "stage", "reason"),
    [
        # dissolution: no purchase in (as_of - 180, as_of], i.e. recency >= 180
        ({"recency_days": 180, "tenure_days": 400}, None, "dissolution", "lapsed"),
        ({"recency_days": 179, "tenure_days": 400}, None, "awareness", "steady"),
        ({**LOYAL, "recency_days": 200, "tenure_days": 900}, None, "dissolution", "lapsed"),
        # dissolution by the model: strictly below the cut-off
        ({}, 0.29, "dissolution", "low_p_alive"),
        ({}, 0.30, "awareness", "steady"),
        ({"recency_days": 180}, 0.1, "dissolution", "lapsed"),  # lapsed checked first
        ({**LOYAL}, 0.05, "dissolution", "low_p_alive"),  # from any stage
        # exploration: a lead, whatever the model says, or one purchase day within 90 days
        (LEAD, None, "exploration", "no_purchase"),
        (LEAD, 0.01, "exploration", "no_purchase"),
        (
            {"purchase_days": 1, "tenure_days": 90, "recency_days": 90},
            None,
            "exploration",
            "first_purchase",
        ),
        (
            {"purchase_days": 1, "tenure_days": 0, "recency_days": 0},
            None,
            "exploration",
            "first_purchase",
        ),
        # awareness: one purchase day past exploration, even with recent revenue > previous
        (
            {
                "purchase_days": 1,
                "tenure_days": 91,
                "recency_days": 91,
                "revenue_previous": 0.0,
                "orders_previous": 0,
            },
            None,
            "awareness",
            "single_purchase",
        ),
        # commitment: each threshold at its boundary, and one step below
        (LOYAL, None, "commitment", "loyal"),
        ({**LOYAL, "revenue_recent": 500.0}, None, "commitment", "loyal"),  # beats expansion
        ({**LOYAL, "tenure_days": 364}, None, "awareness", "steady"),
        ({**LOYAL, "purchase_days": 3}, None, "awareness", "steady"),
        (
            {**LOYAL, "orders_previous": 0, "revenue_previous": 0.0},
            None,
            "expansion",
            "revenue_growth",
        ),
        ({**LOYAL, "orders_recent": 0, "revenue_recent": 0.0}, None, "awareness", "steady"),
        # expansion: revenue growth strictly above 10 %, or more orders than before
        ({"revenue_recent": 111.0}, None, "expansion", "revenue_growth"),
        ({"revenue_recent": 110.0}, None, "awareness", "steady"),
        ({"orders_recent": 2}, None, "expansion", "order_growth"),
        ({"orders_recent": 2, "revenue_recent": 50.0}, None, "expansion", "order_growth"),
        ({"revenue_recent": 90.0, "orders_recent": 0}, None, "awareness", "steady"),
    ],
)
def test_each_stage_rule(row: dict, p_alive: float | None, stage: str, reason: str) -> None:
    summary = summary_of(row)
    model = None if p_alive is None else pl.DataFrame({"customer_id": ["c1"], "p_alive": [p_alive]})
    staged = assign_stages(summary, RULES, CHURN, model)
    assert staged.select(pl.col("stage", "reason").cast(pl.String)).row(0) == (stage, reason)


def test_rules_are_configurable() -> None:
    """The same customer moves stage when a threshold moves past it."""
    summary = summary_of({"purchase_days": 1, "tenure_days": 100, "recency_days": 100})
    assert assign_stages(summary, RULES, CHURN)["stage"].cast(pl.String).to_list() == ["awareness"]
    wider = LifecycleRules.from_dict({"exploration_days": 120})
    assert assign_stages(summary, wider, CHURN)["stage"].cast(pl.String).to_list() == [
        "exploration"
    ]
    assert assign_stages(summary, RULES, 100)["stage"].cast(pl.String).to_list() == ["dissolution"]


def test_model_join_and_same_order_paths_agree() -> None:
    summary = summary_of({}, {}, LEAD, {"recency_days": 5})
    scores = pl.DataFrame(
        {"customer_id": ["c1", "c2", "c3", "c4"], "p_alive": [0.1, 0.9, 0.1, None]}
    )
    same = assign_stages(summary, RULES, CHURN, scores)
    shuffled = assign_stages(summary, RULES, CHURN, scores.head(3).reverse())
    expected = ["dissolution", "awareness", "exploration", "awareness"]
    assert same["stage"].cast(pl.String).to_list() == expected
    assert shuffled["customer_id"].to_list() == ["c1", "c2", "c3", "c4"]
    assert shuffled["stage"].cast(pl.String).to_list() == expected  # c4 unscored: no evidence
    carried = summary.join(scores, on="customer_id", how="left")
    assert assign_stages(carried, RULES, CHURN)["stage"].cast(pl.String).to_list() == expected


def test_rules_round_trip_and_validation() -> None:
    rules = LifecycleRules(exploration_days=30, expansion_growth=0.25)
    assert LifecycleRules.from_dict(rules.to_dict()) == rules
    assert LifecycleRules.from_dict({}) == LifecycleRules()
    with pytest.raises(VinculoError) as unknown:
        LifecycleRules.from_dict({"exploration_dayz": 30})
    assert unknown.value.key == "lifecycle.unknown_rule"
    for bad in ({"p_alive_cutoff": 1.5}, {"exploration_days": -1}, {"expansion_growth": "x"}):
        with pytest.raises(VinculoError) as invalid:
            LifecycleRules.from_dict(bad)
        assert invalid.value.key == "lifecycle.invalid_rule"
    with pytest.raises(VinculoError) as missing:
        assign_stages(summary_of({}).drop("orders_previous"), RULES, CHURN)
    assert "orders_previous" in missing.value.message("en")
    assert "orders_previous" in missing.value.message("pt_BR")


def test_stage_counts_and_funnel_by_hand() -> None:
    # 3 exploration, 2 awareness, 0 expansion, 1 commitment, 2 dissolution
    summary = summary_of(
        LEAD,
        LEAD,
        {"purchase_days": 1, "tenure_days": 5, "recency_days": 5},
        {},
        {"purchase_days": 1, "tenure_days": 100, "recency_days": 100},
        LOYAL,
        {"recency_days": 300},
        {"recency_days": 181},
    )
    staged = assign_stages(summary, RULES, CHURN)
    counts = stage_counts(staged)
    assert counts["stage"].to_list() == list(STAGES)
    assert counts["customers"].to_list() == [3, 2, 0, 1, 2]
    assert counts["share"].to_list() == [3 / 8, 2 / 8, 0.0, 1 / 8, 2 / 8]
    table = funnel(staged)
    assert table["stage"].to_list() == list(STAGES)
    # live customers: 6; reached >= awareness: 3; >= expansion: 1; >= commitment: 1
    assert table["reached"].to_list() == [6, 3, 1, 1, None]
    assert table["conversion"].to_list() == [None, 0.5, 1 / 3, 1.0, None]
    assert table["customers"].to_list() == [3, 2, 0, 1, 2]


def test_empty_summary_gives_zero_counts() -> None:
    staged = assign_stages(summary_of({}).clear(), RULES, CHURN)
    assert staged.height == 0
    counts = stage_counts(staged)
    assert counts["customers"].to_list() == [0] * 5
    assert counts["share"].to_list() == [0.0] * 5
    assert funnel(staged)["conversion"].null_count() == 5


def _staged(pairs: list[tuple[str, str]]) -> pl.DataFrame:
    ids, stages = zip(*pairs, strict=True) if pairs else ((), ())
    return pl.DataFrame({"customer_id": list(ids), "stage": list(stages)})


def test_transitions_by_hand() -> None:
    before = _staged(
        [("a", "exploration"), ("b", "exploration"), ("c", "commitment"), ("d", "awareness")]
    )
    after = _staged(
        [("a", "awareness"), ("b", "exploration"), ("c", "dissolution"), ("e", "exploration")]
    )
    moved = transitions(before, after)
    assert moved.rows() == [
        ("none", "exploration", 1),
        ("exploration", "exploration", 1),
        ("exploration", "awareness", 1),
        ("awareness", "none", 1),
        ("commitment", "dissolution", 1),
    ]


def test_stage_mix_by_cohort_by_hand() -> None:
    summary = summary_of(
        {"first_purchase": date(2024, 1, 31)},
        {"first_purchase": date(2024, 2, 1), "recency_days": 200},
        {"first_purchase": date(2024, 3, 15), "revenue_recent": 200.0},
        {**LEAD},
    )
    staged = assign_stages(summary, RULES, CHURN)
    monthly = stage_mix_by_cohort(staged, summary, "month")
    assert monthly.height == 3 * 5  # three cohorts, the lead has none
    assert monthly.filter(pl.col("customers") > 0).rows() == [
        (date(2024, 1, 1), "awareness", 1, 1.0),
        (date(2024, 2, 1), "dissolution", 1, 1.0),
        (date(2024, 3, 1), "expansion", 1, 1.0),
    ]
    quarterly = stage_mix_by_cohort(staged, summary, "quarter")
    assert quarterly["cohort"].unique().to_list() == [date(2024, 1, 1)]
    assert quarterly["stage"].to_list() == list(STAGES)
    assert quarterly["customers"].to_list() == [0, 1, 1, 0, 1]
    assert quarterly["share"].sum() == pytest.approx(1.0)
    with pytest.raises(VinculoError):
        stage_mix_by_cohort(staged, summary, "week")


# ---- properties --------------------------------------------------------------------------


@st.composite
def summaries(draw: st.DrawFn) -> pl.DataFrame:
    """Consistent random summaries: leads have no dates; recency <= tenure."""
    n = draw(st.integers(0, 30))
    rows = []
    for i in range(n):
        days = draw(st.integers(0, 8))
        tenure = draw(st.integers(0, 800)) if days else None
        rows.append(
            {
                "customer_id": f"c{i}",
                "purchase_days": days,
                "tenure_days": tenure,
                "recency_days": draw(st.integers(0, tenure)) if days else None,
                "revenue_recent": draw(st.floats(0, 500)) if days else 0.0,
                "revenue_previous": draw(st.floats(0, 500)) if days else 0.0,
                "orders_recent": draw(st.integers(0, 4)) if days else 0,
                "orders_previous": draw(st.integers(0, 4)) if days else 0,
                "first_purchase": date(2024, 1, 1) if days else None,
            }
        )
    return summary_of(*rows) if rows else summary_of({}).clear()


rules_strategy = st.builds(
    LifecycleRules,
    exploration_days=st.integers(0, 200),
    commitment_min_tenure_days=st.integers(0, 800),
    commitment_min_purchase_days=st.integers(1, 8),
    expansion_growth=st.floats(0, 1),
    p_alive_cutoff=st.floats(0, 1),
)


@settings(max_examples=60, deadline=None)
@given(
    summary=summaries(),
    rules=rules_strategy,
    churn=st.integers(1, 400),
    extra=st.integers(0, 300),
    p=st.floats(0, 1),
)
def test_every_customer_one_stage_and_churn_window_monotone(
    summary: pl.DataFrame, rules: LifecycleRules, churn: int, extra: int, p: float
) -> None:
    model = summary.select("customer_id", p_alive=pl.lit(p))
    staged = assign_stages(summary, rules, churn, model)
    assert staged["customer_id"].to_list() == summary["customer_id"].to_list()
    assert staged["stage"].null_count() == 0
    assert set(staged["stage"].cast(pl.String)) <= set(STAGES)
    assert stage_counts(staged)["customers"].sum() == summary.height

    def dissolved(window: int) -> int:
        frame = assign_stages(summary, rules, window, model)
        return frame.filter(pl.col("stage") == "dissolution").height

    assert dissolved(churn + extra) <= dissolved(churn)


@settings(max_examples=60, deadline=None)
@given(first=summaries(), second=summaries(), drop=st.integers(0, 10), churn=st.integers(1, 400))
def test_transitions_conserve_customers(
    first: pl.DataFrame, second: pl.DataFrame, drop: int, churn: int
) -> None:
    """Second date: some customers gone, new ones (ids "n…") arrived."""
    staged_from = assign_stages(first, RULES, churn)
    renamed = second.with_columns(
        pl.when(pl.int_range(pl.len()) % 2 == 0)
        .then(pl.col("customer_id"))
        .otherwise(pl.lit("n") + pl.col("customer_id"))
        .alias("customer_id")
    ).slice(drop)
    staged_to = assign_stages(renamed, RULES, churn)
    moved = transitions(staged_from, staged_to)
    assert (
        moved["customers"].sum()
        == first.height
        + staged_to.filter(~pl.col("customer_id").is_in(first["customer_id"].implode())).height
    )
    out_of = (
        moved.filter(pl.col("from_stage") != "none")
        .group_by("from_stage")
        .agg(pl.col("customers").sum())
    )
    counts_from = stage_counts(staged_from).filter(pl.col("customers") > 0)
    assert dict(out_of.rows()) == dict(counts_from.select("stage", "customers").rows())
    into = (
        moved.filter(pl.col("to_stage") != "none")
        .group_by("to_stage")
        .agg(pl.col("customers").sum())
    )
    counts_to = stage_counts(staged_to).filter(pl.col("customers") > 0)
    assert dict(into.rows()) == dict(counts_to.select("stage", "customers").rows())
    both = staged_from.join(staged_to, on="customer_id").height
    assert (
        moved.filter((pl.col("from_stage") != "none") & (pl.col("to_stage") != "none"))[
            "customers"
        ].sum()
        == both
    )


@pytest.mark.parametrize("lang", ["pt_BR", "en"])
def test_rule_table_is_translated_with_thresholds(lang: str) -> None:
    table = rule_table(LifecycleRules(exploration_days=45), 120, lang)
    assert table["reason"].to_list() == list(REASONS)
    assert not any(text.startswith("lifecycle.") for text in table["description"])
    assert not any(text.startswith("lifecycle.") for text in table["stage_label"])
    descriptions = dict(zip(table["reason"], table["description"], strict=True))
    assert "45" in descriptions["first_purchase"]
    assert "120" in descriptions["lapsed"]
    assert "30%" in descriptions["low_p_alive"]

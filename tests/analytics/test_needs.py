"""Needs-based groups: preferred category × channel, rare groups folded into "other"."""

from __future__ import annotations

import polars as pl
import pytest

from crm_core.differentiate import value_base
from crm_core.errors import VinculoError
from crm_core.needs import (
    UNKNOWN,
    NeedsConfig,
    needs_by_tier,
    needs_groups,
    needs_profile,
    preference_matrix,
)


def _summary() -> pl.DataFrame:
    """Ten buyers and a lead: A×web 5, A×app 3, B×web 1, B×store 1.

    Revenue 100 each, except j (B×store) with 600: total 1,500.
    """
    rows = [
        # id, category, channel, n_categories, n_channels, revenue
        ("a", "A", "web", 1, 1, 100.0),
        ("b", "A", "web", 2, 2, 100.0),
        ("c", "A", "web", 1, 1, 100.0),
        ("d", "A", "web", 3, 1, 100.0),
        ("e", "A", "web", 1, 2, 100.0),
        ("f", "A", "app", 1, 1, 100.0),
        ("g", "A", "app", 2, 3, 100.0),
        ("h", "A", "app", 1, 1, 100.0),
        ("i", "B", "web", 1, 1, 100.0),
        ("j", "B", "store", 4, 2, 600.0),
    ]
    frame = pl.DataFrame(
        rows,
        schema=["customer_id", "main_category", "main_channel", "n_categories", "n_channels",
                "revenue"],
        orient="row",
    )  # fmt: skip
    frame = frame.with_columns(purchase_days=pl.lit(1), recency_days=pl.lit(10))
    lead = pl.DataFrame({
        "customer_id": ["lead"], "main_category": [None], "main_channel": [None],
        "n_categories": [0], "n_channels": [0], "revenue": [0.0], "purchase_days": [0],
        "recency_days": [None],
    })  # fmt: skip
    return pl.concat([frame, lead], how="vertical_relaxed")


def test_rare_pairs_fold_into_other() -> None:
    groups = needs_groups(_summary(), NeedsConfig(min_share=0.15))
    # shares of the 10 buyers: A×web .5, A×app .3 kept; B×web .1, B×store .1 < .15: folded
    assert groups["customer_id"].to_list() == [*"abcdefghij", "lead"]
    assert groups["needs_group"].cast(pl.String).to_list() == (
        ["A × web"] * 5 + ["A × app"] * 3 + ["other", "other", None]
    )
    # largest first, the folded group last
    assert groups["needs_group"].dtype == pl.Enum(["A × web", "A × app", "other"])
    assert groups["category"].to_list()[-1] is None  # a lead has revealed no preference


def test_a_pair_exactly_at_the_minimum_share_stays() -> None:
    groups = needs_groups(_summary(), NeedsConfig(min_share=0.1))
    assert "other" not in groups["needs_group"].dtype.categories.to_list()
    assert groups["needs_group"].cast(pl.String).to_list()[8:10] == ["B × web", "B × store"]


def test_no_folding_with_zero_min_share() -> None:
    groups = needs_groups(_summary(), NeedsConfig(min_share=0.0))
    assert groups["needs_group"].drop_nulls().n_unique() == 4


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        ("category", ["A"] * 8 + ["other"] * 2),  # B: 2 of 10 buyers < .25
        ("channel", ["web"] * 5 + ["app"] * 3 + ["web", "other"]),  # web 6, app 3, store 1
    ],
)
def test_one_dimension_only(by: str, expected: list[str]) -> None:
    groups = needs_groups(_summary(), NeedsConfig(by=by, min_share=0.25))  # type: ignore[arg-type]
    assert groups["needs_group"].cast(pl.String).to_list()[:10] == expected


def test_a_purchase_without_category_is_unknown() -> None:
    summary = _summary().with_columns(
        pl.when(pl.col("customer_id") == "a").then(None).otherwise(pl.col("main_category"))
        .alias("main_category")
    )  # fmt: skip
    groups = needs_groups(summary, NeedsConfig(min_share=0.0))
    assert groups["category"][0] == UNKNOWN
    assert groups["needs_group"].cast(pl.String)[0] == f"{UNKNOWN} × web"


def test_no_buyers() -> None:
    groups = needs_groups(_summary().filter(pl.col("customer_id") == "lead"))
    assert groups["needs_group"].to_list() == [None]


def test_profile_by_hand() -> None:
    summary = _summary()
    clv = pl.DataFrame({"customer_id": ["a", "b", "j"], "clv": [10.0, 30.0, 5.0]})
    config = NeedsConfig(min_share=0.15)
    out = needs_profile(needs_groups(summary, config), value_base(summary, clv), config)
    assert out["needs_group"].to_list() == ["A × web", "A × app", "other"]
    web, app, other = out.iter_rows(named=True)
    assert (web["category"], web["channel"]) == ("A", "web")
    assert (other["category"], other["channel"]) == (None, None)
    assert (web["customers"], web["share"], web["revenue"]) == (5, 0.5, 500.0)
    assert web["revenue_share"] == pytest.approx(500 / 1500)
    # A×web: b and e bought through two channels; categories 1, 2, 1, 3, 1
    assert (web["multichannel_share"], web["mean_categories"]) == (0.4, 1.6)
    assert (web["clv"], web["mean_clv"]) == (40.0, 20.0)
    assert (app["mean_clv"], app["clv"]) == (None, 0.0)  # nobody in A×app has a CLV score
    assert (other["customers"], other["revenue"], other["multichannel_share"]) == (2, 700.0, 0.5)
    assert other["mean_categories"] == 2.5


def test_profile_by_category_blanks_the_channel() -> None:
    config = NeedsConfig(by="category", min_share=0.0)
    out = needs_profile(needs_groups(_summary(), config), value_base(_summary()), config)
    assert out.select("needs_group", "category", "channel", "customers").rows() == [
        ("A", "A", None, 8),
        ("B", "B", None, 2),
    ]
    assert "mean_clv" not in out.columns


def test_preference_matrix_before_folding() -> None:
    summary = _summary()
    out = preference_matrix(needs_groups(summary, NeedsConfig(min_share=0.5)), value_base(summary))
    assert out.select("category", "channel", "customers", "revenue").rows() == [
        ("A", "app", 3, 300.0),
        ("A", "web", 5, 500.0),
        ("B", "store", 1, 600.0),
        ("B", "web", 1, 100.0),
    ]
    assert out["share"].to_list() == pytest.approx([0.3, 0.5, 0.1, 0.1])


def test_needs_by_tier_by_hand() -> None:
    summary = _summary()
    tiers = ["gold", "silver", "silver", "bronze", "gold", "silver", "silver", "silver",
             "gold", "gold", "No purchase"]  # fmt: skip
    segmented = pl.DataFrame(
        {"customer_id": summary["customer_id"], "tier": tiers},
        schema_overrides={"tier": pl.Enum(["gold", "silver", "bronze", "No purchase"])},
    )
    config = NeedsConfig(min_share=0.15)
    out = needs_by_tier(needs_groups(summary, config), segmented, config)
    assert out.columns == ["needs_group", "gold", "silver", "bronze", "total"]
    assert out.rows() == [
        ("A × web", 2, 2, 1, 5),
        ("A × app", 0, 3, 0, 3),
        ("other", 2, 0, 0, 2),
    ]


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"min_share": 1.0}, "needs.bad_min_share"),
        ({"min_share": -0.1}, "needs.bad_min_share"),
        ({"by": "city"}, "needs.bad_by"),
        ({"other": " "}, "needs.empty_other"),
    ],
)
def test_config_is_validated(kwargs: dict, key: str) -> None:
    with pytest.raises(VinculoError) as caught:
        NeedsConfig(**kwargs)
    assert caught.value.key == key
    assert "{" not in caught.value.message("pt_BR")

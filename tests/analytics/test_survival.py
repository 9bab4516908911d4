"""Kaplan–Meier retention curves: a 5-customer example by hand, censoring, groups, invariants."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_core.errors import VinculoError
from crm_core.survival import (
    DAYS_PER_MONTH,
    curve_steps,
    durations,
    kaplan_meier,
    median_survival_months,
    survival_curves,
)

DAY0 = date(2026, 1, 1)
AS_OF = DAY0 + timedelta(days=100)
WINDOW = 10


def _customers(rows: list[tuple[str, int | None, int | None, bool, str]]):
    """(id, first purchase offset, last purchase offset, dissolved, channel) from DAY0."""

    def day(offset: int | None) -> date | None:
        return None if offset is None else DAY0 + timedelta(days=offset)

    summary = pl.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "first_purchase": pl.Series([day(r[1]) for r in rows], dtype=pl.Date),
            "last_purchase": pl.Series([day(r[2]) for r in rows], dtype=pl.Date),
            "purchase_days": [0 if r[1] is None else 2 for r in rows],
            "main_channel": [r[4] for r in rows],
        }
    )
    staged = pl.DataFrame(
        {
            "customer_id": [r[0] for r in rows],
            "stage": ["dissolution" if r[3] else "awareness" for r in rows],
            "segment": ["S" if r[0] in "ab" else "T" for r in rows],
        }
    )
    return summary, staged


# Five buyers and a lead, churn window 10 days, as-of = day 100:
#   a: first 0,  last 10, dissolved -> event at 20          -> duration 20, event
#   b: first 0,  last 30, dissolved -> event at 40          -> duration 40, event
#   c: first 60, active             -> censored at 100      -> duration 40, censored
#   d: first 50, last 60, dissolved -> event at 70          -> duration 20, event
#   e: first 30, active             -> censored at 100      -> duration 70, censored
#   f: lead (no purchase)           -> not followed
# Kaplan–Meier by hand:
#   t = 20: n = 5 at risk, d = 2 events           S = 1 - 2/5           = 0.6
#   t = 40: n = 3 (b, c, e), d = 1, 1 censored    S = 0.6 · (1 - 1/3)   = 0.4
#   t = 70: n = 1 (e), d = 0, 1 censored          S = 0.4
FIVE = _customers(
    [
        ("a", 0, 10, True, "app"),
        ("b", 0, 30, True, "app"),
        ("c", 60, 90, False, "web"),
        ("d", 50, 60, True, "web"),
        ("e", 30, 95, False, "web"),
        ("f", None, None, False, "web"),
    ]
)


def test_five_customers_by_hand() -> None:
    summary, staged = FIVE
    summary = summary.with_columns(everyone=pl.lit("all"))
    curve = survival_curves(summary, staged, "everyone", AS_OF, WINDOW)
    assert curve.select("days", "at_risk", "events", "censored").rows() == [
        (0, 5, 0, 0),
        (20, 5, 2, 0),
        (40, 3, 1, 1),
        (70, 1, 0, 1),
    ]
    assert curve["survival"].to_list() == pytest.approx([1.0, 0.6, 0.4, 0.4])
    assert curve["months"].to_list() == pytest.approx([0, 20 / 30.4375, 40 / 30.4375, 70 / 30.4375])
    assert curve["group"].unique().to_list() == ["all"]


def test_groups_from_staged_or_summary() -> None:
    summary, staged = FIVE
    by_segment = survival_curves(summary, staged, "segment", AS_OF, WINDOW)
    # S = {a, b}: events at 20 and 40 -> S(20) = 1/2, S(40) = 0.
    s = by_segment.filter(pl.col("group") == "S")
    assert s.select("days", "survival").rows() == [(0, 1.0), (20, 0.5), (40, 0.0)]
    by_channel = survival_curves(summary, staged, "main_channel", AS_OF, WINDOW)
    # web = {c: 40 censored, d: 20 event, e: 70 censored}: S(20) = 2/3, then flat.
    web = by_channel.filter(pl.col("group") == "web")
    assert web["survival"].to_list() == pytest.approx([1.0, 2 / 3, 2 / 3, 2 / 3])
    assert median_survival_months(by_channel).rows() == [
        ("app", 20 / DAYS_PER_MONTH),
        ("web", None),
    ]


def test_event_is_capped_at_as_of() -> None:
    # dissolved by the model 5 days after its last purchase (day 95): last + 10 would be
    # day 105, after as-of, so the event is at day 100: duration 100 - 80 = 20.
    summary, staged = _customers([("g", 80, 95, True, "app")])
    assert durations(summary, staged, "main_channel", AS_OF, WINDOW).rows() == [("app", 20, True)]


def test_curve_steps_keep_the_changes_and_the_ends() -> None:
    summary, staged = FIVE
    curve = survival_curves(summary.with_columns(everyone=pl.lit("all")), staged, "everyone",
                            AS_OF, WINDOW)  # fmt: skip
    frame = pl.DataFrame(
        {"group": ["g"] * 5, "days": [1, 2, 3, 4, 5], "churned": [False, True, False, False, False]}
    )
    # 0 (start), 20 and 40 (events), 70 (last, censored only); nothing dropped here
    assert curve_steps(curve)["days"].to_list() == [0, 20, 40, 70]
    # g: start 0, event at 2, last at 5; censor-only days 1, 3 and 4 are dropped
    assert curve_steps(kaplan_meier(frame))["days"].to_list() == [0, 2, 5]


def test_missing_group_and_bad_window() -> None:
    summary, staged = FIVE
    with pytest.raises(VinculoError):
        survival_curves(summary, staged, "nope", AS_OF, WINDOW)
    with pytest.raises(VinculoError):
        survival_curves(summary, staged, "segment", AS_OF, 0)


def test_without_censoring_survival_is_the_share_still_there() -> None:
    # All churned: S(t) is the empirical share with duration > t.
    frame = pl.DataFrame({"group": ["g"] * 4, "days": [5, 5, 8, 12], "churned": [True] * 4})
    curve = kaplan_meier(frame)
    assert curve.select("days", "survival").rows() == [(0, 1.0), (5, 0.5), (8, 0.25), (12, 0.0)]


def _reference(days: list[int], churned: list[bool]) -> dict[int, float]:
    """Textbook Kaplan–Meier, one loop over the distinct times."""
    s, out = 1.0, {}
    for t in sorted(set(days)):
        n = sum(1 for d in days if d >= t)
        d = sum(1 for d, c in zip(days, churned, strict=True) if d == t and c)
        s *= 1 - d / n
        out[t] = s
    return out


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from("xyz"), st.integers(0, 50), st.booleans()),
        min_size=1,
        max_size=40,
    )
)
def test_curves_are_probabilities_non_increasing_and_textbook(rows) -> None:
    frame = pl.DataFrame(
        {
            "group": [r[0] for r in rows],
            "days": [r[1] for r in rows],
            "churned": [r[2] for r in rows],
        },
        schema={"group": pl.String, "days": pl.Int64, "churned": pl.Boolean},
    )
    curve = kaplan_meier(frame)
    assert curve["survival"].is_between(0.0, 1.0).all()
    for (group,), part in curve.group_by("group"):
        surv = part.sort("days")["survival"].to_list()
        assert all(b <= a + 1e-12 for a, b in zip(surv, surv[1:], strict=False))
        mine = [r for r in rows if r[0] == group]
        expected = _reference([r[1] for r in mine], [r[2] for r in mine])
        got = dict(
            part.filter(pl.col("days").is_in(list(expected))).select("days", "survival").rows()
        )
        assert got == pytest.approx(expected)
        assert part.sort("days")["at_risk"][0] == len(mine)

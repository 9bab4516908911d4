"""Value proposition development: campaign response by segment against a comparison group,
computed by hand on a few customers; the rules in force per segment.

Population (segment, known since): A gold 2024-12-01, B gold 2024-12-01, C silver 2024-12-01,
D gold 2025-01-20 (known after the sends), E silver 2024-12-01, F silver never known.

Campaigns (30-day windows): "BF" sent 2025-01-10 to A (opened by e-mail, responded on
WhatsApp), B (delivered), C (converted): window 01-10 … 02-08. "NL" sent 2025-01-10 to E
(clicked) and 2025-01-12 to B (delivered): window 01-10 … 02-10.

Orders: A 01-15 100 · A 02-20 50 · B 01-09 70 · B 02-05 40 · C 01-20 cancelled · D 01-25 200 ·
E 01-11 30 · E 02-10 refunded (net 0, not a purchase) · F 01-30 20.
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl
import pytest

from crm_core.customize import Rule, RuleSet, default_ruleset, save_rules
from crm_core.errors import VinculoError
from crm_core.proposition import (
    NO_RULE,
    campaign_orders,
    campaign_response,
    campaign_sends,
    campaign_windows,
    current_ruleset,
    index_campaign_data,
    pooled,
    segment_offers,
    with_service_cost,
)

AS_OF = date(2025, 3, 31)
D = date.fromisoformat
POPULATION = pl.DataFrame(
    {
        "customer_id": ["A", "B", "C", "D", "E", "F"],
        "known_since": [D("2024-12-01")] * 3 + [D("2025-01-20"), D("2024-12-01"), None],
    }
)
SEGMENTS = pl.Series("segment", ["gold", "gold", "silver", "gold", "silver", "silver"])
SENDS = pl.DataFrame(
    {
        "campaign": ["BF", "BF", "BF", "NL", "NL"],
        "customer_id": ["A", "B", "C", "E", "B"],
        "sent_day": [D("2025-01-10")] * 4 + [D("2025-01-12")],
        "responded": [True, False, True, True, False],
        "converted": [False, False, True, False, False],
    }
)
ORDERS = pl.DataFrame(
    {
        "customer_id": ["B", "A", "E", "A", "C", "D", "F", "B", "E", "A"],
        "day": [
            D(d)
            for d in (
                "2025-01-09",
                "2025-01-10",
                "2025-01-11",
                "2025-01-15",
                "2025-01-20",
                "2025-01-25",
                "2025-01-30",
                "2025-02-05",
                "2025-02-10",
                "2025-02-20",
            )
        ],  # fmt: skip
        "net": [70.0, 0.0, 30.0, 100.0, 0.0, 200.0, 20.0, 40.0, 0.0, 50.0],
        "is_purchase": [True, False, True, True, False, True, True, True, False, True],
    }
)  # A's 01-10 order was cancelled: a row in the window, no revenue, no purchase


@pytest.fixture
def table() -> pl.DataFrame:
    data = index_campaign_data(SENDS, ORDERS, POPULATION)
    return campaign_response(data, SEGMENTS, 30, AS_OF)


def _row(frame: pl.DataFrame, **keys) -> dict:
    rows = frame.filter(pl.all_horizontal(pl.col(k) == v for k, v in keys.items()))
    assert rows.height == 1, rows
    return rows.row(0, named=True)


def test_windows() -> None:
    windows = campaign_windows(SENDS, 30, AS_OF)
    assert windows.rows() == [
        ("BF", D("2025-01-10"), D("2025-01-10"), D("2025-02-08"), True),
        ("NL", D("2025-01-10"), D("2025-01-12"), D("2025-02-10"), True),
    ]
    cut = campaign_windows(SENDS, 30, D("2025-02-01"))
    assert cut["window_end"].to_list() == [D("2025-02-01")] * 2
    assert cut["complete"].to_list() == [False, False]
    with pytest.raises(VinculoError) as caught:
        campaign_windows(SENDS, 0, AS_OF)
    assert caught.value.key == "proposition.bad_days"


def test_response_rate_and_revenue_per_contacted(table: pl.DataFrame) -> None:
    gold = _row(table, campaign="BF", segment="gold")
    assert (gold["contacted"], gold["responded"], gold["converted"]) == (2, 1, 0)
    assert gold["response_rate"] == 0.5
    assert gold["revenue_per_contacted"] == pytest.approx((100 + 40) / 2)
    assert gold["purchase_rate_contacted"] == 1.0
    silver = _row(table, campaign="BF", segment="silver")
    assert (silver["response_rate"], silver["conversion_rate"]) == (1.0, 1.0)  # C converted
    assert (silver["revenue_per_contacted"], silver["purchase_rate_contacted"]) == (0.0, 0.0)


def test_comparison_group_by_hand(table: pl.DataFrame) -> None:
    # BF gold: D is known only after the send, A and B were contacted: no comparison group
    gold = _row(table, campaign="BF", segment="gold")
    assert gold["comparison"] == 0
    assert gold["revenue_uplift"] is None and gold["purchase_uplift"] is None
    # BF silver: E (F was never known); E bought 30 on 01-11
    silver = _row(table, campaign="BF", segment="silver")
    assert (silver["comparison"], silver["revenue_per_comparison"]) == (1, 30.0)
    assert (silver["revenue_uplift"], silver["purchase_uplift"]) == (-30.0, -1.0)
    # NL gold: B contacted (40 on 02-05) against A (100 on 01-15; 02-20 is after 02-10)
    nl_gold = _row(table, campaign="NL", segment="gold")
    assert (nl_gold["revenue_per_contacted"], nl_gold["revenue_per_comparison"]) == (40.0, 100.0)
    assert (nl_gold["revenue_uplift"], nl_gold["purchase_uplift"]) == (-60.0, 0.0)
    # NL silver: E (30; the refunded order of 02-10 brings 0) against C (cancelled: 0)
    nl_silver = _row(table, campaign="NL", segment="silver")
    assert (nl_silver["revenue_uplift"], nl_silver["purchase_uplift"]) == (30.0, 1.0)


def test_pooled_by_segment_campaign_and_all(table: pl.DataFrame) -> None:
    by_segment = pooled(table, "segment")
    assert by_segment["segment"].to_list() == ["gold", "silver"]
    gold = _row(by_segment, segment="gold")
    assert (gold["campaigns"], gold["contacted"], gold["responded"]) == (2, 3, 1)
    assert gold["revenue_per_contacted"] == pytest.approx(180 / 3)
    assert gold["revenue_uplift"] == -60.0  # only NL had a comparison group
    silver = _row(by_segment, segment="silver")
    assert (silver["response_rate"], silver["revenue_uplift"]) == (1.0, 0.0)  # (−30 + 30) / 2
    bf = _row(pooled(table, "campaign"), campaign="BF")
    assert (bf["contacted"], bf["responded"], bf["revenue_uplift"]) == (3, 2, -30.0)
    everything = pooled(table, None).row(0, named=True)
    assert (everything["campaigns"], everything["contacted"]) == (2, 5)
    assert everything["response_rate"] == pytest.approx(3 / 5)
    assert everything["revenue_uplift"] == pytest.approx((-30 - 60 + 30) / 3)


def test_scope_keeps_only_the_filtered_customers() -> None:
    data = index_campaign_data(SENDS, ORDERS, POPULATION)
    silver_only = campaign_response(data, SEGMENTS, 30, AS_OF, SEGMENTS == "silver")
    assert set(silver_only["segment"]) == {"silver"}
    assert _row(silver_only, campaign="NL", segment="silver")["revenue_uplift"] == 30.0


def test_customers_outside_the_population_are_ignored() -> None:
    sends = pl.concat([SENDS, SENDS.head(1).with_columns(customer_id=pl.lit("ghost"))])
    data = index_campaign_data(sends, ORDERS, POPULATION)
    table = campaign_response(data, SEGMENTS, 30, AS_OF)
    assert _row(table, campaign="BF", segment="gold")["contacted"] == 2


def test_no_sends() -> None:
    data = index_campaign_data(SENDS.clear(), ORDERS, POPULATION)
    table = campaign_response(data, SEGMENTS, 30, AS_OF)
    assert table.is_empty() and "revenue_uplift" in table.columns
    assert pooled(table, "segment").is_empty()


# ---- the store queries --------------------------------------------------------------------


def _interactions(con: duckdb.DuckDBPyConnection) -> None:
    rows = [  # (customer, local time, type, outcome, campaign)
        ("A", "2025-01-10 10:00", "campaign", "opened", "BF"),
        ("A", "2025-01-10 10:05", "campaign", "responded", "BF"),
        ("B", "2025-01-10 23:30", "campaign", "delivered", "BF"),  # UTC: Jan 11th
        ("C", "2025-01-10 10:00", "support", "resolved", "BF"),  # not a campaign send
        ("C", "2025-01-10 10:00", "campaign", "clicked", None),  # no campaign name
        ("A", "2025-04-05 10:00", "campaign", "converted", "Later"),  # after as-of
    ]
    for n, (cid, ts, kind, outcome, campaign) in enumerate(rows):
        con.execute(
            "INSERT INTO interactions (interaction_id, customer_id, occurred_at, channel, type, "
            "direction, outcome, campaign) VALUES (?, ?, ?::TIMESTAMPTZ, 'email', ?, "
            "'outbound', ?, ?)",
            [f"i{n}", cid, f"{ts}-03", kind, outcome, campaign],
        )
    orders = [("o1", "A", "2025-01-09 10:00", 80, 0, "completed"),
              ("o2", "A", "2025-01-20 10:00", 100, 30, "partially_refunded"),
              ("o3", "B", "2025-01-15 10:00", 60, 0, "completed"),
              ("o4", "B", "2025-04-02 10:00", 60, 0, "completed")]  # fmt: skip
    for oid, cid, ts, gross, refunded, status in orders:
        con.execute(
            "INSERT INTO orders (order_id, customer_id, ordered_at, gross_amount, "
            "refunded_amount, status) VALUES (?, ?, ?::TIMESTAMPTZ, ?, ?, ?)",
            [oid, cid, f"{ts}-03", gross, refunded, status],
        )


def test_campaign_sends_and_orders_from_the_store(con: duckdb.DuckDBPyConnection) -> None:
    _interactions(con)
    sends = campaign_sends(con, AS_OF).sort("customer_id")
    assert sends.rows() == [
        ("BF", "A", D("2025-01-10"), True, False),  # two sends, one customer, responded
        ("BF", "B", D("2025-01-10"), False, False),  # local day, not the UTC one
    ]
    orders = campaign_orders(con, sends, AS_OF)
    assert orders.rows() == [  # from the first send day to as-of, net of refunds, by day
        ("B", D("2025-01-15"), 60.0, True),
        ("A", D("2025-01-20"), 70.0, True),
    ]
    assert campaign_orders(con, sends.clear(), AS_OF).is_empty()


# ---- the proposition in force -------------------------------------------------------------


def test_current_ruleset_is_the_last_saved(con: duckdb.DuckDBPyConnection) -> None:
    assert current_ruleset(con) == default_ruleset()
    first = RuleSet("spring", (Rule("all", 1, offer="10% off"),))
    second = RuleSet("vip", (Rule("vip", 1, segments=("Champions",), offer="Gift"),))
    save_rules(con, first, actor="test")
    save_rules(con, second, actor="test")
    assert current_ruleset(con) == second


def test_segment_offers_and_cost_to_serve() -> None:
    assigned = pl.DataFrame(
        {
            "customer_id": ["1", "2", "3", "4", "5"],
            "segment": ["gold", "gold", "gold", "silver", "silver"],
            "rule": ["vip", "vip", None, "winback", "winback"],
            "priority": [1, 1, None, 2, 2],
            "offer": ["Gift", "Gift", None, "15% off", "15% off"],
            "channel": ["phone", "phone", None, "email", "email"],
        }
    )
    offers = segment_offers(assigned)
    assert offers.select("segment", "rule", "customers").rows() == [
        ("gold", "vip", 2), ("gold", NO_RULE, 1), ("silver", "winback", 2),
    ]  # fmt: skip
    assert offers["share"].to_list() == pytest.approx([2 / 3, 1 / 3, 1.0])
    costs = pl.DataFrame({"segment": ["gold"], "customers": [4], "cost_to_serve": [10.0]})
    priced = with_service_cost(offers, costs)
    assert priced["cost_to_serve_per_customer"].to_list() == [2.5, 2.5, None]

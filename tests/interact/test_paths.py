"""Channel runs, paths and transitions on a hand-built sequence."""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from crm_core import interact_paths as ip
from tests.interact.builders import insert_order, interactions, purchases

ROWS = [
    # A: e-mail, e-mail, WhatsApp, phone, e-mail → runs e-mail → WhatsApp → phone → e-mail
    ("A", "2026-06-01 09:00", "email", "campaign", "outbound", "delivered", None),
    ("A", "2026-06-02 09:00", "email", "campaign", "outbound", "opened", None),
    ("A", "2026-06-05 09:00", "whatsapp", "campaign", "outbound", "clicked", None),
    ("A", "2026-06-10 09:00", "phone", "sales", "outbound", "responded", None),
    ("A", "2026-06-20 09:00", "email", "campaign", "outbound", "delivered", None),
    # B: e-mail → WhatsApp, never buys
    ("B", "2026-06-03 09:00", "email", "campaign", "outbound", "delivered", None),
    ("B", "2026-06-04 09:00", "whatsapp", "campaign", "outbound", "delivered", None),
    # C: e-mail → WhatsApp → store visit, the purchase at the very instant of the visit
    ("C", "2026-06-03 10:00", "email", "campaign", "outbound", "delivered", None),
    ("C", "2026-06-06 10:00", "whatsapp", "campaign", "outbound", "opened", None),
    ("C", "2026-06-07 15:00", "visit", "sales", "inbound", "converted", None),
    # D: one channel only
    ("D", "2026-06-03 10:00", "chat", "support", "inbound", "resolved", None),
]
BUYS = [
    ("A", "2026-06-12 09:00"),  # 2 days after A's phone run started
    ("C", "2026-06-07 15:00"),
    ("C", "2026-05-01 10:00"),  # before everything: never "follows"
    ("D", "2026-06-02 10:00"),  # the day before D's only contact
]


def _runs() -> pl.DataFrame:
    return ip.channel_runs(interactions(ROWS), purchases(BUYS))


def test_runs_collapse_repeats_and_find_the_next_purchase() -> None:
    runs = _runs()
    a = runs.filter(pl.col("customer_id") == "A")
    assert a["step"].to_list() == [1, 2, 3, 4]
    assert a["channel"].to_list() == ["email", "whatsapp", "phone", "email"]
    buy = pl.datetime(2026, 6, 12, 12)  # 09:00 local = 12:00 UTC
    nxt = a.select(pl.col("next_purchase") == buy)["next_purchase"].to_list()
    assert nxt == [True, True, True, None]  # nothing after June 12 for the last run
    assert runs["customer_id"].to_list() == ["A"] * 4 + ["B"] * 2 + ["C"] * 3 + ["D"]
    assert runs.filter(pl.col("customer_id") == "D")["next_purchase"].null_count() == 1


def test_three_step_paths_with_conversion() -> None:
    paths = ip.channel_paths(_runs(), steps=3, within_days=30)
    got = {tuple(r["path"]): (r["customers"], r["converted"]) for r in paths.iter_rows(named=True)}
    assert got == {
        ("email", "whatsapp", "phone"): (1, 1),  # A bought 2 days after the phone run
        ("email", "whatsapp"): (1, 0),
        ("email", "whatsapp", "visit"): (1, 1),  # same instant counts
        ("chat",): (1, 0),  # D's purchase came before the contact
    }
    assert paths["steps"].to_list() == [1, 2, 3, 3]  # ties on customers: by path text
    tight = ip.channel_paths(_runs(), steps=3, within_days=1)
    assert tight["converted"].sum() == 1  # only C: A's purchase is 2 days after


def test_two_step_paths_group_customers() -> None:
    paths = ip.channel_paths(_runs(), steps=2, within_days=30)
    top = paths.row(0, named=True)
    assert (top["path"], top["customers"], top["converted"]) == (["email", "whatsapp"], 3, 2)
    assert top["conversion_rate"] == 2 / 3


def test_transitions() -> None:
    trans = ip.channel_transitions(_runs(), within_days=30)
    got = {(r["from_channel"], r["to_channel"]): (r["transitions"], r["converted"])
           for r in trans.iter_rows(named=True)}  # fmt: skip
    assert got == {
        ("email", "whatsapp"): (3, 2),  # A and C bought after their WhatsApp run
        ("whatsapp", "phone"): (1, 1),
        ("phone", "email"): (1, 0),
        ("whatsapp", "visit"): (1, 1),
    }
    assert trans.row(0, named=True)["from_channel"] == "email"


def test_multichannel_share() -> None:
    share = ip.multichannel_share(_runs())
    assert share == {"contacted": 4, "multichannel": 3, "share": 0.75}


def test_no_interactions() -> None:
    runs = ip.channel_runs(interactions([]), purchases([]))
    assert runs.height == 0
    assert ip.channel_paths(runs).height == 0
    assert ip.channel_transitions(runs).height == 0
    assert ip.multichannel_share(runs)["share"] is None


def test_purchases_between_local_days(con: duckdb.DuckDBPyConnection) -> None:
    insert_order(con, "o1", "A", "2026-05-31 23:00")
    insert_order(con, "o2", "A", "2026-06-01 00:30")
    insert_order(con, "o3", "A", "2026-06-30 23:59")
    insert_order(con, "o4", "A", "2026-07-01 00:01")
    con.execute("INSERT INTO orders (order_id, customer_id, ordered_at, gross_amount, status) "
                "VALUES ('o5', 'A', '2026-06-10 10:00-03', 100, 'cancelled')")  # fmt: skip
    got = ip.purchases_between(con, date(2026, 6, 1), date(2026, 6, 30))
    assert got.height == 2  # o2 and o3: local June days, completed

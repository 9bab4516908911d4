"""Data-quality measures on a hand-built store of four live customers and one erased one."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest

from crm_core.errors import VinculoError
from crm_core.quality import (
    FIELDS,
    completeness,
    customer_checks,
    phone_e164,
    quality_measures,
    quality_rows,
    valid_documents,
)

T0 = datetime(2025, 3, 1, tzinfo=UTC)
COLS = ("customer_id", "source", "is_lead", "name", "email", "phone", "document", "city",
        "state", "zip", "birth_date", "erased_at")  # fmt: skip
PEOPLE = [
    ("q1", "shop", False, "Ana", "ana@x.com", "(11) 98765-4321", "529.982.247-25", "São Paulo",
     "SP", "01000-000", date(1990, 1, 2), None),
    ("q2", "shop", True, "Caio", "bad-at-x.com", "1234", "111.111.111-11", "  ", None, None,
     None, None),
    ("q3", "crm", True, None, None, "+55 21 3456-7890", "11.222.333/0001-81", "Rio", "RJ",
     "20000-000", None, None),
    ("q4", None, False, "Bia", " Bia@Y.com.br ", "11 8765-4321", "529.982.247-24", "Recife",
     "PE", "50000000", date(1985, 5, 6), None),
    ("q9", "shop", True, None, "erased", "0", "0", None, None, None, None, T0),
]  # fmt: skip


@pytest.fixture
def hand_store(con):
    for person in PEOPLE:
        con.execute(
            f"INSERT INTO customers ({', '.join(COLS)}) VALUES ({', '.join('?' * len(COLS))})",
            list(person),
        )
    consents = [("q1", "email", True, 1), ("q2", "email", True, 1), ("q2", "email", False, 2),
                ("q4", "sms", True, 1), ("q9", "email", True, 1)]  # fmt: skip
    for cid, channel, granted, day in consents:
        con.execute(
            "INSERT INTO consents (customer_id, channel, granted, recorded_at) VALUES (?,?,?,?)",
            [cid, channel, granted, datetime(2025, 1, day, tzinfo=UTC)],
        )
    for oid, cid, status in [("o1", "q1", "completed"), ("o2", "q3", "cancelled")]:
        con.execute(
            "INSERT INTO orders (order_id, customer_id, ordered_at, gross_amount, status) "
            "VALUES (?, ?, ?, 10, ?)",
            [oid, cid, T0, status],
        )
    return con


def test_measures_by_hand(hand_store):
    table = quality_measures(customer_checks(hand_store))
    got = {
        r["measure"]: (r["customers"], r["base"], r["share"]) for r in table.iter_rows(named=True)
    }
    assert got == {
        "invalid_email": (1, 3, pytest.approx(1 / 3)),  # q2; q4 is valid once trimmed
        "invalid_phone": (1, 4, 0.25),  # q2 "1234"; q4 is an old 8-digit mobile
        "invalid_document": (2, 4, 0.5),  # q2 repeated digits, q4 wrong check digit
        "no_consent": (2, 4, 0.5),  # q2 withdrew, q3 never gave
        "lead_without_orders": (1, 2, 0.5),  # q2; q3 has a (cancelled) order
    }


@pytest.mark.parametrize(
    ("measure", "ids"),
    [
        ("invalid_email", ["q2"]),
        ("invalid_phone", ["q2"]),
        ("invalid_document", ["q2", "q4"]),
        ("no_consent", ["q2", "q3"]),
        ("lead_without_orders", ["q2"]),
        ("missing_email", ["q3"]),
        ("missing_city", ["q2"]),  # blank counts as missing
        ("missing_birth_date", ["q2", "q3"]),
    ],
)
def test_rows_behind_each_number(hand_store, measure, ids):
    rows = quality_rows(hand_store, measure)
    assert rows["customer_id"].to_list() == ids
    assert {"customer_id", "name", "source"} <= set(rows.columns)


def test_rows_show_the_offending_value_and_filter_by_source(hand_store):
    rows = quality_rows(hand_store, "invalid_document")
    assert rows["document"].to_list() == ["111.111.111-11", "529.982.247-24"]
    assert quality_rows(hand_store, "invalid_document", source="unknown")[
        "customer_id"
    ].to_list() == ["q4"]
    assert quality_rows(hand_store, "missing_birth_date", source="crm")[
        "customer_id"
    ].to_list() == ["q3"]


def test_completeness_by_hand(hand_store):
    table = completeness(customer_checks(hand_store))
    got = {
        (r["source"], r["field"]): (r["filled"], r["customers"])
        for r in table.iter_rows(named=True)
    }
    assert len(table) == 4 * len(FIELDS)  # shop, crm, unknown, all
    assert got[("shop", "city")] == (1, 2)
    assert got[("shop", "email")] == (2, 2)
    assert got[("crm", "name")] == (0, 1)
    assert got[("unknown", "zip")] == (1, 1)
    assert got[(None, "email")] == (3, 4)
    assert got[(None, "city")] == (3, 4)
    assert got[(None, "birth_date")] == (2, 4)
    assert (
        table.filter(pl.col("source").is_null() & (pl.col("field") == "state"))["share"].item()
        == 0.75
    )


def test_erased_customers_are_not_counted(hand_store):
    checks = customer_checks(hand_store)
    assert "q9" not in checks["customer_id"].to_list()


def test_unknown_measure(hand_store):
    with pytest.raises(VinculoError) as info:
        quality_rows(hand_store, "missing_shoe_size")
    assert info.value.key == "quality.unknown_measure"


def test_empty_store(con):
    table = quality_measures(customer_checks(con))
    assert table["customers"].to_list() == [0] * 5
    assert table["share"].null_count() == 5


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("(11) 98765-4321", "+5511987654321"),
        ("+55 11 98765-4321", "+5511987654321"),
        ("0055 11 98765 4321", "+5511987654321"),
        ("011 3456-7890", "+551134567890"),
        ("11 8765-4321", "+5511987654321"),  # before the ninth digit
        ("1234", None),
        ("(11) 1234-5678", None),  # a subscriber number cannot start with 1
        ("(10) 98765-4321", None),  # no area code has a 0
        ("", None),
        (None, None),
    ],
)
def test_phone_e164(raw, e164):
    frame = pl.DataFrame({"p": [raw]}, schema={"p": pl.String})
    assert frame.select(phone_e164(pl.col("p")).alias("e"))["e"].to_list() == [e164]


def test_valid_documents():
    values = ["529.982.247-25", "52998224725", "529.982.247-24", "11.222.333/0001-81",
              "11.222.333/0001-80", "000.000.000-00", "123", None, ""]  # fmt: skip
    got = valid_documents(pl.Series("d", values, dtype=pl.String)).to_list()
    assert got == [True, True, False, True, False, False, False, False, False]

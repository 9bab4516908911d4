"""Data-quality measures on a hand-built store of four live customers and one erased one."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest

from crm_core.errors import VinculoError
from crm_core.identity_keys import phone_e164
from crm_core.quality import (
    ALL_MEASURES,
    FIELDS,
    SCORE_DIMENSIONS,
    completeness,
    customer_checks,
    measures_by_source,
    quality_measures,
    quality_rows,
    quality_score,
    upload_quality,
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


def _measures(con) -> dict[str, tuple]:
    table = quality_measures(customer_checks(con))
    return {
        r["measure"]: (r["customers"], r["base"], r["share"]) for r in table.iter_rows(named=True)
    }


def test_measures_by_hand(hand_store):
    assert _measures(hand_store) == {
        "invalid_email": (1, 3, pytest.approx(1 / 3)),  # q2; q4 is valid once trimmed
        "invalid_phone": (1, 4, 0.25),  # q2 "1234"; q4 is an old 8-digit mobile
        "invalid_document": (2, 4, 0.5),  # q2 repeated digits, q4 wrong check digit
        "no_consent": (2, 4, 0.5),  # q2 withdrew, q3 never gave
        "lead_without_orders": (1, 2, 0.5),  # q2; q3 has a (cancelled) order
        "placeholder": (0, 4, 0.0),
        "possible_duplicate": (2, 4, 0.5),  # q1 and q4: one phone once q4 gains its ninth 9
        "no_consent_email": (3, 4, 0.75),  # only q1 consents by e-mail (q2 withdrew)
        "no_consent_sms": (3, 4, 0.75),  # only q4
        "no_consent_whatsapp": (4, 4, 1.0),
        "no_consent_phone": (4, 4, 1.0),
        "no_consent_mail": (4, 4, 1.0),
    }
    assert list(_measures(hand_store)) == list(ALL_MEASURES)


def test_measures_by_source(hand_store):
    table = measures_by_source(customer_checks(hand_store))
    got = {
        (r["source"], r["measure"]): (r["customers"], r["base"])
        for r in table.iter_rows(named=True)
    }
    assert table["source"].unique().sort().to_list() == ["crm", "shop", "unknown"]
    assert got[("shop", "invalid_document")] == (1, 2)  # q2 of q1, q2
    assert got[("crm", "invalid_document")] == (0, 1)
    assert got[("unknown", "invalid_document")] == (1, 1)  # q4
    assert got[("crm", "lead_without_orders")] == (0, 1)
    assert got[("shop", "no_consent")] == (1, 2)


def test_placeholder_customers_created_by_orders(hand_store):
    hand_store.execute("INSERT INTO customers (customer_id, is_placeholder) VALUES ('q5', TRUE)")
    hand_store.execute(
        "INSERT INTO orders (order_id, customer_id, ordered_at, gross_amount, status) "
        "VALUES ('o5', 'q5', ?, 10, 'completed')",
        [T0],
    )
    got = _measures(hand_store)
    assert got["placeholder"] == (1, 5, 0.2)
    assert got["no_consent"] == (3, 5, 0.6)
    rows = quality_rows(hand_store, "placeholder")
    assert rows["customer_id"].to_list() == ["q5"]
    assert rows["source"].to_list() == ["unknown"]


def test_possible_duplicates_skip_merged_and_erased(hand_store):
    rows = quality_rows(hand_store, "possible_duplicate")
    assert rows["customer_id"].to_list() == ["q1", "q4"]
    assert rows["duplicate_key"].to_list() == ["phone", "phone"]
    assert rows["shared_with"].to_list() == [1, 1]
    # an erased customer's e-mail is no evidence
    hand_store.execute(
        "INSERT INTO customers (customer_id, email, erased_at) VALUES ('q8', 'ana@x.com', ?)",
        [T0],
    )
    assert quality_rows(hand_store, "possible_duplicate")["duplicate_key"].to_list() == [
        "phone", "phone"
    ]  # fmt: skip
    # a live one sharing q1's document comes first in the key order
    hand_store.execute("INSERT INTO customers (customer_id, document) VALUES ('q7', '52998224725')")
    rows = quality_rows(hand_store, "possible_duplicate")
    assert rows["customer_id"].to_list() == ["q1", "q4", "q7"]
    assert rows["duplicate_key"].to_list() == ["document", "phone", "document"]
    # once merged into one golden record, q1, q4 and q7 are no longer duplicates of each other
    for member in ("q4", "q7"):
        hand_store.execute(
            "INSERT INTO identity_links (customer_id, golden_id, rule, linked_by) "
            "VALUES (?, 'q1', 'manual', 'test')",
            [member],
        )
    assert quality_rows(hand_store, "possible_duplicate").height == 0
    # un-merging q4 makes q1 and q4 duplicates again; q7 stays merged into q1
    hand_store.execute("UPDATE identity_links SET unlinked_at = ? WHERE customer_id = 'q4'", [T0])
    rows = quality_rows(hand_store, "possible_duplicate")
    assert rows["customer_id"].to_list() == ["q1", "q4"]
    assert rows["duplicate_key"].to_list() == ["phone", "phone"]
    # a third customer on that phone, merged into q1: q4 shares it with two customers outside
    # its golden record (q1, q6), q1 and q6 only with q4
    hand_store.execute(
        "INSERT INTO customers (customer_id, phone) VALUES ('q6', '+55 (11) 98765-4321')"
    )
    hand_store.execute(
        "INSERT INTO identity_links (customer_id, golden_id, rule, linked_by) "
        "VALUES ('q6', 'q1', 'phone', 'test')"
    )
    rows = quality_rows(hand_store, "possible_duplicate")
    assert rows["customer_id"].to_list() == ["q1", "q4", "q6"]
    assert rows["shared_with"].to_list() == [1, 2, 1]


def test_a_key_shared_by_a_crowd_is_no_evidence(hand_store):
    checks = customer_checks(hand_store, max_block=1)
    assert not checks["possible_duplicate"].any()


def test_score_by_hand(hand_store):
    score = quality_score(customer_checks(hand_store))
    got = dict(score.iter_rows())
    # filled: name 3, e-mail 3, phone 4, document 4, city/state/zip 3 each, birth date 2
    completeness_ = 25 / 32
    validity = 1 - 4 / 11  # 1 e-mail + 1 phone + 2 documents invalid of 3 + 4 + 4 given
    assert got == {
        "completeness": pytest.approx(completeness_),
        "validity": pytest.approx(validity),
        "consent": 0.5,  # q1, q4
        "uniqueness": 0.5,  # q1 and q4 are possible duplicates
        "overall": pytest.approx((completeness_ + validity + 0.5 + 0.5) / 4),
    }


@pytest.mark.parametrize(
    ("measure", "ids"),
    [
        ("invalid_email", ["q2"]),
        ("invalid_phone", ["q2"]),
        ("invalid_document", ["q2", "q4"]),
        ("no_consent", ["q2", "q3"]),
        ("lead_without_orders", ["q2"]),
        ("no_consent_email", ["q2", "q3", "q4"]),
        ("no_consent_sms", ["q1", "q2", "q3"]),
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
    checks = customer_checks(con)
    table = quality_measures(checks)
    assert table["measure"].to_list() == list(ALL_MEASURES)
    assert table["customers"].to_list() == [0] * len(ALL_MEASURES)
    assert table["share"].null_count() == len(ALL_MEASURES)
    assert measures_by_source(checks).height == 0
    assert completeness(checks).filter(pl.col("source").is_null())["share"].null_count() == 8
    score = quality_score(checks)
    assert score["dimension"].to_list() == [*SCORE_DIMENSIONS, "overall"]
    assert score["score"].null_count() == 5
    assert upload_quality(con).height == 0


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


def _upload(con, upload_id: int, kind: str, day: int, status: str = "applied") -> None:
    con.execute(
        "INSERT INTO uploads (upload_id, kind, file_name, sha256, uploaded_at, rows_read, "
        "rows_loaded, rows_rejected, status) VALUES (?, ?, ?, 'x', ?, 0, 0, 0, ?)",
        [upload_id, kind, f"f{upload_id}.csv", datetime(2026, 1, day, tzinfo=UTC), status],
    )


def _record(con, upload_id: int, customer_id: str, **fields) -> None:
    names = ["upload_id", "customer_id", *fields]
    con.execute(
        f"INSERT INTO customer_records ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
        [upload_id, customer_id, *fields.values()],
    )


def test_upload_quality_by_hand(con):
    _upload(con, 2, "customers", 20, status="undone")
    _upload(con, 1, "customers", 10)
    _upload(con, 3, "orders", 30)
    _record(con, 1, "r1", name="Ana", email="ana@x.com", phone="(11) 98765-4321",
            document="529.982.247-25", city="São Paulo", state="SP", zip="01000-000",
            birth_date=date(1990, 1, 2))  # fmt: skip
    _record(con, 1, "r2", name="Bob", email="bob-at-x.com", document="123")
    _record(con, 2, "r3", email=" c@y.com.br ")
    _record(con, 3, "r4", email="not counted")  # not a customer upload
    table = upload_quality(con)
    assert table["upload_id"].to_list() == [1, 2]  # oldest first
    assert table["status"].to_list() == ["applied", "undone"]
    assert table["records"].to_list() == [2, 1]
    assert table["completeness"].to_list() == pytest.approx([(8 + 3) / 16, 1 / 8])
    assert table["invalid_email"].to_list() == pytest.approx([0.5, 0.0])
    assert table["invalid_phone"].to_list() == [0.0, None]  # upload 2 gave no phone
    assert table["invalid_document"].to_list() == [0.5, None]

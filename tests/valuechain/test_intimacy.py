"""Customer intimacy on a four-customer store whose every number is worked out by hand.

Times are local (America/Sao_Paulo, −03). As of 2026-06-30; the period is June, so the
previous period is May.

- A (source site, created Jan): every contact and demographic field; a purchase in March
  (shoes, app) and one in June (online store, no category); e-mail consent granted in
  February, withdrawn on June 12; a CSAT answer on June 16.
- B (source loja, created June 5): a name only (a blank e-mail); SMS consent granted June 6.
- C (source site, created Jan): a name; an upload on June 10 adds the phone; a cancelled
  order in June (app, bags); WhatsApp refused May 15, granted June 20; an answer May 20.
- D (placeholder, source orders, no creation day): an e-mail only.
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl
import pytest

from crm_core import feedback_themes as ft
from crm_core import intimacy as im
from crm_core import quality
from crm_core.errors import VinculoError
from crm_core.identity_merge import merge
from crm_core.period import Period

AS_OF = date(2026, 6, 30)
JUNE = Period(date(2026, 6, 1), date(2026, 6, 30))

_PERSON = "customer_id, name, email, phone, document, zip, birth_date, gender, city, state"
CUSTOMERS = [
    # person fields..., created_at, source, placeholder
    ("A", "Ana", "ana@x.com", "11987654321", "52998224725", "01001000", "1990-01-01", "F",
     "São Paulo", "SP", "2026-01-10 10:00-03", "site", False),
    ("B", "Bia", "  ", None, None, None, None, None, None, None, "2026-06-05 10:00-03", "loja",
     False),
    ("C", "Caio", None, "11912345678", None, None, None, None, None, None,
     "2026-01-10 10:00-03", "site", False),
    ("D", None, "d@x.com", None, None, None, None, None, None, None, None, "orders", True),
]  # fmt: skip


def _build(con: duckdb.DuckDBPyConnection) -> None:
    for *person, created, source, placeholder in CUSTOMERS:
        con.execute(
            f"INSERT INTO customers ({_PERSON}, created_at, source, is_placeholder) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::TIMESTAMPTZ, ?, ?)",
            [*person, created, source, placeholder],
        )
    # records: A and B as baselines; C's first record, then the upload that adds the phone
    con.execute(f"""INSERT INTO customer_records ({_PERSON}, created_at, source)
        SELECT {_PERSON}, created_at, source FROM customers WHERE customer_id IN ('A', 'B')""")
    con.execute("""INSERT INTO customer_records (customer_id, name, created_at, source)
        VALUES ('C', 'Caio', '2026-01-10 10:00-03', 'site')""")
    con.execute("""INSERT INTO uploads (upload_id, kind, file_name, sha256, uploaded_at,
        rows_read, rows_loaded, rows_rejected) VALUES (1, 'customers', 'c.csv', 'x',
        '2026-06-10 09:00-03', 1, 1, 0)""")
    con.execute("""INSERT INTO customer_records (upload_id, line, customer_id, phone,
        created_at, source) VALUES (1, 2, 'C', '11912345678', '2026-01-10 10:00-03', 'site')""")
    orders = [
        ("o1", "A", "2026-03-01 10:00", "completed", "app", "shoes"),
        ("o2", "A", "2026-06-15 10:00", "completed", "online_store", None),
        ("o3", "C", "2026-06-20 10:00", "cancelled", "app", "bags"),
        ("o4", "B", "2026-07-05 10:00", "completed", "app", "shoes"),  # after as-of
    ]
    for oid, c, at, status, channel, category in orders:
        con.execute(
            "INSERT INTO orders (order_id, customer_id, ordered_at, gross_amount, status, "
            "sales_channel, category) VALUES (?, ?, ?::TIMESTAMPTZ, 100, ?, ?, ?)",
            [oid, c, at + "-03", status, channel, category],
        )
    consents = [
        ("A", "email", True, "2026-02-01 10:00", "site"),
        ("A", "email", False, "2026-06-12 10:00", "site"),
        ("B", "sms", True, "2026-06-06 10:00", "loja"),
        ("C", "whatsapp", False, "2026-05-15 10:00", "central"),
        ("C", "whatsapp", True, "2026-06-20 10:00", "central"),
    ]
    for c, channel, granted, at, source in consents:
        con.execute(
            "INSERT INTO consents (customer_id, channel, granted, recorded_at, source) "
            "VALUES (?, ?, ?, ?::TIMESTAMPTZ, ?)",
            [c, channel, granted, at + "-03", source],
        )
    con.execute("""INSERT INTO feedback (feedback_id, customer_id, answered_at, csat, comment,
        survey, channel) VALUES ('f1', 'A', '2026-06-16 10:00-03', 5, 'Entrega rápida', 's',
        'email'), ('f2', 'C', '2026-05-20 10:00-03', 2, NULL, 's', 'app')""")
    con.execute("""INSERT INTO interactions (interaction_id, customer_id, occurred_at, channel)
        VALUES ('i1', 'A', '2026-06-01 10:00-03', 'email'),
               ('i2', 'B', '2026-06-07 10:00-03', 'phone'),
               ('i3', 'C', '2026-05-03 10:00-03', 'email')""")


@pytest.fixture
def store(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    _build(con)
    return con


# ---- touchpoints ----------------------------------------------------------------------------


def _rows(capture: im.Capture) -> dict[tuple[str, str], dict]:
    return {(r["kind"], r["touchpoint"]): r for r in capture.touchpoints.iter_rows(named=True)}


def _shares(capture: im.Capture) -> dict[tuple[str, str, str], float]:
    return {(k, tp, f): s for k, tp, f, s in capture.fields.iter_rows()}


def test_touchpoint_capture(store: duckdb.DuckDBPyConnection) -> None:
    cap = im.touchpoint_capture(store, AS_OF)
    rows, shares = _rows(cap), _shares(cap)
    assert cap.base == 4
    app = rows[("orders", "app")]  # o1 and the cancelled o3; o4 comes after the as-of day
    assert (app["records"], app["customers"], app["coverage"]) == (2, 2, 0.5)
    assert (app["per_customer"], app["latest"]) == (1.0, date(2026, 6, 20))
    assert shares[("orders", "app", "category")] == 1.0
    assert shares[("orders", "online_store", "category")] == 0.0
    assert shares[("orders", "app", "items")] == 0.0
    assert rows[("interactions", "email")]["customers"] == 2
    assert rows[("interactions", "phone")]["coverage"] == 0.25
    assert shares[("feedback", "email", "comment")] == 1.0
    assert shares[("feedback", "app", "comment")] == 0.0
    site = rows[("consents", "site")]
    assert (site["records"], site["customers"], site["per_customer"]) == (2, 1, 2.0)
    assert list(cap.touchpoints["kind"].unique(maintain_order=True)) == [
        "orders", "interactions", "feedback", "consents",
    ]  # fmt: skip


def test_capture_honours_the_customer_subset(store: duckdb.DuckDBPyConnection) -> None:
    cap = im.touchpoint_capture(store, AS_OF, pl.DataFrame({"customer_id": ["A"]}))
    rows = _rows(cap)
    assert cap.base == 1
    assert rows[("orders", "app")]["records"] == 1
    assert ("feedback", "app") not in rows
    assert rows[("interactions", "email")]["coverage"] == 1.0


def test_record_capture_comes_from_quality(store: duckdb.DuckDBPyConnection) -> None:
    checks = quality.customer_checks(store)
    cap = im.record_capture(checks, quality.completeness(checks), base=4)
    rows, shares = _rows(cap), _shares(cap)
    site = rows[("customers", "site")]
    assert (site["records"], site["customers"], site["coverage"]) == (2, 2, 0.5)
    assert site["latest"] == date(2026, 1, 10)
    assert shares[("customers", "site", "phone")] == 1.0  # A's and C's (the upload's)
    assert shares[("customers", "site", "email")] == 0.5
    assert shares[("customers", "loja", "email")] == 0.0  # blank is not filled


# ---- profile completeness -------------------------------------------------------------------


@pytest.fixture
def profile(store: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    return im.profile_completeness(im.profile_history(store), AS_OF)


def test_history_dates(store: duckdb.DuckDBPyConnection) -> None:
    hist = {r["customer_id"]: r for r in im.profile_history(store).iter_rows(named=True)}
    assert hist["C"]["phone"] == date(2026, 6, 10)  # the upload's day, not the creation day
    assert hist["C"]["name"] == date(2026, 1, 10)
    assert hist["C"]["category"] is None  # a cancelled order is no purchase
    assert hist["A"]["category"] == date(2026, 3, 1)
    assert hist["A"]["consent"] == date(2026, 2, 1)
    assert hist["D"]["email"] == date(1900, 1, 1)  # known, day not recorded
    assert hist["B"]["email"] is None


def test_profile_completeness_by_hand(profile: pl.DataFrame) -> None:
    got = dict(profile.select("customer_id", "completeness").iter_rows())
    # A: every area; B: contact 1/5 + consent; C: contact 2/5 + consent + feedback; D: 1/5
    assert got == pytest.approx({"A": 1.0, "B": (0.2 + 1) / 5, "C": (0.4 + 1 + 1) / 5,
                                 "D": 0.2 / 5})  # fmt: skip
    a = profile.filter(pl.col("customer_id") == "C").row(0, named=True)
    assert (a["area_contact"], a["area_preferences"], a["area_feedback"]) == (0.4, 0.0, 1.0)


def test_facts_after_as_of_are_not_known(store: duckdb.DuckDBPyConnection) -> None:
    early = im.profile_completeness(im.profile_history(store), date(2026, 6, 15))
    a = early.filter(pl.col("customer_id") == "A").row(0, named=True)
    assert not a["known_feedback"]  # answered June 16
    assert a["completeness"] == pytest.approx(0.8)


def test_bands_stats_and_coverage(profile: pl.DataFrame) -> None:
    bands = dict(im.completeness_bands(profile).select("band", "customers").iter_rows())
    assert bands == {0: 1, 1: 0, 2: 1, 3: 0, 4: 1, 5: 0, 6: 0, 7: 0, 8: 0, 9: 0, 10: 1}
    stats = im.completeness_stats(profile)
    assert stats["mean"] == pytest.approx((1 + 0.24 + 0.48 + 0.04) / 4)
    assert stats["median"] == pytest.approx((0.24 + 0.48) / 2)
    assert (stats["complete"], stats["below_half"]) == (0.25, 0.75)
    cov = {f: (n, s) for _, f, n, s in im.field_coverage(profile).iter_rows()}
    assert cov["name"] == (3, 0.75)
    assert cov["email"] == (2, 0.5)
    assert cov["consent"] == (3, 0.75)
    assert cov["category"] == (1, 0.25)


def test_completeness_by_group_and_least_known(profile: pl.DataFrame) -> None:
    tiers = ["gold", "iron", "iron", "iron"]
    groups = pl.DataFrame({"customer_id": ["A", "B", "C", "D"], "tier": tiers})
    by = {r["tier"]: r for r in im.completeness_by(profile, groups, "tier").iter_rows(named=True)}
    assert by["iron"]["customers"] == 3
    assert by["iron"]["completeness"] == pytest.approx((0.24 + 0.48 + 0.04) / 3)
    assert by["iron"]["area_consent"] == pytest.approx(2 / 3)
    summary = pl.DataFrame({"customer_id": ["A", "B", "C", "D"], "revenue": [50.0, 0, 80, 10]})
    least = im.least_known(profile, summary, below=0.5)
    assert least["customer_id"].to_list() == ["C", "D", "B"]
    assert least["missing"][0].to_list() == [
        "email", "document", "zip", "birth_date", "gender", "city", "state", "category",
        "channel",
    ]  # fmt: skip


def test_bad_profile_spec() -> None:
    with pytest.raises(VinculoError) as bad:
        im.ProfileSpec(areas=(("contact", ("name", "shoe_size")),))
    assert bad.value.key == "intimacy.bad_profile"


# ---- what changed ---------------------------------------------------------------------------


def test_profile_changes(store: duckdb.DuckDBPyConnection) -> None:
    got = {m: (v, p, c) for m, v, p, c in im.profile_changes(im.profile_history(store), JUNE)}
    assert got["new_customers"] == (1, 0, 1)  # B, created June 5
    # June: A's first answer, C's phone (upload); May: C's first consent and first answer
    assert got["profiles_enriched"] == (2, 1, 1)
    assert got["fields_filled"] == (2, 2, 0)


def test_activity_changes(store: duckdb.DuckDBPyConnection) -> None:
    got = {m: (v, p, c) for m, v, p, c in im.activity_changes(store, JUNE)}
    assert got["consents_granted"] == (2, 0, 2)  # B's first grant, C's grant after a refusal
    assert got["consents_withdrawn"] == (1, 0, 1)  # A; C's first refusal is no withdrawal
    assert got["interactions"] == (2, 1, 1)
    only_a = pl.DataFrame({"customer_id": ["A"]})
    got = {m: v for m, v, _, _ in im.activity_changes(store, JUNE, only_a)}
    assert got == {"consents_granted": 0, "consents_withdrawn": 1, "interactions": 1}


def test_feedback_load_honours_as_of_and_subset(store: duckdb.DuckDBPyConnection) -> None:
    assert ft.load_feedback(store, AS_OF)["customer_id"].sort().to_list() == ["A", "C"]
    assert ft.load_feedback(store, date(2026, 6, 15))["customer_id"].to_list() == ["C"]
    only_a = pl.DataFrame({"customer_id": ["A"]})
    assert ft.load_feedback(store, AS_OF, only_a)["customer_id"].to_list() == ["A"]


def test_merged_records_count_once(store: duckdb.DuckDBPyConnection) -> None:
    merge(store, ["A", "C"], "A", "test")
    rows = _rows(im.touchpoint_capture(store, AS_OF))
    assert rows[("orders", "app")]["customers"] == 1
    assert rows[("consents", "central")]["customers"] == 1  # C's consents now A's
    hist = im.profile_history(store)
    assert hist["customer_id"].to_list() == ["A", "B", "D"]
    assert hist.filter(pl.col("customer_id") == "A")["feedback"][0] == date(2026, 5, 20)
    assert ft.load_feedback(store, AS_OF)["customer_id"].to_list() == ["A", "A"]


def test_empty_store(con: duckdb.DuckDBPyConnection) -> None:
    cap = im.touchpoint_capture(con, AS_OF)
    assert cap.base == 0 and cap.touchpoints.height == 0 and cap.fields.height == 0
    profile = im.profile_completeness(im.profile_history(con), AS_OF)
    assert profile.height == 0
    assert im.completeness_stats(profile)["mean"] is None
    assert im.completeness_bands(profile)["customers"].sum() == 0
    assert all(v == 0 for _, v, _, _ in im.profile_changes(im.profile_history(con), JUNE))
    assert all(v == 0 for _, v, _, _ in im.activity_changes(con, JUNE))

"""Customers page on the demo store: the directory finds real customers, and each 360 view
shows the numbers, labels and next best action crm_core computes for that customer."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from crm_core import store
from crm_core.clv import fit_clv
from crm_core.customize import assign_actions, build_profile, load_rules
from crm_core.errors import VinculoError
from crm_core.i18n.format import format_money, format_number, format_percent
from crm_core.identity_merge import merge
from crm_core.lifecycle import assign_stages
from crm_core.relationship import RelationshipRules, interaction_profile, relationship_types
from crm_core.segment_store import latest_config
from crm_core.segments import segment_customers, segment_label
from crm_core.summary import customer_summary, query_frame
from crm_core.targeting import current_consents
from tests.pages.conftest import metric_values, open_page, rendered_table

PAGE = "pages/customers.py"
LINK = re.compile(r"customer=([^&]+)")


@dataclass
class Expected:
    """crm_core's view of the demo at the page's as-of date, one row per customer."""

    as_of: date
    rows: pl.DataFrame  # summary + segment/tier/stage/type + clv/p_alive + next best action


def _expected(db: Path, as_of: date) -> Expected:
    with store.connect(db) as con:
        config, _ = latest_config(con)
        summary = customer_summary(con, as_of, window_days=config.window_days)
        clv = fit_clv(con, calibration_end=as_of).customers
        typed = relationship_types(summary, interaction_profile(con, as_of), RelationshipRules())
        rules = load_rules(con)
    segmented = segment_customers(summary, config, clv)
    staged = assign_stages(summary, config.lifecycle, config.churn_window_days, clv)
    actions = assign_actions(build_profile(segmented, staged, typed), rules)
    rows = (
        summary.join(actions, on="customer_id")
        .join(clv.select("customer_id", "clv", "p_alive"), on="customer_id", how="left")
        .sort("revenue", descending=True)
    )
    return Expected(as_of, rows)


def _known(db: Path) -> dict:
    """A demo customer with a name, e-mail, phone, valid-looking document and orders."""
    with store.connect(db) as con:
        frame = query_frame(
            con,
            """SELECT c.customer_id, c.name, c.email, c.phone, c.document FROM customers c
            WHERE c.name IS NOT NULL AND c.email LIKE '%@%' AND c.document IS NOT NULL
              AND length(regexp_replace(c.phone, '\\D', '', 'g')) >= 10
              AND strip_accents(c.name) <> c.name
              AND c.customer_id IN (SELECT customer_id FROM orders)
            ORDER BY c.customer_id LIMIT 1""",
        )
    return frame.row(0, named=True)


def _as_of(at) -> date:
    return at.session_state["_filters"].as_of


def _results(at) -> pl.DataFrame:
    """The results table: the customer ids its links point at, in order."""
    table = at.dataframe(key="customers_results").value
    return pl.DataFrame({"customer_id": [LINK.search(u).group(1) for u in table["customer"]]})


def _search(at, query: str) -> list[str]:
    at.text_input(key="customers_query").set_value(query).run()
    assert not at.exception, [e.value for e in at.exception]
    return _results(at)["customer_id"].to_list()


@pytest.fixture(scope="module")
def english(demo_template: Path, tmp_path_factory: pytest.TempPathFactory):
    """The directory in English on a private demo copy, and crm_core's frames for it."""
    path = tmp_path_factory.mktemp("customers") / "crm.duckdb"
    path.write_bytes(demo_template.read_bytes())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CRM_DB", str(path))
        at = open_page(PAGE, lang="en")
        yield at, _expected(path, _as_of(at)), path


def test_directory_lists_the_top_customers_by_net_revenue(english) -> None:
    at, exp, _ = english
    shown = at.dataframe(key="customers_results").value
    top = exp.rows.head(50)
    assert _results(at)["customer_id"].to_list() == top["customer_id"].to_list()
    assert shown["revenue"].tolist() == pytest.approx(top["revenue"].to_list())
    assert shown["orders"].tolist() == top["orders"].to_list()
    assert set(shown["members"]) == {1}


def test_the_listing_honours_the_tier_filter_and_the_360_says_it_does_not(demo_db) -> None:
    at = open_page(PAGE, lang="en", tier="gold")
    exp = _expected(demo_db, _as_of(at))
    gold = exp.rows.filter(pl.col("tier") == "gold")
    assert 0 < gold.height < exp.rows.height
    listed = _results(at)["customer_id"].to_list()
    assert listed == gold["customer_id"].head(50).to_list()
    outside = exp.rows.filter(pl.col("tier") != "gold")["customer_id"][0]
    at = open_page(PAGE, lang="en", tier="gold", customer=outside)
    assert any("whatever the channel, segment and tier filters" in c.value for c in at.caption)
    assert metric_values(at)["Orders"] == format_number(
        exp.rows.filter(pl.col("customer_id") == outside)["orders"][0], "en"
    )


def test_search_finds_a_known_customer_by_any_key(english) -> None:
    at, _, path = english
    known = _known(path)
    cid = known["customer_id"]
    digits = re.sub(r"\D", "", known["phone"])[-11:]
    assert _search(at, known["email"].upper())[0] == cid
    assert _matched(at)[0] == "E-mail"
    assert _search(at, f"+55 ({digits[:2]}) {digits[2:-4]}-{digits[-4:]}")[0] == cid
    assert _search(at, digits[2:])[0] == cid  # without the area code
    assert _matched(at)[0] == "Phone"
    assert _search(at, re.sub(r"\D", "", known["document"]))[0] == cid
    assert _matched(at)[0] == "CPF/CNPJ"
    folded = unicodedata.normalize("NFKD", known["name"]).encode("ascii", "ignore").decode()
    assert folded != known["name"]
    assert cid in _search(at, folded.lower())  # no accents, no capitals
    at.text_input(key="customers_query").set_value("zzqqxx").run()
    assert at.info and "zzqqxx" in at.info[0].value


def _matched(at) -> list[str]:
    return at.dataframe(key="customers_results").value["matched_on"].tolist()


def _open(customer_id: str, lang: str = "en"):
    return open_page(PAGE, lang=lang, customer=customer_id)


def test_the_360_shows_crm_core_numbers_labels_and_action(demo_db: Path) -> None:
    known = _known(demo_db)
    cid = known["customer_id"]
    at = _open(cid)
    exp = _expected(demo_db, _as_of(at))
    row = exp.rows.filter(pl.col("customer_id") == cid).row(0, named=True)
    assert at.subheader[0].value.replace("\\", "") == known["name"]
    metrics = metric_values(at)
    assert metrics["Orders"] == format_number(row["orders"], "en")
    assert metrics["Net revenue"] == format_money(row["revenue"], "en")
    assert metrics["CLV"] == format_money(row["clv"], "en")
    assert metrics["P(alive)"] == format_percent(row["p_alive"], "en")
    assert metrics["Days since last purchase"] == format_number(row["recency_days"], "en")
    badges = " ".join(m.value for m in at.markdown).replace("\\", "")
    assert f"Segment: {segment_label(row['segment'], 'en')}" in badges
    assert f"Tier: {segment_label(row['tier'], 'en')}" in badges
    assert f"Stage: {row['stage'].capitalize()}" in badges
    texts = [x.value for x in at.text]
    assert f"Offer: {row['offer']}" in texts
    assert f"Rule: {row['rule']}" in texts
    with store.connect(demo_db) as con:
        consents = current_consents(con).filter(pl.col("customer_id") == cid)
        orders = query_frame(
            con,
            "SELECT count(*) AS n FROM orders WHERE customer_id = $id AND ordered_at::DATE <= $d",
            {"id": cid, "d": exp.as_of},
        )["n"][0]
    consent_table = rendered_table(at, "channel", "status")
    assert consent_table["channel"].tolist() == ["E-mail", "SMS", "WhatsApp", "Phone", "Mail"]
    granted = consents.filter(pl.col("granted")).height
    assert (consent_table["status"] == "Granted").sum() == granted
    assert rendered_table(at, "order_id", "status").shape[0] == orders
    points = sum(len(trace["x"]) for trace in _chart(at)["data"])
    assert points == orders
    channel_ok = consents.filter((pl.col("channel") == row["channel"]) & pl.col("granted"))
    if channel_ok.height:
        assert at.success and "granted" in at.success[0].value
    else:
        assert at.warning and "No consent" in at.warning[0].value


def _chart(at) -> dict:
    (chart,) = at.get("plotly_chart")
    return json.loads(chart.proto.spec)


def test_a_merged_member_opens_its_golden_record(demo_db: Path) -> None:
    with store.connect(demo_db) as con:
        buyers = query_frame(
            con,
            "SELECT customer_id, count(*) AS n FROM orders GROUP BY ALL ORDER BY customer_id "
            "LIMIT 2",
        )
        golden, member = buyers["customer_id"].to_list()
        merge(con, [member], golden, "test")
    at = _open(member)
    assert any(member in i.value and golden in i.value for i in at.info)
    exp = _expected(demo_db, _as_of(at))
    row = exp.rows.filter(pl.col("customer_id") == golden).row(0, named=True)
    assert metric_values(at)["Orders"] == format_number(row["orders"], "en")
    members = rendered_table(at, "customer_id", "is_golden")
    assert members["customer_id"].tolist() == [golden, member]
    sources = set(rendered_table(at, "order_id", "status")["source_customer_id"])
    assert sources == {golden, member}
    at.button(key="customers_back").click().run()
    assert "customer" not in at.query_params
    assert _search(at, member) == [golden]  # the directory shows the golden record once
    assert at.dataframe(key="customers_results").value["members"].tolist() == [2]


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_unknown_id_says_so(demo_db: Path, lang: str) -> None:
    at = _open("NOPE-42", lang=lang)
    expected = VinculoError("customers.unknown_customer", id="NOPE-42").message(lang)
    assert [e.value for e in at.error] == [expected]
    assert not at.metric


def test_portuguese(demo_db: Path) -> None:
    known = _known(demo_db)
    at = _open(known["customer_id"], lang="pt_BR")
    exp = _expected(demo_db, _as_of(at))
    row = exp.rows.filter(pl.col("customer_id") == known["customer_id"]).row(0, named=True)
    assert at.title[0].value == "Clientes"
    metrics = metric_values(at)
    assert metrics["Receita líquida"] == format_money(row["revenue"], "pt_BR")
    assert metrics["Pedidos"] == format_number(row["orders"], "pt_BR")
    badges = " ".join(m.value for m in at.markdown).replace("\\", "")
    assert f"Segmento: {segment_label(row['segment'], 'pt_BR')}" in badges
    assert rendered_table(at, "channel", "status")["channel"].tolist()[-1] == "Correio"
    at.button(key="customers_back").click().run()
    assert at.subheader[0].value == "Principais clientes por receita líquida"


def test_empty_store(empty_db: Path) -> None:
    at = open_page(PAGE, lang="en")
    assert not at.exception
    assert at.info and "No orders" in at.info[0].value
    assert not at.dataframe

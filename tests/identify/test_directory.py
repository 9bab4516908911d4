"""Customer directory search: accents, phone and document formats, golden records, erasure."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

from crm_core.directory import (
    directory_page,
    golden_profiles_of,
    search_customers,
    search_index,
    with_activity,
)
from crm_core.identity_merge import merge, unmerge

# id, name, email, phone, document, city, created_at, erased
PEOPLE = [
    ("C1", "João da Silva", "Joao.Silva@Example.com", "(11) 98765-4321", "529.982.247-25",
     None, "2024-01-01", False),
    ("C2", "Maria Joana Souza", "maria@x.com", "+55 21 3456-7890", "11.222.333/0001-81",
     "Rio de Janeiro", "2024-01-02", False),
    ("C3", "Joana Prado", "joana.prado@y.com", None, None, "Recife", "2024-01-03", False),
    ("C4", "João Apagado", "apagado@z.com", "11 91111-2222", "111.444.777-35",
     "São Paulo", "2024-01-04", True),
    ("C5", "Joao Silva", "js@work.com", "11987654321", None, "Campinas", "2024-02-01", False),
    ("C6", "Otávio Lima", "otavio@x.com", "(31) 8765-4321", None, "Belo Horizonte",
     "2024-01-06", False),
    ("C7", "Ana Joana Lima", "ana@x.com", None, None, None, "2024-01-07", False),
]  # fmt: skip


@pytest.fixture
def people(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """Seven customers; C5 merged into C1; C4 erased."""
    for pid, name, email, phone, doc, city, created, erased in PEOPLE:
        con.execute(
            """INSERT INTO customers (customer_id, name, email, phone, document, city,
                   created_at, erased_at, is_lead)
               VALUES (?, ?, ?, ?, ?, ?, ?::TIMESTAMPTZ,
                       CASE WHEN ? THEN TIMESTAMPTZ '2025-01-01' END, FALSE)""",
            [pid, name, email, phone, doc, city, created, erased],
        )
    merge(con, ["C5"], "C1", "test")
    return con


def _ids(frame: pl.DataFrame) -> list[str]:
    return frame["golden_id"].to_list()


@pytest.mark.parametrize("query", ["João", "joao", "JOAO", "  joão  ", "joão silva"])
def test_names_match_without_accents_or_case(people, query: str) -> None:
    found = search_customers(people, query)
    assert "C1" in _ids(found)
    assert "C4" not in _ids(found)  # erased


@pytest.mark.parametrize(
    "query", ["11 98765-4321", "+55 11 987654321", "987654321", "(11)98765 4321", "011987654321"]
)
def test_every_phone_format_finds_the_same_customer(people, query: str) -> None:
    found = search_customers(people, query)
    assert _ids(found) == ["C1"]  # C1 and its member C5 share the number: one golden row
    assert (found["matched_on"][0], found["rank"][0]) == ("phone", 0)


def test_a_mobile_stored_before_the_ninth_digit_is_found_by_its_new_number(people) -> None:
    found = search_customers(people, "(31) 98765-4321")
    assert _ids(found) == ["C6"]
    assert found["rank"].to_list() == [0]


@pytest.mark.parametrize(
    ("query", "expected"),
    [("529.982.247-25", "C1"), ("52998224725", "C1"), ("11222333000181", "C2"),
     ("11.222.333/0001-81", "C2")],
)  # fmt: skip
def test_documents_with_or_without_punctuation(people, query: str, expected: str) -> None:
    found = search_customers(people, query)
    assert _ids(found)[0] == expected
    assert (found["matched_on"][0], found["rank"][0]) == ("document", 0)


def test_email_ignores_case_and_finds_the_golden_record(people) -> None:
    found = search_customers(people, "JOAO.SILVA@EXAMPLE.COM")
    assert _ids(found) == ["C1"]
    assert (found["matched_on"][0], found["rank"][0]) == ("email", 0)
    member = search_customers(people, "js@work.com")  # C5's own e-mail
    assert _ids(member) == ["C1"]
    assert member["members"][0] == 2


def test_merged_records_show_once_as_their_golden_record(people) -> None:
    found = search_customers(people, "silva")
    assert _ids(found) == ["C1"]
    row = found.row(0, named=True)
    assert row["members"] == 2
    assert row["member_ids"] == ["C1", "C5"]
    assert row["name"] == "João da Silva"  # the golden record's own value
    assert row["city"] == "Campinas"  # C1 has none: the member's value survives


def test_unmerged_records_show_apart(people) -> None:
    unmerge(people, "C5", "test")
    assert _ids(search_customers(people, "silva")) == ["C1", "C5"]


@pytest.mark.parametrize("query", ["apagado", "apagado@z.com", "11 91111-2222", "11144477735",
                                   "C4"])  # fmt: skip
def test_erased_customers_never_appear(people, query: str) -> None:
    assert search_customers(people, query).height == 0
    assert "C4" not in search_index(people)["customer_id"].to_list()


def test_exact_keys_then_name_prefix_then_substring(people) -> None:
    found = search_customers(people, "joana")
    # "Joana Prado" starts with the query; "Maria Joana Souza" and "Ana Joana Lima" contain it
    assert _ids(found) == ["C3", "C7", "C2"]
    assert found["rank"].to_list() == [1, 2, 2]
    by_id = search_customers(people, "c7")
    assert (_ids(by_id), by_id["matched_on"][0], by_id["rank"][0]) == (["C7"], "id", 0)


def test_limit_and_blank_queries(people) -> None:
    assert search_customers(people, "a", limit=2).height == 2
    assert search_customers(people, "   ").height == 0
    assert search_customers(people, "---").height == 0
    assert search_customers(people, "987").height == 0  # too few digits to mean anything
    assert search_customers(people, "zzz").height == 0


def test_a_prebuilt_index_gives_the_same_answer(people) -> None:
    index = search_index(people)
    row = index.filter(pl.col("customer_id") == "C1").row(0, named=True)
    assert row == {
        "customer_id": "C1", "golden_id": "C1", "name_key": "joao da silva",
        "email_key": "joao.silva@example.com", "phone_key": "11987654321",
        "document_key": "52998224725", "members": 2,
    }  # fmt: skip
    assert search_customers(people, "joana", index=index).equals(search_customers(people, "joana"))


def test_golden_profiles_of_only_the_members_asked(people) -> None:
    profiles = golden_profiles_of(people, ["C1", "C5", "C3"])
    assert profiles["golden_id"].to_list() == ["C1", "C3"]
    assert profiles["members"].to_list() == [2, 1]


def test_directory_page_ranks_by_revenue_and_adds_activity(people) -> None:
    summary = pl.DataFrame(
        {"customer_id": ["C1", "C2", "C3", "C6"], "revenue": [50.0, 80.0, 50.0, 0.0],
         "orders": [2, 3, 1, 0], "last_purchase": [None, None, None, None]},
        schema_overrides={"last_purchase": pl.Date},
    )  # fmt: skip
    page = directory_page(people, summary, limit=3)
    assert _ids(page) == ["C2", "C1", "C3"]  # ties by id
    shown = with_activity(page, summary)
    assert shown["revenue"].to_list() == [80.0, 50.0, 50.0]
    assert shown["orders"].to_list() == [3, 2, 1]

"""Merge and un-merge: audited, transactional, reversible; source rows never change."""

from __future__ import annotations

import polars as pl
import pytest

from crm_core import store
from crm_core.errors import VinculoError
from crm_core.identity_merge import golden_map, golden_profiles, merge, merge_clusters, unmerge
from crm_core.schema import DATA_TABLES
from tests.identity.builders import add_customers, customer, snapshot


@pytest.fixture
def five(con):
    add_customers(con, [customer(f"C{i}", f"Name {i}", email=f"c{i}@x.com") for i in range(1, 6)])
    return con


def _golden(con) -> dict[str, str]:
    return dict(golden_map(con).rows())


def _audit_actions(con) -> list[str]:
    return [r[0] for r in con.execute("SELECT action FROM audit_log ORDER BY event_id").fetchall()]


def test_golden_map_is_identity_when_nothing_is_merged(five) -> None:
    assert _golden(five) == {f"C{i}": f"C{i}" for i in range(1, 6)}


def test_merge_then_unmerge_round_trips(five) -> None:
    before = snapshot(five, DATA_TABLES)
    map_before = golden_map(five)
    version = store.data_version(five)
    assert merge(five, ["C2", "C3"], "C1", "ana") == 2
    assert _golden(five) == {"C1": "C1", "C2": "C1", "C3": "C1", "C4": "C4", "C5": "C5"}
    assert snapshot(five, DATA_TABLES) == before  # no source or fact row touched
    assert unmerge(five, "C1", "ana") == 2  # a golden record: the whole cluster is released
    assert snapshot(five, DATA_TABLES) == before
    assert golden_map(five).equals(map_before)
    assert store.data_version(five) == version + 2
    assert _audit_actions(five) == ["identity.merge", "identity.dissolve"]
    actor, target, rows = five.execute(
        "SELECT actor, target, rows FROM audit_log WHERE action = 'identity.merge'"
    ).fetchall()[0]
    assert (actor, target, rows) == ("ana", "C1", 2)
    history = five.execute(
        "SELECT customer_id, golden_id, linked_by, unlinked_by FROM identity_links ORDER BY 1"
    ).fetchall()
    assert history == [("C2", "C1", "ana", "ana"), ("C3", "C1", "ana", "ana")]


def test_unmerge_a_member_detaches_only_it(five) -> None:
    merge(five, ["C2", "C3"], "C1", "ana")
    assert unmerge(five, "C3", "bia") == 1
    assert _golden(five)["C3"] == "C3" and _golden(five)["C2"] == "C1"
    assert _audit_actions(five)[-1] == "identity.unmerge"


def test_merging_a_golden_record_brings_its_members(five) -> None:
    merge(five, ["C2"], "C1", "ana")
    merge(five, ["C4"], "C3", "ana")
    merge(five, ["C3"], "C1", "ana")  # C4 follows C3 into C1
    assert _golden(five) == {"C1": "C1", "C2": "C1", "C3": "C1", "C4": "C1", "C5": "C5"}
    active = five.execute(
        "SELECT count(*) FROM identity_links WHERE unlinked_at IS NULL AND golden_id <> 'C1'"
    ).fetchall()[0][0]
    assert active == 0  # links always point at a golden record


def test_merging_a_member_merges_its_cluster(five) -> None:
    merge(five, ["C2"], "C1", "ana")
    merge(five, ["C2"], "C5", "ana")  # C2's cluster is C1's: both join C5
    assert _golden(five) == {"C1": "C5", "C2": "C5", "C3": "C3", "C4": "C4", "C5": "C5"}


@pytest.mark.parametrize(
    ("ids", "golden", "key"),
    [
        (["C9"], "C1", "identity.unknown_customer"),
        (["C1"], "C1", "identity.nothing_to_merge"),
        (["C3"], "C2", "identity.golden_is_member"),
    ],
)
def test_merge_refusals(five, ids, golden, key) -> None:
    merge(five, ["C2"], "C1", "ana")
    links = snapshot(five, ("identity_links", "audit_log"))
    with pytest.raises(VinculoError) as error:
        merge(five, ids, golden, "ana")
    assert error.value.key == key
    assert error.value.message("pt_BR") != key  # translated
    assert snapshot(five, ("identity_links", "audit_log")) == links


def test_unmerge_refuses_an_unmerged_customer(five) -> None:
    with pytest.raises(VinculoError) as error:
        unmerge(five, "C4", "ana")
    assert error.value.key == "identity.not_merged"
    assert five.execute("SELECT count(*) FROM audit_log").fetchall()[0][0] == 0


def test_merge_clusters_applies_many_in_one_event(five) -> None:
    clusters = pl.DataFrame(
        {"customer_id": ["C1", "C2", "C3", "C4", "C5"], "golden_id": ["C1", "C1", "C1", "C4", "C4"]}
    )
    assert merge_clusters(five, clusters, "auto-job") == 3
    assert _golden(five) == {"C1": "C1", "C2": "C1", "C3": "C1", "C4": "C4", "C5": "C4"}
    assert _audit_actions(five) == ["identity.merge_clusters"]
    assert unmerge(five, "C4", "ana") == 1
    assert _golden(five)["C5"] == "C5"


def test_a_failed_merge_leaves_nothing_behind(five, monkeypatch) -> None:
    version = store.data_version(five)

    def broken_audit(*args, **kwargs) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "audit", broken_audit)
    with pytest.raises(RuntimeError):
        merge(five, ["C2", "C3"], "C1", "ana")
    assert five.execute("SELECT count(*) FROM identity_links").fetchall()[0][0] == 0
    assert store.data_version(five) == version
    assert _golden(five)["C2"] == "C2"


def test_golden_profile_survivorship(con) -> None:
    add_customers(
        con,
        [
            customer("C1", "Ana Lima", phone="(11) 98765-4321", created_at="2023-01-01"),
            customer("C2", "ANA LIMA", email="b@x.com", city="Recife", created_at="2024-02-01"),
            customer("C3", "A. Lima", email="c@x.com", created_at="2024-03-01"),
            customer("C4", "Rui Gomes", email="r@x.com", created_at="2024-01-01"),
        ],
    )
    merge(con, ["C2", "C3"], "C1", "ana")
    rows = {r["golden_id"]: r for r in golden_profiles(con).rows(named=True)}
    assert set(rows) == {"C1", "C4"}
    ana = rows["C1"]
    assert ana["name"] == "Ana Lima"  # the golden record's own value wins
    assert ana["phone"] == "(11) 98765-4321"
    assert ana["email"] == "c@x.com"  # it has none: the newest member's
    assert ana["city"] == "Recife"
    assert (ana["members"], ana["member_ids"]) == (3, ["C1", "C2", "C3"])
    assert ana["created_at"].year == 2023
    assert (rows["C4"]["email"], rows["C4"]["members"]) == ("r@x.com", 1)

"""Segment overview, comparison of two segmentations and the `segments` CLI payload."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from crm_core import store
from crm_core.segments import (
    RFMSettings,
    SegmentRule,
    compare_segmentations,
    default_config,
    save_config,
    segment_customers,
    segment_overview,
    segments_cli_payload,
)


def test_compare_segmentations_counts_moves() -> None:
    a = pl.DataFrame({"customer_id": list("abcde"), "segment": ["X", "X", "Y", "Y", "Z"]})
    b = pl.DataFrame({"customer_id": list("abcdf"), "segment": ["X", "Y", "Y", "W", "W"]})
    moves = compare_segmentations(a, b)  # e and f appear in one frame only: left out
    assert moves.columns == ["segment", "W", "X", "Y"]
    assert moves.rows() == [("X", 0, 1, 1), ("Y", 1, 0, 1)]


def test_segment_overview_by_hand() -> None:
    summary = pl.DataFrame(
        {
            "customer_id": ["a", "b", "c", "d"],
            "recency_days": [10, 30, None, 100],
            "purchase_days": [2, 4, 0, 1],
            "revenue": [100.0, 300.0, 0.0, 600.0],
        }
    )
    segmented = pl.DataFrame({"customer_id": ["a", "b", "c", "d"], "segment": ["S", "S", "N", "T"]})
    clv = pl.DataFrame({"customer_id": ["a", "b", "d"], "clv": [10.0, 30.0, 5.0]})
    out = segment_overview(segmented, summary, clv)
    assert out["segment"].to_list() == ["S", "N", "T"]  # largest first, then by name
    s = out.row(0, named=True)
    assert (s["customers"], s["share"], s["revenue"], s["revenue_share"]) == (2, 0.5, 400.0, 0.4)
    assert (s["mean_recency_days"], s["mean_purchase_days"], s["mean_revenue"]) == (20, 3, 200)
    assert s["mean_clv"] == 20.0
    assert out.row(1, named=True)["mean_recency_days"] is None
    assert "mean_clv" not in segment_overview(segmented, summary).columns


def _fill(db: Path) -> None:
    """Three buyers and a lead; latest order on 2024-06-30 (local)."""
    with store.connect(db) as con:
        for cid in ("a", "b", "c", "lead"):
            con.execute("INSERT INTO customers (customer_id, is_lead) VALUES (?, ?)",
                        [cid, cid == "lead"])  # fmt: skip
        orders = [
            ("o1", "a", "2024-06-30 12:00:00+00", 900),
            ("o2", "a", "2024-06-01 12:00:00+00", 900),
            ("o3", "b", "2024-01-01 12:00:00+00", 50),
            ("o4", "c", "2023-01-01 12:00:00+00", 20),
        ]
        for oid, cid, at, gross in orders:
            con.execute(
                "INSERT INTO orders (order_id, customer_id, ordered_at, gross_amount, status)"
                " VALUES (?, ?, ?, ?, 'completed')",
                [oid, cid, at, gross],
            )


def test_cli_payload_from_a_config_file(db_path: Path, tmp_path: Path) -> None:
    _fill(db_path)
    config = replace(default_config(), name="file", rfm=RFMSettings(mode="thresholds"))
    file = tmp_path / "seg.json"
    file.write_text(config.to_json(), encoding="utf-8")
    payload = segments_cli_payload(str(db_path), str(file), None)
    json.dumps(payload)  # JSON-serialisable as the CLI prints it
    assert payload["as_of"] == "2024-06-30" and payload["config_source"] == "file"
    assert payload["config"]["name"] == "file"
    assert payload["totals"] == {
        "customers": 4,
        "scored_customers": 3,
        "no_purchase": 1,
        "revenue": 1870.0,
    }
    sizes = {row["segment"]: row["customers"] for row in payload["segments"]}
    # a: R 5 (0 d), F 2 (2 days), M 3 (1800) → Potential Loyalist; b: 181 d → R 2, F 1 →
    # Hibernating; c: 546 d → R 1, F 1 → Lost; the lead → No purchase.
    assert sizes["Potential Loyalist"] == sizes["Hibernating"] == sizes["Lost"] == 1
    assert sizes["No purchase"] == 1 and sum(sizes.values()) == 4
    assert len(sizes) == 13  # eleven, the catch-all and no purchase, zeros included
    tiers = {row["tier"]: row["customers"] for row in payload["tiers"]}
    assert tiers == {"platinum": 1, "gold": 0, "silver": 1, "bronze": 1, "No purchase": 1}


def test_cli_payload_uses_the_latest_saved_config(db_path: Path) -> None:
    _fill(db_path)
    payload = segments_cli_payload(str(db_path), None, date(2024, 12, 31))
    assert (payload["config_source"], payload["config_version"]) == ("default", None)
    with store.connect(db_path) as con:
        save_config(con, replace(default_config(), name="mine", window_days=30), "ana")
    payload = segments_cli_payload(str(db_path), None, date(2024, 12, 31))
    assert (payload["config_source"], payload["config_version"]) == ("saved", 1)
    assert payload["config"]["name"] == "mine" and payload["as_of"] == "2024-12-31"


def test_cli_payload_unreadable_file(db_path: Path, tmp_path: Path) -> None:
    from crm_core.errors import VinculoError

    with pytest.raises(VinculoError) as info:
        segments_cli_payload(str(db_path), str(tmp_path / "missing.json"), None)
    assert info.value.key == "segments.config_file"


def test_compare_two_configurations_of_the_same_summary() -> None:
    # Different configs give different Enum dtypes; the matrix still lines them up.
    summary = pl.DataFrame(
        {
            "customer_id": ["a", "b", "c"],
            "recency_days": [10, 200, None],
            "purchase_days": [9, 1, 0],
            "revenue": [6000.0, 10.0, 0.0],
        }
    )
    grid = replace(default_config(), rfm=RFMSettings(mode="thresholds"))
    two = replace(grid, rules=(SegmentRule("Active", r=(4, 5)),), catch_all="Inactive")
    moves = compare_segmentations(segment_customers(summary, grid), segment_customers(summary, two))
    # a: R5 F5 → Champions → Active; b: R2 F1 → Hibernating → Inactive; c: no purchase.
    assert moves.rows() == [
        ("Champions", 1, 0, 0),
        ("Hibernating", 0, 1, 0),
        ("No purchase", 0, 0, 1),
    ]
    assert moves.columns == ["segment", "Active", "Inactive", "No purchase"]

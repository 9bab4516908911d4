"""The command line contract: subcommand names, JSON keys and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from crm_core.cli import main
from crm_core.demo import build_demo

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "data" / "samples"


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli") / "crm.duckdb"
    build_demo(path, customers=1500, seed=3, as_of=date(2026, 6, 30))
    return path


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict]:
    code = main([*argv, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_init_and_summary_on_a_new_store(tmp_path: Path, capsys) -> None:
    db = str(tmp_path / "new.duckdb")
    code, out = run_json(capsys, "init", "--db", db)
    assert code == 0 and out["schema_version"] >= 1
    code, out = run_json(capsys, "summary", "--db", db)
    assert code == 0
    assert out["tables"]["orders"] == 0
    assert out["orders"] == {"orders": 0, "customers": 0, "net_revenue": 0.0}


def test_ingest_reports_rejects_and_refuses_duplicates(tmp_path: Path, capsys) -> None:
    db = str(tmp_path / "ingest.duckdb")
    code, report = run_json(
        capsys, "ingest", "orders", str(SAMPLES / "planilha_vendas.csv"), "--db", db
    )
    assert code == 0
    for key in ("rows_read", "rows_loaded", "rows_rejected", "rejects", "duplicate_file",
                "encoding", "delimiter", "profile"):  # fmt: skip
        assert key in report
    assert (report["rows_read"], report["rows_loaded"], report["rows_rejected"]) == (7, 6, 1)
    assert report["rejects"][0]["line"] == 6
    assert report["rejects"][0]["column"] == "Data da Venda"
    assert report["encoding"] == "windows-1252" and report["delimiter"] == ";"

    code, again = run_json(
        capsys, "ingest", "orders", str(SAMPLES / "planilha_vendas.csv"), "--db", db
    )
    assert code == 0 and again["duplicate_file"] is True
    _, summary = run_json(capsys, "summary", "--db", db)
    assert summary["orders"]["orders"] == 6  # nothing counted twice


def test_refused_file_exits_2_and_changes_nothing(tmp_path: Path, capsys) -> None:
    db = str(tmp_path / "refused.duckdb")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    code = main(["ingest", "orders", str(empty), "--db", db, "--lang", "pt_BR"])
    captured = capsys.readouterr()
    assert code == 2
    assert "empty.csv" in captured.err
    _, summary = run_json(capsys, "summary", "--db", db)
    assert summary["data_version"] == 0


def test_bad_mapping_is_a_user_error(tmp_path: Path, capsys) -> None:
    code = main(["ingest", "orders", str(SAMPLES / "shopify_orders.csv"),
                 "--db", str(tmp_path / "m.duckdb"), "--map", "nonsense"])  # fmt: skip
    assert code == 2
    assert "SOURCE=TARGET" in capsys.readouterr().err


def test_clv_json_contract(demo_store: Path, capsys) -> None:
    window = ["--calibration-end", "2026-01-01", "--holdout-end", "2026-06-29"]
    code, out = run_json(capsys, "clv", "--db", str(demo_store), *window)
    assert code == 0
    assert set(out["bgnbd"]) >= {"r", "alpha", "a", "b", "log_likelihood"}
    assert set(out["gamma_gamma"]) >= {"p", "q", "gamma"}
    assert out["customers"] > 1000
    holdout = out["holdout"]
    assert holdout["actual_repeat_purchases"] > 0
    # the model tracks the holdout within 15 % on the demo's true BG/NBD process
    ratio = holdout["predicted_repeat_purchases"] / holdout["actual_repeat_purchases"]
    assert 0.85 < ratio < 1.15


def test_kpis_and_segments_json(demo_store: Path, capsys) -> None:
    code, kpis = run_json(capsys, "kpis", "--db", str(demo_store), "--as-of", "2026-06-29")
    assert code == 0
    assert kpis["as_of"] == "2026-06-29"
    assert {"revenue", "active_customers", "nps", "retention_rate"} <= set(kpis["kpis"])
    code, seg = run_json(capsys, "segments", "--db", str(demo_store))
    assert code == 0
    sizes = {row["segment"]: row["customers"] for row in seg["segments"]}
    assert sum(sizes.values()) == seg["totals"]["customers"]  # every customer in one segment
    assert sizes["Champions"] > 0


def test_module_entry_point_runs(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "crm_core", "init", "--db", str(tmp_path / "x.duckdb"), "--json"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["schema_version"] >= 1


def test_identity_reports_and_merges(tmp_path: Path, capsys) -> None:
    db = tmp_path / "identity.duckdb"
    build_demo(db, customers=2000, seed=4, as_of=date(2026, 6, 30))
    code, out = run_json(capsys, "identity", "--db", str(db))
    assert code == 0
    assert out["clusters"] > 0 and out["duplicate_rate_before"] > 0
    assert out["against_demo_truth"]["precision"] >= 0.99
    code, merged = run_json(capsys, "identity", "--db", str(db), "--merge")
    assert code == 0 and merged["links_written"] > 0
    assert merged["duplicate_rate_after"] == 0

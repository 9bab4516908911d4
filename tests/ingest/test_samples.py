"""The example exports in data/samples load as data/samples/README.md says."""

from __future__ import annotations

from pathlib import Path

import pytest

from crm_core.ingest import ingest_file

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"


@pytest.mark.parametrize(
    ("file", "kind", "profile", "read", "loaded"),
    [
        ("shopify_orders.csv", "orders", "shopify_orders", 6, 6),
        ("planilha_vendas.csv", "orders", "planilha_vendas", 7, 6),
        ("hubspot_contacts.csv", "customers", "hubspot_contacts", 4, 4),
        ("interacoes.csv", "interactions", "generic_interactions", 6, 6),
        ("pesquisa_nps.csv", "feedback", "generic_feedback", 4, 4),
    ],
)
def test_sample_loads(
    db_path: Path, file: str, kind: str, profile: str, read: int, loaded: int
) -> None:
    report = ingest_file(SAMPLES / file, kind, db=db_path)
    assert (report.profile, report.rows_read, report.rows_loaded) == (profile, read, loaded)


def test_planilha_sample_has_the_documented_bad_row(db_path: Path) -> None:
    report = ingest_file(SAMPLES / "planilha_vendas.csv", "orders", db=db_path)
    assert report.encoding == "windows-1252"
    assert [(r["line"], r["column"]) for r in report.rejects] == [(6, "Data da Venda")]
    assert "line 6, column `Data da Venda`" in (SAMPLES / "README.md").read_text()

"""The bad-input corpus: every class of bad file, each with a clean, localized outcome.

Each case is one file. A refused file raises `IngestRefused` (a `VinculoError`:
a message in the user's language, never a traceback) whose message names the
file — and the line where one applies — in English and Portuguese, the command
line exits 2 with that message, and the store is unchanged (row counts and a
checksum of every table, `tests/reliability/state.py`). A file that loads with
rejected rows reports each reject's file line and column, in both languages.

Where the foundation's classes are tested in depth (kept there, not repeated):
- empty file, header only, binary junk, missing columns, mixed good and bad
  rows with exact line/column/reason, zero loadable rows:
  `tests/ingest/test_bad_input.py`;
- cp1252 with `;`, decimal comma and dd/mm/yyyy, UTF-8 BOM, embedded newlines,
  unterminated quote, XLSX sheet rows: `tests/ingest/test_formats.py`;
- same file twice, same order in two files: `tests/ingest/test_load.py`;
- a process killed mid-upload: `tests/ingest/test_interrupt.py` and
  `tests/reliability/test_faults.py`.
Here every class gets one representative file through the same checks as the
new ones: very long fields, control characters (NUL, ESC, a lone CR, CR-only
line ends), mixed encodings, a 1 GB file refused by its size, XLSX files that
are a renamed CSV, a ZIP that is no workbook, and a ZIP bomb.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from crm_core.cli import main as cli
from crm_core.ingest import IngestRefused, ingest_file
from tests.ingest.conftest import query, write
from tests.reliability.state import store_state

ROOT = Path(__file__).resolve().parents[2]
ORDERS = "order_id,customer_id,ordered_at,gross_amount\n"
CUSTOMERS = "customer_id,name,email\n"
MB = 1 << 20


@dataclass(frozen=True)
class Case:
    """A bad file: its kind, how to build it, and what the user must be told."""

    name: str
    kind: str
    build: Callable[[Path], Path]
    refused: str | None = None  # the refusal's key, or None when good rows load
    params: dict = field(default_factory=dict)  # params the refusal must carry
    loaded: int = 0
    rejects: tuple[tuple[int, str | None], ...] = ()  # (line, column) per reject


def text(name: str, body: str, encoding: str = "utf-8") -> Callable[[Path], Path]:
    return lambda folder: write(folder, name, body, encoding)


def raw(name: str, body: bytes) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        path = folder / name
        path.write_bytes(body)
        return path

    return build


def mixed_encodings(folder: Path) -> Path:
    """Two exports pasted together: a UTF-8 part, then a Windows-1252 part."""
    body = CUSTOMERS.encode() + "C1,João,joao@x.com\nC2,Ana,ana@x.com\n".encode()
    body += "C3,Conceição,c@x.com\n".encode("cp1252")
    return raw("clientes_colados.csv", body)(folder)


def bom_then_cp1252(folder: Path) -> Path:
    body = b"\xef\xbb\xbf" + CUSTOMERS.encode() + "C1,Açaí Ltda,a@x.com\n".encode("cp1252")
    return raw("bom_mentiroso.csv", body)(folder)


def renamed_csv(folder: Path) -> Path:
    return write(folder, "vendas.xlsx", ORDERS + "A1,C1,2024-01-02,10\n")


def zip_not_workbook(folder: Path) -> Path:
    path = folder / "planilha.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("leia-me.txt", "not a workbook")
    return path


def long_cells(folder: Path) -> Path:
    """A 1 MB name loads whole; a 1 MB amount is rejected with a short reason."""
    body = CUSTOMERS + "C1," + "N" * MB + ",a@x.com\nC2,Bia,b@x.com\n"
    return write(folder, "longos.csv", body)


def long_bad_amount(folder: Path) -> Path:
    body = ORDERS + "A1,C1,2024-01-02,10\nA2,C1,2024-01-02," + "9" * MB + "\n"
    return write(folder, "valor_enorme.csv", body)


CASES: list[Case] = [
    # the foundation's classes (in depth in tests/ingest)
    Case("empty", "orders", raw("vazio.csv", b""), "ingest.empty_file"),
    Case("header_only", "orders", text("so_cabecalho.csv", ORDERS), "ingest.header_only"),
    Case(
        "binary_junk",
        "orders",
        raw("foto.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 500),
        "ingest.binary_file",
    ),
    Case(
        "missing_columns",
        "orders",
        text("sem_data.csv", "order_id,customer_id,valor\nA1,C1,10\n"),
        "ingest.missing_columns",
        {"required_missing": ["ordered_at"]},
    ),
    Case(
        "mixed_good_bad",
        "orders",
        text(
            "misto.csv", ORDERS + "A1,C1,2024-01-02,10\nA2,C1,2024-13-45,11\nA3,C1,2024-01-03,x\n"
        ),
        loaded=1,
        rejects=((3, "ordered_at"), (4, "gross_amount")),
    ),
    Case(
        "cp1252_semicolon_comma_ddmm",
        "orders",
        text(
            "vendas.csv",
            "Número do Pedido;Código do Cliente;Data da Venda;Valor Total (R$)\r\n"
            "P1;C1;05/03/2024;R$ 1.234,56\r\nP2;C1;31/02/2024;R$ 9,90\r\n",
            "cp1252",
        ),
        loaded=1,
        rejects=((3, "Data da Venda"),),
    ),
    Case(
        "bom",
        "customers",
        raw("bom.csv", b"\xef\xbb\xbf" + CUSTOMERS.encode() + b"C1,Ana,\n"),
        loaded=1,
    ),  # fmt: skip
    Case(
        "embedded_newlines",
        "interactions",
        text(
            "contatos.csv",
            'customer_id,occurred_at,channel,subject\nC1,2024-01-02,email,"um\ndois"\n'
            "C1,2024-01-03,pombo,x\n",
        ),
        loaded=1,
        rejects=((4, "channel"),),
    ),
    # new classes
    Case("one_mb_cell", "customers", long_cells, loaded=2),
    Case("one_mb_bad_value", "orders", long_bad_amount, loaded=1, rejects=((3, "gross_amount"),)),
    Case(
        "nul_in_a_cell",
        "customers",
        text("nulo.csv", CUSTOMERS + "C1,Ana,a@x.com\nC2,B\x00ia,b@x.com\n"),
        "ingest.nul_character",
        {"line": 3},
    ),
    Case(
        "escape_in_a_cell", "customers", text("esc.csv", CUSTOMERS + "C1,A\x1b[31mna,\n"), loaded=1
    ),  # fmt: skip
    Case(
        "lone_cr_in_unquoted_cell",
        "customers",
        text("cr.csv", CUSTOMERS + "C1,An\ra,a@x.com\nC2,Bia,b@x.com\nC3,Caio,\n"),
        loaded=2,  # the lone CR ends a line, as in an editor: line 2 and 3 are half rows
        rejects=((2, None), (3, None)),
    ),
    Case(
        "lone_cr_in_quoted_cell",
        "customers",
        text("cr_aspas.csv", CUSTOMERS + 'C1,"An\ra",a@x.com\nC2,Bia,"x"\n'),
        loaded=1,
        rejects=((4, "email"),),  # the quoted CR spans lines 2-3; C2 is on line 4
    ),
    Case(
        "cr_only_line_ends",
        "orders",
        text("mac.csv", (ORDERS + "A1,C1,2024-01-02,10\nA2,C1,ontem,11\n").replace("\n", "\r")),
        loaded=1,
        rejects=((3, "ordered_at"),),
    ),
    Case(
        "mixed_encodings",
        "customers",
        mixed_encodings,
        "ingest.mixed_encoding",
        {"utf8_line": 2, "other_line": 4},
    ),
    Case(
        "bom_then_cp1252",
        "customers",
        bom_then_cp1252,
        "ingest.mixed_encoding",
        {"utf8_line": 1, "other_line": 2},
    ),
    Case("xlsx_renamed_csv", "orders", renamed_csv, "ingest.xlsx_not_workbook"),
    Case("xlsx_zip_not_workbook", "orders", zip_not_workbook, "ingest.bad_xlsx"),
]


def _refused_checks(case: Case, path: Path, db: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(IngestRefused) as info:
        ingest_file(path, case.kind, db=db)
    error = info.value
    assert error.key == case.refused
    assert error.params["file"] == path.name
    assert case.params.items() <= error.params.items()
    for lang in ("en", "pt_BR"):
        message = error.message(lang)
        assert path.name in message and "Traceback" not in message
        assert "{" not in message, message  # every placeholder filled
        if "line" in case.params:
            assert str(case.params["line"]) in message
    assert error.message("en") != error.message("pt_BR")
    # the command line: exit 2, the localized message on stderr as JSON, no traceback
    capsys.readouterr()
    assert cli(["ingest", case.kind, str(path), "--db", str(db), "--lang", "pt_BR"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert json.loads(err)["message"] == error.message("pt_BR")


def _loaded_checks(case: Case, path: Path, db: Path) -> None:
    report = ingest_file(path, case.kind, db=db, lang="pt_BR")
    assert report.rows_loaded == case.loaded
    assert [(r["line"], r["column"]) for r in report.rejects] == list(case.rejects)
    assert report.rows_read == report.rows_loaded + report.rows_rejected + report.rows_duplicate
    for reject in report.rejects:
        assert len(reject["reason"]) < 300  # a 1 MB value is quoted short
    stored = query(db, "SELECT line, column_name FROM rejected_rows ORDER BY line")
    assert [(line, column) for line, column in stored] == [
        (line, column) for line, column in case.rejects
    ]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(case: Case, tmp_path: Path, db_path: Path, capsys) -> None:
    path = case.build(tmp_path)
    before = store_state(db_path)
    if case.refused:
        _refused_checks(case, path, db_path, capsys)
        assert store_state(db_path) == before
    else:
        _loaded_checks(case, path, db_path)
        assert store_state(db_path)["uploads"][0] == before["uploads"][0] + 1


def test_long_cell_and_control_characters_stored_verbatim(tmp_path: Path, db_path: Path) -> None:
    ingest_file(long_cells(tmp_path), "customers", db=db_path)
    ingest_file(write(tmp_path, "esc.csv", CUSTOMERS + "C9,A\x1b[31mna,\n"), "customers",
                db=db_path)  # fmt: skip
    names = dict(query(db_path, "SELECT customer_id, name FROM customers"))
    assert names["C1"] == "N" * MB
    assert names["C9"] == "A\x1b[31mna"


def test_same_file_twice_and_same_order_in_two_files(tmp_path: Path, db_path: Path) -> None:
    first = write(tmp_path, "a.csv", ORDERS + "A1,C1,2024-01-02,10\n")
    ingest_file(first, "orders", db=db_path)
    after_first = store_state(db_path)
    again = ingest_file(first, "orders", db=db_path, lang="pt_BR")
    assert again.duplicate_file and "nada mudou" in again.message
    assert store_state(db_path) == after_first
    other = write(tmp_path, "b.csv", ORDERS + "A1,C1,2024-01-02,10\nA2,C1,2024-01-03,5\n")
    report = ingest_file(other, "orders", db=db_path)
    assert (report.rows_loaded, report.rows_duplicate) == (1, 1)
    assert query(db_path, "SELECT count(*) FROM orders") == [(2,)]


def _bomb(folder: Path, inflated: int) -> Path:
    """A real workbook whose sheet XML is padded with `inflated` bytes of whitespace."""
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["order_id", "customer_id", "ordered_at", "gross_amount"])
    book.active.append(["A1", "C1", "2024-01-02", 10])
    plain = io.BytesIO()
    book.save(plain)
    path = folder / "bomba.xlsx"
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>", b" " * inflated + b"</sheetData>")
            out.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return path


def test_xlsx_zip_bomb_refused_unopened(tmp_path: Path, db_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CRM_MAX_UPLOAD_MB", "8")
    path = _bomb(tmp_path, 64 * MB)
    assert path.stat().st_size < MB // 4  # kilobytes on disk, 64 MB inflated
    before = store_state(db_path)
    started = time.perf_counter()
    with pytest.raises(IngestRefused) as info:
        ingest_file(path, "orders", db=db_path)
    assert time.perf_counter() - started < 2
    assert info.value.key == "ingest.xlsx_too_big"
    assert info.value.params["inflated_mb"] > 64
    assert "bomba.xlsx" in info.value.message("pt_BR") and "8 MB" in info.value.message("pt_BR")
    assert store_state(db_path) == before
    # the same structure under the limit is an ordinary workbook and loads
    monkeypatch.setenv("CRM_MAX_UPLOAD_MB", "100")
    assert ingest_file(path, "orders", db=db_path).rows_loaded == 1


CLI_CHILD = """
import json, sys, time
from crm_core.cli import main
import crm_core.ingest  # imported up front: its modules' bytes are not the file's
def rchar():
    return int(dict(l.split(": ") for l in open("/proc/self/io").read().splitlines())["rchar"])
before, started = rchar(), time.perf_counter()
code = main(["ingest", "orders", sys.argv[1], "--db", sys.argv[2], "--lang", "pt_BR"])
print(json.dumps({"code": code, "read": rchar() - before,
                  "seconds": time.perf_counter() - started}))
"""


def test_one_gigabyte_of_junk_refused_by_size_unread(tmp_path: Path, db_path: Path) -> None:
    junk = tmp_path / "lixo.csv"
    with junk.open("wb") as handle:
        handle.write(b"\x00\xff junk \x1b" * 64)
    os.truncate(junk, 1 << 30)  # 1 GB, sparse: nothing written to disk
    before = store_state(db_path)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("CRM_MAX_UPLOAD_MB", None)  # the default limit
    child = subprocess.run(
        [sys.executable, "-c", CLI_CHILD, str(junk), str(db_path)],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
    )  # fmt: skip
    outcome = json.loads(child.stdout.strip().splitlines()[-1])
    assert outcome["code"] == 2
    assert outcome["seconds"] < 2
    assert outcome["read"] < MB  # the store's header and the catalogue, not the 1 GB
    assert "Traceback" not in child.stderr
    refusal = json.loads(child.stderr.strip().splitlines()[-1])
    assert refusal["error"] == "ingest.too_big"
    assert refusal["message"] == (
        "lixo.csv tem 1024 MB, acima do limite de 1000 MB (CRM_MAX_UPLOAD_MB)."
    )
    assert store_state(db_path) == before

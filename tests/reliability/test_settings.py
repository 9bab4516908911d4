"""Server settings and the code's promises about HTML, read from the tree.

- `.streamlit/config.toml`: XSRF protection and CORS protection on, an upload size
  limit, no error details (tracebacks) in the browser, no usage statistics.
- No `unsafe_allow_html=True` / `unsafe_allow_javascript=True` in `app.py`, `pages/`
  or `ui/`, unless the line (or the comment block right above it) says why it is safe
  with a `# safe: <reason>` comment. The browser test `tests/e2e/test_xss.py` checks the
  result on real pages.
- Spreadsheet bytes (CSV/XLSX) are written only by `crm_core.export`, whose cells are
  formula-safe (`tests/test_export.py`, `tests/e2e/test_formula_injection.py`).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from crm_core.ingest.limits import DEFAULT_MAX_UPLOAD_MB

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted([ROOT / "app.py", *(ROOT / "pages").glob("*.py"), *(ROOT / "ui").glob("*.py")])
UNSAFE = re.compile(r"unsafe_allow_(html|javascript)\s*=\s*True")
WRITERS = re.compile(r"\.(write_csv|to_csv|write_excel|to_excel)\(")
# Reviewed by hand, awaiting a `# safe:` marker in the file itself: (file, flag) → why.
REVIEWED: dict[tuple[str, str], str] = {}
"""(file, html|javascript) reviewed by hand without a `# safe:` comment; keep it empty."""


def _config() -> dict:
    return tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))


def test_server_settings() -> None:
    config = _config()
    assert config["server"]["enableXsrfProtection"] is True
    assert config["server"]["enableCORS"] is True
    assert 1 <= config["server"]["maxUploadSize"] <= 200  # MB, held in memory per session
    assert config["client"]["showErrorDetails"] in ("none", False)
    assert config["browser"]["gatherUsageStats"] is False


def test_command_line_limit_refuses_a_gigabyte() -> None:
    """The browser's limit is the smaller; the command line's is under 1 GB (1024 MB)."""
    assert _config()["server"]["maxUploadSize"] <= DEFAULT_MAX_UPLOAD_MB < 1024


def _comment_above(lines: list[str], index: int) -> str:
    """The comment lines directly above line `index` (joined)."""
    block = []
    for line in reversed(lines[:index]):
        if not line.strip().startswith("#"):
            break
        block.append(line)
    return " ".join(block)


def _unsafe_lines() -> list[tuple[str, int, str]]:
    found = []
    for path in SOURCES:
        lines = path.read_text(encoding="utf-8").splitlines()
        for index, line in enumerate(lines):
            if UNSAFE.search(line):
                found.append((str(path.relative_to(ROOT)), index, line))
    return found


@pytest.mark.parametrize(
    "where", _unsafe_lines() or [None], ids=lambda w: f"{w[0]}:{w[1] + 1}" if w else "none"
)
def test_unsafe_html_only_where_justified(where: tuple[str, int, str] | None) -> None:
    if where is None:
        return
    file, index, line = where
    lines = (ROOT / file).read_text(encoding="utf-8").splitlines()
    justified = "# safe:" in line or "# safe:" in _comment_above(lines, index)
    flag = UNSAFE.search(line).group(1)  # type: ignore[union-attr]
    assert justified or (file, flag) in REVIEWED, (
        f"{file}:{index + 1} renders raw HTML/JS without a '# safe: <reason>' comment: {line}"
    )


def test_spreadsheet_bytes_are_written_only_by_the_formula_safe_export() -> None:
    """CSV/XLSX bytes come from `crm_core.export` alone (`to_csv_bytes`/`to_xlsx_bytes`)."""
    code = [*SOURCES, *(ROOT / "crm_core").rglob("*.py")]
    offenders = [
        f"{path.relative_to(ROOT)}: {line.strip()}"
        for path in code
        if path != ROOT / "crm_core" / "export.py"
        for line in path.read_text(encoding="utf-8").splitlines()
        if WRITERS.search(line)
    ]
    assert offenders == []

"""Size limits checked before a file is read: the upload itself and an XLSX's contents.

Why here and not only in Streamlit's `server.maxUploadSize` (200 MB, the
browser path, `.streamlit/config.toml`): the command line and scripts call
`ingest_file` directly, and a 1 GB file of junk must be refused from its size
alone — `os.stat`, not one byte read. An XLSX is a ZIP: its size on disk says
little (a "ZIP bomb" of a few kilobytes can inflate to gigabytes), so a
workbook is refused when its members' *declared* uncompressed sizes add up past
the same limit. Python's `zipfile` never inflates a member past its declared
size, so a lying header cannot get round the check.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from crm_core.ingest.report import IngestRefused

DEFAULT_MAX_UPLOAD_MB = 1000
ZIP_MAGIC = b"PK\x03\x04"


def max_upload_bytes() -> int:
    """Upload size limit in bytes: `$CRM_MAX_UPLOAD_MB` megabytes (MiB), default 1000.

    1000 MB holds a ~13-million-order CSV (the 10M-row benchmark file is 734 MB)
    while a 1 GB (1024 MB) file of junk is refused.
    """
    mb = float(os.environ.get("CRM_MAX_UPLOAD_MB", str(DEFAULT_MAX_UPLOAD_MB)))
    return int(mb * 1024 * 1024)


def _mb(size: int) -> float:
    return size / 2**20


def check_file_size(path: Path, name: str, max_bytes: int | None = None) -> int:
    """The file's size in bytes; refuses (`ingest.too_big`) a file over the limit.

    Only `stat`s the file: nothing is read.
    """
    limit = max_upload_bytes() if max_bytes is None else max_bytes
    size = path.stat().st_size
    if size > limit:
        raise IngestRefused("ingest.too_big", file=name, size_mb=_mb(size), limit_mb=_mb(limit))
    return size


def check_workbook(path: Path, name: str, max_bytes: int | None = None) -> None:
    """Refuse an `.xlsx` that is not a ZIP (a renamed CSV) or inflates past the limit."""
    with path.open("rb") as handle:
        head = handle.read(len(ZIP_MAGIC))
    if head != ZIP_MAGIC:
        raise IngestRefused("ingest.xlsx_not_workbook", file=name)
    limit = max_upload_bytes() if max_bytes is None else max_bytes
    try:
        with zipfile.ZipFile(path) as archive:
            inflated = sum(member.file_size for member in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise IngestRefused("ingest.bad_xlsx", file=name, detail=str(exc)) from exc
    if inflated > limit:
        raise IngestRefused(
            "ingest.xlsx_too_big",
            file=name,
            size_mb=_mb(path.stat().st_size),
            inflated_mb=_mb(inflated),
            limit_mb=_mb(limit),
        )

"""CSV/XLSX ingestion that loses nothing.

Public API (wired into the CLI and the upload page):
`ingest_file`, `preview_file`, `undo_upload`, `upload_history`, `KINDS`,
`IngestReport`, `IngestPreview`, `IngestRefused`. See `pipeline.py` for the
stages, `sniff.py`/`decide.py` for the per-file and per-column decisions,
`profiles/` for the known exports and `merge.py` for the one-transaction load.
"""

from crm_core.ingest.fields import KINDS
from crm_core.ingest.pipeline import ingest_file, preview_file
from crm_core.ingest.report import IngestPreview, IngestRefused, IngestReport
from crm_core.ingest.undo import undo_upload, upload_history

__all__ = [
    "KINDS",
    "IngestPreview",
    "IngestRefused",
    "IngestReport",
    "ingest_file",
    "preview_file",
    "undo_upload",
    "upload_history",
]

"""`ingest_file` and `preview_file`: the upload, end to end.

Stages (reported to `progress(fraction, stage)`): scan → stage → validate →
merge (inside the store transaction, just before commit) → done. Only the
merge holds the store's lock.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from crm_core import store
from crm_core.ingest import limits
from crm_core.ingest import merge as merger
from crm_core.ingest.fields import KINDS, missing_required
from crm_core.ingest.prepare import Prepared, open_source, prepare
from crm_core.ingest.report import (
    REPORT_REJECTS_MAX,
    IngestPreview,
    IngestRefused,
    IngestReport,
)
from crm_core.ingest.shape import STAGED_TABLES
from crm_core.ingest.xlsx import XLSX_SUFFIXES

max_upload_bytes = limits.max_upload_bytes  # kept importable from here

Progress = Callable[[float, str], None]


def _check_input(path: Path, name: str, kind: str, max_bytes: int | None) -> None:
    """Refuse before reading: unknown kind, file over the size limit, workbook bombs."""
    if kind not in KINDS:
        raise IngestRefused("ingest.unknown_kind", kind=kind, known=", ".join(KINDS))
    limits.check_file_size(path, name, max_bytes)
    if path.suffix.lower() in XLSX_SUFFIXES:
        limits.check_workbook(path, name, max_bytes)


def _detected(prep: Prepared) -> dict[str, Any]:
    """How the file was read: profile, encoding, delimiter, per-column decisions, mapping."""
    return {
        "profile": prep.profile.name,
        "encoding": prep.source.encoding,
        "delimiter": prep.source.layout.delimiter,
        "decimal": prep.decimal,
        "date_formats": prep.date_formats,
        "mapping": prep.columns.mapping,
        "ignored_columns": prep.columns.ignored,
        "footer_lines": prep.source.layout.footer_text,
    }


def _report(prep: Prepared, kind: str, name: str, lang: str) -> IngestReport:
    rejects = prep.rejects
    return IngestReport(
        kind=kind,
        file_name=name,
        sha256=prep.source.sha256,
        **_detected(prep),
        rows_read=prep.rows_read,
        rows_rejected=len(rejects),
        rows_duplicate=prep.duplicates_in_file,
        rejects=[r.to_dict(lang) for r in rejects[:REPORT_REJECTS_MAX]],
        lang=lang,
    )


def _refuse_if_nothing(prep: Prepared, name: str, lang: str) -> None:
    if prep.rows_clean or not prep.rejects:
        return
    first = prep.rejects[0]
    raise IngestRefused(
        "ingest.nothing_loaded",
        file=name,
        rows_read=prep.rows_read,
        line=first.line,
        column=first.column or "-",
        reason=first.reason(lang),
        rejects=[r.to_dict(lang) for r in prep.rejects[:100]],
    )


def _duplicate(report: IngestReport, earlier: dict[str, Any]) -> IngestReport:
    report.duplicate_file, report.upload_id = True, earlier["upload_id"]
    report.rows_read = report.rows_duplicate = int(earlier["rows_read"])
    report.rows_loaded = report.rows_rejected = 0
    report.rejects = []
    return report


def ingest_file(
    file: str | Path,
    kind: str,
    *,
    db: str | Path | None = None,
    mapping: dict[str, str] | None = None,
    profile: str | None = None,
    actor: str = "cli",
    lang: str = "en",
    file_name: str | None = None,
    progress: Progress | None = None,
    max_bytes: int | None = None,
) -> IngestReport:
    """Load one CSV/XLSX export of `kind` into the store, all or nothing."""
    started = time.monotonic()
    path = Path(file)
    name = file_name or path.name
    tell = progress or (lambda fraction, stage: None)
    _check_input(path, name, kind, max_bytes)
    tell(0.0, "scan")
    with tempfile.TemporaryDirectory(prefix="vinculo-ingest-") as folder:
        source = open_source(path, name, Path(folder))
        with store.connect(db) as con:  # a moment's read: was this file applied already?
            earlier = merger.find_applied(con, source.sha256, kind)
        if earlier:
            report = IngestReport(
                kind=kind,
                file_name=name,
                sha256=source.sha256,
                profile=earlier["profile"] or "",
                encoding=source.encoding,
                delimiter=source.layout.delimiter,
                lang=lang,
            )
            return _duplicate(report, earlier)
        prep = prepare(path, name, kind, mapping, profile, Path(folder), source=source)
        tell(0.6, "validate")
        report = _report(prep, kind, name, lang)
        _refuse_if_nothing(prep, name, lang)
        result = _merge(prep, report, db, actor, lang, tell, started)
    if isinstance(result, dict):
        return _duplicate(report, result)
    tell(1.0, "done")
    return report


def _merge(
    prep: Prepared,
    report: IngestReport,
    db: str | Path | None,
    actor: str,
    lang: str,
    tell: Progress,
    started: float,
) -> merger.MergeResult | dict[str, Any]:
    """Hand the staged tables to the store (as Arrow) and merge them in one transaction."""
    kind = report.kind
    staged = {
        t: prep.con.sql(f"SELECT * FROM {t}").to_arrow_table()
        for t in STAGED_TABLES[kind]
        if _exists(prep, t)
    }
    prep.con.close()
    rejects = [(r.line, r.column, r.reason(lang), r.raw) for r in prep.rejects]

    def finish(result: merger.MergeResult) -> dict[str, Any]:
        report.upload_id, report.placeholders_created = result.upload_id, result.placeholders
        report.rows_loaded = result.loaded
        report.rows_duplicate = prep.duplicates_in_file + result.duplicate
        report.seconds = round(time.monotonic() - started, 3)
        return report.to_dict()

    meta = {
        "sha256": prep.source.sha256,
        "actor": actor,
        "report": finish,
        "source": prep.profile.source_name,
    }
    with store.connect(db) as con:
        tell(0.8, "merge_start")
        return merger.merge(con, kind, staged, meta, rejects, lambda stage: tell(0.95, stage))


def _exists(prep: Prepared, table: str) -> bool:
    rows = prep.con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [table]
    ).fetchall()
    return bool(rows[0][0])


def preview_file(
    file: str | Path,
    kind: str,
    *,
    mapping: dict[str, str] | None = None,
    profile: str | None = None,
    rows: int = 20,
    sample_rows: int = 5000,
    lang: str = "en",
) -> IngestPreview:
    """Decisions, proposed mapping and the first `rows` rows as they will load.

    Decisions are taken on the first `sample_rows` records (the upload itself
    decides on every value, so a later value can still change a decision).
    """
    path = Path(file)
    _check_input(path, path.name, kind, None)
    with tempfile.TemporaryDirectory(prefix="vinculo-preview-") as folder:
        prep = prepare(
            path,
            path.name,
            kind,
            mapping,
            profile,
            Path(folder),
            limit=max(rows, sample_rows),
            strict=False,
        )
        missing = missing_required(kind, set(prep.columns.fields))
        typed = prep.con.sql("SELECT 1 AS line LIMIT 0").pl()
        if not missing:
            cols = ", ".join(["line", *prep.columns.fields])
            typed = prep.con.sql(
                f"SELECT {cols} FROM checked WHERE reject IS NULL ORDER BY line LIMIT {int(rows)}"
            ).pl()
        prep.con.close()
    return IngestPreview(
        kind=kind,
        **_detected(prep),
        required_missing=missing,
        headers=prep.source.layout.headers,
        rows=typed,
        rejects=[r.to_dict(lang) for r in prep.rejects[:rows]],
    )

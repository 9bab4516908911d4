"""Upload page helpers: the saved file, the preview, the mapping editor, the report, the history.

The engine is `crm_core.ingest`; this module only turns its decisions, reports and
history into frames and widgets. Frame builders are pure (tested without Streamlit).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import polars as pl
import streamlit as st

from crm_core import store
from crm_core.errors import VinculoError
from crm_core.i18n import translate
from crm_core.i18n.format import format_date
from crm_core.ingest import IngestPreview, IngestReport, ingest_file, preview_file, upload_history
from crm_core.ingest import undo_upload as undo_engine
from crm_core.ingest.fields import FIELDS, REQUIRED
from ui.context import db, lang, t

ACTOR = "app"
"""Who the page records as uploader (roles come later)."""

SHA_PREFIX = 12
"""Hex digits of the file's SHA-256 shown in the history."""

IGNORED = "-"
"""The mapping editor's value for a column that feeds no field (the engine reads '-' as ignore)."""

DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}

_SAVED = "_upload_saved"
OUTCOME = "_upload_outcome"
UNDO_PENDING = "_upload_undo_pending"
UNDONE = "_upload_undone"


# ---- the uploaded file --------------------------------------------------------------------
def saved_path(file: Any) -> Path:
    """The uploaded file written once to a private temp folder under its own (base) name."""
    saved = st.session_state.get(_SAVED)
    if saved and saved[0] == file.file_id and Path(saved[1]).exists():
        return Path(saved[1])
    forget_saved()
    folder = Path(tempfile.mkdtemp(prefix="vinculo-upload-"))
    path = folder / safe_name(file.name)
    with path.open("wb") as out:
        out.write(file.getbuffer())
    st.session_state[_SAVED] = (file.file_id, str(path))
    return path


def safe_name(name: str) -> str:
    """The browser's file name reduced to a plain base name (no folders), 'upload.csv' if none.

    The suffix is kept: it tells a workbook (.xlsx) from text.
    """
    base = Path(name.replace("\\", "/")).name
    return base if base not in ("", ".", "..") else "upload.csv"


def forget_saved() -> None:
    """Delete the previously saved upload (the user removed or replaced it)."""
    saved = st.session_state.pop(_SAVED, None)
    if saved:
        shutil.rmtree(Path(saved[1]).parent, ignore_errors=True)


@st.cache_data(show_spinner=False, max_entries=16)
def preview(path: str, kind: str, mapping_json: str, language: str) -> IngestPreview:
    """`preview_file` of a saved upload under a mapping (JSON, so it can key the cache),
    with the reasons of the rows it would reject in `language`."""
    return preview_file(path, kind, mapping=json.loads(mapping_json) or None, lang=language)


# ---- decisions and mapping ----------------------------------------------------------------
def delimiter_label(delimiter: str, language: str) -> str:
    """The delimiter in words ('semicolon ( ; )'), or the character itself when unusual."""
    name = DELIMITERS.get(delimiter)
    return translate(f"page.upload.delimiter.{name}", language) if name else repr(delimiter)


def decisions_frame(pre: IngestPreview, language: str) -> pl.DataFrame:
    """One row per decided column: source column, what was decided, the decision, assumed?"""
    rows = [
        {
            "source": column,
            "what": translate("page.upload.decision.decimal", language),
            "decision": translate(
                "page.upload.decision.value_decimal",
                language,
                decimal=d.get("decimal", ""),
                thousands=d.get("thousands", "") or "—",
            ),
            "assumed": bool(d.get("assumed")),
        }
        for column, d in pre.decimal.items()
    ] + [
        {
            "source": column,
            "what": translate("page.upload.decision.date", language),
            "decision": str(d.get("format", "")),
            "assumed": bool(d.get("assumed")),
        }
        for column, d in pre.date_formats.items()
    ]
    schema = {"source": pl.String, "what": pl.String, "decision": pl.String, "assumed": pl.Boolean}
    return pl.DataFrame(rows, schema=schema)


def required_fields(kind: str) -> set[str]:
    """Fields that appear in one of the kind's required groups."""
    return {name for group in REQUIRED[kind] for name in group}


def mapping_frame(pre: IngestPreview) -> pl.DataFrame:
    """The editor's rows: every header of the file and the field it feeds (IGNORED if none)."""
    return pl.DataFrame(
        {"source": pre.headers, "field": [pre.mapping.get(h, IGNORED) for h in pre.headers]},
        schema={"source": pl.String, "field": pl.String},
    )


def field_label(kind: str, language: str):
    """format_func for the field selectbox: '— ignore —' and a '*' on required fields."""
    required = required_fields(kind)

    def label(name: str | None) -> str:
        if not name or name == IGNORED:
            return translate("page.upload.ignore", language)
        return f"{name} *" if name in required else name

    return label


def mapping_columns(kind: str) -> dict[str, Any]:
    """column_config of the mapping editor: fixed source column, field selectbox."""
    return {
        "source": st.column_config.TextColumn(t("page.upload.col.source"), disabled=True),
        "field": st.column_config.SelectboxColumn(
            t("page.upload.col.field"),
            options=[IGNORED, *(f.name for f in FIELDS[kind])],
            required=True,
            format_func=field_label(kind, lang()),
            help=t("page.upload.mapping.help"),
        ),
    }


def preview_columns(kind: str) -> dict[str, Any]:
    """column_config of the preview rows: money as R$, instants and days in the user's format."""
    day = "DD/MM/YYYY" if lang() == "pt_BR" else "YYYY-MM-DD"
    columns: dict[str, Any] = {
        "line": st.column_config.NumberColumn(t("page.upload.col.line"), format="%d")
    }
    for field in FIELDS[kind]:
        if field.type == "money":
            columns[field.name] = st.column_config.NumberColumn(field.name, format="R$ %.2f")
        elif field.type == "timestamp":
            columns[field.name] = st.column_config.DatetimeColumn(field.name, format=f"{day} HH:mm")
        elif field.type == "date":
            columns[field.name] = st.column_config.DateColumn(field.name, format=day)
    return columns


def mapping_changes(proposed: dict[str, str], edited: pl.DataFrame) -> dict[str, str]:
    """The user's edits as an explicit mapping: source header -> field (IGNORED = ignore)."""
    changes = {}
    for source, field in edited.select("source", "field").iter_rows():
        chosen = field or IGNORED
        if chosen != proposed.get(source, IGNORED):
            changes[source] = chosen
    return changes


def repeated_fields(edited: pl.DataFrame) -> list[str]:
    """Fields chosen for more than one column (only the last one counts)."""
    chosen = edited.filter(~pl.col("field").fill_null(IGNORED).is_in([IGNORED, ""]))
    counts = chosen.group_by("field").len().filter(pl.col("len") > 1)
    return sorted(counts["field"].to_list())


def missing_text(missing: list[str], language: str) -> str:
    """Required groups ('customer_id|customer_email') as words, joined by semicolons."""
    joiner = translate("page.upload.or", language)
    return "; ".join(joiner.join(group.split("|")) for group in missing)


# ---- loading ------------------------------------------------------------------------------
def load(path: Path, kind: str, mapping: dict[str, str], file: Any) -> dict[str, Any]:
    """Run the upload of `file` with a progress bar; the outcome holds the report or refusal."""
    name = file.name
    bar = st.progress(0.0, text=t("page.upload.stage.scan"))

    def tell(fraction: float, stage: str) -> None:
        bar.progress(min(max(fraction, 0.0), 1.0), text=t(f"page.upload.stage.{stage}"))

    try:
        report = ingest_file(path, kind, db=db(), mapping=mapping or None, actor=ACTOR,
                             lang=lang(), file_name=name, progress=tell)  # fmt: skip
    except VinculoError as refused:
        return {"file_id": file.file_id, "refused": refused}
    return {"file_id": file.file_id, "report": report}


def outcome_of(file: Any) -> dict[str, Any] | None:
    """The remembered outcome of loading this very file (None for another file or none)."""
    outcome = st.session_state.get(OUTCOME)
    if file is None or not outcome or outcome["file_id"] != file.file_id:
        return None
    return outcome


def shown_report(report: IngestReport) -> IngestReport:
    """The report with its summary in the session's current language."""
    return replace(report, lang=lang())


def rejects_frame(report: IngestReport) -> pl.DataFrame:
    """The report's rejected rows: file line, source column, reason."""
    schema = {"line": pl.Int64, "column": pl.String, "reason": pl.String}
    return pl.DataFrame(report.rejects, schema=schema)


def rejects_columns() -> dict[str, Any]:
    return {
        "line": st.column_config.NumberColumn(t("page.upload.col.line"), format="%d"),
        "column": st.column_config.TextColumn(t("page.upload.col.column")),
        "reason": st.column_config.TextColumn(t("page.upload.col.reason"), width="large"),
    }


# ---- history and undo ---------------------------------------------------------------------
def history(path: str) -> pl.DataFrame:
    """Every upload of the store, newest first (see `upload_history`)."""
    with store.connect(path) as con:
        return upload_history(con)


def history_frame(hist: pl.DataFrame, language: str) -> pl.DataFrame:
    """Provenance for display: kind and status translated, SHA-256 shortened."""
    kinds = {k: translate(f"page.upload.kind.{k}", language) for k in FIELDS}
    statuses = {s: translate(f"page.upload.status.{s}", language) for s in ("applied", "undone")}
    return hist.select(
        "upload_id",
        "file_name",
        pl.col("kind").replace(kinds),
        "uploaded_by",
        "uploaded_at",
        pl.col("sha256").str.slice(0, SHA_PREFIX),
        "rows_read",
        "rows_loaded",
        "rows_rejected",
        "rows_duplicate",
        pl.col("status").replace(statuses),
        "undone_at",
        "undone_by",
    )


def history_columns() -> dict[str, Any]:
    number = st.column_config.NumberColumn
    when = ("DD/MM/YYYY" if lang() == "pt_BR" else "YYYY-MM-DD") + " HH:mm"
    columns: dict[str, Any] = {
        "upload_id": number(t("page.upload.col.upload_id"), format="%d"),
        "file_name": st.column_config.TextColumn(t("page.upload.col.file_name")),
        "kind": st.column_config.TextColumn(t("page.upload.col.kind")),
        "uploaded_by": st.column_config.TextColumn(t("page.upload.col.uploaded_by")),
        "uploaded_at": st.column_config.DatetimeColumn(
            t("page.upload.col.uploaded_at"), format=when
        ),  # fmt: skip
        "sha256": st.column_config.TextColumn(
            t("page.upload.col.sha256"), help=t("page.upload.col.sha256.help")
        ),  # fmt: skip
        "status": st.column_config.TextColumn(t("page.upload.col.status")),
        "undone_at": st.column_config.DatetimeColumn(t("page.upload.col.undone_at"), format=when),
        "undone_by": st.column_config.TextColumn(t("page.upload.col.undone_by")),
    }
    for name in ("rows_read", "rows_loaded", "rows_rejected", "rows_duplicate"):
        columns[name] = number(t(f"page.upload.{name}"), format="localized",
                               help=t(f"page.upload.{name}.help"))  # fmt: skip
    return columns


def undo_options(hist: pl.DataFrame, language: str) -> dict[int, str]:
    """Applied uploads, newest first, as selectbox labels."""
    applied = hist.filter(pl.col("status") == "applied")
    return {
        int(row["upload_id"]): translate(
            "page.upload.undo.option",
            language,
            upload_id=row["upload_id"],
            file_name=row["file_name"],
            kind=translate(f"page.upload.kind.{row['kind']}", language),
            when=format_date(row["uploaded_at"], language),
        )
        for row in applied.iter_rows(named=True)
    }


def undo(upload_id: int) -> None:
    """Undo an upload (one transaction), remember the outcome, rerun for the new data version."""
    st.session_state.pop(UNDO_PENDING, None)
    try:
        result = undo_engine(upload_id, db=db(), actor=ACTOR)
    except VinculoError as failed:
        st.session_state[UNDONE] = {"error": failed}
    else:
        st.session_state[UNDONE] = {
            "upload_id": upload_id,
            "rows": sum(result["removed"].values()),
        }
        outcome = st.session_state.get(OUTCOME)
        if outcome and "report" in outcome and outcome["report"].upload_id == upload_id:
            st.session_state.pop(OUTCOME)
    st.rerun()

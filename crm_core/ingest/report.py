"""What an upload tells the user: the report, the preview, refusals."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import polars as pl

from crm_core.errors import VinculoError
from crm_core.i18n import translate

REPORT_REJECTS_MAX = 1000  # the report lists at most this many; `rejected_rows` keeps all
REASON_VALUE_MAX = 100  # characters of the offending value quoted in a reason (raw keeps all)


def _quoted(value: str | None) -> str:
    """The offending value as a reason quotes it: a 1 MB cell is shortened, not echoed."""
    text = value or ""
    return text if len(text) <= REASON_VALUE_MAX else text[:REASON_VALUE_MAX] + "…"


class IngestRefused(VinculoError):
    """The file was refused as a whole; the store did not change."""


@dataclass
class Reject:
    """One rejected row: file line, our field's source column, reason code and raw text."""

    line: int
    column: str | None
    code: str
    value: str | None = None
    raw: str | None = None
    detail: str | None = None

    def reason(self, lang: str) -> str:
        """The reason in the user's language."""
        return translate(
            f"ingest.reason.{self.code}",
            lang,
            column=self.column or "",
            value=_quoted(self.value),
            detail=self.detail or "",
        )

    def to_dict(self, lang: str) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "reason": self.reason(lang)}


@dataclass
class IngestReport:
    """Outcome of one upload. Invariant: rows_read = loaded + rejected + duplicate."""

    kind: str
    file_name: str
    sha256: str
    profile: str = ""
    encoding: str = ""
    delimiter: str = ""
    decimal: dict[str, Any] = field(default_factory=dict)  # per money column
    date_formats: dict[str, Any] = field(default_factory=dict)  # per date column
    mapping: dict[str, str] = field(default_factory=dict)
    ignored_columns: list[str] = field(default_factory=list)
    footer_lines: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_duplicate: int = 0
    rejects: list[dict[str, Any]] = field(default_factory=list)
    duplicate_file: bool = False
    upload_id: int | None = None
    placeholders_created: int = 0
    seconds: float = 0.0
    lang: str = "en"

    @property
    def message(self) -> str:
        """One-line summary in the user's language."""
        key = "ingest.summary_duplicate_file" if self.duplicate_file else "ingest.summary"
        return translate(
            key,
            self.lang,
            **{k: v for k, v in asdict(self).items() if k not in ("rejects", "lang")},
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("lang")
        data["message"] = self.message
        data["rejects_truncated"] = self.rows_rejected > len(self.rejects)
        return data


@dataclass
class IngestPreview:
    """What the upload page shows before loading: decisions, mapping, typed rows."""

    kind: str
    profile: str
    encoding: str
    delimiter: str
    decimal: dict[str, Any]
    date_formats: dict[str, Any]
    mapping: dict[str, str]  # source header -> field (editable)
    ignored_columns: list[str]
    required_missing: list[str]
    headers: list[str]
    rows: pl.DataFrame  # the first rows as they will load (typed); empty if unmappable
    rejects: list[dict[str, Any]]
    footer_lines: list[str] = field(default_factory=list)

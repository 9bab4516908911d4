"""Everything before the store's lock: sniff, stage, decide, validate, shape.

Runs in a private in-memory DuckDB (`Prepared.con`), so the store stays free
for the app and other commands while a big file is parsed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from crm_core import store
from crm_core.ingest import decide, shape, sniff, stage, xlsx
from crm_core.ingest.fields import field_map, missing_required
from crm_core.ingest.profiles import ColumnMap, Profile, detect_profile, map_columns
from crm_core.ingest.report import IngestRefused, Reject
from crm_core.ingest.validate import Plan, build_checked


@dataclass
class Source:
    """The decoded file: its hash, encoding and layout."""

    sha256: str
    encoding: str
    layout: sniff.Layout
    utf8: Path | None  # None for workbooks
    xlsx: Path | None = None


@dataclass
class Prepared:
    """A validated, shaped upload waiting in its staging database."""

    con: duckdb.DuckDBPyConnection
    source: Source
    profile: Profile
    columns: ColumnMap
    plan: Plan
    decimal: dict[str, object] = field(default_factory=dict)
    date_formats: dict[str, object] = field(default_factory=dict)
    rows_read: int = 0
    rows_clean: int = 0
    duplicates_in_file: int = 0
    rejects: list[Reject] = field(default_factory=list)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(sniff.CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def open_source(path: Path, name: str, folder: Path) -> Source:
    """Hash and sniff a CSV (transcoding to UTF-8 if needed), or open a workbook."""
    if path.suffix.lower() in xlsx.XLSX_SUFFIXES:
        headers, header_row, _ = xlsx.read_xlsx(path, name)
        layout = sniff.Layout(",", header_row, headers, total_lines=0)
        return Source(file_sha256(path), "xlsx", layout, None, path)
    scan = sniff.scan_bytes(path, name)
    utf8 = sniff.to_utf8(path, scan, folder)
    layout = sniff.find_layout(sniff.read_sample(utf8), sniff.read_tail(utf8), scan, name)
    return Source(scan.sha256, scan.encoding, layout, utf8)


def plan_columns(
    source: Source,
    kind: str,
    name: str,
    mapping: dict[str, str] | None,
    profile: str | None,
    *,
    strict: bool = True,
) -> tuple[Profile, ColumnMap, list]:
    """Profile and column mapping; refuses (when `strict`) if required fields are missing."""
    prof = detect_profile(source.layout.headers, kind, profile)
    cmap = map_columns(source.layout.headers, prof, mapping)
    missing = missing_required(kind, set(cmap.fields))
    if missing and strict:
        raise IngestRefused(
            "ingest.missing_columns",
            file=name,
            kind=kind,
            missing=", ".join(m.replace("|", " or ") for m in missing),
            found=", ".join(source.layout.headers),
            columns_found=source.layout.headers,
            required_missing=missing,
        )
    return prof, cmap, missing


def staging_connection() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(f"SET TimeZone = '{store.business_tz()}'")
    return con


def stage_source(
    con: duckdb.DuckDBPyConnection, source: Source, name: str, limit: int | None = None
) -> stage.Staged:
    if source.xlsx is not None:
        headers, _, records = xlsx.read_xlsx(source.xlsx, name)
        return stage.stage_rows(con, records, len(headers), limit=limit)
    assert source.utf8 is not None
    return stage.stage_csv(con, source.utf8, source.layout, limit=limit)


def decide_formats(
    con: duckdb.DuckDBPyConnection, prof: Profile, cmap: ColumnMap, delimiter: str
) -> tuple[dict[str, str], dict, dict]:
    """Per-column decimal and date decisions for the mapped money/date fields."""
    fields = field_map(prof.kind)
    decimal_default = prof.decimal or ("," if delimiter == ";" else ".")
    formats: dict[str, str] = {}
    decimal: dict[str, object] = {}
    dates: dict[str, object] = {}
    for name, index in cmap.fields.items():
        header, ftype = cmap.headers[index], fields[name].type
        if ftype == "money":
            d = decide.decide_money(con, f"c{index}", header, decimal_default)
            formats[name], decimal[header] = d.value, d.to_dict("money")
        elif ftype in ("timestamp", "date"):
            d = decide.decide_date(con, f"c{index}", header, prof.date_order)
            formats[name], dates[header] = d.value, d.to_dict("date")
    return formats, decimal, dates


def prepare(
    path: Path,
    name: str,
    kind: str,
    mapping: dict[str, str] | None,
    profile: str | None,
    folder: Path,
    limit: int | None = None,
    strict: bool = True,
    source: Source | None = None,
) -> Prepared:
    """Sniff (unless `source` is given), stage, decide, validate and shape one file.

    No store access: this runs while the store stays free for others.
    """
    source = source or open_source(path, name, folder)
    prof, cmap, _ = plan_columns(source, kind, name, mapping, profile, strict=strict)
    con = staging_connection()
    staged = stage_source(con, source, name, limit)
    formats, decimal, dates = decide_formats(con, prof, cmap, source.layout.delimiter)
    plan = Plan(kind, dict(cmap.fields), formats, prof.utc_fields)
    prepared = Prepared(con, source, prof, cmap, plan, decimal, dates, rows_read=staged.records)
    if not strict and missing_required(kind, set(cmap.fields)):
        return prepared
    build_checked(con, plan)
    value_rejects = _value_rejects(con, cmap, formats, source.layout.delimiter)
    prepared.rejects = sorted(staged.structural + value_rejects, key=lambda r: r.line)
    if limit is None:  # the raw text has served its purpose: free its memory
        _drop_raw(con)
    prepared.rows_clean = int(
        con.execute("SELECT count(*) FROM checked WHERE reject IS NULL").fetchall()[0][0]
    )
    if kind == "orders":
        shape.shape_orders(con, prof.source_name, plan.line_items)
    else:
        shape.SHAPERS[kind](con, prof.source_name)
    if not plan.line_items:
        main = shape.STAGED_TABLES[kind][0]
        kept = con.execute(f"SELECT count(*) FROM {main}").fetchall()[0][0]
        prepared.duplicates_in_file = prepared.rows_clean - int(kept)
    return prepared


def _drop_raw(con: duckdb.DuckDBPyConnection) -> None:
    kinds = dict(
        con.execute(
            "SELECT table_name, table_type FROM information_schema.tables "
            "WHERE table_name IN ('raw', 'raw0')"
        ).fetchall()
    )
    for name, kind in kinds.items():
        con.execute(f"DROP {'VIEW' if kind == 'VIEW' else 'TABLE'} {name}")


def _value_rejects(
    con: duckdb.DuckDBPyConnection, cmap: ColumnMap, formats: dict[str, str], delimiter: str
) -> list[Reject]:
    """Rows `checked` rejected, with the source header and the raw row text."""
    rows = con.execute(
        "SELECT r.*, c.reject FROM checked c JOIN raw r USING (line) "
        "WHERE c.reject IS NOT NULL ORDER BY line"
    ).fetchall()
    rejects = []
    for row in rows:
        name, code, value = row[-1].split("|", 2)
        index = cmap.fields.get(name)
        header = cmap.headers[index] if index is not None else name
        raw = delimiter.join(v or "" for v in row[1:-1])
        detail = ""
        if code == "bad_date":
            detail = decide.FORMAT_LABEL.get(formats.get(name, ""), "")
        elif code == "bad_number":
            detail = f" (decimal {formats.get(name, '')!r})"
        rejects.append(
            Reject(line=int(row[0]), column=header, code=code, value=value, raw=raw, detail=detail)
        )
    return rejects

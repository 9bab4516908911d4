"""Reading a file's records into a private staging DuckDB, all as text.

The staging table `raw(line, c0, c1, …)` holds one row per data record, in
file order, with `line` the file's own physical line number of the record's
first line. Two ways in:

- fast path: DuckDB `read_csv` with an explicit all-VARCHAR schema and our
  delimiter/quote/header decisions (`auto_detect=false`, strict). Accepted only
  when it succeeds and the file's line count equals header + records, i.e. no
  blank lines and no multi-line quoted fields, so `line = rowid + first line`.
- exact path (anything else: wrong field counts, unterminated quotes, blank or
  multi-line records, report footers, XLSX): a Python `csv`/openpyxl scan that
  records each record's first line and turns every structural problem into a
  reject. Nothing vanishes silently.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from crm_core.ingest.report import Reject
from crm_core.ingest.sniff import Layout

BATCH = 200_000


@dataclass
class Staged:
    """What staging found: records read and structural rejects."""

    records: int
    structural: list[Reject] = field(default_factory=list)
    path: str = "duckdb"


def _sql_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def stage_csv(
    con: duckdb.DuckDBPyConnection, file: Path, layout: Layout, limit: int | None = None
) -> Staged:
    """Fill `raw` from a UTF-8 CSV: DuckDB fast path, else the exact Python scan."""
    width = len(layout.headers)
    if layout.footer_line is None and limit is None:
        columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width)) + "}"
        try:
            con.execute(
                f"CREATE OR REPLACE TABLE raw0 AS SELECT * FROM read_csv({_sql_str(str(file))}, "
                f"columns={columns}, delim={_sql_str(layout.delimiter)}, quote='\"', "
                f"escape='\"', header=true, skip={layout.header_line - 1}, "
                "auto_detect=false, strict_mode=true, null_padding=false, all_varchar=true)"
            )
            records = con.execute("SELECT count(*) FROM raw0").fetchall()[0][0]
            if records == layout.total_lines - layout.header_line:
                con.execute(
                    f"CREATE OR REPLACE VIEW raw AS SELECT rowid + {layout.header_line + 1} "
                    "AS line, * FROM raw0"
                )
                return Staged(records=int(records))
        except duckdb.Error:
            pass
        con.execute("DROP TABLE IF EXISTS raw0")
    with file.open("r", encoding="utf-8", newline="") as handle:
        rows = _csv_records(handle, layout)
        return stage_rows(con, rows, width, limit=limit, delimiter=layout.delimiter)


def _csv_records(handle: Iterable[str], layout: Layout) -> Iterator[tuple[int, int, list[str]]]:
    """(first line, last line, fields) per record after the header, up to the footer."""
    reader = csv.reader(
        handle, delimiter=layout.delimiter, quotechar='"', doublequote=True, strict=True
    )
    previous = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error:
            yield previous + 1, reader.line_num, None
            return
        start, previous = previous + 1, reader.line_num
        if start <= layout.header_line or not row:
            continue
        if start > layout.data_end:
            return
        yield start, previous, row


def stage_rows(
    con: duckdb.DuckDBPyConnection,
    rows: Iterable[tuple[int, int, list[str] | None]],
    width: int,
    *,
    limit: int | None = None,
    delimiter: str = ",",
) -> Staged:
    """Fill `raw` from (first line, last line, fields) records; bad widths become rejects."""
    con.execute(
        "CREATE OR REPLACE TABLE raw (line BIGINT, "
        + ", ".join(f"c{i} VARCHAR" for i in range(width))
        + ")"
    )
    staged = Staged(records=0, path="exact")
    batch: list[list[str | None]] = [[] for _ in range(width + 1)]
    for start, end, fields in rows:
        staged.records += 1
        if fields is None:
            staged.structural.append(
                Reject(
                    line=start, column=None, code="unterminated_quote", detail=str(end - start + 1)
                )
            )
        elif len(fields) != width:
            staged.structural.append(
                Reject(
                    line=start,
                    column=None,
                    code="field_count",
                    value=str(len(fields)),
                    detail=str(width),
                    raw=delimiter.join(f or "" for f in fields)[:2000],
                )
            )
        else:
            batch[0].append(start)  # type: ignore[arg-type]
            for i, value in enumerate(fields):
                batch[i + 1].append(value if value != "" else None)
            if len(batch[0]) >= BATCH:
                _flush(con, batch, width)
        if limit is not None and staged.records >= limit:
            break
    _flush(con, batch, width)
    return staged


def _flush(con: duckdb.DuckDBPyConnection, batch: list[list], width: int) -> None:
    if not batch[0]:
        return
    names = ["line", *(f"c{i}" for i in range(width))]
    types = [pa.int64(), *([pa.string()] * width)]
    table = pa.table(
        [pa.array(col, type=t) for col, t in zip(batch, types, strict=True)], names=names
    )
    con.register("_batch", table)
    con.execute("INSERT INTO raw SELECT * FROM _batch")
    con.unregister("_batch")
    for column in batch:
        column.clear()

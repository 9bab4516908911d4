"""Row validation in one SQL pass: typed fields plus the first problem per row.

`build_checked` turns the staging table `raw` into `checked(line, <every
field of the kind, typed>, first_line, reject)` where `reject` is NULL for a
good row and `"field|code|value"` for the first failing check, in field
order: unreadable value, then missing required value, then impossible value
(negative or absurd amounts, CSAT outside 1–5, NPS outside 0–10, dates after
tomorrow or before 1900).

Line-item files (any of sku/product/quantity/unit_price mapped): rows sharing
an order id are one order; order-level fields are read from the order's first
row only (as Shopify writes them) and the other rows are its line items. If
an order's first row is rejected, its other rows are rejected with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from crm_core.ingest import convert
from crm_core.ingest.fields import FIELDS, ITEM_FIELDS, REQUIRED, Field

ABSURD_AMOUNT = 1_000_000_000  # in the order's currency; no CRM order is a billion
SQL_TYPE = {
    "money": "DECIMAL(18,2)",
    "int": "BIGINT",
    "csat": "BIGINT",
    "nps": "BIGINT",
    "timestamp": "TIMESTAMPTZ",
    "date": "DATE",
    "bool": "BOOLEAN",
}


@dataclass(frozen=True)
class Plan:
    """What to convert: field -> raw column index, per-field format, UTC fields."""

    kind: str
    columns: dict[str, int]
    formats: dict[str, str]
    utc_fields: tuple[str, ...] = ()

    @property
    def line_items(self) -> bool:
        return self.kind == "orders" and any(f in self.columns for f in ITEM_FIELDS)

    def order_level(self, name: str) -> bool:
        """True for fields read from an order's first row only (line-item files)."""
        return self.line_items and name not in (*ITEM_FIELDS, "order_id")


def _typed(field: Field, plan: Plan) -> tuple[str, str | None]:
    """(fast, slow) SQL for one field; see `convert.parts`."""
    if field.name not in plan.columns:
        return f"NULL::{SQL_TYPE.get(field.type, 'VARCHAR')}", None
    c = f"c{plan.columns[field.name]}"
    return convert.parts(
        c, field.type, plan.formats.get(field.name, ""), field.name in plan.utc_fields
    )


def _typed_select(plan: Plan, raw_cols: list[str], first: str) -> str:
    """Two levels: fast conversions once, the slow ones only where the fast gave NULL."""
    fields = [f for f in FIELDS[plan.kind] if f.name in plan.columns]
    parts = {f.name: _typed(f, plan) for f in fields}
    level1 = ", ".join(f"{fast} AS _f_{name}" for name, (fast, _) in parts.items())
    level2 = ", ".join(
        f"_f_{name} AS {name}"
        if slow is None
        else f"CASE WHEN _f_{name} IS NOT NULL THEN _f_{name} ELSE {slow} END AS {name}"
        for name, (_, slow) in parts.items()
    )
    cols = ", ".join(["line", *raw_cols])
    return f"SELECT {cols}, {level2}, first_line FROM (SELECT {cols}, {level1}, {first} FROM raw)"


def _checks(plan: Plan) -> list[tuple[str, str, str]]:
    """(field, condition on typed fields, code), in the order they are tried."""
    checks: list[tuple[str, str, str]] = []
    fields = FIELDS[plan.kind]
    for field in fields:
        if field.name in plan.columns and field.type in convert.INVALID_CODE:
            raw = f"c{plan.columns[field.name]}"
            # typed NULL first: the other tests then run only on those rows
            cond = f"{field.name} IS NULL AND {raw} IS NOT NULL AND trim({raw}) <> ''"
            checks.append((field.name, cond, convert.INVALID_CODE[field.type]))
    for group in REQUIRED[plan.kind]:
        mapped = [name for name in group if name in plan.columns]
        if mapped:
            cond = " AND ".join(f"{name} IS NULL" for name in mapped)
            checks.append((mapped[0], cond, "missing"))
    for field in fields:
        if field.name not in plan.columns:
            continue
        n = field.name
        if field.type == "money":
            checks.append((n, f"{n} < 0", "negative"))
            checks.append((n, f"{n} > {ABSURD_AMOUNT}", "absurd_amount"))
        elif field.type == "int":
            checks.append((n, f"{n} < 0", "negative"))
        elif field.type == "csat":
            checks.append((n, f"{n} NOT BETWEEN 1 AND 5", "csat_range"))
        elif field.type == "nps":
            checks.append((n, f"{n} NOT BETWEEN 0 AND 10", "nps_range"))
        elif field.type in ("timestamp", "date"):
            checks.append((n, f"{n} > current_date + INTERVAL 2 DAY", "future_date"))
            checks.append((n, f"{n} < DATE '1900-01-01'", "too_old"))
    if plan.kind == "orders" and {"refunded_amount", "gross_amount"} <= set(plan.columns):
        checks.append(("refunded_amount", "refunded_amount > gross_amount", "refund_exceeds"))
    return checks


def build_checked(con: duckdb.DuckDBPyConnection, plan: Plan) -> None:
    """Create `checked` from `raw` (see module docstring)."""
    fields = FIELDS[plan.kind]
    raw_cols = sorted({f"c{i}" for i in plan.columns.values()})
    first = "line AS first_line"
    if plan.line_items:
        order = f"NULLIF(trim(c{plan.columns['order_id']}), '')"
        first = f"min(line) OVER (PARTITION BY {order}) AS first_line"
    whens = []
    for name, cond, code in _checks(plan):
        guard = "line = first_line AND " if plan.order_level(name) else ""
        raw = f"c{plan.columns[name]}" if name in plan.columns else "NULL"
        whens.append(f"WHEN {guard}({cond}) THEN '{name}|{code}|' || coalesce({raw}, '')")
    reject = f"CASE {' '.join(whens)} END" if whens else "NULL::VARCHAR"
    mapped = ", ".join(f.name for f in fields if f.name in plan.columns)
    # only mapped fields are materialised; the view adds the others as typed NULLs
    con.execute("SET preserve_insertion_order = false")  # rows carry their line from here on
    con.execute(
        f"CREATE OR REPLACE TABLE checked_rows AS SELECT line, {mapped}, first_line, "
        f"{reject} AS reject FROM ({_typed_select(plan, raw_cols, first)})"
    )
    unmapped = "".join(
        f", NULL::{SQL_TYPE.get(f.type, 'VARCHAR')} AS {f.name}"
        for f in fields
        if f.name not in plan.columns
    )
    con.execute(f"CREATE OR REPLACE VIEW checked AS SELECT *{unmapped} FROM checked_rows")
    if plan.line_items:
        con.execute(
            "UPDATE checked_rows SET reject = 'order_id|order_rejected|' || first_line "
            "WHERE reject IS NULL AND line <> first_line AND first_line IN "
            "(SELECT line FROM checked_rows WHERE reject IS NOT NULL AND line = first_line)"
        )

"""Per-column format decisions, taken once per column over all its values.

Money: decimal comma or point. A value *decides* when only one reading is
possible ("12,50", "1.234,56", "1.234.567" → comma; "12.50", "1,234.56" →
point). "1.234" and "1,234" are ambiguous; integers decide nothing. The
column follows the side with more deciding values; with none, the profile's
default (Brazilian files: comma), marked `assumed`.

Dates: ISO (`yyyy-mm-dd…`, optional time and UTC offset) or day-month-year
with `/`, `-` or `.`. For the latter, a first part above 12 proves dd/mm, a
second part above 12 proves mm/dd; when no value proves either, the profile's
default (Brazilian files: dd/mm), marked `assumed`. Values that contradict the
column's decision are rejected, never reinterpreted row by row.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

CLEAN_MONEY = (
    r"regexp_replace(regexp_replace(regexp_replace(regexp_replace(trim({c}), "
    r"'^\((.*)\)$', '-\1'), '^(-?)\s*(R\$|US\$|\$|€|£|[A-Z]{{3}})\s*', '\1'), "
    r"'\s*(R\$|[A-Z]{{3}})$', ''), '[\s\x{{00a0}}]', '', 'g')"
)
_COMMA = r"'^-?\d{1,3}(\.\d{3})+,\d+$|^-?\d+,(\d{1,2}|\d{4,})$|^-?\d{1,3}(\.\d{3}){2,}$'"
_POINT = r"'^-?\d{1,3}(,\d{3})+\.\d+$|^-?\d+\.(\d{1,2}|\d{4,})$|^-?\d{1,3}(,\d{3}){2,}$'"
ISO = r"'^\d{4}-\d{1,2}-\d{1,2}'"
DMY = r"'^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})\b'"
FORMAT_LABEL = {"iso": "yyyy-mm-dd", "dmy": "dd/mm/yyyy", "mdy": "mm/dd/yyyy"}


@dataclass(frozen=True)
class Decision:
    """One column's decision: value (",", ".", "iso", "dmy", "mdy") and whether assumed."""

    column: str
    value: str
    assumed: bool
    evidence: dict[str, int]

    def to_dict(self, kind: str) -> dict[str, object]:
        if kind == "money":
            return {
                "decimal": self.value,
                "thousands": "." if self.value == "," else ",",
                "assumed": self.assumed,
                "evidence": self.evidence,
            }
        return {
            "format": FORMAT_LABEL[self.value],
            "assumed": self.assumed,
            "evidence": self.evidence,
        }


def decide_money(
    con: duckdb.DuckDBPyConnection, column: str, header: str, default: str
) -> Decision:
    """Decimal separator of one money column (see module docstring)."""
    clean = CLEAN_MONEY.format(c="v")
    comma, point = con.execute(
        f"SELECT coalesce(sum(n) FILTER (regexp_matches({clean}, {_COMMA})), 0), "
        f"coalesce(sum(n) FILTER (regexp_matches({clean}, {_POINT})), 0) "
        f"FROM (SELECT {column} AS v, count(*) AS n FROM raw WHERE {column} IS NOT NULL "
        "GROUP BY 1)"
    ).fetchall()[0]
    evidence = {",": int(comma), ".": int(point)}
    if comma == point == 0:
        return Decision(header, default, True, evidence)
    return Decision(header, "," if comma > point else ".", False, evidence)


def decide_date(con: duckdb.DuckDBPyConnection, column: str, header: str, default: str) -> Decision:
    """Date format of one date/timestamp column (see module docstring)."""
    v = "p"  # the first 10 characters hold the whole date part in every format
    iso, slash, day_first, month_first = con.execute(
        f"SELECT coalesce(sum(n) FILTER (regexp_matches({v}, {ISO})), 0), "
        f"coalesce(sum(n) FILTER (regexp_matches({v}, {DMY})), 0), "
        f"coalesce(sum(n) FILTER (TRY_CAST(regexp_extract({v}, {DMY}, 1) AS INT) > 12), 0), "
        f"coalesce(sum(n) FILTER (TRY_CAST(regexp_extract({v}, {DMY}, 2) AS INT) > 12), 0) "
        f"FROM (SELECT left(trim({column}), 10) AS p, count(*) AS n FROM raw "
        f"WHERE {column} IS NOT NULL GROUP BY 1)"
    ).fetchall()[0]
    evidence = {
        "iso": int(iso),
        "slash": int(slash),
        "first_part_over_12": int(day_first),
        "second_part_over_12": int(month_first),
    }
    if iso >= slash:
        return Decision(header, "iso", iso == 0, evidence)
    if day_first == month_first == 0:
        return Decision(header, default, True, evidence)
    return Decision(header, "dmy" if day_first >= month_first else "mdy", False, evidence)

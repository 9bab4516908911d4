"""SQL expressions turning one raw text column into one typed field.

Every expression yields NULL for an empty cell *and* for a value it cannot
read; `validate.py` tells the two apart (raw present, typed NULL = invalid).
Each conversion runs once per column in a single SQL pass over the staging
table: no per-row Python.
"""

from __future__ import annotations

from crm_core.ingest import vocab
from crm_core.ingest.decide import CLEAN_MONEY

_COMMA_OK = r"'-?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?'"
_POINT_OK = r"'-?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?'"
_EMAIL_OK = r"'[^@\s]+@[^@\s]+\.[^@\s]+'"
_TZ_FIX = r"'(\d{2}:\d{2}(:\d{2}(\.\d+)?)?)\s*([+-]\d{2}):?(\d{2})$'"
_HAS_OFFSET = r"'(Z|UTC|[+-]\d{2}:\d{2})$'"
_SLASHES = r"'^(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})'"
_TIMES = ("", " %H:%M", " %H:%M:%S", " %I:%M %p", " %I:%M:%S %p")

INVALID_CODE = {
    "money": "bad_number",
    "int": "bad_int",
    "csat": "bad_int",
    "nps": "bad_int",
    "timestamp": "bad_date",
    "date": "bad_date",
    "bool": "bad_bool",
    "email": "bad_email",
    "status": "unknown_status",
    "channel": "unknown_channel",
    "direction": "unknown_direction",
}


def first_of(fast: str, slow: str) -> str:
    """`fast` when it gives a value, else `slow`, which is evaluated only for those rows
    (DuckDB's CASE evaluates branches on the selected rows; COALESCE evaluates all)."""
    return f"(CASE WHEN ({fast}) IS NOT NULL THEN ({fast}) ELSE ({slow}) END)"


def sql_list(values: tuple[str, ...] | list[str]) -> str:
    """A SQL list literal of strings."""
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def norm(c: str) -> str:
    """Value key: no accents, lower case, words joined by one space (like headers)."""
    return f"trim(regexp_replace(lower(strip_accents(trim({c}))), '[^a-z0-9]+', ' ', 'g'))"


def _case(c: str, table: dict[str, str]) -> str:
    """Vocabulary lookup: plain lower case first, the full normalisation only if needed."""
    return first_of(*_case_parts(c, table))


def _case_parts(c: str, table: dict[str, str]) -> tuple[str, str]:
    whens = " ".join(f"WHEN '{k}' THEN '{v}'" for k, v in table.items())
    return f"CASE lower(trim({c})) {whens} END", f"CASE {norm(c)} {whens} END"


def money(c: str, decimal: str) -> str:
    """Decimal(18,2) from text with the column's decimal separator; currency marks dropped.

    Fast path first (a plain number DuckDB casts directly), the full clean-up
    only for the values it cannot read; both follow the column's decision.
    """
    return first_of(*_money_parts(c, decimal))


def _money_parts(c: str, decimal: str) -> tuple[str, str]:
    if decimal == ",":
        fast = (
            f"CASE WHEN NOT contains({c}, '.') THEN "
            f"TRY_CAST(replace({c}, ',', '.') AS DECIMAL(18,2)) END"
        )
    else:
        fast = f"TRY_CAST({c} AS DECIMAL(18,2))"
    return fast, _money_slow(c, decimal)


def _money_slow(c: str, decimal: str) -> str:
    clean = CLEAN_MONEY.format(c=c)
    if decimal == ",":
        return (
            f"(CASE WHEN regexp_full_match({clean}, {_COMMA_OK}) THEN TRY_CAST(replace("
            f"replace({clean}, '.', ''), ',', '.') AS DECIMAL(18,2)) END)"
        )
    return (
        f"(CASE WHEN regexp_full_match({clean}, {_POINT_OK}) THEN "
        f"TRY_CAST(replace({clean}, ',', '') AS DECIMAL(18,2)) END)"
    )


def integer(c: str) -> str:
    """Whole number (no rounding of '4.5')."""
    ok = f"regexp_full_match(trim({c}), '[+-]?\\d+')"
    return f"(CASE WHEN {ok} THEN TRY_CAST(trim({c}) AS BIGINT) END)"


def _strptime(c: str, order: str) -> str:
    """Naive TIMESTAMP from d/m/y or m/d/y text (separators / - .)."""
    day_month = "%d/%m" if order == "dmy" else "%m/%d"
    s = f"regexp_replace(trim({c}), {_SLASHES}, '\\1/\\2/\\3')"
    long_year = sql_list([f"{day_month}/%Y{t}" for t in _TIMES])
    short_year = sql_list([f"{day_month}/%y{t}" for t in _TIMES])
    return (
        f"(CASE WHEN regexp_matches({s}, '^\\d{{1,2}}/\\d{{1,2}}/\\d{{2}}\\b') "
        f"THEN try_strptime({s}, {short_year}) "
        f"WHEN regexp_matches({s}, '^\\d{{1,2}}/\\d{{1,2}}/\\d{{4}}\\b') "
        f"THEN try_strptime({s}, {long_year}) END)"
    )


def timestamp(c: str, fmt: str, utc: bool) -> str:
    """TIMESTAMPTZ; naive values are in the business time zone (UTC if `utc`)."""
    if fmt == "iso":
        s = f"regexp_replace(trim({c}), {_TZ_FIX}, '\\1\\4:\\5')"
        naive = f"TRY_CAST({s} AS TIMESTAMP)"
        local = f"timezone('UTC', {naive})" if utc else f"CAST({naive} AS TIMESTAMPTZ)"
        return (
            f"(CASE WHEN NOT regexp_matches(trim({c}), '^\\d{{4}}-') THEN NULL "
            f"WHEN regexp_matches({s}, {_HAS_OFFSET}) THEN TRY_CAST({s} AS TIMESTAMPTZ) "
            f"ELSE {local} END)"
        )
    naive = _strptime(c, fmt)
    return f"timezone('UTC', {naive})" if utc else f"CAST({naive} AS TIMESTAMPTZ)"


def date(c: str, fmt: str) -> str:
    """Calendar day."""
    if fmt == "iso":
        return (
            f"(CASE WHEN regexp_matches(trim({c}), '^\\d{{4}}-') THEN "
            f"TRY_CAST(left(trim({c}), 10) AS DATE) END)"
        )
    return f"CAST({_strptime(c, fmt)} AS DATE)"


def boolean(c: str) -> str:
    return (
        f"(CASE WHEN {norm(c)} IN {_tuple(vocab.TRUE_WORDS)} THEN true "
        f"WHEN {norm(c)} IN {_tuple(vocab.FALSE_WORDS)} THEN false END)"
    )


def _tuple(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


def expression(c: str, ftype: str, fmt: str = "", utc: bool = False) -> str:
    """Typed SQL expression for raw column `c` of field type `ftype`."""
    if ftype == "money":
        return money(c, fmt)
    if ftype in ("int", "csat", "nps"):
        return integer(c)
    if ftype == "timestamp":
        return timestamp(c, fmt, utc)
    if ftype == "date":
        return date(c, fmt)
    if ftype == "bool":
        return boolean(c)
    if ftype == "email":
        return f"(CASE WHEN regexp_full_match(trim({c}), {_EMAIL_OK}) THEN lower(trim({c})) END)"
    if ftype == "status":
        return _case(c, vocab.ORDER_STATUS)
    if ftype == "channel":
        return _case(c, vocab.CHANNEL)
    if ftype == "direction":
        return _case(c, vocab.DIRECTION)
    if ftype == "category":
        return f"coalesce({_case(c, vocab.CATEGORY)}, NULLIF(replace({norm(c)}, ' ', '_'), ''))"
    return f"NULLIF(trim({c}), '')"


def parts(c: str, ftype: str, fmt: str = "", utc: bool = False) -> tuple[str, str | None]:
    """(fast, slow) expressions: `slow` is needed only where `fast` gives NULL.

    Lets the caller compute `fast` once and `slow` only on the rows that need it.
    """
    if ftype == "money":
        return _money_parts(c, fmt)
    if ftype == "timestamp" and fmt == "iso" and not utc:
        return f"TRY_CAST({c} AS TIMESTAMPTZ)", timestamp(c, fmt, utc)
    vocabulary = {
        "status": vocab.ORDER_STATUS,
        "channel": vocab.CHANNEL,
        "direction": vocab.DIRECTION,
    }
    if ftype in vocabulary:
        return _case_parts(c, vocabulary[ftype])
    return expression(c, ftype, fmt, utc), None

"""Numbers, money and dates in the user's language.

pt_BR: `R$ 1.234,56`, `1.234`, `12,5%`, `31/12/2024`.
en:    `R$1,234.56`, `1,234`, `12.5%`, `2024-12-31`.
"""

from __future__ import annotations

from datetime import date, datetime


def _group(value: float, decimals: int, lang: str) -> str:
    text = f"{value:,.{decimals}f}"
    if lang == "pt_BR":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def format_number(value: float | int | None, lang: str, decimals: int = 0) -> str:
    """A number with the language's thousands and decimal separators; '—' for None."""
    if value is None:
        return "—"
    return _group(float(value), decimals, lang)


def format_money(value: float | int | None, lang: str, currency: str = "R$") -> str:
    """Money with two decimals: `R$ 1.234,56` (pt_BR) or `R$1,234.56` (en)."""
    if value is None:
        return "—"
    sign = "-" if value < 0 else ""
    body = _group(abs(float(value)), 2, lang)
    return f"{sign}{currency} {body}" if lang == "pt_BR" else f"{sign}{currency}{body}"


def format_percent(share: float | None, lang: str, decimals: int = 1) -> str:
    """A share 0–1 as a percentage: `12,5%` (pt_BR) or `12.5%` (en)."""
    if share is None:
        return "—"
    return f"{_group(share * 100, decimals, lang)}%"


def format_date(value: date | datetime | None, lang: str) -> str:
    """`31/12/2024` (pt_BR) or `2024-12-31` (en)."""
    if value is None:
        return "—"
    return value.strftime("%d/%m/%Y") if lang == "pt_BR" else value.strftime("%Y-%m-%d")


def date_input_format(lang: str) -> str:
    """The format string Streamlit's date input expects for the language."""
    return "DD/MM/YYYY" if lang == "pt_BR" else "YYYY-MM-DD"

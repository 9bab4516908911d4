"""Number, money and date formats per language."""

from datetime import date

import pytest

from crm_core.i18n import translate
from crm_core.i18n.format import format_date, format_money, format_number, format_percent


@pytest.mark.parametrize(
    ("value", "lang", "expected"),
    [
        (1234.56, "pt_BR", "R$ 1.234,56"),
        (1234.56, "en", "R$1,234.56"),
        (-0.5, "pt_BR", "-R$ 0,50"),
        (1_000_000, "en", "R$1,000,000.00"),
        (None, "en", "—"),
    ],
)
def test_money(value, lang, expected) -> None:
    assert format_money(value, lang) == expected


def test_numbers_percent_dates() -> None:
    assert format_number(1234567, "pt_BR") == "1.234.567"
    assert format_number(1234567, "en") == "1,234,567"
    assert format_percent(0.125, "pt_BR") == "12,5%"
    assert format_percent(0.125, "en") == "12.5%"
    assert format_date(date(2024, 12, 31), "pt_BR") == "31/12/2024"
    assert format_date(date(2024, 12, 31), "en") == "2024-12-31"


def test_translate_falls_back_to_english_then_key() -> None:
    assert "busy" in translate("store.busy", "en", path="x", seconds=1)
    assert translate("no.such.key", "pt_BR") == "no.such.key"


def test_every_key_exists_in_both_languages() -> None:
    from crm_core.i18n import catalogue

    catalogue.cache_clear()
    en, pt = catalogue("en"), catalogue("pt_BR")
    assert set(en) == set(pt), sorted(set(en) ^ set(pt))

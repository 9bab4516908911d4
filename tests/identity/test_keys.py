"""Normalisers: e-mail, phone (E.164, Brazil), CPF/CNPJ and names, one value and a column."""

from __future__ import annotations

import polars as pl
import pytest

from crm_core.identity_keys import (
    email_key,
    identity_keys,
    name_core,
    normalize_document,
    normalize_email,
    normalize_name,
    normalize_phone,
)


@pytest.mark.parametrize(
    ("raw", "plain", "gmail"),
    [
        ("  Ana.Silva@Gmail.Com ", "ana.silva@gmail.com", "anasilva@gmail.com"),
        ("a.na+promo@googlemail.com", "a.na+promo@googlemail.com", "ana@gmail.com"),
        ("Joao+x@Empresa.com.br", "joao+x@empresa.com.br", "joao+x@empresa.com.br"),
        ("anagmail.com", None, None),  # no @
        ("ana silva@x.com", None, None),  # space inside
        ("ana@localhost", None, None),  # no dot in the domain
        ("a@b@c.com", None, None),
        ("", None, None),
        (None, None, None),
    ],
)
def test_email(raw: str | None, plain: str | None, gmail: str | None) -> None:
    assert normalize_email(raw) == plain
    assert normalize_email(raw, gmail=True) == gmail


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("(11) 98765-4321", "+5511987654321"),
        ("+55 11 98765-4321", "+5511987654321"),
        ("11987654321", "+5511987654321"),
        ("011 98765-4321", "+5511987654321"),  # trunk 0
        ("0055 11 98765 4321", "+5511987654321"),  # international prefix
        ("(11) 8765-4321", "+5511987654321"),  # mobile before the ninth digit
        ("(21) 3456-7890", "+552134567890"),  # landline
        ("55 99123-4567", "+5555991234567"),  # DDD 55 (Santa Maria), not the country
        ("119876543", None),  # truncated
        ("(10) 98765-4321", None),  # no DDD 10
        ("(20) 98765-4321", None),  # no DDD 20
        ("(11) 18765-4321", None),  # subscriber cannot start with 1
        ("(11) 0876-5432", None),
        ("+1 415 555 0100", None),  # not Brazilian
        ("abc", None),
        (None, None),
    ],
)
def test_phone(raw: str | None, e164: str | None) -> None:
    assert normalize_phone(raw) == e164


@pytest.mark.parametrize(
    ("raw", "digits"),
    [
        ("123.456.789-09", "12345678909"),  # textbook valid CPF
        ("12345678909", "12345678909"),
        ("123.456.789-08", None),  # wrong second check digit
        ("111.111.111-11", None),  # repeated digits pass the arithmetic, still invalid
        ("000.000.000-00", None),
        ("11.222.333/0001-81", "11222333000181"),  # textbook valid CNPJ
        ("11.222.333/0001-82", None),
        ("1234567890", None),  # 10 digits
        ("", None),
        (None, None),
    ],
)
def test_document(raw: str | None, digits: str | None) -> None:
    assert normalize_document(raw) == digits


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("  MÁRCIA  O. Silva ", "marcia o silva"),
        ("Conceição", "conceicao"),
        ("João-Pedro D'Ávila", "joao pedro d avila"),
        ("---", None),
        (None, None),
    ],
)
def test_name(raw: str | None, folded: str | None) -> None:
    assert normalize_name(raw) == folded


@pytest.mark.parametrize(
    ("raw", "core"),
    [
        ("Maria da Conceição", "maria conceicao"),
        ("Casa Silva Móveis S.A.", "casa silva moveis"),
        ("Grupo Souza Alimentos Ltda", "grupo souza alimentos"),
        ("Ltda", None),
    ],
)
def test_name_core(raw: str, core: str | None) -> None:
    frame = pl.DataFrame({"n": [raw]})
    assert frame.select(name_core(pl.col("n"))).item() == core


def test_column_and_scalar_agree() -> None:
    values = [" A@B.com", "x", None, "Z.Z@Gmail.com"]
    column = pl.DataFrame({"e": values}).select(email_key(pl.col("e"))).to_series().to_list()
    assert column == [normalize_email(v) for v in values]


def test_identity_keys_frame() -> None:
    frame = pl.DataFrame(
        {
            "customer_id": ["C1"],
            "name": ["José da Silva"],
            "email": [" Jose@X.com "],
            "phone": ["(11) 98765-4321"],
            "document": ["123.456.789-09"],
            "city": ["São Paulo"],
            "zip": ["01310-100"],
        }
    )
    row = identity_keys(frame).row(0, named=True)
    assert row == {
        "customer_id": "C1",
        "email_key": "jose@x.com",
        "phone_key": "+5511987654321",
        "document_key": "12345678909",
        "name_key": "jose silva",
        "zip_key": "01310100",
        "city_key": "sao paulo",
    }

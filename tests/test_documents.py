"""CPF/CNPJ check digits against published examples and hand computation."""

from __future__ import annotations

import numpy as np
import pytest

from crm_core import documents


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        # Textbook example: 1,1,1,4,4,4,7,7,7 · 10..2 = 162 → 1620 mod 11 = 3; then
        # (…, 3) · 11..2 = 204 → 2040 mod 11 = 5.
        ("111.444.777-35", True),
        ("11144477735", True),
        ("529.982.247-25", True),
        ("111.444.777-36", False),
        ("111.444.777-53", False),
        ("111.111.111-11", False),  # repeated digits pass the arithmetic but are invalid
        ("1114447773", False),
        ("", False),
        (None, False),
    ],
)
def test_cpf(value: str | None, valid: bool) -> None:
    assert documents.is_valid_cpf(value) is valid


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        # 1,1,2,2,2,3,3,3,0,0,0,1 · 5,4,3,2,9,8,7,6,5,4,3,2 = 102 → 102 mod 11 = 3 → 11−3 = 8;
        # (…, 8) · 6,5,4,3,2,9,8,7,6,5,4,3,2 = 120 → 120 mod 11 = 10 → 11−10 = 1.
        ("11.222.333/0001-81", True),
        ("11222333000181", True),
        ("11.222.333/0001-82", False),
        ("00.000.000/0000-00", False),
        ("11.222.333/0001-8", False),
    ],
)
def test_cnpj(value: str, valid: bool) -> None:
    assert documents.is_valid_cnpj(value) is valid


def test_formatting_and_normalising() -> None:
    assert documents.format_cpf("11144477735") == "111.444.777-35"
    assert documents.format_cnpj("11222333000181") == "11.222.333/0001-81"
    assert documents.normalize_document(" 111.444.777-35 ") == "11144477735"
    assert documents.normalize_document("111.444.777-36") is None
    assert documents.document_kind("11.222.333/0001-81") == "cnpj"
    assert documents.document_kind("111.444.777-35") == "cpf"
    with pytest.raises(ValueError):
        documents.format_cpf("123")


def test_vectorised_check_digits_match_the_published_examples() -> None:
    cpf = documents.cpf_check_digits_array(np.array([[1, 1, 1, 4, 4, 4, 7, 7, 7]]))
    cnpj = documents.cnpj_check_digits_array(np.array([[1, 1, 2, 2, 2, 3, 3, 3, 0, 0, 0, 1]]))
    assert cpf.tolist() == [[3, 5]]
    assert cnpj.tolist() == [[8, 1]]

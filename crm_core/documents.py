"""Brazilian tax documents: CPF (people) and CNPJ (companies).

Definitions (Receita Federal):
- **CPF**: 11 digits, 9 base digits + 2 check digits. The first check digit is
  `r = (sum(d_i * w_i) * 10) mod 11` over the 9 base digits with weights
  10..2 (`r = 10` becomes 0); the second is the same over the 9 base digits
  plus the first check digit with weights 11..2. Numbers made of one repeated
  digit (`111.111.111-11`) pass the arithmetic but are invalid.
  Formatted `123.456.789-09`.
- **CNPJ**: 14 digits, 12 base digits (8 of the company root + 4 of the branch,
  `0001` for the head office) + 2 check digits. Check digit
  `r = sum(d_i * w_i) mod 11`, digit `0` if `r < 2` else `11 - r`, with weights
  5,4,3,2,9,8,7,6,5,4,3,2 for the first and 6,5,4,3,2,9,8,7,6,5,4,3,2 for the
  second. Formatted `12.345.678/0001-95`.

Scalar functions validate and format one value (for the Identify step and
ingestion); `*_check_digits_array` compute check digits for many bases at once
(numpy, for the demo generator).
"""

from __future__ import annotations

import re

import numpy as np

_CPF_W1 = np.arange(10, 1, -1)
_CPF_W2 = np.arange(11, 1, -1)
_CNPJ_W1 = np.array([5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2])
_CNPJ_W2 = np.array([6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2])
_NON_DIGITS = re.compile(r"\D")


def only_digits(value: str | None) -> str:
    """The digits of `value`, in order (`"123.456.789-09"` → `"12345678909"`)."""
    return _NON_DIGITS.sub("", value or "")


def _cpf_digit(digits: np.ndarray, weights: np.ndarray) -> np.ndarray:
    remainder = (digits @ weights * 10) % 11
    return np.where(remainder == 10, 0, remainder)


def _cnpj_digit(digits: np.ndarray, weights: np.ndarray) -> np.ndarray:
    remainder = (digits @ weights) % 11
    return np.where(remainder < 2, 0, 11 - remainder)


def cpf_check_digits_array(base: np.ndarray) -> np.ndarray:
    """Both CPF check digits for an `(n, 9)` integer array of base digits → `(n, 2)`."""
    first = _cpf_digit(base, _CPF_W1)
    second = _cpf_digit(np.column_stack([base, first]), _CPF_W2)
    return np.column_stack([first, second])


def cnpj_check_digits_array(base: np.ndarray) -> np.ndarray:
    """Both CNPJ check digits for an `(n, 12)` integer array of base digits → `(n, 2)`."""
    first = _cnpj_digit(base, _CNPJ_W1)
    second = _cnpj_digit(np.column_stack([base, first]), _CNPJ_W2)
    return np.column_stack([first, second])


def _as_array(digits: str) -> np.ndarray:
    return np.array([int(c) for c in digits], dtype=np.int64)[None, :]


def is_valid_cpf(value: str | None) -> bool:
    """True when `value` (formatted or bare) has 11 digits with correct check digits."""
    digits = only_digits(value)
    if len(digits) != 11 or len(set(digits)) == 1:
        return False
    expected = cpf_check_digits_array(_as_array(digits[:9]))[0]
    return digits[9:] == f"{expected[0]}{expected[1]}"


def is_valid_cnpj(value: str | None) -> bool:
    """True when `value` (formatted or bare) has 14 digits with correct check digits."""
    digits = only_digits(value)
    if len(digits) != 14 or len(set(digits)) == 1:
        return False
    expected = cnpj_check_digits_array(_as_array(digits[:12]))[0]
    return digits[12:] == f"{expected[0]}{expected[1]}"


def document_kind(value: str | None) -> str | None:
    """`"cpf"` or `"cnpj"` for a valid document, else None."""
    if is_valid_cpf(value):
        return "cpf"
    if is_valid_cnpj(value):
        return "cnpj"
    return None


def format_cpf(value: str) -> str:
    """`"12345678909"` → `"123.456.789-09"`; raises ValueError unless 11 digits."""
    d = only_digits(value)
    if len(d) != 11:
        raise ValueError(f"a CPF has 11 digits, got {len(d)}")
    return f"{d[:3]}.{d[3:6]}.{d[6:9]}-{d[9:]}"


def format_cnpj(value: str) -> str:
    """`"12345678000195"` → `"12.345.678/0001-95"`; raises ValueError unless 14 digits."""
    d = only_digits(value)
    if len(d) != 14:
        raise ValueError(f"a CNPJ has 14 digits, got {len(d)}")
    return f"{d[:2]}.{d[2:5]}.{d[5:8]}/{d[8:12]}-{d[12:]}"


def normalize_document(value: str | None) -> str | None:
    """Digits of a valid CPF/CNPJ (the matching key for identity), else None."""
    return only_digits(value) if document_kind(value) else None

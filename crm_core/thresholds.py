"""Reading numeric threshold dataclasses (rule sets) from plain dicts.

Rule sets are data (JSON in the `configs` table); `from_dict` turns them back
into frozen dataclasses whose fields are all `int` or `float`.
"""

from __future__ import annotations

from dataclasses import fields
from typing import Any, TypeVar

from crm_core.errors import VinculoError

T = TypeVar("T")


def numeric_from_dict(cls: type[T], data: dict[str, Any], area: str) -> T:
    """An instance of `cls` from `data`: missing keys take defaults, unknown keys are an error.

    Values are cast to the field's type (`int` or `float`); a value that cannot
    be cast raises `VinculoError("<area>.invalid_rule")`, an unknown key
    `VinculoError("<area>.unknown_rule")`.
    """
    known = {f.name: f.type for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise VinculoError(f"{area}.unknown_rule", names=", ".join(unknown))
    values: dict[str, Any] = {}
    for key, value in data.items():
        caster = int if known[key] in ("int", int) else float
        try:
            values[key] = caster(value)
        except (TypeError, ValueError):
            raise VinculoError(f"{area}.invalid_rule", name=key, value=value) from None
    return cls(**values)

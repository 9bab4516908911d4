"""Masking personal data by role: formats, the role matrix and actions (crm_core.privacy)."""

from __future__ import annotations

import sys
import types
from datetime import date

import polars as pl
import pytest

from crm_core.privacy import (
    ALL_PERSONAL,
    IDENTIFICATION,
    UNMASKED,
    allowed,
    column_kind,
    mask_frame,
    mask_value,
    visible_columns,
)


@pytest.mark.parametrize(
    ("column", "value", "masked"),
    [
        ("name", "Maria Silva", "M*** S***"),
        ("name", "  maria   da  Silva ", "m*** d*** S***"),
        ("email", "maria@dominio.com", "m***@d***.com"),
        ("email", "Maria.S@gmail.com.br", "M***@g***.com.br"),
        ("email", "not-an-email", "n***"),
        ("phone", "+55 (11) 98765-4321", "***21"),
        ("document", "794.221.179-76", "***.***.***-**"),
        ("document", "12.345.678/0001-95", "***.***.***-**"),
        ("city", "São Paulo", "S***"),
        ("zip", "01310-100", "01***-***"),
        ("street", "Rua Augusta, 100", "***"),
        ("birth_date", date(1985, 3, 2), "1985"),
        ("birth_date", "02/03/1985", "1985"),
        ("email_a", "ana@x.org", "a***@x***.org"),
    ],
)  # fmt: skip
def test_formats(column: str, value: object, masked: str) -> None:
    frame = pl.DataFrame({column: [value]})
    assert mask_frame(frame, "manager")[column].to_list() == [masked]
    assert mask_value(value, column) == masked


def test_nulls_and_blanks_stay_empty_and_other_columns_are_untouched() -> None:
    frame = pl.DataFrame({
        "customer_id": ["C1", "C2"], "name": [None, " "], "state": ["SP", "RJ"],
        "revenue": [1.5, 2.0], "birth_date": [None, date(2000, 1, 1)],
    })  # fmt: skip
    out = mask_frame(frame, "manager")
    assert out.columns == frame.columns
    assert out["name"].to_list() == [None, None]
    assert out["birth_date"].to_list() == [None, "2000"]
    assert out.select("customer_id", "state", "revenue").equals(
        frame.select("customer_id", "state", "revenue")
    )


PEOPLE = pl.DataFrame({
    "name": ["Maria Silva"], "email": ["maria@dominio.com"], "phone": ["11987654321"],
    "document": ["79422117976"], "city": ["Recife"], "zip": ["50000-000"],
    "birth_date": [date(1985, 3, 2)],
})  # fmt: skip


def _shown(role: str, purpose: str | None = None) -> set[str]:
    """Columns whose values come out unchanged."""
    out = mask_frame(PEOPLE, role, purpose)
    return {c for c in PEOPLE.columns if out[c].cast(pl.String).equals(PEOPLE[c].cast(pl.String))}


@pytest.mark.parametrize(
    ("role", "purpose", "shown"),
    [
        ("admin", None, set(PEOPLE.columns)),
        ("manager", None, set()),
        ("manager", IDENTIFICATION, set()),
        ("marketing", None, {"name", "email", "phone"}),
        ("marketing", IDENTIFICATION, {"name", "email", "phone"}),
        ("analyst", None, set()),
        ("analyst", IDENTIFICATION, set(PEOPLE.columns)),
        ("intruder", None, set()),
    ],
)
def test_role_matrix(role: str, purpose: str | None, shown: set[str]) -> None:
    assert _shown(role, purpose) == shown
    assert visible_columns(role, purpose) & set(PEOPLE.columns) == shown


def test_matrix_is_data_over_the_personal_columns() -> None:
    assert set(UNMASKED) == {"admin", "manager", "analyst", "marketing"}
    assert all(cols <= ALL_PERSONAL for cols in UNMASKED.values())
    assert column_kind("email_b") == "email" and column_kind("state") is None
    assert column_kind("customer_id") is None


@pytest.mark.parametrize(
    ("action", "role", "ok"),
    [
        ("targeting.exported", "marketing", True), ("targeting.exported", "manager", False),
        ("targeting.exported", "analyst", True), ("privacy.erased", "admin", True),
        ("privacy.erased", "analyst", False), ("privacy.subject_exported", "manager", False),
        ("export.downloaded", "manager", True), ("no.such.action", "admin", False),
    ],
)  # fmt: skip
def test_actions_without_access_rules(
    action: str, role: str, ok: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "crm_core.access", None)  # import fails: our own table
    assert allowed(action, role) is ok


def test_access_rules_win_when_they_name_the_action(monkeypatch: pytest.MonkeyPatch) -> None:
    access = types.ModuleType("crm_core.access")
    access.ACTION_ROLES = {"targeting.exported": ("admin",)}  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "crm_core.access", access)
    assert not allowed("targeting.exported", "marketing")
    assert allowed("privacy.erased", "admin")  # not named there: our table


def test_masking_many_rows_keeps_every_row() -> None:
    """Expressions over whole columns (no row loop): 200,000 rows come back masked alike."""
    n = 200_000
    frame = pl.DataFrame({
        "name": ["Maria da Silva"] * n, "email": ["maria@dominio.com.br"] * n,
        "phone": ["+55 (11) 98765-4321"] * n, "document": ["794.221.179-76"] * n,
    })  # fmt: skip
    out = mask_frame(frame, "manager")
    assert out.height == n and out.n_unique() == 1
    assert out.row(n - 1) == ("M*** d*** S***", "m***@d***.com.br", "***21", "***.***.***-**")


@pytest.mark.parametrize(
    ("role", "purpose", "text"),
    [("manager", None, "M*** S***"), ("admin", None, "Maria Silva"),
     ("analyst", None, "M*** S***"), ("analyst", IDENTIFICATION, "Maria Silva"),
     (None, None, "M*** S***")],
)  # fmt: skip
def test_masked_text_for_hover_labels(
    monkeypatch: pytest.MonkeyPatch, role: str | None, purpose: str | None, text: str
) -> None:
    import ui.masking

    monkeypatch.setattr(ui.masking, "role", lambda: role)
    assert ui.masking.masked_text("Maria Silva", "name", purpose) == text
    assert ui.masking.masked_text("SP", "state") == "SP"
    assert ui.masking.masked_text(None, "email") == ""

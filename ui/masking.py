"""Masking personal data as the acting role may see it: the one call pages make before showing
or exporting a frame (`masked`), a chart's hover text or a label (`masked_text`), and a
customer 360 (`masked_customer`). Rules and formats: `crm_core.privacy`.

Masking runs after the cached frames are read (the caches hold the real values once, shared by
every role) and right before display, so one cache serves every role.
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from crm_core.customer360 import Customer360
from crm_core.privacy import (
    IDENTIFICATION,
    allowed,
    column_kind,
    mask_frame,
    mask_value,
    visible_columns,
)
from ui.context import role

__all__ = ["IDENTIFICATION", "masked", "masked_text", "masked_customer", "may"]


def masked(frame: pl.DataFrame, purpose: str | None = None) -> pl.DataFrame:
    """`frame` with the personal columns the acting role may not see masked (on a page serving
    `purpose`, e.g. `IDENTIFICATION`)."""
    return mask_frame(frame, role(), purpose)


def masked_text(value: object, column: str, purpose: str | None = None) -> str:
    """One value of personal column `column` as the acting role may see it, for hover texts and
    labels (plain text: escape it with `html.escape` for Plotly). None gives ""."""
    if value is None:
        return ""
    kind = column_kind(column)
    if kind is None or kind in visible_columns(role(), purpose):
        return str(value)
    return mask_value(value, column) or ""


def masked_customer(one: Customer360, purpose: str | None = IDENTIFICATION) -> Customer360:
    """A customer 360 with its profile and source records masked (a new object: the cached one
    is shared by every session and role)."""
    return replace(one, profile=masked(one.profile, purpose), records=masked(one.records, purpose))


def may(action: str) -> bool:
    """Whether the acting role may do `action` (`crm_core.privacy.allowed`)."""
    return allowed(action, role())

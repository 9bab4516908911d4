"""Masking personal data by role (LGPD art. 6 III minimisation, art. 46 security measures).

**Personal columns** (`PERSONAL_COLUMNS`): what identifies or locates a person — name, e-mail,
phone, document (CPF/CNPJ), street, city, zip (CEP) and birth date. A frame column is personal
when its name is one of them, or one of them followed by `_a` / `_b` (the two sides of a
pair, e.g. the identity review queue's `email_a`, `email_b`). State, country, gender and the
ids a source gave are not masked: they do not single a person out on their own, and analyses
group by them.

**Who sees what** (`UNMASKED`, `UNMASKED_FOR_PURPOSE`), by the roles of issue 7:

- `admin` — everything: administers users, answers data-subject requests, erases.
- `manager` — nothing: dashboards are about groups and numbers; a person is shown by id.
- `marketing` — the contact fields a target list needs (name, e-mail, phone): sending the
  campaign is their task; never the document, birth date or address.
- `analyst` — nothing on dashboards; **everything on the pages whose task is to identify a
  person** (`IDENTIFICATION`: the customer 360 and the identity review), where telling two
  records apart needs the e-mail, phone, document and address side by side.
- an unknown role sees nothing (fail closed).

**Masked formats** (`mask_value` gives the same text for one value): name `Maria da Silva` →
`M*** d*** S***` (each word's first letter); e-mail `maria@gmail.com.br` →
`m***@g***.com.br`; phone → `***` and its last 2 digits; document → `***.***.***-**`; street
→ `***`; city → first letter and `***`; zip → its first 2 digits and `***-***`; birth date →
its year (text). Null and blank values become null. One Polars expression per column, no
loops over rows.

**Actions** (`PRIVACY_ACTIONS`, read through `allowed`, named as their audit events): who may
export a target list (admin, marketing, analyst — an analyst's list comes out masked; a
manager may not export people at all), download a dashboard table (every role, masked for
it), export a data subject's data or erase one (admin only). When `crm_core.access` defines
`ACTION_ROLES` naming the action, its answer wins.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterable

import polars as pl

PERSONAL_COLUMNS: tuple[str, ...] = (
    "name", "email", "phone", "document", "street", "city", "zip", "birth_date",
)  # fmt: skip
"""Columns holding personal data (module docstring)."""

ALL_PERSONAL: frozenset[str] = frozenset(PERSONAL_COLUMNS)
CONTACT: frozenset[str] = frozenset({"name", "email", "phone"})
IDENTIFICATION = "identification"
"""Purpose of pages whose task is to identify a person (customer 360, identity review)."""

UNMASKED: dict[str, frozenset[str]] = {
    "admin": ALL_PERSONAL,
    "manager": frozenset(),
    "analyst": frozenset(),
    "marketing": CONTACT,
}
"""Personal columns each role sees unmasked everywhere (rationale in the module docstring)."""

UNMASKED_FOR_PURPOSE: dict[str, dict[str, frozenset[str]]] = {
    IDENTIFICATION: {"analyst": ALL_PERSONAL},
}
"""Columns a role also sees on pages serving a purpose (purpose -> role -> columns)."""

PRIVACY_ACTIONS: dict[str, frozenset[str]] = {
    "targeting.exported": frozenset({"admin", "marketing", "analyst"}),
    "export.downloaded": frozenset(UNMASKED),
    "privacy.subject_exported": frozenset({"admin"}),
    "privacy.erased": frozenset({"admin"}),
}
"""Roles allowed each privacy-relevant action, named as its audit event (unless
`crm_core.access.ACTION_ROLES` names it too: then that wins)."""

_PAIR_SUFFIX = re.compile(r"_(a|b)$")
DOCUMENT_MASK = "***.***.***-**"


def column_kind(column: str) -> str | None:
    """The personal column `column` holds (`email_a` → `email`), or None when not personal."""
    base = _PAIR_SUFFIX.sub("", column)
    return base if base in ALL_PERSONAL else None


def visible_columns(role: str | None, purpose: str | None = None) -> frozenset[str]:
    """Personal columns `role` sees unmasked, on a page serving `purpose` (None: any page)."""
    extra = UNMASKED_FOR_PURPOSE.get(purpose or "", {}).get(role or "", frozenset())
    return UNMASKED.get(role or "", frozenset()) | extra


def allowed(action: str, role: str | None) -> bool:
    """Whether `role` may do `action` (`PRIVACY_ACTIONS`; `crm_core.access.ACTION_ROLES` first
    when that module defines the action). Unknown actions are refused."""
    try:
        access = importlib.import_module("crm_core.access")
    except ImportError:
        access = None
    rules = getattr(access, "ACTION_ROLES", None) or {}
    roles: Iterable[str] | None = rules.get(action) if isinstance(rules, dict) else None
    if roles is None:
        roles = PRIVACY_ACTIONS.get(action, frozenset())
    return role in set(roles)


def _first(text: pl.Expr) -> pl.Expr:
    return text.str.slice(0, 1) + "***"


def _masked_name(text: pl.Expr) -> pl.Expr:
    words = text.str.split(" ").list.eval(
        pl.element().filter(pl.element().str.len_chars() > 0).str.slice(0, 1) + "***"
    )
    return words.list.join(" ")


def _masked_email(text: pl.Expr) -> pl.Expr:
    trimmed = text.str.strip_chars()
    at = trimmed.str.replace(r"^(.)[^@]*@(.)[^.]*(\..*)?$", "${1}***@${2}***${3}")
    return pl.when(trimmed.str.contains("@")).then(at).otherwise(_first(trimmed))


def _masked_phone(text: pl.Expr) -> pl.Expr:
    return "***" + text.str.replace_all(r"\D", "").str.slice(-2)


def _masked_zip(text: pl.Expr) -> pl.Expr:
    return text.str.replace_all(r"\D", "").str.slice(0, 2) + "***-***"


def _masked_date(column: str, dtype: pl.DataType) -> pl.Expr:
    col = pl.col(column)
    if isinstance(dtype, pl.Date | pl.Datetime):
        return col.dt.year().cast(pl.String)
    return col.cast(pl.String).str.extract(r"(\d{4})").fill_null(pl.lit("****"))


def _mask_expr(column: str, kind: str, dtype: pl.DataType) -> pl.Expr:
    """The masked form of `column` (holding `kind`), nulls kept."""
    if kind == "birth_date":
        masked = _masked_date(column, dtype)
    else:
        text = pl.col(column).cast(pl.String)
        masked = {
            "name": _masked_name,
            "email": _masked_email,
            "phone": _masked_phone,
            "document": lambda _: pl.lit(DOCUMENT_MASK),
            "street": lambda _: pl.lit("***"),
            "city": _first,
            "zip": _masked_zip,
        }[kind](text)
    blank = pl.col(column).cast(pl.String).str.strip_chars() == ""
    return pl.when(pl.col(column).is_null() | blank).then(None).otherwise(masked).alias(column)


def mask_frame(frame: pl.DataFrame, role: str | None, purpose: str | None = None) -> pl.DataFrame:
    """`frame` with every personal column `role` may not see (on a page serving `purpose`)
    masked (formats in the module docstring); other columns untouched, order kept. A masked
    birth date becomes text (its year). No role (None: nobody signed in) sees nothing."""
    shown = visible_columns(role, purpose)
    exprs = [
        _mask_expr(name, kind, dtype)
        for name, dtype in frame.schema.items()
        if (kind := column_kind(name)) is not None and kind not in shown
    ]
    return frame.with_columns(exprs) if exprs else frame


def mask_value(value: object, column: str) -> str | None:
    """One value of personal column `column` masked as `mask_frame` masks it (None stays None;
    a column that is not personal comes back as text)."""
    if value is None:
        return None
    kind = column_kind(column)
    if kind is None:
        return str(value)
    one = pl.DataFrame({column: [value]})
    return mask_frame(one, "", None)[column].cast(pl.String)[0]

"""Import profiles and column mapping.

Mapping a file's headers to our fields, in order of precedence:
1. the profile's own headers (the detected one, or the one the user forces);
2. synonyms of our field names (accent- and case-insensitive, pt and en);
3. the user's explicit mapping (`source header -> field`), which overrides both.
A profile is detected by the best match of its headers among the file's,
provided all its signature headers are present.
"""

from __future__ import annotations

from dataclasses import dataclass

from crm_core.errors import VinculoError
from crm_core.ingest.fields import field_map, normalise_header, synonym_index
from crm_core.ingest.profiles.base import Profile
from crm_core.ingest.profiles.hubspot import HUBSPOT_CONTACTS
from crm_core.ingest.profiles.planilha import PLANILHA_CLIENTES, PLANILHA_VENDAS
from crm_core.ingest.profiles.salesforce import (
    SALESFORCE_ACCOUNTS,
    SALESFORCE_CONTACTS,
    SALESFORCE_OPPORTUNITIES,
)
from crm_core.ingest.profiles.shopify import SHOPIFY_CUSTOMERS, SHOPIFY_ORDERS
from crm_core.ingest.profiles.stripe import STRIPE_PAYMENTS

__all__ = ["PROFILES", "ColumnMap", "Profile", "detect_profile", "map_columns"]

PROFILES: dict[str, Profile] = {
    p.name: p
    for p in (
        SHOPIFY_ORDERS,
        SHOPIFY_CUSTOMERS,
        HUBSPOT_CONTACTS,
        STRIPE_PAYMENTS,
        SALESFORCE_OPPORTUNITIES,
        SALESFORCE_ACCOUNTS,
        SALESFORCE_CONTACTS,
        PLANILHA_VENDAS,
        PLANILHA_CLIENTES,
    )
}

IGNORE = ("", "-", "ignore", "ignorar")


def generic(kind: str) -> Profile:
    """Our own column names plus pt/en synonyms; Brazilian defaults (dd/mm)."""
    return Profile(
        name=f"generic_{kind}",
        kind=kind,
        columns={},
        signature=(),
        date_order="dmy",
        decimal="",
        source="upload",
    )


def detect_profile(headers: list[str], kind: str, forced: str | None = None) -> Profile:
    """The profile whose headers best match `headers` (generic when none fits)."""
    if forced:
        if forced.startswith("generic"):
            return generic(kind)
        if forced not in PROFILES or PROFILES[forced].kind != kind:
            names = sorted(n for n, p in PROFILES.items() if p.kind == kind)
            raise VinculoError(
                "ingest.unknown_profile",
                profile=forced,
                kind=kind,
                known=", ".join([f"generic_{kind}", *names]),
            )
        return PROFILES[forced]
    present = {normalise_header(h) for h in headers}
    best, best_score = generic(kind), 0
    for profile in PROFILES.values():
        if profile.kind != kind:
            continue
        if not all(normalise_header(s) in present for s in profile.signature):
            continue
        score = sum(normalise_header(h) in present for h in profile.columns)
        if score > best_score:
            best, best_score = profile, score
    return best


@dataclass(frozen=True)
class ColumnMap:
    """Which source column (by position) feeds which field; the rest are ignored."""

    fields: dict[str, int]  # field -> column index
    headers: list[str]

    @property
    def mapping(self) -> dict[str, str]:
        """Source header -> field, the form the upload page edits."""
        return {self.headers[i]: f for f, i in self.fields.items()}

    @property
    def ignored(self) -> list[str]:
        used = set(self.fields.values())
        return [h for i, h in enumerate(self.headers) if i not in used]


def map_columns(
    headers: list[str], profile: Profile, user: dict[str, str] | None = None
) -> ColumnMap:
    """Map headers to fields: profile headers, then synonyms, then the user's mapping."""
    kind = profile.kind
    own = {normalise_header(h): f for h, f in profile.columns.items()}
    synonyms = synonym_index(kind)
    fields: dict[str, int] = {}
    for index, header in enumerate(headers):
        key = normalise_header(header)
        target = own.get(key) or synonyms.get(key)
        if target and target not in fields:
            fields[target] = index
    for source, target in (user or {}).items():
        index = _header_index(headers, source)
        fields = {f: i for f, i in fields.items() if i != index}
        if target.strip().lower() in IGNORE:
            continue
        if target not in field_map(kind):
            raise VinculoError(
                "ingest.unknown_field", field=target, kind=kind, known=", ".join(field_map(kind))
            )
        fields[target] = index
    return ColumnMap(fields=fields, headers=headers)


def _header_index(headers: list[str], source: str) -> int:
    keys = [normalise_header(h) for h in headers]
    if source in headers:
        return headers.index(source)
    if normalise_header(source) in keys:
        return keys.index(normalise_header(source))
    raise VinculoError("ingest.unknown_source_column", column=source, found=", ".join(headers))

"""Business settings the user provides: costs, margin, acquisition spend and KPI targets.

Some value-chain numbers cannot be computed from transactions alone (Buttle's
customer portfolio analysis needs the cost to serve; network development needs
what each acquisition source cost; relationship management measures against
targets). The user enters them on the Settings page; they are data, saved as
named, versioned, audited configurations (`configs`, kind "settings"), like
segment thresholds and rules.

Units: money in BRL; `gross_margin` a share 0–1 of net revenue; rates 0–1.
An absent value means "not provided": pages then say so instead of inventing
a number (no spend → no cost per acquired customer; no target → no gap).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import duckdb
import polars as pl

from crm_core.config_store import list_versions, load_body, save_version
from crm_core.errors import VinculoError

KIND = "settings"
DEFAULT_NAME = "default"

INTERACTION_CHANNELS: tuple[str, ...] = (
    "email", "sms", "whatsapp", "chat", "phone", "visit", "community", "web",
)  # fmt: skip
"""Channels an interaction can use (the `interactions.channel` vocabulary)."""

TARGET_KPIS: tuple[str, ...] = (
    "new_customers", "active_customers", "net_revenue", "retention_rate", "churn_rate",
    "repeat_purchase_rate", "average_clv", "csat", "nps",
)  # fmt: skip
"""KPIs (ids of `crm_core.kpi_defs`) a per-period target can be set for."""


@dataclass(frozen=True)
class SpendEntry:
    """Money spent on one acquisition source in one month (BRL)."""

    source: str
    """An `acquisition_channel` value (e.g. "paid_search", "referral", "partner_marketplace")."""
    month: str
    """Calendar month, "YYYY-MM"."""
    amount: float


@dataclass(frozen=True)
class BusinessSettings:
    """What the business tells Vínculo about its costs and goals.

    - `channel_costs`: cost of one interaction per channel (BRL per contact);
      a channel absent from the mapping costs nothing.
    - `order_cost`: handling cost of one purchase (BRL per order), e.g. picking and payment fees.
    - `gross_margin`: share of net revenue left after the cost of goods (0–1).
    - `acquisition_spend`: spend per acquisition source and month.
    - `targets`: one target per KPI id of `TARGET_KPIS`, per KPI period
      (counts for counts, BRL for money, 0–1 for rates, −100–100 for NPS, 0–1 for CSAT).
    """

    name: str = DEFAULT_NAME
    channel_costs: dict[str, float] = field(default_factory=dict)
    order_cost: float = 0.0
    gross_margin: float = 1.0
    acquisition_spend: tuple[SpendEntry, ...] = ()
    targets: dict[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.0 <= self.gross_margin <= 1.0:
            raise VinculoError("settings.bad_margin", value=self.gross_margin)
        bad = {k: v for k, v in self.channel_costs.items() if v < 0}
        if bad or self.order_cost < 0 or any(s.amount < 0 for s in self.acquisition_spend):
            raise VinculoError("settings.negative_cost")
        unknown = sorted(set(self.targets) - set(TARGET_KPIS))
        if unknown:
            raise VinculoError("settings.unknown_kpi", names=", ".join(unknown))
        for entry in self.acquisition_spend:
            if len(entry.month) != 7 or entry.month[4] != "-" or not entry.month[:4].isdigit():
                raise VinculoError("settings.bad_month", value=entry.month)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BusinessSettings:
        spend = tuple(SpendEntry(**s) for s in data.get("acquisition_spend", ()))
        return cls(**{**data, "acquisition_spend": spend})

    @classmethod
    def from_json(cls, text: str | bytes) -> BusinessSettings:
        return cls.from_dict(json.loads(text))

    def with_changes(self, **changes: Any) -> BusinessSettings:
        """A copy with some fields replaced (validated like a new one)."""
        return replace(self, **changes)


def spend_frame(settings: BusinessSettings) -> pl.DataFrame:
    """The acquisition spend as a frame: `source`, `month` ("YYYY-MM"), `amount` (BRL)."""
    return pl.DataFrame(
        [asdict(s) for s in settings.acquisition_spend],
        schema={"source": pl.String, "month": pl.String, "amount": pl.Float64},
    )


def save_settings(con: duckdb.DuckDBPyConnection, settings: BusinessSettings, actor: str) -> int:
    """Store `settings` under its name as a new version; audited as `settings.saved`."""
    return save_version(con, KIND, settings.name, settings.to_json(), actor, "settings.saved")


def load_settings(
    con: duckdb.DuckDBPyConnection, name: str = DEFAULT_NAME, version: int | None = None
) -> BusinessSettings:
    """The settings `name` at `version` (default: latest); nothing saved → empty defaults."""
    body = load_body(con, KIND, name, version)
    if body is not None:
        return BusinessSettings.from_json(body)
    if version is None:
        return BusinessSettings(name=name)
    raise VinculoError("settings.not_found", name=name, version=version)


def list_settings(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every saved version: `name, version, created_at, created_by`, newest first per name."""
    return list_versions(con, KIND)

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
import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import duckdb
import polars as pl

from crm_core.config_store import list_versions, load_body, save_version
from crm_core.errors import VinculoError
from crm_core.summary import query_frame

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

TARGET_UNITS: dict[str, str] = {
    "new_customers": "count", "active_customers": "count", "net_revenue": "money",
    "retention_rate": "rate", "churn_rate": "rate", "repeat_purchase_rate": "rate",
    "average_clv": "money", "csat": "rate", "nps": "score",
}  # fmt: skip
"""Unit of each target: `count` (customers), `money` (BRL), `rate` (share 0–1), `score`
(NPS points, −100–100)."""

TARGET_KPI_IDS: dict[str, str] = {
    k: {"net_revenue": "revenue", "average_clv": "avg_clv"}.get(k, k) for k in TARGET_KPIS
}
"""The id in `crm_core.kpi_defs.KPIS` (and its `kpi.<id>.name` label) behind each target."""

MONTHLY_TARGETS: frozenset[str] = frozenset({"new_customers", "net_revenue"})
"""Targets of counts and money that add up over days: set per calendar month (pages pro-rate
them to other period lengths); every other target applies as set to any period."""

_TARGET_RANGES: dict[str, tuple[float, float]] = {
    "count": (0.0, math.inf), "money": (0.0, math.inf), "rate": (0.0, 1.0),
    "score": (-100.0, 100.0),
}  # fmt: skip


def is_month(text: str) -> bool:
    """True for a calendar month written "YYYY-MM" (month 01–12)."""
    return (
        len(text) == 7 and text[4] == "-" and text[:4].isdigit() and text[5:].isdigit()
        and 1 <= int(text[5:]) <= 12
    )  # fmt: skip


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
            if not is_month(entry.month):
                raise VinculoError("settings.bad_month", value=entry.month)
        for kpi, value in self.targets.items():
            low, high = _TARGET_RANGES[TARGET_UNITS[kpi]]
            if not low <= value <= high:
                raise VinculoError("settings.bad_target", kpi=kpi, value=value)

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


def has_service_costs(settings: BusinessSettings) -> bool:
    """True when some cost to serve was provided: a channel cost or the order cost above 0.

    Without one, the cost to serve is unknown (not zero): pages show value-only analysis.
    """
    return settings.order_cost > 0 or any(v > 0 for v in settings.channel_costs.values())


def channel_cost_frame(settings: BusinessSettings) -> pl.DataFrame:
    """`channel, cost` (BRL per contact; null = not provided): every `INTERACTION_CHANNELS`
    channel in order, then any other channel the settings price."""
    extra = sorted(set(settings.channel_costs) - set(INTERACTION_CHANNELS))
    channels = [*INTERACTION_CHANNELS, *extra]
    costs = [settings.channel_costs.get(c) for c in channels]
    schema = {"channel": pl.String, "cost": pl.Float64}
    return pl.DataFrame({"channel": channels, "cost": costs}, schema=schema)


def target_frame(settings: BusinessSettings) -> pl.DataFrame:
    """`kpi, unit, target` for every `TARGET_KPIS` KPI in order (target null = none set;
    units as `TARGET_UNITS`: rates 0–1)."""
    return pl.DataFrame(
        {"kpi": list(TARGET_KPIS), "unit": [TARGET_UNITS[k] for k in TARGET_KPIS],
         "target": [settings.targets.get(k) for k in TARGET_KPIS]},
        schema={"kpi": pl.String, "unit": pl.String, "target": pl.Float64},
    )  # fmt: skip


def _priced(frame: pl.DataFrame, key: str, value: str) -> dict[str, float]:
    """`key → value` of the rows whose value is given (nulls and NaN mean "not provided")."""
    given = frame.filter(pl.col(value).is_not_null() & pl.col(value).is_not_nan())
    return dict(zip(given[key].to_list(), given[value].cast(pl.Float64).to_list(), strict=True))


def spend_entries(frame: pl.DataFrame) -> tuple[SpendEntry, ...]:
    """`source, month, amount` rows as entries: blank rows are skipped, a row missing one of
    the three is refused (`settings.incomplete_spend`, row numbers from 1), and so is a
    second row for the same source and month (`settings.duplicate_spend`)."""
    rows = frame.select(
        pl.col("source").cast(pl.String).str.strip_chars(),
        pl.col("month").cast(pl.String).str.strip_chars(),
        pl.col("amount").cast(pl.Float64).fill_nan(None),
    ).with_columns(pl.col("source", "month").replace("", None))
    missing = rows.select(pl.all().is_null().cast(pl.Int8)).sum_horizontal()
    partial = [i + 1 for i, n in enumerate(missing.to_list()) if 0 < n < 3]
    if partial:
        raise VinculoError("settings.incomplete_spend", rows=", ".join(map(str, partial)))
    rows = rows.filter(missing == 0)
    twice = rows.filter(pl.struct("source", "month").is_duplicated())
    if twice.height:
        raise VinculoError("settings.duplicate_spend", source=twice["source"][0],
                           month=twice["month"][0])  # fmt: skip
    return tuple(SpendEntry(**row) for row in rows.iter_rows(named=True))


def settings_from_frames(
    base: BusinessSettings,
    channel_costs: pl.DataFrame,
    spend: pl.DataFrame,
    targets: pl.DataFrame,
    **values: Any,
) -> BusinessSettings:
    """`base` with the tables of the Settings page applied (validated; `VinculoError` if not).

    `channel_costs`: `channel, cost` (`channel_cost_frame`); `spend`: `source, month, amount`
    (`spend_entries`); `targets`: `kpi, target` (`target_frame`); `values`: scalar fields
    (`order_cost`, `gross_margin`). Null costs and targets are "not provided" and dropped.
    """
    return base.with_changes(
        channel_costs=_priced(channel_costs, "channel", "cost"),
        acquisition_spend=spend_entries(spend),
        targets=_priced(targets, "kpi", "target"),
        **values,
    )


def acquisition_sources(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The distinct `acquisition_channel` values of the store's customers (golden records,
    not erased), sorted: the sources acquisition spend can be entered for."""
    frame = query_frame(
        con,
        "SELECT DISTINCT acquisition_channel AS source FROM golden_customers "
        "WHERE acquisition_channel IS NOT NULL AND erased_at IS NULL ORDER BY 1",
    )
    return frame["source"].to_list()

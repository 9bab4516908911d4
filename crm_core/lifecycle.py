"""Relationship life-cycle stages (Dwyer, Schurr & Oh 1987) by explicit, configurable rules.

The thresholds live in `LifecycleRules`, a frozen dataclass serialisable to JSON, so the
segment configuration can store them and an analyst can change them without touching code.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from crm_core.errors import VinculoError


@dataclass(frozen=True)
class LifecycleRules:
    """Thresholds of the life-cycle stage rules.

    - `exploration_days`: a customer with a single purchase day whose tenure (days since the
      first purchase) is at most this many days is still exploring.
    - `commitment_min_tenure_days`: minimum tenure, in days, for commitment.
    - `commitment_min_purchase_days`: minimum distinct purchase days for commitment.
    - `expansion_growth`: recent-window revenue must exceed previous-window revenue by more
      than this share (0.10 = 10 %) to count as expansion.
    - `p_alive_cutoff`: with model outputs, P(alive) below this (0–1) means dissolution.
    """

    exploration_days: int = 90
    commitment_min_tenure_days: int = 365
    commitment_min_purchase_days: int = 4
    expansion_growth: float = 0.10
    p_alive_cutoff: float = 0.30

    def __post_init__(self) -> None:
        for name in ("exploration_days", "commitment_min_tenure_days"):
            if getattr(self, name) < 0:
                raise VinculoError("lifecycle.invalid_rule", name=name, value=getattr(self, name))
        if self.commitment_min_purchase_days < 1:
            raise VinculoError(
                "lifecycle.invalid_rule",
                name="commitment_min_purchase_days",
                value=self.commitment_min_purchase_days,
            )
        if self.expansion_growth < 0:
            raise VinculoError(
                "lifecycle.invalid_rule", name="expansion_growth", value=self.expansion_growth
            )
        if not 0.0 <= self.p_alive_cutoff <= 1.0:
            raise VinculoError(
                "lifecycle.invalid_rule", name="p_alive_cutoff", value=self.p_alive_cutoff
            )

    def to_dict(self) -> dict[str, Any]:
        """The rules as a plain JSON-serialisable dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LifecycleRules:
        """Rules from a dict; missing keys take the defaults, unknown keys are an error."""
        known = {f.name: f.type for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise VinculoError("lifecycle.unknown_rule", names=", ".join(unknown))
        values: dict[str, Any] = {}
        for key, value in data.items():
            caster = int if known[key] == "int" else float
            try:
                values[key] = caster(value)
            except (TypeError, ValueError):
                raise VinculoError("lifecycle.invalid_rule", name=key, value=value) from None
        return cls(**values)

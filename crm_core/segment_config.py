"""The segment configuration: every RFM, segment-map and value-tier threshold, as data.

A `SegmentConfig` is a frozen dataclass that serialises to JSON (`to_json` / `from_json`)
and is stored, named and versioned, in the `configs` table (`crm_core.segments.save_config`).
Every invalid setting raises `VinculoError` with a message from `i18n/*/segments.json`.

RFM (Hughes 1994; scores 1–5, 5 = best):
- *quantile* mode: scores are quintiles of the customers with a purchase (see `crm_core.rfm`);
- *thresholds* mode: four increasing cut points per dimension. Recency cut points (days) are
  the inclusive *upper* bounds of scores 5, 4, 3, 2 (recency ≤ cut₁ → 5, …, > cut₄ → 1);
  frequency (purchase days) and monetary (BRL revenue) cut points are the inclusive *lower*
  bounds of scores 2, 3, 4, 5 (value ≥ cut₄ → 5, …, < cut₁ → 1).

Segment map: an ordered list of `SegmentRule`s, each an inclusive range of R, F and M scores;
the first rule that matches wins and `catch_all` takes whatever no rule matches, so every
scored customer lands in exactly one segment. Customers without a purchase get no scores and
the `no_purchase` label as both segment and tier.

The default rules are the widely used R × F grid (the "RFM segments" table popularised by
Putler's RFM guide and the many tutorials derived from it: Champions 5/4–5, Loyal 3–4/4–5,
Potential Loyalist 4–5/2–3, New 5/1, Promising 4/1, Need Attention 3/3, About to Sleep
3/1–2, At Risk 1–2/3–4, Cannot Lose Them 1–2/5, Hibernating 1–2/1–2), with the
Hibernating cell split by recency: R = 1 is Lost. The 25 cells are covered exactly once.

Value tiers (Lovelock & Wirtz's tiering, names editable, best first) rank customers on a
value column (`clv` when model outputs are given, else `revenue`) by *percentile* (cut
points are cumulative top shares, e.g. 0.05, 0.20, 0.50: top 5 % → first tier) or by
*absolute* value (increasing BRL cut points; value ≥ the highest → first tier).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from crm_core.errors import VinculoError
from crm_core.lifecycle import LifecycleRules

RFMMode = Literal["quantile", "thresholds"]
TierMode = Literal["percentile", "absolute"]
TierValue = Literal["auto", "clv", "revenue"]
SCORES = (1, 2, 3, 4, 5)


def _increasing(values: tuple[float, ...]) -> bool:
    return all(math.isfinite(v) for v in values) and all(
        a < b for a, b in zip(values, values[1:], strict=False)
    )


@dataclass(frozen=True)
class SegmentRule:
    """Customers whose R, F and M scores all fall in these inclusive ranges (1–5)."""

    name: str
    r: tuple[int, int] = (1, 5)
    f: tuple[int, int] = (1, 5)
    m: tuple[int, int] = (1, 5)

    def __post_init__(self) -> None:
        if not str(self.name).strip():
            raise VinculoError("segments.empty_name")
        for dim in ("r", "f", "m"):
            low, high = getattr(self, dim)
            if not (1 <= low <= high <= 5):
                raise VinculoError(
                    "segments.bad_range", rule=self.name, dim=dim.upper(), low=low, high=high
                )

    def matches(self, r: int, f: int, m: int) -> bool:
        """True when the scores (r, f, m) fall inside every range of the rule."""
        return all(lo <= score <= hi for score, (lo, hi) in ((r, self.r), (f, self.f), (m, self.m)))


DEFAULT_RULES: tuple[SegmentRule, ...] = (
    SegmentRule("Champions", r=(5, 5), f=(4, 5)),
    SegmentRule("Loyal", r=(3, 4), f=(4, 5)),
    SegmentRule("Potential Loyalist", r=(4, 5), f=(2, 3)),
    SegmentRule("New", r=(5, 5), f=(1, 1)),
    SegmentRule("Promising", r=(4, 4), f=(1, 1)),
    SegmentRule("Need Attention", r=(3, 3), f=(3, 3)),
    SegmentRule("About to Sleep", r=(3, 3), f=(1, 2)),
    SegmentRule("Cannot Lose Them", r=(1, 2), f=(5, 5)),
    SegmentRule("At Risk", r=(1, 2), f=(3, 4)),
    SegmentRule("Hibernating", r=(2, 2), f=(1, 2)),
    SegmentRule("Lost", r=(1, 1), f=(1, 2)),
)


@dataclass(frozen=True)
class RFMSettings:
    """How R, F and M scores (1–5) are computed; cut points are used in thresholds mode."""

    mode: RFMMode = "quantile"
    recency_cuts: tuple[float, ...] = (30.0, 90.0, 180.0, 365.0)
    frequency_cuts: tuple[float, ...] = (2.0, 3.0, 5.0, 8.0)
    monetary_cuts: tuple[float, ...] = (250.0, 750.0, 2000.0, 5000.0)

    def __post_init__(self) -> None:
        if self.mode not in ("quantile", "thresholds"):
            raise VinculoError("segments.bad_mode", value=self.mode, allowed="quantile, thresholds")
        for dim in ("recency_cuts", "frequency_cuts", "monetary_cuts"):
            cuts = getattr(self, dim)
            if len(cuts) != 4 or not _increasing(cuts):
                raise VinculoError("segments.bad_cuts", dim=dim, cuts=list(cuts), count=4)


@dataclass(frozen=True)
class TierSettings:
    """Value tiers, best first; `len(cuts) == len(names) - 1`."""

    names: tuple[str, ...] = ("platinum", "gold", "silver", "bronze")
    mode: TierMode = "percentile"
    cuts: tuple[float, ...] = (0.05, 0.20, 0.50)
    value: TierValue = "auto"

    def __post_init__(self) -> None:
        if len(self.names) < 1 or len(set(self.names)) != len(self.names):
            raise VinculoError("segments.bad_tier_names", names=list(self.names))
        if any(not str(name).strip() for name in self.names):
            raise VinculoError("segments.empty_name")
        if self.mode not in ("percentile", "absolute"):
            raise VinculoError("segments.bad_mode", value=self.mode, allowed="percentile, absolute")
        if self.value not in ("auto", "clv", "revenue"):
            raise VinculoError("segments.bad_tier_value", value=self.value)
        count = len(self.names) - 1
        ok = len(self.cuts) == count and _increasing(self.cuts)
        if ok and self.mode == "percentile":
            ok = all(0.0 < c < 1.0 for c in self.cuts)
        if not ok:
            raise VinculoError("segments.bad_cuts", dim=f"tiers.{self.mode}", cuts=list(self.cuts),
                               count=count)  # fmt: skip


@dataclass(frozen=True)
class SegmentConfig:
    """A named set of every segmentation threshold (see the module docstring)."""

    name: str = "default"
    rfm: RFMSettings = field(default_factory=RFMSettings)
    rules: tuple[SegmentRule, ...] = DEFAULT_RULES
    catch_all: str = "Other"
    no_purchase: str = "No purchase"
    tiers: TierSettings = field(default_factory=TierSettings)
    churn_window_days: int = 180
    window_days: int = 180
    lifecycle: LifecycleRules = field(default_factory=LifecycleRules)

    def __post_init__(self) -> None:
        if not str(self.name).strip() or not self.catch_all.strip():
            raise VinculoError("segments.empty_name")
        if not self.rules:
            raise VinculoError("segments.no_rules")
        for days in ("churn_window_days", "window_days"):
            if getattr(self, days) <= 0:
                raise VinculoError("segments.bad_window", value=getattr(self, days))
        labels = [rule.name for rule in self.rules] + [self.catch_all, *self.tiers.names]
        if not self.no_purchase.strip():
            raise VinculoError("segments.empty_name")
        if self.no_purchase in labels:
            raise VinculoError("segments.label_clash", name=self.no_purchase)

    @property
    def segment_names(self) -> tuple[str, ...]:
        """Every label a customer can get, in rule order, then catch-all, then no purchase."""
        names = dict.fromkeys(rule.name for rule in self.rules)
        names.update(dict.fromkeys((self.catch_all, self.no_purchase)))
        return tuple(names)

    def segment_of(self, r: int, f: int, m: int) -> str:
        """The segment of one (R, F, M) score triple: first matching rule, else catch-all."""
        return next((rule.name for rule in self.rules if rule.matches(r, f, m)), self.catch_all)

    def to_dict(self) -> dict[str, Any]:
        """A plain dict of JSON types (tuples become lists)."""
        return json.loads(json.dumps(asdict(self)))

    def to_json(self) -> str:
        """The configuration as a JSON text (stable key order)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SegmentConfig:
        """A configuration from a dict; missing keys take defaults, unknown keys are an error."""
        data = _known(cls, data, "")
        values: dict[str, Any] = dict(data)
        if "rfm" in data:
            values["rfm"] = RFMSettings(**_tuples(_known(RFMSettings, data["rfm"], "rfm.")))
        if "tiers" in data:
            values["tiers"] = TierSettings(**_tuples(_known(TierSettings, data["tiers"], "tiers.")))
        if "rules" in data:
            values["rules"] = tuple(_rule(item) for item in _as_list(data["rules"], "rules"))
        if "lifecycle" in data:
            values["lifecycle"] = LifecycleRules.from_dict(dict(data["lifecycle"]))
        for key in ("churn_window_days", "window_days"):
            if key in values:
                values[key] = _int(values[key], key)
        return cls(**values)

    @classmethod
    def from_json(cls, text: str) -> SegmentConfig:
        """A configuration from `to_json`'s output (or a hand-written file)."""
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise VinculoError("segments.bad_json", detail=str(exc)) from None
        if not isinstance(data, dict):
            raise VinculoError("segments.bad_json", detail="not a JSON object")
        return cls.from_dict(data)


def _known(cls: type, data: Any, prefix: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise VinculoError("segments.bad_json", detail=f"{prefix or 'config'} is not an object")
    unknown = sorted(set(data) - {f.name for f in fields(cls)})
    if unknown:
        raise VinculoError("segments.unknown_keys", names=", ".join(prefix + k for k in unknown))
    return data


def _as_list(value: Any, key: str) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise VinculoError("segments.bad_json", detail=f"{key} is not a list")
    return list(value)


def _int(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise VinculoError("segments.bad_json", detail=f"{key} must be an integer, got {value!r}")
    return int(value)


def _tuples(data: dict[str, Any]) -> dict[str, Any]:
    """Lists of numbers or names (JSON arrays) back to the tuples the dataclasses hold."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, list):
            if not all(isinstance(v, int | float | str) and not isinstance(v, bool) for v in value):
                raise VinculoError("segments.bad_json", detail=f"{key} holds a non-scalar")
            value = tuple(v if isinstance(v, str) else float(v) for v in value)
        out[key] = value
    return out


def _rule(item: Any) -> SegmentRule:
    data = _known(SegmentRule, item, "rules[].")
    values: dict[str, Any] = {"name": str(data.get("name", ""))}
    for dim in ("r", "f", "m"):
        if dim in data:
            pair = _as_list(data[dim], f"rules[].{dim}")
            if len(pair) != 2:
                raise VinculoError("segments.bad_json", detail=f"rules[].{dim} needs [low, high]")
            values[dim] = (_int(pair[0], dim), _int(pair[1], dim))
    return SegmentRule(**values)


def default_config() -> SegmentConfig:
    """The configuration used when none has been saved: quantile RFM, the R × F grid."""
    return SegmentConfig()

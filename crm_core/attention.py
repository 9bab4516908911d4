"""Attention list: valuable customers who are slipping away or whom nobody has contacted.

Peppers & Rogers' Interact step says contacts should be spent where the value is; the list
names, for each such customer, the owner (the customer record's account manager) who should
act. Definitions:

- *Value* (currency): the larger of the customer's CLV at the as-of date and at
  `as_of - lookback_days` when the CLV models could be fitted (so a customer whose CLV has
  just collapsed still counts at what was at stake), else lifetime net revenue up to as_of.
- *Value percentile* (0–1): share of customers with value > 0 whose value is at most this
  customer's (the most valuable customer has 1.0); customers with value ≤ 0 have none.
- A customer is *valuable* when their value percentile is at least `min_value_percentile`.
- *P(alive) falling*: P(alive) at as_of (BG/NBD, Fader, Hardie & Lee 2005) is lower than at
  `as_of - lookback_days` by at least `min_p_alive_drop` (0–1, in probability points); needs
  a P(alive) at both dates, i.e. a purchase before the earlier one.
- *Not contacted*: no interaction of any kind (inbound or outbound) within the last
  `max_days_without_contact` days up to as_of (days since last contact > the limit, or never).

Every valuable customer that is falling, not contacted, or both is listed, with a reason code
(`REASONS`); most valuable first.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import polars as pl

from crm_core.errors import VinculoError
from crm_core.i18n import translate
from crm_core.thresholds import numeric_from_dict

REASONS: tuple[str, ...] = ("falling_uncontacted", "falling", "uncontacted")
"""Reason codes: P(alive) falling and not contacted, falling only, not contacted only."""

REASON_DTYPE = pl.Enum(REASONS)

ATTENTION_COLUMNS: tuple[str, ...] = (
    "customer_id", "reason", "owner", "value", "value_percentile", "p_alive_now",
    "p_alive_before", "p_alive_change", "last_contact", "days_since_contact",
)  # fmt: skip


@dataclass(frozen=True)
class AttentionRules:
    """Thresholds of the attention list (see the module docstring for the definitions).

    `min_value_percentile` 0–1 (0.8 = the top 20 % by value); `min_p_alive_drop` 0–1
    (probability points, > 0); `max_days_without_contact` and `lookback_days` in days (≥ 1).
    """

    min_value_percentile: float = 0.80
    min_p_alive_drop: float = 0.20
    max_days_without_contact: int = 90
    lookback_days: int = 90

    def __post_init__(self) -> None:
        checks = {
            "min_value_percentile": 0 <= self.min_value_percentile <= 1,
            "min_p_alive_drop": 0 < self.min_p_alive_drop <= 1,
            "max_days_without_contact": self.max_days_without_contact >= 1,
            "lookback_days": self.lookback_days >= 1,
        }
        for name, ok in checks.items():
            if not ok:
                raise VinculoError("interact.invalid_rule", name=name, value=getattr(self, name))

    def to_dict(self) -> dict[str, Any]:
        """The rules as a plain JSON-serialisable dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AttentionRules:
        """Rules from a dict; missing keys take the defaults, unknown keys are an error."""
        return numeric_from_dict(cls, data, "interact")


def reason_label(code: str, lang: str) -> str:
    """The reason code `code` in `lang`."""
    return translate(f"interact.reason.{code}", lang)


def customer_values(
    customers: pl.DataFrame, scores_now: pl.DataFrame | None, scores_before: pl.DataFrame | None
) -> pl.DataFrame:
    """`customers` (customer_id, owner, revenue) with `value`, `value_percentile`,
    `p_alive_now` and `p_alive_before` (null without model scores); see the module docstring.
    """
    out = customers.select("customer_id", "owner", "revenue")
    for name, scores in (("now", scores_now), ("before", scores_before)):
        cols = {"p_alive": f"p_alive_{name}", "clv": f"clv_{name}"}
        if scores is None:
            out = out.with_columns(pl.lit(None, pl.Float64).alias(c) for c in cols.values())
        else:
            part = scores.select("customer_id", *cols).rename(cols)
            out = out.join(part, on="customer_id", how="left", maintain_order="left")
    use_clv = scores_now is not None
    value = pl.max_horizontal("clv_now", "clv_before") if use_clv else pl.col("revenue")
    out = out.with_columns(value=value.fill_null(0.0))
    positive = pl.col("value") > 0
    rank = pl.when(positive).then(pl.col("value")).rank("max")
    percentile = pl.when(positive).then(rank / positive.sum())
    return out.with_columns(value_percentile=percentile).drop("clv_now", "clv_before", "revenue")


def attention_facts(values: pl.DataFrame, recency: pl.DataFrame) -> pl.DataFrame:
    """`values` (from `customer_values`) with `last_contact` and `days_since_contact` from
    `recency` (`crm_core.interact.contact_recency`); the rule-independent part of the list."""
    contact = recency.select("customer_id", "last_contact", "days_since_contact")
    return values.join(contact, on="customer_id", how="left", maintain_order="left")


def attention_list(facts: pl.DataFrame, rules: AttentionRules) -> pl.DataFrame:
    """Valuable customers who need attention, with columns `ATTENTION_COLUMNS`.

    `facts` comes from `attention_facts`. `p_alive_change` is now minus before (negative when
    falling). Sorted by value, most first (ties by customer id).
    """
    change = pl.col("p_alive_now") - pl.col("p_alive_before")
    falling = ((-change >= rules.min_p_alive_drop) & (change < 0)).fill_null(False)
    days = pl.col("days_since_contact")
    uncontacted = days.is_null() | (days > rules.max_days_without_contact)
    reason = (
        pl.when(falling & uncontacted).then(pl.lit("falling_uncontacted"))
        .when(falling).then(pl.lit("falling"))
        .when(uncontacted).then(pl.lit("uncontacted"))
    )  # fmt: skip
    # Polars divides by a scalar through its reciprocal (3 / 5 = 0.6000000000000001): a
    # tolerance keeps a percentile equal to the threshold on the right side of it.
    valuable = pl.col("value_percentile") >= rules.min_value_percentile - 1e-9
    flagged = facts.with_columns(p_alive_change=change, reason=reason.cast(REASON_DTYPE))
    flagged = flagged.filter(valuable.fill_null(False) & pl.col("reason").is_not_null())
    return flagged.select(ATTENTION_COLUMNS).sort(
        ["value", "customer_id"], descending=[True, False]
    )


def reason_counts(attention: pl.DataFrame) -> pl.DataFrame:
    """`reason` (every code of `REASONS`), `customers`: how many listed customers per reason."""
    counts = attention.group_by("reason").agg(customers=pl.len().cast(pl.Int64))
    every = pl.DataFrame({"reason": pl.Series(REASONS, dtype=REASON_DTYPE)})
    joined = every.join(counts, on="reason", how="left", maintain_order="left")
    return joined.with_columns(pl.col("customers").fill_null(0))

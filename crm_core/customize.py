"""Customize (IDIC step 4): next-best-action rules — who gets what, through which channel.

A **rule** maps a profile to an action. Its conditions are four sets of labels — segments
(`crm_core.segments`), value tiers, life-cycle stages (`crm_core.lifecycle`) and relationship
types (`crm_core.relationship`); an empty set means "any". A customer **matches** a rule when
each of its four labels is in the rule's set (or the set is empty). The action is an offer, a
message, a channel (email | sms | whatsapp | phone | mail) and an owner (the team or account
manager who carries it out).

**Resolution.** Every customer gets the action of the matching rule with the best priority;
priority 1 is the most urgent, so the *smallest* number wins, and equal priorities go to the
rule listed first. A customer no rule matches gets no action (null). `conflicts` counts the
other rules that matched too (0 when the winning rule was the only one), so a marketer sees
where rules overlap and which one won.

Rule sets are data: saved as new versions in the store's `configs` table (kind 'rules'),
every save audited, nothing overwritten (the pattern of `crm_core.segment_store`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Any

import duckdb
import polars as pl

from crm_core.config_store import list_versions, load_body, save_version
from crm_core.errors import VinculoError

KIND = "rules"
CHANNELS: tuple[str, ...] = ("email", "sms", "whatsapp", "phone", "mail")
CONDITIONS: tuple[str, ...] = ("segments", "tiers", "stages", "relationship_types")
PROFILE_COLUMNS: tuple[str, ...] = ("customer_id", "segment", "tier", "stage", "relationship_type")
_LABEL_OF = dict(zip(CONDITIONS, PROFILE_COLUMNS[1:], strict=True))
ACTION_COLUMNS: tuple[str, ...] = (
    "rule",
    "priority",
    "offer",
    "message",
    "channel",
    "owner",
    "conflicts",
    "matched_rules",
)


def _labels(value: Any, rule: str, field_name: str) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise VinculoError("customize.bad_labels", rule=rule, field=field_name)
    labels = tuple(str(v).strip() for v in value)
    if any(not label for label in labels):
        raise VinculoError("customize.bad_labels", rule=rule, field=field_name)
    return labels


@dataclass(frozen=True)
class Rule:
    """One next-best-action rule: conditions (empty tuple = any) → action.

    `priority` is a positive whole number, 1 = most urgent (wins over 2, 3, …).
    """

    name: str
    priority: int
    segments: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()
    relationship_types: tuple[str, ...] = ()
    offer: str = ""
    message: str = ""
    channel: str = "email"
    owner: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise VinculoError("customize.empty_name")
        prio = self.priority
        if isinstance(prio, bool) or not isinstance(prio, int) or prio < 1:
            raise VinculoError("customize.bad_priority", rule=self.name, value=prio)
        if not self.channel:
            raise VinculoError("customize.empty_channel", rule=self.name)
        if self.channel not in CHANNELS:
            raise VinculoError(
                "customize.bad_channel",
                rule=self.name,
                value=self.channel,
                allowed=", ".join(CHANNELS),
            )
        for name in CONDITIONS:
            object.__setattr__(self, name, _labels(getattr(self, name), self.name, name))
        for name in ("offer", "message", "owner"):
            if not isinstance(getattr(self, name), str):
                raise VinculoError("customize.bad_text", rule=self.name, field=name)
        if not self.offer.strip():
            raise VinculoError("customize.empty_offer", rule=self.name)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Rule:
        """A rule from a JSON object; unknown keys and missing name/priority are errors."""
        if not isinstance(data, dict):
            raise VinculoError("customize.bad_json", detail="a rule must be an object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise VinculoError("customize.unknown_keys", names=", ".join(unknown))
        for required in ("name", "priority", "offer"):
            if required not in data:
                raise VinculoError("customize.missing_key", name=required)
        return cls(**data)


@dataclass(frozen=True)
class RuleSet:
    """A named, ordered list of rules with distinct names (order breaks priority ties)."""

    name: str
    rules: tuple[Rule, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise VinculoError("customize.empty_name")
        object.__setattr__(self, "rules", tuple(self.rules))
        if not self.rules:
            raise VinculoError("customize.no_rules")
        names = [rule.name for rule in self.rules]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise VinculoError("customize.duplicate_rules", names=", ".join(duplicates))

    def rule(self, name: str) -> Rule:
        """The rule called `name`; `VinculoError("customize.rule_not_found")` otherwise."""
        for rule in self.rules:
            if rule.name == name:
                return rule
        raise VinculoError("customize.rule_not_found", name=name)

    def to_json(self) -> str:
        """The rule set as JSON text (lists for the label sets, stable key order)."""
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> RuleSet:
        """A rule set from `to_json`'s text; malformed input raises `VinculoError`."""
        try:
            data = json.loads(text)
        except (TypeError, ValueError) as exc:
            raise VinculoError("customize.bad_json", detail=str(exc)) from exc
        if not isinstance(data, dict) or set(data) != {"name", "rules"}:
            raise VinculoError("customize.bad_json", detail="expected keys name, rules")
        if not isinstance(data["rules"], list):
            raise VinculoError("customize.bad_json", detail="rules must be a list")
        return cls(name=data["name"], rules=tuple(Rule.from_dict(r) for r in data["rules"]))


def default_ruleset() -> RuleSet:
    """Rules for the default segment map, tiers (platinum…bronze), stages and types.

    Offers and messages are in Portuguese: they go to the demo's Brazilian customers.
    """
    r = Rule
    return RuleSet(
        "default",
        (
            r("save_top_value", 1, tiers=("platinum", "gold"), stages=("dissolution",),
              offer="Ligação do gerente de contas", channel="phone", owner="key_accounts",
              message="Sentimos sua falta: podemos ajudar em algo?"),
            r("key_account_care", 2, relationship_types=("dedicated_personal_assistance",),
              offer="Revisão anual da conta", channel="phone", owner="key_accounts",
              message="Vamos revisar juntos o seu plano para o próximo ano."),
            r("win_back_at_risk", 3, segments=("Cannot Lose Them", "At Risk"),
              offer="Cupom de retorno de 15%", channel="email", owner="retention",
              message="Preparamos uma oferta especial para você voltar."),
            r("reward_champions", 4, segments=("Champions",), offer="Acesso antecipado + pontos",
              channel="whatsapp", owner="loyalty",
              message="Você é especial: veja a coleção antes de todos."),
            r("community_invite", 5, segments=("Champions", "Loyal"),
              relationship_types=("communities",), offer="Convite para embaixador",
              channel="email", owner="community",
              message="Quer ser embaixador da nossa comunidade?"),
            r("cross_sell_loyal", 6, segments=("Loyal", "Potential Loyalist"),
              offer="Combo de categorias complementares", channel="email", owner="growth",
              message="Selecionamos produtos que combinam com as suas compras."),
            r("onboard_new", 7, segments=("New", "Promising"), offer="Série de boas-vindas",
              channel="email", owner="growth", message="Bem-vindo! Conheça o que mais oferecemos."),
            r("nudge_sleepy", 8, segments=("Need Attention", "About to Sleep"),
              offer="Lembrete com frete grátis", channel="sms", owner="retention",
              message="Frete grátis na sua próxima compra esta semana."),
            r("last_chance", 9, segments=("Hibernating", "Lost"), offer="Última chance: 20%",
              channel="email", owner="retention",
              message="Última chance de aproveitar 20% de desconto."),
            r("convert_leads", 10, segments=("No purchase",), offer="Desconto na primeira compra",
              channel="email", owner="sales", message="10% de desconto na sua primeira compra."),
        ),
    )  # fmt: skip


def save_rules(con: duckdb.DuckDBPyConnection, ruleset: RuleSet, actor: str) -> int:
    """Store `ruleset` under its name as a new version (1 for the first); audited."""
    return save_version(
        con, KIND, ruleset.name, ruleset.to_json(), actor, "rules.saved", rows=len(ruleset.rules)
    )


def load_rules(
    con: duckdb.DuckDBPyConnection, name: str = "default", version: int | None = None
) -> RuleSet:
    """The rule set `name` at `version` (default: latest).

    With nothing saved under "default", returns `default_ruleset()`; any other missing name
    or version raises `VinculoError("customize.rules_not_found")`.
    """
    body = load_body(con, KIND, name, version)
    if body is not None:
        return RuleSet.from_json(body)
    if name == "default" and version is None:
        return default_ruleset()
    raise VinculoError("customize.rules_not_found", name=name, version=version or "latest")


def list_rules(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every saved version: `name, version, created_at, created_by`, newest first per name."""
    return list_versions(con, KIND)


def rules_frame(ruleset: RuleSet) -> pl.DataFrame:
    """The rules as a table, one row each in list order (`rule_order` 0, 1, …)."""
    labels = pl.List(pl.String)
    return pl.DataFrame(
        {
            "rule_order": list(range(len(ruleset.rules))),
            "rule": [r.name for r in ruleset.rules],
            "priority": [r.priority for r in ruleset.rules],
            **{c: [list(getattr(r, c)) for r in ruleset.rules] for c in CONDITIONS},
            **{c: [getattr(r, c) for r in ruleset.rules] for c in ("offer", "message")},
            **{c: [getattr(r, c) for r in ruleset.rules] for c in ("channel", "owner")},
        },
        schema_overrides={"rule_order": pl.Int32, "priority": pl.Int32, **dict.fromkeys(
            CONDITIONS, labels)},
    )  # fmt: skip


def label_cell(value: Any) -> tuple[str, ...]:
    """One label cell of an edited rules table: a list, comma-separated text or null (= any)."""
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return tuple(value)


def rule_from_row(row: dict[str, Any]) -> Rule:
    """One rule from a row of an edited rules table (see `rules_from_frame`)."""
    priority = row.get("priority")
    if isinstance(priority, float) and priority.is_integer():
        priority = int(priority)
    return Rule(
        name=row.get("rule") or "",
        priority=priority,  # type: ignore[arg-type]  # validated by Rule
        **{c: label_cell(row.get(c)) for c in CONDITIONS},
        **{c: row.get(c) or "" for c in ("offer", "message", "channel", "owner")},
    )


def rules_from_frame(name: str, table: pl.DataFrame) -> RuleSet:
    """A rule set from an edited rules table (`rules_frame`'s columns; `rule_order` ignored).

    Row order becomes rule order. Label columns may hold lists or comma-separated text
    ("At Risk, Lost"); a null or empty cell means any. Null text cells become empty text.
    Invalid rows raise the same `VinculoError`s as `Rule`.
    """
    needed = ("rule", "priority", "offer", "channel")
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise VinculoError("customize.missing_columns", columns=", ".join(missing))
    return RuleSet(name, tuple(rule_from_row(row) for row in table.iter_rows(named=True)))


def build_profile(
    segmented: pl.DataFrame, staged: pl.DataFrame, typed: pl.DataFrame
) -> pl.DataFrame:
    """The profile `assign_actions` reads, from the outputs of `segments.segment_customers`,
    `lifecycle.assign_stages` and `relationship.relationship_types` (joined on customer id,
    in `segmented`'s order; labels as text; a customer missing from one gets a null label)."""
    frames = (
        segmented.select("customer_id", "segment", "tier"),
        staged.select("customer_id", "stage"),
        typed.select("customer_id", "relationship_type"),
    )
    profile = frames[0]
    for other in frames[1:]:
        profile = profile.join(other, on="customer_id", how="left", maintain_order="left")
    return profile.with_columns(pl.col(PROFILE_COLUMNS[1:]).cast(pl.String))


def _matches(combos: pl.DataFrame, rules: pl.DataFrame) -> pl.DataFrame:
    """Every (profile combination, matching rule) pair, best rule first within a combination."""
    condition = pl.all_horizontal(
        (pl.col(cond).list.len() == 0) | pl.col(cond).list.contains(pl.col(label)).fill_null(False)
        for cond, label in _LABEL_OF.items()
    )
    return (
        combos.join(rules, how="cross")
        .filter(condition)
        .sort(["combo", "priority", "rule_order"])
        .drop(*CONDITIONS)
    )


def assign_actions(profile: pl.DataFrame, ruleset: RuleSet) -> pl.DataFrame:
    """Each customer's next best action under `ruleset` (resolution in the module docstring).

    `profile` has `customer_id, segment, tier, stage, relationship_type` (Enums are read as
    text; a null label matches only rules that leave that condition empty). Returns the
    profile's rows in order with `rule, priority, offer, message, channel, owner` (null
    without a match), `conflicts` (UInt32: other rules that matched) and `matched_rules`
    (every matching rule, winner first). Rules are evaluated once per distinct label
    combination (a few thousand at most), then joined back, so cost grows with customers
    only through one join.
    """
    missing = [c for c in PROFILE_COLUMNS if c not in profile.columns]
    if missing:
        raise VinculoError("customize.missing_columns", columns=", ".join(missing))
    labels = list(PROFILE_COLUMNS[1:])
    plain = profile.with_columns(pl.col(labels).cast(pl.String))
    combos = plain.select(labels).unique(maintain_order=True).with_row_index("combo")
    pairs = _matches(combos, rules_frame(ruleset))
    per_combo = pairs.group_by("combo", maintain_order=True).agg(
        pl.col("rule", "priority", "offer", "message", "channel", "owner").first(),
        (pl.len() - 1).cast(pl.UInt32).alias("conflicts"),
        pl.col("rule").alias("matched_rules"),
    )
    actions = combos.join(per_combo, on="combo", how="left").with_columns(
        pl.col("conflicts").fill_null(0),
        pl.col("matched_rules").fill_null(pl.lit([], dtype=pl.List(pl.String))),
    )
    joined = plain.join(
        actions.drop("combo"), on=labels, how="left", nulls_equal=True, maintain_order="left"
    )
    return profile.hstack(joined.select(ACTION_COLUMNS))


def preview(assigned: pl.DataFrame, ruleset: RuleSet | None = None) -> pl.DataFrame:
    """Who gets what: one row per rule, plus a "no action" row (rule null) when anyone has none.

    Columns: `rule`, `priority`, `channel`, `customers` (who get this rule's action),
    `with_conflicts` (of those, how many also matched another rule), `matched` (customers
    matching the rule at all) and `overridden` (matched but won by a better rule = matched −
    customers). Without `ruleset`, lists the rules that matched anyone, by priority; with it,
    every rule of the set in list order (those matching nobody with zeros). "No action" last.
    """
    won = assigned.group_by("rule").agg(
        pl.len().cast(pl.UInt32).alias("customers"),
        (pl.col("conflicts") > 0).sum().cast(pl.UInt32).alias("with_conflicts"),
    )
    matched = (
        assigned.select(pl.col("matched_rules").alias("rule"))
        .explode("rule")
        .drop_nulls()
        .group_by("rule")
        .agg(pl.len().cast(pl.UInt32).alias("matched"))
    )
    if ruleset is None:
        names = pl.concat([won.select("rule").drop_nulls(), matched.select("rule")]).unique()
        info = assigned.select("rule", "priority", "channel").drop_nulls("rule").unique("rule")
        rules = names.join(info, on="rule", how="left").sort(["priority", "rule"], nulls_last=True)
    else:
        rules = rules_frame(ruleset).select("rule", "priority", "channel")
    none = won.filter(pl.col("rule").is_null()).select(
        "rule", pl.lit(None, pl.Int32).alias("priority"), pl.lit(None, pl.String).alias("channel")
    )
    table = pl.concat([rules.cast({"priority": pl.Int32, "channel": pl.String}), none])
    return (
        table.join(won, on="rule", how="left", nulls_equal=True)
        .join(matched, on="rule", how="left")
        .with_columns(pl.col("customers", "with_conflicts", "matched").fill_null(0))
        .with_columns(
            pl.when(pl.col("rule").is_null())
            .then(0)
            .otherwise(pl.col("matched") - pl.col("customers"))
            .cast(pl.UInt32)
            .alias("overridden")
        )
    )


def overlaps(assigned: pl.DataFrame, ruleset: RuleSet) -> pl.DataFrame:
    """Where rules overlap: which rule won over which, for how many customers.

    One row per (winning `rule`, `overridden` rule) pair among customers matched by more
    than one rule: `customers` (UInt32) matched both and got the winner's action. A customer
    matched by three rules counts in two rows. `priority` / `overridden_priority` are the
    two rules' priorities and `decided_by` says why the winner won: "priority" (smaller
    number) or "order" (equal priorities: the rule listed first). Sorted by customers, most
    first, then by the rules' priorities and names.
    """
    rules = rules_frame(ruleset).select("rule", "priority", "rule_order")
    pairs = (
        assigned.filter(pl.col("conflicts") > 0)
        .group_by("rule", "matched_rules")
        .agg(pl.len().alias("customers"))
        .with_columns(pl.col("matched_rules").list.slice(1).alias("overridden"))
        .explode("overridden")
        .group_by("rule", "overridden")
        .agg(pl.col("customers").sum().cast(pl.UInt32))
    )
    other = rules.rename({"rule": "overridden", "priority": "overridden_priority"})
    return (
        pairs.join(rules.drop("rule_order"), on="rule", how="left")
        .join(other.drop("rule_order"), on="overridden", how="left")
        .with_columns(
            pl.when(pl.col("priority") < pl.col("overridden_priority"))
            .then(pl.lit("priority"))
            .otherwise(pl.lit("order"))
            .alias("decided_by")
        )
        .select("rule", "priority", "overridden", "overridden_priority", "customers", "decided_by")
        .sort(
            ["customers", "priority", "overridden_priority", "rule", "overridden"],
            descending=[True, False, False, False, False],
        )
    )


def value_by_rule(assigned: pl.DataFrame, values: pl.DataFrame) -> pl.DataFrame:
    """The value of each rule's audience: sums and means of per-customer values.

    `values` has `customer_id` and numeric columns (e.g. `revenue`: lifetime net revenue,
    R$; `clv`: predicted customer lifetime value, R$). Returns one row per `rule` that any
    customer gets (null = no action) with, for each value column `v`, `v` (the sum over the
    customers who get that rule's action) and `mean_v` (their mean). Customers missing from
    `values`, and null values, are left out of both.
    """
    columns = [c for c in values.columns if c != "customer_id"]
    joined = assigned.select(pl.col("customer_id").cast(pl.String), "rule").join(
        values.with_columns(pl.col("customer_id").cast(pl.String)), on="customer_id", how="left"
    )
    return joined.group_by("rule").agg(
        *(pl.col(c).sum() for c in columns), *(pl.col(c).mean().alias(f"mean_{c}") for c in columns)
    )

"""Checks of a rules table as an analyst edited it (the Customize page's rule editor).

`customize.rules_from_frame` stops at the first invalid row, which suits files and the CLI;
an editor needs every problem at once, each in the user's language, so `check_table`
collects them:

- the rule set's name is empty (`customize.empty_name`) or it has no rules
  (`customize.no_rules`);
- a row without a rule name (`customize.row_no_name`, with its 1-based row number);
- a row `customize.Rule` refuses (priority not a whole number ≥ 1, empty or unknown channel,
  empty offer, …: the first problem of that row);
- rule names used more than once (`customize.duplicate_rules`);
- **unknown labels**: a segment, tier, stage or relationship type the store never assigns
  (`customize.unknown.<condition>`). Such a rule would silently match nobody. Known labels
  (`Vocabulary`) are the active segment configuration's segments
  (`SegmentConfig.segment_names`) and tiers plus its no-purchase label, the life-cycle
  stages (`lifecycle.STAGES`) and the relationship types (`relationship.TYPES`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from crm_core.customize import CONDITIONS, RuleSet, label_cell, rule_from_row, rules_from_frame
from crm_core.errors import VinculoError
from crm_core.lifecycle import STAGES
from crm_core.relationship import TYPES
from crm_core.segment_config import SegmentConfig

REQUIRED_COLUMNS: tuple[str, ...] = ("rule", "priority", "offer", "channel")


@dataclass(frozen=True)
class Vocabulary:
    """The labels rules may name, per condition (`customize.CONDITIONS`)."""

    segments: tuple[str, ...]
    tiers: tuple[str, ...]
    stages: tuple[str, ...] = STAGES
    relationship_types: tuple[str, ...] = TYPES

    @classmethod
    def of(cls, config: SegmentConfig) -> Vocabulary:
        """The labels customers can get under the segment configuration `config`."""
        return cls(config.segment_names, (*config.tiers.names, config.no_purchase))


def _unknown_labels(row: dict[str, Any], vocabulary: Vocabulary) -> list[VinculoError]:
    errors = []
    for condition in CONDITIONS:
        known = set(getattr(vocabulary, condition))
        try:
            labels = label_cell(row.get(condition))
        except TypeError:  # not a list: Rule reports it as customize.bad_labels
            continue
        unknown = [label for label in labels if label not in known]
        if unknown:
            errors.append(
                VinculoError(
                    f"customize.unknown.{condition}",
                    rule=row["rule"],
                    names=", ".join(unknown),
                    allowed=", ".join(getattr(vocabulary, condition)),
                )
            )
    return errors


def _row_errors(number: int, row: dict[str, Any], vocabulary: Vocabulary) -> list[VinculoError]:
    """Problems of one table row (`number` is 1-based, as the user counts)."""
    name = row.get("rule")
    if not isinstance(name, str) or not name.strip():
        return [VinculoError("customize.row_no_name", row=number)]
    errors = []
    try:
        rule_from_row(row)
    except VinculoError as exc:
        errors.append(exc)
    return errors + _unknown_labels(row, vocabulary)


def check_table(name: str, table: pl.DataFrame, vocabulary: Vocabulary) -> list[VinculoError]:
    """Every problem of the edited rules `table` (definitions in the module docstring).

    `table` has `customize.rules_frame`'s columns (`rule_order` optional, ignored); an empty
    list means `rules_from_frame(name, table)` succeeds and names only known labels.
    """
    missing = [c for c in REQUIRED_COLUMNS if c not in table.columns]
    if missing:
        return [VinculoError("customize.missing_columns", columns=", ".join(missing))]
    errors = [] if name.strip() else [VinculoError("customize.empty_name")]
    if table.height == 0:
        return [*errors, VinculoError("customize.no_rules")]
    for number, row in enumerate(table.iter_rows(named=True), start=1):
        errors.extend(_row_errors(number, row, vocabulary))
    names = [n.strip() for n in table["rule"].drop_nulls().to_list() if n.strip()]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        errors.append(VinculoError("customize.duplicate_rules", names=", ".join(repeated)))
    return errors


def draft_rules(
    name: str, table: pl.DataFrame, vocabulary: Vocabulary
) -> tuple[RuleSet | None, list[VinculoError]]:
    """The rule set the edited `table` describes, or None with every problem found."""
    errors = check_table(name, table, vocabulary)
    if errors:
        return None, errors
    try:
        return rules_from_frame(name.strip(), table), []
    except VinculoError as exc:  # a case check_table missed: still a user error
        return None, [exc]

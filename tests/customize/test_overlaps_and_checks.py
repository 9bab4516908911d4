"""Rule overlaps (who won over whom), value per rule, and the checks of an edited rules table."""

from __future__ import annotations

import polars as pl
import pytest

from crm_core.customize import (
    Rule,
    RuleSet,
    assign_actions,
    default_ruleset,
    overlaps,
    rules_frame,
    rules_from_frame,
    value_by_rule,
)
from crm_core.customize_checks import Vocabulary, check_table, draft_rules
from crm_core.lifecycle import STAGES
from crm_core.relationship import TYPES
from crm_core.segment_config import SegmentConfig
from tests.customize.test_rules import RULES, profile

# RULES: A (2, Champions), B (1, platinum in dissolution), C (2, Champions or Loyal),
# D (3, communities). Matches worked out by hand:
PEOPLE = (
    ("Champions", "gold", "commitment", "long_term"),  # c0: A, C → A (tie, listed first)
    ("Champions", "platinum", "dissolution", "long_term"),  # c1: B, A, C → B
    ("Champions", "platinum", "dissolution", "communities"),  # c2: B, A, C, D → B
    ("Loyal", "platinum", "commitment", "communities"),  # c3: C, D → C
    ("Lost", "bronze", "awareness", "long_term"),  # c4: nothing
    ("Loyal", "gold", "commitment", "long_term"),  # c5: C alone
)


def test_overlaps_count_each_winner_over_each_loser():
    table = overlaps(assign_actions(profile(*PEOPLE), RULES), RULES)
    assert table.columns == [
        "rule", "priority", "overridden", "overridden_priority", "customers", "decided_by",
    ]  # fmt: skip
    assert table.rows() == [
        ("B", 1, "A", 2, 2, "priority"),  # c1, c2
        ("B", 1, "C", 2, 2, "priority"),  # c1, c2
        ("B", 1, "D", 3, 1, "priority"),  # c2
        ("A", 2, "C", 2, 1, "order"),  # c0: same priority, A is listed before C
        ("C", 2, "D", 3, 1, "priority"),  # c3
    ]
    assert table["customers"].dtype == pl.UInt32


@pytest.mark.parametrize(
    ("rules", "winner", "decided_by"),
    [
        # swapping A's priority to 3 hands c0 to C, now by priority
        ((Rule("A", 3, segments=("Champions",), offer="a"),
          Rule("C", 2, segments=("Champions", "Loyal"), offer="c")), "C", "priority"),
        # equal priorities: list order decides, whichever rule comes first
        ((Rule("C", 2, segments=("Champions", "Loyal"), offer="c"),
          Rule("A", 2, segments=("Champions",), offer="a")), "C", "order"),
        ((Rule("A", 2, segments=("Champions",), offer="a"),
          Rule("C", 2, segments=("Champions", "Loyal"), offer="c")), "A", "order"),
    ],
)  # fmt: skip
def test_priority_edit_changes_the_winner(rules, winner, decided_by):
    ruleset = RuleSet("t", rules)
    assigned = assign_actions(profile(PEOPLE[0]), ruleset)
    assert assigned["rule"].to_list() == [winner]
    table = overlaps(assigned, ruleset)
    assert table.select("rule", "customers", "decided_by").rows() == [(winner, 1, decided_by)]


def test_no_overlap_gives_an_empty_table():
    table = overlaps(assign_actions(profile(PEOPLE[4], PEOPLE[5]), RULES), RULES)
    assert table.height == 0
    assert "decided_by" in table.columns


def test_value_by_rule_sums_and_means():
    assigned = assign_actions(profile(*PEOPLE), RULES)
    values = pl.DataFrame(
        {"customer_id": ["c0", "c1", "c2", "c3", "c4"], "revenue": [100.0, 50.0, 30.0, None, 10.0]}
    )  # c5 has no value
    got = {r["rule"]: r for r in value_by_rule(assigned, values).iter_rows(named=True)}
    assert set(got) == {"A", "B", "C", None}
    assert (got["A"]["revenue"], got["A"]["mean_revenue"]) == (100.0, 100.0)
    assert (got["B"]["revenue"], got["B"]["mean_revenue"]) == (80.0, 40.0)
    assert (got["C"]["revenue"], got["C"]["mean_revenue"]) == (0.0, None)  # c3 null, c5 missing
    assert got[None]["revenue"] == 10.0


# ---- checks of the edited table ------------------------------------------------------------

VOCAB = Vocabulary(segments=("Champions", "Loyal", "Lost"), tiers=("platinum", "gold", "bronze"))
BASE = rules_frame(RULES).drop("rule_order")


def edit(row: int, **values) -> pl.DataFrame:
    """BASE with the cells of `row` (0-based) replaced."""
    frame = BASE
    for column, value in values.items():
        cells = frame[column].to_list()
        cells[row] = value
        frame = frame.with_columns(pl.Series(column, cells, dtype=frame.schema[column]))
    return frame


@pytest.mark.parametrize(
    ("name", "table", "keys"),
    [
        ("t", BASE, []),
        ("  ", BASE, ["customize.empty_name"]),
        ("t", BASE.clear(), ["customize.no_rules"]),
        ("t", edit(1, rule=None), ["customize.row_no_name"]),
        ("t", edit(1, rule=" "), ["customize.row_no_name"]),
        ("t", edit(2, rule="A"), ["customize.duplicate_rules"]),
        ("t", edit(0, channel=None), ["customize.empty_channel"]),
        ("t", edit(0, channel="fax"), ["customize.bad_channel"]),
        ("t", edit(0, priority=0), ["customize.bad_priority"]),
        ("t", edit(0, priority=None), ["customize.bad_priority"]),
        ("t", edit(0, offer=""), ["customize.empty_offer"]),
        ("t", edit(0, segments=["Champions", "Campeões"]), ["customize.unknown.segments"]),
        ("t", edit(1, tiers=["diamond"]), ["customize.unknown.tiers"]),
        ("t", edit(1, stages=["dissolution", "gone"]), ["customize.unknown.stages"]),
        ("t", edit(3, relationship_types=["telepathy"]), ["customize.unknown.relationship_types"]),
        # every problem at once, row by row, duplicates last
        ("t", edit(0, channel="").pipe(lambda f: f.with_columns(
            pl.Series("rule", ["A", "B", "A", "D"]),
            pl.Series("stages", [[], ["gone"], [], []], dtype=pl.List(pl.String)))),
         ["customize.empty_channel", "customize.unknown.stages", "customize.duplicate_rules"]),
        ("t", BASE.drop("channel"), ["customize.missing_columns"]),
    ],
)  # fmt: skip
def test_check_table(name, table, keys):
    errors = check_table(name, table, VOCAB)
    assert [e.key for e in errors] == keys
    for error in errors:
        for lang in ("en", "pt_BR"):
            text = error.message(lang)
            assert "{" not in text and not text.startswith("customize."), text
    draft, again = draft_rules(name, table, VOCAB)
    assert [e.key for e in again] == keys
    assert (draft == RULES) if not keys else draft is None


def test_unknown_label_message_names_the_label_and_row_number():
    (error,) = check_table("t", edit(0, segments=["Champions", "Campeões"]), VOCAB)
    assert 'Rule "A": unknown segments: Campeões.' in error.message("en")
    assert "Champions, Loyal, Lost" in error.message("en")
    (error,) = check_table("t", edit(1, rule=None), VOCAB)
    assert error.message("pt_BR") == "Linha 2: a regra precisa de um nome."


def test_vocabulary_of_a_segment_configuration():
    vocab = Vocabulary.of(SegmentConfig())
    assert {"Champions", "At Risk", "Other", "No purchase"} <= set(vocab.segments)
    assert vocab.tiers[-1] == "No purchase" and "platinum" in vocab.tiers
    assert (vocab.stages, vocab.relationship_types) == (STAGES, TYPES)
    assert check_table("default", rules_frame(default_ruleset()), vocab) == []


@pytest.mark.parametrize("ruleset", [RULES, default_ruleset()], ids=["small", "default"])
def test_editor_round_trip(ruleset):
    assert rules_from_frame(ruleset.name, rules_frame(ruleset)) == ruleset
    # the editor shows the table without rule_order; list order is kept
    assert rules_from_frame(ruleset.name, rules_frame(ruleset).drop("rule_order")) == ruleset
    draft, errors = draft_rules(ruleset.name, rules_frame(ruleset), Vocabulary.of(SegmentConfig())
                                if ruleset is not RULES else VOCAB)  # fmt: skip
    assert errors == [] and draft == ruleset

"""Next-best-action rules: validation, JSON round trip, versioned storage, priority resolution."""

from __future__ import annotations

import json

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_core.customize import (
    Rule,
    RuleSet,
    assign_actions,
    build_profile,
    default_ruleset,
    list_rules,
    load_rules,
    preview,
    rules_frame,
    rules_from_frame,
    save_rules,
)
from crm_core.errors import VinculoError


def profile(*rows: tuple[str | None, ...]) -> pl.DataFrame:
    """Customers c0, c1, … with (segment, tier, stage, relationship_type) per row."""
    return pl.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(len(rows))],
            "segment": [r[0] for r in rows],
            "tier": [r[1] for r in rows],
            "stage": [r[2] for r in rows],
            "relationship_type": [r[3] for r in rows],
        },
        schema_overrides={c: pl.String for c in ("segment", "tier", "stage", "relationship_type")},
    )


# Three overlapping rules: A (priority 2) = Champions; B (priority 1) = platinum in
# dissolution; C (priority 2, listed after A) = any Champions or Loyal; D (priority 3) = anyone.
RULES = RuleSet(
    "t",
    (
        Rule("A", 2, segments=("Champions",), offer="a", channel="email"),
        Rule("B", 1, tiers=("platinum",), stages=("dissolution",), offer="b", channel="phone"),
        Rule("C", 2, segments=("Champions", "Loyal"), offer="c", channel="sms"),
        Rule("D", 3, relationship_types=("communities",), offer="d", channel="whatsapp"),
    ),
)


@pytest.mark.parametrize(
    ("row", "rule", "conflicts", "matched"),
    [
        (("Champions", "gold", "commitment", "long_term"), "A", 1, ["A", "C"]),  # tie → order
        (("Champions", "platinum", "dissolution", "long_term"), "B", 2, ["B", "A", "C"]),
        (("Loyal", "platinum", "commitment", "long_term"), "C", 0, ["C"]),
        (("Lost", "platinum", "dissolution", "communities"), "B", 1, ["B", "D"]),
        (("Lost", "bronze", "dissolution", "communities"), "D", 0, ["D"]),
        (("Lost", "bronze", "dissolution", "long_term"), None, 0, []),
        ((None, None, None, None), None, 0, []),  # a null label matches only "any"
        ((None, None, None, "communities"), "D", 0, ["D"]),
    ],
)
def test_priority_and_conflicts(row, rule, conflicts, matched):
    out = assign_actions(profile(row), RULES)
    assert out["rule"].to_list() == [rule]
    assert out["conflicts"].to_list() == [conflicts]
    assert out["matched_rules"].to_list() == [matched]
    expected_channel = None if rule is None else RULES.rule(rule).channel
    assert out["channel"].to_list() == [expected_channel]


def test_keeps_order_and_enum_labels():
    rows = [("Loyal", "gold", "expansion", "long_term"), ("Champions", "gold", "x", "y")] * 3
    frame = profile(*rows).with_columns(pl.col("segment").cast(pl.Enum(["Champions", "Loyal"])))
    out = assign_actions(frame, RULES)
    assert out["customer_id"].to_list() == [f"c{i}" for i in range(6)]
    assert out["rule"].to_list() == ["C", "A"] * 3
    assert out["segment"].dtype == pl.Enum(["Champions", "Loyal"])


def test_preview_counts():
    rows = [
        ("Champions", "gold", "commitment", "long_term"),  # A, also C
        ("Champions", "platinum", "dissolution", "long_term"),  # B, also A, C
        ("Loyal", "gold", "commitment", "long_term"),  # C alone
        ("Lost", "bronze", "awareness", "transactional"),  # nothing
    ]
    table = preview(assign_actions(profile(*rows), RULES), RULES)
    got = {r["rule"]: r for r in table.iter_rows(named=True)}
    assert table["rule"].to_list() == ["A", "B", "C", "D", None]
    assert (got["A"]["customers"], got["A"]["matched"], got["A"]["overridden"]) == (1, 2, 1)
    assert (got["B"]["customers"], got["B"]["with_conflicts"], got["B"]["matched"]) == (1, 1, 1)
    assert (got["C"]["customers"], got["C"]["matched"], got["C"]["overridden"]) == (1, 3, 2)
    assert got["D"]["customers"] == got["D"]["matched"] == 0
    assert got[None]["customers"] == 1
    assert table["customers"].sum() == 4


def test_preview_without_ruleset_lists_rules_that_matched():
    rows = [("Champions", "gold", "commitment", "long_term")]
    table = preview(assign_actions(profile(*rows), RULES))
    assert sorted(table["rule"].to_list()) == ["A", "C"]


def test_default_ruleset_covers_demo_labels():
    rows = [
        ("Champions", "platinum", "dissolution", "long_term"),
        ("At Risk", "silver", "awareness", "transactional"),
        ("No purchase", "No purchase", "exploration", "transactional"),
    ]
    out = assign_actions(profile(*rows), default_ruleset())
    assert out["rule"].to_list() == ["save_top_value", "win_back_at_risk", "convert_leads"]


def test_json_round_trip():
    again = RuleSet.from_json(RULES.to_json())
    assert again == RULES
    assert isinstance(again.rules[0].segments, tuple)
    assert RuleSet.from_json(default_ruleset().to_json()) == default_ruleset()


@pytest.mark.parametrize(
    ("make", "key"),
    [
        (lambda: Rule(" ", 1, offer="x"), "customize.empty_name"),
        (lambda: Rule("r", 0, offer="x"), "customize.bad_priority"),
        (lambda: Rule("r", True, offer="x"), "customize.bad_priority"),
        (lambda: Rule("r", 1, offer="x", channel="fax"), "customize.bad_channel"),
        (lambda: Rule("r", 1, offer="x", segments="Champions"), "customize.bad_labels"),
        (lambda: Rule("r", 1, offer="x", tiers=("gold", "")), "customize.bad_labels"),
        (lambda: Rule("r", 1, offer=" "), "customize.empty_offer"),
        (lambda: RuleSet("s", ()), "customize.no_rules"),
        (lambda: RuleSet("s", (Rule("r", 1, offer="x"),) * 2), "customize.duplicate_rules"),
        (lambda: RuleSet.from_json("{"), "customize.bad_json"),
        (lambda: RuleSet.from_json('{"name": "s"}'), "customize.bad_json"),
        (
            lambda: RuleSet.from_json(
                json.dumps({"name": "s", "rules": [{"name": "r", "priority": 1, "offer": "x",
                                                    "colour": "red"}]})
            ),
            "customize.unknown_keys",
        ),
        (
            lambda: RuleSet.from_json(json.dumps({"name": "s", "rules": [{"name": "r"}]})),
            "customize.missing_key",
        ),
        (lambda: RULES.rule("Z"), "customize.rule_not_found"),
        (lambda: assign_actions(pl.DataFrame({"customer_id": ["a"]}), RULES),
         "customize.missing_columns"),
    ],
)  # fmt: skip
def test_validation(make, key):
    with pytest.raises(VinculoError) as info:
        make()
    assert info.value.key == key
    assert "{" not in info.value.message("pt_BR")


def test_save_and_load_versions(con):
    assert load_rules(con) == default_ruleset()
    assert save_rules(con, RULES, "ana") == 1
    changed = RuleSet("t", RULES.rules[:2])
    assert save_rules(con, changed, "bia") == 2
    assert load_rules(con, "t") == changed
    assert load_rules(con, "t", 1) == RULES
    assert list_rules(con)["version"].to_list() == [2, 1]
    audit = con.execute(
        "SELECT actor, action, target, rows, detail FROM audit_log ORDER BY event_id"
    ).fetchall()
    assert [(a, b, c, d) for a, b, c, d, _ in audit] == [
        ("ana", "rules.saved", "t", 4),
        ("bia", "rules.saved", "t", 2),
    ]
    assert json.loads(audit[1][4]) == {"version": 2}
    with pytest.raises(VinculoError) as info:
        load_rules(con, "t", 9)
    assert info.value.key == "customize.rules_not_found"


labels = st.sampled_from(["a", "b", "c"])
label_sets = st.lists(labels, max_size=2, unique=True).map(tuple)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.tuples(labels, labels, labels, labels), min_size=1, max_size=12),
    specs=st.lists(
        st.tuples(st.integers(1, 3), label_sets, label_sets, label_sets, label_sets),
        min_size=1,
        max_size=5,
    ),
)
def test_at_most_one_action_and_winner_is_best(rows, specs):
    rules = tuple(
        Rule(f"r{i}", p, segments=s, tiers=t, stages=g, relationship_types=r, offer="o")
        for i, (p, s, t, g, r) in enumerate(specs)
    )
    out = assign_actions(profile(*rows), RuleSet("h", rules))
    assert out.height == len(rows)
    assert out["customer_id"].n_unique() == len(rows)
    for row, got in zip(rows, out.iter_rows(named=True), strict=True):
        hits = [
            (r.priority, i, r.name)
            for i, r in enumerate(rules)
            if all(not cond or label in cond for cond, label in zip(
                (r.segments, r.tiers, r.stages, r.relationship_types), row, strict=True))
        ]  # fmt: skip
        assert got["rule"] == (min(hits)[2] if hits else None)
        assert got["conflicts"] == max(len(hits) - 1, 0)


def test_build_profile_joins_the_three_labellings():
    segmented = pl.DataFrame(
        {"customer_id": ["b", "a"], "segment": ["Loyal", "Lost"], "tier": ["gold", "bronze"]},
        schema_overrides={"segment": pl.Enum(["Loyal", "Lost"])},
    )
    staged = pl.DataFrame({"customer_id": ["a", "b"], "stage": ["dissolution", "expansion"]})
    typed = pl.DataFrame({"customer_id": ["b"], "relationship_type": ["communities"]})
    prof = build_profile(segmented, staged, typed)
    assert prof.rows() == [
        ("b", "Loyal", "gold", "expansion", "communities"),
        ("a", "Lost", "bronze", "dissolution", None),
    ]
    assert prof.schema["segment"] == pl.String


def test_rules_table_round_trip_and_text_labels():
    assert rules_from_frame("t", rules_frame(RULES)) == RULES
    edited = pl.DataFrame(
        {
            "rule": ["x"],
            "priority": [2.0],
            "segments": ["At Risk, Lost ,"],
            "tiers": [None],
            "offer": ["o"],
            "channel": ["sms"],
        }
    )
    rule = rules_from_frame("e", edited).rules[0]
    assert (rule.segments, rule.tiers, rule.stages, rule.owner) == (("At Risk", "Lost"), (), (), "")
    with pytest.raises(VinculoError) as info:
        rules_from_frame("e", edited.with_columns(pl.lit(None, pl.Int64).alias("priority")))
    assert info.value.key == "customize.bad_priority"
    with pytest.raises(VinculoError):
        rules_from_frame("e", edited.with_columns(pl.lit(2.5).alias("priority")))

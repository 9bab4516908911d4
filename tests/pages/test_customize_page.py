"""Customize page on the demo store: what it shows equals crm_core's numbers.

The rules editor is driven the way AppTest 1.67 allows for a keyed `st.data_editor`: its edit
state (`edited_rows`, `added_rows`, `deleted_rows`, as the browser sends it) is assigned to
`at.session_state["cust_rules_editor"]` before `run()`. Download buttons build their file on
click through a deferred callable AppTest cannot run (no media runtime), so the export test
calls the same function the button's callable calls (`ui.customize_view.export_file`).
"""

from __future__ import annotations

import io
import json
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import polars as pl
import pytest

from crm_core import store
from crm_core.clv import fit_clv
from crm_core.customize import (
    RuleSet,
    assign_actions,
    build_profile,
    default_ruleset,
    list_rules,
    load_rules,
    save_rules,
)
from crm_core.i18n.format import format_number
from crm_core.lifecycle import assign_stages
from crm_core.relationship import RelationshipRules, interaction_profile, relationship_types
from crm_core.segment_store import latest_config
from crm_core.segments import segment_customers
from crm_core.summary import customer_summary
from crm_core.targeting import contact_columns, target_list
from tests.pages.conftest import metric_values, open_page

PAGE = "pages/customize.py"
EDITOR = "cust_rules_editor"


@dataclass
class Expected:
    profile: pl.DataFrame
    summary: pl.DataFrame
    clv: pl.DataFrame


def _expected(db: Path, as_of: date) -> Expected:
    """The profile the page should read, computed with crm_core alone (same model settings)."""
    with store.connect(db) as con:
        config, _ = latest_config(con)
        summary = customer_summary(con, as_of, window_days=config.window_days)
        clv = fit_clv(con, calibration_end=as_of).customers
        contacts = interaction_profile(con, as_of)
    segmented = segment_customers(summary, config, clv)
    staged = assign_stages(summary, config.lifecycle, config.churn_window_days, clv)
    typed = relationship_types(summary, contacts, RelationshipRules())
    return Expected(build_profile(segmented, staged, typed), summary, clv)


def _as_of(at) -> date:
    return at.session_state["_filters"].as_of


def _table(at, first_column: str, *others: str):
    """The rendered read-only table whose columns start with `first_column` (and hold `others`)."""
    for frame in at.dataframe:
        columns = list(frame.value.columns)
        if (
            frame.editing_mode == "read_only"
            and columns
            and columns[0] == first_column
            and set(others) <= set(columns)
        ):
            return frame.value
    raise AssertionError(f"no table starting with {first_column}")


def _edit(at, edited_rows=None, added_rows=None, deleted_rows=None):
    """Apply cell edits to the rules editor as the browser would, and rerun."""
    at.session_state[EDITOR] = {
        "edited_rows": edited_rows or {},
        "added_rows": added_rows or [],
        "deleted_rows": deleted_rows or [],
    }
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _check_preview(at, assigned: pl.DataFrame, exp: Expected) -> None:
    """The who-gets-what table equals counts and sums made here from `assign_actions`."""
    shown = _table(at, "rule", "customers", "overridden")
    won = Counter(assigned["rule"].to_list())
    matched = Counter(r for rules in assigned["matched_rules"].to_list() for r in rules)
    rules = [r for r in shown["rule"] if r != "(no action)"]
    assert shown["customers"].tolist() == [won[r] for r in rules] + (
        [won[None]] if won[None] else []
    )
    assert shown["matched"].tolist()[: len(rules)] == [matched[r] for r in rules]
    assert sum(shown["customers"]) == exp.profile.height
    revenue = assigned.join(exp.summary.select("customer_id", "revenue"), on="customer_id")
    by_rule = dict(revenue.group_by("rule").agg(pl.col("revenue").sum()).iter_rows())
    assert shown["revenue"].tolist()[: len(rules)] == pytest.approx(
        [by_rule.get(r, 0.0) for r in rules]
    )


@pytest.fixture(scope="module")
def english(demo_template: Path, tmp_path_factory: pytest.TempPathFactory):
    """The page in English on a private demo copy, and crm_core's profile for it."""
    path = tmp_path_factory.mktemp("customize") / "crm.duckdb"
    path.write_bytes(demo_template.read_bytes())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CRM_DB", str(path))
        at = open_page(PAGE, lang="en")
        yield at, _expected(path, _as_of(at)), path


def test_preview_equals_assign_actions(english) -> None:
    at, exp, _ = english
    rules = default_ruleset()
    assigned = assign_actions(exp.profile, rules)
    _check_preview(at, assigned, exp)
    metrics = metric_values(at)
    assert metrics["Customers"] == format_number(exp.profile.height, "en")
    conflicted = int((assigned["conflicts"] > 0).sum())
    assert conflicted > 0  # the default rules overlap on the demo
    assert metrics["With overlapping rules"] == format_number(conflicted, "en")
    assert metrics["No action"] == format_number(int(assigned["rule"].is_null().sum()), "en")
    assert at.data_editor[0].value["rule"].tolist() == [r.name for r in rules.rules]


def test_conflicts_table_counts_each_overlap(english) -> None:
    at, exp, _ = english
    rules = default_ruleset()
    assigned = assign_actions(exp.profile, rules)
    pairs = Counter(
        (names[0], other)
        for names in assigned["matched_rules"].to_list()
        if len(names) > 1
        for other in names[1:]
    )
    shown = _table(at, "rule", "overridden", "decided_by")
    got = {(r, o): n for r, o, n in zip(shown["rule"], shown["overridden"], shown["customers"],
                                         strict=True)}  # fmt: skip
    assert got == dict(pairs)
    priority = {r.name: r.priority for r in rules.rules}
    for row in shown.itertuples():
        assert priority[row.rule] < priority[row.overridden]  # default priorities are distinct
        assert row.decided_by == "Priority"


def test_target_lists_equal_target_list(english) -> None:
    at, exp, path = english
    assigned = assign_actions(exp.profile, default_ruleset())
    for rule in ("save_top_value", "win_back_at_risk", "nudge_sleepy"):
        at.selectbox(key="cust_target_rule").set_value(rule).run()
        assert not at.exception
        channel = default_ruleset().rule(rule).channel
        with store.connect(path) as con:
            frame, exclusions = target_list(con, assigned, rule, columns=contact_columns(channel))
        excluded = int(exclusions["customers"].sum())
        assert excluded > 0  # the demo withdraws some consents
        metrics = metric_values(at)
        assert metrics["On the list"] == format_number(frame.height, "en")
        assert metrics["Excluded"] == format_number(excluded, "en")
        assert metrics["Candidates"] == format_number(int((assigned["rule"] == rule).sum()), "en")
        shown = _table(at, "reason", "customers")
        assert shown["reason"].tolist() == [
            "Erased (data-subject request)", "No consent recorded for the channel",
            "Consent withdrawn", "No contact data for the channel",
        ]  # fmt: skip
        assert shown["customers"].tolist() == exclusions["customers"].to_list()
        rows = _table(at, "customer_id", "consent_source")
        ids = [parse_qs(urlsplit(u).query)["customer"][0] for u in rows["customer_id"]]
        assert ids == frame["customer_id"].head(100).to_list()
        assert set(contact_columns(channel)) <= set(rows.columns)
        assert "email" not in rows.columns or channel == "email"  # minimisation
        buttons = {b.key: b for b in at.get("download_button")}
        assert set(buttons) == {"cust_export_csv", "cust_export_xlsx"}
        assert buttons["cust_export_csv"].label == "Download target list (CSV)"


def test_export_callable_is_audited_and_formula_safe(demo_db: Path) -> None:
    from ui.customize_view import export_file

    with store.connect(demo_db) as con:
        con.execute("UPDATE customers SET name = '=HYPERLINK(\"http://x\")' "
                    "WHERE customer_id = (SELECT min(customer_id) FROM customers)")  # fmt: skip
        who = con.execute("SELECT min(customer_id) FROM customers").fetchone()[0]
    at = open_page(PAGE, lang="en")
    exp = _expected(demo_db, _as_of(at))
    assigned = assign_actions(exp.profile, default_ruleset())
    rule = assigned.filter(pl.col("customer_id") == who)["rule"][0]
    at.selectbox(key="cust_target_rule").set_value(rule).run()
    with store.connect(demo_db) as con:
        frame, _ = target_list(con, assigned, rule, columns=("name", "email", "phone"))
    data = export_file(str(demo_db), frame, rule, "csv", "marta", "default", None)
    text = data.decode("utf-8-sig")
    assert text.count("\n") == frame.height + 1
    if who in frame["customer_id"].to_list():
        assert "'=HYPERLINK" in text and "\n=HYPERLINK" not in text
    with store.connect(demo_db) as con:
        rows = con.execute(
            "SELECT actor, action, target, rows, detail FROM audit_log "
            "WHERE action = 'targeting.exported'"
        ).fetchall()
    assert [(a, b, c, d) for a, b, c, d, _ in rows] == [
        ("marta", "targeting.exported", rule, frame.height)
    ]
    detail = json.loads(rows[0][4])
    assert (detail["format"], detail["ruleset"], detail["ruleset_version"]) == (
        "csv", "default", None,
    )  # fmt: skip
    xlsx = export_file(str(demo_db), frame, rule, "xlsx", "marta", "default", None)
    assert xlsx[:2] == b"PK"  # a zip container


def _rule_index(name: str) -> int:
    return [r.name for r in default_ruleset().rules].index(name)


def test_editing_a_priority_changes_the_winner(demo_db: Path) -> None:
    at = open_page(PAGE, lang="en")
    exp = _expected(demo_db, _as_of(at))
    shown = _table(at, "rule", "overridden", "decided_by")
    winner, loser = shown["rule"].iloc[0], shown["overridden"].iloc[0]
    both = int(shown["customers"].iloc[0])
    new_priority = default_ruleset().rule(loser).priority + 1
    _edit(at, edited_rows={_rule_index(winner): {"priority": new_priority}})
    edited = RuleSet(
        "default",
        tuple(replace(r, priority=new_priority) if r.name == winner else r
              for r in default_ruleset().rules),
    )  # fmt: skip
    before = assign_actions(exp.profile, default_ruleset())
    after = assign_actions(exp.profile, edited)
    _check_preview(at, after, exp)
    gained = int((after["rule"] == loser).sum()) - int((before["rule"] == loser).sum())
    assert gained >= both  # every customer of the overlap now goes to the former loser
    now = _table(at, "rule", "overridden", "decided_by")
    pair = now[(now["rule"] == loser) & (now["overridden"] == winner)]
    assert pair["customers"].tolist() == [both]


def test_validation_errors_are_shown_not_raised(demo_db: Path) -> None:
    at = open_page(PAGE, lang="en")
    _edit(
        at,
        edited_rows={1: {"rule": "save_top_value"}, 2: {"channel": None},
                     3: {"segments": ["Champions", "Campeões"]}},
        added_rows=[{"priority": 3, "offer": "x", "channel": "sms"}],
    )  # fmt: skip
    errors = [e.value for e in at.error]
    assert errors == [
        'Rule "win_back_at_risk": pick a channel.',
        'Rule "reward_champions": unknown segments: Campeões. The segment configuration has: '
        + ", ".join(latest_segments(demo_db))
        + ".",
        "Row 11: the rule needs a name.",
        "Rule names must be different; repeated: save_top_value.",
    ]
    assert at.button(key="cust_save_rules").disabled
    assert at.warning and "Fix the problems" in at.warning[0].value
    assert not at.metric  # no preview, no target list from invalid rules


def latest_segments(db: Path) -> tuple[str, ...]:
    with store.connect(db) as con:
        return latest_config(con)[0].segment_names


def test_validation_in_portuguese(demo_db: Path) -> None:
    at = open_page(PAGE, lang="pt_BR")
    _edit(at, edited_rows={0: {"priority": None}}, deleted_rows=[])
    assert [e.value for e in at.error] == [
        'Regra "save_top_value": a prioridade deve ser um número inteiro a partir de 1 '
        "(1 = mais urgente); recebido None."
    ]


def test_saving_writes_a_version_and_an_audit_row(demo_db: Path) -> None:
    at = open_page(PAGE, lang="en")
    _edit(at, edited_rows={_rule_index("last_chance"): {"priority": 11}},
          deleted_rows=[_rule_index("convert_leads")])  # fmt: skip
    at.text_input(key="cust_ruleset_name").set_value("autumn").run()
    at.button(key="cust_save_rules").click().run()
    assert not at.exception
    assert at.success[0].value == 'Saved "autumn" as version 1.'
    with store.connect(demo_db) as con:
        versions = list_rules(con)
        saved = load_rules(con, "autumn", 1)
        audit = con.execute(
            "SELECT actor, action, target, rows, detail FROM audit_log WHERE action = 'rules.saved'"
        ).fetchall()
    assert versions.select("name", "version", "created_by").rows() == [("autumn", 1, "admin")]
    assert saved.rule("last_chance").priority == 11
    assert "convert_leads" not in [r.name for r in saved.rules]
    assert [(a, b, c, d) for a, b, c, d, _ in audit] == [("admin", "rules.saved", "autumn", 9)]
    # the editor restarts from the saved version, and history lists it
    editor = at.data_editor[0].value
    assert editor["rule"].tolist() == [r.name for r in saved.rules]
    assert editor["priority"].tolist() == [r.priority for r in saved.rules]
    assert any('"autumn" version 1' in c.value for c in at.caption)
    history = _table(at, "name", "version", "created_by")
    assert history[["name", "version", "created_by"]].values.tolist() == [["autumn", 1, "admin"]]

    # a second save, then loading version 1 back
    _edit(at, edited_rows={0: {"offer": "Nova oferta"}})
    at.button(key="cust_save_rules").click().run()
    assert at.success[0].value == 'Saved "autumn" as version 2.'
    options = at.selectbox(key="cust_version").options
    assert len(options) == 2 and "v2" in options[0] and "v1" in options[1]
    at.selectbox(key="cust_version").set_value(1).run()
    at.button(key="cust_load_rules").click().run()
    assert not at.exception
    editor = at.data_editor[0].value
    assert editor["offer"].tolist() == [r.offer for r in saved.rules]
    assert any('"autumn" version 1' in c.value for c in at.caption)


def test_a_new_session_starts_from_the_newest_saved_version(demo_db: Path) -> None:
    mine = RuleSet("spring", default_ruleset().rules[:3])
    with store.connect(demo_db) as con:
        save_rules(con, mine, "ana")
    at = open_page(PAGE, lang="en")
    assert at.text_input(key="cust_ruleset_name").value == "spring"
    assert at.data_editor[0].value["rule"].tolist() == [r.name for r in mine.rules]
    exp = _expected(demo_db, _as_of(at))
    _check_preview(at, assign_actions(exp.profile, mine), exp)


def test_segment_filter_in_the_url(demo_db: Path) -> None:
    at = open_page(PAGE, lang="en", segment="Champions")
    exp = _expected(demo_db, _as_of(at))
    champions = exp.profile.filter(pl.col("segment") == "Champions")
    assert 0 < champions.height < exp.profile.height
    assert metric_values(at)["Customers"] == format_number(champions.height, "en")
    _check_preview(at, assign_actions(champions, default_ruleset()),
                   replace(exp, profile=champions))  # fmt: skip


def test_portuguese(demo_db: Path) -> None:
    at = open_page(PAGE, lang="pt_BR")
    exp = _expected(demo_db, _as_of(at))
    assert at.title[0].value == "Personalizar"
    metrics = metric_values(at)
    assert metrics["Clientes"] == format_number(exp.profile.height, "pt_BR")
    assert "." in metrics["Clientes"]  # 4.000
    shown = _table(at, "reason", "customers")
    assert shown["reason"].tolist()[2] == "Consentimento revogado"
    preview = _table(at, "rule", "customers", "overridden")
    assert "Telefone" in preview["channel"].tolist()
    assert at.button(key="cust_save_rules").label == "Salvar como nova versão"


def test_empty_store(empty_db: Path) -> None:
    at = open_page(PAGE, lang="en")
    assert not at.exception
    assert at.info and "No orders" in at.info[0].value
    assert not at.metric
    assert not at.data_editor


def test_xlsx_export_opens(english) -> None:
    import openpyxl

    from ui.customize_view import export_file

    at, exp, path = english
    assigned = assign_actions(exp.profile, default_ruleset())
    with store.connect(path) as con:
        frame, _ = target_list(con, assigned, "nudge_sleepy", columns=contact_columns("sms"))
    data = export_file(str(path), frame, "nudge_sleepy", "xlsx", "app", "default", None)
    rows = list(openpyxl.load_workbook(io.BytesIO(data)).active.values)
    assert rows[0][:3] == ("customer_id", "name", "phone")
    assert [r[0] for r in rows[1:]] == frame["customer_id"].to_list()

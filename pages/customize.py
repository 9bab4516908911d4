"""IDIC → Customize: who gets what, through which channel (next-best-action rules)."""

from __future__ import annotations

import streamlit as st

from crm_core.customize import RuleSet
from crm_core.customize_checks import draft_rules
from crm_core.i18n.format import format_date, format_number
from ui import customize_view as view
from ui import filters
from ui.context import actor, customer_url, data_version, db, lang, page_header, t
from ui.masking import masked, may

page_header(__file__, "customize")
f = filters.require()
key = view.key_of(f, db(), data_version())
vocab = view.vocabulary(f.config_json)
labels = view.label_functions(lang())

# ---- the rules: load, edit, check, save ------------------------------------------------------
st.subheader(t("page.customize.rules"))
loaded = view.ensure_loaded(db())
history = view.saved_versions(db())
with st.expander(t("page.customize.versions"), expanded=False):
    if history.height:
        rows = list(history.iter_rows(named=True))
        options = [t("page.customize.version.option", name=r["name"], version=r["version"],
                     when=format_date(r["created_at"], lang()), who=r["created_by"])
                   for r in rows]  # fmt: skip
        pick = st.selectbox(t("page.customize.version.pick"), range(len(rows)),
                            key="cust_version", format_func=options.__getitem__)  # fmt: skip
        st.button(t("page.customize.version.load"), key="cust_load_rules",
                  on_click=view.load_version,
                  args=(db(), rows[pick]["name"], int(rows[pick]["version"])))  # fmt: skip
        st.dataframe(history, hide_index=True, key="cust_history", column_config={
            "name": st.column_config.TextColumn(t("page.customize.col.ruleset")),
            "version": st.column_config.NumberColumn(t("page.customize.col.version")),
            "created_at": st.column_config.DatetimeColumn(t("page.customize.col.created_at"),
                                                          format="localized"),
            "created_by": st.column_config.TextColumn(t("page.customize.col.created_by")),
        })  # fmt: skip
    else:
        st.caption(t("page.customize.version.none"))
    st.button(t("page.customize.version.default"), key="cust_load_default",
              on_click=view.load_default)  # fmt: skip

if loaded["version"] is None:
    st.caption(t("page.customize.loaded.default", name=loaded["name"]))
else:
    st.caption(t("page.customize.loaded", name=loaded["name"], version=loaded["version"]))
name = st.text_input(t("page.customize.ruleset_name"), key=view.NAME,
                     help=t("page.customize.ruleset_name.help"))  # fmt: skip
base = view.editor_frame(loaded["json"])
edited = st.data_editor(base, key=view.EDITOR, num_rows="dynamic", hide_index=True,
                        column_config=view.editor_columns(vocab, base, lang()))  # fmt: skip
st.caption(t("page.customize.editor.help"))
draft, errors = draft_rules(name, edited, vocab)
for error in errors:
    st.error(error.message(lang()))
st.button(t("page.customize.save"), key="cust_save_rules", type="primary",
          disabled=draft is None, on_click=view.save,
          args=(db(), draft.to_json() if draft else "", actor(), lang()))  # fmt: skip
saved = st.session_state.pop(view.SAVED, None)
if saved and saved[0] == "ok":
    st.success(t("page.customize.saved", name=saved[1], version=saved[2]))
elif saved:
    st.error(saved[1])
if draft is None:
    st.warning(t("page.customize.fix_first"))
    st.stop()
rules_json = draft.to_json()
version = view.saved_version_of(draft, loaded)

# ---- preview: who gets what ----------------------------------------------------------------
st.subheader(t("page.customize.preview"))
st.caption(t("page.customize.filters_note"))
table = view.who_gets_what(key, rules_json)
total = int(table["customers"].sum())
nobody = int(table.filter(table["rule"].is_null())["customers"].sum())
cols = st.columns(3)
cols[0].metric(t("page.customize.metric.customers"), format_number(total, lang()),
               help=t("page.customize.metric.customers.help"))  # fmt: skip
cols[1].metric(t("page.customize.metric.conflicts"),
               format_number(int(table["with_conflicts"].sum()), lang()),
               help=t("page.customize.metric.conflicts.help"))  # fmt: skip
cols[2].metric(t("page.customize.metric.no_action"), format_number(nobody, lang()),
               help=t("page.customize.metric.no_action.help"))  # fmt: skip
bars = {"won": t("page.customize.chart.won"), "overridden": t("page.customize.chart.overridden")}
st.plotly_chart(view.rules_chart(table, t("page.customize.no_action"), bars),
                key="cust_rules_chart")  # fmt: skip
st.caption(t("page.customize.preview.help"))
shown = view.relabel(table.with_columns(table["rule"].fill_null(t("page.customize.no_action"))),
                     "channel", labels["channel"])  # fmt: skip
st.dataframe(shown, hide_index=True, key="cust_preview", column_config=view.preview_columns())

st.markdown(f"**{t('page.customize.conflicts')}**")
overlap = view.conflicts(key, rules_json)
if overlap.height:
    decided = {d: t(f"page.customize.decided_by.{d}") for d in ("priority", "order")}
    st.dataframe(view.relabel(overlap, "decided_by", decided.__getitem__), hide_index=True,
                 key="cust_conflicts", column_config=view.overlap_columns())  # fmt: skip
    st.caption(t("page.customize.conflicts.help"))
else:
    st.caption(t("page.customize.conflicts.none"))


# ---- target lists --------------------------------------------------------------------------
@st.fragment
def target_section(rules_json: str, ruleset: str, version: int | None) -> None:
    """One rule's consent-filtered list and its exports: re-runs alone when the rule changes."""
    st.subheader(t("page.customize.targets"))
    rules = RuleSet.from_json(rules_json).rules
    channel_of = {r.name: r.channel for r in rules}
    rule = st.selectbox(
        t("page.customize.target.pick"), list(channel_of), key="cust_target_rule",
        format_func=lambda r: f"{r} · {labels['channel'](channel_of[r])}",
    )  # fmt: skip
    frame, exclusions = view.targets(key, rules_json, rule)
    excluded = int(exclusions["customers"].sum())
    cols = st.columns(3)
    cols[0].metric(t("page.customize.metric.candidates"),
                   format_number(frame.height + excluded, lang()),
                   help=t("page.customize.metric.candidates.help"))  # fmt: skip
    cols[1].metric(t("page.customize.metric.listed"), format_number(frame.height, lang()),
                   help=t("page.customize.metric.listed.help",
                          channel=labels["channel"](channel_of[rule])))  # fmt: skip
    cols[2].metric(t("page.customize.metric.excluded"), format_number(excluded, lang()))
    reasons = view.reason_labels(lang())
    st.plotly_chart(view.exclusions_chart(exclusions, list(reasons.values())),
                    key="cust_exclusions_chart")  # fmt: skip
    st.caption(t("page.customize.exclusions.help"))
    st.dataframe(view.relabel(exclusions, "reason", reasons.__getitem__), hide_index=True,
                 key="cust_exclusions", column_config=view.exclusion_columns())  # fmt: skip
    head = frame.head(view.PREVIEW_ROWS).drop("rule", "offer", "message", "channel", "owner")
    head = head.with_columns(head["customer_id"].map_elements(customer_url, return_dtype=str))
    st.caption(t("page.customize.target.preview", shown=format_number(head.height, lang()),
                 total=format_number(frame.height, lang())))  # fmt: skip
    st.dataframe(masked(head), hide_index=True, key="cust_target_preview",
                 column_config=view.target_columns())  # fmt: skip
    who, path, out = actor(), db(), masked(frame)  # a manager may not export people at all
    left, right = st.columns(2)
    for col, fmt, mime in ((left, "csv", "text/csv"), (right, "xlsx", view.XLSX_MIME)):
        col.download_button(
            t(f"page.customize.export.{fmt}"), key=f"cust_export_{fmt}", on_click="ignore",
            data=lambda fmt=fmt: view.export_file(path, out, rule, fmt, who, ruleset, version),
            file_name=f"targets_{view.file_stem(rule)}.{fmt}", mime=mime,
            icon=":material/download:", disabled=frame.height == 0 or not may("targeting.exported"),
            help=None if may("targeting.exported") else t("privacy.export_refused"),
        )  # fmt: skip
    st.caption(t("page.customize.export.help"))


target_section(rules_json, draft.name, version)
